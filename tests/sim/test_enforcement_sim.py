"""The month's enforcement acts: the simulator's predicted record equals what the core makes
of the acts (through every tick of the window), and the acts are the same on every run."""

from __future__ import annotations

from datetime import date

import pytest

from agents.core.context import Context
from agents.core.enforcement import EnforcementRecord, handle, on_tick, summary
from devtools.simulator import SimConfig, Simulation, Tick
from devtools.simulator.enforcement import COUNTED, differences, plan
from devtools.simulator.model import Send, Sender
from schemas.models import Event
from schemas.send_rules import SEND_RULES

CTX = Context.load(calendar_dir=None)


@pytest.mark.parametrize(
    "cfg", [SimConfig(), SimConfig(seed=3, days=2, start=date(2026, 1, 20))], ids=["month", "short"]
)
def test_the_predicted_record_is_the_cores(cfg: SimConfig) -> None:
    sim = Simulation(cfg)
    record: EnforcementRecord | None = None
    alerts: list[Event] = []
    mine = {s.event.event_id for s in sim.enforcement.sends if s.event is not None}
    seen: list[Send] = []
    for item in sim:
        if isinstance(item, Tick):
            if record is not None:
                decision = on_tick(record, item.at, CTX)
                record, alerts = decision.record, [*alerts, *decision.outputs]
        elif item.event is not None and item.event.event_id in mine:
            seen.append(item)
            decision = handle(record, item.event, CTX)
            record, alerts = decision.record, [*alerts, *decision.outputs]
    assert record is not None and len(seen) == len(mine) == 6
    assert all(s.sender is Sender.BUREAU and s.at < cfg.end_at for s in seen)
    assert all(SEND_RULES[s.event.EVENT_NAME].family is None for s in seen if s.event)
    assert alerts == []  # verified before its first warning: no alert to predict
    got = summary(record)
    assert differences(sim.enforcement.expected(0), got) == []
    assert set(COUNTED) <= set(got)
    assert record.platform_id == cfg.roster[0].platform_id


def test_the_acts_are_the_same_on_every_run() -> None:
    first, second = plan(SimConfig()), plan(SimConfig())
    assert [s.event for s in first.sends] == [s.event for s in second.sends]
    assert plan(SimConfig(seed=9)).sends[0].event != first.sends[0].event  # ids follow the seed


def test_differences_name_the_counter() -> None:
    expected = plan(SimConfig()).expected(2)
    assert differences(expected, None) == ["the worker shows no enforcement record"]
    wrong = {**expected, "penalties": 0}
    assert differences(expected, wrong) == ["enforcement penalties: expected 1, system 0"]
