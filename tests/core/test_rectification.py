"""Rectification: the order's deadline as a clock, resubmission, overdue and escalation."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import pytest

from agents.core.context import Context
from agents.core.engine import handle, on_tick
from agents.core.rectification import RectificationState, RectificationStatus
from schemas.models import (
    EscalationRaised,
    Event,
    Level,
    SlaBreached,
    SlaClockStarted,
    SlaWarningRaised,
    ViolationCode,
)

from . import builders as b
from .builders import OFFICE, sh
from .helpers import assert_valid_events, clock_log, outputs, run, violations

FOUND = sh(2026, 3, 2, 10)
ORDERED = sh(2026, 3, 2, 11)
DEADLINE = sh(2026, 3, 12, 18)


def test_ordered_submitted_verified_in_time(ctx: Context) -> None:
    c = "rc-ok"
    state, decisions = run(
        [
            b.finding(c, FOUND),
            b.ordered(c, ORDERED, DEADLINE),
            b.submitted(c, sh(2026, 3, 5, 10)),
            b.verified(c, sh(2026, 3, 6, 10)),
        ],
        ctx,
    )
    out = outputs(decisions)
    assert clock_log(out) == [
        ("SlaClockStarted", "RECTIFICATION_DEADLINE"),
        ("SlaClockMet", "RECTIFICATION_DEADLINE"),
    ]
    start = out[0]
    assert isinstance(start, SlaClockStarted) and start.due_at == DEADLINE
    assert isinstance(state, RectificationState) and state.status is RectificationStatus.VERIFIED
    assert state.office == OFFICE and state.submissions == 1
    assert_valid_events(out)


def test_overdue_without_verification_breaches_then_escalates(ctx: Context) -> None:
    c = "rc-late"
    state, _ = run(
        [b.finding(c, FOUND), b.ordered(c, ORDERED, DEADLINE), b.submitted(c, sh(2026, 3, 4))],
        ctx,
    )
    assert state is not None
    seen: list[tuple[datetime, str, Level]] = []
    half = ORDERED + (DEADLINE - ORDERED) / 2
    for t in (half, DEADLINE, sh(2026, 3, 19, 23), sh(2026, 3, 20)):
        d = on_tick(state, t, ctx)
        state = d.state
        seen += [(t, type(a).__name__, a.level) for a in d.alerts]
    assert seen == [
        (half, "SlaWarningRaised", Level.OFFICE),
        (DEADLINE, "SlaBreached", Level.DEPARTMENT),  # 75 % overtaken by the breach
        (sh(2026, 3, 20), "EscalationRaised", Level.LEADERSHIP),  # 13, 16, 17, 18, 19
    ]
    assert d.alerts[0].department == "NETWORK_TRADING"


def test_rejection_with_new_deadline_resets_the_clock(ctx: Context) -> None:
    c = "rc-reset"
    new_deadline = sh(2026, 3, 20, 18)
    state, decisions = run(
        [
            b.finding(c, FOUND),
            b.ordered(c, ORDERED, DEADLINE),
            b.submitted(c, sh(2026, 3, 5)),
            b.rejected(c, sh(2026, 3, 6), new_deadline=new_deadline),
            b.submitted(c, sh(2026, 3, 9)),
            b.rejected(c, sh(2026, 3, 10)),  # no new deadline: clock keeps running
            b.submitted(c, sh(2026, 3, 11)),
            b.verified(c, sh(2026, 3, 12)),
        ],
        ctx,
    )
    assert clock_log(decisions[3].outputs) == [
        ("SlaClockCancelled", "RECTIFICATION_DEADLINE"),
        ("SlaClockStarted", "RECTIFICATION_DEADLINE"),
    ]
    restarted = decisions[3].outputs[1]
    assert isinstance(restarted, SlaClockStarted)
    assert restarted.clock_id == f"{c}/RECTIFICATION_DEADLINE#1"
    assert restarted.due_at == new_deadline
    assert decisions[5].outputs == []
    assert clock_log(decisions[7].outputs) == [("SlaClockMet", "RECTIFICATION_DEADLINE")]
    assert isinstance(state, RectificationState)
    assert (state.submissions, state.rejections, state.deadline) == (3, 2, new_deadline)
    assert violations(outputs(decisions)) == []


def test_deadline_already_past_when_ordered_breaches_at_once(ctx: Context) -> None:
    _, decisions = run([b.finding("rc-past", FOUND), b.ordered("rc-past", ORDERED, FOUND)], ctx)
    alerts = decisions[1].alerts
    assert [type(a) for a in alerts] == [SlaBreached]
    assert not any(isinstance(a, SlaWarningRaised | EscalationRaised) for a in alerts)


Step = Callable[[str, datetime], Event]
STEPS: dict[str, Step] = {
    "finding": b.finding,
    "ordered": lambda c, t: b.ordered(c, t, DEADLINE),
    "submitted": b.submitted,
    "verified": b.verified,
    "rejected": lambda c, t: b.rejected(c, t),
}
PATHS = {
    RectificationStatus.FINDING: ["finding"],
    RectificationStatus.ORDERED: ["finding", "ordered"],
    RectificationStatus.SUBMITTED: ["finding", "ordered", "submitted"],
    RectificationStatus.REJECTED: ["finding", "ordered", "submitted", "rejected"],
    RectificationStatus.VERIFIED: ["finding", "ordered", "submitted", "verified"],
}
LEGAL = {
    RectificationStatus.FINDING: {"ordered"},
    RectificationStatus.ORDERED: {"submitted"},
    RectificationStatus.SUBMITTED: {"verified", "rejected"},
    RectificationStatus.REJECTED: {"submitted"},
    RectificationStatus.VERIFIED: set(),
}


@pytest.mark.parametrize("status", list(PATHS))
@pytest.mark.parametrize("name", list(STEPS))
def test_every_transition(ctx: Context, status: RectificationStatus, name: str) -> None:
    c = f"rc-{status}-{name}"
    before, _ = run([STEPS[n](c, FOUND) for n in PATHS[status]], ctx)
    assert isinstance(before, RectificationState) and before.status is status
    d = handle(before, STEPS[name](c, ORDERED), ctx)
    assert isinstance(d.state, RectificationState)
    if name in LEGAL[status]:
        assert violations(d.outputs) == [] and d.state.violation_count == 0
    else:
        assert violations(d.outputs) == [ViolationCode.ILLEGAL_TRANSITION]
        assert d.state.status is status and d.state.violation_count == 1


def test_unknown_rectification_case(ctx: Context) -> None:
    d = handle(None, b.submitted("rc-ghost", FOUND), ctx)
    assert d.state is None and violations(d.outputs) == [ViolationCode.UNKNOWN_CASE]
