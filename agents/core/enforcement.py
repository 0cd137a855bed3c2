"""A platform's enforcement record: interviews (约谈), orders to correct (责令改正), penalties.

Pure and immutable, like the case machines: ``handle(record, event, ctx) -> Decision`` and
``on_tick(record, now, ctx) -> Decision``; time comes in only as event times and ``now``.

Lifecycles, per item (the event's ``case_id`` is the item's id):

* interview: (recommended) → held → outcome recorded. An ``InterviewRecommended`` alert
  about the platform is remembered as open until an interview names it; an interview may
  also be held on the bureau's own initiative.
* order to correct: ordered → submitted → verified PASSED (closed) | REJECTED with a new
  deadline → submitted → … The deadline is an SLA clock of the policy's rectification rule
  (``RECTIFICATION_DEADLINE``, unit ``fixed``: the order gives the deadline), so it warns at
  the version's percentages, breaches at the deadline (the order is then *overdue*) and
  escalates to LEADERSHIP as the ladder says; a rejection restarts it on the new deadline,
  a PASSED verdict stops it.
* penalty: decided (once per decision).

An event the lifecycle does not allow (held twice, an outcome before the interview, a
submission after a PASSED verdict, a verdict before a submission, an unknown instrument
cited, …) is not applied: it is recorded on the record and raised as a
``LifecycleViolationDetected`` alert, as :func:`agents.core.engine.handle` does for cases
(code ILLEGAL_TRANSITION, or UNKNOWN_CASE for an item never opened).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from typing import Any, TypeVar

import orjson

from agents.core import sla_clock
from agents.core.alerts import threshold_alert, violation_alert
from agents.core.calendar import WorkingCalendar
from agents.core.context import Context
from agents.core.errors import DomainError
from agents.core.policy import PolicyVersion
from agents.core.sla_clock import SlaClock
from agents.core.state import CaseBase
from schemas.models import (
    ClockTicked,
    CorrectionOrdered,
    CorrectionSubmitted,
    CorrectionVerified,
    Event,
    InterviewHeld,
    InterviewOutcome,
    InterviewOutcomeRecorded,
    InterviewRecommended,
    LegalBasis,
    PenaltyDecided,
    Verdict,
    ViolationCode,
)

__all__ = [
    "DEADLINE_RULE",
    "EnforcementDecision",
    "EnforcementRecord",
    "Interview",
    "InterviewStatus",
    "Order",
    "OrderStatus",
    "Penalty",
    "Refusal",
    "UnsupportedEnforcementEventError",
    "handle",
    "on_tick",
    "record_from_json",
    "record_to_json",
    "summary",
]

DEADLINE_RULE = "RECTIFICATION_DEADLINE"
"""The policy rule whose clock times an order to correct (the rectification clock kind)."""
MAX_APPLIED_IDS = 256
MAX_REFUSALS = 32


class InterviewStatus(StrEnum):
    HELD = "HELD"
    CONCLUDED = "CONCLUDED"


class OrderStatus(StrEnum):
    ORDERED = "ORDERED"
    SUBMITTED = "SUBMITTED"
    REJECTED = "REJECTED"
    PASSED = "PASSED"


OPEN_ORDER = frozenset({OrderStatus.ORDERED, OrderStatus.SUBMITTED, OrderStatus.REJECTED})


@dataclass(frozen=True, slots=True)
class Interview:
    interview_id: str
    status: InterviewStatus
    held_at: datetime
    office: str
    recommendation_id: str | None
    commitments: tuple[str, ...]
    outcome: InterviewOutcome | None = None
    outcome_at: datetime | None = None
    order_id: str | None = None


@dataclass(frozen=True, slots=True)
class Order:
    order_id: str
    status: OrderStatus
    ordered_at: datetime
    deadline: datetime
    office: str
    instrument: str
    article: str
    policy_version: str
    clock: SlaClock | None
    """The deadline's running clock; None once the order passed."""
    cycle: int = 0
    """Deadline clocks started so far (a rejection starts the next)."""
    submissions: int = 0
    rejections: int = 0
    breaches: int = 0
    """Deadlines this order missed (each clock cycle breaches at most once)."""
    closed_at: datetime | None = None
    interview_id: str | None = None

    @property
    def overdue(self) -> bool:
        """Open and past its current deadline (the clock breached)."""
        return self.clock is not None and self.clock.breached


