"""Per-platform scorecards and chart series, computed from replayed case states and alerts.

Definitions (also in ``docs/audit.md``), all as of T:

* the 三率 and 和解率 — **one definition**, :mod:`agents.core.rates` (the live scorecard's):
  response = acknowledged with no acknowledgement breach / forwarded; resolution = return
  visits of settled complaints / return visits; satisfaction = return visits SATISFIED or
  BASICALLY_SATISFIED / return visits; settlement = SETTLED / resolved with any outcome,
  against the 85 % target. Counted over every replayed complaint of the platform.
* **overdue refund steps** — refund SLA clocks (review, payment, deliberate delay) still open
  at T and already breached; **overdue rectifications** — rectification deadlines still open at
  T and breached.
* **violations** — LifecycleViolationDetected alerts (one per recorded violation).
* SLA **compliance** per period — clock cycles met without breach / cycles decided in that
  period (decided = met, or breached at its due instant), per Asia/Shanghai day, week or month.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from agents.core import ComplaintState, ComplaintStatus, RectificationState, RefundState
from agents.core import rates as core_rates
from agents.core.engine import CaseState
from audit.collect import CaseTrail, ClockHistory
from schemas.instants import from_ms
from schemas.models import Channel

SETTLEMENT_TARGET = core_rates.SETTLEMENT_TARGET
SHANGHAI = ZoneInfo("Asia/Shanghai")
ACK_RULE = "COMPLAINT_ACKNOWLEDGE"
REFUND_RULES = frozenset({"REFUND_REVIEW", "REFUND_PAYMENT", "REFUND_DELIBERATE_DELAY"})
RECTIFICATION_RULE = "RECTIFICATION_DEADLINE"
_OPEN_CLOCK = frozenset({"RUNNING", "PAUSED"})


@dataclass(slots=True)
class CaseView:
    """One replayed case: its final state (None for an unknown case) and what was collected."""

    family: str
    case_id: str
    partition: int | None
    state: CaseState | None
    trail: CaseTrail | None

    @property
    def platform_id(self) -> str:
        if self.state is not None:
            return self.state.platform_id
        return self.trail.platform_id if self.trail is not None else ""

    @property
    def clocks(self) -> list[ClockHistory]:
        return [] if self.trail is None else list(self.trail.clocks.values())


def ratio(num: int, den: int) -> float | None:
    """Compliance shares of the charts (rounded); the bureau's rates use
    :func:`agents.core.rates.rates`, unrounded, as the live scorecard does."""
    return round(num / den, 4) if den else None


@dataclass
class PlatformTally:
    platform_id: str
    complaints: int = 0
    complaints_open: int = 0
    forwarded: int = 0
    responded_in_time: int = 0
    resolved_at_visit: int = 0
    ack_met: int = 0
    ack_breached: int = 0
    resolved: int = 0
    feedback: int = 0
    satisfied: int = 0
    settled: int = 0
    not_settled: int = 0
    refunds: int = 0
    refunds_paid: int = 0
    overdue_refund_steps: int = 0
    refund_breaches: int = 0
    rectifications: int = 0
    rectifications_verified: int = 0
    overdue_rectifications: int = 0
    warnings: int = 0
    breaches: int = 0
    escalations: int = 0
    violations: Counter[str] = field(default_factory=Counter)

    def counters(self) -> dict[str, int]:
        """The live scorecard's complaint counters (names as in ``agents.scorecard.METRICS``)."""
        return {
            "complaints": self.complaints,
            "forwarded": self.forwarded,
            "responded_in_time": self.responded_in_time,
            "resolved": self.resolved,
            "settled": self.settled,
            "feedback": self.feedback,
            "satisfied": self.satisfied,
            "resolved_at_visit": self.resolved_at_visit,
        }

    def as_json(self) -> dict[str, Any]:
        rates = core_rates.rates(self.counters())
        settlement = rates["settlement_rate"]
        return {
            "platform_id": self.platform_id,
            "complaints": {
                "filed": self.complaints,
                "open": self.complaints_open,
                "forwarded": self.forwarded,
                "responded_in_time": self.responded_in_time,
                "resolved_at_visit": self.resolved_at_visit,
                "acknowledged_in_time": self.ack_met,
                "acknowledged_late_or_overdue": self.ack_breached,
                "resolved": self.resolved,
                "feedback": self.feedback,
                "satisfied": self.satisfied,
                "settled": self.settled,
                "not_settled": self.not_settled,
            },
            "refunds": {
                "requested": self.refunds,
                "paid": self.refunds_paid,
                "breaches": self.refund_breaches,
                "overdue_steps": self.overdue_refund_steps,
            },
            "rectifications": {
                "ordered_or_found": self.rectifications,
                "verified": self.rectifications_verified,
                "overdue": self.overdue_rectifications,
            },
            "metrics": {
                **rates,
                "settlement_target": SETTLEMENT_TARGET,
                "settlement_below_target": core_rates.below_target(settlement),
                "overdue_refund_steps": self.overdue_refund_steps,
                "overdue_rectifications": self.overdue_rectifications,
                "violations": sum(self.violations.values()),
            },
            "alerts": {
                "warnings": self.warnings,
                "breaches": self.breaches,
                "escalations": self.escalations,
            },
            "violations_by_code": dict(sorted(self.violations.items())),
        }


def _breached(clock: ClockHistory) -> bool:
    return clock.breached_ms is not None


