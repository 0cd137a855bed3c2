"""Repeated breaches by one platform → InterviewRecommended (约谈)."""

from __future__ import annotations

from datetime import datetime, timedelta

from agents.core.context import Context
from agents.core.engine import on_tick
from agents.core.platform import PlatformRecord, record_breach
from schemas.models import AlertEvent, Event, InterviewRecommended, Level, SlaBreached

from . import builders as b
from .builders import sh
from .helpers import assert_valid_events, run


def breach(ctx: Context, case: str, filed_at: datetime) -> SlaBreached:
    """A real SlaBreached from the engine: the case is never acknowledged."""
    state, _ = run([b.filed(case, filed_at)], ctx)
    assert state is not None
    d = on_tick(state, filed_at + timedelta(hours=24), ctx)
    (alert,) = [a for a in d.alerts if isinstance(a, SlaBreached)]
    return alert


def fold(ctx: Context, alerts: list[AlertEvent]) -> tuple[PlatformRecord | None, list[Event]]:
    record: PlatformRecord | None = None
    out: list[Event] = []
    for alert in alerts:
        record, more = record_breach(record, alert, ctx)
        out += more
    return record, out


def test_three_breaches_in_thirty_days_recommend_an_interview(ctx: Context) -> None:
    alerts = [breach(ctx, f"pl-{i}", sh(2026, 3, 2 + 5 * i, 10)) for i in range(3)]
    record, out = fold(ctx, alerts[:2])
    assert out == [] and record is not None and len(record.window) == 2
    record, more = record_breach(record, alerts[2], ctx)
    (interview,) = more
    assert isinstance(interview, InterviewRecommended)
    assert interview.breach_count == 3 and interview.subject == b.PLATFORM
    assert interview.level is Level.LEADERSHIP and interview.policy_version == "SAMR-20"
    assert interview.observed_at == alerts[2].observed_at
    assert record.window == () and record.recommendations == 1 and record.total_breaches == 3
    assert_valid_events(more)


def test_duplicates_and_other_alerts_do_not_count(ctx: Context) -> None:
    one = breach(ctx, "pl-dup", sh(2026, 3, 2, 10))
    warning_only = on_tick(
        run([b.filed("pl-w", sh(2026, 3, 2, 10))], ctx)[0], sh(2026, 3, 2, 22), ctx
    )  # type: ignore[arg-type]
    record, out = fold(ctx, [one, one, one, *warning_only.alerts])
    assert warning_only.alerts and out == []
    assert record is not None and record.total_breaches == 1


def test_breaches_outside_the_window_expire(ctx: Context) -> None:
    alerts = [
        breach(ctx, f"pl-old-{i}", sh(2026, 1, 5, 10) + timedelta(days=20 * i)) for i in range(3)
    ]
    record, out = fold(ctx, alerts)
    assert out == [] and record is not None and len(record.window) == 2
