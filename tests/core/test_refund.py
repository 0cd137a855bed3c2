"""Refund three-step flow: deadlines for review and payment, and every payment violation."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from agents.core.context import Context
from agents.core.engine import handle, on_tick
from agents.core.refund import RefundState, RefundStatus
from schemas.models import (
    Event,
    Level,
    ReviewDecision,
    Severity,
    SlaBreached,
    SlaClockStarted,
    ViolationCode,
)

from . import builders as b
from .builders import sh
from .helpers import alerts_of, assert_valid_events, clock_log, outputs, run, violations

REQ = sh(2026, 3, 2, 10)
GOODS = sh(2026, 3, 2, 9)
APPROVED = ReviewDecision.APPROVED
PARTLY = ReviewDecision.PARTLY_APPROVED
REJECTED = ReviewDecision.REJECTED


def test_three_steps_with_goods_received(ctx: Context) -> None:
    c = "rf-ok"
    state, decisions = run(
        [
            b.requested(c, REQ, goods_received_at=GOODS),
            b.reviewed(c, sh(2026, 3, 4, 10), APPROVED),
            b.paid(c, sh(2026, 3, 5, 10)),
        ],
        ctx,
    )
    out = outputs(decisions)
    assert_valid_events(out)
    assert clock_log(out) == [
        ("SlaClockStarted", "REFUND_REVIEW"),
        ("SlaClockStarted", "REFUND_PAYMENT"),
        ("SlaClockStarted", "REFUND_DELIBERATE_DELAY"),
        ("SlaClockMet", "REFUND_REVIEW"),
        ("SlaClockMet", "REFUND_PAYMENT"),
        ("SlaClockMet", "REFUND_DELIBERATE_DELAY"),
    ]
    starts = {e.sla_id: e for e in out if isinstance(e, SlaClockStarted)}
    assert starts["REFUND_REVIEW"].due_at == sh(2026, 3, 10)
    assert starts["REFUND_PAYMENT"].started_at == GOODS
    assert starts["REFUND_PAYMENT"].due_at == sh(2026, 3, 10)
    assert starts["REFUND_DELIBERATE_DELAY"].due_at == sh(2026, 3, 18)
    assert isinstance(state, RefundState)
    assert (state.status, state.decision, state.approved_fen, state.paid_fen) == (
        RefundStatus.PAID,
        APPROVED,
        10_000,
        10_000,
    )
    assert violations(out) == [] and state.clocks == ()


def test_payment_clock_starts_at_approval_when_goods_not_returned(ctx: Context) -> None:
    c = "rf-nogoods"
    _, decisions = run([b.requested(c, REQ), b.reviewed(c, sh(2026, 3, 4, 10), PARTLY, 6_000)], ctx)
    assert clock_log(decisions[0].outputs) == [("SlaClockStarted", "REFUND_REVIEW")]
    starts = {e.sla_id: e for e in decisions[1].outputs if isinstance(e, SlaClockStarted)}
    assert starts["REFUND_PAYMENT"].due_at == sh(2026, 3, 12)
    assert starts["REFUND_DELIBERATE_DELAY"].due_at == sh(2026, 3, 20)


def test_rejection_cancels_payment_clocks(ctx: Context) -> None:
    c = "rf-rej"
    state, decisions = run(
        [b.requested(c, REQ, goods_received_at=GOODS), b.reviewed(c, REQ, REJECTED, 0)], ctx
    )
    assert clock_log(decisions[1].outputs) == [
        ("SlaClockMet", "REFUND_REVIEW"),
        ("SlaClockCancelled", "REFUND_PAYMENT"),
        ("SlaClockCancelled", "REFUND_DELIBERATE_DELAY"),
    ]
    assert isinstance(state, RefundState) and state.clocks == () and state.approved_fen == 0


def test_unpaid_after_15_days_is_a_critical_violation_of_order_73(ctx: Context) -> None:
    c = "rf-late"
    state, _ = run(
        [b.requested(c, REQ, goods_received_at=GOODS), b.reviewed(c, REQ, APPROVED)], ctx
    )
    assert state is not None
    seen = []
    for t in (sh(2026, 3, 6, 11), sh(2026, 3, 6, 12), sh(2026, 3, 8, 6), sh(2026, 3, 10)):
        d = on_tick(state, t, ctx)
        state = d.state
        seen += [(t, type(a).__name__, a.rule_id, a.severity) for a in d.alerts]
    assert seen == [
        (sh(2026, 3, 6, 12), "SlaWarningRaised", "REFUND_PAYMENT", Severity.INFO),  # 3.5 days
        (sh(2026, 3, 8, 6), "SlaWarningRaised", "REFUND_PAYMENT", Severity.WARNING),  # 5.25
        (sh(2026, 3, 10), "SlaBreached", "REFUND_PAYMENT", Severity.MAJOR),
    ]
    assert state is not None
    d = on_tick(state, sh(2026, 3, 17, 23, 59), ctx)
    assert d.alerts == []  # the 15-day rule has no warnings
    d = on_tick(d.state, sh(2026, 3, 18), ctx)  # type: ignore[arg-type]
    # the payment breach (due 03-10) is still open 5 working days later (11,12,13,16,17)
    escalation, breach = d.alerts
    assert (type(escalation).__name__, escalation.rule_id) == ("EscalationRaised", "REFUND_PAYMENT")
    assert isinstance(breach, SlaBreached)
    assert (breach.rule_id, breach.severity, breach.level) == (
        "REFUND_DELIBERATE_DELAY",
        Severity.CRITICAL,
        Level.DEPARTMENT,
    )
    assert breach.office == "UNASSIGNED"  # RefundRequested names no office


def test_review_deadline_breaches(ctx: Context) -> None:
    d = handle(None, b.requested("rf-slow", REQ), ctx)
    assert d.state is not None
    late = on_tick(d.state, sh(2026, 3, 10), ctx)
    assert [a.rule_id for a in late.alerts if isinstance(a, SlaBreached)] == ["REFUND_REVIEW"]


Script = Callable[[str], list[Event]]
CASES: dict[str, tuple[Script, list[ViolationCode]]] = {
    "paid before approval": (
        lambda c: [b.requested(c, REQ), b.paid(c, REQ)],
        [ViolationCode.PAID_BEFORE_APPROVAL],
    ),
    "paid above approved": (
        lambda c: [b.requested(c, REQ), b.reviewed(c, REQ, PARTLY, 6_000), b.paid(c, REQ, 8_000)],
        [ViolationCode.PAID_ABOVE_APPROVED],
    ),
    "paid twice": (
        lambda c: [
            b.requested(c, REQ),
            b.reviewed(c, REQ, APPROVED),
            b.paid(c, REQ, 5_000),
            b.paid(c, REQ, 5_000),
        ],
        [ViolationCode.PAID_TWICE],
    ),
    "paid twice and above approved": (
        lambda c: [
            b.requested(c, REQ),
            b.reviewed(c, REQ, APPROVED),
            b.paid(c, REQ),
            b.paid(c, REQ),
        ],
        [ViolationCode.PAID_TWICE, ViolationCode.PAID_ABOVE_APPROVED],
    ),
    "reviewed twice": (
        lambda c: [
            b.requested(c, REQ),
            b.reviewed(c, REQ, APPROVED),
            b.reviewed(c, REQ, REJECTED, 0),
        ],
        [ViolationCode.REVIEWED_TWICE],
    ),
    "paid after rejection": (
        lambda c: [b.requested(c, REQ), b.reviewed(c, REQ, REJECTED, 0), b.paid(c, REQ)],
        [ViolationCode.PAID_AFTER_REJECTION],
    ),
    "requested twice": (
        lambda c: [b.requested(c, REQ), b.requested(c, REQ)],
        [ViolationCode.ILLEGAL_TRANSITION],
    ),
}


@pytest.mark.parametrize("name", list(CASES))
def test_every_refund_violation(ctx: Context, name: str) -> None:
    script, expected = CASES[name]
    c = "rf-" + name.replace(" ", "-")
    state, decisions = run(script(c), ctx)
    out = outputs(decisions)
    assert violations(out) == expected
    assert_valid_events(out)
    assert isinstance(state, RefundState)
    assert [v.code for v in state.violations] == expected
    for alert in alerts_of(out):
        assert alert.subject == c and alert.level in (Level.OFFICE, Level.DEPARTMENT)


def test_reviewed_twice_keeps_first_decision(ctx: Context) -> None:
    c = "rf-rr"
    state, _ = run(CASES["reviewed twice"][0](c), ctx)
    assert isinstance(state, RefundState) and state.decision is APPROVED
    assert state.approved_fen == 10_000


def test_payment_is_applied_even_when_wrong(ctx: Context) -> None:
    state, _ = run(CASES["paid after rejection"][0]("rf-money"), ctx)
    assert isinstance(state, RefundState) and state.paid_fen == 10_000 and state.payments == 1


def test_unknown_refund_case(ctx: Context) -> None:
    d = handle(None, b.paid("rf-ghost", REQ), ctx)
    assert d.state is None and violations(d.outputs) == [ViolationCode.UNKNOWN_CASE]