@dataclass(frozen=True, slots=True)
class Penalty:
    penalty_id: str
    decision_no: str
    instrument: str
    article: str
    amount_fen: int
    decided_at: datetime
    order_id: str | None


@dataclass(frozen=True, slots=True)
class Refusal:
    """An event the lifecycle refused (also raised as a LifecycleViolationDetected alert)."""

    code: ViolationCode
    event_id: str
    event_type: str
    item_id: str
    at: datetime
    detail: str


@dataclass(frozen=True, slots=True)
class EnforcementRecord:
    platform_id: str
    recommendations: tuple[str, ...] = ()
    """InterviewRecommended alert ids no interview has answered yet."""
    answered: tuple[str, ...] = ()
    interviews: tuple[Interview, ...] = ()
    orders: tuple[Order, ...] = ()
    penalties: tuple[Penalty, ...] = ()
    refusals: tuple[Refusal, ...] = ()
    refusal_count: int = 0
    applied_ids: tuple[str, ...] = ()
    last_tick_at: datetime | None = None

    def interview(self, interview_id: str) -> Interview | None:
        return next((i for i in self.interviews if i.interview_id == interview_id), None)

    def order(self, order_id: str) -> Order | None:
        return next((o for o in self.orders if o.order_id == order_id), None)

    @property
    def next_due_at(self) -> datetime | None:
        dues = [o.clock.next_at for o in self.orders if o.clock is not None and o.clock.next_at]
        return min(dues, default=None)


@dataclass(frozen=True, slots=True)
class EnforcementDecision:
    record: EnforcementRecord
    outputs: tuple[Event, ...]
    """Alerts: deadline warnings, breaches, escalations and lifecycle violations."""
    applied: bool
    """The event changed the record (False: a duplicate, a refusal or a no-op)."""


class UnsupportedEnforcementEventError(DomainError):
    """A record that is neither an enforcement event, a tick nor an interview recommendation
    reached the record (a plumbing bug, not a fact)."""


class _Refused(Exception):
    def __init__(self, code: ViolationCode, detail: str) -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail


def _illegal(detail: str) -> _Refused:
    return _Refused(ViolationCode.ILLEGAL_TRANSITION, detail)


def _unknown(detail: str) -> _Refused:
    return _Refused(ViolationCode.UNKNOWN_CASE, detail)


# ---- events ---------------------------------------------------------------------------------
def handle(record: EnforcementRecord | None, event: Event, ctx: Context) -> EnforcementDecision:
    """Apply one governance-topic record (an enforcement event, a tick, or an
    InterviewRecommended alert) to the platform's record."""
    current = record or EnforcementRecord(platform_id=event.platform_id)
    if isinstance(event, ClockTicked):
        return on_tick(current, event.tick_at, ctx)
    if event.event_id in current.applied_ids:
        return EnforcementDecision(current, (), False)
    if isinstance(event, InterviewRecommended):
        return _recommended(current, event)
    out: list[Event] = []
    current = _fire(current, event.occurred_at, ctx, out)
    try:
        current = _step(current, event, ctx, out)
    except _Refused as refused:
        current = _refuse(current, event, refused, ctx, out)
        return EnforcementDecision(_applied(current, event), tuple(out), False)
    return EnforcementDecision(_applied(current, event), tuple(out), True)


def _recommended(record: EnforcementRecord, alert: InterviewRecommended) -> EnforcementDecision:
    if alert.alert_id in record.recommendations or alert.alert_id in record.answered:
        return EnforcementDecision(record, (), False)
    updated = replace(record, recommendations=(*record.recommendations, alert.alert_id))
    return EnforcementDecision(_applied(updated, alert), (), True)


def _applied(record: EnforcementRecord, event: Event) -> EnforcementRecord:
    ids = (*record.applied_ids, event.event_id)[-MAX_APPLIED_IDS:]
    return replace(record, applied_ids=ids)


