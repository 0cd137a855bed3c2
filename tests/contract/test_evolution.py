"""Schema evolution: BACKWARD_TRANSITIVE holds for every history, and old bytes upcast on read."""

from __future__ import annotations

import copy
import json
from io import BytesIO
from typing import Any

import pytest
from fastavro import schemaless_reader, schemaless_writer

from schemas.compat import backward_transitive_problems, history_problems, incompatibilities
from schemas.lock import read_lock
from schemas.mapping import to_avro
from schemas.models import ComplaintFiled
from schemas.repository import histories
from schemas.store import parse
from streams.codec import EventCodec

from .examples import complaint_filed


def test_every_history_is_backward_transitive() -> None:
    assert backward_transitive_problems(histories()) == []


def test_complaint_filed_has_a_real_v2_and_v3() -> None:
    v1, v2, v3 = (sv.schema for sv in histories()["ComplaintFiled"])
    added = [f for f in v2["fields"] if f["name"] not in {g["name"] for g in v1["fields"]}]
    assert [(f["name"], f["type"], f["default"]) for f in added] == [
        ("policy_rule_version", ["null", "string"], None)
    ]
    added = [f for f in v3["fields"] if f["name"] not in {g["name"] for g in v2["fields"]}]
    assert [(f["name"], f["type"], f["default"]) for f in added] == [
        ("complainant_sealed", ["null", "bytes"], None)
    ]


def _v2() -> dict[str, Any]:
    return copy.deepcopy(histories()["ComplaintFiled"][1].schema)


def _field(schema: dict[str, Any], name: str) -> dict[str, Any]:
    return next(f for f in schema["fields"] if f["name"] == name)


def _without_default(schema: dict[str, Any]) -> dict[str, Any]:
    _field(schema, "policy_rule_version").pop("default")
    return schema


def _retyped(schema: dict[str, Any]) -> dict[str, Any]:
    _field(schema, "claimed_amount_fen")["type"] = "string"
    return schema


def _renamed(schema: dict[str, Any]) -> dict[str, Any]:
    _field(schema, "office")["name"] = "office_code"
    return schema


def _fewer_priorities(schema: dict[str, Any]) -> dict[str, Any]:
    _field(schema, "priority")["type"]["symbols"] = ["NORMAL"]
    return schema


@pytest.mark.parametrize("change", [_without_default, _retyped, _renamed, _fewer_priorities])
def test_an_incompatible_change_is_detected(change: Any) -> None:
    v1 = histories()["ComplaintFiled"][0].schema
    bad_v3 = change(_v2())
    assert incompatibilities(bad_v3, v1)
    problems = history_problems("ComplaintFiled", [v1, _v2(), bad_v3])
    assert problems and all(p.startswith("ComplaintFiled: v3 cannot read") for p in problems)


def test_transitive_not_just_the_previous_version() -> None:
    """v3 drops the v2 field again and adds a required one: fine against v2, not v1."""
    v1 = histories()["ComplaintFiled"][0].schema
    v2 = _v2()
    v3 = _v2()
    v3["fields"].append({"name": "late", "type": "string", "default": "x"})
    assert history_problems("ComplaintFiled", [v1, v2, v3]) == []
    v3_required = _v2()
    v3_required["fields"].append({"name": "late", "type": "string"})
    found = history_problems("ComplaintFiled", [v1, v2, v3_required])
    assert any("v3 cannot read v1" in p for p in found)
    assert any("v3 cannot read v2" in p for p in found)


def _v1_bytes(record: dict[str, Any]) -> bytes:
    v1 = histories()["ComplaintFiled"][0]
    v1_id = read_lock()[("ComplaintFiled", 1)].id
    out = BytesIO()
    out.write(b"\x00" + v1_id.to_bytes(4, "big"))
    schemaless_writer(out, parse(v1.schema), record)
    return out.getvalue()


def test_v1_bytes_decode_with_the_v2_reader() -> None:
    event = complaint_filed(policy_rule_version=None)
    newer = {"policy_rule_version", "complainant_sealed"}
    record = {k: v for k, v in to_avro(event).items() if k not in newer}
    value = _v1_bytes(record)
    assert value[:5] == b"\x00\x00\x00\x00\x06"  # ComplaintFiled v1 is pinned to id 6
    decoded = EventCodec().decode(value)
    assert decoded == event
    assert decoded.policy_rule_version is None and decoded.complainant_sealed is None
    name, raw = EventCodec().decode_raw(value)
    assert name == "ComplaintFiled" and raw["policy_rule_version"] is None


def test_v2_field_round_trips_and_writer_uses_the_newest_version() -> None:
    event = complaint_filed(policy_rule_version="SAMR-121")
    value = EventCodec().encode_value(event)
    assert value[:5] == b"\x00\x00\x00\x00\x96"  # v3 is pinned to id 150
    decoded = EventCodec().decode(value)
    assert isinstance(decoded, ComplaintFiled) and decoded.policy_rule_version == "SAMR-121"


def test_v3_sealed_field_round_trips() -> None:
    event = complaint_filed(complainant_sealed=b"S1" + bytes(40))
    decoded = EventCodec().decode(EventCodec().encode_value(event))
    assert isinstance(decoded, ComplaintFiled) and decoded.complainant_sealed == b"S1" + bytes(40)


def test_enum_default_reads_an_unknown_category_as_other() -> None:
    """Forward compatibility: a newer writer's new Category symbol reads as OTHER."""
    newer = _v2()
    _field(newer, "category")["type"]["symbols"].append("CROSS_BORDER")
    record = dict(to_avro(complaint_filed()))
    record["category"] = "CROSS_BORDER"
    out = BytesIO()
    schemaless_writer(out, parse(newer), record)
    out.seek(0)
    read = schemaless_reader(out, parse(newer), parse(_v2()))
    assert isinstance(read, dict) and read["category"] == "OTHER"


def test_schema_files_are_plain_json_with_the_namespace() -> None:
    for versions in histories().values():
        for sv in versions:
            assert sv.schema["namespace"] == "cn.regbus.events"
            assert json.loads(sv.path.read_text()) == sv.schema
