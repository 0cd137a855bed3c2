"""One SLA clock: start, pause, resume, stop (met), cancel, and the thresholds it crosses.

Pure functions over a frozen :class:`SlaClock`; the calendar is an argument and time is always
an argument. How a pause shifts each unit is written in ``sla_policy.yaml`` (``pause_rules``)
and implemented once here:

* ``hours`` / ``fixed``: counted in milliseconds from ``anchor_at``; paused time is excluded.
* ``calendar_days`` / ``working_days``: counted in whole local days from ``anchor_day``; a pause
  consumes the counted days before the pause day, a resume counts the rest from the resume day.

Thresholds: warnings at the policy percentages of the allowed time (measured on the same
schedule: working time for working days), the breach at 100 % (the due instant), and the
LEADERSHIP escalation when a breached clock is still open N working days after the due day.
Every change has a matching clock event (Zendesk practice); builders are at the bottom.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict

from agents.core.calendar import DAY_MS, WorkingCalendar
from agents.core.ids import clock_event_id
from agents.core.policy import Unit
from schemas.models import (
    SlaClockCancelled,
    SlaClockEvent,
    SlaClockMet,
    SlaClockPaused,
    SlaClockResumed,
    SlaClockStarted,
    SuspendReason,
)

HOUR_MS = 3_600_000
BREACH = "BREACH"
ESCALATE = "ESCALATE"
RECHECK = "RECHECK"


def warn_kind(pct: int) -> str:
    return f"WARN_{pct}"


class ClockStatus(StrEnum):
    RUNNING = "RUNNING"
    PAUSED = "PAUSED"
    MET = "MET"
    CANCELLED = "CANCELLED"


ACTIVE = frozenset({ClockStatus.RUNNING, ClockStatus.PAUSED})


class SlaClock(BaseModel):
    """A clock's full state; ``total`` and ``consumed`` are ms (hours, fixed) or days."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    clock_id: str
    ref: str
    """Short key within the case (``RULE#cycle``), used by the deadline index."""
    rule_id: str
    policy_version: str
    unit: Unit
    total: int
    warnings: tuple[int, ...]
    escalate_days: int
    """Working days after the due day before LEADERSHIP escalation; 0 = never."""
    started_at: datetime
    first_day: date | None = None
    anchor_at: datetime
    anchor_day: date | None = None
    consumed: int = 0
    due_at: datetime
    status: ClockStatus = ClockStatus.RUNNING
    paused_at: datetime | None = None
    pause_reason: SuspendReason | None = None
    paused_ms: int = 0
    warned: tuple[int, ...] = ()
    breached: bool = False
    escalate_at: datetime | None = None
    escalated: bool = False
    unknown_years: tuple[int, ...] = ()
    recheck_at: datetime | None = None
    next_kind: str | None = None
    next_at: datetime | None = None

    @property
    def active(self) -> bool:
        return self.status in ACTIVE

    @property
    def provisional(self) -> bool:
        return bool(self.unknown_years)


@dataclass(frozen=True, slots=True)
class Firing:
    """A threshold crossed: ``kind`` (WARN_<pct>, BREACH, ESCALATE), the instant it was due,
    and whether it is worth an alert (a warning overtaken by the breach is not)."""

    kind: str
    at: datetime
    pct: int
    raise_alert: bool = True


def _ms(delta: timedelta) -> int:
    return delta.days * DAY_MS + delta.seconds * 1000 + delta.microseconds // 1000


def _plus_ms(instant: datetime, ms: int) -> datetime:
    return instant + timedelta(milliseconds=ms)


def _is_days(unit: Unit) -> bool:
    return unit is Unit.CALENDAR_DAYS or unit is Unit.WORKING_DAYS


def _day_due(
    unit: Unit, anchor_day: date, remaining: int, cal: WorkingCalendar
) -> tuple[datetime, tuple[int, ...]]:
    last = cal.nth_counted_day(anchor_day, remaining, working=unit is Unit.WORKING_DAYS)
    if unit is Unit.CALENDAR_DAYS:
        last = cal.roll_to_working_day(last)  # Civil Code: a rest last day moves on
    return cal.day_end(last), cal.unknown_years(anchor_day, last)