def _step(
    record: EnforcementRecord, event: Event, ctx: Context, out: list[Event]
) -> EnforcementRecord:
    item = event.case_id
    if not item:
        raise _illegal("case_id is empty: it names the interview, order or decision")
    if isinstance(event, InterviewHeld):
        return _held(record, event)
    if isinstance(event, InterviewOutcomeRecorded):
        return _outcome(record, event)
    if isinstance(event, CorrectionOrdered):
        return _ordered(record, event, ctx)
    if isinstance(event, CorrectionSubmitted):
        return _submitted(record, event)
    if isinstance(event, CorrectionVerified):
        return _verified(record, event, ctx, out)
    if isinstance(event, PenaltyDecided):
        return _penalty(record, event, ctx)
    raise UnsupportedEnforcementEventError(f"{type(event).__name__} is not an enforcement event")


def _held(record: EnforcementRecord, event: InterviewHeld) -> EnforcementRecord:
    if record.interview(event.case_id) is not None:
        raise _illegal(f"interview {event.case_id} was already held")
    rec_id = event.recommendation_id
    if rec_id is not None and rec_id in record.answered:
        raise _illegal(f"recommendation_id: {rec_id} is already answered by another interview")
    interview = Interview(
        interview_id=event.case_id,
        status=InterviewStatus.HELD,
        held_at=event.held_at,
        office=event.office,
        recommendation_id=rec_id,
        commitments=tuple(event.commitments),
    )
    recommendations, answered = record.recommendations, record.answered
    if rec_id is not None:
        recommendations = tuple(r for r in recommendations if r != rec_id)
        answered = (*answered, rec_id)
    return replace(
        record,
        interviews=(*record.interviews, interview),
        recommendations=recommendations,
        answered=answered,
    )


def _outcome(record: EnforcementRecord, event: InterviewOutcomeRecorded) -> EnforcementRecord:
    found = record.interview(event.case_id)
    if found is None:
        raise _unknown(f"an outcome for interview {event.case_id}, which was never held")
    if found.status is InterviewStatus.CONCLUDED:
        raise _illegal(f"interview {event.case_id} already has its outcome ({found.outcome})")
    done = replace(
        found,
        status=InterviewStatus.CONCLUDED,
        outcome=event.outcome,
        outcome_at=event.occurred_at,
        order_id=event.order_id,
    )
    return replace(record, interviews=_put(record.interviews, found, done))


def _check_basis(basis: LegalBasis, ctx: Context) -> None:
    if basis.instrument not in ctx.policy.instruments:
        known = ", ".join(sorted(ctx.policy.instruments))
        raise _illegal(
            f"legal_basis.instrument: {basis.instrument!r} is not an instrument of the policy "
            f"({known})"
        )


def _version(ctx: Context, at: datetime) -> PolicyVersion:
    return ctx.policy.version_at(WorkingCalendar.local_date(at))


def _start_clock(order: Order, at: datetime, deadline: datetime, ctx: Context) -> SlaClock:
    version = ctx.policy.version(order.policy_version)
    rule = version.rule(DEADLINE_RULE)
    ref = f"{DEADLINE_RULE}#{order.cycle}"
    escalate = version.ladder.leadership_after_breach_working_days if rule.escalate else 0
    return sla_clock.start(
        clock_id=f"{order.order_id}/{ref}",
        ref=ref,
        rule_id=rule.id,
        policy_version=version.id,
        unit=rule.unit,
        target=0,
        warnings=version.warnings_of(rule),
        escalate_days=escalate,
        at=at,
        cal=ctx.calendar,
        deadline=deadline,
    )


def _ordered(
    record: EnforcementRecord, event: CorrectionOrdered, ctx: Context
) -> EnforcementRecord:
    if record.order(event.case_id) is not None:
        raise _illegal(f"order {event.case_id} was already issued")
    _check_basis(event.legal_basis, ctx)
    order = Order(
        order_id=event.case_id,
        status=OrderStatus.ORDERED,
        ordered_at=event.occurred_at,
        deadline=event.deadline,
        office=event.office,
        instrument=event.legal_basis.instrument,
        article=event.legal_basis.article,
        policy_version=_version(ctx, event.occurred_at).id,
        clock=None,
        interview_id=event.interview_id,
    )
    order = replace(
        order, clock=_start_clock(order, event.occurred_at, event.deadline, ctx), cycle=1
    )
    return replace(record, orders=(*record.orders, order))


