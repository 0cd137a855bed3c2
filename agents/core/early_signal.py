"""未诉先办 (solve before the complaint): an early-warning signal from refunds, before complaints.

**REFUND_REJECTIONS_RISING** (per platform, ISO week Monday–Sunday of Asia/Shanghai dates):
among the platform's refunds *not linked to a complaint* (``RefundRequested.complaint_case_id``
is null — a refund tied to a complaint is already 诉, and the complaint signals cover it), the
share of reviews that rejected the refund in week W (by the review's ``occurred_at``) is judged
once week W has closed:

    reviewed(W) ≥ min_reviews  and  share(W) ≥ min_share  and  share(W) − share(W−1) ≥ min_rise

where share(W−1) is 0 when the week before had no review (a platform that starts rejecting
from nothing is rising). One alert per platform and week (id = rule + platform + week).

Refunds carry no complaint category, so the subject is the platform (the category a refund
would have is unknown until a complaint names it). Pure: no Faust, Kafka or clock.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from pydantic import BaseModel, ConfigDict, Field

from agents.core.calendar import SHANGHAI
from agents.core.ids import derive_id
from schemas.models import Level, ReviewDecision, RiskSignalRaised, Severity

__all__ = [
    "RULE_ID",
    "RefundRejectionPolicy",
    "WeekCounts",
    "WeekJudgement",
    "judge_week",
    "monday_of",
    "rejection_alert",
    "week_closes_at",
]

RULE_ID = "REFUND_REJECTIONS_RISING"


class RefundRejectionPolicy(BaseModel):
    """The thresholds (agents/policy/signals.yaml, ``refund_rejections:``)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    rule_id: str = RULE_ID
    min_reviews: int = Field(default=10, gt=0)
    min_share: float = Field(default=0.4, gt=0.0, le=1.0)
    min_rise: float = Field(default=0.25, gt=0.0, le=1.0)
    keep_weeks: int = Field(default=4, ge=2)
    level: Level = Level.OFFICE
    severity: Severity = Severity.WARNING


@dataclass(frozen=True, slots=True)
class WeekCounts:
    reviewed: int = 0
    rejected: int = 0

    @property
    def share(self) -> float | None:
        return None if self.reviewed <= 0 else self.rejected / self.reviewed

    def plus(self, decision: ReviewDecision | str) -> WeekCounts:
        rejected = str(decision) == ReviewDecision.REJECTED.value
        return WeekCounts(self.reviewed + 1, self.rejected + (1 if rejected else 0))


@dataclass(frozen=True, slots=True)
class WeekJudgement:
    platform_id: str
    week: date
    current: WeekCounts
    previous: WeekCounts
    triggered: bool


def monday_of(instant_or_day: datetime | date) -> date:
    """The Monday (Asia/Shanghai) of the week an instant or a day falls in."""
    if isinstance(instant_or_day, datetime):
        day = instant_or_day.astimezone(SHANGHAI).date()
    else:
        day = instant_or_day
    return day - timedelta(days=day.weekday())


def week_closes_at(monday: date) -> datetime:
    """00:00 Beijing time of the Monday after the week of ``monday``, as a UTC instant."""
    nxt = monday + timedelta(days=7)
    return datetime(nxt.year, nxt.month, nxt.day, tzinfo=SHANGHAI).astimezone(UTC)


def judge_week(
    platform_id: str,
    week: date,
    weeks: Mapping[date, WeekCounts],
    policy: RefundRejectionPolicy,
) -> WeekJudgement:
    """Week ``week`` (a Monday) of one platform against the week before it."""
    current = weeks.get(week, WeekCounts())
    previous = weeks.get(week - timedelta(days=7), WeekCounts())
    share = current.share
    before = previous.share or 0.0
    triggered = (
        current.reviewed >= policy.min_reviews
        and share is not None
        and share >= policy.min_share
        and share - before >= policy.min_rise - 1e-9
    )
    return WeekJudgement(platform_id, week, current, previous, triggered)


def rejection_alert(
    j: WeekJudgement,
    policy: RefundRejectionPolicy,
    *,
    office: str,
    department: str | None,
    policy_version: str,
    observed_at: datetime,
) -> RiskSignalRaised:
    """Id = rule + platform + week: one alert per platform and week, however often judged."""
    end = j.week + timedelta(days=6)
    ident = derive_id("alert", policy.rule_id, "SIGNAL", j.platform_id, j.week.isoformat(),
                      end.isoformat())  # fmt: skip
    share = j.current.share or 0.0
    before = j.previous.share
    before_text = (
        "no reviews"
        if before is None
        else f"{before:.0%} ({j.previous.rejected}/{j.previous.reviewed})"
    )
    return RiskSignalRaised(
        event_id=ident,
        case_id=j.platform_id,
        platform_id=j.platform_id,
        occurred_at=observed_at,
        alert_id=ident,
        rule_id=policy.rule_id,
        severity=policy.severity,
        level=policy.level,
        office=office,
        department=department,
        subject=j.platform_id,
        due_at=None,
        observed_at=observed_at,
        detail=(
            f"未诉先办: {j.current.rejected} of {j.current.reviewed} refunds with no complaint "
            f"rejected {j.week}–{end} ({share:.0%}), week before {before_text}; thresholds "
            f"share ≥ {policy.min_share:.0%}, rise ≥ {policy.min_rise:.0%}, "
            f"≥ {policy.min_reviews} reviews"
        ),
        policy_version=policy_version,
        signal="REFUND_REJECTIONS_RISING",
        metric=float(share),
        threshold=float(policy.min_share),
    )
