"""Records at, over and around the one size limit, through the SDK and through librdkafka.

Every record the broker accepted on an ingress topic is either routed or dead-lettered with
a reason (in digest form when it cannot be stored whole), none is lost, the ingress agent
never crashes, and the SDK refuses an oversized event itself, naming the field.
"""

from __future__ import annotations

import asyncio
import logging
import os
from typing import Any

import pytest

from clients.publisher import PlatformPublisher
from schemas.families import CaseFamily
from schemas.models import ComplaintAcknowledged, DeadLetterReason, DeadLetterRecord
from streams.cloudevents_headers import header_dict
from streams.limits import MAX_MESSAGE_BYTES, record_batch_bytes
from streams.registry import add_platform
from streams.settings import Settings
from streams.topics import Catalogue
from tests.kafka_helpers import TopicReader, wait_until

from .factories import CODEC, WAIT, acknowledged, record

pytestmark = pytest.mark.broker


def sized(case_id: str, target: int) -> ComplaintAcknowledged:
    """An acknowledgement whose record is exactly ``target`` bytes (one-record batch)."""
    event = acknowledged(case_id, "acme", handler_ref="")
    pad = target - record_batch_bytes(*record(event))
    for _ in range(5):
        event = event.model_copy(update={"handler_ref": "h" * pad})
        missing = target - record_batch_bytes(*record(event))
        if missing == 0:
            return event
        pad += missing
    raise AssertionError(f"cannot size an event to {target} bytes")


def random_body(target: int) -> tuple[bytes, bytes, list[tuple[str, bytes]]]:
    key = b"c-random"
    n = target - record_batch_bytes(key, b"", [])
    while record_batch_bytes(key, b"\0" * n, []) > target:
        n -= 1
    assert record_batch_bytes(key, b"\0" * n, []) == target
    return key, os.urandom(n), []


