"""The simulator's campaign: reproducible, legal for the core, codes in force, as predicted."""

from __future__ import annotations

from datetime import date

from agents.core.campaign import fold, view
from agents.core.negative_list import NegativeList, finding_refusal
from devtools.simulator.campaigns import differences, plan_campaign, shown
from devtools.simulator.config import SimConfig
from devtools.simulator.generator import Simulation, spot_check_days
from devtools.simulator.model import Send


def _events(sends: list[Send]) -> list:  # type: ignore[type-arg]
    return [s.event for s in sorted(sends, key=lambda s: s.at)]


def test_the_demo_month_has_one_campaign_on_its_spot_check_day() -> None:
    sim = Simulation(SimConfig())
    c = sim.campaign
    assert c is not None
    assert c.day == min(spot_check_days(SimConfig())) == date(2026, 9, 20)
    assert c.campaign_id == "SC-202609-zhibo-mall"
    assert [type(e).__name__ for e in _events(c.sends)][:2] == [
        "SpotCheckCampaignPlanned", "SpotCheckRoomsSampled",
    ]  # fmt: skip
    assert len(c.sends) == 2 + 8 + 1


def test_the_campaign_is_reproducible() -> None:
    one = Simulation(SimConfig()).campaign
    two = Simulation(SimConfig()).campaign
    assert one is not None and two is not None
    assert one.predicted() == two.predicted()
    assert [s.event for s in one.sends] == [s.event for s in two.sends]
    other = Simulation(SimConfig(seed=9)).campaign
    assert other is not None and other.predicted()["sample"] != one.predicted()["sample"]


def test_the_core_folds_it_to_the_prediction() -> None:
    c = Simulation(SimConfig()).campaign
    assert c is not None
    states, refused = fold(_events(c.sends))
    assert refused == []
    got = shown({**view(states[c.campaign_id]), "refused": []})
    assert differences(c.predicted(), got) == []
    f = c.predicted()["figures"]
    assert f["sampled"] == 8 and f["not_checked"] == 1 and f["with_findings"] >= 1


def test_every_code_is_in_force_on_its_day() -> None:
    c = Simulation(SimConfig()).campaign
    assert c is not None
    nl = NegativeList.load()
    assert all(finding_refusal(e, nl) is None for e in _events(c.sends))


def test_no_live_streaming_platform_no_campaign() -> None:
    cfg = SimConfig(platforms=2)  # instant delivery and food delivery only
    assert plan_campaign(cfg, date(2026, 9, 21)) is None
    assert plan_campaign(SimConfig(), None) is None
