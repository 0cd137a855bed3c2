"""Create and inspect topics from the catalogue (idempotent)."""

from __future__ import annotations

import logging
from collections.abc import Iterable

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType
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


async def apply_topic_configs(
    bootstrap: str, specs: Iterable[TopicSpec], *, dry_run: bool = False
) -> list[tuple[str, str, str | None, str]]:
    """Make existing topics' configs match the catalogue (retention first of all).

    Returns ``(topic, key, current, wanted)`` for every value that differs (and was changed,
    unless ``dry_run``). Missing topics are skipped (``ensure_topics`` creates them). The
    classic AlterConfigs request replaces a topic's whole dynamic config, so the catalogue's
    full ``config()`` is sent, never a single key."""
    wanted = {spec.name: spec for spec in specs}
    admin = AIOKafkaAdminClient(
        bootstrap_servers=bootstrap, request_timeout_ms=30000, **client_kwargs()
    )
    await admin.start()
    try:
        names = sorted(set(await admin.list_topics()) & set(wanted))
        if not names:
            return []
        current: dict[str, dict[str, str | None]] = {}
        for resp in await admin.describe_configs(
            [ConfigResource(ConfigResourceType.TOPIC, n) for n in names]
        ):
            for code, message, _type, name, entries in resp.resources:
                if code != 0:
                    raise RuntimeError(f"describing topic {name} failed: {code}: {message}")
                current[name] = {e[0]: e[1] for e in entries}
        diffs: list[tuple[str, str, str | None, str]] = []
        changed: list[ConfigResource] = []
        for name in names:
            config = wanted[name].config()
            found = [
                (name, k, current.get(name, {}).get(k), v)
                for k, v in sorted(config.items())
                if current.get(name, {}).get(k) != v
            ]
            if found:
                diffs.extend(found)
                changed.append(ConfigResource(ConfigResourceType.TOPIC, name, configs=config))
        if changed and not dry_run:
            for resp in await admin.alter_configs(changed):
                for code, message, _type, name in resp.resources:
                    if code != 0:
                        raise RuntimeError(f"altering topic {name} failed: {code}: {message}")
        return diffs
    finally:
        await admin.close()
