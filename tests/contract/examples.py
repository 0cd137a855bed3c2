"""Fixed example events used by the exact-bytes and evolution tests."""

from __future__ import annotations

from datetime import UTC, datetime

from schemas.models import Category, Channel, ComplaintFiled, Priority

T0 = datetime(2025, 3, 1, 8, 30, 15, 123000, tzinfo=UTC)
INTAKE = datetime(2025, 3, 1, 8, 0, tzinfo=UTC)


def complaint_filed(**overrides: object) -> ComplaintFiled:
    values: dict[str, object] = {
        "event_id": "e-1",
        "case_id": "C-1",
        "platform_id": "meituan",
        "occurred_at": T0,
        "channel": Channel.HOTLINE_12345,
        "category": Category.DELIVERY_GOODS_DAMAGE,
        "priority": Priority.NORMAL,
        "merchant_ref": "m-9",
        "live_room_ref": None,
        "claimed_amount_fen": 12_300,
        "insured": False,
        "declared_value_fen": None,
        "office": "HD-ZGC",
        "consumer_ref": "c-7f3a",
        "intake_at": INTAKE,
        "policy_rule_version": "SAMR-20",
    }
    values.update(overrides)
    return ComplaintFiled.model_validate(values)
