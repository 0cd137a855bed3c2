"""The SLA clock alone: pause arithmetic per unit, thresholds, escalation, recompute."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

from agents.core import sla_clock as sc
from agents.core.calendar import WorkingCalendar
from agents.core.policy import Unit
from agents.core.sla_clock import BREACH, ESCALATE, ClockStatus, SlaClock
from schemas.models import SuspendReason

from .builders import hours, sh

CAL = WorkingCalendar(None)
TESTING = SuspendReason.TESTING


def make(
    unit: Unit,
    target: int,
    at: datetime,
    *,
    warnings: tuple[int, ...] = (50, 75),
    escalate_days: int = 5,
    deadline: datetime | None = None,
    cal: WorkingCalendar = CAL,
) -> SlaClock:
    return sc.start(
        clock_id="case-1/R#0",
        ref="R#0",
        rule_id="R",
        policy_version="V",
        unit=unit,
        target=target,
        warnings=warnings,
        escalate_days=escalate_days,
        at=at,
        cal=cal,
        deadline=deadline,
    )


def test_hours_pause_excludes_paused_time_exactly() -> None:
    start = sh(2026, 3, 2, 9)
    clock = make(Unit.HOURS, 24, start)
    assert clock.due_at == start + hours(24)
    clock = sc.pause(clock, start + hours(10), TESTING, CAL)
    assert clock.status is ClockStatus.PAUSED and clock.next_at is None
    clock = sc.resume(clock, start + hours(40), CAL)
    assert clock.due_at == start + hours(54)
    assert clock.paused_ms == 30 * 3_600_000
    met = sc.stop(clock, start + hours(50))
    assert met.status is ClockStatus.MET
    assert sc.elapsed_ms(met, start + hours(50)) == 20 * 3_600_000


def test_working_days_pause_across_weekend_counts_remaining_working_days() -> None:
    clock = make(Unit.WORKING_DAYS, 7, sh(2026, 3, 2, 10))  # counts Tue 03-03 … Wed 03-11
    assert clock.due_at == sh(2026, 3, 12)
    # paused Thursday 03-05: Tue 03 and Wed 04 consumed (the pause day is not)
    clock = sc.pause(clock, sh(2026, 3, 5, 10), TESTING, CAL)
    assert clock.consumed == 2
    # resumed Tuesday 03-10: 5 working days 10, 11, 12, 13, 16
    clock = sc.resume(clock, sh(2026, 3, 10, 15), CAL)
    assert clock.due_at == sh(2026, 3, 17)


def test_working_days_resume_on_weekend_starts_on_next_working_day() -> None:
    clock = make(Unit.WORKING_DAYS, 3, sh(2026, 3, 2, 10))
    clock = sc.pause(clock, sh(2026, 3, 3, 10), TESTING, CAL)  # nothing consumed
    clock = sc.resume(clock, sh(2026, 3, 7, 10), CAL)  # Saturday
    assert clock.due_at == sh(2026, 3, 12)  # Mon 09, Tue 10, Wed 11


def test_working_days_pause_over_spring_festival_resume_on_makeup_saturday() -> None:
    clock = make(Unit.WORKING_DAYS, 7, sh(2026, 2, 9, 10))  # 10,11,12,13,14,24,25
    assert clock.due_at == sh(2026, 2, 26)
    clock = sc.pause(clock, sh(2026, 2, 12, 9), TESTING, CAL)  # 10, 11 consumed
    assert clock.consumed == 2
    clock = sc.resume(clock, sh(2026, 2, 28, 9), CAL)  # 调休 Saturday counts
    assert clock.due_at == sh(2026, 3, 6)  # 28, Mar 2, 3, 4, 5


def test_same_day_pause_and_resume_changes_nothing() -> None:
    for unit in (Unit.CALENDAR_DAYS, Unit.WORKING_DAYS):
        clock = make(unit, 7, sh(2026, 3, 2, 10))
        due = clock.due_at
        clock = sc.pause(clock, sh(2026, 3, 5, 9), TESTING, CAL)
        clock = sc.resume(clock, sh(2026, 3, 5, 17), CAL)
        assert clock.due_at == due


def test_pause_on_the_trigger_day_consumes_nothing() -> None:
    clock = make(Unit.CALENDAR_DAYS, 7, sh(2026, 3, 2, 10))
    clock = sc.pause(clock, sh(2026, 3, 2, 11), TESTING, CAL)
    assert clock.consumed == 0
    clock = sc.resume(clock, sh(2026, 3, 2, 12), CAL)
    assert clock.due_at == sh(2026, 3, 10)  # 03-03 … 03-09


def test_calendar_days_pause_shifts_and_rolls_to_working_day() -> None:
    clock = make(Unit.CALENDAR_DAYS, 7, sh(2026, 3, 2, 10))  # 03-03 … 03-09 (Mon)
    clock = sc.pause(clock, sh(2026, 3, 4, 10), TESTING, CAL)  # 03 consumed
    clock = sc.resume(clock, sh(2026, 3, 6, 10), CAL)  # 6 left: 06 … 11
    assert clock.due_at == sh(2026, 3, 12)
    clock = sc.pause(clock, sh(2026, 3, 7, 10), TESTING, CAL)  # 06 consumed → 2 used
    clock = sc.resume(clock, sh(2026, 3, 9, 10), CAL)  # 5 left: 09 … 13 (Fri)
    assert clock.due_at == sh(2026, 3, 14)
    clock = sc.pause(clock, sh(2026, 3, 10, 10), TESTING, CAL)  # 09 → 3 used
    clock = sc.resume(clock, sh(2026, 3, 11, 10), CAL)  # 4 left: 11 … 14 (Sat) → Mon 16
    assert clock.due_at == sh(2026, 3, 17)


def test_fixed_deadline_pause_moves_deadline_by_paused_time() -> None:
    start, deadline = sh(2026, 3, 2, 10), sh(2026, 3, 12, 18)
    clock = make(Unit.FIXED, 0, start, deadline=deadline)
    assert clock.due_at == deadline
    clock = sc.resume(sc.pause(clock, start + hours(1), TESTING, CAL), start + hours(25), CAL)
    assert clock.due_at == deadline + hours(24)


def test_warning_thresholds_follow_working_time() -> None:
    clock = make(Unit.WORKING_DAYS, 4, sh(2026, 3, 5, 10))  # Fri 06, Mon 09, Tue 10, Wed 11
    assert clock.due_at == sh(2026, 3, 12)
    assert sc.threshold_at(clock, 50, CAL) == sh(2026, 3, 10)  # end of the 2nd working day
    assert sc.threshold_at(clock, 75, CAL) == sh(2026, 3, 11)
    assert (clock.next_kind, clock.next_at) == ("WARN_50", sh(2026, 3, 10))
    half = make(Unit.WORKING_DAYS, 7, sh(2026, 3, 2, 10))
    assert sc.threshold_at(half, 50, CAL) == sh(2026, 3, 6, 12)  # 3.5 working days


def test_thresholds_fire_once_each_in_order_then_escalate() -> None:
    start = sh(2026, 3, 2, 9)  # Monday
    clock = make(Unit.HOURS, 24, start)
    clock, fired = sc.fire_due(clock, start + hours(11), CAL)
    assert fired == []
    clock, fired = sc.fire_due(clock, start + hours(12), CAL)
    assert [f.kind for f in fired] == ["WARN_50"]
    clock, fired = sc.fire_due(clock, start + hours(12), CAL)
    assert fired == []
    clock, fired = sc.fire_due(clock, start + hours(18), CAL)
    assert [f.kind for f in fired] == ["WARN_75"]
    clock, fired = sc.fire_due(clock, start + hours(24), CAL)
    assert [f.kind for f in fired] == [BREACH]
    # due Tue 03-03 09:00; escalation after 5 working days from Wed 04: 04,05,06,09,10
    assert clock.escalate_at == sh(2026, 3, 11)
    assert clock.next_kind == ESCALATE
    clock, fired = sc.fire_due(clock, sh(2026, 3, 10, 23, 59), CAL)
    assert fired == []
    clock, fired = sc.fire_due(clock, sh(2026, 3, 11), CAL)
    assert [f.kind for f in fired] == [ESCALATE]
    assert clock.next_at is None


def test_warnings_overtaken_by_the_breach_are_not_alerted() -> None:
    start = sh(2026, 3, 2, 9)
    clock = make(Unit.HOURS, 2, start)
    clock, fired = sc.fire_due(clock, start + hours(3), CAL)
    assert [(f.kind, f.raise_alert) for f in fired] == [
        ("WARN_50", False),
        ("WARN_75", False),
        (BREACH, True),
    ]


def test_no_escalation_when_disabled_and_paused_breached_clock_still_escalates() -> None:
    start = sh(2026, 3, 2, 9)
    quiet = make(Unit.HOURS, 1, start, escalate_days=0, warnings=())
    quiet, fired = sc.fire_due(quiet, start + hours(2), CAL)
    assert [f.kind for f in fired] == [BREACH] and quiet.next_at is None
    loud = make(Unit.HOURS, 1, start, warnings=())
    loud, _ = sc.fire_due(loud, start + hours(2), CAL)
    loud = sc.pause(loud, start + hours(3), TESTING, CAL)
    assert loud.next_kind == ESCALATE


def test_met_and_cancelled_clocks_have_nothing_pending() -> None:
    start = sh(2026, 3, 2, 9)
    clock = make(Unit.HOURS, 24, start)
    paused = sc.pause(clock, start + hours(1), TESTING, CAL)
    met = sc.stop(paused, start + hours(5))
    assert met.status is ClockStatus.MET and met.next_at is None
    assert met.paused_ms == 4 * 3_600_000
    assert sc.elapsed_ms(met, start + hours(5)) == 3_600_000
    assert sc.stop(met, start + hours(6)) is met  # finished clocks do not change
    cancelled = sc.cancel(clock, start + hours(2))
    assert cancelled.status is ClockStatus.CANCELLED and cancelled.next_at is None
    assert sc.pause(cancelled, start, TESTING, CAL) is cancelled
    assert sc.resume(clock, start, CAL) is clock  # a running clock does not resume


def test_provisional_clock_recomputed_when_year_data_arrives(empty_dir: Path) -> None:
    clock = make(Unit.WORKING_DAYS, 7, sh(2026, 12, 28, 10))
    assert clock.unknown_years == (2027,) and clock.due_at == sh(2027, 1, 7)
    assert clock.recheck_at == sh(2026, 12, 29)
    same, changed = sc.recompute(clock, sh(2026, 12, 29), CAL)
    assert not changed and same.recheck_at == sh(2026, 12, 30)
    (empty_dir / "2027.yaml").write_text("holidays: [2027-01-01, 2027-01-04]\n")
    cal = WorkingCalendar(empty_dir)
    fresh, changed = sc.recompute(clock, sh(2026, 12, 30), cal)
    assert changed and not fresh.provisional and fresh.recheck_at is None
    assert fresh.due_at == sh(2027, 1, 9)  # 29, 30, 31, 05, 06, 07, 08


def test_started_in_the_past_is_due_at_once() -> None:
    clock = make(Unit.HOURS, 24, sh(2026, 3, 1, 9))
    clock, fired = sc.fire_due(clock, sh(2026, 3, 2, 10), CAL)
    assert fired[-1].kind == BREACH
    assert clock.first_day is None
    day_clock = make(Unit.CALENDAR_DAYS, 1, sh(2026, 3, 2, 9))
    assert day_clock.first_day == date(2026, 3, 3)


def test_escalation_date_in_an_unknown_year_is_provisional_and_recounted(
    empty_dir: Path,
) -> None:
    clock = make(Unit.HOURS, 24, sh(2026, 12, 30, 10))
    assert not clock.provisional  # an hour period needs no calendar
    clock, fired = sc.fire_due(clock, sh(2026, 12, 31, 10), CAL)
    assert [f.kind for f in fired if f.raise_alert] == [BREACH]
    assert clock.unknown_years == (2027,) and clock.recheck_at == sh(2027, 1, 1)
    assert clock.escalate_at == sh(2027, 1, 8)  # weekend rule: 01, 04, 05, 06, 07
    (empty_dir / "2027.yaml").write_text("holidays: [2027-01-01, 2027-01-02, 2027-01-03]\n")
    fresh, changed = sc.recompute(clock, sh(2027, 1, 1), WorkingCalendar(empty_dir))
    assert not changed and fresh.due_at == clock.due_at  # the observed breach stands
    assert fresh.escalate_at == sh(2027, 1, 9) and fresh.next_at == sh(2027, 1, 9)
    assert not fresh.provisional and fresh.recheck_at is None
