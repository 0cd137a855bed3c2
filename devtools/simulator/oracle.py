"""The expected alerts of one case, from the simulator's own reading of docs/policy.md.

:class:`CaseOracle` is fed the case's events in the order the system will see them (only the
ones ingress routes) and reports every alert the bureau should raise, with the instant it is
observed on the simulator's tick grid. Lifecycle legality (which events are illegal
transitions or payment violations, and whether they still apply) is written here again from
the documented state machines; nothing is imported from ``agents.core``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime

from devtools.simulator.clock import BREACH, ESCALATE, SimClock, TickGrid
from devtools.simulator.model import ExpectedAlert
from devtools.simulator.rules import (
    BREACH_LEVEL,
    ESCALATION_STYLE,
    KNOWN_POLICY_VERSIONS,
    PAUSING_REASONS,
    RULES_BY_VERSION,
    SIGNAL_STYLE,
    VIOLATION_STYLE,
    WARNING_STYLE,
    RuleSpec,
    version_on,
)
from devtools.simulator.scorecards import ACK_RULE, ComplaintFacts
from devtools.simulator.workcal import local_day
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
    Priority,
    RectificationOrdered,
    RectificationRejected,
    RectificationSubmitted,
    RectificationVerified,
    RefundPaid,
    RefundRequested,
    RefundReviewed,
    ReviewDecision,
    Severity,
)

OPENERS: dict[type[Event], str] = {
    ComplaintFiled: "complaint",
    RefundRequested: "refund",
    InspectionFindingRecorded: "rectification",
}
_OPEN = frozenset({"FILED", "FORWARDED", "ACKNOWLEDGED", "SUSPENDED"})
_COMPLAINT_FROM: dict[type[Event], frozenset[str]] = {
    ComplaintForwarded: frozenset({"FILED"}),
    ComplaintAcknowledged: frozenset({"FORWARDED"}),
    ComplaintSuspended: frozenset({"ACKNOWLEDGED"}),
    ComplaintResumed: frozenset({"SUSPENDED"}),
    ComplaintEscalated: _OPEN,
    ComplaintResolved: frozenset({"ACKNOWLEDGED", "SUSPENDED"}),
    ComplaintFeedbackRecorded: frozenset({"RESOLVED"}),
    ComplaintReopened: frozenset({"RESOLVED", "CLOSED"}),
}
_RECTIFICATION_FROM: dict[type[Event], frozenset[str]] = {
    RectificationOrdered: frozenset({"FINDING"}),
    RectificationSubmitted: frozenset({"ORDERED", "REJECTED"}),
    RectificationVerified: frozenset({"SUBMITTED"}),
    RectificationRejected: frozenset({"SUBMITTED"}),
}
Trigger = tuple[str, datetime, datetime | None]
"""(name, instant, deadline for ``ordered`` / ``deadline_reset``)."""
AlertSink = Callable[[ExpectedAlert], None]


class CaseOracle:
    """One case's lifecycle and clocks; ``feed`` each routed event, then ``finish``."""

    def __init__(self, grid: TickGrid, sink: AlertSink) -> None:
        self.grid = grid
        self.sink = sink
        self.kind: str | None = None
        self.case_id = ""
        self.platform_id = ""
        self.status = ""
        self.channel: Channel | None = None
        self.priority: Priority | None = None
        self.category: Category | None = None
        self.version = ""
        """The policy version the case is pinned to (by its start day)."""
        self.started: date | None = None
        self.refund_reason: str | None = None
        self.clocks: dict[str, SimClock] = {}
        self.last_obs: datetime | None = None
        self.met: dict[str, bool] = {}
        """Rule id -> met in time, for every clock stopped so far (last cycle wins)."""
        self.breached_rules: set[str] = set()
        self.violations: list[str] = []
        self.decision: ReviewDecision | None = None
        self.approved = 0
        self.paid = 0
        self.payments = 0
        self.goods_received = False
        self.facts: ComplaintFacts | None = None
        """A complaint's scorecard facts (None for the other case kinds)."""

    # ---- feeding -------------------------------------------------------------------------
    def feed(self, event: Event, sent_at: datetime | None = None) -> None:
        """``sent_at``: when the record is published (default: the event's own time)."""
        at = event.occurred_at
        sent = sent_at or at
        before = self.facts.signal_counters() if self.facts is not None else (0, 0, 0)
        self._feed(event, at)
        if self.facts is not None:
            self.facts.changed(sent, before)

    def _feed(self, event: Event, at: datetime) -> None:
        if self.kind is None:
            kind = OPENERS.get(type(event))
            if kind is None:
                self._violation("UNKNOWN_CASE", event)
                return
            self._open(kind, event)
            return
        self._observe(until=at)
        triggers = self._step(event)
        self._apply(triggers)
        self._fire_all(at)
        self.last_obs = at

    def finish(self) -> None:
        """Observe the remaining ticks of the grid."""
        if self.kind is not None:
            self._observe(until=None)

    # ---- observation ---------------------------------------------------------------------
    def _observe(self, until: datetime | None) -> None:
        """Fire thresholds at the ticks before ``until`` (or to the grid's end), then at
        ``until`` itself (the event's own time, where the core fires before applying it)."""
        for clock in list(self.clocks.values()):
            while (nxt := clock.next_at()) is not None:
                seen = self.grid.first_at_or_after(nxt[1])
                if seen is None or (until is not None and seen >= until):
                    break
                self._emit_crossings(clock, seen)
        if until is not None:
            self._fire_all(until)

    def _fire_all(self, at: datetime) -> None:
        for clock in list(self.clocks.values()):
            self._emit_crossings(clock, at)

    def _emit_crossings(self, clock: SimClock, at: datetime) -> None:
        for c in clock.fire(at):
            if c.mark == BREACH:
                self.breached_rules.add(clock.rule.id)
            if not c.alerted:
                continue
            if c.mark == BREACH:
                kind, level, severity = "SlaBreached", BREACH_LEVEL, clock.rule.breach_severity
            elif c.mark == ESCALATE:
                kind, (level, severity) = "EscalationRaised", ESCALATION_STYLE
            else:
                kind = "SlaWarningRaised"
                level, severity = WARNING_STYLE[int(c.mark.removeprefix("WARN_"))]
            self._alert(kind, clock.rule.id, c.mark, level, severity, c.due_at, c.observed_at)

    def _alert(
        self,
        kind: str,
        rule_id: str,
        mark: str,
        level: Level,
        severity: Severity,
        due_at: datetime | None,
        observed_at: datetime,
        offending: str | None = None,
    ) -> None:
        if kind == "SlaBreached" and rule_id == ACK_RULE and self.facts is not None:
            self.facts.ack_breached = True
        self.sink(
            ExpectedAlert(
                kind,
                rule_id,
                mark,
                self.case_id,
                self.platform_id,
                level,
                severity,
                due_at,
                observed_at,
                offending,
            )
        )

    def _violation(self, code: str, event: Event) -> None:
        level, severity = VIOLATION_STYLE[code]
        self.violations.append(code)
        self.sink(
            ExpectedAlert(
                "LifecycleViolationDetected",
                code,
                "VIOLATION",
                event.case_id,
                event.platform_id,
                level,
                severity,
                None,
                event.occurred_at,
                event.event_id,
            )
        )

    # ---- opening and steps ---------------------------------------------------------------
    def _open(self, kind: str, event: Event) -> None:
        self.kind = kind
        self.case_id = event.case_id
        self.platform_id = event.platform_id
        at = event.occurred_at
        triggers: list[Trigger]
        if isinstance(event, ComplaintFiled):
            self.status = "FILED"
            self.channel, self.priority, self.category = (
                event.channel,
                event.priority,
                event.category,
            )
            self.facts = ComplaintFacts.opened(
                event.platform_id, event.category.value, event.channel, local_day(event.intake_at)
            )
            version = event.policy_rule_version
            self.version = version_on(local_day(event.intake_at))
            if version is not None and version in KNOWN_POLICY_VERSIONS:
                self.version = version
            if version is not None and version not in KNOWN_POLICY_VERSIONS:
                level, severity = SIGNAL_STYLE
                self._alert(
                    "RiskSignalRaised",
                    "POLICY_VERSION_UNKNOWN",
                    "SIGNAL",
                    level,
                    severity,
                    None,
                    at,
                )
            start = event.intake_at if event.channel is Channel.HOTLINE_12345 else at
            self.started = local_day(start)
            triggers = [("filed", start, None)]
        elif isinstance(event, RefundRequested):
            self.version, self.started = version_on(local_day(at)), local_day(at)
            self.refund_reason = event.reason
            self.status = "REQUESTED"
            triggers = [("requested", at, None)]
            if event.goods_received_at is not None:
                self.goods_received = True
                triggers.append(("goods_received", event.goods_received_at, None))
        else:
            self.version, self.started = version_on(local_day(at)), local_day(at)
            self.status = "FINDING"
            triggers = [("finding", at, None)]
        self._apply(triggers)
        self._fire_all(at)
        self.last_obs = at

    def _step(self, event: Event) -> list[Trigger]:
        if type(event) in OPENERS:
            self._violation("ILLEGAL_TRANSITION", event)  # a second opening event
            return []
        if self.kind == "complaint":
            return self._complaint(event)
        if self.kind == "refund":
            return self._refund(event)
        return self._rectification(event)

    def _complaint(self, e: Event) -> list[Trigger]:
        at = e.occurred_at
        allowed = _COMPLAINT_FROM.get(type(e), frozenset())
        platform_ack = (
            isinstance(e, ComplaintAcknowledged)
            and self.status == "FILED"
            and self.channel is Channel.PLATFORM_APP
        )
        if self.status not in allowed and not platform_ack:
            self._violation("ILLEGAL_TRANSITION", e)
            return []
        facts = self.facts
        assert facts is not None
        if isinstance(e, ComplaintForwarded):
            self.status = "FORWARDED"
            facts.forwarded = True
            return [("forwarded", at, None)]
        if isinstance(e, ComplaintAcknowledged):
            self.status = "ACKNOWLEDGED"
            facts.acknowledged = True
            return [("acknowledged", at, None)]
        if isinstance(e, ComplaintSuspended):
            self.status = "SUSPENDED"
            return [(f"suspended:{e.reason.value}", at, None)]
        if isinstance(e, ComplaintResumed):
            self.status = "ACKNOWLEDGED"
            return [("resumed", at, None)]
        if isinstance(e, ComplaintEscalated):
            return [("escalated", at, None)]
        if isinstance(e, ComplaintResolved):
            self.status = "RESOLVED"
            facts.outcome = e.outcome
            return [("resolved", at, None)]
        if isinstance(e, ComplaintFeedbackRecorded):
            self.status = "CLOSED"
            facts.satisfaction = e.satisfaction
            return [("feedback", at, None)]
        self.status = "ACKNOWLEDGED"  # ComplaintReopened
        facts.outcome = facts.satisfaction = None
        return [("reopened", at, None)]

    def _refund(self, e: Event) -> list[Trigger]:
        at = e.occurred_at
        if isinstance(e, RefundReviewed):
            if self.decision is not None:
                self._violation("REVIEWED_TWICE", e)  # the first decision stands
                return []
            self.decision = e.decision
            rejected = e.decision is ReviewDecision.REJECTED
            self.approved = 0 if rejected else e.approved_amount_fen
            if self.status == "REQUESTED":
                self.status = "REVIEWED"
            out: list[Trigger] = [("reviewed", at, None)]
            if rejected:
                out.append(("rejected", at, None))
            else:
                out.append(("approved", at, None))
                if not self.goods_received:
                    out.append(("approved_without_goods", at, None))
            return out
        if isinstance(e, RefundPaid):
            # Money that moved is a fact: always applied, its faults recorded.
            if self.decision is None:
                self._violation("PAID_BEFORE_APPROVAL", e)
            elif self.decision is ReviewDecision.REJECTED:
                self._violation("PAID_AFTER_REJECTION", e)
            if self.payments > 0:
                self._violation("PAID_TWICE", e)
            approving = (ReviewDecision.APPROVED, ReviewDecision.PARTLY_APPROVED)
            if self.decision in approving and self.paid + e.amount_fen > self.approved:
                self._violation("PAID_ABOVE_APPROVED", e)
            self.paid += e.amount_fen
            self.payments += 1
            self.status = "PAID"
            return [("paid", at, None)]
        self._violation("ILLEGAL_TRANSITION", e)
        return []

    def _rectification(self, e: Event) -> list[Trigger]:
        at = e.occurred_at
        if self.status not in _RECTIFICATION_FROM.get(type(e), frozenset()):
            self._violation("ILLEGAL_TRANSITION", e)
            return []
        if isinstance(e, RectificationOrdered):
            self.status = "ORDERED"
            return [("ordered", at, e.deadline)]
        if isinstance(e, RectificationSubmitted):
            self.status = "SUBMITTED"
            return [("submitted", at, None)]
        if isinstance(e, RectificationVerified):
            self.status = "VERIFIED"
            return [("verified", at, None)]
        assert isinstance(e, RectificationRejected)
        self.status = "REJECTED"
        out: list[Trigger] = [("rejected", at, None)]
        if e.new_deadline is not None:
            out.append(("deadline_reset", at, e.new_deadline))
        return out

    # ---- clocks --------------------------------------------------------------------------
    def _apply(self, triggers: list[Trigger]) -> None:
        assert self.kind is not None and self.started is not None
        rules = RULES_BY_VERSION[(self.version, self.kind)]
        for name, at, deadline in triggers:
            for rule in rules:
                if rule.applies_to_case(self.channel, self.started, self.refund_reason):
                    self._act(rule, name, at, deadline)

    def _act(self, rule: RuleSpec, name: str, at: datetime, deadline: datetime | None) -> None:
        clock = self.clocks.get(rule.id)
        if name in rule.stop_on:
            if clock is not None:
                self.met[rule.id] = not clock.breached
                del self.clocks[rule.id]
        elif name in rule.cancel_on:
            self.clocks.pop(rule.id, None)
        elif rule.pauses and name.startswith("suspended:"):
            if clock is not None and name.split(":", 1)[1] in PAUSING_REASONS:
                clock.pause(at)
        elif rule.pauses and name == "resumed":
            if clock is not None:
                clock.resume(at)
        elif name in rule.restart_on or (name in rule.start_on and clock is None):
            target = rule.target(self.priority, self.category)
            self.clocks[rule.id] = SimClock(rule, target, at, deadline)
