"""The simulator's prediction: full coverage, its own rule table, and agreement with the core.

The prediction is computed by the simulator's own clock model and lifecycle rules
(devtools/simulator/oracle.py, clock.py, workcal.py), never by agents.core. Here, without a
broker, every case of the default run is also folded through the core (with the same ticks),
and the two computations must agree alert for alert, down to the observation instant. The
broker test (test_system.py) then checks the real worker against the same prediction.
"""

from __future__ import annotations

import bisect
from collections import defaultdict
from datetime import date, datetime, timedelta

import pytest

from agents.core import default_context, handle
from agents.core.roster import Roster
from agents.core.routing import AlertRouter
from devtools.simulator import ExpectedAlert, SimConfig, Simulation, Tick
from devtools.simulator.platforms import coverage
from devtools.simulator.rules import RULE_IDS, VIOLATION_STYLE
from devtools.simulator.signals import SETTLEMENT, SURGE
from schemas.families import PLATFORM_EVENTS as CASE_NAMES  # not the governance events
from schemas.models import ClockTicked, Event, ViolationCode
from tests.sim.coverage import missing_coverage, policy_rule_ids


def _run(cfg: SimConfig) -> tuple[Simulation, list[ExpectedAlert]]:
    alerts: list[ExpectedAlert] = []
    sim = Simulation(cfg, sink=alerts.append)
    for _ in sim:
        pass
    return sim, alerts


def test_rule_table_is_the_policy_files() -> None:
    assert set(RULE_IDS) == policy_rule_ids()
    assert set(VIOLATION_STYLE) == {c.value for c in ViolationCode}


@pytest.mark.parametrize("seed", [8, 1, 2026])
def test_default_run_predicts_every_rule_violation_and_dead_letter(seed: int) -> None:
    sim, alerts = _run(SimConfig(seed=seed))
    assert missing_coverage(alerts, sim.outcome.dead_letters) == []


_CTX = default_context()
PER_SUBJECT = {SURGE.rule_id, SETTLEMENT.rule_id, "REFUND_REJECTIONS_RISING"}  # per platform
"""Risk signals of the regulator agents, per platform or category: tests/sim/test_signals.py."""


def _tick(at: datetime) -> ClockTicked:
    return ClockTicked(event_id="t", case_id="", platform_id="bureau", occurred_at=at, tick_at=at)


def _core_alerts(
    events: list[Event],
    ticks: list[datetime],
    tick_events: list[ClockTicked],
    router: AlertRouter,
) -> set[tuple[object, ...]]:
    """One case through the core, in the order the worker sees it: each event before the
    ticks at or after its instant; its alerts routed by the roster as the worker does."""
    ctx = _CTX
    state = None
    out: set[tuple[object, ...]] = set()
    ti = bisect.bisect_left(ticks, events[0].occurred_at)
    stream: list[Event] = []
    for event in events:
        while ti < len(ticks) and ticks[ti] < event.occurred_at:
            stream.append(tick_events[ti])
            ti += 1
        stream.append(event)
    stream += tick_events[ti:]
    for event in stream:
        decision = handle(state, event, ctx)
        state = decision.state
        out |= {
            ExpectedAlert.from_alert(r).full() for a in decision.alerts for r in router.route(a)
        }
    return out


@pytest.mark.parametrize(
    "cfg",
    [
        SimConfig(),
        SimConfig(seed=3, tick_minutes=37, days=20, start=date(2026, 1, 20)),
        SimConfig(seed=5, tick_minutes=60, days=20, start=date(2026, 4, 1)),
    ],
    ids=["default", "spring-festival-odd-ticks", "order-20-to-121"],
)
def test_prediction_agrees_with_the_core_case_by_case(cfg: SimConfig) -> None:
    alerts: list[ExpectedAlert] = []
    sim = Simulation(cfg, sink=alerts.append)
    events: defaultdict[tuple[str, str], list[Event]] = defaultdict(list)
    ticks: list[datetime] = []
    for item in sim:
        if isinstance(item, Tick):
            ticks.append(item.at)
        elif item.routed and item.event is not None and item.event.EVENT_NAME in CASE_NAMES:
            events[(type(item.event).__module__, item.case_id)].append(item.event)
    expected: defaultdict[str, set[tuple[object, ...]]] = defaultdict(set)
    for a in alerts:
        if a.kind != "InterviewRecommended" and a.rule_id not in PER_SUBJECT:  # per case only
            expected[a.subject].add(a.full())
    actual: defaultdict[str, set[tuple[object, ...]]] = defaultdict(set)
    tick_events = [_tick(t) for t in ticks]
    router = AlertRouter(Roster(tuple(coverage(cfg.roster, cfg.start_at - timedelta(days=400)))))
    for (_family, case_id), case_events in events.items():
        actual[case_id] |= _core_alerts(case_events, ticks, tick_events, router)
    differing = [c for c in set(expected) | set(actual) if expected[c] != actual[c]]
    assert not differing, {
        c: (sorted(expected[c] - actual[c], key=str), sorted(actual[c] - expected[c], key=str))
        for c in differing[:3]
    }
    assert sum(map(len, expected.values())) > 1000
    # every alert of the month has an owner on the roster, none is left UNASSIGNED
    owned = {a.office for a in alerts}
    assert owned and not owned & {"UNASSIGNED", "BUREAU", ""}, owned


def test_the_oracle_pins_cases_to_the_version_of_their_start() -> None:
    """Across 2026-04-15 the oracle predicts Order 20 clocks for old cases and Order 121 ones
    (60-day mediation, return visit, hotline-only 12345 practice) for new ones."""
    from devtools.simulator.rules import RULES_BY_VERSION, version_on

    assert version_on(date(2026, 4, 14)) == "SAMR-20"
    assert version_on(date(2026, 4, 15)) == "SAMR-121"
    old = {r.id: r for r in RULES_BY_VERSION[("SAMR-20", "complaint")]}
    new = {r.id: r for r in RULES_BY_VERSION[("SAMR-121", "complaint")]}
    assert (old["COMPLAINT_MEDIATION"].default, new["COMPLAINT_MEDIATION"].default) == (45, 60)
    assert "COMPLAINT_RETURN_VISIT" in new and "COMPLAINT_RETURN_VISIT" not in old
    _sim, alerts = _run(SimConfig())  # the demo month: every case on Order 121
    visits = [a for a in alerts if a.rule_id == "COMPLAINT_RETURN_VISIT"]
    assert visits, "no return-visit alert predicted for the Order 121 cases"
