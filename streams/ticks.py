"""Clock ticks: time entering the bureau side as data.

A tick is a ``ClockTicked`` record written into *every* partition of every cases topic, so
each partition's owner observes time in the same total order as that partition's events, and
a replay sees exactly what the live agent saw. The worker's wall clock, the simulator and the
tests all publish ticks through :func:`tick_records`.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from aiokafka import AIOKafkaProducer

from schemas.families import CaseFamily
from schemas.models import ClockTicked
from streams.codec import EventCodec
from streams.security import client_kwargs
from streams.topics import Catalogue

TICK_SOURCE = "/bureau/clock"
_NS = uuid.UUID("6f1b0c1e-6a43-5d55-9a8e-2f4d1c1b7e01")

Record = tuple[str, int, bytes | None, bytes, list[tuple[str, bytes]]]


def tick_records(catalogue: Catalogue, when: datetime, codec: EventCodec) -> list[Record]:
    """One ClockTicked per partition of every cases topic, with ids from (topic, p, time)."""
    out: list[Record] = []
    stamp = when.isoformat()
    for family in CaseFamily:
        topic = catalogue.cases(family)
        for partition in range(catalogue.case_partitions):
            tick = ClockTicked(
                event_id=str(uuid.uuid5(_NS, f"{topic}/{partition}/{stamp}")),
                case_id="",
                platform_id="bureau",
                occurred_at=when,
                tick_at=when,
            )
            _key, value, headers = codec.encode(tick, TICK_SOURCE)
            out.append((topic, partition, None, value, headers))
    return out


async def publish_ticks(
    bootstrap: str,
    catalogue: Catalogue,
    when: datetime,
    codec: EventCodec | None = None,
    producer: AIOKafkaProducer | None = None,
) -> None:
    """Publish one tick to every case partition and wait until the broker has them all."""
    codec = codec or EventCodec()
    own = producer is None
    if producer is None:
        producer = AIOKafkaProducer(
            bootstrap_servers=bootstrap, acks="all", enable_idempotence=True, **client_kwargs()
        )
        await producer.start()
    try:
        futures = [
            await producer.send(topic, value, key=key, partition=partition, headers=headers)
            for topic, partition, key, value, headers in (
                *tick_records(catalogue, when, codec),
                *governance_tick_records(catalogue, when, codec),
            )
        ]
        for fut in futures:
            await fut
    finally:
        if own:
            await producer.stop()


def governance_tick_records(
    catalogue: Catalogue, when: datetime, codec: EventCodec
) -> list[Record]:
    """One ClockTicked per partition of the governance topic (the orders' deadlines), with
    ids as :func:`tick_records`. Kept apart from the case ticks, whose consumers count them."""
    stamp = when.isoformat()
    topic = catalogue.governance
    out: list[Record] = []
    for partition in range(catalogue.case_partitions):
        tick = ClockTicked(
            event_id=str(uuid.uuid5(_NS, f"{topic}/{partition}/{stamp}")),
            case_id="",
            platform_id="bureau",
            occurred_at=when,
            tick_at=when,
        )
        _key, value, headers = codec.encode(tick, TICK_SOURCE)
        out.append((topic, partition, None, value, headers))
    return out
