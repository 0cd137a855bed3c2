"""Property: every event of every type survives encode → decode unchanged."""

from __future__ import annotations

from datetime import datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from schemas.mapping import from_avro
from schemas.models import EVENT_TYPES, Event
from streams.codec import EventCodec

from .strategies import model_strategy

CODEC = EventCodec()


@pytest.mark.parametrize("model", list(EVENT_TYPES.values()), ids=list(EVENT_TYPES))
@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_roundtrip(model: type[Event], data: st.DataObject) -> None:
    event = data.draw(model_strategy(model))
    source = data.draw(st.sampled_from(["/platforms/p-1", "/bureau/hd-office"]))
    key, value, headers = CODEC.encode(event, source)

    assert key == event.case_id.encode()
    decoded = CODEC.decode(value, headers)
    assert type(decoded) is model
    assert decoded == event

    name, record = CODEC.decode_raw(value)
    assert name == model.__name__
    assert from_avro(name, record) == event

    hd = CODEC.header_dict(headers)
    assert hd["ce_type"] == model.CE_TYPE.encode()
    assert hd["ce_id"] == event.event_id.encode()
    assert datetime.fromisoformat(hd["ce_time"].decode()) == event.occurred_at  # type: ignore[union-attr]
