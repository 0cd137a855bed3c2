"""Create and inspect topics from the catalogue (idempotent)."""

from __future__ import annotations

import logging
from collections.abc import Iterable

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError

from streams.security import client_kwargs
from streams.topics import TopicSpec

log = logging.getLogger(__name__)


async def ensure_topics(bootstrap: str, specs: Iterable[TopicSpec]) -> list[str]:
    """Create every topic that does not exist yet; return the names created."""
    wanted = {spec.name: spec for spec in specs}
    admin = AIOKafkaAdminClient(
        bootstrap_servers=bootstrap, request_timeout_ms=30000, **client_kwargs()
    )
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [spec for name, spec in wanted.items() if name not in existing]
        if not missing:
            return []
        new = [
            NewTopic(s.name, s.partitions, s.replication_factor, topic_configs=s.config())
            for s in missing
        ]
        resp = await admin.create_topics(new, timeout_ms=30000)
        created: list[str] = []
        for name, code, message in resp.topic_errors:
            if code == 0:
                created.append(name)
            elif code != TopicAlreadyExistsError.errno:  # a concurrent creator won the race
                raise RuntimeError(f"creating topic {name} failed: Kafka error {code}: {message}")
        return sorted(created)
    finally:
        await admin.close()


async def list_topics(bootstrap: str) -> list[str]:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, **client_kwargs())
    await admin.start()
    try:
        return sorted(await admin.list_topics())
    finally:
        await admin.close()


async def delete_topics_with_prefix(bootstrap: str, prefix: str) -> list[str]:
    """Delete every topic named ``<prefix>.…`` or ``<prefix>-…`` (a test's or a demo's own)."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, **client_kwargs())
    await admin.start()
    try:
        doomed = [
            t for t in await admin.list_topics() if t.startswith((f"{prefix}.", f"{prefix}-"))
        ]
        if doomed:
            await admin.delete_topics(doomed, timeout_ms=30000)
        return doomed
    finally:
        await admin.close()
