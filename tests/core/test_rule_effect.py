"""The rule-effect computation (agents/core/rule_effect.py): windows, rates, insured share."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from agents.core.rule_effect import ComplaintPoint, rule_effect
from schemas.models import Category, PlatformRuleChanged

D = Category.DELIVERY_GOODS_DAMAGE.value
EFFECTIVE = date(2026, 11, 16)


def change(**kw: object) -> PlatformRuleChanged:
    values: dict[str, object] = {
        "event_id": "r-1", "case_id": "", "platform_id": "sfexpress",
        "occurred_at": datetime(2026, 11, 14, 2, tzinfo=UTC), "rule_id": "insured-delivery",
        "title": "同城配送保价规则", "old_text": "可选保价", "new_text": "下单时弹窗说明保价",
        "effective_from": datetime(2026, 11, 15, 16, tzinfo=UTC),  # 00:00 Beijing, 16 Nov
        "categories": [Category.DELIVERY_GOODS_DAMAGE], "advice_ref": "DS-2026-11-03",
        "recorded_by": "HD-DS",
    }  # fmt: skip
    values.update(kw)
    return PlatformRuleChanged.model_validate(values)


def point(n: int, day: date, insured: bool, platform: str = "sfexpress",
          category: str = D) -> ComplaintPoint:  # fmt: skip
    return ComplaintPoint(f"C-{n}", platform, category, day, insured, 5000 if insured else None)


def test_before_and_after_windows_per_day_and_insured_share() -> None:
    pts = [point(i, EFFECTIVE - timedelta(days=1 + i % 14), i % 4 == 0) for i in range(28)]
    pts += [point(100 + i, EFFECTIVE + timedelta(days=i % 14), i % 4 != 0) for i in range(14)]
    pts.append(point(999, EFFECTIVE - timedelta(days=15), True))  # outside the before window
    pts.append(point(998, EFFECTIVE, True, platform="other"))  # another platform
    pts.append(point(997, EFFECTIVE, False, category=Category.FOOD_SAFETY.value))
    out = rule_effect(change(), pts, as_of=EFFECTIVE + timedelta(days=30)).to_json()
    assert out["effective_day"] == "2026-11-16"
    assert out["before"]["from"] == "2026-11-02" and out["before"]["to"] == "2026-11-15"
    assert out["after"]["from"] == "2026-11-16" and out["after"]["to"] == "2026-11-29"
    assert out["before"]["complaints"] == {D: 28} and out["after"]["complaints"] == {D: 14}
    assert out["before"]["per_day"][D] == 2.0 and out["after"]["per_day"][D] == 1.0
    assert out["per_day_change"][D] == -0.5
    assert out["before"]["insured_share"] == 7 / 28
    assert out["after"]["insured_share"] == 10 / 14
    assert out["insured_share_change"] == pytest.approx(10 / 14 - 7 / 28)
    assert out["after"]["mean_declared_value_fen"] == 5000
    assert out["advice_ref"] == "DS-2026-11-03"


def test_after_window_is_cut_at_as_of() -> None:
    pts = [point(i, EFFECTIVE + timedelta(days=i % 3), True) for i in range(6)]
    out = rule_effect(change(), pts, as_of=EFFECTIVE + timedelta(days=2)).to_json()
    assert out["after"]["days"] == 3 and out["after"]["per_day"][D] == 2.0
    before_effective = rule_effect(change(), pts, as_of=EFFECTIVE - timedelta(days=1)).to_json()
    assert before_effective["after"]["days"] == 0
    assert before_effective["after"]["per_day"][D] is None
    assert before_effective["after"]["to"] is None


def test_empty_windows_say_none_not_zero() -> None:
    out = rule_effect(change(), [], as_of=EFFECTIVE + timedelta(days=20)).to_json()
    assert out["before"]["insured_share"] is None
    assert out["per_day_change"][D] is None
    assert out["before"]["per_day"][D] == 0.0


def test_window_days_must_be_positive() -> None:
    with pytest.raises(ValueError, match="window_days"):
        rule_effect(change(), [], as_of=EFFECTIVE, window_days=0)


@pytest.mark.parametrize(
    ("kw", "field"),
    [({"categories": []}, "categories"), ({"new_text": None, "text_ref": None}, "new_text"),
     ({"categories": [D, D]}, "categories"), ({"rule_id": ""}, "rule_id")],
)  # fmt: skip
def test_model_refuses_bad_input_naming_the_field(kw: dict[str, object], field: str) -> None:
    with pytest.raises(ValueError, match=field):
        change(**kw)


def test_text_ref_alone_is_enough() -> None:
    assert change(new_text=None, text_ref="https://example.invalid/rules/1").text_ref
