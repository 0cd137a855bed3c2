"""The platform registry: a compacted topic with one JSON entry per platform id.

``regbus platform add P`` writes the entry and creates P's ingress and inbox topics; the ingress
agent rejects records from platforms that are not registered (or are revoked).
"""

from __future__ import annotations

from datetime import UTC, datetime

import orjson
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from streams.admin import ensure_topics
from streams.security import client_kwargs
from streams.settings import Settings
from streams.topics import Catalogue, RegistryError, validate_platform_id


async def read_registry(settings: Settings) -> dict[str, dict[str, object]]:
    """Read the registry topic to its end; latest entry per platform wins."""
    cat = Catalogue.from_settings(settings)
    await ensure_topics(settings.bootstrap, [cat.by_name(cat.platforms_registry)])
    consumer = AIOKafkaConsumer(
        bootstrap_servers=settings.bootstrap,
        enable_auto_commit=False,
        group_id=None,
        **client_kwargs(settings),
    )
    await consumer.start()
    try:
        tp = TopicPartition(cat.platforms_registry, 0)
        consumer.assign([tp])
        await consumer.seek_to_beginning(tp)
        end = (await consumer.end_offsets([tp]))[tp]
        entries: dict[str, dict[str, object]] = {}
        while end and await consumer.position(tp) < end:
            batch = await consumer.getmany(tp, timeout_ms=1000)
            for msg in batch.get(tp, []):
                key = (msg.key or b"").decode()
                if msg.value is None:
                    entries.pop(key, None)
                else:
                    entries[key] = orjson.loads(msg.value)
        return entries
    finally:
        await consumer.stop()


async def load_platforms(settings: Settings) -> list[str]:
    """Ids of registered, non-revoked platforms."""
    entries = await read_registry(settings)
    return sorted(k for k, v in entries.items() if not v.get("revoked"))


async def add_platform(settings: Settings, platform_id: str, name: str = "") -> Catalogue:
    """Register a platform and create its topics; idempotent."""
    validate_platform_id(platform_id)
    cat = Catalogue.from_settings(settings).with_platforms([platform_id])
    await ensure_topics(settings.bootstrap, cat.specs())
    await _write(settings, platform_id, {
        "platform_id": platform_id,
        "name": name or platform_id,
        "added_at": datetime.now(UTC).isoformat(),
        "revoked": False,
    })  # fmt: skip
    return cat


async def revoke_platform(settings: Settings, platform_id: str) -> None:
    entries = await read_registry(settings)
    if platform_id not in entries:
        raise RegistryError(f"platform {platform_id!r} is not registered")
    entry = dict(entries[platform_id])
    entry["revoked"] = True
    entry["revoked_at"] = datetime.now(UTC).isoformat()
    await _write(settings, platform_id, entry)


async def _write(settings: Settings, platform_id: str, entry: dict[str, object]) -> None:
    cat = Catalogue.from_settings(settings)
    producer = AIOKafkaProducer(
        bootstrap_servers=settings.bootstrap,
        acks="all",
        enable_idempotence=True,
        **client_kwargs(settings),
    )
    await producer.start()
    try:
        await producer.send_and_wait(
            cat.platforms_registry, orjson.dumps(entry), key=platform_id.encode()
        )
    finally:
        await producer.stop()
