"""The campaign state machine: every legal and illegal transition (pure core)."""

from __future__ import annotations

from datetime import datetime

import pytest

from agents.core.campaign import (
    CampaignState,
    CampaignStatus,
    Decision,
    fold,
    from_dict,
    handle,
    to_dict,
    view,
)
from agents.core.negative_list import NegativeList, beijing_day
from schemas.models import Event, RoomCheckResult, SampledRoom

from . import builders as b

FINDINGS = RoomCheckResult.FINDINGS
NOT_CHECKED = RoomCheckResult.NOT_CHECKED


def _ok(state: CampaignState | None, event: Event) -> CampaignState:
    d = handle(state, event)
    assert d.refused is None, d.refused
    assert d.state is not None
    return d.state


def _refused(state: CampaignState | None, event: Event, match: str) -> Decision:
    d = handle(state, event)
    assert d.refused is not None and match in d.refused, d.refused
    assert d.state is state  # a refusal changes nothing
    return d


def _sampled() -> CampaignState:
    return _ok(_ok(None, b.planned()), b.sampled())


def _all_checked() -> CampaignState:
    s = _sampled()
    rooms = b.the_draw()
    s = _ok(s, b.checked(rooms[0], FINDINGS, ("NL-03",)))
    for room in rooms[1:]:
        s = _ok(s, b.checked(room))
    return s


# ---- legal path --------------------------------------------------------------------------
def test_planned_sampled_checked_closed() -> None:
    s = _ok(None, b.planned())
    assert s.status is CampaignStatus.PLANNED and s.sample == ()
    s = _ok(s, b.sampled())
    assert s.status is CampaignStatus.SAMPLED
    assert [room for room, _ in s.sample] == ["lr-0003", "lr-0016", "lr-0028", "lr-0031"]
    s = _all_checked()
    assert s.status is CampaignStatus.CHECKING
    s = _ok(s, b.closed())
    assert s.status is CampaignStatus.CLOSED
    assert s.closed is not None and s.closed.clean_share == 0.75 and s.closed.with_findings == 1


def test_close_with_rooms_recorded_not_checked() -> None:
    s = _sampled()
    rooms = b.the_draw()
    s = _ok(s, b.checked(rooms[0], NOT_CHECKED, inspectors=[], note="room closed"))
    for room in rooms[1:]:
        s = _ok(s, b.checked(room))
    figures = {"checked": 3, "clean": 3, "with_findings": 0, "not_checked": 1, "clean_share": 1.0}
    s = _ok(s, b.closed(**figures))
    assert s.closed is not None and s.closed.not_checked == 1


def test_a_resent_event_is_a_duplicate_not_a_refusal() -> None:
    plan = b.planned()
    s = _ok(None, plan)
    d = handle(s, plan)
    assert d.duplicate and d.refused is None and d.state is s


def test_plan_without_the_population_only_checks_the_rule() -> None:
    s = _ok(None, b.planned(eligible_rooms=[]))
    other = [SampledRoom(live_room_ref=f"x-{i}", inspectors=["insp-a", "insp-b"]) for i in range(4)]
    assert _ok(s, b.sampled(rooms=other)).status is CampaignStatus.SAMPLED


# ---- illegal transitions ------------------------------------------------------------------
def test_nothing_before_the_plan() -> None:
    room = b.the_draw()[0]
    for ev in (b.sampled(), b.checked(room), b.closed()):
        _refused(None, ev, "is not planned")


def test_plan_twice() -> None:
    _refused(_ok(None, b.planned()), b.planned(), "already planned")


def test_sample_twice() -> None:
    _refused(_sampled(), b.sampled(), "already sampled")
    _refused(_all_checked(), b.sampled(), "already sampled")


def test_sample_that_is_not_the_seeds() -> None:
    rooms = b.the_draw()
    rooms[0] = SampledRoom(live_room_ref="lr-0000", inspectors=rooms[0].inspectors)
    _refused(_ok(None, b.planned()), b.sampled(rooms=rooms), "not the sample")


def test_sample_inspectors_not_the_seeds() -> None:
    rooms = b.the_draw()
    rooms[0] = SampledRoom(live_room_ref=rooms[0].live_room_ref, inspectors=["insp-a", "insp-c"])
    _refused(_ok(None, b.planned()), b.sampled(rooms=rooms), "not the sample")


@pytest.mark.parametrize(
    ("rooms", "match"),
    [
        (b.the_draw(3), "3 sampled, the rule says 4"),
        ([*b.the_draw(3), b.the_draw(3)[0]], "sampled twice"),
        ([SampledRoom(live_room_ref="lr-0001", inspectors=["insp-a"]), *b.the_draw(3)], "has 1"),
        ([SampledRoom(live_room_ref="lr-0001", inspectors=["insp-a", "zz"]), *b.the_draw(3)],
         "not in the pool"),
        ([SampledRoom(live_room_ref="nope", inspectors=["insp-a", "insp-b"]), *b.the_draw(3)],
         "eligible population"),
    ],
)  # fmt: skip
def test_sample_that_breaks_the_rule(rooms: list[SampledRoom], match: str) -> None:
    _refused(_ok(None, b.planned()), b.sampled(rooms=rooms), match)


