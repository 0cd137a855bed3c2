"""PRC working days and Civil Code period counting, in Asia/Shanghai local days.

Working-day data comes from ``chinese_calendar`` (statutory holidays and the weekend days made
working days, 调休) plus operator year files ``agents/policy/calendar/<year>.yaml``; a year file
replaces the library's data for its year. A year known to neither is *unknown*: its days
follow the weekend-only rule (Monday–Friday work) and every result that touched such a day
is marked provisional, so the engine can raise CALENDAR_YEAR_UNKNOWN and recompute later.
Nothing here ever raises for a date outside the data.

Instants are aware UTC datetimes; day arithmetic is done on the local date in Asia/Shanghai.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import chinese_calendar
import yaml

from agents.core.errors import CalendarDataError

SHANGHAI = ZoneInfo("Asia/Shanghai")
DAY = timedelta(days=1)
DAY_MS = 86_400_000
DEFAULT_CALENDAR_DIR = Path(__file__).resolve().parent.parent / "policy" / "calendar"
_CACHE_LIMIT = 200_000


@dataclass(frozen=True, slots=True)
class YearData:
    """One year's announced calendar: statutory rest days and make-up working days."""

    year: int
    holidays: frozenset[date]
    workdays: frozenset[date]
    source: str = ""


@dataclass(frozen=True, slots=True)
class Period:
    """The end of a period: ``due_at`` is the exclusive end (24:00 of ``last_day``, or the
    exact instant for hour periods); ``unknown_years`` lists the years without calendar data
    that the count went through (empty = the result is final)."""

    due_at: datetime
    last_day: date | None
    unknown_years: tuple[int, ...] = ()

    @property
    def provisional(self) -> bool:
        return bool(self.unknown_years)


def _as_date(value: Any, where: str) -> date:
    if isinstance(value, datetime):
        raise CalendarDataError(f"{where}: {value!r} is a timestamp; give a date (YYYY-MM-DD)")
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError as exc:
            raise CalendarDataError(f"{where}: {value!r} is not a YYYY-MM-DD date") from exc
    raise CalendarDataError(f"{where}: {value!r} is not a date")


def parse_year_data(raw: Mapping[str, Any], where: str, year: int | None = None) -> YearData:
    """Validate one year's data (the content of a ``<year>.yaml`` file)."""
    if not isinstance(raw, Mapping):
        raise CalendarDataError(f"{where}: expected a mapping with year, holidays, workdays")
    unknown = set(raw) - {"year", "source", "holidays", "workdays"}
    if unknown:
        raise CalendarDataError(f"{where}: unknown keys {sorted(unknown)}")
    declared = raw.get("year", year)
    if not isinstance(declared, int) or isinstance(declared, bool):
        raise CalendarDataError(f"{where}: 'year' must be an integer")
    if year is not None and declared != year:
        raise CalendarDataError(f"{where}: file is for {year} but says year {declared}")
    days: dict[str, frozenset[date]] = {}
    for key in ("holidays", "workdays"):
        values = raw.get(key) or []
        if not isinstance(values, list):
            raise CalendarDataError(f"{where}: '{key}' must be a list of dates")
        parsed = frozenset(_as_date(v, f"{where} {key}") for v in values)
        strays = sorted(d.isoformat() for d in parsed if d.year != declared)
        if strays:
            raise CalendarDataError(f"{where}: {key} outside {declared}: {strays}")
        days[key] = parsed
    both = days["holidays"] & days["workdays"]
    if both:
        raise CalendarDataError(f"{where}: dates both holiday and workday: {sorted(both)}")
    weekday_makeups = sorted(d.isoformat() for d in days["workdays"] if d.weekday() < 5)
    if weekday_makeups:
        raise CalendarDataError(
            f"{where}: make-up working days must be weekend days, got {weekday_makeups}"
        )
    source = raw.get("source", "")
    return YearData(declared, days["holidays"], days["workdays"], str(source))


def _node_lines(node: Any) -> dict[tuple[str, int | None], int]:
    """Line numbers (1-based) of a year file's top-level keys ``(key, None)`` and list items
    ``(key, index)``, for error messages."""
    lines: dict[tuple[str, int | None], int] = {}
    if not isinstance(node, yaml.MappingNode):
        return lines
    for key_node, value_node in node.value:
        key = str(key_node.value)
        lines[(key, None)] = key_node.start_mark.line + 1
        if isinstance(value_node, yaml.SequenceNode):
            for i, item in enumerate(value_node.value):
                lines[(key, i)] = item.start_mark.line + 1
    return lines


def _list_scalars(node: Any) -> list[tuple[str, int, int, str]]:
    """(key, index, line, text) of every scalar in a top-level list, in file order."""
    out: list[tuple[str, int, int, str]] = []
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            if isinstance(value_node, yaml.SequenceNode):
                for i, item in enumerate(value_node.value):
                    if isinstance(item, yaml.ScalarNode):
                        out.append(
                            (str(key_node.value), i, item.start_mark.line + 1, str(item.value))
                        )
    return out


