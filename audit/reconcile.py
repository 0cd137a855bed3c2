"""Reconciliation: the alerts a replay says should exist as of T against the alerts topic.

Both sides are keyed by ``alert_id`` (uuid5 of rule + kind + subject + due, so the same alert
raised twice is visibly one). Definitions (also in ``docs/audit.md``):

* **in scope** — an alert type the case agents raise (warnings, breaches, escalations,
  lifecycle violations, the core's CALENDAR_YEAR_UNKNOWN / POLICY_VERSION_UNKNOWN signals)
  and, when the regulator agents were replayed too (an unfiltered replay), every risk signal
  (RiskSignalRaised: COMPLAINT_SURGE, SETTLEMENT_BELOW_TARGET, …) and every interview
  recommendation (InterviewRecommended), whose ``observed_at`` (bureau time) is ≤ T (and ≥
  the window start), within the replay's case / platform filter. Anything else in the topic
  is counted as ``out_of_scope``; :meth:`Scope.as_json` names what was and was not checked.
* **missing** — expected, not in the topic. **extra** — in the topic, not expected.
* **lateness** — Kafka timestamp of the (first) alert record minus the Kafka timestamp of
  the log record that made it due in the replay (the tick, or the event). Ticks carry the
  bureau's time, the record timestamps the wall clock, so this measures how long after the
  due moment entered the log the alert was published — e.g. the downtime of a stopped worker.
  An alert is **late** when its lateness exceeds ``late_after_ms``.
* **mismatched** — same id, but a different type, ``observed_at`` or ``due_at``. An
  interview recommendation's ``observed_at`` is that of the breach that completed its window,
  which depends on the order breaches of several partitions arrived in, and so is a platform's
  ROSTER_MISSING signal's (raised with the first of its alerts to be routed): for these only the
  type is compared. Signals carry no trigger record, so their lateness is not measured.
* **duplicates** — extra copies of an alert id in the topic (at-least-once delivery).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from audit.collect import AlertSeen
from audit.jsonout import iso_ms, meta_json
from schemas.instants import to_ms
from streams.codec import DecodeError, EventCodec
from streams.ledger.logread import LogReader
from streams.settings import Settings
from streams.topics import Catalogue

if TYPE_CHECKING:
    from audit.replay import ReplayResult

CASE_ALERT_TYPES = frozenset(
    {"SlaWarningRaised", "SlaBreached", "EscalationRaised", "LifecycleViolationDetected"}
)
CORE_SIGNALS = frozenset({"CALENDAR_YEAR_UNKNOWN", "POLICY_VERSION_UNKNOWN"})
REGULATOR_ALERT_TYPES = frozenset({"RiskSignalRaised", "InterviewRecommended"})
EARLY_SIGNALS = frozenset({"REFUND_REJECTIONS_RISING"})
"""未诉先办 signals from the refunds (agents/early_signals.py), replayed by
audit/governance_replay.py and compared by id, type, observed_at and due_at like the others."""
DEFAULT_LATE_AFTER_MS = 30_000


@dataclass(frozen=True, slots=True)
class ActualAlert:
    alert_id: str
    event_type: str
    rule_id: str
    subject: str
    case_id: str
    platform_id: str
    due_ms: int | None
    observed_ms: int
    partition: int
    offset: int
    timestamp_ms: int


@dataclass(frozen=True, slots=True)
class Scope:
    """Which alerts the replay could have raised (mirrors the replay's filters)."""

    until_ms: int
    since_ms: int | None = None
    platform: str | None = None
    case: str | None = None
    cases: frozenset[str] | None = None
    """In a window replay, the case ids that were replayed (others are out of scope)."""
    signals: bool = False
    """The regulator agents were replayed: their signals and interviews are checked too."""
    topics: tuple[str, ...] = ()
    """The canonical topics the expected alerts were derived from."""

    def covers(self, event_type: str, rule_id: str, case_id: str, platform_id: str,
               observed_ms: int) -> bool:  # fmt: skip
        if self.signals and event_type in REGULATOR_ALERT_TYPES:
            return self._in_time(observed_ms)
        if event_type not in CASE_ALERT_TYPES and not (
            event_type == "RiskSignalRaised" and rule_id in CORE_SIGNALS
        ):
            return False
        if observed_ms > self.until_ms:
            return False
        if self.since_ms is not None and observed_ms < self.since_ms:
            return False
        bureau_wide = rule_id == "CALENDAR_YEAR_UNKNOWN"
        if self.case is not None and (bureau_wide or case_id != self.case):
            return False
        if self.platform is not None and (bureau_wide or platform_id != self.platform):
            return False
        return self.cases is None or bureau_wide or case_id in self.cases

    def _in_time(self, observed_ms: int) -> bool:
        return observed_ms <= self.until_ms and (
            self.since_ms is None or observed_ms >= self.since_ms
        )

    def as_json(self, alerts_topic: str) -> dict[str, Any]:
        """What this reconciliation checked and what it did not (the verdict's scope)."""
        core = ", ".join(sorted(CORE_SIGNALS))
        checked = [*sorted(CASE_ALERT_TYPES), f"RiskSignalRaised ({core})"]
        not_checked = [
            "alerts observed after T"
            + ("" if self.since_ms is None else " or before the window start"),
            "dead letters (counted, not reconciled)",
            "lateness of risk signals and interviews (no trigger record)",
        ]
        if self.signals:
            checked += ["RiskSignalRaised (risk signals of the signals policy)",
                        "InterviewRecommended"]  # fmt: skip
            checked.append(f"RiskSignalRaised ({', '.join(sorted(EARLY_SIGNALS))}: 未诉先办)")
        else:
            not_checked.insert(0, "risk signals (RiskSignalRaised of the signals policy) and "
                               "interview recommendations: the replay was filtered to a case, "
                               "a platform or a window")  # fmt: skip
        if self.case is not None or self.platform is not None or self.cases is not None:
            not_checked.append("alerts about cases outside the replay's filter")
        return {
            "alert_types": checked,
            "derived_from": list(self.topics),
            "compared_with": alerts_topic,
            "observed_from": iso_ms(self.since_ms),
            "observed_until": iso_ms(self.until_ms),
            "platform": self.platform,
            "case": self.case,
            "not_checked": not_checked,
        }


@dataclass
class Reconciliation:
    alerts_topic: str
    late_after_ms: int
    expected: int = 0
    actual: int = 0
    matched: int = 0
    on_time: int = 0
    duplicates: int = 0
    out_of_scope: int = 0
    undecodable: int = 0
    scope: dict[str, Any] = field(default_factory=dict)
    missing: list[dict[str, Any]] = field(default_factory=list)
    extra: list[dict[str, Any]] = field(default_factory=list)
    late: list[dict[str, Any]] = field(default_factory=list)
    mismatched: list[dict[str, Any]] = field(default_factory=list)
    max_lateness_ms: int | None = None

    @property
    def healthy(self) -> bool:
        return not (self.missing or self.extra or self.late or self.mismatched)


async def read_alerts(settings: Settings, topic: str, codec: EventCodec | None = None) -> tuple[
    list[ActualAlert], int
]:  # fmt: skip
    """Every alert in ``topic`` up to its end offsets now, and how many did not decode."""
    codec = codec or EventCodec()
    out: list[ActualAlert] = []
    bad = 0
    async with LogReader(settings) as reader:
        async for _tp, records in reader.read(await reader.bounds([topic])):
            for rec in records:
                alert = _actual(codec, rec)
                if alert is None:
                    bad += 1
                else:
                    out.append(alert)
    return out, bad


def _actual(codec: EventCodec, rec: Any) -> ActualAlert | None:
    try:
        name, raw = codec.decode_raw(rec.value or b"")
        due = raw.get("due_at")
        return ActualAlert(
            alert_id=str(raw["alert_id"]),
            event_type=name,
            rule_id=str(raw["rule_id"]),
            subject=str(raw["subject"]),
            case_id=str(raw["case_id"]),
            platform_id=str(raw["platform_id"]),
            due_ms=None if due is None else to_ms(due),
            observed_ms=to_ms(raw["observed_at"]),
            partition=rec.partition,
            offset=rec.offset,
            timestamp_ms=rec.timestamp,
        )
    except (DecodeError, KeyError, TypeError, AttributeError):
        return None


def reconcile(
    expected: Iterable[AlertSeen],
    actual: Iterable[ActualAlert],
    scope: Scope,
    alerts_topic: str,
    late_after_ms: int = DEFAULT_LATE_AFTER_MS,
    undecodable: int = 0,
) -> Reconciliation:
    rec = Reconciliation(
        alerts_topic, late_after_ms, undecodable=undecodable, scope=scope.as_json(alerts_topic)
    )
    want: dict[str, AlertSeen] = {}
    for e in expected:
        if e.alert_id not in want and scope.covers(
            e.event_type, e.rule_id, e.case_id, e.platform_id, e.observed_ms
        ):
            want[e.alert_id] = e
    have: dict[str, ActualAlert] = {}
    for a in actual:
        if not scope.covers(a.event_type, a.rule_id, a.case_id, a.platform_id, a.observed_ms):
            rec.out_of_scope += 1
            continue
        first = have.get(a.alert_id)
        if first is None:
            have[a.alert_id] = a
            continue
        rec.duplicates += 1
        if a.timestamp_ms < first.timestamp_ms:
            have[a.alert_id] = a
    rec.expected, rec.actual = len(want), len(have)
    for alert_id, e in want.items():
        found = have.get(alert_id)
        if found is None:
            rec.missing.append(_expected_json(e))
            continue
        a = found
        rec.matched += 1
        if e.event_type == "InterviewRecommended" or e.rule_id == "ROSTER_MISSING":
            differs = a.event_type != e.event_type  # observed_at depends on arrival order
        else:
            differs = (a.event_type, a.observed_ms, a.due_ms) != (
                e.event_type, e.observed_ms, e.due_ms,
            )  # fmt: skip
        if differs:
            rec.mismatched.append({"expected": _expected_json(e), "actual": _actual_json(a)})
        lateness = None if e.trigger is None else a.timestamp_ms - e.trigger.timestamp_ms
        if lateness is not None and (rec.max_lateness_ms is None or lateness > rec.max_lateness_ms):
            rec.max_lateness_ms = lateness
        if lateness is not None and lateness > late_after_ms:
            rec.late.append(
                {**_expected_json(e), "actual": _actual_json(a), "lateness_ms": lateness}
            )
        else:
            rec.on_time += 1
    rec.extra = [_actual_json(a) for alert_id, a in have.items() if alert_id not in want]
    return rec


def reconcile_replay(
    result: ReplayResult,
    actual: Iterable[ActualAlert],
    catalogue: Catalogue,
    late_after_ms: int = DEFAULT_LATE_AFTER_MS,
    undecodable: int = 0,
) -> Reconciliation:
    """Reconcile a replay (with its collector) against the alerts read from the topic: the
    case agents' alerts and, when the regulator agents were replayed, their signals and
    interviews."""
    as_of = result.as_of
    collector = result.collector
    if collector is None:
        raise ValueError("reconciliation needs a replay run with a Collector")
    expected: list[AlertSeen] = list(collector.alerts.values())
    if result.regulator is not None:
        expected += result.regulator.expected()
    if result.enforcement is not None:  # orders' deadlines and refused enforcement events
        expected += result.enforcement.expected()
    scope = Scope(
        until_ms=as_of.until_ms,
        since_ms=as_of.since_ms,
        platform=as_of.platform,
        case=as_of.case,
        cases=frozenset(c for _f, c in collector.cases) if as_of.since_ms else None,
        signals=result.regulator is not None,
        topics=tuple(sorted({topic for topic, _p in result.end_offsets})),
    )
    return reconcile(expected, actual, scope, catalogue.alerts, late_after_ms, undecodable)


def _expected_json(e: AlertSeen) -> dict[str, Any]:
    return {
        "alert_id": e.alert_id,
        "type": e.event_type,
        "rule_id": e.rule_id,
        "subject": e.subject,
        "case_id": e.case_id,
        "platform_id": e.platform_id,
        "due_at": iso_ms(e.due_ms),
        "observed_at": iso_ms(e.observed_ms),
        "trigger": meta_json(e.trigger),
    }


def _actual_json(a: ActualAlert) -> dict[str, Any]:
    return {
        "alert_id": a.alert_id,
        "type": a.event_type,
        "rule_id": a.rule_id,
        "subject": a.subject,
        "case_id": a.case_id,
        "platform_id": a.platform_id,
        "due_at": iso_ms(a.due_ms),
        "observed_at": iso_ms(a.observed_ms),
        "partition": a.partition,
        "offset": a.offset,
        "logged_at": iso_ms(a.timestamp_ms),
    }
