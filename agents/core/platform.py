"""Per-platform breach record: repeated SLA breaches → InterviewRecommended (约谈).

A pure fold the alerts-side agent keeps per platform: ``record_breach(record, alert, ctx)``.
With the policy's ``interview.breaches`` SlaBreached alerts within ``window_days`` it
recommends an interview and starts counting afresh. The same alert twice is counted once.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from pydantic import BaseModel, ConfigDict

from agents.core.calendar import WorkingCalendar
from agents.core.context import Context
from agents.core.ids import derive_id
from schemas.models import AlertEvent, Event, InterviewRecommended, SlaBreached

RULE_ID = "INTERVIEW_RECOMMENDED"
MAX_SEEN_IDS = 256


class BreachMark(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    alert_id: str
    rule_id: str
    subject: str
    observed_at: datetime


class PlatformRecord(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    platform_id: str
    window: tuple[BreachMark, ...] = ()
    """Breaches since the last recommendation and inside the window."""
    total_breaches: int = 0
    recommendations: int = 0
    last_recommended_at: datetime | None = None
    seen_ids: tuple[str, ...] = ()


def record_breach(
    record: PlatformRecord | None, alert: AlertEvent, ctx: Context
) -> tuple[PlatformRecord, list[Event]]:
    """Count an SlaBreached alert against its platform; other alerts change nothing."""
    current = record or PlatformRecord(platform_id=alert.platform_id)
    if not isinstance(alert, SlaBreached) or alert.alert_id in current.seen_ids:
        return current, []
    version = ctx.policy.get(alert.policy_version) or ctx.policy.version_at(
        WorkingCalendar.local_date(alert.observed_at)
    )
    policy = version.interview
    horizon = alert.observed_at - timedelta(days=policy.window_days)
    mark = BreachMark(
        alert_id=alert.alert_id,
        rule_id=alert.rule_id,
        subject=alert.subject,
        observed_at=alert.observed_at,
    )
    window = (*(m for m in current.window if m.observed_at > horizon), mark)
    update: dict[str, object] = {
        "total_breaches": current.total_breaches + 1,
        "seen_ids": (*current.seen_ids, alert.alert_id)[-MAX_SEEN_IDS:],
        "window": window,
    }
    outputs: list[Event] = []
    if len(window) >= policy.breaches:
        # The n-th recommendation for a platform is one fact whichever breach completed the
        # window: breaches reach this fold from several partitions in no fixed order, so an id
        # taken from the triggering breach would differ between a run and its replay.
        ident = derive_id(
            "alert", RULE_ID, "INTERVIEW", current.platform_id, str(current.recommendations + 1)
        )
        rules = ", ".join(sorted({m.rule_id for m in window}))
        outputs.append(
            InterviewRecommended.model_construct(
                event_id=ident,
                case_id=current.platform_id,
                platform_id=current.platform_id,
                occurred_at=alert.observed_at,
                alert_id=ident,
                rule_id=RULE_ID,
                severity=policy.style.severity,
                level=policy.style.level,
                office=alert.office,
                department=alert.department,
                subject=current.platform_id,
                due_at=None,
                observed_at=alert.observed_at,
                detail=(
                    f"{len(window)} SLA breaches within {policy.window_days} days ({rules}); "
                    "regulatory interview recommended (Order 73 Art. 3)"
                ),
                policy_version=version.id,
                breach_count=len(window),
            )
        )
        update["window"] = ()
        update["recommendations"] = current.recommendations + 1
        update["last_recommended_at"] = alert.observed_at
    return current.model_copy(update=update), outputs
