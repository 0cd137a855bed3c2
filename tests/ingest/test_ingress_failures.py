"""The ingress processor raising on one record of a batch: that record is dead-lettered
with a reason, the rest of its batch is routed, and the agent keeps running."""

from __future__ import annotations

from typing import Any

import pytest

from agents.ingress import IngressProcessor
from schemas.families import CaseFamily
from schemas.models import DeadLetterReason, DeadLetterRecord
from streams.cloudevents_headers import header_dict
from streams.registry import add_platform
from streams.settings import Settings
from streams.topics import Catalogue
from tests.kafka_helpers import TopicReader, produce, wait_until

from .factories import CODEC, WAIT, acknowledged, record

pytestmark = pytest.mark.broker

POISON = b"c-poison"


async def test_a_record_the_processor_raises_on_is_dead_lettered_and_the_rest_routed(
    settings: Settings, catalogue: Catalogue, ingress_worker: Any, monkeypatch: Any
) -> None:
    await add_platform(settings, "acme")
    good = [acknowledged(f"c-{i}", "acme") for i in range(6)]
    poison = acknowledged(POISON.decode(), "acme")
    batch = [record(e) for e in good[:3]] + [record(poison)] + [record(e) for e in good[3:]]
    await produce(settings.bootstrap, catalogue.ingress("acme"), batch, partition=0)

    _poison_the_processor(monkeypatch)
    worker = await ingress_worker()
    async with TopicReader(settings.bootstrap, catalogue.cases(CaseFamily.COMPLAINTS)) as r:
        routed = await r.read_until(lambda rs: len(rs) >= 6, WAIT, "the six good records")
    assert sorted(header_dict(m.headers)["ce_id"].decode() for m in routed) == sorted(
        e.event_id for e in good
    )
    async with TopicReader(settings.bootstrap, catalogue.deadletter) as r:
        dlq = await r.read_until(lambda rs: len(rs) >= 1, WAIT, "the poison's dead letter")
        await r.settle(quiet=1.0, timeout=10)
    assert len(r.records) == 1
    letter = CODEC.decode(dlq[0].value, list(dlq[0].headers))
    assert isinstance(letter, DeadLetterRecord)
    assert letter.reason is DeadLetterReason.PROCESSING_ERROR
    assert "poisoned" in letter.detail
    assert letter.original_offset == 3 and letter.original_value == record(poison)[1]
    await wait_until(lambda: worker.metrics.accounted == 7, WAIT, lambda: f"{worker.metrics}")

    # and the agent still routes what comes next
    after = acknowledged("c-after", "acme")
    await produce(settings.bootstrap, catalogue.ingress("acme"), [record(after)], partition=0)
    await wait_until(lambda: worker.metrics.routed == 7, WAIT, lambda: f"{worker.metrics}")


def _poison_the_processor(monkeypatch: Any) -> None:
    """The processor raises on any batch holding the poison record (so the wiring's
    one-by-one fallback runs, and the poison raises on its own too)."""
    original = IngressProcessor.process_traced

    def process_traced(self: IngressProcessor, batch: Any, tables: Any) -> Any:
        if any(rec.key == POISON for rec in batch):
            raise RuntimeError("poisoned record")
        return original(self, batch, tables)

    monkeypatch.setattr(IngressProcessor, "process_traced", process_traced)
