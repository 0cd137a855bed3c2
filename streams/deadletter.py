"""Reading the dead-letter topic, and redriving its records back through ingress.

**Redrive** re-publishes a dead letter's original key, value and headers, byte for byte, to
the ingress topic it came from, so it is checked again from the start (after the cause was
fixed, e.g. the platform registered or the schema deployed). Only records that came from an
ingress topic are redriven.

Redrive is idempotent: a record is redriven at most once. The tool keeps one cursor per
dead-letter reason ("every record of this reason below this offset was handled") in the
commit metadata of the consumer group ``<prefix>.deadletter.redrive`` — no extra topic, and
the DLQ itself stays append-only. A redriven record that fails again is a *new* dead letter
(a higher offset), handled by a later redrive. A crash between sending and saving the cursor
resends a batch; ingress drops those as duplicates by (``ce_source``, ``ce_id``) when they
were decodable, and dead-letters them again (same original bytes) when they were not.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson

from schemas.models import DeadLetterReason, DeadLetterRecord
from streams.codec import DecodeError, EventCodec
from streams.settings import Settings
from streams.topics import Catalogue

log = logging.getLogger(__name__)

__all__ = [
    "DeadLetterEntry",
    "RedriveReport",
    "get_deadletter",
    "read_cursors",
    "read_deadletters",
    "redrive",
    "redrive_group",
]


@dataclass(frozen=True)
class DeadLetterEntry:
    offset: int
    record: DeadLetterRecord


@dataclass
class RedriveReport:
    redriven: list[int] = field(default_factory=list)
    """Dead-letter offsets re-published (or, in a dry run, that would be)."""
    already: int = 0
    """Records of the chosen reasons skipped because an earlier redrive handled them."""
    not_redrivable: list[int] = field(default_factory=list)
    """Dead letters whose original topic is not an ingress topic (left alone)."""
    failed: list[tuple[int, str]] = field(default_factory=list)
    dry_run: bool = False


def redrive_group(catalogue: Catalogue) -> str:
    return f"{catalogue.prefix}.deadletter.redrive"


def _client_options(settings: Settings) -> dict[str, Any]:
    from streams.security import client_kwargs

    return client_kwargs(settings)


async def _read(
    settings: Settings, start: int = 0, stop: int | None = None
) -> tuple[list[DeadLetterEntry], int]:
    """Dead letters from ``start`` up to ``stop`` (default: the end); and the end offset."""
    from aiokafka import AIOKafkaConsumer, TopicPartition

    cat = Catalogue.from_settings(settings)
    codec = EventCodec()
    tp = TopicPartition(cat.deadletter, 0)
    consumer = AIOKafkaConsumer(
        bootstrap_servers=settings.bootstrap, group_id=None, enable_auto_commit=False,
        **_client_options(settings),
    )  # fmt: skip
    await consumer.start()
    try:
        if cat.deadletter not in await consumer.topics():
            return [], 0
        consumer.assign([tp])
        end = (await consumer.end_offsets([tp]))[tp]
        if stop is not None:
            end = min(end, stop)
        consumer.seek(tp, start)
        out: list[DeadLetterEntry] = []
        while await consumer.position(tp) < end:
            batch = await consumer.getmany(tp, timeout_ms=1000)
            for msg in batch.get(tp, []):
                if msg.offset >= end:
                    break
                try:
                    record = codec.decode(msg.value, list(msg.headers or ()))
                except DecodeError as exc:
                    log.error("dead letter @%d does not decode: %s", msg.offset, exc)
                    continue
                if isinstance(record, DeadLetterRecord):
                    out.append(DeadLetterEntry(msg.offset, record))
        return out, end
    finally:
        await consumer.stop()


async def read_deadletters(
    settings: Settings, *, reason: DeadLetterReason | None = None
) -> list[DeadLetterEntry]:
    entries, _ = await _read(settings)
    return [e for e in entries if reason is None or e.record.reason is reason]


async def get_deadletter(settings: Settings, offset: int) -> DeadLetterEntry | None:
    entries, _ = await _read(settings, offset, offset + 1)
    return entries[0] if entries else None


async def read_cursors(settings: Settings) -> dict[str, int]:
    """Per reason: the dead-letter offset below which redrive has handled everything."""
    from aiokafka import TopicPartition
    from aiokafka.admin import AIOKafkaAdminClient

    cat = Catalogue.from_settings(settings)
    tp = TopicPartition(cat.deadletter, 0)
    admin = AIOKafkaAdminClient(bootstrap_servers=settings.bootstrap, **_client_options(settings))
    await admin.start()
    try:
        offsets = await admin.list_consumer_group_offsets(redrive_group(cat), partitions=[tp])
    finally:
        await admin.close()
    found = offsets.get(tp)
    if found is None or found.offset < 0 or not found.metadata:
        return {}
    try:
        data = orjson.loads(found.metadata)
        return {str(k): int(v) for k, v in data.get("cursors", {}).items()}
    except (orjson.JSONDecodeError, AttributeError, TypeError, ValueError):
        log.warning("redrive cursors unreadable (%r); starting from 0", found.metadata)
        return {}


async def _save_cursors(settings: Settings, cursors: Mapping[str, int]) -> None:
    from aiokafka import AIOKafkaConsumer, TopicPartition
    from aiokafka.structs import OffsetAndMetadata

    cat = Catalogue.from_settings(settings)
    tp = TopicPartition(cat.deadletter, 0)
    low = min(cursors.get(r.value, 0) for r in DeadLetterReason)
    metadata = orjson.dumps({"cursors": dict(sorted(cursors.items()))}).decode()
    consumer = AIOKafkaConsumer(
        bootstrap_servers=settings.bootstrap, group_id=redrive_group(cat),
        enable_auto_commit=False, **_client_options(settings),
    )  # fmt: skip
    await consumer.start()
    try:
        consumer.assign([tp])
        await consumer.commit({tp: OffsetAndMetadata(low, metadata)})
    finally:
        await consumer.stop()


async def redrive(
    settings: Settings,
    *,
    reasons: Sequence[DeadLetterReason] | None = None,
    dry_run: bool = False,
) -> RedriveReport:
    """Re-publish every dead letter of ``reasons`` (default: all) not redriven before."""
    from aiokafka import AIOKafkaProducer

    cat = Catalogue.from_settings(settings)
    chosen = list(reasons or DeadLetterReason)
    cursors = await read_cursors(settings)
    # The whole topic is read (as ``ls`` does) so the report can count what was skipped;
    # dead letters are rare, and this is an operator's command, not a hot path.
    entries, end = await _read(settings)
    report = RedriveReport(dry_run=dry_run)
    ingress = re.compile(cat.ingress_pattern)
    todo: list[DeadLetterEntry] = []
    for entry in entries:
        rec = entry.record
        if rec.reason not in chosen:
            continue
        if entry.offset < cursors.get(rec.reason.value, 0):
            report.already += 1
        elif not ingress.match(rec.original_topic):
            report.not_redrivable.append(entry.offset)
        else:
            todo.append(entry)
    report.redriven = [e.offset for e in todo]
    if dry_run:
        return report
    if todo:
        producer = AIOKafkaProducer(
            bootstrap_servers=settings.bootstrap, acks="all", enable_idempotence=True,
            linger_ms=5, **_client_options(settings),
        )  # fmt: skip
        await producer.start()
        try:
            futures = []
            for entry in todo:
                rec = entry.record
                futures.append(
                    await producer.send(
                        rec.original_topic, rec.original_value, key=rec.original_key,
                        headers=[(h.key, h.value) for h in rec.original_headers],
                    )
                )  # fmt: skip
            results = await asyncio.gather(*futures, return_exceptions=True)
        finally:
            await producer.stop()
        for entry, res in zip(todo, results, strict=True):
            if isinstance(res, BaseException):
                report.failed.append((entry.offset, f"{type(res).__name__}: {res}"))
        if report.failed:
            failed = {o for o, _ in report.failed}
            report.redriven = [o for o in report.redriven if o not in failed]
            # Keep the cursors below the first failure so the next run retries it.
            end = min(end, *failed)
    for r in chosen:
        cursors[r.value] = max(cursors.get(r.value, 0), end)
    await _save_cursors(settings, cursors)
    return report
