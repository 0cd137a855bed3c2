"""The simulator's scorecard prediction against the regulator's own rules, without a broker.

The prediction (devtools/simulator/scorecards.py, fed by the simulator's oracle) is written
independently of agents/scorecard.py. Here every routed event of a run is encoded as the case
agent would store it and folded through the regulator's pure functions, with the predicted
breach and violation alerts; the two must agree counter for counter, for every platform and
category. The broker tests (test_system.py, test_demo.py) then hold the real worker's HTTP
API to the same prediction.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from typing import Any

import pytest

from agents.scorecard import (
    METRICS,
    Days,
    add_into,
    alert_contribution,
    fold_complaint,
    range_scorecard,
)
from agents.scorecard import ComplaintFacts as RegulatorFacts
from devtools.simulator import ExpectedAlert, SimConfig, Simulation
from devtools.simulator.rules import RULES
from devtools.simulator.scorecards import COUNTERS, ComplaintFacts, differences
from streams.codec import EventCodec

CODEC = EventCodec()
CASE_TYPES = {r.id: r.case_type for r in RULES}


def _regulator_view(cfg: SimConfig) -> tuple[dict[str, Any], dict[str, dict[str, int]]]:
    """(the simulator's predicted scorecards, the regulator's rules applied to the run)."""
    alerts: list[ExpectedAlert] = []
    sim = Simulation(cfg, sink=alerts.append)
    facts: dict[str, RegulatorFacts | None] = {}
    for item in sim:
        if getattr(item, "routed", False) and item.event is not None:
            name, record = CODEC.decode_raw(CODEC.encode_value(item.event))
            case_id = item.event.case_id
            facts[case_id] = fold_complaint(facts.get(case_id), name, record)
    days: defaultdict[str, Days] = defaultdict(dict)
    for a in alerts:
        if a.kind == "SlaBreached" and a.rule_id == "COMPLAINT_ACKNOWLEDGE":
            breached = facts.get(a.subject)
            assert breached is not None, a.subject
            breached.mark_ack_breached()
        record = {"due_at": a.due_at, "observed_at": a.observed_at}
        contribution = alert_contribution(a.kind, record, CASE_TYPES.get(a.rule_id))
        if contribution is not None:
            add_into(days[a.platform_id], *contribution, 1)
    for f in facts.values():
        if f is not None:
            contribution = f.contribution()
            add_into(days[f.platform_id], *contribution, 1)
            add_into(days[f"category:{f.category}"], *contribution, 1)
    cards = sim.outcome.scorecards()
    first, last = date.fromisoformat(cards["from"]), date.fromisoformat(cards["to"])
    regulator = {
        subject: range_scorecard(subject, days[subject], first, last).counts
        for subject in cards["subjects"]
    }
    return cards, regulator


@pytest.mark.parametrize(
    "cfg",
    [SimConfig(), SimConfig(seed=5, days=12, tick_minutes=30, start=date(2026, 9, 28))],
    ids=["default-month", "national-day-half-hour-ticks"],
)
def test_predicted_scorecards_follow_the_regulators_rules(cfg: SimConfig) -> None:
    cards, regulator = _regulator_view(cfg)
    assert differences(cards["subjects"], regulator) == []
    platforms = [p.platform_id for p in cfg.roster]
    assert set(platforms) < set(cards["subjects"])
    totals = {m: sum(cards["subjects"][p][m] for p in platforms) for m in COUNTERS}
    # The default month exercises every counter, so agreement means something.
    exercised = COUNTERS if cfg == SimConfig() else ("complaints", "breaches", "settled")
    assert all(totals[m] > 0 for m in exercised), totals


def test_the_counters_are_the_regulators() -> None:
    assert COUNTERS == METRICS


def test_differences_name_each_disagreeing_counter() -> None:
    want = {"a": dict.fromkeys(COUNTERS, 1)}
    got = {"a": {**dict.fromkeys(COUNTERS, 1), "settled": 0, "breaches": 3}}
    assert differences(want, got) == [
        "a settled: expected 1, system 0",
        "a breaches: expected 1, system 3",
    ]
    assert differences(want, {}) != []


def test_a_reopened_complaint_counts_only_its_last_outcome() -> None:
    from schemas.models import Channel, Outcome, Satisfaction

    facts = ComplaintFacts.opened("p", "FOOD_SAFETY", Channel.HOTLINE_12345, date(2026, 9, 18))
    facts.forwarded = facts.acknowledged = True
    facts.outcome, facts.satisfaction = Outcome.SETTLED, Satisfaction.UNSATISFIED
    facts.outcome = facts.satisfaction = None  # reopened
    c = facts.counts()
    assert (c["forwarded"], c["responded_in_time"], c["resolved"], c["feedback"]) == (1, 1, 0, 0)
    facts.ack_breached = True
    assert facts.counts()["responded_in_time"] == 0
