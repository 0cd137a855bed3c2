"""What the simulator emits: records to send, clock ticks, and the alerts it expects."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from schemas.models import (
    AlertEvent,
    DeadLetterReason,
    EscalationRaised,
    Event,
    InterviewRecommended,
    Level,
    LifecycleViolationDetected,
    RiskSignalRaised,
    Severity,
    SlaBreached,
    SlaWarningRaised,
)


class Sender(StrEnum):
    PLATFORM = "platform"
    """A platform's event, sent through the platform SDK to its own ingress topic."""
    BUREAU = "bureau"
    """A bureau unit's event (hotline intake, forwarding, spot checks), to the bureau ingress."""
    RAW = "raw"
    """Bytes written around the SDK: malformed, spoofed or resent records."""


@dataclass(frozen=True, slots=True)
class RawRecord:
    """A record written as is. ``topic`` is relative to the prefix (``ingress.<owner>``)."""

    topic: str
    key: bytes | None
    value: bytes
    headers: tuple[tuple[str, bytes], ...]
    reason: DeadLetterReason | None
    """The dead-letter reason ingress must give it; None for a resend (dropped as duplicate)."""


@dataclass(frozen=True, slots=True)
class Send:
    """One record to publish at simulated time ``at``."""

    at: datetime
    sender: Sender
    owner: str
    """Platform id of the ingress topic, or "bureau"."""
    case_id: str
    event: Event | None
    raw: RawRecord | None = None
    unit: str = ""
    """The bureau unit for ``ce_source`` (``/bureau/<unit>``) of a bureau event."""

    @property
    def routed(self) -> bool:
        """Ingress routes it to a canonical case topic (valid, first time seen)."""
        return self.raw is None


@dataclass(frozen=True, slots=True)
class Tick:
    """Publish a ClockTicked at ``at`` into every case partition (after the events before it)."""

    at: datetime


SimItem = Send | Tick

MARKS: dict[type[AlertEvent], str] = {
    SlaBreached: "BREACH",
    EscalationRaised: "ESCALATE",
    LifecycleViolationDetected: "VIOLATION",
    RiskSignalRaised: "SIGNAL",
    InterviewRecommended: "INTERVIEW",
}


@dataclass(frozen=True, slots=True)
class ExpectedAlert:
    """An alert in a shape both the simulator's prediction and the system's output map to."""

    kind: str
    """The alert event's name, e.g. ``SlaBreached``."""
    rule_id: str
    mark: str
    """WARN_50, WARN_75, BREACH, ESCALATE, VIOLATION, SIGNAL or INTERVIEW."""
    subject: str
    platform_id: str
    level: Level
    severity: Severity
    due_at: datetime | None
    observed_at: datetime
    offending_event_id: str | None = None
    office: str = ""
    """The owner the 包片 roster names (the simulator's own table; the system's alert)."""
    leader: str | None = None

    def key(self) -> tuple[str, str, str, str, str]:
        """Identity of the fact (what ``alert_id`` hashes), independent of when it was seen."""
        due = self.due_at.isoformat() if self.due_at else ""
        return (
            self.kind,
            self.rule_id,
            self.mark,
            self.subject,
            due + (self.offending_event_id or ""),
        )

    def full(self) -> tuple[Any, ...]:
        """Everything compared between prediction and system: identity, routing and time."""
        return (
            *self.key(), self.level.value, self.severity.value, self.observed_at.isoformat(),
            self.office, self.leader or "",
        )  # fmt: skip

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "rule_id": self.rule_id,
            "mark": self.mark,
            "subject": self.subject,
            "platform_id": self.platform_id,
            "level": self.level.value,
            "severity": self.severity.value,
            "due_at": self.due_at.isoformat() if self.due_at else None,
            "observed_at": self.observed_at.isoformat(),
            "offending_event_id": self.offending_event_id,
            "office": self.office,
            "leader": self.leader,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ExpectedAlert:
        due = data.get("due_at")
        return cls(
            kind=data["kind"],
            rule_id=data["rule_id"],
            mark=data["mark"],
            subject=data["subject"],
            platform_id=data["platform_id"],
            level=Level(data["level"]),
            severity=Severity(data["severity"]),
            due_at=datetime.fromisoformat(due) if due else None,
            observed_at=datetime.fromisoformat(data["observed_at"]),
            offending_event_id=data.get("offending_event_id"),
            office=data.get("office", ""),
            leader=data.get("leader"),
        )

    @classmethod
    def from_alert(cls, alert: AlertEvent) -> ExpectedAlert:
        """The system's alert in the same shape (for comparisons and the live view)."""
        if isinstance(alert, SlaWarningRaised):
            mark = f"WARN_{alert.threshold_pct}"
        else:
            mark = MARKS.get(type(alert), type(alert).__name__)
        offending = (
            alert.offending_event_id if isinstance(alert, LifecycleViolationDetected) else None
        )
        return cls(
            kind=type(alert).__name__,
            rule_id=alert.rule_id,
            mark=mark,
            subject=alert.subject,
            platform_id=alert.platform_id,
            level=alert.level,
            severity=alert.severity,
            due_at=alert.due_at,
            observed_at=alert.observed_at,
            offending_event_id=offending,
            office=alert.office,
            leader=alert.leader,
        )
