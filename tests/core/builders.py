"""Event builders and time helpers for the pure core tests (manual time, no sleeps)."""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from agents.core import engine
from agents.core.engine import CaseState, Context
from schemas.models import (
    Category,
    Channel,
    ClockTicked,
    ComplaintAcknowledged,
    ComplaintEscalated,
    ComplaintFeedbackRecorded,
    ComplaintFiled,
    ComplaintForwarded,
    ComplaintReopened,
    ComplaintResolved,
    ComplaintResumed,
    ComplaintSuspended,
    Event,
    InspectionFindingRecorded,
    Level,
    Outcome,
    Priority,
    RectificationOrdered,
    RectificationRejected,
    RectificationSubmitted,
    RectificationVerified,
    RefundPaid,
    RefundRequested,
    RefundReviewed,
    ReviewDecision,
    Satisfaction,
    SuspendReason,
)

SH = ZoneInfo("Asia/Shanghai")
PLATFORM = "meituan"
OFFICE = "HD-ZGC"
_ids = itertools.count()


def sh(y: int, m: int, d: int, h: int = 0, mi: int = 0) -> datetime:
    """A Beijing wall-clock time as a UTC instant."""
    return datetime(y, m, d, h, mi, tzinfo=SH).astimezone(UTC)


def hours(n: float) -> timedelta:
    return timedelta(hours=n)


def eid() -> str:
    return f"ev-{next(_ids)}"


def common(case: str, at: datetime) -> dict[str, object]:
    return {"event_id": eid(), "case_id": case, "platform_id": PLATFORM, "occurred_at": at}


# ---- complaints --------------------------------------------------------------------------
def filed(
    case: str,
    at: datetime,
    *,
    channel: Channel = Channel.HOTLINE_12345,
    priority: Priority = Priority.NORMAL,
    category: Category = Category.DELIVERY_GOODS_DAMAGE,
    intake_at: datetime | None = None,
    policy_rule_version: str | None = None,
) -> ComplaintFiled:
    return ComplaintFiled(
        **common(case, at),
        channel=channel,
        category=category,
        priority=priority,
        claimed_amount_fen=12_000,
        insured=False,
        office=OFFICE,
        consumer_ref="anon-7f3a",
        intake_at=intake_at or at,
        policy_rule_version=policy_rule_version,
    )


def forwarded(case: str, at: datetime) -> ComplaintForwarded:
    return ComplaintForwarded(**common(case, at), forwarded_by="12345-center")


def acknowledged(case: str, at: datetime) -> ComplaintAcknowledged:
    return ComplaintAcknowledged(**common(case, at), handler_ref="agent-1")


def suspended(case: str, at: datetime, reason: SuspendReason) -> ComplaintSuspended:
    return ComplaintSuspended(**common(case, at), reason=reason)


def resumed(case: str, at: datetime) -> ComplaintResumed:
    return ComplaintResumed(**common(case, at))


def escalated(case: str, at: datetime, level: Level = Level.DEPARTMENT) -> ComplaintEscalated:
    return ComplaintEscalated(**common(case, at), level=level, reason="consumer insists")


def resolved(case: str, at: datetime, outcome: Outcome = Outcome.SETTLED) -> ComplaintResolved:
    return ComplaintResolved(**common(case, at), outcome=outcome, compensation_fen=5_000)


def feedback(case: str, at: datetime) -> ComplaintFeedbackRecorded:
    return ComplaintFeedbackRecorded(**common(case, at), satisfaction=Satisfaction.SATISFIED)


def reopened(case: str, at: datetime) -> ComplaintReopened:
    return ComplaintReopened(**common(case, at), reason="not actually settled")


# ---- refunds -----------------------------------------------------------------------------
def requested(
    case: str, at: datetime, amount: int = 10_000, goods_received_at: datetime | None = None
) -> RefundRequested:
    return RefundRequested(
        **common(case, at),
        order_ref="order-1",
        amount_fen=amount,
        reason="damaged",
        goods_received_at=goods_received_at,
    )


def reviewed(
    case: str, at: datetime, decision: ReviewDecision, approved: int = 10_000
) -> RefundReviewed:
    return RefundReviewed(**common(case, at), decision=decision, approved_amount_fen=approved)


def paid(case: str, at: datetime, amount: int = 10_000) -> RefundPaid:
    return RefundPaid(**common(case, at), amount_fen=amount, channel="alipay", payment_ref=eid())


# ---- rectifications ----------------------------------------------------------------------
def finding(case: str, at: datetime) -> InspectionFindingRecorded:
    return InspectionFindingRecorded(
        **common(case, at),
        spot_check_id="sc-2026-03",
        live_room_ref="room-9",
        negative_list_code="NL-01",
        evidence_refs=["ev://1"],
        inspecting_unit="network-trading",
        office=OFFICE,
    )


def ordered(case: str, at: datetime, deadline: datetime) -> RectificationOrdered:
    return RectificationOrdered(
        **common(case, at), deadline=deadline, required_actions=["fix"], ordering_unit="NT"
    )


def submitted(case: str, at: datetime) -> RectificationSubmitted:
    return RectificationSubmitted(**common(case, at), evidence_refs=["ev://2"])


def verified(case: str, at: datetime) -> RectificationVerified:
    return RectificationVerified(**common(case, at), verified_by="inspector-2")


def rejected(
    case: str, at: datetime, new_deadline: datetime | None = None
) -> RectificationRejected:
    return RectificationRejected(**common(case, at), reason="incomplete", new_deadline=new_deadline)


def tick(at: datetime) -> ClockTicked:
    return ClockTicked(event_id=eid(), case_id="", platform_id="bureau", occurred_at=at, tick_at=at)


def fold(
    events: Iterable[Event], ctx: Context, state: CaseState | None = None
) -> tuple[CaseState | None, list[Event]]:
    """One case's events through :func:`agents.core.engine.handle`, as the case agent folds them."""
    outputs: list[Event] = []
    for event in events:
        decision = engine.handle(state, event, ctx)
        state = decision.state
        outputs.extend(decision.outputs)
    return state, outputs
