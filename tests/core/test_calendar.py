"""PRC working days, Civil Code period counting, operator year files, unknown years."""

from __future__ import annotations

import re
from datetime import date, timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agents.core.calendar import WorkingCalendar, YearData
from agents.core.errors import CalendarDataError

from .builders import hours, sh

CAL = WorkingCalendar(None)


def test_2026_spring_festival_holidays_and_makeup_saturdays() -> None:
    festival = [date(2026, 2, 15) + timedelta(days=i) for i in range(9)]  # 02-15 … 02-23
    assert all(CAL.is_rest_day(d) for d in festival)
    # 调休: the Saturdays before and after the festival are working days
    assert date(2026, 2, 14).weekday() == 5 and CAL.is_working_day(date(2026, 2, 14))
    assert date(2026, 2, 28).weekday() == 5 and CAL.is_working_day(date(2026, 2, 28))
    assert CAL.is_working_day(date(2026, 2, 24))
    assert CAL.is_rest_day(date(2026, 3, 1))  # an ordinary Sunday


def test_local_date_is_shanghai() -> None:
    # 2026-03-02 17:00 UTC is already 2026-03-03 01:00 in Beijing
    assert CAL.local_date(sh(2026, 3, 3, 1)) == date(2026, 3, 3)
    assert CAL.day_start(date(2026, 3, 3)) == sh(2026, 3, 3)
    assert CAL.day_end(date(2026, 3, 3)) == sh(2026, 3, 4)


def test_day_period_starts_the_day_after_and_ends_at_midnight() -> None:
    # Filed Monday 2026-03-02, late evening or early morning: the first counted day is Tue 03
    for start in (sh(2026, 3, 2, 0, 1), sh(2026, 3, 2, 23, 59)):
        period = CAL.calendar_days_after(start, 1)
        assert period.last_day == date(2026, 3, 3)
        assert period.due_at == sh(2026, 3, 4)
        assert not period.provisional


def test_calendar_day_period_ending_on_weekend_rolls_to_monday() -> None:
    period = CAL.calendar_days_after(sh(2026, 3, 2, 10), 5)  # last day Sat 03-07
    assert period.last_day == date(2026, 3, 9)
    assert period.due_at == sh(2026, 3, 10)


def test_calendar_day_period_ending_in_spring_festival_rolls_past_it() -> None:
    period = CAL.calendar_days_after(sh(2026, 2, 10, 9), 7)  # nominal last day 02-17
    assert period.last_day == date(2026, 2, 24)
    assert period.due_at == sh(2026, 2, 25)


def test_calendar_day_period_ending_on_makeup_saturday_does_not_roll() -> None:
    period = CAL.calendar_days_after(sh(2026, 2, 21, 9), 7)  # last day Sat 02-28 (调休)
    assert period.last_day == date(2026, 2, 28)
    assert period.due_at == sh(2026, 3, 1)


def test_working_day_period_counts_makeup_saturday_and_skips_festival() -> None:
    start = sh(2026, 2, 13, 16)  # Friday before the festival
    assert CAL.working_days_after(start, 1).last_day == date(2026, 2, 14)  # 调休 Saturday
    assert CAL.working_days_after(start, 2).last_day == date(2026, 2, 24)
    # 7 working days from Mon 02-09: 10,11,12,13,14(Sat),24,25
    assert CAL.working_days_after(sh(2026, 2, 9, 10), 7).last_day == date(2026, 2, 25)


def test_hour_period_runs_from_the_exact_instant() -> None:
    start = sh(2026, 2, 14, 23, 30)
    assert CAL.hours_after(start, 2).due_at == start + hours(2)
    assert CAL.hours_after(start, 24).due_at == start + hours(24)


def test_unknown_year_uses_weekend_rule_and_is_provisional_never_raises() -> None:
    assert not CAL.knows_year(2027)
    assert CAL.is_working_day(date(2027, 1, 1))  # a Friday: weekend rule, no holiday data
    assert CAL.is_rest_day(date(2027, 1, 2))
    period = CAL.working_days_after(sh(2026, 12, 28, 10), 7)
    assert period.unknown_years == (2027,)
    assert period.provisional
    # 12-29, 30, 31, then Jan 2027 by the weekend rule: 01, 04, 05, 06
    assert period.last_day == date(2027, 1, 6)
    inside = CAL.working_days_after(sh(2026, 12, 1, 10), 3)
    assert not inside.provisional


