"""One regulator scenario, and an oracle that computes its scorecards independently.

Two platforms over five ISO weeks (W1 = 2025-05-05 … W5 = 2025-06-02):

* ``alpha`` (DELIVERY_GOODS_DAMAGE): 2 app complaints a week, then 12 hotline complaints in
  W5 — a surge. Three W5 complaints are never acknowledged and one is acknowledged late
  (4 acknowledgement breaches), plus an unreviewed refund: repeated breaches → interview.
* ``beta`` (FOOD_SAFETY): a steady 10 a week (11 in W5), 70 % of resolutions settled — below
  the 85 % target; one late acknowledgement, one overdue rectification and one refund paid
  before approval (a lifecycle violation).

The oracle derives every complaint metric from the specs (not from the engine): the
acknowledgement deadline is 24 h (NORMAL) from intake for hotline complaints and from filing
for app complaints. Breach-derived counts come from the breach alerts actually raised (their
due dates), so only the regulator's attribution is under test there.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from agents.scorecard import METRICS, Window, window_bounds
from schemas.models import (
    AlertEvent,
    Category,
    Channel,
    ComplaintAcknowledged,
    ComplaintFeedbackRecorded,
    ComplaintFiled,
    ComplaintForwarded,
    ComplaintResolved,
    Event,
    InspectionFindingRecorded,
    LifecycleViolationDetected,
    Outcome,
    Priority,
    RectificationOrdered,
    RefundPaid,
    RefundRequested,
    Satisfaction,
    SlaBreached,
)

SH = ZoneInfo("Asia/Shanghai")
W1 = date(2025, 5, 5)
W5 = date(2025, 6, 2)
ALPHA, BETA = "alpha", "beta"
OFFICE = "HD-ZGC"
ACK_LIMIT = timedelta(hours=24)
_ids = itertools.count()


def sh(day: date, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=SH).astimezone(UTC)


T_END = sh(date(2025, 6, 6), 12)
"""The single tick after the events: closes 2025-06-05 and judges week W5."""
LATE_ACK_CASE = "alpha-w5-03"


@dataclass
class ComplaintSpec:
    case_id: str
    platform: str
    category: Category
    channel: Channel
    filed_at: datetime
    intake_at: datetime
    forwarded_after: timedelta | None = None
    ack_after: timedelta | None = None
    resolved_after: timedelta | None = None
    outcome: Outcome = Outcome.SETTLED
    satisfaction: Satisfaction | None = None

    @property
    def clock_start(self) -> datetime:
        return self.intake_at if self.channel is Channel.HOTLINE_12345 else self.filed_at

    def events(self, prefix: str) -> list[Event]:
        case = f"{prefix}{self.case_id}"
        out: list[Event] = [
            ComplaintFiled(
                **_common(case, self.platform, self.filed_at),
                channel=self.channel, category=self.category, priority=Priority.NORMAL,
                claimed_amount_fen=5_000, insured=False, office=OFFICE, consumer_ref="anon-1",
                intake_at=self.intake_at,
            )
        ]  # fmt: skip
        at = self.filed_at
        if self.forwarded_after is not None:
            out.append(
                ComplaintForwarded(
                    **_common(case, self.platform, at + self.forwarded_after),
                    forwarded_by="hotline",
                )
            )
        if self.ack_after is not None:
            out.append(ComplaintAcknowledged(**_common(case, self.platform, at + self.ack_after)))
        if self.resolved_after is not None:
            at_resolved = at + self.resolved_after
            out.append(
                ComplaintResolved(
                    **_common(case, self.platform, at_resolved),
                    outcome=self.outcome, compensation_fen=0,
                )
            )  # fmt: skip
            if self.satisfaction is not None:
                out.append(
                    ComplaintFeedbackRecorded(
                        **_common(case, self.platform, at_resolved + timedelta(hours=2)),
                        satisfaction=self.satisfaction,
                    )
                )
        return out


def _common(case: str, platform: str, at: datetime) -> dict[str, object]:
    return {
        "event_id": f"ev-{next(_ids)}-{case}",
        "case_id": case,
        "platform_id": platform,
        "occurred_at": at,
    }


@dataclass
class Scenario:
    prefix: str
    complaints: list[ComplaintSpec] = field(default_factory=list)
    others: list[Event] = field(default_factory=list)

    def events(self) -> list[Event]:
        out = [e for spec in self.complaints for e in spec.events(self.prefix)] + self.others
        return sorted(out, key=lambda e: e.occurred_at)

    def case(self, case_id: str) -> str:
        return f"{self.prefix}{case_id}"


_SATISFACTIONS = (
    Satisfaction.SATISFIED,
    Satisfaction.BASICALLY_SATISFIED,
    Satisfaction.UNSATISFIED,
)


def build(prefix: str = "") -> Scenario:
    sc = Scenario(prefix)
    app = Channel.PLATFORM_APP
    for week in range(4):  # alpha W1–W4: two app complaints a week, handled well
        monday = W1 + timedelta(weeks=week)
        for k in range(2):
            at = sh(monday + timedelta(days=k), 10)
            sc.complaints.append(ComplaintSpec(
                f"alpha-w{week + 1}-{k}", ALPHA, Category.DELIVERY_GOODS_DAMAGE, app, at, at,
                ack_after=timedelta(hours=2), resolved_after=timedelta(hours=30),
                satisfaction=Satisfaction.SATISFIED,
            ))  # fmt: skip
    for i in range(12):  # alpha W5: twelve hotline complaints on Monday
        filed = sh(W5, 9) + timedelta(minutes=20 * i)
        spec = ComplaintSpec(
            f"alpha-w5-{i:02d}", ALPHA, Category.DELIVERY_GOODS_DAMAGE, Channel.HOTLINE_12345,
            filed, filed - timedelta(minutes=30), forwarded_after=timedelta(hours=1),
        )  # fmt: skip
        if i == 3:
            spec.ack_after = timedelta(hours=30)  # late: more than 24 h after intake
        elif i >= 4:
            spec.ack_after = timedelta(hours=1, minutes=30)
            if i <= 8:
                spec.resolved_after = timedelta(hours=20)
                spec.satisfaction = _SATISFACTIONS[i - 4] if i <= 6 else None
        sc.complaints.append(spec)
    n = 0
    for week in range(5):  # beta: ten a week (eleven in W5), Monday to Friday
        monday = W1 + timedelta(weeks=week)
        slots = [(d, h) for d in range(5) for h in (10, 14)]
        if week == 4:
            slots = [(0, 10), (0, 12), (0, 14), (0, 16), (1, 10), (1, 12), (1, 14), (1, 16),
                     (2, 10), (2, 12), (2, 14)]  # fmt: skip
        for d, h in slots:
            at = sh(monday + timedelta(days=d), h)
            spec = ComplaintSpec(
                f"beta-{n:03d}", BETA, Category.FOOD_SAFETY, app, at, at,
                ack_after=timedelta(hours=1),
            )  # fmt: skip
            if week == 4 and n % 11 == 5:
                spec.ack_after = timedelta(hours=26)  # one late acknowledgement in W5
            if week < 4 or d < 2:
                spec.resolved_after = timedelta(hours=20)
                spec.outcome = Outcome.NOT_SETTLED if n % 10 in (0, 3, 6) else Outcome.SETTLED
                spec.satisfaction = _SATISFACTIONS[n % 3] if n % 2 == 0 else None
            sc.complaints.append(spec)
            n += 1
    refund = sc.case("alpha-refund-1")  # never reviewed: REFUND_REVIEW breaches
    sc.others.append(RefundRequested(
        **_common(refund, ALPHA, sh(date(2025, 5, 26), 10)),
        order_ref="o-1", amount_fen=9_900, reason="broken",
    ))  # fmt: skip
    early = sc.case("beta-refund-1")  # paid before any review: a lifecycle violation
    sc.others += [
        RefundRequested(**_common(early, BETA, sh(W5, 11)), order_ref="o-2", amount_fen=5_000,
                        reason="late", goods_received_at=sh(W5, 10)),
        RefundPaid(**_common(early, BETA, sh(W5, 15)), amount_fen=5_000, channel="alipay",
                   payment_ref="p-2"),
    ]  # fmt: skip
    rect = sc.case("beta-rect-1")  # ordered, never verified: RECTIFICATION_DEADLINE breaches
    sc.others += [
        InspectionFindingRecorded(
            **_common(rect, BETA, sh(date(2025, 5, 28), 10)), spot_check_id="sc-1",
            live_room_ref="room-9", negative_list_code="NL-06", evidence_refs=["ev-1"],
            inspecting_unit="HD-NET", office=OFFICE,
        ),
        RectificationOrdered(
            **_common(rect, BETA, sh(date(2025, 5, 28), 11)), deadline=sh(date(2025, 6, 4), 18),
            required_actions=["remove listing"], ordering_unit="HD-NET",
        ),
    ]  # fmt: skip
    return sc


# ---- the oracle -----------------------------------------------------------------------------
def _day(instant: datetime) -> date:
    return instant.astimezone(SH).date()


def oracle(
    sc: Scenario,
    subject: str,
    window: Window,
    ref: date,
    alerts: Iterable[AlertEvent],
    bounds: tuple[date, date] | None = None,
) -> dict[str, int]:
    """The counts a scorecard must show, computed from the specs (and the breach alerts);
    ``bounds`` (first, last date) for a ``range`` window."""
    start, end = bounds or window_bounds(window, ref)
    counts = dict.fromkeys(METRICS, 0)
    for spec in sc.complaints:
        if subject not in (spec.platform, f"category:{spec.category.value}"):
            continue
        if not start <= _day(spec.intake_at) <= end:
            continue
        counts["complaints"] += 1
        forwarded = spec.channel is Channel.PLATFORM_APP or spec.forwarded_after is not None
        counts["forwarded"] += forwarded
        if spec.ack_after is not None:
            acked_at = spec.filed_at + spec.ack_after
            counts["responded_in_time"] += acked_at <= spec.clock_start + ACK_LIMIT
        if spec.resolved_after is not None:
            counts["resolved"] += 1
            counts["settled"] += spec.outcome is Outcome.SETTLED
            if spec.satisfaction is not None:
                counts["feedback"] += 1
                counts["satisfied"] += spec.satisfaction is not Satisfaction.UNSATISFIED
                counts["resolved_at_visit"] += spec.outcome is Outcome.SETTLED
    if not subject.startswith("category:"):
        seen: set[str] = set()
        for alert in alerts:
            if alert.platform_id != subject or alert.alert_id in seen:
                continue
            seen.add(alert.alert_id)
            if isinstance(alert, SlaBreached):
                due = alert.due_at or alert.observed_at
                if start <= _day(due) <= end:
                    counts["breaches"] += 1
                    counts["refund_steps_overdue"] += alert.rule_id.startswith("REFUND_")
                    counts["rectifications_overdue"] += alert.rule_id == "RECTIFICATION_DEADLINE"
            elif isinstance(alert, LifecycleViolationDetected):
                if start <= _day(alert.observed_at) <= end:
                    counts["lifecycle_violations"] += 1
    return counts


def rates(counts: dict[str, int]) -> dict[str, float | None]:
    def ratio(a: str, b: str) -> float | None:
        return None if counts[b] == 0 else counts[a] / counts[b]

    return {
        "response_rate": ratio("responded_in_time", "forwarded"),
        "resolution_rate": ratio("resolved_at_visit", "feedback"),
        "satisfaction_rate": ratio("satisfied", "feedback"),
        "settlement_rate": ratio("settled", "resolved"),
    }


CHECKS: list[tuple[str, Window, date]] = [
    (subject, window, ref)
    for subject in (ALPHA, BETA, "category:DELIVERY_GOODS_DAMAGE", "category:FOOD_SAFETY")
    for window, ref in (
        (Window.D30, date(2025, 6, 5)),
        (Window.WEEK, date(2025, 6, 5)),
        (Window.DAY, W5),
        (Window.D30, date(2025, 5, 20)),
    )
]
"""(subject, window, reference date) the tests compare with the oracle."""
