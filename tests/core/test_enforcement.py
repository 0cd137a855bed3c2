"""The enforcement record: every legal and illegal transition of interviews, orders to
correct and penalties, and the order deadline on the rectification clock."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

import pytest

from agents.core.context import Context
from agents.core.enforcement import (
    EnforcementRecord,
    InterviewStatus,
    OrderStatus,
    UnsupportedEnforcementEventError,
    handle,
    on_tick,
    record_from_json,
    record_to_json,
    summary,
)
from schemas.models import (
    ClockTicked,
    EscalationRaised,
    Event,
    InterviewOutcome,
    InterviewRecommended,
    LegalBasis,
    Level,
    LifecycleViolationDetected,
    RefundPaid,
    Severity,
    SlaBreached,
    SlaWarningRaised,
    ViolationCode,
)

from .. import enforcement_events as ev
from .builders import sh
from .helpers import assert_valid_events

T0 = sh(2026, 6, 1, 10)
DEADLINE = sh(2026, 6, 11, 10)  # ten days: 50 % on 6 June 10:00, 75 % on 8 June 22:00


def run(ctx: Context, events: Iterable[Event]) -> tuple[EnforcementRecord, list[Event]]:
    record: EnforcementRecord | None = None
    out: list[Event] = []
    for event in events:
        decision = handle(record, event, ctx)
        record = decision.record
        out.extend(decision.outputs)
    assert record is not None
    assert_valid_events(out)
    return record, out


def tick(at: datetime) -> ClockTicked:
    return ClockTicked(
        event_id=f"tick-{at.isoformat()}", case_id="", platform_id="bureau", occurred_at=at,
        tick_at=at,
    )  # fmt: skip


def recommended(alert_id: str) -> InterviewRecommended:
    return InterviewRecommended(
        event_id=alert_id, case_id=ev.PLATFORM, platform_id=ev.PLATFORM, occurred_at=T0,
        alert_id=alert_id, rule_id="INTERVIEW_RECOMMENDED", severity=Severity.MAJOR,
        level=Level.DEPARTMENT, office=ev.OFFICE, subject=ev.PLATFORM, observed_at=T0,
        detail="3 breaches in 30 days", policy_version="SAMR-121", breach_count=3,
    )  # fmt: skip


def refused(out: list[Event]) -> list[tuple[ViolationCode, str]]:
    return [(a.violation, a.detail) for a in out if isinstance(a, LifecycleViolationDetected)]


# ---- interviews ---------------------------------------------------------------------------
def test_recommended_held_outcome(ctx: Context) -> None:
    record, out = run(
        ctx,
        [
            recommended("rec-1"),
            ev.held("iv-1", T0 + timedelta(days=2), recommendation_id="rec-1"),
            ev.outcome("iv-1", T0 + timedelta(days=3)),
        ],
    )
    assert out == []
    (interview,) = record.interviews
    assert interview.status is InterviewStatus.CONCLUDED
    assert interview.outcome is InterviewOutcome.COMMITMENTS_ACCEPTED
    assert interview.recommendation_id == "rec-1"
    assert record.recommendations == () and record.answered == ("rec-1",)
    view = summary(record)
    assert (view["interviews_held"], view["interviews_concluded"]) == (1, 1)
    assert view["interviews_recommended_open"] == 0


def test_recommendation_stays_open_until_an_interview_answers_it(ctx: Context) -> None:
    record, _ = run(ctx, [recommended("rec-1"), recommended("rec-1"), ev.held("iv-1", T0)])
    assert record.recommendations == ("rec-1",)  # the duplicate alert counted once
    assert summary(record)["interviews_recommended_open"] == 1
    assert record.interviews[0].recommendation_id is None  # held on the bureau's initiative


def test_outcome_escalated_to_order_names_the_order(ctx: Context) -> None:
    record, out = run(
        ctx,
        [
            ev.held("iv-1", T0),
            ev.outcome("iv-1", T0 + timedelta(days=1), InterviewOutcome.ESCALATED_TO_ORDER, "o-1"),
            ev.ordered("o-1", T0 + timedelta(days=1), DEADLINE),
        ],
    )
    assert out == []
    assert record.interviews[0].order_id == "o-1"
    assert record.order("o-1") is not None


def test_follow_up_required_is_an_outcome(ctx: Context) -> None:
    record, _ = run(
        ctx, [ev.held("iv-1", T0), ev.outcome("iv-1", T0, InterviewOutcome.FOLLOW_UP_REQUIRED)]
    )
    assert record.interviews[0].outcome is InterviewOutcome.FOLLOW_UP_REQUIRED


@pytest.mark.parametrize(
    ("events", "code", "words"),
    [
        ([ev.held("iv-1", T0), ev.held("iv-1", T0 + timedelta(hours=1))],
         ViolationCode.ILLEGAL_TRANSITION, "already held"),
        ([ev.outcome("iv-1", T0)], ViolationCode.UNKNOWN_CASE, "never held"),
        ([ev.held("iv-1", T0), ev.outcome("iv-1", T0), ev.outcome("iv-1", T0 + timedelta(1))],
         ViolationCode.ILLEGAL_TRANSITION, "already has its outcome"),
        ([recommended("rec-1"), ev.held("iv-1", T0, "rec-1"), ev.held("iv-2", T0, "rec-1")],
         ViolationCode.ILLEGAL_TRANSITION, "recommendation_id: rec-1 is already answered"),
    ],
    ids=["held-twice", "outcome-before-held", "outcome-twice", "recommendation-answered-twice"],
)  # fmt: skip
def test_illegal_interview_transitions(
    ctx: Context, events: list[Event], code: ViolationCode, words: str
) -> None:
    before, _ = run(ctx, events[:-1]) if events[:-1] else (None, [])
    record, out = run(ctx, events)
    ((got, detail),) = refused(out)
    assert got is code and words in detail
    assert record.refusal_count == 1 and record.refusals[0].event_id == events[-1].event_id
    if before is not None:  # the refused event changed nothing but the refusal log
        assert record.interviews == before.interviews


# ---- orders to correct ---------------------------------------------------------------------
def test_ordered_submitted_passed_closes_the_order_and_stops_the_clock(ctx: Context) -> None:
    record, out = run(
        ctx,
        [
            ev.ordered("o-1", T0, DEADLINE),
            ev.submitted("o-1", T0 + timedelta(days=2)),
            ev.verified("o-1", T0 + timedelta(days=3)),
            tick(DEADLINE + timedelta(days=30)),
        ],
    )
    assert out == []  # verified before 50 %: no warning, and no breach after it
    order = record.order("o-1")
    assert order is not None and order.status is OrderStatus.PASSED and order.clock is None
    view = summary(record)
    assert (view["orders_open"], view["orders_closed"], view["orders_overdue"]) == (0, 1, 0)
    assert view["orders"][0]["legal_basis"] == {"instrument": "ECL", "article": "第八十条"}


def test_the_order_clock_is_the_rectification_rule(ctx: Context) -> None:
    record, _ = run(ctx, [ev.ordered("o-1", T0, DEADLINE)])
    clock = record.orders[0].clock
    assert clock is not None
    assert (clock.rule_id, clock.unit.value, clock.due_at) == (
        "RECTIFICATION_DEADLINE", "fixed", DEADLINE,
    )  # fmt: skip
    assert clock.clock_id == "o-1/RECTIFICATION_DEADLINE#0"
    assert record.next_due_at == T0 + timedelta(days=5)  # the 50 % warning


def test_overdue_order_warns_breaches_and_escalates(ctx: Context) -> None:
    record, _ = run(ctx, [ev.ordered("o-1", T0, DEADLINE)])
    kinds: list[str] = []
    for at in (T0 + timedelta(days=5), T0 + timedelta(days=8), DEADLINE, DEADLINE + timedelta(1)):
        decision = on_tick(record, at, ctx)
        record = decision.record
        kinds += [type(a).__name__ for a in decision.outputs]
        assert_valid_events(decision.outputs)
    assert kinds == ["SlaWarningRaised", "SlaWarningRaised", "SlaBreached"]
    view = summary(record)
    assert (view["orders_open"], view["orders_overdue"]) == (1, 1)
    assert view["orders"][0]["overdue"] is True
    decision = on_tick(record, DEADLINE + timedelta(days=14), ctx)  # 5 working days later
    assert [type(a) for a in decision.outputs] == [EscalationRaised]
    assert decision.outputs[0].level is Level.LEADERSHIP


def test_breach_alert_names_the_order_and_its_office(ctx: Context) -> None:
    record, _ = run(ctx, [ev.ordered("o-1", T0, DEADLINE)])
    decision = on_tick(record, DEADLINE, ctx)
    breach = next(a for a in decision.outputs if isinstance(a, SlaBreached))
    assert (breach.case_id, breach.subject, breach.platform_id) == ("o-1", "o-1", ev.PLATFORM)
    assert breach.office == ev.OFFICE and breach.rule_id == "RECTIFICATION_DEADLINE"
    assert breach.due_at == DEADLINE
    # warnings overtaken by the breach are not raised, and a second tick raises nothing
    assert not any(isinstance(a, SlaWarningRaised) for a in decision.outputs)
    assert on_tick(decision.record, DEADLINE + timedelta(hours=1), ctx).outputs == ()


def test_rejection_restarts_the_deadline(ctx: Context) -> None:
    new_deadline = DEADLINE + timedelta(days=10)
    record, out = run(
        ctx,
        [
            ev.ordered("o-1", T0, DEADLINE),
            ev.submitted("o-1", T0 + timedelta(days=1)),
            tick(DEADLINE),  # overdue while the submission waits for its verdict
            ev.verified("o-1", DEADLINE + timedelta(hours=2), new_deadline=new_deadline),
        ],
    )
    assert [type(a) for a in out] == [SlaBreached]
    order = record.order("o-1")
    assert order is not None and order.status is OrderStatus.REJECTED
    assert order.deadline == new_deadline and order.rejections == 1 and order.breaches == 1
    assert order.clock is not None and order.clock.clock_id == "o-1/RECTIFICATION_DEADLINE#1"
    assert not order.overdue  # the new deadline has not passed
    late = [
        ev.submitted("o-1", new_deadline - timedelta(days=1)),
        ev.verified("o-1", new_deadline - timedelta(hours=1)),
    ]
    record, out = run_from(ctx, record, late)
    # the new deadline's warnings fire at the next event past them (the submission)
    assert [(type(a), a.due_at) for a in out] == [(SlaWarningRaised, new_deadline)] * 2
    order = record.order("o-1")
    assert order is not None and order.status is OrderStatus.PASSED and order.submissions == 2
    assert summary(record)["orders_closed"] == 1


def run_from(
    ctx: Context, record: EnforcementRecord, events: Iterable[Event]
) -> tuple[EnforcementRecord, list[Event]]:
    out: list[Event] = []
    for event in events:
        decision = handle(record, event, ctx)
        record, out = decision.record, [*out, *decision.outputs]
    return record, out


@pytest.mark.parametrize(
    ("events", "code", "words"),
    [
        ([ev.ordered("o-1", T0, DEADLINE), ev.ordered("o-1", T0 + timedelta(1), DEADLINE)],
         ViolationCode.ILLEGAL_TRANSITION, "already issued"),
        ([ev.submitted("o-1", T0)], ViolationCode.UNKNOWN_CASE, "never issued"),
        ([ev.verified("o-1", T0)], ViolationCode.UNKNOWN_CASE, "never issued"),
        ([ev.ordered("o-1", T0, DEADLINE), ev.verified("o-1", T0 + timedelta(1))],
         ViolationCode.ILLEGAL_TRANSITION, "while order o-1 is ORDERED"),
        ([ev.ordered("o-1", T0, DEADLINE), ev.submitted("o-1", T0 + timedelta(1)),
          ev.submitted("o-1", T0 + timedelta(2))],
         ViolationCode.ILLEGAL_TRANSITION, "not allowed while order o-1 is SUBMITTED"),
        ([ev.ordered("o-1", T0, DEADLINE), ev.submitted("o-1", T0 + timedelta(1)),
          ev.verified("o-1", T0 + timedelta(2)), ev.submitted("o-1", T0 + timedelta(3))],
         ViolationCode.ILLEGAL_TRANSITION, "submission is not allowed while order o-1 is PASSED"),
        ([ev.ordered("o-1", T0, DEADLINE), ev.submitted("o-1", T0 + timedelta(1)),
          ev.verified("o-1", T0 + timedelta(2)), ev.verified("o-1", T0 + timedelta(3))],
         ViolationCode.ILLEGAL_TRANSITION, "verdict is not allowed while order o-1 is PASSED"),
        ([ev.ordered("o-1", T0, DEADLINE), ev.submitted("o-1", T0 + timedelta(1)),
          ev.verified("o-1", T0 + timedelta(2), DEADLINE + timedelta(5)),
          ev.verified("o-1", T0 + timedelta(3))],
         ViolationCode.ILLEGAL_TRANSITION, "verdict is not allowed while order o-1 is REJECTED"),
        ([ev.ordered("o-1", T0, DEADLINE, LegalBasis(instrument="NO-SUCH", article="1"))],
         ViolationCode.ILLEGAL_TRANSITION, "legal_basis.instrument: 'NO-SUCH'"),
    ],
    ids=["ordered-twice", "submit-unknown", "verify-unknown", "verify-before-submit",
         "submit-twice", "submit-after-passed", "verify-after-passed",
         "verify-after-rejected", "unknown-instrument"],
)  # fmt: skip
def test_illegal_order_transitions(
    ctx: Context, events: list[Event], code: ViolationCode, words: str
) -> None:
    before = run(ctx, events[:-1])[0] if len(events) > 1 else None
    record, out = run(ctx, events)
    ((got, detail),) = refused(out)
    assert got is code and words in detail, detail
    assert record.refusal_count == 1
    if before is not None:
        assert record.orders == before.orders
    violation = next(a for a in out if isinstance(a, LifecycleViolationDetected))
    assert violation.case_id == "o-1" and violation.offending_event_id == events[-1].event_id


# ---- penalties -----------------------------------------------------------------------------
def test_penalties_are_recorded_and_summed(ctx: Context) -> None:
    record, out = run(
        ctx,
        [ev.penalty("p-1", T0, 5_000_000), ev.penalty("p-2", T0 + timedelta(1), 1_234_567)],
    )
    assert out == []
    view = summary(record)
    assert (view["penalties"], view["penalty_total_fen"]) == (2, 6_234_567)
    assert view["penalty_decisions"][0]["legal_basis"] == {
        "instrument": "SAIC-ORDER-73", "article": "第九条",
    }  # fmt: skip


@pytest.mark.parametrize(
    ("events", "words"),
    [
        ([ev.penalty("p-1", T0), ev.penalty("p-1", T0 + timedelta(1))], "already decided"),
        ([ev.penalty("p-1", T0, decision_no="N1"), ev.penalty("p-2", T0, decision_no="N1")],
         "decision_no: N1 is already recorded"),
        ([ev.penalty("p-1", T0, basis=LegalBasis(instrument="X", article="1"))],
         "legal_basis.instrument: 'X'"),
    ],
    ids=["decided-twice", "same-decision-number", "unknown-instrument"],
)  # fmt: skip
def test_illegal_penalties(ctx: Context, events: list[Event], words: str) -> None:
    record, out = run(ctx, events)
    ((code, detail),) = refused(out)
    assert code is ViolationCode.ILLEGAL_TRANSITION and words in detail
    assert len(record.penalties) == len(events) - 1


# ---- bookkeeping ---------------------------------------------------------------------------
def test_a_duplicate_event_is_applied_once(ctx: Context) -> None:
    order = ev.ordered("o-1", T0, DEADLINE)
    record, _ = run(ctx, [order, ev.submitted("o-1", T0 + timedelta(1))])
    decision = handle(record, order, ctx)
    assert decision.record == record and decision.outputs == () and not decision.applied


def test_a_non_enforcement_event_is_a_plumbing_error(ctx: Context) -> None:
    paid = RefundPaid(
        event_id="x", case_id="r-1", platform_id=ev.PLATFORM, occurred_at=T0, amount_fen=1,
        channel="alipay", payment_ref="p",
    )  # fmt: skip
    with pytest.raises(UnsupportedEnforcementEventError):
        handle(None, paid, ctx)


def test_json_round_trip_keeps_everything(ctx: Context) -> None:
    record, _ = run(
        ctx,
        [
            recommended("rec-1"),
            ev.held("iv-1", T0, "rec-1"),
            ev.outcome("iv-1", T0, InterviewOutcome.ESCALATED_TO_ORDER, "o-1"),
            ev.ordered("o-1", T0, DEADLINE),
            ev.submitted("o-1", T0 + timedelta(1)),
            ev.submitted("o-1", T0 + timedelta(2)),  # refused: kept in the refusal log
            tick(T0 + timedelta(days=6)),
            ev.penalty("p-1", T0),
        ],
    )
    again = record_from_json(record_to_json(record))
    assert again == record
    assert summary(again) == summary(record)
