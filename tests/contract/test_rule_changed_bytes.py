"""PlatformRuleChanged on the wire: schema id 200 and the exact Avro body (issue 18)."""

from __future__ import annotations

import struct

from schemas.models import Category
from streams.codec import EventCodec

from .examples import INTAKE, T0, platform_rule_changed
from .test_wire_bytes import NULL, SOME, _enum, _long, _millis, _string


def test_exact_bytes_with_pinned_id_200() -> None:
    event = platform_rule_changed()
    value = EventCodec().encode_value(event)
    assert value[:5] == b"\x00" + struct.pack(">I", 200)
    body = (
        _string("rule-1") + _string("") + _string("sfexpress") + _millis(T0)
        + _string("insured-delivery") + _string("同城即时配送保价规则")
        + SOME + _string("保价为可选服务")
        + SOME + _string("下单时弹窗说明保价的权、责、利，引导自愿保价")
        + NULL  # text_ref
        + _millis(INTAKE)
        + _long(1) + _enum(Category.DELIVERY_GOODS_DAMAGE, Category) + _long(0)  # array
        + SOME + _string("东升镇市场监管所建议 2025-02")
        + _string("HD-DS")
    )  # fmt: skip
    assert value[5:] == body


def test_round_trip_and_headers_name_the_bureau() -> None:
    codec = EventCodec()
    event = platform_rule_changed(text_ref="沪规-2025-1", new_text=None, old_text=None)
    _key, value, headers = codec.encode(event, "/bureau/hd-ds")
    assert codec.decode(value, headers) == event
    assert dict(headers)["ce_type"] == b"regbus.PlatformRuleChanged.v1"
