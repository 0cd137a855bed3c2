"""Complaint lifecycle, its SLA clocks, the escalation ladder and policy-version pinning."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from datetime import datetime
from typing import Any

import pytest
import yaml

from agents.core.complaint import ComplaintState, ComplaintStatus
from agents.core.context import Context
from agents.core.engine import (
    UnsupportedEventError,
    dump_state,
    handle,
    load_state,
    on_tick,
    state_from_json,
    state_to_json,
)
from agents.core.errors import CaseMismatchError
from agents.core.policy import DEFAULT_POLICY_PATH, PolicyBook
from schemas.models import (
    Category,
    Channel,
    EscalationRaised,
    Event,
    Level,
    LifecycleViolationDetected,
    Priority,
    RiskSignalRaised,
    Severity,
    SlaBreached,
    SlaClockStarted,
    SlaWarningRaised,
    SuspendReason,
    ViolationCode,
)

from . import builders as b
from .builders import OFFICE, hours, sh
from .helpers import alerts_of, assert_valid_events, clock_log, outputs, run, violations

INTAKE = sh(2026, 3, 2, 9)  # Monday
FILED_AT = INTAKE + hours(0.5)


def test_happy_path_with_testing_suspension(ctx: Context) -> None:
    c = "cmp-happy"
    events = [
        b.filed(c, FILED_AT, intake_at=INTAKE),
        b.forwarded(c, sh(2026, 3, 2, 11)),
        b.acknowledged(c, sh(2026, 3, 2, 15)),
        b.suspended(c, sh(2026, 3, 4, 10), SuspendReason.TESTING),
        b.resumed(c, sh(2026, 3, 6, 10)),
        b.resolved(c, sh(2026, 3, 7, 10)),
        b.feedback(c, sh(2026, 3, 8, 10)),
    ]
    state, decisions = run(events, ctx)
    statuses = [d.state.status for d in decisions if isinstance(d.state, ComplaintState)]
    assert statuses == [
        ComplaintStatus.FILED,
        ComplaintStatus.FORWARDED,
        ComplaintStatus.ACKNOWLEDGED,
        ComplaintStatus.SUSPENDED,
        ComplaintStatus.ACKNOWLEDGED,
        ComplaintStatus.RESOLVED,
        ComplaintStatus.CLOSED,
    ]
    out = outputs(decisions)
    assert_valid_events(out)
    assert clock_log(out) == [
        ("SlaClockStarted", "COMPLAINT_ACKNOWLEDGE"),
        ("SlaClockStarted", "COMPLAINT_ACCEPT_DECISION"),
        ("SlaClockStarted", "CPL_HANDLE_NOTIFY"),
        ("SlaClockStarted", "COMPLAINT_RESOLVE"),
        ("SlaClockMet", "COMPLAINT_ACCEPT_DECISION"),
        ("SlaClockStarted", "COMPLAINT_MEDIATION"),
        ("SlaClockMet", "COMPLAINT_ACKNOWLEDGE"),
        ("SlaClockMet", "CPL_HANDLE_NOTIFY"),
        ("SlaClockPaused", "COMPLAINT_RESOLVE"),
        ("SlaClockPaused", "COMPLAINT_MEDIATION"),
        ("SlaClockResumed", "COMPLAINT_RESOLVE"),
        ("SlaClockResumed", "COMPLAINT_MEDIATION"),
        ("SlaClockMet", "COMPLAINT_RESOLVE"),
        ("SlaClockMet", "COMPLAINT_MEDIATION"),
    ]
    started = {e.sla_id: e for e in out if isinstance(e, SlaClockStarted)}
    assert all(e.started_at == INTAKE for k, e in started.items() if k != "COMPLAINT_MEDIATION")
    assert started["COMPLAINT_ACKNOWLEDGE"].due_at == INTAKE + hours(24)
    assert started["COMPLAINT_ACCEPT_DECISION"].due_at == sh(2026, 3, 12)
    assert started["COMPLAINT_RESOLVE"].due_at == sh(2026, 3, 10)
    resumed_resolve = next(
        e for e in out if type(e).__name__ == "SlaClockResumed" and e.sla_id == "COMPLAINT_RESOLVE"
    )
    assert resumed_resolve.due_at == sh(2026, 3, 12)  # 1 day used, 6 from Fri 03-06
    assert alerts_of(out) == []
    assert state is not None and state.clocks == () and decisions[-1].due == ()


def test_platform_app_complaint_has_no_bureau_clocks_and_no_retroactive_start(
    ctx: Context,
) -> None:
    c = "cmp-app"
    state, decisions = run(
        [
            b.filed(c, FILED_AT, channel=Channel.PLATFORM_APP, intake_at=INTAKE),
            b.acknowledged(c, FILED_AT + hours(1)),  # no forwarding needed
        ],
        ctx,
    )
    out = outputs(decisions)
    starts = [e for e in out if isinstance(e, SlaClockStarted)]
    assert {e.sla_id for e in starts} == {"COMPLAINT_ACKNOWLEDGE", "COMPLAINT_RESOLVE"}
    assert all(e.started_at == FILED_AT for e in starts)
    assert violations(out) == []
    assert isinstance(state, ComplaintState) and state.status is ComplaintStatus.ACKNOWLEDGED


def test_urgent_and_complex_targets(ctx: Context) -> None:
    urgent = handle(None, b.filed("u", FILED_AT, priority=Priority.URGENT, intake_at=INTAKE), ctx)
    ack = next(e for e in urgent.clock_events if e.sla_id == "COMPLAINT_ACKNOWLEDGE")
    assert isinstance(ack, SlaClockStarted) and ack.due_at == INTAKE + hours(2)
    food = handle(None, b.filed("f", FILED_AT, category=Category.FOOD_SAFETY), ctx)
    resolve = next(e for e in food.clock_events if e.sla_id == "COMPLAINT_RESOLVE")
    assert isinstance(resolve, SlaClockStarted)
    assert resolve.due_at == sh(2026, 3, 18)  # 15 days: 03-03 … 03-17


def test_odr_negotiation_pauses_bureau_clocks_and_runs_its_own(ctx: Context) -> None:
    c = "cmp-odr"
    _, decisions = run(
        [
            b.filed(c, FILED_AT, intake_at=INTAKE),
            b.forwarded(c, FILED_AT + hours(1)),
            b.acknowledged(c, FILED_AT + hours(2)),
            b.suspended(c, sh(2026, 3, 3, 10), SuspendReason.ODR_NEGOTIATION),
            b.resumed(c, sh(2026, 3, 10, 10)),
        ],
        ctx,
    )
    suspend_out, resume_out = decisions[3].outputs, decisions[4].outputs
    assert clock_log(suspend_out) == [
        ("SlaClockPaused", "COMPLAINT_RESOLVE"),
        ("SlaClockPaused", "COMPLAINT_MEDIATION"),
        ("SlaClockStarted", "ODR_NEGOTIATION"),
    ]
    odr = suspend_out[-1]
    assert isinstance(odr, SlaClockStarted) and odr.due_at == sh(2026, 3, 18)  # 10 wd from 04
    assert clock_log(resume_out) == [
        ("SlaClockMet", "ODR_NEGOTIATION"),
        ("SlaClockResumed", "COMPLAINT_RESOLVE"),
        ("SlaClockResumed", "COMPLAINT_MEDIATION"),
    ]


def test_other_suspension_does_not_pause_the_clocks(ctx: Context) -> None:
    c = "cmp-other"
    _, decisions = run(
        [
            b.filed(c, FILED_AT),
            b.forwarded(c, FILED_AT + hours(1)),
            b.acknowledged(c, FILED_AT + hours(2)),
            b.suspended(c, FILED_AT + hours(3), SuspendReason.OTHER),
        ],
        ctx,
    )
    assert decisions[-1].outputs == []
    assert decisions[-1].state is not None
    assert all(cl.status == "RUNNING" for cl in decisions[-1].state.clocks)


def test_resolution_while_suspended_meets_paused_clocks(ctx: Context) -> None:
    c = "cmp-susp-res"
    _, decisions = run(
        [
            b.filed(c, FILED_AT),
            b.forwarded(c, FILED_AT + hours(1)),
            b.acknowledged(c, FILED_AT + hours(2)),
            b.suspended(c, FILED_AT + hours(3), SuspendReason.APPRAISAL),
            b.resolved(c, FILED_AT + hours(27)),
        ],
        ctx,
    )
    met = [e for e in decisions[-1].outputs if type(e).__name__ == "SlaClockMet"]
    assert {e.sla_id for e in met} == {"COMPLAINT_RESOLVE", "COMPLAINT_MEDIATION"}
    resolve = next(e for e in met if e.sla_id == "COMPLAINT_RESOLVE")
    assert resolve.paused_ms == 24 * 3_600_000  # type: ignore[attr-defined]
    assert resolve.elapsed_ms == 3 * 3_600_000  # type: ignore[attr-defined]


def test_reopen_starts_a_new_resolve_cycle_and_escalation_level_only_rises(ctx: Context) -> None:
    c = "cmp-reopen"
    reopen_at = sh(2026, 3, 5, 10)
    state, decisions = run(
        [
            b.filed(c, FILED_AT),
            b.forwarded(c, FILED_AT + hours(1)),
            b.escalated(c, FILED_AT + hours(1.5), Level.LEADERSHIP),
            b.escalated(c, FILED_AT + hours(1.6), Level.OFFICE),
            b.acknowledged(c, FILED_AT + hours(2)),
            b.resolved(c, FILED_AT + hours(5)),
            b.feedback(c, FILED_AT + hours(6)),
            b.reopened(c, reopen_at),
        ],
        ctx,
    )
    assert isinstance(state, ComplaintState)
    assert state.escalation_level is Level.LEADERSHIP
    assert state.status is ComplaintStatus.ACKNOWLEDGED and state.reopen_count == 1
    started = decisions[-1].clock_events
    assert len(started) == 1 and isinstance(started[0], SlaClockStarted)
    assert started[0].clock_id == f"{c}/COMPLAINT_RESOLVE#1"
    assert started[0].started_at == reopen_at and started[0].due_at == sh(2026, 3, 13)


# ---- illegal transitions ---------------------------------------------------------------
Builder = Callable[[str, datetime], Event]
BUILDERS: dict[str, Builder] = {
    "filed": lambda c, t: b.filed(c, t),
    "forwarded": b.forwarded,
    "acknowledged": b.acknowledged,
    "suspended": lambda c, t: b.suspended(c, t, SuspendReason.TESTING),
    "resumed": b.resumed,
    "escalated": b.escalated,
    "resolved": b.resolved,
    "feedback": b.feedback,
    "reopened": b.reopened,
}
PATHS: dict[ComplaintStatus, list[str]] = {
    ComplaintStatus.FILED: ["filed"],
    ComplaintStatus.FORWARDED: ["filed", "forwarded"],
    ComplaintStatus.ACKNOWLEDGED: ["filed", "forwarded", "acknowledged"],
    ComplaintStatus.SUSPENDED: ["filed", "forwarded", "acknowledged", "suspended"],
    ComplaintStatus.RESOLVED: ["filed", "forwarded", "acknowledged", "resolved"],
    ComplaintStatus.CLOSED: ["filed", "forwarded", "acknowledged", "resolved", "feedback"],
}
LEGAL: dict[ComplaintStatus, set[str]] = {
    ComplaintStatus.FILED: {"forwarded", "escalated"},
    ComplaintStatus.FORWARDED: {"acknowledged", "escalated"},
    ComplaintStatus.ACKNOWLEDGED: {"suspended", "escalated", "resolved"},
    ComplaintStatus.SUSPENDED: {"resumed", "escalated", "resolved"},
    ComplaintStatus.RESOLVED: {"feedback", "reopened"},
    ComplaintStatus.CLOSED: {"reopened"},
}


@pytest.mark.parametrize("status", list(PATHS))
@pytest.mark.parametrize("name", list(BUILDERS))
def test_every_transition(ctx: Context, status: ComplaintStatus, name: str) -> None:
    c = f"cmp-{status}-{name}"
    steps = [BUILDERS[n](c, FILED_AT + hours(i)) for i, n in enumerate(PATHS[status])]
    before, _ = run(steps, ctx)
    assert isinstance(before, ComplaintState) and before.status is status
    event = BUILDERS[name](c, FILED_AT + hours(10))
    decision = handle(before, event, ctx)
    after = decision.state
    assert isinstance(after, ComplaintState)
    if name in LEGAL[status]:
        assert after.violation_count == 0
        assert violations(decision.outputs) == []
    else:
        assert after.status is status
        assert after.violation_count == 1
        assert after.violations[0].code is ViolationCode.ILLEGAL_TRANSITION
        assert after.violations[0].event_id == event.event_id
        (alert,) = [o for o in decision.outputs if isinstance(o, LifecycleViolationDetected)]
        assert alert.violation is ViolationCode.ILLEGAL_TRANSITION
        assert alert.offending_event_id == event.event_id
        assert (alert.office, alert.subject, alert.level) == (OFFICE, c, Level.OFFICE)
        assert alert.policy_version == "SAMR-20"
        assert_valid_events(decision.outputs)
    assert event.event_id in after.applied_ids
    assert after.seq == before.seq + 1


def test_event_for_unknown_case_is_recorded_not_dropped(ctx: Context) -> None:
    event = b.forwarded("ghost", FILED_AT)
    decision = handle(None, event, ctx)
    assert decision.state is None and decision.due == ()
    (alert,) = decision.outputs
    assert isinstance(alert, LifecycleViolationDetected)
    assert alert.violation is ViolationCode.UNKNOWN_CASE
    assert alert.subject == "ghost" and alert.office == "UNASSIGNED"
    assert handle(None, event, ctx).outputs[0].event_id == alert.event_id  # idempotent id


def test_event_of_another_case_type_is_an_illegal_transition(ctx: Context) -> None:
    state, _ = run([b.filed("mix", FILED_AT)], ctx)
    decision = handle(state, b.paid("mix", FILED_AT + hours(1)), ctx)
    assert violations(decision.outputs) == [ViolationCode.ILLEGAL_TRANSITION]


def test_duplicate_event_is_a_no_op(ctx: Context) -> None:
    state, _ = run([b.filed("dup", FILED_AT)], ctx)
    fwd = b.forwarded("dup", FILED_AT + hours(1))
    first = handle(state, fwd, ctx)
    again = handle(first.state, fwd, ctx)
    assert again.outputs == [] and again.state is first.state and again.due == first.due
    refiled = handle(first.state, b.filed("dup", FILED_AT), ctx)
    assert violations(refiled.outputs) == [ViolationCode.ILLEGAL_TRANSITION]


def test_plumbing_errors_raise_domain_errors(ctx: Context) -> None:
    state, _ = run([b.filed("p1", FILED_AT)], ctx)
    with pytest.raises(CaseMismatchError):
        handle(state, b.forwarded("p2", FILED_AT), ctx)
    alert = alerts_of(run([b.forwarded("p3", FILED_AT)], ctx)[1][0].outputs)[0]
    with pytest.raises(UnsupportedEventError):
        handle(state, alert, ctx)


# ---- ladder ---------------------------------------------------------------------------
def test_escalation_ladder_office_department_leadership(ctx: Context) -> None:
    c = "cmp-ladder"
    state, _ = run([b.filed(c, FILED_AT, intake_at=INTAKE), b.forwarded(c, FILED_AT)], ctx)
    assert state is not None
    seen: list[Any] = []
    ticks = [INTAKE + hours(h) for h in (11, 12, 17, 18, 23, 24)]
    ticks += [sh(2026, 3, 10, 23), sh(2026, 3, 11)]  # 5 working days after Tue 03-03
    for t in ticks:
        d = on_tick(state, t, ctx)
        state = d.state
        seen.extend((t, a) for a in alerts_of(d.outputs, "COMPLAINT_ACKNOWLEDGE"))
    got = [(t, type(a).__name__, a.level, a.severity) for t, a in seen]
    assert got == [
        (INTAKE + hours(12), "SlaWarningRaised", Level.OFFICE, Severity.INFO),
        (INTAKE + hours(18), "SlaWarningRaised", Level.OFFICE, Severity.WARNING),
        (INTAKE + hours(24), "SlaBreached", Level.DEPARTMENT, Severity.MAJOR),
        (sh(2026, 3, 11), "EscalationRaised", Level.LEADERSHIP, Severity.CRITICAL),
    ]
    for t, a in seen:
        assert a.observed_at == t == a.occurred_at
        assert (a.office, a.subject, a.case_id) == (OFFICE, c, c)
        assert a.due_at == INTAKE + hours(24)
        assert a.department == "CONSUMER_PROTECTION" and a.policy_version == "SAMR-20"
        assert a.alert_id == a.event_id
    assert [a.threshold_pct for _, a in seen if isinstance(a, SlaWarningRaised)] == [50, 75]
    assert len({a.alert_id for _, a in seen}) == 4
    assert_valid_events(a for _, a in seen)
    # the same history gives the same ids
    replay, _ = run([b.filed(c, FILED_AT, intake_at=INTAKE), b.forwarded(c, FILED_AT)], ctx)
    assert replay is not None
    again = on_tick(replay, sh(2026, 3, 11), ctx)
    ids = {a.alert_id for a in alerts_of(again.outputs, "COMPLAINT_ACKNOWLEDGE")}
    assert {a.alert_id for _, a in seen if not isinstance(a, SlaWarningRaised)} == ids


def test_late_acknowledgement_without_ticks_still_breaches(ctx: Context) -> None:
    c = "cmp-late"
    _, decisions = run(
        [
            b.filed(c, FILED_AT, intake_at=INTAKE),
            b.forwarded(c, FILED_AT),
            b.acknowledged(c, INTAKE + hours(30)),
        ],
        ctx,
    )
    last = decisions[-1].outputs
    kinds = [(type(e).__name__, getattr(e, "rule_id", getattr(e, "sla_id", ""))) for e in last]
    assert kinds[:3] == [
        ("SlaBreached", "COMPLAINT_ACKNOWLEDGE"),
        ("SlaClockMet", "COMPLAINT_ACKNOWLEDGE"),
        ("SlaClockMet", "CPL_HANDLE_NOTIFY"),
    ]
    assert not any(isinstance(e, SlaWarningRaised) for e in last)  # overtaken by the breach


def test_retroactive_hotline_start_already_breached_at_filing(ctx: Context) -> None:
    d = handle(None, b.filed("retro", INTAKE + hours(30), intake_at=INTAKE), ctx)
    assert [type(a) for a in d.alerts] == [SlaBreached]
    assert d.alerts[0].rule_id == "COMPLAINT_ACKNOWLEDGE"
    assert d.alerts[0].observed_at == INTAKE + hours(30)


def test_due_entries_match_next_thresholds(ctx: Context) -> None:
    d = handle(None, b.filed("due", FILED_AT, intake_at=INTAKE), ctx)
    kinds = {(e.clock, e.kind, e.due_at) for e in d.due}
    assert ("COMPLAINT_ACKNOWLEDGE#0", "WARN_50", INTAKE + hours(12)) in kinds
    assert len(d.due) == 4 and d.next_due == INTAKE + hours(12)
    assert d.state is not None and d.state.next_due_at == d.next_due


def test_state_round_trips_through_json(ctx: Context) -> None:
    c = "cmp-json"
    state, _ = run(
        [
            b.filed(c, FILED_AT),
            b.forwarded(c, FILED_AT + hours(1)),
            b.acknowledged(c, FILED_AT + hours(2)),
            b.suspended(c, FILED_AT + hours(3), SuspendReason.TESTING),
            b.reopened(c, FILED_AT + hours(4)),  # illegal: recorded
        ],
        ctx,
    )
    assert state is not None
    assert state_from_json(state_to_json(state)) == state
    assert load_state(json.loads(json.dumps(dump_state(state)))) == state
    assert dump_state(None) is None and load_state(None) is None


# ---- policy versions ------------------------------------------------------------------
@pytest.fixture(scope="module")
def two_versions(ctx: Context) -> Context:
    raw = yaml.safe_load(DEFAULT_POLICY_PATH.read_text(encoding="utf-8"))
    newer = copy.deepcopy(raw["versions"][0])
    newer["id"] = "SAMR-121"
    newer["effective_from"] = "2026-04-15"
    newer.pop("effective_to")
    for rule in newer["rules"]:
        if rule["id"] == "COMPLAINT_ACKNOWLEDGE":
            rule["targets"] = {"URGENT": 1, "NORMAL": 12}
    raw["versions"][1] = newer  # the packaged SAMR-121, with the rules of SAMR-20
    return Context(PolicyBook.from_dict(raw), ctx.calendar)


def _ack_due(decision_events: list[Event]) -> tuple[str, datetime]:
    ack = next(
        e
        for e in decision_events
        if isinstance(e, SlaClockStarted) and e.sla_id == "COMPLAINT_ACKNOWLEDGE"
    )
    return ack.policy_version, ack.due_at - ack.started_at  # type: ignore[return-value]


def test_case_stays_on_the_version_in_force_at_its_start(two_versions: Context) -> None:
    before = sh(2026, 4, 14, 23)
    state, decisions = run(
        [b.filed("v-old", before), b.forwarded("v-old", sh(2026, 4, 16, 9))], two_versions
    )
    assert state is not None and state.policy_version == "SAMR-20"
    assert _ack_due(decisions[0].outputs) == ("SAMR-20", hours(24))
    mediation = decisions[1].clock_events[-1]
    assert mediation.sla_id == "COMPLAINT_MEDIATION" and mediation.policy_version == "SAMR-20"
    after = handle(None, b.filed("v-new", sh(2026, 4, 15, 0, 1)), two_versions)
    assert _ack_due(after.outputs) == ("SAMR-121", hours(12))


def test_filed_v2_names_its_policy_version(two_versions: Context) -> None:
    named = handle(
        None, b.filed("v-named", sh(2026, 4, 1), policy_rule_version="SAMR-121"), two_versions
    )
    assert _ack_due(named.outputs) == ("SAMR-121", hours(12))
    unknown = handle(
        None, b.filed("v-bad", sh(2026, 4, 1), policy_rule_version="SAMR-999"), two_versions
    )
    assert _ack_due(unknown.outputs) == ("SAMR-20", hours(24))
    (signal,) = [o for o in unknown.outputs if isinstance(o, RiskSignalRaised)]
    assert signal.signal == "POLICY_VERSION_UNKNOWN" and "SAMR-999" in signal.detail


def test_escalation_alert_type_is_used(ctx: Context) -> None:
    state, _ = run([b.filed("esc", FILED_AT, intake_at=INTAKE)], ctx)
    assert state is not None
    d = on_tick(state, sh(2026, 5, 1), ctx)
    escalations = [a for a in d.alerts if isinstance(a, EscalationRaised)]
    assert {a.rule_id for a in escalations} == {
        "COMPLAINT_ACKNOWLEDGE",
        "COMPLAINT_ACCEPT_DECISION",
        "CPL_HANDLE_NOTIFY",
        "COMPLAINT_RESOLVE",
    }