def _open_order(record: EnforcementRecord, event: Event) -> Order:
    found = record.order(event.case_id)
    if found is None:
        raise _unknown(f"{type(event).__name__} for order {event.case_id}, which was never issued")
    return found


def _submitted(record: EnforcementRecord, event: CorrectionSubmitted) -> EnforcementRecord:
    order = _open_order(record, event)
    if order.status not in (OrderStatus.ORDERED, OrderStatus.REJECTED):
        raise _illegal(
            f"a submission is not allowed while order {order.order_id} is {order.status}"
        )
    done = replace(order, status=OrderStatus.SUBMITTED, submissions=order.submissions + 1)
    return replace(record, orders=_put(record.orders, order, done))


def _verified(
    record: EnforcementRecord, event: CorrectionVerified, ctx: Context, out: list[Event]
) -> EnforcementRecord:
    order = _open_order(record, event)
    if order.status is not OrderStatus.SUBMITTED:
        raise _illegal(
            f"a verdict is not allowed while order {order.order_id} is {order.status} "
            "(only a submitted correction is verified)"
        )
    at = event.occurred_at
    if event.verdict is Verdict.PASSED:
        done = replace(order, status=OrderStatus.PASSED, clock=None, closed_at=at)
    else:
        assert event.new_deadline is not None  # the model requires it with REJECTED
        restarted = replace(order, status=OrderStatus.REJECTED, deadline=event.new_deadline)
        done = replace(
            restarted,
            clock=_start_clock(restarted, at, event.new_deadline, ctx),
            cycle=order.cycle + 1,
            rejections=order.rejections + 1,
        )
    return replace(record, orders=_put(record.orders, order, done))


def _penalty(record: EnforcementRecord, event: PenaltyDecided, ctx: Context) -> EnforcementRecord:
    if any(p.penalty_id == event.case_id for p in record.penalties):
        raise _illegal(f"penalty {event.case_id} was already decided")
    if any(p.decision_no == event.decision_no for p in record.penalties):
        raise _illegal(f"decision_no: {event.decision_no} is already recorded")
    _check_basis(event.legal_basis, ctx)
    penalty = Penalty(
        penalty_id=event.case_id,
        decision_no=event.decision_no,
        instrument=event.legal_basis.instrument,
        article=event.legal_basis.article,
        amount_fen=event.amount_fen,
        decided_at=event.decided_at,
        order_id=event.order_id,
    )
    return replace(record, penalties=(*record.penalties, penalty))


_T = TypeVar("_T")


def _put(items: tuple[_T, ...], old: _T, new: _T) -> tuple[_T, ...]:
    return tuple(new if i is old else i for i in items)


def _office(record: EnforcementRecord, event: Event, ctx: Context) -> str:
    office = getattr(event, "office", None)
    if isinstance(office, str) and office:
        return office
    for item in (record.order(event.case_id), record.interview(event.case_id)):
        if item is not None:
            return item.office
    return _version(ctx, event.occurred_at).default_office


def _refuse(
    record: EnforcementRecord, event: Event, refused: _Refused, ctx: Context, out: list[Event]
) -> EnforcementRecord:
    detail = f"{type(event).__name__}: {refused.detail}"
    out.append(
        violation_alert(
            case_id=event.case_id,
            platform_id=record.platform_id,
            office=_office(record, event, ctx),
            code=refused.code,
            offending=event,
            detail=detail,
            version=_version(ctx, event.occurred_at),
        )
    )
    entry = Refusal(
        refused.code, event.event_id, type(event).__name__, event.case_id, event.occurred_at,
        refused.detail,
    )  # fmt: skip
    return replace(
        record,
        refusals=(*record.refusals, entry)[-MAX_REFUSALS:],
        refusal_count=record.refusal_count + 1,
    )


