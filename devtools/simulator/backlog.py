"""Cases carried over from before the window, planned to fall due inside it.

A real month does not start empty: the bureau has mediations forwarded two months ago, ODR
negotiations that stalled, refunds the merchant still has not paid, rectifications ordered
after last month's spot check. Their deadlines are long (45 working days for mediation, five
more working days before a LEADERSHIP escalation), so without them a short run would never
show those rules. Each platform gets a few, timed with the simulator's own working-day
arithmetic so that their deadlines pass in the first days of the window.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta

from devtools.simulator.behaviour import BEHAVIOURS, Delay
from devtools.simulator.config import SimConfig
from devtools.simulator.platforms import LINES, SimPlatform
from devtools.simulator.scripts import (
    NO_REASON_RETURN,
    OFFICES,
    CaseScript,
    complaint,
    rectification,
    refund,
)
from devtools.simulator.workcal import at_local, end_of, local_day, nth_day
from schemas.models import (
    Channel,
    ComplaintAcknowledged,
    ComplaintFeedbackRecorded,
    ComplaintFiled,
    ComplaintForwarded,
    ComplaintResolved,
    ComplaintSuspended,
    Outcome,
    Priority,
    RefundPaid,
    RefundRequested,
    RefundReviewed,
    ReviewDecision,
    Satisfaction,
    SuspendReason,
)
from streams.codec import EventCodec

ScriptFactory = Callable[[SimPlatform, str], CaseScript]
"""(platform, family letter) -> a new script with a fresh case id and its own generator."""


def start_for_due(due_day: date, working_days: int) -> date:
    """The latest day whose ``working_days`` period (from the next day) ends by ``due_day``."""
    day = due_day
    while nth_day(day + timedelta(days=1), working_days, True) > due_day:
        day -= timedelta(days=1)
    return day


def carried_over(
    cfg: SimConfig, platform: SimPlatform, new_script: ScriptFactory, codec: EventCodec
) -> list[CaseScript]:
    b = BEHAVIOURS[platform.profile]
    traits = LINES[platform.line]
    first_cat = traits.categories[0][0]
    start_day = cfg.start
    last = max(0, cfg.days - 1)
    out: list[CaseScript] = []

    # A mediation forwarded ~45 working days ago, resolved only after its deadline.
    s = new_script(platform, "C")
    due_day = start_day + timedelta(days=s.rng.randint(-4, min(4, last)))
    fwd_day = start_for_due(due_day, 45)
    t0 = at_local(fwd_day, 9, s.rng.randint(0, 59))
    complaint(
        s,
        b,
        t0,
        channel=Channel.HOTLINE_12345,
        category=first_cat,
        insured_share=traits.insured_share,
        codec=codec,
        routine=True,
        hold_until=end_of(due_day) + timedelta(days=s.rng.uniform(1, 6)),
    )
    out.append(s)

    # A 12315 complaint stuck in ODR negotiation for more than 10 working days.
    s = new_script(platform, "C")
    odr_due = start_day + timedelta(days=s.rng.randint(0, min(3, last)))
    sus_day = start_for_due(odr_due, 10)
    _odr_overdue(s, at_local(sus_day, 15), end_of(odr_due) + timedelta(days=s.rng.uniform(1, 4)))
    out.append(s)

    # A 12345 work order the bureau forwarded late (over the holiday backlog).
    s = new_script(platform, "C")
    accept_due = start_day + timedelta(days=s.rng.randint(0, min(2, last)))
    filed_day = start_for_due(accept_due, 7)
    _forwarded_late(s, at_local(filed_day, 10), end_of(accept_due))
    out.append(s)

    # A refund approved weeks ago and still unpaid (Order 73: deliberate delay after 15 days).
    s = new_script(platform, "R")
    requested = cfg.start_at - timedelta(days=s.rng.uniform(17, 20))
    _unpaid_refund(s, requested, cfg.start_at + timedelta(days=s.rng.uniform(1, min(6, last + 1))))
    out.append(s)

    # A no-reason return nobody handled within the 15 days of Order 73 Art. 9(1) (SAMR-121;
    # under SAMR-20 the bureau's 7-day three-step practice).
    s = new_script(platform, "R")
    requested = cfg.start_at - timedelta(days=s.rng.uniform(15.5, 17))
    refund(
        s,
        b,
        requested,
        review_delay=_until(requested, cfg.start_at, s, last),
        reason=NO_REASON_RETURN,
    )
    out.append(s)

    if traits.spot_checks:  # last month's spot check: an order already past its deadline
        s = new_script(platform, "X")
        found = cfg.start_at - timedelta(days=s.rng.uniform(12, 16))
        deadline = end_of(start_day - timedelta(days=s.rng.randint(1, 3)))
        submit = cfg.start_at + timedelta(days=s.rng.uniform(0.3, 2))
        check_id = f"SC-{local_day(found):%Y%m}"
        rectification(s, b, found, check_id, deadline=deadline, submit_at=submit)
        out.append(s)
    return out


def _filed(s: CaseScript, at: datetime, intake: datetime, channel: Channel, unit: str) -> None:
    rng = s.rng
    s.by_bureau(
        at,
        unit,
        ComplaintFiled,
        channel=channel,
        category=LINES[s.platform.line].categories[0][0],
        priority=Priority.NORMAL,
        claimed_amount_fen=rng.randint(50, 900) * 100,
        insured=False,
        office=rng.choice(OFFICES),
        consumer_ref=f"c-{rng.getrandbits(32):08x}",
        intake_at=intake,
    )


def _odr_overdue(s: CaseScript, suspended_at: datetime, resolved_at: datetime) -> None:
    intake = suspended_at - timedelta(days=2, hours=5)
    _filed(s, intake + timedelta(minutes=40), intake, Channel.HOTLINE_12315, "hotline-12315")
    s.by_bureau(
        intake + timedelta(hours=2),
        "hotline-12315",
        ComplaintForwarded,
        forwarded_by="hotline-12315",
    )
    s.by_platform(intake + timedelta(hours=7), ComplaintAcknowledged, handler_ref="cs-odr")
    s.by_platform(
        suspended_at,
        ComplaintSuspended,
        reason=SuspendReason.ODR_NEGOTIATION,
        note="consumer moved to the 12315 ODR channel",
    )
    s.by_platform(
        resolved_at,
        ComplaintResolved,
        outcome=Outcome.SETTLED,
        compensation_fen=s.rng.randint(20, 300) * 100,
    )


def _forwarded_late(s: CaseScript, intake: datetime, accept_due: datetime) -> None:
    rng = s.rng
    _filed(s, intake + timedelta(minutes=30), intake, Channel.HOTLINE_12345, "hotline-12345")
    fwd = accept_due + timedelta(hours=rng.uniform(12, 40))
    s.by_bureau(
        fwd,
        "hotline-12345",
        ComplaintForwarded,
        forwarded_by="hotline-12345",
        note="forwarded late: post-holiday backlog",
    )
    ack = fwd + timedelta(hours=rng.uniform(1, 5))
    s.by_platform(ack, ComplaintAcknowledged, handler_ref="cs-backlog")
    done = ack + timedelta(days=rng.uniform(1, 3))
    s.by_platform(
        done,
        ComplaintResolved,
        outcome=Outcome.SETTLED,
        compensation_fen=rng.randint(20, 300) * 100,
    )
    s.by_bureau(
        done + timedelta(days=1),
        "return-visit",
        ComplaintFeedbackRecorded,
        satisfaction=Satisfaction.BASICALLY_SATISFIED,
    )


def _unpaid_refund(s: CaseScript, requested: datetime, paid: datetime) -> None:
    rng = s.rng
    amount = rng.randint(100, 2000) * 100
    s.by_platform(
        requested,
        RefundRequested,
        order_ref=f"o-{rng.getrandbits(40):010x}",
        amount_fen=amount,
        reason=NO_REASON_RETURN,  # Order 73 Art. 9(2) covers no-reason returns only
        goods_received_at=requested - timedelta(hours=2),
    )
    s.by_platform(
        requested + timedelta(days=1),
        RefundReviewed,
        decision=ReviewDecision.APPROVED,
        approved_amount_fen=amount,
    )
    s.by_platform(
        paid,
        RefundPaid,
        amount_fen=amount,
        channel="bank-transfer",
        payment_ref=f"p-{rng.getrandbits(40):010x}",
    )


def _until(since: datetime, start: datetime, s: CaseScript, last: int) -> Delay:
    """A delay from ``since`` to a moment in the first days of the window."""
    hours = (start - since).total_seconds() / 3600 + s.rng.uniform(12, 24 * min(3, last + 1))
    return Delay(hours, hours)
