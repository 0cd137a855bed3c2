"""The audit report as one JSON document (``docs/audit-report.schema.json`` describes it).

Built from a :class:`~audit.replay.ReplayResult` with a :class:`~.collect.Collector` and,
optionally, a :class:`~.reconcile.Reconciliation`. The HTML report is rendered from this
same document, so the two never disagree.
"""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from agents.core import (
    ComplaintState,
    ComplaintStatus,
    RectificationState,
    RectificationStatus,
    RefundState,
    RefundStatus,
)
from agents.core.engine import CaseState, load_state
from audit.collect import AlertSeen, CaseTrail, ClockHistory, Collector
from audit.deadletters import DeadLetterCount
from audit.jsonout import iso, iso_ms, meta_json
from audit.metrics import (
    CaseView,
    breaches_by_rule,
    compliance_series,
    settlement_series,
    tally,
)
from audit.privacy import PrivacyView
from audit.reconcile import Reconciliation
from schemas.instants import to_ms
from schemas.models import ReviewDecision

if TYPE_CHECKING:
    from audit.replay import ReplayResult

FORMAT = "regbus.audit-report/1"


def case_views(result: ReplayResult) -> list[CaseView]:
    """Every replayed case: the final states joined with what the collector saw."""
    collector = result.collector or Collector()
    views: list[CaseView] = []
    seen: set[tuple[str, str]] = set()
    for family, case_id, partition, dumped in result.folder.envelopes():
        trail = collector.trail(family, case_id)
        views.append(CaseView(family.value, case_id, partition, load_state(dumped), trail))
        seen.add((family.value, case_id))
    for (name, case_id), trail in collector.cases.items():
        if (name, case_id) not in seen:  # events for a case that never opened
            views.append(CaseView(name, case_id, None, None, trail))
    views.sort(key=lambda v: (v.family, v.case_id))
    return views


def is_open(state: CaseState | None) -> bool:
    if isinstance(state, ComplaintState):
        return state.status not in (ComplaintStatus.RESOLVED, ComplaintStatus.CLOSED)
    if isinstance(state, RefundState):
        if state.status is RefundStatus.PAID:
            return False
        return state.decision is not ReviewDecision.REJECTED
    if isinstance(state, RectificationState):
        return state.status is not RectificationStatus.VERIFIED
    return False


def build_report(
    result: ReplayResult,
    *,
    reconciliation: Reconciliation | None = None,
    source: dict[str, Any] | None = None,
    generated_at: datetime | None = None,
    dead_letters: DeadLetterCount | None = None,
    privacy: PrivacyView | None = None,
) -> dict[str, Any]:
    """``dead_letters``: the dead-letter topic's count (ingress and agents); without it the
    report counts only the dead letters the replayed case agents produce, and says so."""
    views = case_views(result)
    collector = result.collector or Collector()
    tallies = tally(views)
    cases = [_case_json(v, result.as_of.until_ms) for v in views]
    if privacy is not None:  # personal data: "已加密/sealed" or "已删除/erased", never in clear
        for case in cases:
            found = privacy.cases.get(case["case_id"])
            case["personal"] = None if found is None else found["fields"]
    alert_types = Counter(a.event_type for a in collector.alerts.values())
    regulator = result.regulator
    signals = [] if regulator is None else regulator.expected()
    signal_types = Counter(a.event_type for a in signals)
    replayed_dead = result.folder.stats.dead_letters
    known = sum(1 for v in views if v.state is not None)
    as_of = result.as_of
    return {
        "format": FORMAT,
        "generated_at": iso(generated_at or datetime.now(UTC)),
        "as_of": {
            "until": iso_ms(as_of.until_ms),
            "since": iso_ms(as_of.since_ms),
            "mode": as_of.mode.value,
            "platform": as_of.platform,
            "case": as_of.case,
        },
        "source": source or {},
        "replay": _replay_json(result),
        "summary": {
            "cases": known,
            "open_cases": sum(1 for v in views if is_open(v.state)),
            "unknown_cases": len(views) - known,
            "case_rows": len(views),
            "by_family": dict(Counter(v.family for v in views if v.state is not None)),
            "alerts": len(collector.alerts),
            "alerts_by_type": dict(sorted(alert_types.items())),
            "breaches": alert_types.get("SlaBreached", 0),
            "violations": alert_types.get("LifecycleViolationDetected", 0),
            "dead_letters": replayed_dead if dead_letters is None else dead_letters.total,
            "dead_letters_by_source": {
                "topic_read": dead_letters is not None,
                "ingress": None if dead_letters is None else dead_letters.ingress,
                "agents": None if dead_letters is None else dead_letters.agents,
                "undecodable": None if dead_letters is None else dead_letters.undecodable,
                "replayed_agents": replayed_dead,
            },
            "regulator_replayed": regulator is not None,
            "signals": len(signals),
            "signals_by_type": dict(sorted(signal_types.items())),
        },
        "platforms": [t.as_json() for _, t in sorted(tallies.items())],
        "charts": {
            "sla_compliance": compliance_series(views),
            "breaches_by_rule": breaches_by_rule(views),
            "settlement": settlement_series(tallies),
        },
        "cases": cases,
        "bureau_alerts": [_alert_json(a) for a in collector.bureau_alerts],
        "signals": [_alert_json(a) for a in signals],
        "scorecards": [] if regulator is None else regulator.scorecards(),
        "rule_changes": [] if regulator is None else regulator.governance.rule_changes(),
        "dead_letters": [
            {
                "topic": d.original_topic,
                "partition": d.original_partition,
                "offset": d.original_offset,
                "reason": d.reason.value,
                "detail": d.detail,
            }
            for d in collector.dead_letters
        ],
        "reconciliation": None if reconciliation is None else _reconciliation_json(reconciliation),
        "roster_and_notifications": None if result.side is None else result.side.as_json(),
        "privacy": None if privacy is None else privacy.as_json(),
        "enforcement": None if result.enforcement is None else result.enforcement.as_json(),
        "campaigns": None if result.campaigns is None else result.campaigns.as_json(),
    }


