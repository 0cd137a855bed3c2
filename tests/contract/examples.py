"""Fixed example events used by the exact-bytes and evolution tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from schemas.models import Category, Channel, ComplaintFiled, Event, PlatformRuleChanged, Priority

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


def enforcement_examples() -> list[Event]:
    """One of each enforcement event (issue 18), as the bureau sends them."""
    from tests import enforcement_events as ev

    at = T0
    return [
        ev.held("YT-1", at, recommendation_id="rec-1"),
        ev.outcome("YT-1", at + timedelta(hours=1), order_id=None),
        ev.ordered("ZL-1", at, at + timedelta(days=10)),
        ev.submitted("ZL-1", at + timedelta(days=1)),
        ev.verified("ZL-1", at + timedelta(days=2), new_deadline=at + timedelta(days=12)),
        ev.penalty("CF-1", at + timedelta(days=3), 1_000_000),
    ]


def platform_rule_changed(**overrides: object) -> PlatformRuleChanged:
    """The seed's 保价 rule for instant delivery, recorded by the bureau (issue 18)."""
    values: dict[str, object] = {
        "event_id": "rule-1",
        "case_id": "",
        "platform_id": "sfexpress",
        "occurred_at": T0,
        "rule_id": "insured-delivery",
        "title": "同城即时配送保价规则",
        "old_text": "保价为可选服务",
        "new_text": "下单时弹窗说明保价的权、责、利，引导自愿保价",
        "text_ref": None,
        "effective_from": INTAKE,
        "categories": [Category.DELIVERY_GOODS_DAMAGE],
        "advice_ref": "东升镇市场监管所建议 2025-02",
        "recorded_by": "HD-DS",
    }
    values.update(overrides)
    return PlatformRuleChanged.model_validate(values)
