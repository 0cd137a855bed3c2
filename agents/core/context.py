"""What the core needs besides the state and the event: the policy book and the calendar.

There is deliberately no clock here: time reaches the core only as event times and ``now``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from agents.core.calendar import DEFAULT_CALENDAR_DIR, WorkingCalendar, YearData
from agents.core.policy import PolicyBook


@dataclass(frozen=True, slots=True)
class Context:
    policy: PolicyBook
    calendar: WorkingCalendar

    @classmethod
    def load(
        cls, policy_path: Path | None = None, calendar_dir: Path | None = DEFAULT_CALENDAR_DIR
    ) -> Context:
        """The packaged policy and calendar data (or the given files)."""
        return cls(PolicyBook.load(policy_path), WorkingCalendar(calendar_dir))

    def with_years(self, years: Iterable[YearData]) -> Context:
        """The same policy with calendar years added (a published CalendarYearPublished)."""
        return Context(self.policy, self.calendar.with_years(years))