def test_sample_with_another_seed_or_sampler() -> None:
    s = _ok(None, b.planned())
    _refused(s, b.sampled(seed="other"), "seed")
    _refused(s, b.sampled(sampler="random.Random"), "sampler")


@pytest.mark.parametrize(
    ("over", "match"),
    [
        ({"month": "2026-13"}, "month"),
        ({"departments": []}, "departments"),
        ({"departments": ["SAMR", "SAMR"]}, "twice"),
        ({"sampler": "random.Random"}, "sampler"),
        ({"inspector_pool": ["a", "a"]}, "inspector_pool"),
        ({"inspectors_per_room": 0}, "inspectors_per_room"),
        ({"inspectors_per_room": 6}, "inspectors_per_room"),
        ({"rooms_to_sample": 0}, "rooms_to_sample"),
        ({"rooms_to_sample": 41}, "rooms_to_sample"),
        ({"population_size": 39}, "population_size"),
        ({"population_sha256": b"\x00" * 32}, "population_sha256"),
        ({"population_sha256": b"short"}, "population_sha256"),
    ],
)
def test_a_plan_that_cannot_be_sampled(over: dict[str, object], match: str) -> None:
    _refused(None, b.planned(**over), match)


def test_check_before_the_sample() -> None:
    _refused(_ok(None, b.planned()), b.checked(b.the_draw()[0]), "no sample yet")


def test_check_a_room_not_in_the_sample() -> None:
    stranger = SampledRoom(live_room_ref="lr-0001", inspectors=["insp-a", "insp-b"])
    _refused(_sampled(), b.checked(stranger), "not in the campaign's sample")


def test_check_twice() -> None:
    room = b.the_draw()[0]
    s = _ok(_sampled(), b.checked(room))
    _refused(s, b.checked(room), "already recorded")
    _refused(s, b.checked(room, NOT_CHECKED), "already recorded")


def test_check_by_inspectors_not_assigned() -> None:
    room = b.the_draw()[0]
    _refused(_sampled(), b.checked(room, inspectors=["insp-a", "insp-c"]), "not the ones assigned")


@pytest.mark.parametrize(
    ("result", "codes", "match"),
    [
        (FINDINGS, (), "at least one"),
        (RoomCheckResult.CLEAN, ("NL-01",), "cites no codes"),
        (NOT_CHECKED, ("NL-01",), "cites no codes"),
        (FINDINGS, ("NL-01", "NL-01"), "twice"),
    ],
)
def test_result_contradicting_its_codes(
    result: RoomCheckResult, codes: tuple[str, ...], match: str
) -> None:
    _refused(_sampled(), b.checked(b.the_draw()[0], result, codes), match)


def test_codes_checked_against_the_list_when_asked() -> None:
    nl = NegativeList.load()

    def known(code: str, at: datetime) -> str | None:
        return nl.refusal(code, beijing_day(at))

    ev = b.checked(b.the_draw()[0], FINDINGS, ("NL-99",))
    d = handle(_sampled(), ev, known_codes=known)
    assert d.refused is not None and "finding_codes" in d.refused and "NL-99" in d.refused
    early = b.checked(b.the_draw()[0], FINDINGS, ("NL-07",))  # NL-07 from 2026-10-01 only
    d = handle(_sampled(), early, known_codes=known)
    assert d.refused is not None and "2026-10-01" in d.refused


def test_close_before_the_sample() -> None:
    _refused(_ok(None, b.planned()), b.closed(), "before its sample")


def test_close_before_every_room_is_recorded() -> None:
    s = _ok(_sampled(), b.checked(b.the_draw()[0]))
    _refused(s, b.closed(), "3 sampled rooms are neither checked nor recorded NOT_CHECKED")
    _refused(_sampled(), b.closed(), "4 sampled rooms")


def test_close_with_figures_that_differ() -> None:
    _refused(_all_checked(), b.closed(clean=4, with_findings=0, clean_share=1.0), "clean 4 ≠ 3")


def test_nothing_after_the_close() -> None:
    s = _ok(_all_checked(), b.closed())
    for ev in (b.sampled(), b.checked(b.the_draw()[0]), b.closed()):
        _refused(s, ev, "is closed")
    _refused(s, b.planned(), "already planned")


def test_another_platform_is_refused() -> None:
    _refused(_ok(None, b.planned()), b.sampled(platform_id="p2"), "platform_id")


# ---- fold, JSON ---------------------------------------------------------------------------
def test_fold_keeps_refusals_apart() -> None:
    rooms = b.the_draw()
    events: list[Event] = [b.planned(), b.sampled(), b.checked(rooms[0]), b.checked(rooms[0])]
    states, refused = fold(events)
    assert len(states[b.CAMPAIGN].rooms) == 1
    assert [r for _, r in refused] == [
        f"live_room_ref: {rooms[0].live_room_ref} is already recorded"
    ]


def test_state_round_trips_through_json() -> None:
    s = _ok(_all_checked(), b.closed())
    assert from_dict(to_dict(s)) == s
    v = view(s)
    assert v["figures"] == {"sampled": 4, "checked": 4, "clean": 3, "with_findings": 1,
                            "not_checked": 0, "clean_share": 0.75}  # fmt: skip
    assert [r["live_room_ref"] for r in v["sample"]] == ["lr-0003", "lr-0016", "lr-0028", "lr-0031"]
