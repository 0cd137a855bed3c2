"""The replay's byte-level reader agrees with the full decoder, and fails cleanly."""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from audit.wire import KindTable, WireError, read_last_long, read_prefix, read_tick_ms
from schemas.instants import to_ms
from schemas.models import ClockTicked, RefundPaid
from streams.codec import EventCodec

CODEC = EventCodec()
KINDS = KindTable(CODEC)
instants = st.datetimes(
    min_value=datetime(1971, 1, 1), max_value=datetime(2200, 1, 1), timezones=st.just(UTC)
)
text = st.text(max_size=40)


@settings(max_examples=200, deadline=None)
@given(instants, instants, text)
def test_tick_time_read_from_the_bytes_equals_the_decoded_tick_at(
    occurred: datetime, tick_at: datetime, event_id: str
) -> None:
    tick = ClockTicked(event_id=event_id or "x", case_id="", platform_id="bureau",
                       occurred_at=occurred, tick_at=tick_at)  # fmt: skip
    value = CODEC.encode_value(tick)
    kind = KINDS.kind(value)
    assert kind is not None and kind.is_tick and kind.fast and kind.tick_last
    _name, raw = CODEC.decode_raw(value)
    assert read_last_long(value) == read_tick_ms(value) == to_ms(raw["tick_at"])


@settings(max_examples=200, deadline=None)
@given(text.filter(bool), text, text, instants, st.integers(0, 2**62))
def test_routing_fields_read_from_the_bytes_equal_the_decoded_ones(
    event_id: str, case_id: str, platform_id: str, occurred: datetime, amount: int
) -> None:
    paid = RefundPaid(
        event_id=event_id, case_id=case_id, platform_id=platform_id, occurred_at=occurred,
        amount_fen=amount, channel="c", payment_ref="p",
    )  # fmt: skip
    value = CODEC.encode_value(paid)
    kind = KINDS.kind(value)
    assert kind is not None and kind.fast and not kind.is_tick
    _name, raw = CODEC.decode_raw(value)
    assert read_prefix(value) == (raw["case_id"], raw["platform_id"], to_ms(raw["occurred_at"]))


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=64))
def test_arbitrary_bytes_raise_only_wire_errors(data: bytes) -> None:
    value = b"\x00\x00\x00\x00\x02" + data
    for reader in (read_prefix, read_tick_ms, read_last_long):
        try:
            reader(value)
        except WireError:
            pass
