"""Event factories and record helpers for the ingestion tests."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from schemas.models import (
    Category,
    Channel,
    ComplaintAcknowledged,
    ComplaintFiled,
    ComplaintForwarded,
    ComplaintResolved,
    Event,
    Outcome,
    Priority,
    RefundPaid,
    RefundRequested,
    RefundReviewed,
    ReviewDecision,
)
from streams.codec import EventCodec

NOW = datetime(2025, 3, 3, 8, 0, tzinfo=UTC)
WAIT = 60.0
"""Upper bound of every bounded poll (the broker and the 2 cores are shared)."""
CODEC = EventCodec()


def eid() -> str:
    return str(uuid.uuid4())


def filed(case_id: str, platform_id: str, **kw: Any) -> ComplaintFiled:
    fields: dict[str, Any] = dict(
        event_id=eid(), case_id=case_id, platform_id=platform_id, occurred_at=NOW,
        channel=Channel.PLATFORM_APP, category=Category.DELIVERY_GOODS_DAMAGE,
        priority=Priority.NORMAL, claimed_amount_fen=12_000, insured=False, office="HD-01",
        consumer_ref="c-9f2a", intake_at=NOW,
    )  # fmt: skip
    fields.update(kw)
    return ComplaintFiled(**fields)


def acknowledged(case_id: str, platform_id: str, **kw: Any) -> ComplaintAcknowledged:
    fields: dict[str, Any] = dict(
        event_id=eid(), case_id=case_id, platform_id=platform_id, occurred_at=NOW
    )
    fields.update(kw)
    return ComplaintAcknowledged(**fields)


def resolved(case_id: str, platform_id: str, **kw: Any) -> ComplaintResolved:
    fields: dict[str, Any] = dict(
        event_id=eid(), case_id=case_id, platform_id=platform_id, occurred_at=NOW,
        outcome=Outcome.SETTLED, compensation_fen=500,
    )  # fmt: skip
    fields.update(kw)
    return ComplaintResolved(**fields)


def forwarded(case_id: str, platform_id: str, **kw: Any) -> ComplaintForwarded:
    fields: dict[str, Any] = dict(
        event_id=eid(), case_id=case_id, platform_id=platform_id, occurred_at=NOW,
        forwarded_by="HD-01",
    )  # fmt: skip
    fields.update(kw)
    return ComplaintForwarded(**fields)


def refund_flow(case_id: str, platform_id: str) -> list[Event]:
    common = dict(case_id=case_id, platform_id=platform_id, occurred_at=NOW)
    return [
        RefundRequested(event_id=eid(), order_ref="o-1", amount_fen=900, reason="r", **common),
        RefundReviewed(
            event_id=eid(), decision=ReviewDecision.APPROVED, approved_amount_fen=900, **common
        ),
        RefundPaid(event_id=eid(), amount_fen=900, channel="alipay", payment_ref="p", **common),
    ]


def record(
    event: Event, source: str | None = None
) -> tuple[bytes | None, bytes, list[tuple[str, bytes]]]:
    """(key, value, headers) as the SDK would produce them; ``source`` may lie."""
    return CODEC.encode(event, source or f"/platforms/{event.platform_id}")


def future(minutes: float) -> datetime:
    return datetime.now(UTC) + timedelta(minutes=minutes)
