"""Refund case events (topic ``cases.refunds``): the three-step flow request → review → pay."""

from __future__ import annotations

from schemas.models._base import Event, Fen, UtcDatetime
from schemas.models.enums import ReviewDecision


class RefundRequested(Event):
    """Step 1 of the three-step refund: the consumer asked for a refund."""

    order_ref: str
    amount_fen: Fen
    reason: str
    goods_received_at: UtcDatetime | None = None
    """When the merchant received the returned goods (starts the 7/15-day refund limits)."""
    complaint_case_id: str | None = None


class RefundReviewed(Event):
    """Step 2: the refund was reviewed (approved, partly approved or rejected)."""

    decision: ReviewDecision
    approved_amount_fen: Fen
    reason: str | None = None


class RefundPaid(Event):
    """Step 3: the refund was paid."""

    amount_fen: Fen
    channel: str
    payment_ref: str
