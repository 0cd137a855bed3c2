"""The simulator's risk-signal prediction against the regulator's processors, without a broker.

The run goes through the worker's own data path (case processors → regulator processors, in
memory: tests/regulator/pipeline.py) under two consumption schedules — a consumer call after
every tick, and one after every day with small batches that let partitions run ahead of one
another. Both must raise exactly the predicted COMPLAINT_SURGE and SETTLEMENT_BELOW_TARGET
alerts, at the predicted instants: signals are decided on what had happened by each tick,
not on how far the consumers had got.
"""

from __future__ import annotations

from datetime import date

import pytest

from agents.core.context import Context
from agents.scorecard import SignalsPolicy
from devtools.simulator import ExpectedAlert, SimConfig, Simulation, Tick
from devtools.simulator.signals import SETTLEMENT, SURGE
from schemas.families import PLATFORM_EVENTS as CASE_NAMES  # not the governance events
from schemas.models import RiskSignalRaised
from tests.regulator.pipeline import Pipeline

POLICY = SignalsPolicy.load()
SIGNALS = {SURGE.rule_id, SETTLEMENT.rule_id}
CTX = Context.load(calendar_dir=None)


def _run(cfg: SimConfig, every: int, batch_size: int) -> tuple[set[tuple], set[tuple]]:
    """(predicted, raised) signals as comparable tuples."""
    predicted: list[ExpectedAlert] = []
    sim = Simulation(cfg, sink=predicted.append)
    pipe = Pipeline(CTX, POLICY, batch_size=batch_size)
    ticks = 0
    for item in sim:
        if isinstance(item, Tick):
            pipe.tick(item.at)
            ticks += 1
            if ticks % every == 0:
                pipe.run()
        elif item.routed and item.event is not None and item.event.EVENT_NAME in CASE_NAMES:
            pipe.publish([item.event])
    pipe.run()
    # The pipeline runs the regulator's processors without the worker's roster routing
    # (tests/sim/test_system.py checks owners through a real worker): office and leader aside.
    raised = {
        ExpectedAlert.from_alert(a).full()[:-2]
        for a in pipe.alerts()
        if isinstance(a, RiskSignalRaised) and a.rule_id in SIGNALS
    }
    return {a.full()[:-2] for a in predicted if a.rule_id in SIGNALS}, raised


def test_the_rules_are_the_signal_policys() -> None:
    surge, settlement = POLICY.surge, POLICY.settlement
    assert (SURGE.rule_id, SURGE.factor, SURGE.baseline_weeks, SURGE.baseline_floor,
            SURGE.min_count) == (surge.rule_id, surge.factor, surge.baseline_weeks,
                                 surge.baseline_floor, surge.min_count)  # fmt: skip
    assert (SURGE.level, SURGE.severity) == (surge.style.level, surge.style.severity)
    mine = (SETTLEMENT.rule_id, SETTLEMENT.target, SETTLEMENT.window_days, SETTLEMENT.min_resolved)
    theirs = (settlement.rule_id, settlement.target, settlement.window_days,
              settlement.min_resolved)  # fmt: skip
    assert mine == theirs
    assert (SETTLEMENT.level, SETTLEMENT.severity) == (
        settlement.style.level, settlement.style.severity)  # fmt: skip
    assert SURGE.categories and not SETTLEMENT.categories
    assert [k.value for k in surge.subjects] == ["platform", "category"]
    assert [k.value for k in settlement.subjects] == ["platform"]


@pytest.mark.parametrize(
    ("cfg", "every", "batch_size"),
    [
        (SimConfig(), 1, 10_000),
        (SimConfig(), 24, 40),
        (SimConfig(seed=3, days=21, start=date(2026, 8, 3), tick_minutes=90), 5, 25),
    ],
    ids=["month-every-tick", "month-daily-small-batches", "seed3-odd-ticks"],
)
def test_signals_are_the_predicted_ones(cfg: SimConfig, every: int, batch_size: int) -> None:
    predicted, raised = _run(cfg, every, batch_size)
    assert raised == predicted, (sorted(predicted - raised), sorted(raised - predicted))
    rules = {key[1] for key in predicted}
    if cfg == SimConfig():
        assert rules == SIGNALS  # the default month raises both kinds