def parse_year_text(text: str, where: str, year: int | None = None) -> YearData:
    """Validate a year file's text; errors read ``<where>:<line>: <field>: <problem>``."""
    try:
        node = yaml.compose(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f":{mark.line + 1}" if mark is not None else ""
        raise CalendarDataError(f"{where}{line}: cannot read: not YAML: {exc}") from exc
    lines = _node_lines(node)
    try:
        raw = yaml.safe_load(text)
    except ValueError as exc:  # a date-like scalar that is no date (2027-13-01)
        for name, item_no, item_line, scalar in _list_scalars(node):
            try:
                date.fromisoformat(scalar)
            except ValueError:
                raise CalendarDataError(
                    f"{where}:{item_line}: {name}[{item_no}]: {scalar!r} is not a YYYY-MM-DD date"
                ) from exc
        raise CalendarDataError(f"{where}: {exc}") from exc
    if not isinstance(raw, Mapping):
        raise CalendarDataError(f"{where}:1: expected a mapping with year, holidays, workdays")
    for key in ("holidays", "workdays"):
        values = raw.get(key) or []
        if isinstance(values, list):
            for i, value in enumerate(values):
                at = f"{where}:{lines.get((key, i), lines.get((key, None), 1))}: {key}[{i}]"
                day = _as_date(value, at)
                declared = raw.get("year", year)
                if isinstance(declared, int) and day.year != declared:
                    raise CalendarDataError(f"{at}: {day} is outside {declared}")
                if key == "workdays" and day.weekday() < 5:
                    raise CalendarDataError(
                        f"{at}: {day} is a weekday; make-up working days must be weekend days"
                    )
                if key == "workdays" and day in {
                    _as_date(h, at) for h in (raw.get("holidays") or [])
                }:
                    raise CalendarDataError(f"{at}: {day} is both holiday and workday")
    for key in sorted(set(raw) - {"year", "source", "holidays", "workdays"}):
        raise CalendarDataError(f"{where}:{lines.get((str(key), None), 1)}: {key}: unknown keys")
    if "year" in raw and (not isinstance(raw["year"], int) or isinstance(raw["year"], bool)):
        raise CalendarDataError(f"{where}:{lines.get(('year', None), 1)}: year: not an integer")
    year_line = lines.get(("year", None), 1)
    return parse_year_data(raw, f"{where}:{year_line}", year)


def load_year_files(data_dir: Path) -> list[YearData]:
    """Read every ``<year>.yaml`` in ``data_dir`` (files starting with "_" and examples named
    ``*.example.yaml`` are ignored)."""
    if not data_dir.is_dir():
        return []
    years: list[YearData] = []
    for path in sorted(data_dir.glob("*.yaml")):
        if path.name.startswith("_") or path.name.endswith(".example.yaml"):
            continue
        if not path.stem.isdigit() or len(path.stem) != 4:
            raise CalendarDataError(f"{path}: calendar files are named <year>.yaml")
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise CalendarDataError(f"{path}: cannot read: {exc}") from exc
        years.append(parse_year_text(text, str(path), int(path.stem)))
    return years


def _library_years() -> list[YearData]:
    holidays: dict[int, set[date]] = {}
    workdays: dict[int, set[date]] = {}
    for d in chinese_calendar.holidays:
        holidays.setdefault(d.year, set()).add(d)
    for d in chinese_calendar.workdays:
        workdays.setdefault(d.year, set()).add(d)
    first, last = min(holidays), max(holidays)
    return [
        YearData(
            y,
            frozenset(holidays.get(y, ())),
            frozenset(workdays.get(y, ())),
            "chinese-calendar",
        )
        for y in range(first, last + 1)
    ]


class WorkingCalendar:
    """Working days, local days and Civil Code periods. Immutable after construction.

    ``data_dir`` holds operator year files (default ``agents/policy/calendar``; ``None`` = none);
    ``use_library=False`` ignores ``chinese_calendar`` (tests); ``years`` adds data directly.
    Lookups are cached per date, so per-event cost does not grow with the number of cases.
    """

    def __init__(
        self,
        data_dir: Path | None = DEFAULT_CALENDAR_DIR,
        *,
        use_library: bool = True,
        years: Iterable[YearData] = (),
    ) -> None:
        table: dict[int, YearData] = {}
        if use_library:
            table.update((y.year, y) for y in _library_years())
        if data_dir is not None:
            table.update((y.year, y) for y in load_year_files(data_dir))
        table.update((y.year, y) for y in years)
        self._years = table
        self._holidays = frozenset(d for y in table.values() for d in y.holidays)
        self._workdays = frozenset(d for y in table.values() for d in y.workdays)
        self._working: dict[date, bool] = {}
        self._day_start: dict[date, datetime] = {}
        self._nth: dict[tuple[date, int, bool], date] = {}

    def with_years(self, years: Iterable[YearData]) -> WorkingCalendar:
        """A new calendar with ``years`` added (each replaces what this one had for its year);
        how a published CalendarYearPublished reaches a running worker."""
        return WorkingCalendar(None, use_library=False, years=[*self._years.values(), *years])

    def year_data(self, year: int) -> YearData | None:
        return self._years.get(year)

    # ---- years -------------------------------------------------------------------------
    @property
    def known_years(self) -> tuple[int, ...]:
        return tuple(sorted(self._years))

    def knows_year(self, year: int) -> bool:
        return year in self._years

    def year_source(self, year: int) -> str | None:
        data = self._years.get(year)
        return None if data is None else data.source

    def unknown_years(self, first: date, last: date) -> tuple[int, ...]:
        """Years between the two dates (inclusive) that have no calendar data."""
        lo, hi = (first, last) if first <= last else (last, first)
        return tuple(y for y in range(lo.year, hi.year + 1) if y not in self._years)

    # ---- days --------------------------------------------------------------------------
    def is_working_day(self, day: date) -> bool:
        """True on a working day: a weekday that is no holiday, or a make-up (调休) day.
        Unknown years follow the weekend-only rule (see :meth:`unknown_years`)."""
        cached = self._working.get(day)
        if cached is None:
            cached = day in self._workdays or (day.weekday() < 5 and day not in self._holidays)
            if len(self._working) >= _CACHE_LIMIT:
                self._working.clear()
            self._working[day] = cached
        return cached

    def is_rest_day(self, day: date) -> bool:
        return not self.is_working_day(day)

    @staticmethod
    def local_date(instant: datetime) -> date:
        """The Asia/Shanghai calendar date of an instant."""
        return instant.astimezone(SHANGHAI).date()

    def day_start(self, day: date) -> datetime:
        """00:00 Asia/Shanghai of ``day``, as a UTC instant."""
        cached = self._day_start.get(day)
        if cached is None:
            local = datetime(day.year, day.month, day.day, tzinfo=SHANGHAI)
            cached = local.astimezone(UTC)
            if len(self._day_start) >= _CACHE_LIMIT:
                self._day_start.clear()
            self._day_start[day] = cached
        return cached

    def day_end(self, day: date) -> datetime:
        """24:00 of ``day`` (= 00:00 of the next day), as a UTC instant."""
        return self.day_start(day + DAY)

    def roll_to_working_day(self, day: date) -> date:
        """``day`` itself if it is a working day, else the first working day after it."""
        while not self.is_working_day(day):
            day += DAY
        return day

    def nth_counted_day(self, first: date, k: int, *, working: bool) -> date:
        """The k-th day (1-based) at or after ``first`` that counts: every day, or only
        working days when ``working``. ``k`` must be at least 1."""
        if k < 1:
            raise ValueError("k must be >= 1")
        if not working:
            return first + timedelta(days=k - 1)
        key = (first, k, working)
        cached = self._nth.get(key)
        if cached is None:
            day, seen = first, 0
            while True:
                if self.is_working_day(day):
                    seen += 1
                    if seen == k:
                        break
                day += DAY
            cached = day
            if len(self._nth) >= _CACHE_LIMIT:
                self._nth.clear()
            self._nth[key] = cached
        return cached

    def count_counted_days(self, first: date, stop: date, *, working: bool) -> int:
        """How many counted days lie in ``[first, stop)``; 0 when ``stop <= first``."""
        if stop <= first:
            return 0
        if not working:
            return (stop - first).days
        count, day = 0, first
        while day < stop:
            if self.is_working_day(day):
                count += 1
            day += DAY
        return count

    # ---- periods (PRC Civil Code Art. 200–204) -----------------------------------------
    def hours_after(self, start: datetime, hours: int) -> Period:
        """An hour period runs from the exact instant."""
        return Period(start + timedelta(hours=hours), None)

    def calendar_days_after(self, start: datetime, days: int) -> Period:
        """A day period starts the day after ``start``, ends at 24:00 of its last day, and
        a last day that is a rest day moves to the first working day after it."""
        first = self.local_date(start) + DAY
        last = self.roll_to_working_day(first + timedelta(days=days - 1))
        return Period(self.day_end(last), last, self.unknown_years(first, last))

    def working_days_after(self, start: datetime, days: int) -> Period:
        """A working-day period counts ``days`` working days from the day after ``start``."""
        first = self.local_date(start) + DAY
        last = self.nth_counted_day(first, days, working=True)
        return Period(self.day_end(last), last, self.unknown_years(first, last))
