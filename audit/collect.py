"""What the report needs from a replay, gathered as it runs (an :class:`~.fold.Observer`).

Per case it keeps a short timeline (event type, times, log position), the SLA clock history
rebuilt from the clock events the core emitted, and the alerts raised; across cases it keeps
every alert the replay says should exist, with the record that caused it (for the
reconciliation). Records themselves are never kept.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from audit.fold import RecordMeta
from schemas.families import CaseFamily
from schemas.instants import to_ms
from schemas.models import (
    ALERT_TYPES,
    CLOCK_TYPES,
    AlertEvent,
    DeadLetterRecord,
    EscalationRaised,
    Event,
    SlaBreached,
    SlaClockCancelled,
    SlaClockEvent,
    SlaClockMet,
    SlaClockPaused,
    SlaClockResumed,
    SlaClockStarted,
    SlaWarningRaised,
)

TIMELINE_LIMIT = 200
"""Timeline entries kept per case; a case with more keeps its first ones and a count."""

CaseKey = tuple[str, str]
"""(family value, case id): plain strings hash faster than enum members."""


@dataclass(slots=True)
class TimelineEntry:
    event_type: str
    occurred_ms: int
    meta: RecordMeta


@dataclass(slots=True)
class ClockHistory:
    """One SLA clock cycle, from its clock events and alerts (times in epoch ms)."""

    clock_id: str
    rule_id: str
    policy_version: str
    status: str = "RUNNING"
    started_ms: int | None = None
    due_ms: int | None = None
    met_ms: int | None = None
    cancelled_ms: int | None = None
    cancel_reason: str | None = None
    elapsed_ms: int | None = None
    paused_ms: int = 0
    pause_open_ms: int | None = None
    warnings: list[int] = field(default_factory=list)
    breached_ms: int | None = None
    escalated_ms: int | None = None


@dataclass(slots=True)
class AlertSeen:
    """An alert the replay raised, with the record that made it due."""

    alert_id: str
    event_type: str
    rule_id: str
    subject: str
    case_id: str
    platform_id: str
    severity: str
    level: str
    due_ms: int | None
    observed_ms: int
    family: CaseFamily
    trigger: RecordMeta | None
    detail: str = ""
    threshold_pct: int | None = None


@dataclass(slots=True)
class CaseTrail:
    family: CaseFamily
    case_id: str
    platform_id: str
    timeline: list[TimelineEntry] = field(default_factory=list)
    timeline_dropped: int = 0
    clocks: dict[str, ClockHistory] = field(default_factory=dict)
    alerts: list[AlertSeen] = field(default_factory=list)


class Collector:
    """Gathers timelines, clock histories and alerts while a replay runs."""

    def __init__(self, timeline_limit: int = TIMELINE_LIMIT) -> None:
        self.timeline_limit = timeline_limit
        self.cases: dict[CaseKey, CaseTrail] = {}
        self.alerts: dict[str, AlertSeen] = {}
        """Every distinct alert id the replay raised, first occurrence (log order)."""
        self.bureau_alerts: list[AlertSeen] = []
        """Alerts about no case (a calendar year without data)."""
        self.dead_letters: list[DeadLetterRecord] = []

    def trail(self, family: CaseFamily, case_id: str) -> CaseTrail | None:
        return self.cases.get((family.value, case_id))

    def _trail(self, family: CaseFamily, case_id: str, platform_id: str) -> CaseTrail:
        key = (family.value, case_id)
        trail = self.cases.get(key)
        if trail is None:
            trail = self.cases[key] = CaseTrail(family, case_id, platform_id)
        return trail

    # Observer -----------------------------------------------------------------------
    def on_case_event(
        self, meta: RecordMeta, family: CaseFamily, name: str, case_id: str, platform_id: str,
        occurred_ms: int,
    ) -> None:  # fmt: skip
        trail = self._trail(family, case_id, platform_id)
        if len(trail.timeline) < self.timeline_limit:
            trail.timeline.append(TimelineEntry(name, occurred_ms, meta))
        else:
            trail.timeline_dropped += 1

    def on_output(self, event: Event, trigger: RecordMeta | None, family: CaseFamily) -> None:
        cls = type(event)  # exact-type checks: isinstance on pydantic models is slow
        if cls in _ALERT_CLASSES:
            self._alert(event, trigger, family)  # type: ignore[arg-type]
        elif cls in _CLOCK_CLASSES:
            self._clock(event, family)  # type: ignore[arg-type]

    def on_dead_letter(self, record: DeadLetterRecord) -> None:
        self.dead_letters.append(record)

    # internals ------------------------------------------------------------------------
    def _alert(self, event: AlertEvent, trigger: RecordMeta | None, family: CaseFamily) -> None:
        seen = AlertSeen(
            alert_id=event.alert_id,
            event_type=type(event).__name__,
            rule_id=event.rule_id,
            subject=event.subject,
            case_id=event.case_id,
            platform_id=event.platform_id,
            severity=str(event.severity),
            level=str(event.level),
            due_ms=None if event.due_at is None else to_ms(event.due_at),
            observed_ms=to_ms(event.observed_at),
            family=family,
            trigger=trigger,
            detail=event.detail,
            threshold_pct=getattr(event, "threshold_pct", None),
        )
        first = seen.alert_id not in self.alerts
        if first:
            self.alerts[seen.alert_id] = seen
        trail = self.cases.get((family.value, event.subject))
        if trail is None:
            if first:
                self.bureau_alerts.append(seen)
            return
        trail.alerts.append(seen)
        self._mark_clock(trail, event, seen)

    def _mark_clock(self, trail: CaseTrail, event: AlertEvent, seen: AlertSeen) -> None:
        if event.due_at is None:
            return
        clock = _clock_for(trail, event.rule_id, seen.due_ms)
        if clock is None:
            return
        cls = type(event)
        if cls is SlaBreached:
            clock.breached_ms = seen.observed_ms
        elif cls is SlaWarningRaised:
            clock.warnings.append(event.threshold_pct)  # type: ignore[attr-defined]
        elif cls is EscalationRaised:
            clock.escalated_ms = seen.observed_ms

    def _clock(self, event: SlaClockEvent, family: CaseFamily) -> None:
        trail = self._trail(family, event.case_id, event.platform_id)
        clock = trail.clocks.get(event.clock_id)
        if clock is None:
            clock = trail.clocks[event.clock_id] = ClockHistory(
                event.clock_id, event.sla_id, event.policy_version
            )
        cls = type(event)
        if cls is SlaClockStarted:
            assert isinstance(event, SlaClockStarted)
            clock.started_ms = to_ms(event.started_at)
            clock.due_ms = to_ms(event.due_at)
        elif cls is SlaClockPaused:
            assert isinstance(event, SlaClockPaused)
            clock.status = "PAUSED"
            clock.pause_open_ms = to_ms(event.paused_at)
        elif cls is SlaClockResumed:
            assert isinstance(event, SlaClockResumed)
            clock.status = "RUNNING"
            clock.due_ms = to_ms(event.due_at)
            _close_pause(clock, to_ms(event.resumed_at))
        elif cls is SlaClockMet:
            assert isinstance(event, SlaClockMet)
            clock.status = "MET"
            clock.met_ms = to_ms(event.met_at)
            clock.elapsed_ms = event.elapsed_ms
            clock.pause_open_ms = None
            clock.paused_ms = event.paused_ms
        elif cls is SlaClockCancelled:
            assert isinstance(event, SlaClockCancelled)
            clock.status = "CANCELLED"
            clock.cancelled_ms = to_ms(event.cancelled_at)
            clock.cancel_reason = event.reason
            _close_pause(clock, clock.cancelled_ms)


_ALERT_CLASSES = frozenset(ALERT_TYPES)
_CLOCK_CLASSES = frozenset(CLOCK_TYPES)


def _close_pause(clock: ClockHistory, at_ms: int) -> None:
    if clock.pause_open_ms is not None:
        clock.paused_ms += max(0, at_ms - clock.pause_open_ms)
        clock.pause_open_ms = None


def _clock_for(trail: CaseTrail, rule_id: str, due_ms: int | None) -> ClockHistory | None:
    """The clock an alert is about: same rule and due instant, else the rule's latest."""
    latest: ClockHistory | None = None
    for clock in trail.clocks.values():
        if clock.rule_id != rule_id:
            continue
        if clock.due_ms == due_ms:
            return clock
        latest = clock
    return latest


def ms_or_none(instant: datetime | None) -> int | None:
    return None if instant is None else to_ms(instant)
