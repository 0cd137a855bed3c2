"""The bureau's own failures have reasons of their own (DeadLetterRecord v3): a record too
large for a canonical topic, a copy the broker refused, a processing exception."""

from __future__ import annotations

from typing import Any

from aiokafka.errors import KafkaTimeoutError, MessageSizeTooLargeError

from agents.ingress import DEDUP_TABLE, IngressProcessor, PlatformDirectory, PlatformStatus
from schemas.models import DeadLetterNotice, DeadLetterReason, DeadLetterRecord
from streams.limits import record_batch_bytes
from streams.records import BatchResult, InRecord
from streams.topics import Catalogue

from .factories import CODEC, NOW, acknowledged, record

CAT = Catalogue("t")
ACME = CAT.ingress("acme")


def _processor(**kwargs: Any) -> IngressProcessor:
    directory = PlatformDirectory({"acme": PlatformStatus.ACTIVE})
    return IngressProcessor(CAT, directory, clock=lambda: NOW, **kwargs)


def _rec(offset: int = 0, case: str = "c-1") -> InRecord:
    key, value, headers = record(acknowledged(case, "acme"))
    return InRecord(ACME, 0, offset, key, value, list(headers), 1_700_000_000_000)


def _letters(result: BatchResult) -> list[DeadLetterRecord]:
    out = [CODEC.decode(o.value, o.headers) for o in result.out if o.topic == CAT.deadletter]
    assert all(isinstance(d, DeadLetterRecord) for d in out)
    return out  # type: ignore[return-value]


def _notices(result: BatchResult) -> list[DeadLetterNotice]:
    out = [CODEC.decode(o.value, o.headers) for o in result.out if o.topic == CAT.inbox("acme")]
    assert all(isinstance(n, DeadLetterNotice) for n in out)
    return out  # type: ignore[return-value]


def test_a_record_too_large_for_a_canonical_topic_is_record_too_large() -> None:
    rec = _rec()
    size = record_batch_bytes(rec.key, rec.value, rec.headers)
    proc = _processor(max_bytes=size - 1)
    result = proc.process([rec, _rec(1, "c")], {DEDUP_TABLE: {}})  # a shorter one: routed
    [letter] = _letters(result)
    assert letter.reason is DeadLetterReason.RECORD_TOO_LARGE
    assert f"the record is {size} bytes uncompressed" in letter.detail
    # (its dead letter, also above this tiny limit, is in digest form)
    assert letter.original_value is None and "sha256" in letter.detail
    assert (letter.original_topic, letter.original_offset) == (ACME, 0)
    assert [n.reason for n in _notices(result)] == [DeadLetterReason.RECORD_TOO_LARGE]
    assert proc.metrics.too_large == 1 and proc.metrics.routed == 1
    assert proc.metrics.dead_lettered[DeadLetterReason.RECORD_TOO_LARGE] == 1


def test_a_copy_the_broker_refused_is_produce_failed_and_its_dedup_key_goes() -> None:
    proc = _processor()
    rec = _rec()
    routed = proc.process([rec], {DEDUP_TABLE: {}})
    [dedup] = [w for w in routed.writes if w.value is not None and not w.key.startswith(b"h")]
    assert proc.metrics.routed == 1
    result = proc.delivery_failed(rec, MessageSizeTooLargeError("too big for the broker"))
    [letter] = _letters(result)
    assert letter.reason is DeadLetterReason.PRODUCE_FAILED
    assert letter.detail.startswith("MessageSizeTooLargeError: ")
    assert letter.detail.endswith("too big for the broker")
    assert [(w.key, w.value) for w in result.writes] == [(dedup.key, None)]
    assert proc.metrics.routed == 0 and proc.metrics.produce_failures == 1
    assert [n.reason for n in _notices(result)] == [DeadLetterReason.PRODUCE_FAILED]
    # a copy that was not the canonical one (the inbox copy) leaves the routed count alone
    again = proc.delivery_failed(_rec(1), KafkaTimeoutError(), unrouted=False)
    assert [d.reason for d in _letters(again)] == [DeadLetterReason.PRODUCE_FAILED]
    assert proc.metrics.routed == 0


def test_an_exception_while_processing_is_processing_error(monkeypatch: Any) -> None:
    proc = _processor()

    def boom(*_: Any, **__: Any) -> None:
        raise RuntimeError("a defect")

    monkeypatch.setattr(proc, "_one", boom)
    result = proc.process([_rec()], {DEDUP_TABLE: {}})
    [letter] = _letters(result)
    assert (letter.reason, letter.detail) == (
        DeadLetterReason.PROCESSING_ERROR,
        "RuntimeError: a defect",
    )
    alone = proc.processing_failed(_rec(1), ValueError("on its own"))
    assert [(d.reason, d.detail) for d in _letters(alone)] == [
        (DeadLetterReason.PROCESSING_ERROR, "ValueError: on its own")
    ]
