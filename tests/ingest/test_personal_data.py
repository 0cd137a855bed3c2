"""Personal data in clear is refused at the SDK and dead-lettered, masked, at ingress (PIPL)."""

from __future__ import annotations

import types
from datetime import datetime
from enum import StrEnum
from typing import Any, Union, get_args, get_origin

import pytest

from clients.publisher import validate_items
from schemas.families import PLATFORM_EVENTS
from schemas.models import EVENT_TYPES, DeadLetterReason, DeadLetterRecord, Event
from schemas.pii import SKIPPED_FIELDS
from streams.registry import add_platform
from streams.settings import Settings
from streams.topics import Catalogue
from tests.kafka_helpers import TopicReader, produce, wait_until

from .factories import CODEC, NOW, WAIT

PERSONAL = {
    "phone": "请回电 13812345678",
    "resident_id": "身份证 11010519491231002X",
    "email": "zhang.san@example.com",
    "address": "北京市海淀区中关村大街27号",
}
CLEAR = ["13812345678", "11010519491231002X", "zhang.san@example.com", "北京市海淀区中关村大街27号"]


def _plain(tp: Any) -> Any:
    if get_origin(tp) in (Union, types.UnionType):
        args = [a for a in get_args(tp) if a is not type(None)]
        return args[0]
    return getattr(tp, "__origin__", tp) if get_origin(tp) is not list else tp


def _is_text(tp: Any) -> bool:
    tp = _plain(tp)
    return tp is str or (get_origin(tp) is list and get_args(tp) == (str,))


def _value(tp: Any) -> Any:
    tp = _plain(tp)
    if get_origin(tp) is list:
        return ["x"]
    if isinstance(tp, type) and issubclass(tp, StrEnum):
        return next(iter(tp))
    if tp is bool:
        return False
    if tp is int:
        return 100
    if tp is datetime:
        return NOW
    return "x"


def base(name: str, case_id: str) -> dict[str, Any]:
    cls = EVENT_TYPES[name]
    out: dict[str, Any] = {
        "event_id": f"{case_id}-e",
        "case_id": case_id,
        "platform_id": "acme",
        "occurred_at": NOW,
    }
    for field, info in cls.model_fields.items():
        if field not in out and info.is_required():
            out[field] = _value(info.annotation)
    if name == "ComplaintFiled":
        out["channel"] = "PLATFORM_APP"
    return out


TEXT_FIELDS = [
    (name, field)
    for name in PLATFORM_EVENTS
    for field, info in EVENT_TYPES[name].model_fields.items()
    if field not in SKIPPED_FIELDS and field != "case_id" and _is_text(info.annotation)
]


def with_pii(name: str, field: str, text: str, case_id: str) -> dict[str, Any]:
    values = base(name, case_id)
    is_list = get_origin(_plain(EVENT_TYPES[name].model_fields[field].annotation)) is list
    values[field] = [text] if is_list else text
    return values


def test_every_free_text_field_is_covered() -> None:
    fields = {f for _, f in TEXT_FIELDS}
    for expected in ("note", "reason", "anchor_ref", "merchant_ref", "consumer_ref",
                     "handler_ref", "evidence_refs", "required_actions", "order_ref"):  # fmt: skip
        assert expected in fields, expected


@pytest.mark.parametrize("kind", sorted(PERSONAL))
@pytest.mark.parametrize(("name", "field"), TEXT_FIELDS)
def test_sdk_refuses_personal_data_naming_the_field(name: str, field: str, kind: str) -> None:
    item = {"type": name, **with_pii(name, field, PERSONAL[kind], "c-1")}
    events, errors = validate_items("acme", [item])
    assert events == []
    named = [e for e in errors if e.field.split(".")[0] == field]
    assert named, f"{name}.{field} with a {kind}: {errors}"
    message = named[0].message
    assert "personal" in message and ("个人信息" in message or "含有" in message)
    for clear in CLEAR:
        assert clear not in message


def test_sdk_accepts_pseudonyms_and_plain_text() -> None:
    item = {"type": "ComplaintSuspended", **base("ComplaintSuspended", "c-1")}
    item.update(reason="TESTING", note="送检,预计 7 个工作日,金额 12000 元,订单 2025-03-01")
    assert validate_items("acme", [item])[1] == []


@pytest.mark.broker
async def test_ingress_dead_letters_personal_data_masked(
    settings: Settings, catalogue: Catalogue, ingress_worker: Any
) -> None:
    await add_platform(settings, "acme")
    records = []
    expected: dict[str, str] = {}
    for i, (name, field) in enumerate(TEXT_FIELDS):
        for kind, text in PERSONAL.items():
            case_id = f"c-{i}-{kind}"
            # model_construct: a raw producer skips the SDK's (and pydantic's) checks
            event: Event = EVENT_TYPES[name].model_construct(**with_pii(name, field, text, case_id))
            records.append(CODEC.encode(event, "/platforms/acme"))
            expected[case_id] = field
    await produce(settings.bootstrap, catalogue.ingress("acme"), records)
    worker = await ingress_worker()
    await wait_until(lambda: worker.metrics.accounted == len(records), WAIT, "all accounted")
    assert worker.metrics.routed == 0

    async with TopicReader(settings.bootstrap, catalogue.deadletter) as r:
        raw = await r.read_until(lambda recs: len(recs) >= len(records), WAIT, "dead letters")
    assert len(raw) == len(records)
    for msg in raw:
        blob = (msg.key or b"") + msg.value + b"".join(k.encode() + v for k, v in msg.headers)
        for clear in CLEAR:
            assert clear.encode() not in blob, f"{clear} in clear on the dead-letter topic"
        letter = CODEC.decode(msg.value, list(msg.headers))
        assert isinstance(letter, DeadLetterRecord)
        assert letter.reason is DeadLetterReason.PERSONAL_DATA, letter.detail
        assert letter.original_value is None and "sha256:" in letter.detail
        subject = next(h.value for h in letter.original_headers if h.key == "ce_subject")
        assert subject is not None
        field = expected[subject.decode()]
        assert f"{field}" in letter.detail and "*" in letter.detail, letter.detail
