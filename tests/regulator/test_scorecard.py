"""The pure scorecard logic: windows, rates, the surge and settlement tests, the facts fold."""

from __future__ import annotations

import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agents.core import Context, handle
from agents.scorecard import (
    COMPLAINTS,
    METRICS,
    RESOLVED,
    SETTLED,
    WIDTH,
    ComplaintFacts,
    SignalsPolicy,
    Window,
    add_into,
    fold_complaint,
    prune,
    rates,
    scorecard,
    settlement_alert,
    settlement_check,
    surge_alert,
    surge_check,
    week_start,
    window_bounds,
)
from schemas.models import (
    Channel,
    ComplaintFiled,
    Outcome,
    RiskSignalRaised,
    Satisfaction,
)
from streams.codec import EventCodec
from tests.core import builders as b

ROOT = Path(__file__).resolve().parents[2]
POLICY = SignalsPolicy.load()


def vec(**counts: int) -> list[int]:
    v = [0] * WIDTH
    for name, n in counts.items():
        v[METRICS.index(name)] = n
    return v


def weekly(counts: list[int], first_monday: date) -> dict[str, list[int]]:
    """Day buckets with each week's complaints on its Wednesday."""
    days: dict[str, list[int]] = {}
    for i, n in enumerate(counts):
        if n:
            day = first_monday + timedelta(weeks=i, days=2)
            days[day.isoformat()] = vec(complaints=n)
    return days


MONDAY = date(2025, 6, 2)


def test_window_bounds() -> None:
    thursday = date(2025, 6, 5)
    assert window_bounds(Window.DAY, thursday) == (thursday, thursday)
    assert window_bounds(Window.WEEK, thursday) == (MONDAY, date(2025, 6, 8))
    assert window_bounds(Window.D30, thursday) == (date(2025, 5, 7), thursday)
    assert week_start(date(2025, 6, 8)) == MONDAY  # Sunday belongs to the week before it


def test_scorecard_sums_the_window_and_divides_safely() -> None:
    days: dict[str, list[int]] = {}
    add_into(days, "2025-06-02", vec(complaints=4, forwarded=4, responded_in_time=3), 1)
    add_into(days, "2025-06-03", vec(complaints=1, forwarded=1, resolved=2, settled=1), 1)
    add_into(days, "2025-05-01", vec(complaints=7), 1)  # outside the week
    card = scorecard("alpha", days, Window.WEEK, date(2025, 6, 4))
    assert card.counts["complaints"] == 5
    assert card.rates["response_rate"] == pytest.approx(3 / 5)
    assert card.rates["settlement_rate"] == pytest.approx(0.5)
    assert card.rates["satisfaction_rate"] is None  # no feedback: no rate, not 0
    assert card.to_json()["kind"] == "platform"
    assert scorecard("category:OTHER", days, Window.DAY, MONDAY).to_json()["subject"] == "OTHER"


def test_adding_and_removing_a_contribution_leaves_no_bucket() -> None:
    days: dict[str, list[int]] = {}
    add_into(days, "2025-06-02", vec(complaints=1), 1)
    add_into(days, "2025-06-02", vec(complaints=1), -1)
    assert days == {}
    add_into(days, "2025-01-02", vec(complaints=1), 1)
    add_into(days, "2025-06-02", vec(complaints=1), 1)
    prune(days, date(2025, 3, 1))
    assert list(days) == ["2025-06-02"]


def test_rates_are_none_without_a_denominator() -> None:
    assert set(rates([0] * WIDTH).values()) == {None}


# ---- surge ------------------------------------------------------------------------------
W0 = MONDAY - timedelta(weeks=4)


@pytest.mark.parametrize(
    ("history", "expected"),
    [
        ([2, 2, 2, 2, 12], True),  # 12 ≥ max(10, 1.5 × 2)
        ([10, 10, 10, 10, 11], False),  # steady: 11 < 1.5 × 10
        ([10, 10, 10, 10, 15], True),  # exactly 1.5 × the mean
        ([1, 1, 1, 1, 9], False),  # a big rise, but under the minimum count
        ([0, 0, 0, 1, 10], True),  # a near-empty baseline is floored at 1, not divided by 0
    ],
)
def test_surge_test(history: list[int], expected: bool) -> None:
    days = weekly(history, W0)
    check = surge_check(days, W0, MONDAY, POLICY.surge)
    assert check.count == history[-1]
    assert check.baseline == pytest.approx(sum(history[:4]) / 4)
    assert check.triggered is expected


def test_a_new_subject_is_not_compared_with_weeks_before_it_existed() -> None:
    days = weekly([0, 0, 0, 0, 40], W0)
    assert not surge_check(days, MONDAY + timedelta(days=2), MONDAY, POLICY.surge).triggered
    # with data in the first baseline week the same jump is a surge
    assert surge_check(days, W0 + timedelta(days=6), MONDAY, POLICY.surge).triggered


def test_signal_ids_come_from_rule_subject_and_window() -> None:
    days = weekly([2, 2, 2, 2, 12], W0)
    check = surge_check(days, W0, MONDAY, POLICY.surge)
    at = b.sh(2025, 6, 6, 12)
    one = surge_alert("alpha", check, POLICY, "SAMR-20", at)
    again = surge_alert("alpha", check, POLICY, "SAMR-20", at + timedelta(hours=5))
    other_week = surge_alert(
        "alpha", surge_check(days, W0, MONDAY + timedelta(weeks=1), POLICY.surge), POLICY,
        "SAMR-20", at,
    )  # fmt: skip
    assert one.alert_id == again.alert_id == one.event_id
    assert other_week.alert_id != one.alert_id
    assert surge_alert("category:OTHER", check, POLICY, "SAMR-20", at).platform_id == "bureau"
    codec = EventCodec()  # the signal is a valid event on the wire
    _key, value, headers = codec.encode(one, "/bureau/regulator")
    assert codec.decode(value, headers) == one
    assert isinstance(one, RiskSignalRaised) and one.signal == "SURGE"
    assert one.level.value == "DEPARTMENT" and one.metric == 12.0


