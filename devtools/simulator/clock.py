"""The simulator's own SLA clock model and tick grid (see docs/policy.md for the rules).

A clock counts from a start instant in its rule's unit, can pause and resume, and crosses
thresholds — the 50 % and 75 % warnings, the breach at the due instant and the LEADERSHIP
escalation five working days after the due day — which the system observes only at
*observation points*: the clock ticks the simulator publishes and the case's own events.
:meth:`SimClock.fire` crosses everything due at one observation, in order; a warning whose
moment passed together with the deadline is crossed but raises nothing.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from devtools.simulator.rules import ESCALATE_AFTER_WORKING_DAYS, RuleSpec, Unit
from devtools.simulator.workcal import (
    DAY_MS,
    counted_days,
    end_of,
    local_day,
    midnight,
    millis,
    nth_day,
    plus_ms,
    roll_to_working,
    working_days_after,
)

HOUR_MS = 3_600_000
BREACH = "BREACH"
ESCALATE = "ESCALATE"


@dataclass(frozen=True)
class TickGrid:
    """Ticks at ``start + k * step`` for ``k = 0 … count - 1``."""

    start: datetime
    step: timedelta
    count: int

    @property
    def end(self) -> datetime:
        return self.start + self.step * (self.count - 1)

    def first_at_or_after(self, instant: datetime) -> datetime | None:
        if instant <= self.start:
            return self.start
        step_ms = millis(self.step)
        k = -(-millis(instant - self.start) // step_ms)
        return None if k >= self.count else self.start + self.step * k

    def __iter__(self) -> Iterator[datetime]:
        return (self.start + self.step * k for k in range(self.count))


@dataclass(frozen=True, slots=True)
class Crossing:
    """A threshold crossed at an observation: ``mark`` is WARN_<pct>, BREACH or ESCALATE."""

    mark: str
    due_at: datetime
    observed_at: datetime
    alerted: bool


class SimClock:
    """One cycle of one rule's clock for one case."""

    def __init__(
        self, rule: RuleSpec, target: int, at: datetime, deadline: datetime | None = None
    ) -> None:
        self.rule = rule
        self.unit = rule.unit
        self.working = rule.unit is Unit.WORKING_DAYS
        self.anchor_at = at
        self.first_day: date | None = None
        self.anchor_day: date | None = None
        self.consumed = 0
        self.paused_at: datetime | None = None
        self.warned: set[int] = set()
        self.breached = False
        self.escalated = False
        self.escalate_at: datetime | None = None
        if rule.unit is Unit.FIXED:
            self.due = deadline if deadline is not None else at
            self.total = max(0, millis(self.due - at))
        elif rule.unit is Unit.HOURS:
            self.total = target * HOUR_MS
            self.due = plus_ms(at, self.total)
        else:
            self.total = target
            self.first_day = self.anchor_day = local_day(at) + timedelta(days=1)
            self.due = self._day_due(self.anchor_day, target)

    @property
    def is_days(self) -> bool:
        return self.unit in (Unit.CALENDAR_DAYS, Unit.WORKING_DAYS)

    def _day_due(self, anchor_day: date, remaining: int) -> datetime:
        last = nth_day(anchor_day, remaining, self.working)
        if self.unit is Unit.CALENDAR_DAYS:
            last = roll_to_working(last)
        return end_of(last)

    def threshold(self, pct: int) -> datetime:
        """When ``pct`` % of the allowed time is used, measured on the clock's own schedule
        (working time for working days, unrolled nominal days for calendar days)."""
        if not self.is_days:
            return plus_ms(self.anchor_at, max(0, self.total * pct // 100 - self.consumed))
        assert self.anchor_day is not None
        left = self.total * DAY_MS * pct // 100 - self.consumed * DAY_MS
        if left <= 0:
            return midnight(self.anchor_day)
        k = -(-left // DAY_MS)
        day = nth_day(self.anchor_day, k, self.working)
        return plus_ms(midnight(day), left - (k - 1) * DAY_MS)

    def next_at(self) -> tuple[str, datetime] | None:
        if self.paused_at is None:
            for pct in self.rule.warnings:
                if pct not in self.warned:
                    return f"WARN_{pct}", self.threshold(pct)
            if not self.breached:
                return BREACH, self.due
        if self.breached and not self.escalated and self.escalate_at is not None:
            return ESCALATE, self.escalate_at
        return None

    def fire(self, now: datetime) -> list[Crossing]:
        """Cross everything due at the observation ``now``."""
        out: list[Crossing] = []
        while (nxt := self.next_at()) is not None and nxt[1] <= now:
            mark = nxt[0]
            if mark == BREACH:
                self.breached = True
                self.escalate_at = working_days_after(self.due, ESCALATE_AFTER_WORKING_DAYS)
                out.append(Crossing(mark, self.due, now, True))
            elif mark == ESCALATE:
                self.escalated = True
                out.append(Crossing(mark, self.due, now, True))
            else:
                self.warned.add(int(mark.removeprefix("WARN_")))
                out.append(Crossing(mark, self.due, now, self.due > now))
        return out

    def pause(self, at: datetime) -> None:
        if self.paused_at is not None:
            return
        if self.is_days:
            assert self.anchor_day is not None
            self.consumed += counted_days(self.anchor_day, local_day(at), self.working)
        else:
            self.consumed += max(0, millis(at - self.anchor_at))
        self.paused_at = at

    def resume(self, at: datetime) -> None:
        if self.paused_at is None:
            return
        self.paused_at = None
        self.anchor_at = at
        remaining = self.total - self.consumed
        if self.is_days:
            assert self.first_day is not None
            self.anchor_day = max(local_day(at), self.first_day)
            if remaining > 0:
                self.due = self._day_due(self.anchor_day, remaining)
        elif remaining > 0:
            self.due = plus_ms(at, remaining)
