"""The expected outcome of a run, kept as counters (constant memory) plus an alert stream.

Every expected alert goes to the sink the caller chose (a list for tests, an NDJSON file for
large runs); only counts stay here: alerts by kind / rule / level, dead letters by reason,
event counts, per-platform activity over the whole run (what each platform sent, including
carried-over cases), and the scorecards the regulator agent must show for the simulated days
(:mod:`devtools.simulator.scorecards`, by intake date as the regulator counts).
"""

from __future__ import annotations

import heapq
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from devtools.simulator.config import SimConfig
from devtools.simulator.inbox_predict import DeliveryPrediction
from devtools.simulator.model import ExpectedAlert, Send, Sender
from devtools.simulator.oracle import CaseOracle
from devtools.simulator.platforms import BUREAU_WIDE, owners
from devtools.simulator.rule_changes import EarlySignalFold, FilingPoints
from devtools.simulator.rules import (
    INTERVIEW_BREACHES,
    INTERVIEW_STYLE,
    INTERVIEW_WINDOW_DAYS,
)
from devtools.simulator.scorecards import CohortCards, compared_range, subjects_of
from devtools.simulator.signals import SignalFold
from schemas.families import INBOX_ALERTS as INBOX_ALERT_KINDS
from schemas.models import (
    Category,
    ComplaintAcknowledged,
    ComplaintFeedbackRecorded,
    ComplaintFiled,
    ComplaintForwarded,
    ComplaintReopened,
    ComplaintResolved,
    Outcome,
    RectificationOrdered,
    RectificationRejected,
    RectificationVerified,
    RefundPaid,
    RefundRequested,
    RefundReviewed,
    ReviewDecision,
    Satisfaction,
)
from schemas.send_rules import SEND_RULES

FORMAT = "regbus.sim-expected/1"


@dataclass
class Activity:
    """What one platform's cases did over the whole run (carried-over cases included)."""

    platform_id: str
    name: str
    line: str
    profile: str
    counts: Counter[str] = field(default_factory=Counter)

    def to_json(self) -> dict[str, Any]:
        """Event counts (rates are the scorecards' business: they count by intake date)."""
        return {
            "name": self.name,
            "line": self.line,
            "profile": self.profile,
            **dict(sorted(self.counts.items())),
        }


class InterviewFold:
    """3 breaches of one platform within 30 days → InterviewRecommended; count afresh."""

    def __init__(self, sink: Callable[[ExpectedAlert], None]) -> None:
        self.sink = sink
        self._pending: list[tuple[datetime, str, str, str]] = []
        self._windows: dict[str, list[datetime]] = defaultdict(list)

    def add(self, alert: ExpectedAlert) -> None:
        heapq.heappush(
            self._pending, (alert.observed_at, alert.platform_id, alert.rule_id, alert.subject)
        )

    def release(self, until: datetime | None) -> None:
        """Fold the breaches observed up to ``until`` (all, when None), in time order."""
        while self._pending and (until is None or self._pending[0][0] <= until):
            at, pid, _rule, _subject = heapq.heappop(self._pending)
            horizon = at - timedelta(days=INTERVIEW_WINDOW_DAYS)
            window = [t for t in self._windows[pid] if t > horizon] + [at]
            if len(window) >= INTERVIEW_BREACHES:
                level, severity = INTERVIEW_STYLE
                self.sink(
                    ExpectedAlert(
                        "InterviewRecommended",
                        "INTERVIEW_RECOMMENDED",
                        "INTERVIEW",
                        pid,
                        pid,
                        level,
                        severity,
                        None,
                        at,
                    )
                )
                window = []
            self._windows[pid] = window