def test_year_file_adds_a_year(empty_dir: Path) -> None:
    (empty_dir / "2027.yaml").write_text(
        "year: 2027\nsource: test notice\n"
        "holidays: [2027-01-01, 2027-01-02, 2027-01-03]\nworkdays: [2027-01-09]\n"
    )
    cal = WorkingCalendar(empty_dir)
    assert cal.knows_year(2027) and cal.year_source(2027) == "test notice"
    assert cal.is_rest_day(date(2027, 1, 1))
    assert cal.is_working_day(date(2027, 1, 9))  # a Saturday made working
    period = cal.working_days_after(sh(2026, 12, 28, 10), 7)
    assert not period.provisional
    # 12-29, 30, 31, then 01-04, 05, 06, 07
    assert period.last_day == date(2027, 1, 7)


def test_year_file_replaces_library_data_for_its_year(empty_dir: Path) -> None:
    (empty_dir / "2026.yaml").write_text("year: 2026\nholidays: [2026-03-02]\nworkdays: []\n")
    cal = WorkingCalendar(empty_dir)
    assert cal.is_rest_day(date(2026, 3, 2))
    assert cal.is_working_day(date(2026, 2, 16))  # library festival data no longer used


def test_underscore_files_are_ignored(empty_dir: Path) -> None:
    (empty_dir / "_example.yaml").write_text("not: [valid")
    assert WorkingCalendar(empty_dir).known_years == CAL.known_years


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        ("2027.yaml", "year: 2028\nholidays: []\n", "says year 2028"),
        ("2027.yaml", "holidays: [2027-01-04]\nworkdays: [2027-01-05]\n", "weekend"),
        ("2027.yaml", "holidays: [2027-01-09]\nworkdays: [2027-01-09]\n", "both"),
        ("2027.yaml", "holidays: [2026-12-31]\n", "outside 2027"),
        ("2027.yaml", "holidays: [not-a-date]\n", "not a YYYY-MM-DD"),
        ("2027.yaml", "holidays: 2027-01-01\n", "list of dates"),
        ("2027.yaml", "vacations: []\n", "unknown keys"),
        ("2027.yaml", "holidays: [2027-01-01 08:00:00]\n", "timestamp"),
        ("next.yaml", "holidays: []\n", "<year>.yaml"),
        ("2027.yaml", "holidays: [\n", "cannot read"),
    ],
)
def test_bad_year_files_are_refused(empty_dir: Path, name: str, text: str, message: str) -> None:
    (empty_dir / name).write_text(text)
    with pytest.raises(CalendarDataError, match=message):
        WorkingCalendar(empty_dir)


def test_years_can_be_injected_without_files() -> None:
    cal = WorkingCalendar(None, use_library=False, years=[YearData(2030, frozenset(), frozenset())])
    assert cal.known_years == (2030,)
    assert not cal.knows_year(2026)


@settings(max_examples=60, deadline=None)
@given(
    first=st.dates(min_value=date(2025, 1, 1), max_value=date(2027, 12, 31)),
    k=st.integers(min_value=1, max_value=60),
    working=st.booleans(),
)
def test_nth_and_count_agree(first: date, k: int, working: bool) -> None:
    day = CAL.nth_counted_day(first, k, working=working)
    assert CAL.count_counted_days(first, day + timedelta(days=1), working=working) == k
    assert CAL.count_counted_days(first, day, working=working) == k - 1
    if working:
        assert CAL.is_working_day(day)


# ---- year files as text (regbus calendar add): errors name file:line: field ---------------
@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("year: 2027\nholidays:\n  - 2027-01-01\n  - 2027-13-01\n", "y.yaml:4: holidays[1]"),
        (
            "year: 2027\nworkdays:\n  - 2027-01-04\n",
            "y.yaml:3: workdays[0]: 2027-01-04 is a weekday",
        ),
        (
            "year: 2027\nholidays:\n  - 2026-12-31\n",
            "y.yaml:3: holidays[0]: 2026-12-31 is outside 2027",
        ),
        ("year: 2027\nholidays: []\nbogus: 1\n", "y.yaml:3: bogus: unknown key"),
        (
            "year: 2027\nholidays: [2027-01-02]\nworkdays:\n  - 2027-01-02\n",
            "y.yaml:4: workdays[0]: 2027-01-02 is both",
        ),
        ("year: [\n", "y.yaml:2: cannot read"),
    ],
)
def test_year_text_errors_name_the_line_and_field(text: str, message: str) -> None:
    from agents.core.calendar import parse_year_text

    with pytest.raises(CalendarDataError, match=re.escape(message)):
        parse_year_text(text, "y.yaml")


def test_the_2027_example_is_valid_and_never_loaded_from_the_package() -> None:
    from agents.core.calendar import DEFAULT_CALENDAR_DIR, load_year_files, parse_year_text

    example = DEFAULT_CALENDAR_DIR / "2027.example.yaml"
    data = parse_year_text(example.read_text(encoding="utf-8"), str(example))
    assert data.year == 2027 and "EXAMPLE" in data.source
    assert 2027 not in {y.year for y in load_year_files(DEFAULT_CALENDAR_DIR)}
