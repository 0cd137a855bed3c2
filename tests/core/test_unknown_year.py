"""No calendar data for 2027: explicit provisional deadlines, one alert per year, recompute."""

from __future__ import annotations

from pathlib import Path

from agents.core.calendar import WorkingCalendar
from agents.core.context import Context
from agents.core.engine import handle, on_tick
from schemas.models import RiskSignalRaised, SlaClockStarted

from . import builders as b
from .builders import sh
from .helpers import run

NEAR_NEW_YEAR = sh(2026, 12, 28, 10)


def signals(events: list[object]) -> list[RiskSignalRaised]:
    return [e for e in events if isinstance(e, RiskSignalRaised)]


def test_unknown_year_is_alerted_once_and_deadline_is_provisional(ctx: Context) -> None:
    d = handle(None, b.filed("y1", NEAR_NEW_YEAR), ctx)
    (signal,) = signals(d.outputs)
    assert signal.signal == "CALENDAR_YEAR_UNKNOWN" and signal.subject == "calendar:2027"
    assert signal.metric == 2027.0 and signal.threshold == 2026.0
    assert "2027.yaml" in signal.detail
    assert d.state is not None and d.state.calendar_alerted == (2027,)
    provisional = [c for c in d.state.clocks if c.provisional]
    # the resolve period's last day (2027-01-04) might be a holiday: provisional too
    assert {c.rule_id for c in provisional} == {
        "COMPLAINT_ACCEPT_DECISION",
        "CPL_HANDLE_NOTIFY",
        "COMPLAINT_RESOLVE",
    }
    assert {e.clock for e in d.due if e.kind == "RECHECK"} == {
        "COMPLAINT_ACCEPT_DECISION#0",
        "CPL_HANDLE_NOTIFY#0",
        "COMPLAINT_RESOLVE#0",
    }
    assert all(e.due_at == sh(2026, 12, 29) for e in d.due if e.kind == "RECHECK")
    # further events and ticks of the same case do not repeat it
    again = handle(d.state, b.forwarded("y1", NEAR_NEW_YEAR + b.hours(1)), ctx)
    assert signals(again.outputs) == []
    tick = on_tick(again.state, sh(2026, 12, 29), ctx)  # type: ignore[arg-type]
    assert signals(tick.outputs) == []
    assert all(e.due_at == sh(2026, 12, 30) for e in tick.due if e.kind == "RECHECK")
    # another case raises the same alert (same id: one fact downstream)
    other = handle(None, b.filed("y2", NEAR_NEW_YEAR), ctx)
    assert signals(other.outputs)[0].alert_id == signal.alert_id


def test_recheck_recomputes_once_the_year_is_added(ctx: Context, empty_dir: Path) -> None:
    state, _ = run([b.filed("y3", NEAR_NEW_YEAR)], ctx)
    assert state is not None
    accept = next(c for c in state.clocks if c.rule_id == "COMPLAINT_ACCEPT_DECISION")
    assert accept.due_at == sh(2027, 1, 7)  # weekend rule: 29, 30, 31, 01, 04, 05, 06
    (empty_dir / "2027.yaml").write_text(
        "year: 2027\nholidays: [2027-01-01, 2027-01-02, 2027-01-03]\nworkdays: []\n"
    )
    # the worker restarts with the new data; the next daily recheck finds it
    with_data = Context(ctx.policy, WorkingCalendar(empty_dir))
    d = on_tick(state, sh(2026, 12, 29), with_data)
    restated = [e for e in d.outputs if isinstance(e, SlaClockStarted)]
    # RESOLVE (last day Mon 01-04, a working day) keeps its due: nothing to restate
    assert {e.sla_id for e in restated} == {"COMPLAINT_ACCEPT_DECISION", "CPL_HANDLE_NOTIFY"}
    assert all(e.due_at == sh(2027, 1, 8) for e in restated)  # 01-01 is a holiday
    assert all(e.started_at == NEAR_NEW_YEAR for e in restated)
    assert d.state is not None and not any(c.provisional for c in d.state.clocks)
    assert not any(e.kind == "RECHECK" for e in d.due)


def test_year_known_from_the_start_raises_nothing(ctx: Context, empty_dir: Path) -> None:
    (empty_dir / "2027.yaml").write_text("holidays: [2027-01-01]\n")
    with_data = Context(ctx.policy, WorkingCalendar(empty_dir))
    d = handle(None, b.filed("y4", NEAR_NEW_YEAR), with_data)
    assert signals(d.outputs) == [] and not any(e.kind == "RECHECK" for e in d.due)


def test_no_threshold_fires_on_stale_guesses(ctx: Context, empty_dir: Path) -> None:
    state, _ = run([b.filed("y5", NEAR_NEW_YEAR)], ctx)
    assert state is not None
    # without data: the daily recheck at 2027-01-01 00:00 finds nothing and moves on
    state = on_tick(state, sh(2027, 1, 1), ctx).state
    assert state is not None
    accept = next(c for c in state.clocks if c.rule_id == "COMPLAINT_ACCEPT_DECISION")
    assert accept.recheck_at == sh(2027, 1, 2)
    assert accept.next_at == sh(2027, 1, 1, 12)  # 50 %: 3.5 days by the weekend rule
    # the worker restarts with data at 10:00; the 50 % tick at noon recounts first
    (empty_dir / "2027.yaml").write_text("holidays: [2027-01-01, 2027-01-02, 2027-01-03]\n")
    with_data = Context(ctx.policy, WorkingCalendar(empty_dir))
    d = on_tick(state, sh(2027, 1, 1, 12), with_data)
    assert not any(a.rule_id == "COMPLAINT_ACCEPT_DECISION" for a in d.alerts)
    assert d.state is not None
    accept = next(c for c in d.state.clocks if c.rule_id == "COMPLAINT_ACCEPT_DECISION")
    assert accept.next_at == sh(2027, 1, 4, 12) and not accept.provisional