def tally(views: Iterable[CaseView]) -> dict[str, PlatformTally]:
    out: dict[str, PlatformTally] = {}
    for view in views:
        pid = view.platform_id
        t = out.get(pid)
        if t is None:
            t = out[pid] = PlatformTally(pid)
        state = view.state
        if isinstance(state, ComplaintState):
            _complaint(t, state, view.clocks)
        elif isinstance(state, RefundState):
            t.refunds += 1
            t.refunds_paid += state.payments > 0
        elif isinstance(state, RectificationState):
            t.rectifications += 1
            t.rectifications_verified += state.status.value == "VERIFIED"
        for clock in view.clocks:
            late = _breached(clock)
            if clock.rule_id == ACK_RULE:
                t.ack_met += clock.status == "MET" and not late
                t.ack_breached += late
            open_breached = late and clock.status in _OPEN_CLOCK
            if clock.rule_id in REFUND_RULES:
                t.refund_breaches += late
                t.overdue_refund_steps += open_breached
            elif clock.rule_id == RECTIFICATION_RULE:
                t.overdue_rectifications += open_breached
        for alert in [] if view.trail is None else view.trail.alerts:
            kind = alert.event_type
            t.warnings += kind == "SlaWarningRaised"
            t.breaches += kind == "SlaBreached"
            t.escalations += kind == "EscalationRaised"
            if kind == "LifecycleViolationDetected":
                t.violations[alert.rule_id] += 1
    return out


def _complaint(t: PlatformTally, state: ComplaintState, clocks: list[ClockHistory]) -> None:
    """The live fold's counters (``agents.scorecard.ComplaintFacts``) read off the state."""
    t.complaints += 1
    status = state.status
    t.complaints_open += status not in (ComplaintStatus.RESOLVED, ComplaintStatus.CLOSED)
    t.forwarded += status is not ComplaintStatus.FILED or state.channel is Channel.PLATFORM_APP
    acknowledged = status not in (ComplaintStatus.FILED, ComplaintStatus.FORWARDED)
    ack_breached = any(c.rule_id == ACK_RULE and _breached(c) for c in clocks)
    t.responded_in_time += acknowledged and not ack_breached
    t.resolved += state.outcome is not None
    if state.satisfaction is not None:
        t.feedback += 1
        t.satisfied += core_rates.is_satisfied(state.satisfaction)
        t.resolved_at_visit += core_rates.resolved_at_visit(state.outcome, state.satisfaction)
    if state.outcome is not None:
        t.settled += core_rates.is_settled(state.outcome)
        t.not_settled += state.outcome.value == "NOT_SETTLED"


# chart series ------------------------------------------------------------------------
def _local(ms: int) -> date:
    return from_ms(ms).astimezone(SHANGHAI).date()


def granularity(first: date, last: date) -> str:
    span = (last - first).days
    return "day" if span <= 62 else "week" if span <= 730 else "month"


def _period(day: date, grain: str) -> str:
    if grain == "day":
        return day.isoformat()
    if grain == "week":
        return (day - timedelta(days=day.weekday())).isoformat()
    return day.replace(day=1).isoformat()


def every_period(first: date, last: date, grain: str) -> list[str]:
    """Every period from ``first``'s to ``last``'s, in order, with or without data."""
    out: list[str] = []
    day = date.fromisoformat(_period(first, grain))
    end = _period(last, grain)
    while day.isoformat() <= end:
        out.append(day.isoformat())
        if grain == "day":
            day += timedelta(days=1)
        elif grain == "week":
            day += timedelta(days=7)
        else:
            day = (day.replace(day=28) + timedelta(days=4)).replace(day=1)
    return out


def compliance_series(views: list[CaseView]) -> dict[str, Any]:
    """SLA compliance per platform per period: cycles met in time / cycles decided."""
    decided: list[tuple[str, date, bool]] = []
    for view in views:
        for clock in view.clocks:
            if clock.breached_ms is not None:
                decided.append((view.platform_id, _local(clock.due_ms or clock.breached_ms), False))
            elif clock.status == "MET" and clock.met_ms is not None:
                decided.append((view.platform_id, _local(clock.met_ms), True))
    if not decided:
        return {"granularity": "day", "periods": [], "platforms": []}
    grain = granularity(min(d for _, d, _ in decided), max(d for _, d, _ in decided))
    cells: dict[str, dict[str, list[int]]] = defaultdict(lambda: defaultdict(lambda: [0, 0]))
    for pid, day, met in decided:
        cell = cells[pid][_period(day, grain)]
        cell[0 if met else 1] += 1
    first = min(d for _, d, _ in decided)
    last = max(d for _, d, _ in decided)
    periods = every_period(first, last, grain)  # weeks without data stay on the axis: gaps
    platforms = []
    for pid in sorted(cells):
        points = []
        for p in periods:
            n_met, breached = cells[pid].get(p, [0, 0])
            if n_met + breached:
                points.append(
                    {
                        "period": p,
                        "met": n_met,
                        "breached": breached,
                        "compliance": ratio(n_met, n_met + breached),
                    }
                )
        platforms.append({"platform_id": pid, "points": points})
    return {"granularity": grain, "periods": periods, "platforms": platforms}


def breaches_by_rule(views: list[CaseView]) -> list[dict[str, Any]]:
    counts: Counter[str] = Counter()
    for view in views:
        for alert in [] if view.trail is None else view.trail.alerts:
            if alert.event_type == "SlaBreached":
                counts[alert.rule_id] += 1
    return [{"rule_id": r, "breaches": n} for r, n in sorted(counts.items(), key=lambda x: -x[1])]


def settlement_series(tallies: dict[str, PlatformTally]) -> list[dict[str, Any]]:
    return [
        {
            "platform_id": pid,
            "settled": t.settled,
            "resolved": t.resolved,
            "settlement_rate": core_rates.ratio(t.settled, t.resolved),
        }
        for pid, t in sorted(tallies.items())
        if t.complaints
    ]
