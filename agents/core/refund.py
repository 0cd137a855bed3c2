"""Refund case, the three-step flow (三步退款): requested → reviewed → paid.

Money that moved is a fact: a payment is always applied, and what makes it wrong is recorded
as violations (PAID_BEFORE_APPROVAL, PAID_AFTER_REJECTION, PAID_TWICE, PAID_ABOVE_APPROVED).
A second review is recorded as REVIEWED_TWICE and not applied (the first decision stands).
A second request for the same case is an ILLEGAL_TRANSITION.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Literal

from agents.core.case_sla import Facts, Trigger
from agents.core.errors import IllegalTransitionError
from agents.core.policy import CaseType, PolicyVersion
from agents.core.state import CaseBase, opening_fields
from schemas.models import (
    Event,
    RefundPaid,
    RefundRequested,
    RefundReviewed,
    ReviewDecision,
    ViolationCode,
)

EVENTS: tuple[type[Event], ...] = (RefundRequested, RefundReviewed, RefundPaid)
FACTS = Facts(CaseType.REFUND)


class RefundStatus(StrEnum):
    REQUESTED = "REQUESTED"
    REVIEWED = "REVIEWED"
    PAID = "PAID"


class RefundState(CaseBase):
    kind: Literal["refund"] = "refund"
    status: RefundStatus
    order_ref: str
    requested_fen: int
    goods_received_at: datetime | None = None
    complaint_case_id: str | None = None
    reason_kinds: tuple[str, ...] = ()
    """The policy's reason kinds the request's free-text reason falls under (the reason
    itself is not kept in state)."""
    decision: ReviewDecision | None = None
    approved_fen: int | None = None
    paid_fen: int = 0
    payments: int = 0


def facts(state: RefundState) -> Facts:
    if not state.reason_kinds:
        return FACTS
    return Facts(CaseType.REFUND, reason_kinds=state.reason_kinds)


def open_case(event: RefundRequested, version: PolicyVersion) -> tuple[RefundState, list[Trigger]]:
    state = RefundState.model_construct(
        **opening_fields(event, version.default_office, version.id, event.occurred_at),
        kind="refund",
        status=RefundStatus.REQUESTED,
        order_ref=event.order_ref,
        requested_fen=event.amount_fen,
        goods_received_at=event.goods_received_at,
        complaint_case_id=event.complaint_case_id,
        reason_kinds=version.reason_kinds(event.reason),
        decision=None,
        approved_fen=None,
        paid_fen=0,
        payments=0,
    )
    triggers = [Trigger("requested", event.occurred_at)]
    if event.goods_received_at is not None:
        triggers.append(Trigger("goods_received", event.goods_received_at))
    return state, triggers


Finding = tuple[ViolationCode, str]


def audit(state: RefundState, event: Event) -> list[Finding]:
    """Violations an event commits while still being applied (raises for illegal ones)."""
    if isinstance(event, RefundReviewed):
        if state.decision is not None:
            return [(ViolationCode.REVIEWED_TWICE, f"already {state.decision.value}")]
        return []
    if isinstance(event, RefundPaid):
        found: list[Finding] = []
        if state.decision is None:
            found.append((ViolationCode.PAID_BEFORE_APPROVAL, "paid before any review"))
        elif state.decision is ReviewDecision.REJECTED:
            found.append((ViolationCode.PAID_AFTER_REJECTION, "paid after the refund was rejected"))
        if state.payments > 0:
            found.append((ViolationCode.PAID_TWICE, f"payment number {state.payments + 1}"))
        if (
            state.decision in (ReviewDecision.APPROVED, ReviewDecision.PARTLY_APPROVED)
            and state.approved_fen is not None
            and state.paid_fen + event.amount_fen > state.approved_fen
        ):
            found.append(
                (
                    ViolationCode.PAID_ABOVE_APPROVED,
                    f"paid {state.paid_fen + event.amount_fen} fen, approved {state.approved_fen}",
                )
            )
        return found
    raise IllegalTransitionError(f"{type(event).__name__} cannot happen to an existing refund")


def step(state: RefundState, event: Event) -> tuple[RefundState, list[Trigger], list[Finding]]:
    findings = audit(state, event)
    at = event.occurred_at
    update: dict[str, object] = {"last_event_at": at, "seq": state.seq + 1}
    triggers: list[Trigger] = []
    if isinstance(event, RefundReviewed):
        if not findings:
            update["decision"] = event.decision
            update["approved_fen"] = (
                0 if event.decision is ReviewDecision.REJECTED else event.approved_amount_fen
            )
            if state.status is RefundStatus.REQUESTED:
                update["status"] = RefundStatus.REVIEWED
            triggers.append(Trigger("reviewed", at))
            if event.decision is ReviewDecision.REJECTED:
                triggers.append(Trigger("rejected", at))
            else:
                triggers.append(Trigger("approved", at))
                if state.goods_received_at is None:
                    triggers.append(Trigger("approved_without_goods", at))
    elif isinstance(event, RefundPaid):
        update["status"] = RefundStatus.PAID
        update["paid_fen"] = state.paid_fen + event.amount_fen
        update["payments"] = state.payments + 1
        triggers.append(Trigger("paid", at))
    return state.model_copy(update=update), triggers, findings