class ExpectedOutcome:
    """Counters over everything the run sends and every alert it should cause."""

    def __init__(self, cfg: SimConfig, sink: Callable[[ExpectedAlert], None]) -> None:
        self.cfg = cfg
        self._sink = sink
        self.owners = owners(cfg.roster)
        self.by_office: Counter[str] = Counter()
        self.inbox: Counter[str] = Counter()
        """Distinct records each platform's inbox should receive: the bureau's decisions on
        its cases (not the hotline intake), its own alerts, notices of its refused records."""
        self.alerts: Counter[str] = Counter()
        self.by_rule: Counter[str] = Counter()
        self.by_level: Counter[str] = Counter()
        self.violations: Counter[str] = Counter()
        self.dead_letters: Counter[str] = Counter()
        self.events: Counter[str] = Counter()
        self.senders: Counter[str] = Counter()
        self.routed = 0
        self.duplicates = 0
        self.cases: Counter[str] = Counter()
        self.weekly: Counter[str] = Counter()
        self.interviews_by_platform: Counter[str] = Counter()
        self.activity = {
            p.platform_id: Activity(p.platform_id, p.name, p.line.value, p.profile.value)
            for p in cfg.roster
        }
        self.cohorts = CohortCards(*compared_range(cfg.start, cfg.days))
        self.signals = SignalFold(cfg.grid, self._platform_alert)
        self.interviews = InterviewFold(self._platform_alert)
        self.deliveries = DeliveryPrediction(self.activity)
        """Inbox notices by kind per platform, and the notifications (inbox_predict)."""
        self.early = EarlySignalFold(cfg.grid, self._platform_alert)  # issue 18: 未诉先办
        self.filings = FilingPoints(cfg)  # issue 18: the rule change's complaints

    # alerts --------------------------------------------------------------------------------
    def _owned(self, a: ExpectedAlert) -> ExpectedAlert:
        """The alert with the owner the simulator's roster names (bureau-wide otherwise)."""
        office, _department, leader = self.owners.get(a.platform_id, self.owners[BUREAU_WIDE])
        self.by_office[office] += 1
        return replace(a, office=office, leader=leader)

    def alert(self, a: ExpectedAlert) -> None:
        a = self._owned(a)
        self._tally(a)
        self.cohorts.alert(a)
        if a.kind == "SlaBreached":
            self.interviews.add(a)
        self._sink(a)

    def _tally(self, a: ExpectedAlert) -> None:
        self.deliveries.alert(a)
        self.alerts[a.kind] += 1
        self.by_rule[f"{a.rule_id}/{a.mark}"] += 1
        self.by_level[a.level.value] += 1
        if a.kind == "LifecycleViolationDetected":
            self.violations[a.rule_id] += 1
        card = self.activity.get(a.platform_id)
        if card is not None:
            card.counts[f"alerts_{a.mark.lower()}"] += 1
            if a.kind in INBOX_ALERT_KINDS:
                self.inbox[a.platform_id] += 1

    def _platform_alert(self, a: ExpectedAlert) -> None:
        """An interview recommendation or a risk signal (decided per platform / category)."""
        a = self._owned(a)
        if a.kind == "InterviewRecommended":
            self.interviews_by_platform[a.platform_id] += 1
        self._tally(a)
        self._sink(a)

    # sends and cases -----------------------------------------------------------------------
    def send(self, s: Send) -> None:
        self.deliveries.send(s)
        self.senders[s.sender.value] += 1
        if s.raw is not None:
            if s.raw.reason is None:
                self.duplicates += 1
            else:
                self.dead_letters[s.raw.reason.value] += 1
                owner = s.raw.topic.removeprefix("ingress.")
                if s.raw.topic.startswith("ingress.") and owner in self.activity:
                    self.inbox[owner] += 1  # its refused record, noticed
            return
        assert s.event is not None
        self.routed += 1
        self.events[type(s.event).__name__] += 1
        if s.sender is Sender.BUREAU and SEND_RULES[type(s.event).__name__].inbox:
            self.inbox[s.event.platform_id] += 1  # not the hotline intake, nor governance

    def case(self, family: str, platform_id: str, sends: list[Send], oracle: CaseOracle) -> None:
        self.cases[family] += 1
        self.early.add(sends)
        self.filings.add(sends)
        facts = oracle.facts
        if facts is not None:
            self.cohorts.complaint(facts)
            for subject in (facts.platform_id, f"category:{facts.category}"):
                for sent_at, *delta in facts.changes:
                    self.signals.add(subject, facts.intake, sent_at, *delta)
        card = self.activity.get(platform_id)
        if card is None:
            return
        c = card.counts
        for s in sends:
            if s.raw is not None:
                # Counted where the system attributes a dead letter: the ingress topic's owner.
                if s.raw.reason is None:
                    c["resent"] += 1
                elif s.raw.topic == f"ingress.{platform_id}":
                    c["dead_letters"] += 1
                continue
            self._score_event(c, s, oracle)
        c["violations"] += len(oracle.violations)
        c["sla_breached_clocks"] += len(oracle.breached_rules)

    def _score_event(self, c: Counter[str], s: Send, oracle: CaseOracle) -> None:
        e = s.event
        if isinstance(e, ComplaintFiled):
            c["complaints"] += 1
            c[f"channel_{e.channel.value.lower()}"] += 1
            week = (s.at - self.cfg.start_at).days // 7
            if s.at >= self.cfg.start_at:
                self.weekly[f"{e.platform_id}/{e.category.value}/week{week + 1}"] += 1
        elif isinstance(e, ComplaintForwarded):
            c["forwarded"] += 1
            if oracle.met.get("COMPLAINT_ACKNOWLEDGE"):
                c["acknowledged_in_time"] += 1
        elif isinstance(e, ComplaintAcknowledged):
            c["acknowledged"] += 1
        elif isinstance(e, ComplaintResolved):
            c["resolved"] += 1
            c["settled"] += e.outcome is Outcome.SETTLED
            c["compensation_fen"] += e.compensation_fen
        elif isinstance(e, ComplaintFeedbackRecorded):
            c["feedback"] += 1
            c["satisfied"] += e.satisfaction is not Satisfaction.UNSATISFIED
        elif isinstance(e, ComplaintReopened):
            c["reopened"] += 1
        elif isinstance(e, RefundRequested):
            c["refunds"] += 1
        elif isinstance(e, RefundReviewed):
            c["refunds_rejected"] += e.decision is ReviewDecision.REJECTED
        elif isinstance(e, RefundPaid):
            c["refund_payments"] += 1
            c["refunded_fen"] += e.amount_fen
        elif isinstance(e, RectificationOrdered):
            c["rectifications_ordered"] += 1
        elif isinstance(e, RectificationRejected):
            c["rectifications_rejected"] += 1
        elif isinstance(e, RectificationVerified):
            c["rectifications_verified"] += 1

    # output --------------------------------------------------------------------------------
    def scorecards(self) -> dict[str, Any]:
        """The regulator's scorecards of the simulated days, per platform and category."""
        subjects = subjects_of(self.activity, (c.value for c in Category))
        return {
            "from": self.cohorts.first.isoformat(),
            "to": self.cohorts.last.isoformat(),
            "subjects": self.cohorts.of(subjects),
        }

    def to_json(self) -> dict[str, Any]:
        grid = self.cfg.grid
        return {
            "format": FORMAT,
            "config": self.cfg.to_json(),
            "window": {
                "start": self.cfg.start_at.isoformat(),
                "end": self.cfg.end_at.isoformat(),
                "tick_minutes": self.cfg.tick_minutes,
                "ticks": grid.count,
            },
            "platforms": [p.platform_id for p in self.cfg.roster],
            "events": {
                "sent": sum(self.senders.values()),
                "routed": self.routed,
                "duplicates": self.duplicates,
                "dead_lettered": sum(self.dead_letters.values()),
                "by_sender": dict(sorted(self.senders.items())),
                "by_type": dict(sorted(self.events.items())),
            },
            "cases": dict(sorted(self.cases.items())),
            "alerts": {
                "total": sum(self.alerts.values()),
                "by_kind": dict(sorted(self.alerts.items())),
                "by_level": dict(sorted(self.by_level.items())),
                "by_rule": dict(sorted(self.by_rule.items())),
            },
            "violations": dict(sorted(self.violations.items())),
            "dead_letters": dict(sorted(self.dead_letters.items())),
            "interviews": dict(sorted(self.interviews_by_platform.items())),
            "activity": {pid: card.to_json() for pid, card in sorted(self.activity.items())},
            "scorecards": self.scorecards(),
            "weekly_complaints": dict(sorted(self.weekly.items())),
            "deliveries": self.deliveries.to_json(),
        }