class _Crashes(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.lines: list[str] = []

    def emit(self, rec: logging.LogRecord) -> None:
        text = rec.getMessage()
        if "Crashed" in text or "crashed" in text:
            self.lines.append(text)


def _raw_send(
    bootstrap: str,
    topic: str,
    records: list[tuple[bytes | None, bytes, list[tuple[str, bytes]]]],
    compression: str = "none",
) -> list[str | None]:
    """Produce each record alone (flush after each) with librdkafka; the error per record."""
    from confluent_kafka import Producer

    producer = Producer({
        "bootstrap.servers": bootstrap, "acks": "all", "enable.idempotence": True,
        "message.max.bytes": 4 * MAX_MESSAGE_BYTES, "compression.type": compression,
        "linger.ms": 0,
    })  # fmt: skip
    errors: list[str | None] = []
    for key, value, headers in records:
        box: dict[str, Any] = {}
        producer.produce(
            topic, value=value, key=key, headers=headers,
            on_delivery=lambda err, msg, box=box: box.update(err=err),
        )  # fmt: skip
        producer.flush(60)
        err = box.get("err", "no delivery report")
        errors.append(None if err is None else str(err))
    return errors


async def test_records_around_the_limit_are_routed_or_dead_lettered_and_none_is_lost(
    settings: Settings, catalogue: Catalogue, ingress_worker: Any
) -> None:
    await add_platform(settings, "acme")
    crashes = _Crashes()
    logging.getLogger().addHandler(crashes)
    try:
        worker = await ingress_worker()
        await _scenario(settings, catalogue, worker)
    finally:
        logging.getLogger().removeHandler(crashes)
    assert crashes.lines == [], crashes.lines


async def _scenario(settings: Settings, catalogue: Catalogue, worker: Any) -> None:
    normal = [acknowledged(f"c-{i}", "acme") for i in range(12)]
    exact = sized("c-exact", MAX_MESSAGE_BYTES)
    over = sized("c-over", MAX_MESSAGE_BYTES + 1)
    about_1mb = sized("c-1mb", 1_000_000)

    # the SDK: the exact-limit and ~1 MB events go; one byte over is refused, naming the field
    async with PlatformPublisher("acme", settings.bootstrap, prefix=catalogue.prefix) as pub:
        sent = await pub.publish_batch([normal[0], normal[1], exact, normal[2], about_1mb])
        refused = await pub.publish_batch([normal[3], over, normal[4]])
    assert sent.ok and len(sent.sent) == 5
    assert [(e.index, e.field) for e in refused.rejected] == [(1, "handler_ref")]
    assert not refused.sent

    # librdkafka: the same sizes, random bytes of the broker's maximum, and a record over the
    # limit that the broker takes because it arrives compressed
    exact2, over2, big2 = (sized(c, n) for c, n in (
        ("c-exact2", MAX_MESSAGE_BYTES), ("c-over2", MAX_MESSAGE_BYTES + 1), ("c-1mb2", 1_000_000),
    ))  # fmt: skip
    noise = random_body(MAX_MESSAGE_BYTES)
    plain = [
        record(normal[5]), record(exact2), record(normal[6]), record(over2), record(normal[7]),
        noise, record(normal[8]), record(big2), record(normal[9]),
    ]  # fmt: skip
    topic = catalogue.ingress("acme")
    errors = await asyncio.to_thread(_raw_send, settings.bootstrap, topic, plain)
    assert [e is None for e in errors] == [True, True, True, False, True, True, True, True, True]
    assert "SIZE_TOO_LARGE" in str(errors[3]) or "TOO_LARGE" in str(errors[3]), errors[3]
    squeezed = sized("c-squeezed", 3 * MAX_MESSAGE_BYTES)  # 3 MiB of one letter: lz4 shrinks it
    zipped = [record(normal[10]), record(squeezed), record(normal[11])]
    zerrors = await asyncio.to_thread(_raw_send, settings.bootstrap, topic, zipped, "lz4")
    assert zerrors == [None, None, None]

    accepted = 5 + 8 + 3
    await wait_until(
        lambda: worker.metrics.accounted >= accepted, 2 * WAIT, lambda: f"{worker.metrics}"
    )
    m = worker.metrics
    assert m.received == m.accounted == accepted, m

    routed_ids = {e.event_id for e in [*normal[:3], exact, about_1mb, *normal[5:12], exact2, big2]}
    routed_ids -= {normal[3].event_id, normal[4].event_id}
    complaints = catalogue.cases(CaseFamily.COMPLAINTS)
    async with TopicReader(settings.bootstrap, complaints) as r:
        got = await r.read_until(lambda rs: len(rs) >= len(routed_ids), WAIT, "routed records")
        await r.settle(quiet=1.0, timeout=10)
    ids = [header_dict(msg.headers)["ce_id"].decode() for msg in r.records]
    assert sorted(ids) == sorted(routed_ids) and len(got) == len(routed_ids)
    sizes = {header_dict(msg.headers)["ce_id"].decode(): msg for msg in r.records}
    exact_copy = sizes[exact.event_id]
    assert record_batch_bytes(exact_copy.key, exact_copy.value, list(exact_copy.headers)) == (
        MAX_MESSAGE_BYTES
    )

    async with TopicReader(settings.bootstrap, catalogue.deadletter) as r:
        dlq = await r.read_until(lambda rs: len(rs) >= 2, WAIT, "two dead letters")
        await r.settle(quiet=1.0, timeout=10)
    letters = [CODEC.decode(msg.value, list(msg.headers)) for msg in r.records]
    assert all(isinstance(d, DeadLetterRecord) for d in letters) and len(dlq) == 2
    by_key = {d.original_key: d for d in letters if isinstance(d, DeadLetterRecord)}
    random_letter, squeezed_letter = by_key[b"c-random"], by_key[b"c-squeezed"]
    for letter in (random_letter, squeezed_letter):
        assert letter.original_value is None and "sha256" in letter.detail  # digest form
        assert letter.original_topic == topic
    assert squeezed_letter.reason is DeadLetterReason.RECORD_TOO_LARGE
    assert [h.key for h in squeezed_letter.original_headers] == [k for k, _ in record(squeezed)[2]]
    assert m.digest_only == 2 and m.too_large == 1
