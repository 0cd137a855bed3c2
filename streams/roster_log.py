"""Read and append the roster topic (``<prefix>.roster``, key = platform id)."""

from __future__ import annotations

from collections.abc import Iterable

from aiokafka import AIOKafkaConsumer, TopicPartition

from schemas.models import RosterAssigned
from streams.bureau_log import append_by_platform
from streams.codec import DecodeError, EventCodec
from streams.security import client_kwargs
from streams.settings import Settings
from streams.topics import Catalogue

ROSTER_SOURCE = "/bureau/roster"

__all__ = ["publish_roster", "read_roster"]


async def read_roster(settings: Settings) -> list[RosterAssigned]:
    """Every assignment on the topic, in log order (none when the topic does not exist)."""
    cat = Catalogue(settings.topic_prefix)
    codec = EventCodec()
    consumer = AIOKafkaConsumer(
        bootstrap_servers=settings.bootstrap, group_id=None, enable_auto_commit=False,
        **client_kwargs(settings),
    )  # fmt: skip
    await consumer.start()
    out: list[RosterAssigned] = []
    try:
        if cat.roster not in await consumer.topics():
            return out
        tp = TopicPartition(cat.roster, 0)
        consumer.assign([tp])
        consumer.seek(tp, 0)
        end = (await consumer.end_offsets([tp]))[tp]
        while await consumer.position(tp) < end:
            batch = await consumer.getmany(tp, timeout_ms=1000)
            for msg in batch.get(tp, []):
                try:
                    event = codec.decode(msg.value, list(msg.headers or ()))
                except DecodeError:
                    continue
                if isinstance(event, RosterAssigned):
                    out.append(event)
    finally:
        await consumer.stop()
    return out


async def publish_roster(settings: Settings, events: Iterable[RosterAssigned]) -> int:
    """Append assignments (acks=all, idempotent producer); returns how many were sent."""
    return await append_by_platform(settings, lambda cat: cat.roster, events, ROSTER_SOURCE)
