"""Time as data: the tick that drives deadlines, and the SLA clock changes (topic ``sla``)."""

from __future__ import annotations

from schemas.models._base import Event, NonNegativeLong, UtcDatetime
from schemas.models.enums import SuspendReason


class ClockTicked(Event):
    """Published into every partition of every cases topic (case_id "", platform "bureau")."""

    tick_at: UtcDatetime


class SlaClockEvent(Event):
    """Fields shared by every SLA clock change; not itself an event type on the wire."""

    clock_id: str
    sla_id: str
    policy_version: str


class SlaClockStarted(SlaClockEvent):
    """An SLA clock started (possibly retroactively from the intake time)."""

    started_at: UtcDatetime
    due_at: UtcDatetime


class SlaClockPaused(SlaClockEvent):
    """An SLA clock paused; the paused time does not count."""

    paused_at: UtcDatetime
    reason: SuspendReason


class SlaClockResumed(SlaClockEvent):
    """An SLA clock resumed, with its due time moved by the pause."""

    resumed_at: UtcDatetime
    due_at: UtcDatetime


class SlaClockMet(SlaClockEvent):
    """An SLA was met before its due time."""

    met_at: UtcDatetime
    elapsed_ms: NonNegativeLong
    paused_ms: NonNegativeLong


class SlaClockCancelled(SlaClockEvent):
    """An SLA clock was cancelled (the step no longer applies)."""

    cancelled_at: UtcDatetime
    reason: str