def _replay_json(result: ReplayResult) -> dict[str, Any]:
    stats = result.folder.stats
    return {
        "records": stats.records,
        "events_applied": stats.events_applied,
        "ticks_applied": stats.ticks_applied,
        "ticks_skipped": stats.ticks_skipped,
        "events_after_until": stats.events_after_until,
        "ticks_after_until": stats.ticks_after_until,
        "events_filtered": stats.events_filtered,
        "cases_before_window": stats.cases_before_window,
        "seconds": round(result.seconds, 3),
        "records_per_second": round(result.records_per_second, 1),
        "partitions": [
            {
                "topic": topic,
                "partition": partition,
                "start_offset": result.start_offsets.get((topic, partition), 0),
                "end_offset": end,
                "records": prog.records if prog else 0,
                "last_offset": prog.last_offset if prog else None,
                "cutoff_offset": prog.cutoff_offset if prog else None,
                "last_tick_at": iso_ms(prog.last_tick_ms) if prog else None,
                "ticks_applied": prog.ticks_applied if prog else 0,
                "ticks_skipped": prog.ticks_skipped if prog else 0,
            }
            for (topic, partition), end in sorted(result.end_offsets.items())
            for prog in [stats.partitions.get((topic, partition))]
        ],
    }


def _case_json(view: CaseView, until_ms: int) -> dict[str, Any]:
    state = view.state
    trail = view.trail
    clocks = _clocks(trail, state, until_ms)
    return {
        "case_id": view.case_id,
        "family": view.family,
        "kind": None if state is None else state.kind,
        "platform_id": view.platform_id,
        "office": None if state is None else state.office,
        "partition": view.partition,
        "policy_version": None if state is None else state.policy_version,
        "status": None if state is None else str(getattr(state, "status", "")),
        "open": is_open(state),
        "opened_at": None if state is None else iso(state.opened_at),
        "last_event_at": None if state is None else iso(state.last_event_at),
        "timeline": [] if trail is None else [_entry(e) for e in trail.timeline],
        "timeline_omitted": 0 if trail is None else trail.timeline_dropped,
        "clocks": clocks,
        "violation_count": 0 if state is None else state.violation_count,
        "violations": []
        if state is None
        else [
            {
                "code": v.code.value,
                "event_id": v.event_id,
                "event_type": v.event_type,
                "at": iso(v.at),
                "detail": v.detail,
            }
            for v in state.violations
        ],
        "alerts": [] if trail is None else [_alert_json(a) for a in trail.alerts],
    }


def _entry(e: Any) -> dict[str, Any]:
    return {"type": e.event_type, "occurred_at": iso_ms(e.occurred_ms), **meta_json(e.meta)}  # type: ignore[dict-item]


def _clocks(
    trail: CaseTrail | None, state: CaseState | None, until_ms: int
) -> list[dict[str, Any]]:
    history: dict[str, ClockHistory] = {} if trail is None else dict(trail.clocks)
    live = {} if state is None else {c.clock_id: c for c in state.clocks}
    out = []
    for clock_id, h in history.items():
        current = live.get(clock_id)
        paused_ms = h.paused_ms
        status = h.status
        due_ms = h.due_ms
        if current is not None:  # the state is authoritative for clocks still active
            status = current.status.value
            due_ms = to_ms(current.due_at)
            paused_ms = current.paused_ms
            if current.paused_at is not None and status == "PAUSED":
                paused_ms += max(0, until_ms - to_ms(current.paused_at))
        out.append(
            {
                "clock_id": clock_id,
                "rule_id": h.rule_id,
                "policy_version": h.policy_version,
                "status": status,
                "started_at": iso_ms(h.started_ms),
                "due_at": iso_ms(due_ms),
                "met_at": iso_ms(h.met_ms),
                "cancelled_at": iso_ms(h.cancelled_ms),
                "cancel_reason": h.cancel_reason,
                "elapsed_ms": h.elapsed_ms,
                "paused_ms": paused_ms,
                "warnings": sorted(set(h.warnings)),
                "breached": h.breached_ms is not None or (current is not None and current.breached),
                "breach_observed_at": iso_ms(h.breached_ms),
                "escalation_observed_at": iso_ms(h.escalated_ms),
            }
        )
    return out


def _alert_json(a: AlertSeen) -> dict[str, Any]:
    return {
        "alert_id": a.alert_id,
        "type": a.event_type,
        "rule_id": a.rule_id,
        "severity": a.severity,
        "level": a.level,
        "subject": a.subject,
        "due_at": iso_ms(a.due_ms),
        "observed_at": iso_ms(a.observed_ms),
        "threshold_pct": a.threshold_pct,
        "detail": a.detail,
        "trigger": meta_json(a.trigger),
    }


def _reconciliation_json(r: Reconciliation) -> dict[str, Any]:
    return {
        "alerts_topic": r.alerts_topic,
        "late_after_ms": r.late_after_ms,
        "healthy": r.healthy,
        "scope": r.scope,
        "expected": r.expected,
        "actual": r.actual,
        "matched": r.matched,
        "on_time": r.on_time,
        "duplicates": r.duplicates,
        "out_of_scope": r.out_of_scope,
        "undecodable": r.undecodable,
        "max_lateness_ms": r.max_lateness_ms,
        "missing": r.missing,
        "extra": r.extra,
        "late": r.late,
        "mismatched": r.mismatched,
    }


def write_json(report: dict[str, Any], path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return path
