"""InspectionFindingRecorded v2: v1 records still read (free text kept), v2 writes the code."""

from __future__ import annotations

from datetime import UTC, datetime
from io import BytesIO
from typing import Any

from fastavro import schemaless_writer

from schemas.compat import history_problems
from schemas.lock import read_lock
from schemas.models import InspectionFindingRecorded
from schemas.repository import histories
from schemas.store import parse
from streams.codec import EventCodec

V1_RECORD: dict[str, Any] = {
    "event_id": "f-1", "case_id": "rc-1", "platform_id": "p1",
    "occurred_at": datetime(2023, 5, 1, 2, tzinfo=UTC), "spot_check_id": "SC-1",
    "live_room_ref": "lr-1", "anchor_ref": None, "negative_list_item": "NL-07 false discount",
    "evidence_refs": ["e-1"], "inspecting_unit": "joint-cloud-check", "office": "HD-ZGC",
}  # fmt: skip


def test_v2_adds_the_code_and_loosens_the_free_text() -> None:
    v1, v2 = (sv.schema for sv in histories()["InspectionFindingRecorded"])
    fields = {f["name"]: f for f in v2["fields"]}
    assert fields["negative_list_code"]["type"] == ["null", "string"]
    assert fields["negative_list_code"]["default"] is None
    assert fields["negative_list_item"]["type"] == ["null", "string"]
    assert history_problems("InspectionFindingRecorded", [v1, v2]) == []
    assert read_lock()[("InspectionFindingRecorded", 2)].id == 190


def test_v1_bytes_read_with_the_v2_reader() -> None:
    v1 = histories()["InspectionFindingRecorded"][0]
    v1_id = read_lock()[("InspectionFindingRecorded", 1)].id
    out = BytesIO()
    out.write(b"\x00" + v1_id.to_bytes(4, "big"))
    schemaless_writer(out, parse(v1.schema), V1_RECORD)
    event = EventCodec().decode(out.getvalue())
    assert isinstance(event, InspectionFindingRecorded)
    assert event.negative_list_item == "NL-07 false discount" and event.negative_list_code is None


def test_v2_writes_id_190_and_round_trips_the_code() -> None:
    event = InspectionFindingRecorded(
        **{**V1_RECORD, "negative_list_item": None, "negative_list_code": "NL-03"}
    )
    value = EventCodec().encode_value(event)
    assert value[:5] == b"\x00\x00\x00\x00\xbe"  # 190
    assert EventCodec().decode(value) == event