# ---- time -----------------------------------------------------------------------------------
def on_tick(record: EnforcementRecord, now: datetime, ctx: Context) -> EnforcementDecision:
    """Cross every deadline threshold due at ``now`` (warnings, breach = overdue, escalation)."""
    out: list[Event] = []
    fired = _fire(record, now, ctx, out)
    if record.last_tick_at is None or now > record.last_tick_at:
        fired = replace(fired, last_tick_at=now)
    return EnforcementDecision(fired, tuple(out), bool(out))


def _fire(
    record: EnforcementRecord, now: datetime, ctx: Context, out: list[Event]
) -> EnforcementRecord:
    due = record.next_due_at
    if due is None or due > now:
        return record
    orders = list(record.orders)
    for i, order in enumerate(orders):
        clock = order.clock
        if clock is None or clock.next_at is None or clock.next_at > now:
            continue
        clock, firings = sla_clock.fire_due(clock, now, ctx.calendar)
        version = ctx.policy.version(clock.policy_version)
        rule = version.rule(clock.rule_id)
        subject = _subject(order, record.platform_id)
        breaches = order.breaches
        for f in firings:
            breaches += f.kind == sla_clock.BREACH
            if f.raise_alert:
                out.append(threshold_alert(subject, clock, f, rule, version, now))
        orders[i] = replace(order, clock=clock, breaches=breaches)
    return replace(record, orders=tuple(orders))


def _subject(order: Order, platform_id: str) -> CaseBase:
    # threshold_alert reads the subject's case id, platform and office only
    return CaseBase.model_construct(
        case_id=order.order_id, platform_id=platform_id, office=order.office
    )


# ---- views and storage ---------------------------------------------------------------------
def _iso(at: datetime | None) -> str | None:
    return None if at is None else at.isoformat(timespec="milliseconds")


def summary(record: EnforcementRecord) -> dict[str, Any]:
    """The platform's enforcement record as the API, the scorecard and the audit show it."""
    open_orders = [o for o in record.orders if o.status in OPEN_ORDER]
    return {
        "platform_id": record.platform_id,
        "interviews_recommended_open": len(record.recommendations),
        "interviews_held": len(record.interviews),
        "interviews_concluded": sum(
            i.status is InterviewStatus.CONCLUDED for i in record.interviews
        ),
        "orders_open": len(open_orders),
        "orders_closed": sum(o.status is OrderStatus.PASSED for o in record.orders),
        "orders_overdue": sum(o.overdue for o in open_orders),
        "penalties": len(record.penalties),
        "penalty_total_fen": sum(p.amount_fen for p in record.penalties),
        "refused_events": record.refusal_count,
        "interviews": [
            {
                "interview_id": i.interview_id,
                "status": i.status.value,
                "held_at": _iso(i.held_at),
                "office": i.office,
                "recommendation_id": i.recommendation_id,
                "commitments": list(i.commitments),
                "outcome": None if i.outcome is None else i.outcome.value,
                "order_id": i.order_id,
            }
            for i in record.interviews
        ],
        "orders": [
            {
                "order_id": o.order_id,
                "status": o.status.value,
                "ordered_at": _iso(o.ordered_at),
                "deadline": _iso(o.deadline),
                "overdue": o.overdue,
                "legal_basis": {"instrument": o.instrument, "article": o.article},
                "submissions": o.submissions,
                "rejections": o.rejections,
                "breaches": o.breaches,
                "closed_at": _iso(o.closed_at),
            }
            for o in record.orders
        ],
        "penalty_decisions": [
            {
                "penalty_id": p.penalty_id,
                "decision_no": p.decision_no,
                "legal_basis": {"instrument": p.instrument, "article": p.article},
                "amount_fen": p.amount_fen,
                "decided_at": _iso(p.decided_at),
            }
            for p in record.penalties
        ],
    }


def _dt(raw: Any) -> datetime | None:
    return None if raw is None else datetime.fromisoformat(raw)


