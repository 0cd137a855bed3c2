"""Route every alert by the 包片 roster, and decide who is notified of it.

Pure: :class:`AlertRouter` holds a :class:`~agents.core.roster.Roster` and the routing policy
(``agents/policy/roster.yaml``). :meth:`AlertRouter.route` is the one function the case agents
and the regulator's signals call on each alert they publish; :func:`recipients` is what the
notifier delivers to.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field

from agents.core.ids import alert_id
from agents.core.roster import Roster
from schemas.models import (
    AlertEvent,
    Level,
    RiskSignalRaised,
    RosterAssigned,
    Severity,
    SlaBreached,
)

POLICY_FILE = Path(__file__).resolve().parents[1] / "policy" / "roster.yaml"
POLICY_FORMAT = "regbus.roster-policy/1"
UNIT_FIELDS = ("office", "department", "leader")

__all__ = ["AlertRouter", "Recipient", "RoutingPolicy", "recipients", "wants_notice"]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class MissingRule(_Frozen):
    rule_id: str
    title: str
    level: Level
    severity: Severity


class NotifyPolicy(_Frozen):
    events: tuple[str, ...]
    breach_levels: tuple[Level, ...]
    recipients: dict[Level, tuple[str, ...]]
    office_too_for: tuple[str, ...] = ()


class RoutingPolicy(_Frozen):
    format: str = Field(pattern=f"^{POLICY_FORMAT}$")
    bureau_wide: str
    missing: MissingRule
    notify: NotifyPolicy

    @classmethod
    def load(cls, path: Path | None = None) -> RoutingPolicy:
        data: Any = yaml.safe_load((path or POLICY_FILE).read_text(encoding="utf-8"))
        return cls.model_validate(data)


class AlertRouter:
    """Sets office, department and leader on each alert from the roster in force when the
    alert was observed; raises ROSTER_MISSING (once per platform) for an unrostered one."""

    __slots__ = ("_missing_raised", "policy", "roster")

    def __init__(self, roster: Roster | None = None, policy: RoutingPolicy | None = None) -> None:
        self.roster = roster if roster is not None else Roster()
        self.policy = policy or RoutingPolicy.load()
        self._missing_raised: set[str] = set()

    def apply(self, event: RosterAssigned) -> bool:
        return self.roster.apply(event)

    def route(self, alert: AlertEvent) -> list[AlertEvent]:
        """The routed alert, preceded by a ROSTER_MISSING signal the first time its platform
        is found without an entry. An alert the roster cannot place keeps its policy route."""
        out: list[AlertEvent] = []
        platform = alert.platform_id
        entry = None
        if platform != self.policy.bureau_wide and alert.rule_id != self.policy.missing.rule_id:
            entry = self.roster.covering(platform, alert.observed_at)
            if entry is None and platform not in self._missing_raised:
                self._missing_raised.add(platform)
                out.append(self._placed(self._missing(alert), None))
        out.append(self._placed(alert, entry))
        return out

    def _placed(self, alert: AlertEvent, entry: RosterAssigned | None) -> AlertEvent:
        if entry is None:
            entry = self.roster.covering(self.policy.bureau_wide, alert.observed_at)
        if entry is None:
            return alert
        return alert.model_copy(
            update={"office": entry.office, "department": entry.department, "leader": entry.leader}
        )

    def _missing(self, alert: AlertEvent) -> RiskSignalRaised:
        rule = self.policy.missing
        subject = alert.platform_id
        ident = alert_id(rule.rule_id, "SIGNAL", subject, None)
        return RiskSignalRaised.model_construct(
            event_id=ident,
            case_id=subject,
            platform_id=subject,
            occurred_at=alert.observed_at,
            alert_id=ident,
            rule_id=rule.rule_id,
            severity=rule.severity,
            level=rule.level,
            office=alert.office,
            department=alert.department,
            leader=None,
            subject=subject,
            due_at=None,
            observed_at=alert.observed_at,
            detail=f"{rule.title}: {subject} (alert {alert.rule_id} on {alert.subject})",
            policy_version=alert.policy_version,
            signal=rule.rule_id,
            metric=0.0,
            threshold=0.0,
        )


@dataclass(frozen=True, slots=True)
class Recipient:
    """One person (or account) of the roster, and the unit they were reached as."""

    unit: str  # "office" | "department" | "leader"
    contact: str


def wants_notice(alert: AlertEvent, policy: RoutingPolicy) -> bool:
    """Escalations, interview recommendations and breaches at the notified levels."""
    notify = policy.notify
    if alert.EVENT_NAME in notify.events:
        return True
    return isinstance(alert, SlaBreached) and alert.level in notify.breach_levels


def recipients(alert: AlertEvent, roster: Roster, policy: RoutingPolicy) -> list[Recipient]:
    """The roster's people for a notified alert, in a stable order without repeats."""
    if not wants_notice(alert, policy):
        return []
    entry = roster.covering(alert.platform_id, alert.observed_at) or roster.covering(
        policy.bureau_wide, alert.observed_at
    )
    if entry is None:
        return []
    units = list(policy.notify.recipients.get(alert.level, ()))
    if alert.rule_id in policy.notify.office_too_for and "office" not in units:
        units.insert(0, "office")
    out: list[Recipient] = []
    seen: set[str] = set()
    for unit in units:
        for contact in getattr(entry, f"{unit}_contacts"):
            if contact not in seen:
                seen.add(contact)
                out.append(Recipient(unit, contact))
    return out
