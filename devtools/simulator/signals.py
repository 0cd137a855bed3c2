"""The regulator's risk signals, predicted from the simulator's own bookkeeping.

The rules of docs/regulator.md ("Risk signals") written down again, never imported from
``agents``: a subject's signal counters (complaints, resolved, settled, each on the
complaint's intake date) change when the regulator clock passes the tick after the record
that changed them, i.e. at the first tick at or after the record was sent. At every tick:

* **surge** (platforms and categories): each ISO week whose counters changed, once its Monday
  has come, is judged: complaints ≥ max(10, 1.5 × max(1, mean of the 4 weeks before)), if the
  subject has data in (or before) the first baseline week. One alert per subject and week.
* **settlement** (platforms), on the first tick of each new day: settled / resolved over the
  30 days ending yesterday below 85 % with at least 20 resolved opens a low episode (one alert,
  identified by that window); a day at or above the target ends it.
* Buckets older than 70 days before today are dropped on each new day.

:meth:`SignalFold.release` is called by the simulation after each tick; only the changes not
yet due are held, so memory stays bounded by the cases in flight.
"""

from __future__ import annotations

import heapq
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from agents.core.rates import SETTLEMENT_TARGET, ratio
from devtools.simulator.clock import TickGrid
from devtools.simulator.model import ExpectedAlert
from devtools.simulator.workcal import local_day
from schemas.models import Level, Severity

CATEGORY = "category:"
KEEP_DAYS = 70


@dataclass(frozen=True)
class SurgeRule:
    rule_id: str = "COMPLAINT_SURGE"
    factor: float = 1.5
    baseline_weeks: int = 4
    baseline_floor: float = 1.0
    min_count: int = 10
    categories: bool = True
    level: Level = Level.DEPARTMENT
    severity: Severity = Severity.MAJOR


@dataclass(frozen=True)
class SettlementRule:
    rule_id: str = "SETTLEMENT_BELOW_TARGET"
    target: float = SETTLEMENT_TARGET
    window_days: int = 30
    min_resolved: int = 20
    categories: bool = False
    level: Level = Level.DEPARTMENT
    severity: Severity = Severity.WARNING


SURGE = SurgeRule()
SETTLEMENT = SettlementRule()

# (complaints, resolved, settled) per day
Triple = list[int]


def monday_of(day: date) -> date:
    return day - timedelta(days=day.weekday())


class SignalFold:
    """Signal counters per subject and day, judged tick by tick."""

    def __init__(self, grid: TickGrid, sink: Callable[[ExpectedAlert], None]) -> None:
        self.grid = grid
        self.sink = sink
        self._due: list[tuple[datetime, int, str, date, int, int, int]] = []
        self._seq = 0
        self.days: defaultdict[str, dict[date, Triple]] = defaultdict(dict)
        self.first: dict[str, date] = {}
        self.dirty: defaultdict[str, set[date]] = defaultdict(set)
        self.raised: set[tuple[str, str, date]] = set()
        self.low_since: dict[str, date] = {}
        self.closed: date | None = None
        self.floor: date | None = None

    def add(
        self, subject: str, day: date, sent_at: datetime, complaints: int, resolved: int,
        settled: int,
    ) -> None:  # fmt: skip
        """A change of the counters of ``day``, made by a record sent at ``sent_at``."""
        at = self.grid.first_at_or_after(sent_at)
        if at is None:  # after the last tick: never judged
            return
        self._seq += 1
        heapq.heappush(self._due, (at, self._seq, subject, day, complaints, resolved, settled))

    def release(self, tick: datetime) -> None:
        """The regulator clock reaches ``tick``: apply what is due, then judge."""
        while self._due and self._due[0][0] <= tick:
            _at, _seq, subject, day, *delta = heapq.heappop(self._due)
            if self.floor is not None and day < self.floor:
                continue
            bucket = self.days[subject].setdefault(day, [0, 0, 0])
            for i, d in enumerate(delta):
                bucket[i] += d
            if not any(bucket):
                del self.days[subject][day]
            self.dirty[subject].add(monday_of(day))
            if subject not in self.first or day < self.first[subject]:
                self.first[subject] = day
        self._judge(tick)

    # ---- judging ---------------------------------------------------------------------------
    def _sum(self, subject: str, first: date, last: date, index: int) -> int:
        return sum(v[index] for d, v in self.days[subject].items() if first <= d <= last)

    def _judge(self, tick: datetime) -> None:
        today = local_day(tick)
        closed = today - timedelta(days=1)
        new_day = self.closed is None or closed > self.closed
        for subject in sorted(self.dirty):
            waiting = set()
            for monday in sorted(self.dirty[subject]):
                if monday > today:
                    waiting.add(monday)
                    continue
                self._surge(subject, monday, tick)
            self.dirty[subject] = waiting
        if new_day:
            self.closed = closed
            for subject in sorted(self.days):
                if not subject.startswith(CATEGORY):
                    self._settlement(subject, closed, tick)
            self.floor = today - timedelta(days=KEEP_DAYS)
            for days in self.days.values():
                for day in [d for d in days if d < self.floor]:
                    del days[day]

    def _surge(self, subject: str, monday: date, tick: datetime) -> None:
        rule = SURGE
        if subject.startswith(CATEGORY) and not rule.categories:
            return
        count = self._sum(subject, monday, monday + timedelta(days=6), 0)
        earliest = monday - timedelta(days=7 * rule.baseline_weeks)
        before = self._sum(subject, earliest, monday - timedelta(days=1), 0)
        baseline = before / rule.baseline_weeks
        threshold = max(float(rule.min_count), rule.factor * max(baseline, rule.baseline_floor))
        first = self.first.get(subject)
        evaluable = first is not None and first <= earliest + timedelta(days=6)
        if evaluable and count >= threshold and (rule.rule_id, subject, monday) not in self.raised:
            self.raised.add((rule.rule_id, subject, monday))
            self._emit(rule.rule_id, subject, rule.level, rule.severity, tick)

    def _settlement(self, subject: str, end: date, tick: datetime) -> None:
        rule = SETTLEMENT
        start = end - timedelta(days=rule.window_days - 1)
        resolved = self._sum(subject, start, end, 1)
        settled = self._sum(subject, start, end, 2)
        rate = ratio(settled, resolved)  # the one definition of 和解率: settled / resolved
        low = resolved >= rule.min_resolved and rate is not None and rate < rule.target
        if low and subject not in self.low_since:
            self.low_since[subject] = end
            self._emit(rule.rule_id, subject, rule.level, rule.severity, tick)
        elif not low:
            self.low_since.pop(subject, None)

    def _emit(self, rule_id: str, subject: str, level: Level, severity: Severity,
              tick: datetime) -> None:  # fmt: skip
        platform = "bureau" if subject.startswith(CATEGORY) else subject
        self.sink(ExpectedAlert("RiskSignalRaised", rule_id, "SIGNAL", subject, platform, level,
                                severity, None, tick))  # fmt: skip


__all__ = ["SETTLEMENT", "SURGE", "SettlementRule", "SignalFold", "SurgeRule"]
