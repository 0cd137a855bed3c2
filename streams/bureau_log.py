"""Append bureau-sent events to one of the bureau's own topics (the roster, governance),
keyed by platform id: the write the roster and rule-change tools share."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from aiokafka import AIOKafkaProducer

from schemas.models import Event
from streams.codec import EventCodec
from streams.security import client_kwargs
from streams.settings import Settings
from streams.topics import Catalogue

__all__ = ["append_by_platform"]


async def append_by_platform(
    settings: Settings, topic_of: Callable[[Catalogue], str], events: Iterable[Event], source: str
) -> int:
    """Create the topic if needed, then send ``events`` (acks=all, idempotent producer), key
    = platform id; returns how many were sent, and raises if the broker refused one."""
    from streams.admin import ensure_topics

    cat = Catalogue.from_settings(settings)
    topic = topic_of(cat)
    await ensure_topics(settings.bootstrap, [cat.by_name(topic)])
    codec = EventCodec()
    producer = AIOKafkaProducer(
        bootstrap_servers=settings.bootstrap, acks="all", enable_idempotence=True,
        **client_kwargs(settings),
    )  # fmt: skip
    await producer.start()
    futures = []
    try:
        for event in events:
            _key, value, headers = codec.encode(event, source)
            key = event.platform_id.encode()
            futures.append(await producer.send(topic, value, key=key, headers=headers))
        for fut in futures:
            await fut
    finally:
        await producer.stop()
    return len(futures)
