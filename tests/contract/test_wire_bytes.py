"""Exact bytes on the wire for a fixed event: the 5-byte Confluent header, the Avro body and
the CloudEvents headers. The expected body is built by a tiny independent Avro encoder below,
so a mistake in the mapping (field order, enum index, union branch, time unit) shows up here.
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum

import pytest

from schemas.models import Category, Channel, Priority
from streams.codec import EventCodec

from .examples import complaint_filed


def _long(n: int) -> bytes:
    zigzag = (n << 1) ^ (n >> 63)
    out = bytearray()
    while True:
        byte = zigzag & 0x7F
        zigzag >>= 7
        if zigzag:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _string(s: str) -> bytes:
    data = s.encode()
    return _long(len(data)) + data


def _millis(dt: datetime) -> bytes:
    return _long(int((dt - datetime(1970, 1, 1, tzinfo=UTC)).total_seconds() * 1000))


def _enum(member: StrEnum, enum: type[StrEnum]) -> bytes:
    return _long(list(enum).index(member))


NULL, SOME = _long(0), _long(1)  # union branches of ["null", T]


def test_framing_header_is_magic_zero_then_big_endian_schema_id() -> None:
    value = EventCodec().encode_value(complaint_filed())
    # ComplaintFiled v3 is pinned to schema id 150 in schemas/schema-ids.lock.json, forever.
    assert value[:5] == b"\x00\x00\x00\x00\x96"


def test_avro_body_bytes() -> None:
    event = complaint_filed()
    expected = b"".join(
        [
            _string("e-1"),
            _string("C-1"),
            _string("meituan"),
            _millis(event.occurred_at),
            _enum(Channel.HOTLINE_12345, Channel),
            _enum(Category.DELIVERY_GOODS_DAMAGE, Category),
            _enum(Priority.NORMAL, Priority),
            SOME + _string("m-9"),  # merchant_ref
            NULL,  # live_room_ref
            _long(12_300),
            b"\x00",  # insured = false
            NULL,  # declared_value_fen
            _string("HD-ZGC"),
            _string("c-7f3a"),
            _millis(event.intake_at),
            SOME + _string("SAMR-20"),  # policy_rule_version (v2)
            NULL,  # complainant_sealed (v3)
        ]
    )
    assert EventCodec().encode_value(event)[5:] == expected


def test_known_literal_bytes() -> None:
    # Belt and braces against the helper above being wrong in the same way as the codec:
    # 1740817815123 ms = 2025-03-01T08:30:15.123Z (calendar.timegm), zigzag varint below.
    assert _millis(datetime(2025, 3, 1, 8, 30, 15, 123000, tzinfo=UTC)) == bytes.fromhex(
        "a6d99e8daa65"
    )
    assert _long(12_300) == bytes.fromhex("98c001")
    assert _string("e-1") == b"\x06e-1"


def test_cloudevents_headers_exact() -> None:
    key, _, headers = EventCodec().encode(complaint_filed(), "/platforms/meituan")
    assert key == b"C-1"
    assert headers == [
        ("ce_id", b"e-1"),
        ("ce_source", b"/platforms/meituan"),
        ("ce_type", b"regbus.ComplaintFiled.v1"),
        ("ce_specversion", b"1.0"),
        ("ce_time", b"2025-03-01T08:30:15.123Z"),
        ("ce_subject", b"C-1"),
        ("content-type", b"application/avro"),
    ]


def test_subject_is_omitted_when_the_case_id_is_empty() -> None:
    headers = EventCodec().headers_for(complaint_filed(case_id=""), "/bureau/hd-office")
    assert "ce_subject" not in dict(headers)
    assert dict(headers)["ce_source"] == b"/bureau/hd-office"


@pytest.mark.parametrize("source", ["meituan", "/platforms/", "/platforms/a/b", "/other/x"])
def test_source_must_be_a_platform_or_bureau_path(source: str) -> None:
    with pytest.raises(ValueError, match="ce_source must be"):
        EventCodec().headers_for(complaint_filed(), source)
