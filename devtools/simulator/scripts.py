"""One case's whole story, written when the case is born: a short list of timed sends.

A script is bounded (a dozen events at most), so the generator keeps only the open cases'
remaining steps and forgets a case when its last step is sent. Every random choice comes
from the case's own generator (seeded by the run's seed and the case id), so a case's story
does not depend on what else happened in the run.
"""

from __future__ import annotations

import random
import uuid
from datetime import datetime, timedelta
from typing import Any

from devtools.simulator.behaviour import Behaviour, Delay, load_factor
from devtools.simulator.malformed import resend
from devtools.simulator.model import Send, Sender
from devtools.simulator.platforms import SimPlatform
from devtools.simulator.workcal import working_days_after
from schemas.models import (
    Category,
    Channel,
    ComplaintAcknowledged,
    ComplaintEscalated,
    ComplaintFeedbackRecorded,
    ComplaintFiled,
    ComplaintForwarded,
    ComplaintReopened,
    ComplaintResolved,
    ComplaintResumed,
    ComplaintSuspended,
    Event,
    InspectionFindingRecorded,
    Level,
    Outcome,
    Priority,
    RectificationOrdered,
    RectificationRejected,
    RectificationSubmitted,
    RectificationVerified,
    RefundPaid,
    RefundRequested,
    RefundReviewed,
    ReviewDecision,
    Satisfaction,
    SuspendReason,
)
from streams.codec import EventCodec

OFFICES = ("HD-ZGC", "HD-DS", "HD-HDJ", "HD-XSQ", "HD-QH")
"""Local offices (市场监管所): Zhongguancun, Dongsheng, Haidian street, Xisanqi, Qinghe."""
NEGATIVE_LIST = ("NL-01", "NL-02", "NL-03", "NL-04", "NL-05", "NL-06")
"""Codes of agents/policy/negative_list.yaml in force all through the default window (NL-07
only from 2026-10-01): the six the simulator's findings cite."""
NO_REASON_RETURN = "no-reason 7-day return"
"""The reason of a no-reason return (七天无理由退货), the only refunds the statutory clocks time."""
REFUND_REASONS = (
    "goods damaged in delivery",
    "not as described",
    NO_REASON_RETURN,
    "valuation dispute",
    "order not delivered",
)
UNKNOWN_POLICY_VERSION = "SAMR-121-DRAFT"
"""A version name the bureau's policy file does not have (the platform assumed the draft)."""
HOUR = timedelta(hours=1)
DAY = timedelta(days=1)


def _hours(rng: random.Random, low: float, high: float) -> timedelta:
    return timedelta(hours=rng.uniform(low, high))


