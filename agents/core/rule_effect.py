"""The effect of a platform's rule change: complaint rates before and after its effective day.

One definition, used by the worker's API (``GET /platforms/{id}/rules``) and the audit report.

* **Window**: the ``window_days`` (default 14) Beijing days before the effective day against
  the ``window_days`` days from the effective day on; the after window is cut at ``as_of``
  (today for the API, the audited instant for the report), and so is the before window for a
  rule that takes effect later.
* **Rate**: complaints per day (count / days observed in the window), by intake day (Asia/
  Shanghai). The log carries no order volume, so a rate per 1,000 orders cannot be computed;
  per day is comparable only while the platform's volume is steady, which the report says.
* **Insured share** (保价) of delivery complaints (DELIVERY_GOODS_DAMAGE): complaints whose
  ``insured`` is true / complaints, in each window; with the mean ``declared_value_fen`` of the
  insured ones. ``None`` when a window has no such complaint.

Pure: no Faust, Kafka or clock.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from agents.core.calendar import SHANGHAI
from agents.core.rates import ratio
from schemas.models import Category, PlatformRuleChanged

__all__ = [
    "DEFAULT_WINDOW_DAYS",
    "ComplaintPoint",
    "RuleEffect",
    "Window",
    "rule_effect",
]

DEFAULT_WINDOW_DAYS = 14
DELIVERY = Category.DELIVERY_GOODS_DAMAGE.value


@dataclass(frozen=True, slots=True)
class ComplaintPoint:
    """What the rule effect needs of one complaint (from its ComplaintFiled)."""

    case_id: str
    platform_id: str
    category: str
    intake_day: date
    insured: bool
    declared_value_fen: int | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "case_id": self.case_id,
            "platform_id": self.platform_id,
            "category": self.category,
            "intake_day": self.intake_day.isoformat(),
            "insured": self.insured,
            "declared_value_fen": self.declared_value_fen,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ComplaintPoint:
        return cls(
            str(data["case_id"]),
            str(data["platform_id"]),
            str(data["category"]),
            date.fromisoformat(data["intake_day"]),
            bool(data["insured"]),
            data.get("declared_value_fen"),
        )

    @classmethod
    def of(cls, case_id: str, platform_id: str, category: str, intake_at: datetime,
           insured: bool, declared_value_fen: int | None) -> ComplaintPoint:  # fmt: skip
        return cls(case_id, platform_id, str(category), intake_at.astimezone(SHANGHAI).date(),
                   insured, declared_value_fen)  # fmt: skip


@dataclass(frozen=True, slots=True)
class Window:
    first: date
    last: date
    """Inclusive; ``last < first`` when no day of the window has been observed yet."""
    complaints: dict[str, int]
    insured: int
    delivery: int
    declared_fen: int

    @property
    def days(self) -> int:
        return max(0, (self.last - self.first).days + 1)

    def per_day(self, category: str) -> float | None:
        return ratio(self.complaints.get(category, 0), self.days)

    def to_json(self, categories: Iterable[str]) -> dict[str, Any]:
        observed = self.days > 0
        return {
            "from": self.first.isoformat(),
            "to": self.last.isoformat() if observed else None,
            "days": self.days,
            "complaints": {c: self.complaints.get(c, 0) for c in categories},
            "per_day": {c: self.per_day(c) for c in categories},
            "delivery_complaints": self.delivery,
            "insured": self.insured,
            "insured_share": ratio(self.insured, self.delivery),
            "mean_declared_value_fen": ratio(self.declared_fen, self.insured),
        }


@dataclass(frozen=True, slots=True)
class RuleEffect:
    change: PlatformRuleChanged
    effective_day: date
    window_days: int
    before: Window
    after: Window

    def to_json(self) -> dict[str, Any]:
        cats = [c.value for c in self.change.categories]
        change: dict[str, Any] = {}
        for cat in cats:
            b, a = self.before.per_day(cat), self.after.per_day(cat)
            change[cat] = None if b is None or a is None or b == 0 else (a - b) / b
        c = self.change
        return {
            "rule_id": c.rule_id,
            "event_id": c.event_id,
            "platform_id": c.platform_id,
            "title": c.title,
            "old_text": c.old_text,
            "new_text": c.new_text,
            "text_ref": c.text_ref,
            "effective_from": c.effective_from.isoformat(timespec="milliseconds"),
            "effective_day": self.effective_day.isoformat(),
            "recorded_at": c.occurred_at.isoformat(timespec="milliseconds"),
            "recorded_by": c.recorded_by,
            "advice_ref": c.advice_ref,
            "categories": cats,
            "window_days": self.window_days,
            "rate_unit": "complaints per day (no order volume in the log)",
            "before": self.before.to_json(cats),
            "after": self.after.to_json(cats),
            "per_day_change": change,
            "insured_share_change": _diff(self.after.to_json(cats)["insured_share"],
                                          self.before.to_json(cats)["insured_share"]),
        }  # fmt: skip


def _diff(after: float | None, before: float | None) -> float | None:
    return None if after is None or before is None else after - before


def _window(points: list[ComplaintPoint], first: date, last: date) -> Window:
    counts: dict[str, int] = {}
    insured = delivery = declared = 0
    for p in points:
        if not first <= p.intake_day <= last:
            continue
        counts[p.category] = counts.get(p.category, 0) + 1
        if p.category == DELIVERY:
            delivery += 1
            if p.insured:
                insured += 1
                declared += p.declared_value_fen or 0
    return Window(first, last, counts, insured, delivery, declared)


def rule_effect(
    change: PlatformRuleChanged,
    complaints: Iterable[ComplaintPoint],
    as_of: date,
    window_days: int = DEFAULT_WINDOW_DAYS,
) -> RuleEffect:
    """Before/after windows of ``change`` over the platform's complaints, as of the day
    ``as_of`` (inclusive: the days after it are not observed yet)."""
    if window_days <= 0:
        raise ValueError(f"window_days: must be positive, not {window_days}")
    effective = change.effective_from.astimezone(SHANGHAI).date()
    points = [p for p in complaints if p.platform_id == change.platform_id]
    before_first = effective - timedelta(days=window_days)
    before_last = min(effective - timedelta(days=1), as_of)
    after_last = min(effective + timedelta(days=window_days - 1), as_of)
    return RuleEffect(
        change,
        effective,
        window_days,
        _window(points, before_first, before_last),
        _window(points, effective, after_last),
    )