# ---- settlement ---------------------------------------------------------------------------
def test_settlement_below_target_needs_enough_resolutions() -> None:
    end = date(2025, 6, 5)
    days = {"2025-05-20": vec(resolved=20, settled=16), "2025-04-01": vec(resolved=50)}
    check = settlement_check(days, end, POLICY.settlement)
    assert (check.start, check.resolved, check.settled) == (date(2025, 5, 7), 20, 16)
    assert check.rate == pytest.approx(0.8) and check.low
    assert not settlement_check({"2025-05-20": vec(resolved=19, settled=1)}, end,
                                POLICY.settlement).low  # fmt: skip
    assert not settlement_check({"2025-05-20": vec(resolved=20, settled=17)}, end,
                                POLICY.settlement).low  # 85 % is on target  # fmt: skip
    alert = settlement_alert("beta", check, POLICY, "SAMR-20", b.sh(2025, 6, 6))
    assert alert.signal == "SETTLEMENT_BELOW_TARGET" and alert.threshold == 0.85
    assert "80.0%" in alert.detail


def test_the_policy_file_loads_and_refuses_nonsense(tmp_path: Path) -> None:
    assert POLICY.surge.factor == 1.5 and POLICY.settlement.target == 0.85
    bad = tmp_path / "signals.yaml"
    bad.write_text(
        (ROOT / "agents/policy/signals.yaml").read_text().replace("keep_days: 70", "keep_days: 7")
    )
    with pytest.raises(ValueError, match="keep_days"):
        SignalsPolicy.load(bad)


# ---- the facts fold agrees with the core ------------------------------------------------------
_STEPS = ["forwarded", "acknowledged", "suspend", "resumed", "resolved", "feedback", "reopened",
          "escalated", "filed"]  # fmt: skip


@settings(max_examples=150, deadline=None)
@given(
    channel=st.sampled_from([Channel.HOTLINE_12345, Channel.PLATFORM_APP]),
    steps=st.lists(st.sampled_from(_STEPS), max_size=9),
    outcome=st.sampled_from(list(Outcome)),
    dup=st.booleans(),
)
def test_fold_applies_exactly_what_the_core_applies(
    ctx: Context, channel: Channel, steps: list[str], outcome: Outcome, dup: bool
) -> None:
    at = b.sh(2025, 6, 2, 9)
    events = [b.filed("C-1", at, channel=channel)]
    for i, step in enumerate(steps, 1):
        t = at + timedelta(hours=i)
        if step == "suspend":
            events.append(b.suspended("C-1", t, b.SuspendReason.TESTING))
        elif step == "resolved":
            events.append(b.resolved("C-1", t, outcome))
        elif step == "filed":
            events.append(b.filed("C-1", t, channel=channel))
        else:
            events.append(getattr(b, step)("C-1", t))
        if dup:
            events.append(events[-1])  # a redelivered event changes nothing
    state, facts, applied = None, None, set()
    codec = EventCodec()
    for event in events:
        state = handle(state, event, ctx).state
        if event.event_id in applied:
            continue  # the processor skips ids it has applied (see test_pipeline)
        applied.add(event.event_id)
        facts = fold_complaint(facts, *codec.decode_raw(codec.encode_value(event)))
    assert facts is not None
    assert facts.status is state.status
    assert facts.outcome == (state.outcome.value if state.outcome else None)
    assert facts.satisfaction == (state.satisfaction.value if state.satisfaction else None)


def test_contribution_counts_one_complaint() -> None:
    codec = EventCodec()
    facts = None
    filed = b.filed("C-2", b.sh(2025, 6, 2, 23, 30), channel=Channel.PLATFORM_APP,
                    intake_at=b.sh(2025, 6, 1, 23, 30))  # fmt: skip
    assert isinstance(filed, ComplaintFiled)
    for event in (filed, b.acknowledged("C-2", b.sh(2025, 6, 3)),
                  b.resolved("C-2", b.sh(2025, 6, 4), Outcome.SETTLED),
                  b.feedback("C-2", b.sh(2025, 6, 5))):  # fmt: skip
        facts = fold_complaint(facts, *codec.decode_raw(codec.encode_value(event)))
    assert facts is not None
    day, v = facts.contribution()
    assert day == "2025-06-01"  # the intake date in Beijing, not the UTC date
    assert v == vec(complaints=1, forwarded=1, responded_in_time=1, resolved=1, settled=1,
                    feedback=1, satisfied=1, resolved_at_visit=1)  # fmt: skip
    assert facts.mark_ack_breached() and not facts.mark_ack_breached()
    assert facts.contribution()[1][METRICS.index("responded_in_time")] == 0
    assert ComplaintFacts.from_json(facts.to_json()) == facts
    assert b.feedback("x", b.sh(2025, 6, 5)).satisfaction is Satisfaction.SATISFIED
    assert v[COMPLAINTS] == v[RESOLVED] == v[SETTLED] == 1


def test_the_pure_modules_load_no_stream_framework() -> None:
    code = (
        "import sys, agents.scorecard, agents.scorecard_processors\n"
        "bad = [m for m in sys.modules if m.split('.')[0] in ('faust', 'aiokafka', 'kafka')]\n"
        "assert not bad, bad\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)
