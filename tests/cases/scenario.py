"""A deterministic case-agent scenario and an oracle that predicts its alerts independently.

Complaints filed on the hour through the platform app get a 24-hour acknowledgement limit
(they name policy version SAMR-20, which applies the 12345 practice to every channel; SAMR-121
times it for hotline work orders only);
with hourly ticks, the 50 % and 75 % warnings and the breach fire at +12 h, +18 h and +24 h
unless the acknowledgement (always on a half hour) came first. Refund cases each commit one
lifecycle violation (or none). The oracle below uses only that arithmetic, not the core.
"""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from schemas.models import (
    Category,
    Channel,
    ComplaintAcknowledged,
    ComplaintFiled,
    Event,
    Priority,
    RefundPaid,
    RefundRequested,
    RefundReviewed,
    ReviewDecision,
)

PLATFORMS = ("shop-a", "shop-b", "shop-c")
START = datetime(2026, 11, 2, 0, 0, tzinfo=UTC)  # a Monday; no holiday within three days
HOURS = 72


@dataclass(frozen=True)
class Step:
    at: datetime
    event: Event | None  # None: a tick at ``at``


def _eid(*parts: object) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, "/".join(map(str, parts))))


def build(seed: int = 7, complaints: int = 36) -> tuple[list[Step], set[tuple[str, str, str]]]:
    """The time-ordered steps and the expected alerts as (type, rule or violation, case)."""
    rnd = random.Random(seed)
    steps: list[Step] = []
    expected: set[tuple[str, str, str]] = set()
    breaches: dict[str, int] = {}
    for i in range(complaints):
        case = f"CP-{seed}-{i:03d}"
        platform = PLATFORMS[i % len(PLATFORMS)]
        filed = START + timedelta(hours=rnd.randrange(0, 40))
        steps.append(Step(filed, ComplaintFiled(
            event_id=_eid(case, "filed"), case_id=case, platform_id=platform, occurred_at=filed,
            channel=Channel.PLATFORM_APP, category=Category.DELIVERY_GOODS_DAMAGE,
            priority=Priority.NORMAL, merchant_ref=None, live_room_ref=None,
            claimed_amount_fen=5000, insured=False, declared_value_fen=None, office="HD-ZGC",
            consumer_ref=f"c-{i}", intake_at=filed, policy_rule_version="SAMR-20",
        )))  # fmt: skip
        ack_after = rnd.choice([3, 13, 19, 30, None])  # hours; +0.5 h keeps clear of ticks
        if ack_after is not None and filed + timedelta(hours=ack_after) < START + timedelta(
            hours=HOURS
        ):
            at = filed + timedelta(hours=ack_after, minutes=30)
            steps.append(Step(at, ComplaintAcknowledged(
                event_id=_eid(case, "ack"), case_id=case, platform_id=platform, occurred_at=at,
                handler_ref=None,
            )))  # fmt: skip
        acked = None if ack_after is None else ack_after + 0.5
        for hours, pct, kind in ((12, 50, "SlaWarningRaised"), (18, 75, "SlaWarningRaised"),
                                 (24, 100, "SlaBreached")):  # fmt: skip
            due = filed + timedelta(hours=hours)
            if due <= START + timedelta(hours=HOURS) and (acked is None or acked > hours):
                expected.add((kind, f"COMPLAINT_ACKNOWLEDGE@{pct}", case))
                if kind == "SlaBreached":
                    breaches[platform] = breaches.get(platform, 0) + 1
    refunds = [
        ("clean", None),
        ("early", "PAID_BEFORE_APPROVAL"),
        ("above", "PAID_ABOVE_APPROVED"),
        ("twice", "PAID_TWICE"),
        ("rereview", "REVIEWED_TWICE"),
        ("rejected", "PAID_AFTER_REJECTION"),
    ]
    for j, (name, violation) in enumerate(refunds):
        case = f"RF-{seed}-{name}"
        platform = PLATFORMS[j % len(PLATFORMS)]
        t0 = START + timedelta(hours=2 + j, minutes=10)

        def ev(
            cls: type[Event],
            minutes: int,
            tag: str,
            t0: datetime = t0,
            case: str = case,
            platform: str = platform,
            **fields: object,
        ) -> Step:
            at = t0 + timedelta(minutes=minutes)
            return Step(at, cls(event_id=_eid(case, tag), case_id=case, platform_id=platform,
                                occurred_at=at, **fields))  # fmt: skip

        req = ev(RefundRequested, 0, "req", order_ref=f"o-{j}", amount_fen=10_000,
                 reason="damaged", goods_received_at=t0)  # fmt: skip
        approve = ev(RefundReviewed, 5, "rev", decision=ReviewDecision.APPROVED,
                     approved_amount_fen=10_000)  # fmt: skip
        pay = ev(RefundPaid, 10, "pay", amount_fen=10_000, channel="alipay", payment_ref="p1")
        flow = {
            "clean": [req, approve, pay],
            "early": [
                req,
                ev(RefundPaid, 3, "pay0", amount_fen=10_000, channel="alipay", payment_ref="p0"),
            ],
            "above": [
                req,
                ev(
                    RefundReviewed,
                    5,
                    "rev",
                    decision=ReviewDecision.PARTLY_APPROVED,
                    approved_amount_fen=5_000,
                ),
                ev(RefundPaid, 10, "pay", amount_fen=8_000, channel="alipay", payment_ref="p1"),
            ],
            "twice": [
                req,
                approve,
                pay,
                ev(RefundPaid, 15, "pay2", amount_fen=10_000, channel="alipay", payment_ref="p2"),
            ],
            "rereview": [
                req,
                approve,
                ev(
                    RefundReviewed,
                    7,
                    "rev2",
                    decision=ReviewDecision.REJECTED,
                    approved_amount_fen=0,
                ),
                pay,
            ],
            "rejected": [
                req,
                ev(
                    RefundReviewed,
                    5,
                    "rev",
                    decision=ReviewDecision.REJECTED,
                    approved_amount_fen=0,
                ),
                pay,
            ],
        }[name]
        steps.extend(flow)
        if violation:
            expected.add(("LifecycleViolationDetected", violation, case))
        if name == "twice":  # the second full payment also takes the total above approval
            expected.add(("LifecycleViolationDetected", "PAID_ABOVE_APPROVED", case))
    # Three breaches by one platform within 30 days: the bureau recommends an interview (约谈).
    for platform, count in breaches.items():
        for n in range(1, count // 3 + 1):
            expected.add(("InterviewRecommended", f"INTERVIEW_RECOMMENDED#{n}", platform))
    for h in range(HOURS + 1):
        steps.append(Step(START + timedelta(hours=h), None))
    # Ticks sort before events at the same instant (none coincide: events are off the hour).
    steps.sort(key=lambda s: (s.at, s.event is not None))
    return steps, expected