def _recheck(unknown: tuple[int, ...], at: datetime, cal: WorkingCalendar) -> datetime | None:
    return cal.day_end(cal.local_date(at)) if unknown else None


def threshold_at(clock: SlaClock, pct: int, cal: WorkingCalendar) -> datetime:
    """When ``pct`` percent of the allowed time is used, on the clock's own schedule."""
    if pct >= 100:
        return clock.due_at
    if not _is_days(clock.unit):
        return _plus_ms(clock.anchor_at, max(0, clock.total * pct // 100 - clock.consumed))
    assert clock.anchor_day is not None
    left_ms = clock.total * DAY_MS * pct // 100 - clock.consumed * DAY_MS
    if left_ms <= 0:
        return cal.day_start(clock.anchor_day)
    k = -(-left_ms // DAY_MS)
    day = cal.nth_counted_day(clock.anchor_day, k, working=clock.unit is Unit.WORKING_DAYS)
    return _plus_ms(cal.day_start(day), left_ms - (k - 1) * DAY_MS)


def schedule(clock: SlaClock, cal: WorkingCalendar) -> SlaClock:
    """Set ``next_kind``/``next_at`` to the next threshold the clock will cross."""
    kind: str | None = None
    at: datetime | None = None
    if clock.status is ClockStatus.RUNNING:
        for pct in clock.warnings:
            if pct not in clock.warned:
                kind, at = warn_kind(pct), threshold_at(clock, pct, cal)
                break
        else:
            if not clock.breached:
                kind, at = BREACH, clock.due_at
    if kind is None and clock.active and clock.breached and not clock.escalated:
        if clock.escalate_at is not None:
            kind, at = ESCALATE, clock.escalate_at
    if kind == clock.next_kind and at == clock.next_at:
        return clock
    return clock.model_copy(update={"next_kind": kind, "next_at": at})


def start(
    *,
    clock_id: str,
    ref: str,
    rule_id: str,
    policy_version: str,
    unit: Unit,
    target: int,
    warnings: tuple[int, ...],
    escalate_days: int,
    at: datetime,
    cal: WorkingCalendar,
    deadline: datetime | None = None,
) -> SlaClock:
    """Start a clock at ``at`` (which may lie in the past: retroactive start).

    ``target`` is in the rule's unit; a ``fixed`` clock takes its ``deadline`` instead."""
    first_day: date | None = None
    unknown: tuple[int, ...] = ()
    if unit is Unit.FIXED:
        due = deadline if deadline is not None else at
        total = max(0, _ms(due - at))
    elif unit is Unit.HOURS:
        total = target * HOUR_MS
        due = _plus_ms(at, total)
    else:
        total = target
        first_day = cal.local_date(at) + timedelta(days=1)
        due, unknown = _day_due(unit, first_day, total, cal)
    clock = SlaClock.model_construct(
        clock_id=clock_id,
        ref=ref,
        rule_id=rule_id,
        policy_version=policy_version,
        unit=unit,
        total=total,
        warnings=warnings,
        escalate_days=escalate_days,
        started_at=at,
        first_day=first_day,
        anchor_at=at,
        anchor_day=first_day,
        consumed=0,
        due_at=due,
        status=ClockStatus.RUNNING,
        paused_at=None,
        pause_reason=None,
        paused_ms=0,
        warned=(),
        breached=False,
        escalate_at=None,
        escalated=False,
        unknown_years=unknown,
        recheck_at=_recheck(unknown, at, cal),
        next_kind=None,
        next_at=None,
    )
    return schedule(clock, cal)


def pause(clock: SlaClock, at: datetime, reason: SuspendReason, cal: WorkingCalendar) -> SlaClock:
    """Stop counting at ``at``; only a running clock pauses."""
    if clock.status is not ClockStatus.RUNNING:
        return clock
    if _is_days(clock.unit):
        assert clock.anchor_day is not None
        used = cal.count_counted_days(
            clock.anchor_day, cal.local_date(at), working=clock.unit is Unit.WORKING_DAYS
        )
    else:
        used = max(0, _ms(at - clock.anchor_at))
    paused = clock.model_copy(
        update={
            "status": ClockStatus.PAUSED,
            "paused_at": at,
            "pause_reason": reason,
            "consumed": clock.consumed + used,
        }
    )
    return schedule(paused, cal)


def resume(clock: SlaClock, at: datetime, cal: WorkingCalendar) -> SlaClock:
    """Count again from ``at``; the due instant moves by the excluded time."""
    if clock.status is not ClockStatus.PAUSED or clock.paused_at is None:
        return clock
    remaining = clock.total - clock.consumed
    update: dict[str, object] = {
        "status": ClockStatus.RUNNING,
        "paused_at": None,
        "pause_reason": None,
        "paused_ms": clock.paused_ms + max(0, _ms(at - clock.paused_at)),
        "anchor_at": at,
    }
    if _is_days(clock.unit):
        assert clock.first_day is not None
        anchor_day = max(cal.local_date(at), clock.first_day)
        update["anchor_day"] = anchor_day
        if remaining > 0:
            due, unknown = _day_due(clock.unit, anchor_day, remaining, cal)
            update["due_at"], update["unknown_years"] = due, unknown
            update["recheck_at"] = _recheck(unknown, at, cal)
    elif remaining > 0:
        update["due_at"] = _plus_ms(at, remaining)
    return schedule(clock.model_copy(update=update), cal)


def stop(clock: SlaClock, at: datetime) -> SlaClock:
    """The clock's goal was reached at ``at`` (met, possibly late)."""
    if not clock.active:
        return clock
    paused_ms = clock.paused_ms
    if clock.status is ClockStatus.PAUSED and clock.paused_at is not None:
        paused_ms += max(0, _ms(at - clock.paused_at))
    return clock.model_copy(
        update={
            "status": ClockStatus.MET,
            "paused_at": None,
            "paused_ms": paused_ms,
            "anchor_at": at,
            "next_kind": None,
            "next_at": None,
            "recheck_at": None,
        }
    )


def cancel(clock: SlaClock, at: datetime) -> SlaClock:
    """The clock no longer applies (e.g. refund rejected, deadline reset)."""
    if not clock.active:
        return clock
    return clock.model_copy(
        update={
            "status": ClockStatus.CANCELLED,
            "anchor_at": at,
            "next_kind": None,
            "next_at": None,
            "recheck_at": None,
        }
    )


def elapsed_ms(clock: SlaClock, at: datetime) -> int:
    """Wall time from start to ``at`` minus paused time (never negative)."""
    return max(0, _ms(at - clock.started_at) - clock.paused_ms)


def fire_due(clock: SlaClock, now: datetime, cal: WorkingCalendar) -> tuple[SlaClock, list[Firing]]:
    """Cross every threshold due at ``now``; a clock only ever crosses each one once."""
    firings: list[Firing] = []
    while clock.next_at is not None and clock.next_kind is not None and clock.next_at <= now:
        kind, at = clock.next_kind, clock.next_at
        if kind == BREACH:
            update: dict[str, object] = {"breached": True, "escalate_at": None}
            if clock.escalate_days > 0:
                period = cal.working_days_after(clock.due_at, clock.escalate_days)
                update["escalate_at"] = period.due_at
                if period.unknown_years:  # the escalation date is provisional too
                    years = tuple(sorted({*clock.unknown_years, *period.unknown_years}))
                    update["unknown_years"] = years
                    update["recheck_at"] = _recheck(years, now, cal)
            clock = clock.model_copy(update=update)
            firings.append(Firing(kind, at, 100))
        elif kind == ESCALATE:
            clock = clock.model_copy(update={"escalated": True})
            firings.append(Firing(kind, at, 100))
        else:
            pct = int(kind.removeprefix("WARN_"))
            clock = clock.model_copy(update={"warned": (*clock.warned, pct)})
            firings.append(Firing(kind, at, pct, raise_alert=clock.due_at > now))
        clock = schedule(clock, cal)
    return clock, firings


def recompute(clock: SlaClock, now: datetime, cal: WorkingCalendar) -> tuple[SlaClock, bool]:
    """Recount a provisional clock once its unknown years have data.

    Returns the clock and whether its due instant changed. While a year is still unknown only
    the next daily recheck moves. A paused clock's due is recounted at resume; a breach already
    observed stands, but its pending LEADERSHIP escalation date is recounted."""
    if not clock.unknown_years or not clock.active:
        return clock, False
    if not all(cal.knows_year(y) for y in clock.unknown_years):
        later = _recheck(clock.unknown_years, now, cal)
        return clock.model_copy(update={"recheck_at": later}), False
    update: dict[str, object] = {}
    unknown: set[int] = set()
    recount = (
        clock.status is ClockStatus.RUNNING and not clock.breached and clock.anchor_day is not None
    )
    if recount:
        assert clock.anchor_day is not None
        due, years = _day_due(clock.unit, clock.anchor_day, clock.total - clock.consumed, cal)
        update["due_at"] = due
        unknown.update(years)
    if clock.breached and not clock.escalated and clock.escalate_days > 0:
        period = cal.working_days_after(clock.due_at, clock.escalate_days)
        update["escalate_at"] = period.due_at
        unknown.update(period.unknown_years)
    years_left = tuple(sorted(unknown))
    update["unknown_years"] = years_left
    update["recheck_at"] = _recheck(years_left, now, cal)
    updated = schedule(clock.model_copy(update=update), cal)
    return updated, updated.due_at != clock.due_at


# ---- clock events -----------------------------------------------------------------------
_E = TypeVar("_E", bound=SlaClockEvent)


def _clock_event(
    cls: type[_E],
    clock: SlaClock,
    change: str,
    id_at: datetime,
    case_id: str,
    platform_id: str,
    occurred_at: datetime,
    **fields: Any,
) -> _E:
    """A clock change with the fields every clock event shares; id from (clock, change, at)."""
    return cls.model_construct(
        event_id=clock_event_id(clock.clock_id, change, id_at),
        case_id=case_id,
        platform_id=platform_id,
        occurred_at=occurred_at,
        clock_id=clock.clock_id,
        sla_id=clock.rule_id,
        policy_version=clock.policy_version,
        **fields,
    )


def started_event(clock: SlaClock, case_id: str, platform_id: str) -> SlaClockStarted:
    at = clock.started_at
    return _clock_event(
        SlaClockStarted, clock, "STARTED", at, case_id, platform_id, at,
        started_at=at, due_at=clock.due_at,
    )  # fmt: skip


def restated_event(
    clock: SlaClock, case_id: str, platform_id: str, at: datetime
) -> SlaClockStarted:
    """A recomputed due instant (calendar data added), restated as the clock's start.

    The contract has no "due changed" event; consumers take the latest Started/Resumed
    ``due_at`` per ``clock_id`` as current."""
    return _clock_event(
        SlaClockStarted, clock, "RESTATED", clock.due_at, case_id, platform_id, at,
        started_at=clock.started_at, due_at=clock.due_at,
    )  # fmt: skip


def paused_event(clock: SlaClock, case_id: str, platform_id: str) -> SlaClockPaused:
    assert clock.paused_at is not None
    at = clock.paused_at
    return _clock_event(
        SlaClockPaused, clock, "PAUSED", at, case_id, platform_id, at,
        paused_at=at, reason=clock.pause_reason or SuspendReason.OTHER,
    )  # fmt: skip


def resumed_event(clock: SlaClock, case_id: str, platform_id: str) -> SlaClockResumed:
    at = clock.anchor_at
    return _clock_event(
        SlaClockResumed, clock, "RESUMED", at, case_id, platform_id, at,
        resumed_at=at, due_at=clock.due_at,
    )  # fmt: skip


def met_event(clock: SlaClock, case_id: str, platform_id: str) -> SlaClockMet:
    at = clock.anchor_at
    return _clock_event(
        SlaClockMet, clock, "MET", at, case_id, platform_id, at,
        met_at=at, elapsed_ms=elapsed_ms(clock, at), paused_ms=clock.paused_ms,
    )  # fmt: skip


def cancelled_event(
    clock: SlaClock, case_id: str, platform_id: str, reason: str
) -> SlaClockCancelled:
    at = clock.anchor_at
    return _clock_event(
        SlaClockCancelled, clock, "CANCELLED", at, case_id, platform_id, at,
        cancelled_at=at, reason=reason,
    )  # fmt: skip
