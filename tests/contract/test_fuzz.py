"""Decoders never crash: arbitrary bytes and headers give a DecodeError or an event."""

from __future__ import annotations

from collections.abc import Sequence

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from schemas.lock import read_lock
from schemas.models import EVENT_TYPES, DeadLetterReason, Event
from streams.codec import DecodeError, EventCodec

from .strategies import model_strategy

CODEC = EventCodec()
KNOWN_IDS = sorted(entry.id for entry in read_lock().values())
HEADER_NAMES = ["ce_id", "ce_source", "ce_type", "ce_specversion", "ce_time", "ce_subject"]

framed = st.builds(
    lambda schema_id, body: b"\x00" + schema_id.to_bytes(4, "big") + body,
    st.sampled_from(KNOWN_IDS) | st.integers(0, 2**32 - 1),
    st.binary(max_size=200),
)
header_values = (
    st.none()
    | st.binary(max_size=40)
    | st.sampled_from([b"1.0", b"regbus.ComplaintFiled.v1", b"/platforms/p", b""])
)
headers = st.lists(
    st.tuples(st.sampled_from(HEADER_NAMES) | st.text(max_size=12), header_values), max_size=10
)


def _decode_or_reason(value: bytes, hdrs: Sequence[tuple[str, bytes | None]] | None) -> object:
    try:
        return CODEC.decode(value, hdrs)
    except DecodeError as exc:
        assert isinstance(exc.reason, DeadLetterReason)
        assert exc.detail
        return exc.reason


@settings(max_examples=2000, deadline=None)
@given(value=st.binary(max_size=300) | framed, hdrs=st.none() | headers)
def test_arbitrary_bytes_and_headers_only_raise_decode_error(
    value: bytes, hdrs: list[tuple[str, bytes | None]] | None
) -> None:
    result = _decode_or_reason(value, hdrs)
    assert isinstance(result, Event | DeadLetterReason)
    try:
        CODEC.decode_raw(value)
    except DecodeError:
        pass


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    """A valid encoding, then truncated, extended or with a few bytes overwritten."""
    model = draw(st.sampled_from(list(EVENT_TYPES.values())))
    value = bytearray(CODEC.encode_value(draw(model_strategy(model))))
    for _ in range(draw(st.integers(1, 3))):
        pos = draw(st.integers(0, len(value) - 1))
        value[pos] = draw(st.integers(0, 255))
    cut = draw(st.integers(0, len(value) + 3))
    return bytes(value[:cut]) + draw(st.binary(max_size=3))


@settings(max_examples=2000, deadline=None)
@given(value=mutated())
def test_mutated_valid_values_only_raise_decode_error(value: bytes) -> None:
    result = _decode_or_reason(value, None)
    assert isinstance(result, Event | DeadLetterReason)


def test_reasons_for_each_kind_of_damage() -> None:
    from .examples import complaint_filed

    good = CODEC.encode_value(complaint_filed())
    cases = {
        b"": DeadLetterReason.TRUNCATED,
        b"\x01" + good[1:]: DeadLetterReason.BAD_MAGIC,
        good[:3]: DeadLetterReason.TRUNCATED,
        b"\x00\xff\xff\xff\xff" + good[5:]: DeadLetterReason.UNKNOWN_SCHEMA_ID,
        good[:-4]: DeadLetterReason.TRUNCATED,
        good + b"\x00": DeadLetterReason.INVALID_VALUE,
    }
    for value, reason in cases.items():
        assert _decode_or_reason(value, None) is reason, value


def test_header_checks() -> None:
    from .examples import complaint_filed

    _, value, hdrs = CODEC.encode(complaint_filed(), "/platforms/meituan")
    without_type = [(k, v) for k, v in hdrs if k != "ce_type"]
    assert _decode_or_reason(value, without_type) is DeadLetterReason.MISSING_HEADER
    none_id = [(k, None if k == "ce_id" else v) for k, v in hdrs]
    assert _decode_or_reason(value, none_id) is DeadLetterReason.MISSING_HEADER
    wrong = [(k, b"regbus.RefundPaid.v1" if k == "ce_type" else v) for k, v in hdrs]
    assert _decode_or_reason(value, wrong) is DeadLetterReason.WRONG_TYPE_HEADER
    assert CODEC.decode(value, hdrs) == complaint_filed()
    assert CODEC.decode(value) == complaint_filed()  # headers are optional


def _framed_complaint(**changes: object) -> bytes:
    from io import BytesIO

    from fastavro import schemaless_writer

    from schemas.mapping import to_avro
    from schemas.store import default_store

    from .examples import complaint_filed

    writer = default_store().writer("ComplaintFiled")
    record = {**dict(to_avro(complaint_filed())), **changes}
    out = BytesIO(b"\x00" + writer.schema_id.to_bytes(4, "big"))
    out.seek(5)
    schemaless_writer(out, writer.parsed, record)
    return out.getvalue()


@pytest.mark.parametrize(
    ("changes", "reason", "field"),
    [
        ({"claimed_amount_fen": -1}, DeadLetterReason.INVALID_VALUE, "claimed_amount_fen"),
        # valid Avro breaking the pseudonym rule: its own reason, and the detail masked
        ({"consumer_ref": "13812345678"}, DeadLetterReason.PERSONAL_DATA, "consumer_ref"),
    ],
)
def test_invalid_field_values_get_their_reason(
    changes: dict[str, object], reason: DeadLetterReason, field: str
) -> None:
    """Bytes that are valid Avro but break a model rule."""
    try:
        CODEC.decode(_framed_complaint(**changes))
    except DecodeError as exc:
        assert exc.reason is reason
        assert field in exc.detail and "13812345678" not in exc.detail
    else:
        raise AssertionError(f"{changes} must not decode")