def record_to_json(record: EnforcementRecord) -> bytes:
    """The record for the worker's table (round-trips through :func:`record_from_json`)."""

    def order(o: Order) -> dict[str, Any]:
        return {
            "order_id": o.order_id, "status": o.status.value, "ordered_at": _iso(o.ordered_at),
            "deadline": _iso(o.deadline), "office": o.office, "instrument": o.instrument,
            "article": o.article, "policy_version": o.policy_version,
            "clock": None if o.clock is None else o.clock.model_dump(mode="json"),
            "cycle": o.cycle, "submissions": o.submissions, "rejections": o.rejections,
            "breaches": o.breaches, "closed_at": _iso(o.closed_at), "interview_id": o.interview_id,
        }  # fmt: skip

    data = {
        "platform_id": record.platform_id,
        "recommendations": list(record.recommendations),
        "answered": list(record.answered),
        "interviews": [
            {
                "interview_id": i.interview_id,
                "status": i.status.value,
                "held_at": _iso(i.held_at),
                "office": i.office,
                "recommendation_id": i.recommendation_id,
                "commitments": list(i.commitments),
                "outcome": None if i.outcome is None else i.outcome.value,
                "outcome_at": _iso(i.outcome_at),
                "order_id": i.order_id,
            }
            for i in record.interviews
        ],
        "orders": [order(o) for o in record.orders],
        "penalties": [
            {
                "penalty_id": p.penalty_id,
                "decision_no": p.decision_no,
                "instrument": p.instrument,
                "article": p.article,
                "amount_fen": p.amount_fen,
                "decided_at": _iso(p.decided_at),
                "order_id": p.order_id,
            }
            for p in record.penalties
        ],
        "refusals": [
            {
                "code": r.code.value,
                "event_id": r.event_id,
                "event_type": r.event_type,
                "item_id": r.item_id,
                "at": _iso(r.at),
                "detail": r.detail,
            }
            for r in record.refusals
        ],
        "refusal_count": record.refusal_count,
        "applied_ids": list(record.applied_ids),
        "last_tick_at": _iso(record.last_tick_at),
    }
    return orjson.dumps(data)


def record_from_json(raw: bytes | str) -> EnforcementRecord:
    d = orjson.loads(raw)
    return EnforcementRecord(
        platform_id=d["platform_id"],
        recommendations=tuple(d["recommendations"]),
        answered=tuple(d["answered"]),
        interviews=tuple(
            Interview(
                interview_id=i["interview_id"],
                status=InterviewStatus(i["status"]),
                held_at=datetime.fromisoformat(i["held_at"]),
                office=i["office"],
                recommendation_id=i["recommendation_id"],
                commitments=tuple(i["commitments"]),
                outcome=None if i["outcome"] is None else InterviewOutcome(i["outcome"]),
                outcome_at=_dt(i["outcome_at"]),
                order_id=i["order_id"],
            )
            for i in d["interviews"]
        ),
        orders=tuple(
            Order(
                order_id=o["order_id"],
                status=OrderStatus(o["status"]),
                ordered_at=datetime.fromisoformat(o["ordered_at"]),
                deadline=datetime.fromisoformat(o["deadline"]),
                office=o["office"],
                instrument=o["instrument"],
                article=o["article"],
                policy_version=o["policy_version"],
                clock=None if o["clock"] is None else SlaClock.model_validate(o["clock"]),
                cycle=o["cycle"],
                submissions=o["submissions"],
                rejections=o["rejections"],
                breaches=o["breaches"],
                closed_at=_dt(o["closed_at"]),
                interview_id=o["interview_id"],
            )
            for o in d["orders"]
        ),
        penalties=tuple(
            Penalty(
                penalty_id=p["penalty_id"],
                decision_no=p["decision_no"],
                instrument=p["instrument"],
                article=p["article"],
                amount_fen=p["amount_fen"],
                decided_at=datetime.fromisoformat(p["decided_at"]),
                order_id=p["order_id"],
            )
            for p in d["penalties"]
        ),
        refusals=tuple(
            Refusal(
                code=ViolationCode(r["code"]),
                event_id=r["event_id"],
                event_type=r["event_type"],
                item_id=r["item_id"],
                at=datetime.fromisoformat(r["at"]),
                detail=r["detail"],
            )
            for r in d["refusals"]
        ),
        refusal_count=d["refusal_count"],
        applied_ids=tuple(d["applied_ids"]),
        last_tick_at=_dt(d["last_tick_at"]),
    )
