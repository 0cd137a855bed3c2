"""The audit's campaign fold and its report section (pure: raw records in, JSON and HTML out)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import timedelta

from audit.governance import campaigns_html, fold_records
from schemas.instants import to_ms
from schemas.models import Event, RoomCheckResult, SampledRoom
from streams.codec import EventCodec

from . import builders as b

CODEC = EventCodec()


def _raw(events: list[Event]) -> list[tuple[bytes, list[tuple[str, bytes]]]]:
    out = []
    for e in events:
        _key, value, headers = CODEC.encode(e, "/bureau/hd-ad")
        out.append((value, headers))
    return out


def _campaign() -> list[Event]:
    rooms = b.the_draw()
    return [
        b.planned(),
        b.sampled(),
        b.checked(rooms[0], RoomCheckResult.FINDINGS, ("NL-03",)),
        *(b.checked(r) for r in rooms[1:]),
        b.checked(rooms[1]),  # refused: twice
        b.closed(),
    ]


def test_the_fold_gives_the_figures_the_sample_and_the_refusals() -> None:
    events = _campaign()
    block = fold_records(to_ms(b.T0 + timedelta(days=1)), _raw(events)).as_json()
    (c,) = block["campaigns"]
    assert c["status"] == "CLOSED" and c["sample_matches_seed"] is True
    assert c["figures"]["clean_share"] == 0.75 and c["figures"]["with_findings"] == 1
    assert [s["live_room_ref"] for s in c["sample"]] == ["lr-0003", "lr-0016", "lr-0028", "lr-0031"]
    assert c["sample"][0]["inspectors"] == ["insp-b", "insp-e"]
    (refused,) = block["refused"]
    assert refused["type"] == "SpotCheckRoomChecked" and "already recorded" in refused["reason"]


def test_as_of_leaves_later_events_out() -> None:
    block = fold_records(to_ms(b.T0 + timedelta(minutes=30)), _raw(_campaign())).as_json()
    (c,) = block["campaigns"]
    assert c["status"] == "SAMPLED" and block["events_after_until"] == 6


def test_a_sample_not_from_the_seed_is_flagged_when_the_plan_has_no_population() -> None:
    other = [SampledRoom(live_room_ref=f"x-{i}", inspectors=["insp-a", "insp-b"]) for i in range(4)]
    events: list[Event] = [b.planned(eligible_rooms=[]), b.sampled(rooms=other)]
    (c,) = fold_records(to_ms(b.T0 + timedelta(days=1)), _raw(events)).as_json()["campaigns"]
    assert c["sample_matches_seed"] is None


def test_the_html_section_is_well_formed_and_shows_the_campaign() -> None:
    block = fold_records(to_ms(b.T0 + timedelta(days=1)), _raw(_campaign())).as_json()
    html = campaigns_html({"campaigns": block})
    root = ET.fromstring(html)
    text = "".join(root.itertext())
    assert "SC-2026-09-p1" in text and "75.0%" in text and "NL-03 虚构交易量" in text
    assert "the sample is the one the seed draws" in text and "already recorded" in text
    assert "not read" in campaigns_html({"campaigns": None})
