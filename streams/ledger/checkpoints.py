"""Checkpoints of the hash chains, published to the ``audit`` topic (one-shot, run periodically).

Each run, for every canonical partition with records not yet covered, computes the chain up to
the partition's current end and publishes an :class:`AuditCheckpoint`:
``from_offset``..``to_offset`` is the range newly covered, ``record_count`` the records in it,
``chain_hash`` the hex h(to_offset) of the chain from the partition's genesis, and — with a
bureau key — ``signature``/``key_id``. A run resumes from the latest checkpoint of each
partition (with a key configured: the latest one *signed by that key*), so it hashes only
the new records; ``full=True`` recomputes from the genesis instead. The ``audit`` topic uses
LogAppendTime, so each checkpoint's timestamp is the broker's, not the publisher's.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from aiokafka import AIOKafkaProducer, TopicPartition

from schemas.families import CaseFamily
from schemas.models import AuditCheckpoint
from streams.codec import DecodeError, EventCodec
from streams.ledger.chain import Chain
from streams.ledger.logread import LogReader, Ranges
from streams.ledger.signing import SigningKey, checkpoint_message, verify_checkpoint
from streams.security import client_kwargs
from streams.settings import Settings
from streams.topics import Catalogue

SOURCE = "/bureau/audit"
DEFAULT_EVERY = 10_000
"""Records per checkpoint block (a verifier pins a break down to one block)."""
_NS = uuid.UUID("3a7f1c52-9b0e-5d4f-8c21-6e5b4a3d2c10")


@dataclass(frozen=True)
class StoredCheckpoint:
    offset: int
    timestamp_ms: int
    checkpoint: AuditCheckpoint


class ChainAnchorError(RuntimeError):
    """A partition whose log no longer starts at offset 0 and no checkpoint anchors it."""


def checkpoint_id(topic: str, partition: int, to_offset: int, chain_hash: str) -> str:
    return str(uuid.uuid5(_NS, f"{topic}/{partition}/{to_offset}/{chain_hash}"))


async def read_checkpoints(
    settings: Settings, catalogue: Catalogue, codec: EventCodec | None = None
) -> tuple[list[StoredCheckpoint], int]:
    """Every checkpoint in the audit topic (log order), and how many records did not decode."""
    codec = codec or EventCodec()
    out: list[StoredCheckpoint] = []
    bad = 0
    async with LogReader(settings) as reader:
        async for _tp, batch in reader.read(await reader.bounds([catalogue.audit])):
            for rec in batch:
                try:
                    cp = codec.decode(rec.value or b"", rec.headers)
                except DecodeError:
                    bad += 1
                    continue
                if isinstance(cp, AuditCheckpoint):
                    out.append(StoredCheckpoint(rec.offset, rec.timestamp, cp))
                else:
                    bad += 1
    out.sort(key=lambda s: s.offset)
    return out, bad


def canonical_topics(catalogue: Catalogue) -> list[str]:
    return [catalogue.cases(f) for f in CaseFamily]


def _resume_point(
    stored: list[StoredCheckpoint], topic: str, partition: int, key: SigningKey | None
) -> AuditCheckpoint | None:
    best: AuditCheckpoint | None = None
    for s in stored:
        cp = s.checkpoint
        if cp.topic != topic or cp.partition != partition:
            continue
        if key is not None and not verify_checkpoint(cp, key.public):
            continue  # never build on a checkpoint this key did not sign
        if best is None or cp.to_offset > best.to_offset:
            best = cp
    return best


async def make_checkpoints(
    settings: Settings,
    catalogue: Catalogue,
    key: SigningKey | None = None,
    *,
    full: bool = False,
    every: int = DEFAULT_EVERY,
    now: datetime | None = None,
) -> list[AuditCheckpoint]:
    """Compute the new checkpoints (not yet published): one per ``every`` new records of a
    partition and one at its end, so a verifier localises a break to one such block."""
    stored, _bad = ([], 0) if full else await read_checkpoints(settings, catalogue)
    made: list[AuditCheckpoint] = []
    now = now or datetime.now(UTC)
    chains: dict[TopicPartition, tuple[Chain, int]] = {}  # chain and first offset of the block
    async with LogReader(settings) as reader:
        bounds = await reader.bounds(canonical_topics(catalogue))
        ranges: Ranges = {}
        for tp, (start, end) in sorted(bounds.items()):
            prior = _resume_point(stored, tp.topic, tp.partition, key)
            if prior is not None and prior.to_offset + 1 >= start:
                chain = Chain.resume(tp.topic, tp.partition, prior.chain_hash, prior.to_offset)
                first = prior.to_offset + 1
            elif start == 0:
                chain, first = Chain.start(tp.topic, tp.partition), 0
            else:
                raise ChainAnchorError(
                    f"{tp.topic}[{tp.partition}] starts at offset {start} and no checkpoint "
                    f"covers offset {start - 1}: its chain cannot be recomputed"
                )
            if first < end:
                chains[tp] = (chain, first)
                ranges[tp] = (first, end)
        async for tp, batch in reader.read(ranges):
            chain, first = chains[tp]
            for r in batch:
                chain.add(r.offset, r.timestamp, r.key, r.value, r.headers)
                if chain.count >= every:
                    made.append(_checkpoint(chain, first, key, now))
                    first = r.offset + 1
                    chain = Chain.resume(tp.topic, tp.partition, chain.head_hex, r.offset)
            chains[tp] = (chain, first)
    for chain, first in chains.values():
        if chain.count:
            made.append(_checkpoint(chain, first, key, now))
    made.sort(key=lambda cp: (cp.topic, cp.partition, cp.to_offset))
    return made


def _checkpoint(chain: Chain, first: int, key: SigningKey | None, now: datetime) -> AuditCheckpoint:
    assert chain.last_offset is not None
    key_id = key.key_id if key is not None else None
    signature = None
    if key is not None:
        signature = key.sign(checkpoint_message(
            chain.topic, chain.partition, first, chain.last_offset, chain.count,
            chain.head_hex, key_id,
        ))  # fmt: skip
    return AuditCheckpoint(
        event_id=checkpoint_id(chain.topic, chain.partition, chain.last_offset, chain.head_hex),
        case_id="",
        platform_id="bureau",
        occurred_at=now,
        topic=chain.topic,
        partition=chain.partition,
        from_offset=first,
        to_offset=chain.last_offset,
        chain_hash=chain.head_hex,
        record_count=chain.count,
        signature=signature,
        key_id=key_id,
    )


async def publish_checkpoints(
    settings: Settings, catalogue: Catalogue, checkpoints: list[AuditCheckpoint]
) -> None:
    if not checkpoints:
        return
    codec = EventCodec()
    producer = AIOKafkaProducer(
        bootstrap_servers=settings.bootstrap, acks="all", enable_idempotence=True,
        **client_kwargs(settings),
    )  # fmt: skip
    await producer.start()
    try:
        futures = []
        for cp in checkpoints:
            _key, value, headers = codec.encode(cp, SOURCE)
            key = f"{cp.topic}:{cp.partition}".encode()
            futures.append(await producer.send(catalogue.audit, value, key=key, headers=headers))
        for fut in futures:
            await fut
    finally:
        await producer.stop()


async def checkpoint(
    settings: Settings,
    catalogue: Catalogue | None = None,
    key: SigningKey | None = None,
    *,
    full: bool = False,
    every: int = DEFAULT_EVERY,
) -> list[AuditCheckpoint]:
    """Compute and publish one round of checkpoints; returns what was published."""
    catalogue = catalogue or Catalogue.from_settings(settings)
    made = await make_checkpoints(settings, catalogue, key, full=full, every=every)
    await publish_checkpoints(settings, catalogue, made)
    return made