class CaseScript:
    """Collects one case's sends; events get ids from the case's own generator."""

    def __init__(self, platform: SimPlatform, case_id: str, rng: random.Random) -> None:
        self.platform = platform
        self.case_id = case_id
        self.rng = rng
        self.sends: list[Send] = []

    def event_id(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def _event(self, cls: type[Event], at: datetime, **fields: Any) -> Event:
        return cls(
            event_id=self.event_id(),
            case_id=self.case_id,
            platform_id=fields.pop("platform_id", self.platform.platform_id),
            occurred_at=at,
            **fields,
        )

    def by_platform(self, at: datetime, cls: type[Event], **fields: Any) -> Send:
        event = self._event(cls, at, **fields)
        send = Send(at, Sender.PLATFORM, self.platform.platform_id, self.case_id, event)
        self.sends.append(send)
        return send

    def by_bureau(self, at: datetime, unit: str, cls: type[Event], **fields: Any) -> Send:
        event = self._event(cls, at, **fields)
        send = Send(at, Sender.BUREAU, "bureau", self.case_id, event, unit=unit)
        self.sends.append(send)
        return send


# ---- complaints ------------------------------------------------------------------------
def _satisfaction(rng: random.Random, settled: bool) -> Satisfaction:
    weights = (0.7, 0.25, 0.05) if settled else (0.15, 0.3, 0.55)
    return rng.choices(list(Satisfaction), weights)[0]


def _outcome(rng: random.Random, b: Behaviour) -> Outcome:
    if rng.random() < b.settle_rate:
        return Outcome.SETTLED
    return Outcome.WITHDRAWN if rng.random() < 0.1 else Outcome.NOT_SETTLED


def _resolve(s: CaseScript, b: Behaviour, at: datetime, claimed: int, insured: bool) -> Outcome:
    rng = s.rng
    outcome = _outcome(rng, b)
    share = 1.0 if insured else rng.uniform(0.4, 1.0)  # uninsured damage: fair-share payouts
    pay = int(claimed * share) if outcome is Outcome.SETTLED else 0
    s.by_platform(at, ComplaintResolved, outcome=outcome, compensation_fen=pay)
    return outcome


def complaint(
    s: CaseScript,
    b: Behaviour,
    t0: datetime,
    *,
    channel: Channel,
    category: Category,
    insured_share: float,
    codec: EventCodec,
    out_of_order: bool = False,
    unknown_version: bool = False,
    hold_until: datetime | None = None,
    routine: bool = False,
) -> None:
    """A complaint received at ``t0`` (hotline intake, or filing in the platform's app).

    ``hold_until`` keeps it unresolved until then; ``routine`` rules out the random detours
    (late registration, slow forwarding, suspensions), for carried-over cases whose
    deadlines are planned."""
    rng = s.rng
    urgent = rng.random() < (0.25 if category is Category.FOOD_SAFETY else 0.06)
    priority = Priority.URGENT if urgent else Priority.NORMAL
    claimed = rng.randint(20, 3000) * 100
    insured = category is Category.DELIVERY_GOODS_DAMAGE and rng.random() < insured_share
    filed = {
        "channel": channel,
        "category": category,
        "priority": priority,
        "merchant_ref": f"m-{rng.getrandbits(24):06x}",
        "claimed_amount_fen": claimed,
        "insured": insured,
        "declared_value_fen": claimed if insured else None,
        "office": rng.choice(OFFICES),
        "consumer_ref": f"c-{rng.getrandbits(32):08x}",
        "live_room_ref": f"lr-{rng.getrandbits(32):08x}"
        if category is Category.LIVESTREAM_SALES
        else None,
    }
    ack_delay = b.ack_urgent if urgent else b.ack
    if channel is Channel.PLATFORM_APP:
        version = UNKNOWN_POLICY_VERSION if unknown_version else None
        s.by_platform(t0, ComplaintFiled, intake_at=t0, policy_rule_version=version, **filed)
        ack_at = t0 + ack_delay.draw(rng, load_factor(b, t0))
        ack = s.by_platform(ack_at, ComplaintAcknowledged, handler_ref=f"cs-{rng.randint(1, 400)}")
    else:
        unit = {Channel.HOTLINE_12345: "hotline-12345", Channel.HOTLINE_12315: "hotline-12315"}
        source = unit.get(channel, str(filed["office"]))
        late = (
            not routine and rng.random() < 0.02
        )  # registered a day late: the 24 h sign-for limit is gone
        quick = (0.05, 0.25) if urgent else (0.1, 1.5)  # urgent work orders jump the queue
        filed_at = t0 + (_hours(rng, 26, 34) if late else _hours(rng, *quick))
        s.by_bureau(filed_at, source, ComplaintFiled, intake_at=t0, **filed)
        slow = not routine and rng.random() < 0.04
        forward = (0.08, 0.5) if urgent else (0.2, 4)
        fwd_at = filed_at + (_hours(rng, 60, 300) if slow else _hours(rng, *forward))
        s.by_bureau(fwd_at, source, ComplaintForwarded, forwarded_by=source)
        if out_of_order:  # "resolved" without ever signing for it: illegal, not applied
            _resolve(s, b, fwd_at + _hours(rng, 0.5, 6), claimed, insured)
        ack_at = fwd_at + ack_delay.draw(rng, load_factor(b, fwd_at))
        overdue = t0 + 48 * HOUR
        if fwd_at < overdue < ack_at and rng.random() < 0.6:
            s.by_bureau(
                overdue,
                str(filed["office"]),
                ComplaintEscalated,
                level=Level.DEPARTMENT,
                reason="work order not signed for in 48 h",
            )
        ack = s.by_platform(ack_at, ComplaintAcknowledged, handler_ref=f"cs-{rng.randint(1, 400)}")
    if b.resend_share and rng.random() < b.resend_share:
        s.sends.append(resend(ack, codec, ack_at + _hours(rng, 0.05, 2)))
    _handle(s, b, ack_at, channel, category, claimed, insured, hold_until, routine)


def _handle(
    s: CaseScript,
    b: Behaviour,
    t: datetime,
    channel: Channel,
    category: Category,
    claimed: int,
    insured: bool,
    hold_until: datetime | None,
    routine: bool,
) -> None:
    rng = s.rng
    resolved = False
    paused_by = {
        Category.FOOD_SAFETY: SuspendReason.TESTING,
        Category.SECONDHAND_VALUATION: SuspendReason.APPRAISAL,
    }.get(category)
    if routine:
        pass
    elif paused_by is not None and rng.random() < 0.3:
        sus_at = t + _hours(rng, 2, 30)
        s.by_platform(sus_at, ComplaintSuspended, reason=paused_by, note="sent for " + paused_by)
        t = sus_at + timedelta(days=rng.uniform(*b.testing_days))
        s.by_platform(t, ComplaintResumed, note="result received")
    elif channel is Channel.HOTLINE_12315 and rng.random() < b.odr_share:
        sus_at = t + _hours(rng, 1, 24)
        s.by_platform(sus_at, ComplaintSuspended, reason=SuspendReason.ODR_NEGOTIATION)
        t = sus_at + timedelta(days=rng.uniform(*b.odr_days))
        if rng.random() < 0.6:  # agreement reached in the ODR channel, resolved while suspended
            _resolve(s, b, t, claimed, insured)
            resolved = True
        else:
            s.by_platform(t, ComplaintResumed, note="ODR negotiation ended without agreement")
    if not resolved:
        t = max(t + b.resolve.draw(rng, load_factor(b, t)), hold_until or t)
        _resolve(s, b, t, claimed, insured)
    if channel is Channel.PLATFORM_APP:
        return  # the bureau makes return visits for the work orders it forwarded
    fb_at = t + _hours(rng, 20, 72)
    outcome = s.sends[-1].event
    settled = isinstance(outcome, ComplaintResolved) and outcome.outcome is Outcome.SETTLED
    satisfaction = _satisfaction(rng, settled)
    s.by_bureau(fb_at, "return-visit", ComplaintFeedbackRecorded, satisfaction=satisfaction)
    if satisfaction is Satisfaction.UNSATISFIED and rng.random() < 0.4:
        again = fb_at + _hours(rng, 2, 24)
        s.by_bureau(
            again,
            "return-visit",
            ComplaintReopened,
            reason="consumer unsatisfied at the return visit",
        )
        done = again + b.resolve.draw(rng, 0.7 * load_factor(b, again))
        outcome2 = _resolve(s, b, done, claimed, insured)
        s.by_bureau(
            done + _hours(rng, 20, 72),
            "return-visit",
            ComplaintFeedbackRecorded,
            satisfaction=_satisfaction(rng, outcome2 is Outcome.SETTLED),
        )


# ---- refunds ---------------------------------------------------------------------------
VIOLATION_CYCLE = (
    "PAID_BEFORE_APPROVAL",
    "PAID_ABOVE_APPROVED",
    "PAID_TWICE",
    "REVIEWED_TWICE",
    "PAID_AFTER_REJECTION",
    "ILLEGAL_TRANSITION",
    "UNKNOWN_CASE",
)
"""What a NON_COMPLIANT platform's k-th misbehaving refund does (k round-robin)."""


def refund(
    s: CaseScript,
    b: Behaviour,
    t0: datetime,
    violation: str | None = None,
    *,
    review_delay: Delay | None = None,
    pay_delay: Delay | None = None,
    reason: str | None = None,
) -> None:
    """A three-step refund requested at ``t0``; ``violation`` makes it break the flow."""
    rng = s.rng
    if violation == "UNKNOWN_CASE":  # pays out on an order the bureau never saw requested
        s.by_platform(
            t0,
            RefundPaid,
            amount_fen=rng.randint(10, 800) * 100,
            channel="wechat-pay",
            payment_ref=f"p-{rng.getrandbits(40):010x}",
        )
        return
    amount = rng.randint(10, 2000) * 100
    goods: datetime | None = t0 - _hours(rng, 0, 48) if rng.random() < 0.6 else None
    if violation == "PAID_BEFORE_APPROVAL" and goods is None:
        goods = t0 - _hours(rng, 0, 12)
    s.by_platform(
        t0,
        RefundRequested,
        order_ref=f"o-{rng.getrandbits(40):010x}",
        amount_fen=amount,
        reason=reason if reason is not None else rng.choice(REFUND_REASONS),
        goods_received_at=goods,
    )
    if violation == "ILLEGAL_TRANSITION":  # the same refund requested a second time
        s.by_platform(
            t0 + _hours(rng, 1, 24),
            RefundRequested,
            order_ref="o-duplicate",
            amount_fen=amount,
            reason="resubmitted",
        )
    rd, pd = review_delay or b.review, pay_delay or b.pay

    def pay(at: datetime, fen: int) -> None:
        s.by_platform(
            at,
            RefundPaid,
            amount_fen=fen,
            channel=rng.choice(("alipay", "wechat-pay")),
            payment_ref=f"p-{rng.getrandbits(40):010x}",
        )

    def review(at: datetime, decision: ReviewDecision, fen: int) -> None:
        s.by_platform(at, RefundReviewed, decision=decision, approved_amount_fen=fen)

    rev_at = t0 + rd.draw(rng, load_factor(b, t0))
    if violation == "PAID_BEFORE_APPROVAL":
        paid_at = t0 + _hours(rng, 1, 24)
        pay(paid_at, amount)
        review(paid_at + _hours(rng, 2, 48), ReviewDecision.APPROVED, amount)
        return
    if violation == "PAID_AFTER_REJECTION":
        review(rev_at, ReviewDecision.REJECTED, 0)
        pay(rev_at + _hours(rng, 2, 72), amount)
        return
    roll = rng.random()
    if violation == "PAID_ABOVE_APPROVED" or (violation is None and roll < 0.1):
        decision, approved = ReviewDecision.PARTLY_APPROVED, int(amount * rng.uniform(0.3, 0.8))
    elif violation is None and roll < 0.22:
        review(rev_at, ReviewDecision.REJECTED, 0)
        return
    else:
        decision, approved = ReviewDecision.APPROVED, amount
    review(rev_at, decision, approved)
    if violation == "REVIEWED_TWICE":
        review(rev_at + _hours(rng, 1, 48), ReviewDecision.REJECTED, 0)
    paid_at = rev_at + pd.draw(rng, load_factor(b, rev_at))
    pay(paid_at, amount if violation == "PAID_ABOVE_APPROVED" else approved)
    if violation == "PAID_TWICE":
        pay(paid_at + _hours(rng, 1, 72), approved)


# ---- inspections and rectifications -----------------------------------------------------
def rectification(
    s: CaseScript,
    b: Behaviour,
    t0: datetime,
    spot_check_id: str,
    *,
    deadline: datetime | None = None,
    submit_at: datetime | None = None,
) -> None:
    """A cloud spot check finding at ``t0`` → order → submission → verification."""
    rng = s.rng
    office = rng.choice(OFFICES)
    s.by_bureau(
        t0,
        "cloud-spot-check",
        InspectionFindingRecorded,
        spot_check_id=spot_check_id,
        live_room_ref=f"lr-{rng.getrandbits(32):08x}",
        anchor_ref=f"anchor-{rng.getrandbits(24):06x}",
        negative_list_code=rng.choice(NEGATIVE_LIST),
        evidence_refs=[f"rec-{rng.getrandbits(32):08x}"],
        inspecting_unit="joint-cloud-check",
        office=office,
    )
    ord_at = t0 + _hours(rng, 1, 26)
    due = deadline or working_days_after(ord_at, rng.choice((5, 7, 10)))
    unit = "network-trading-dept"
    s.by_bureau(
        ord_at,
        unit,
        RectificationOrdered,
        deadline=due,
        required_actions=["remove the claim", "retrain the anchor"],
        ordering_unit="HD-AMR network trading department",
    )
    sub_at = submit_at or ord_at + (due - ord_at) * rng.uniform(*b.submit_share)
    s.by_platform(sub_at, RectificationSubmitted, evidence_refs=[f"fix-{rng.getrandbits(32):08x}"])
    check_at = sub_at + _hours(rng, 4, 60)
    if rng.random() < 0.2:
        new_due = working_days_after(check_at, 3)
        s.by_bureau(
            check_at,
            unit,
            RectificationRejected,
            reason="replay still shows the claim",
            new_deadline=new_due,
        )
        again = check_at + (new_due - check_at) * rng.uniform(*b.submit_share)
        s.by_platform(
            again, RectificationSubmitted, evidence_refs=[f"fix-{rng.getrandbits(32):08x}"]
        )
        check_at = again + _hours(rng, 4, 48)
    s.by_bureau(check_at, unit, RectificationVerified, verified_by=office)
