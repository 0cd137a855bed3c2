"""Alerts for regulators (topic ``alerts``, key = subject: a case id or a platform id)."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, Strict

from schemas.models._base import Double, Event, NonNegativeLong, UtcDatetime
from schemas.models.enums import Level, Severity, ViolationCode


class AlertEvent(Event):
    """Fields shared by every alert; not itself an event type on the wire."""

    alert_id: str
    """uuid5 of rule + subject + due, so a re-raised alert is visibly the same alert."""
    rule_id: str
    severity: Severity
    level: Level
    office: str
    department: str | None = None
    subject: str
    due_at: UtcDatetime | None = None
    observed_at: UtcDatetime
    detail: str
    policy_version: str
    leader: str | None = None
    """Added in v2: the bureau leader the 包片 roster names for the platform; v1 reads null."""


class SlaWarningRaised(AlertEvent):
    """An SLA clock passed a warning threshold (50% or 75% of its time)."""

    threshold_pct: Annotated[int, Strict(), Field(ge=1, le=100)]
    """Percentage of the allowed time used (the policy warns at 50 and 75)."""


class SlaBreached(AlertEvent):
    """An SLA clock passed its due time without being met."""


class EscalationRaised(AlertEvent):
    """An overdue matter escalated to the next supervision level."""


class InterviewRecommended(AlertEvent):
    """Repeated breaches: a regulatory interview (约谈) is recommended."""

    breach_count: NonNegativeLong


class LifecycleViolationDetected(AlertEvent):
    """An illegal case transition was observed (e.g. paid before approval)."""

    violation: ViolationCode
    offending_event_id: str


class RiskSignalRaised(AlertEvent):
    """A platform-level risk signal (surge, settlement below target, calendar gap)."""

    signal: str
    """E.g. SURGE, SETTLEMENT_BELOW_TARGET, CALENDAR_YEAR_UNKNOWN."""
    metric: Double
    threshold: Double
