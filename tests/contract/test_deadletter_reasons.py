"""DeadLetterRecord v3 and DeadLetterNotice v2: the bureau's own failures as reasons, an enum
default for readers, and v2 / v1 bytes still read."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from io import BytesIO
from typing import Any

import pytest
from fastavro import schemaless_reader, schemaless_writer

from schemas.lock import read_lock
from schemas.mapping import to_avro
from schemas.models import DeadLetterNotice, DeadLetterReason, DeadLetterRecord
from schemas.repository import histories
from schemas.store import parse
from streams.codec import EventCodec

NEW = [
    DeadLetterReason.RECORD_TOO_LARGE,
    DeadLetterReason.PRODUCE_FAILED,
    DeadLetterReason.PROCESSING_ERROR,
]
AT = datetime(2026, 9, 18, 8, tzinfo=UTC)


def _letter(reason: DeadLetterReason) -> DeadLetterRecord:
    return DeadLetterRecord(
        event_id="e-1", case_id="", platform_id="acme", occurred_at=AT,
        original_topic="t.ingress.acme", original_partition=0, original_offset=7,
        original_key=b"c-1", original_value=b"\x00raw", original_headers=[],
        reason=reason, detail="d",
    )  # fmt: skip


def _notice(reason: DeadLetterReason) -> DeadLetterNotice:
    return DeadLetterNotice(
        event_id="n-1", case_id="", platform_id="acme", occurred_at=AT, dead_letter_id="e-1",
        original_topic="t.ingress.acme", original_partition=0, original_offset=7, reason=reason,
    )  # fmt: skip


def _reason_enum(schema: dict[str, Any]) -> dict[str, Any]:
    return next(f for f in schema["fields"] if f["name"] == "reason")["type"]  # type: ignore[no-any-return]


@pytest.mark.parametrize(("subject", "version", "pinned"), [
    ("DeadLetterRecord", 3, 210), ("DeadLetterNotice", 2, 211),
])  # fmt: skip
def test_the_new_versions_add_the_three_reasons_with_a_default(
    subject: str, version: int, pinned: int
) -> None:
    *_, before, newest = histories()[subject]
    assert newest.version == version and read_lock()[(subject, version)].id == pinned
    old, new = _reason_enum(before.schema), _reason_enum(newest.schema)
    assert new["symbols"] == old["symbols"] + [r.value for r in NEW]
    assert new["default"] == "INVALID_VALUE" and "default" not in old
    assert [r.value for r in DeadLetterReason] == new["symbols"]


@pytest.mark.parametrize("reason", NEW)
def test_each_new_reason_round_trips_in_the_newest_schema(reason: DeadLetterReason) -> None:
    codec = EventCodec()
    for event, pinned in ((_letter(reason), 210), (_notice(reason), 211)):
        value = codec.encode_value(event)
        assert int.from_bytes(value[1:5], "big") == pinned
        assert codec.decode(value) == event


@pytest.mark.parametrize(("subject", "version", "event"), [
    ("DeadLetterRecord", 1, _letter(DeadLetterReason.WRONG_TOPIC)),
    ("DeadLetterRecord", 2, _letter(DeadLetterReason.PERSONAL_DATA)),
    ("DeadLetterNotice", 1, _notice(DeadLetterReason.FUTURE_TIMESTAMP)),
])  # fmt: skip
def test_older_bytes_read_with_the_newest_reader(subject: str, version: int, event: Any) -> None:
    sv = histories()[subject][version - 1]
    out = BytesIO()
    out.write(b"\x00" + read_lock()[(subject, version)].id.to_bytes(4, "big"))
    schemaless_writer(out, parse(sv.schema), dict(to_avro(event)))
    assert EventCodec().decode(out.getvalue()) == event


def test_a_reason_this_reader_does_not_know_reads_as_invalid_value() -> None:
    """Forward compatibility from v3 on: a later writer's new reason reads as the default."""
    v3 = histories()["DeadLetterRecord"][2].schema
    later = copy.deepcopy(v3)
    _reason_enum(later)["symbols"].append("SOMETHING_NEW")
    record = dict(to_avro(_letter(DeadLetterReason.PRODUCE_FAILED)))
    record["reason"] = "SOMETHING_NEW"
    out = BytesIO()
    schemaless_writer(out, parse(later), record)
    out.seek(0)
    read = schemaless_reader(out, parse(later), parse(v3))
    assert isinstance(read, dict) and read["reason"] == "INVALID_VALUE"
