"""The simulator's own day arithmetic: PRC working days and Civil Code periods.

Written from docs/policy.md, on ``chinese_calendar`` directly, and deliberately *not* on
``agents.core.calendar``: the expected outcomes the simulator predicts must come from a second,
independent computation, or a test comparing them with the system would compare the core
with itself. Day arithmetic is on Asia/Shanghai local dates of UTC instants.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import chinese_calendar

SHANGHAI = ZoneInfo("Asia/Shanghai")
ONE_DAY = timedelta(days=1)
DAY_MS = 86_400_000


class CalendarReachError(ValueError):
    """A date the calendar data does not cover (``chinese_calendar`` knows 2004–2026)."""


@lru_cache(maxsize=512)
def is_working(day: date) -> bool:
    """A weekday that is no statutory holiday, or a weekend day made a working day (调休)."""
    try:
        return bool(chinese_calendar.is_workday(day))
    except NotImplementedError as exc:
        raise CalendarReachError(f"no PRC holiday data for {day.year}") from exc


def day_kind(day: date) -> str:
    """ "working day", "weekend", "holiday" or "make-up working day" (for the live view)."""
    working = is_working(day)
    if day.weekday() >= 5:
        return "make-up working day" if working else "weekend"
    return "working day" if working else "holiday"


def local_day(instant: datetime) -> date:
    return instant.astimezone(SHANGHAI).date()


@lru_cache(maxsize=512)
def midnight(day: date) -> datetime:
    """00:00 of ``day`` in Beijing, as a UTC instant (24:00 of the day before)."""
    return datetime.combine(day, time(), SHANGHAI).astimezone(UTC)


def end_of(day: date) -> datetime:
    """24:00 of ``day``: the exclusive end of a period whose last day it is."""
    return midnight(day + ONE_DAY)


@lru_cache(maxsize=1024)
def nth_day(first: date, k: int, working_only: bool) -> date:
    """The k-th (1-based) counted day from ``first``: any day, or working days only."""
    if not working_only:
        return first + timedelta(days=k - 1)
    day, seen = first, 0
    while True:
        if is_working(day):
            seen += 1
            if seen == k:
                return day
        day += ONE_DAY


def counted_days(first: date, stop: date, working_only: bool) -> int:
    """How many counted days lie in ``[first, stop)``."""
    if stop <= first:
        return 0
    if not working_only:
        return (stop - first).days
    return sum(1 for i in range((stop - first).days) if is_working(first + timedelta(days=i)))


def roll_to_working(day: date) -> date:
    """Civil Code Art. 203: a period whose last day is a rest day ends on the next working day."""
    while not is_working(day):
        day += ONE_DAY
    return day


def millis(delta: timedelta) -> int:
    return delta.days * DAY_MS + delta.seconds * 1000 + delta.microseconds // 1000


def plus_ms(instant: datetime, ms: int) -> datetime:
    return instant + timedelta(milliseconds=ms)


def working_days_after(instant: datetime, days: int) -> datetime:
    """End of the ``days``-th working day counted from the day after ``instant``'s local day."""
    return end_of(nth_day(local_day(instant) + ONE_DAY, days, True))


def at_local(day: date, hour: int, minute: int = 0) -> datetime:
    """``hour:minute`` Beijing time on ``day``, as a UTC instant."""
    return datetime.combine(day, time(hour, minute), SHANGHAI).astimezone(UTC)


def clear_caches() -> None:
    """Forget the memoised days (the caches are bounded; tests measure memory without them)."""
    for fn in (is_working, midnight, nth_day):
        fn.cache_clear()
