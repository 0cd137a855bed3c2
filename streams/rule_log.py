"""Append and read platform rule changes on the governance topic (key = platform id).

Bureau-sent only (:data:`schemas.send_rules.RULE_SENDERS`): the bureau's tools write the topic
directly, with ``ce_source`` ``/bureau/<unit>``; platforms have no ACL on it.
"""

from __future__ import annotations

from collections.abc import Iterable

from aiokafka import AIOKafkaConsumer, TopicPartition

from schemas.models import PlatformRuleChanged
from streams.bureau_log import append_by_platform
from streams.codec import DecodeError, EventCodec
from streams.security import client_kwargs
from streams.settings import Settings
from streams.topics import Catalogue

RULES_SOURCE = "/bureau/rules"

__all__ = ["RULES_SOURCE", "publish_rule_changes", "read_rule_changes"]


async def publish_rule_changes(
    settings: Settings, events: Iterable[PlatformRuleChanged], source: str = RULES_SOURCE
) -> int:
    """Append rule changes (acks=all, idempotent producer); returns how many were sent."""
    if not source.startswith("/bureau/"):
        raise ValueError(f"source: rule changes are bureau-sent (/bureau/<unit>), not {source!r}")
    return await append_by_platform(settings, lambda cat: cat.governance, events, source)


async def read_rule_changes(settings: Settings, until_ms: int | None = None) -> list[
    PlatformRuleChanged
]:  # fmt: skip
    """Every rule change on the topic (all its partitions) recorded at or before ``until_ms``
    (``occurred_at``), in time order; none when the topic does not exist."""
    cat = Catalogue.from_settings(settings)
    codec = EventCodec()
    consumer = AIOKafkaConsumer(
        bootstrap_servers=settings.bootstrap, group_id=None, enable_auto_commit=False,
        **client_kwargs(settings),
    )  # fmt: skip
    await consumer.start()
    out: list[PlatformRuleChanged] = []
    try:
        if cat.governance not in await consumer.topics():
            return out
        # the topic's metadata, not the catalogue's count: a topic made elsewhere may differ
        parts = consumer.partitions_for_topic(cat.governance) or set(
            range(cat.by_name(cat.governance).partitions)
        )
        tps = [TopicPartition(cat.governance, p) for p in sorted(parts)]
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        ends = await consumer.end_offsets(tps)
        for tp in tps:
            while await consumer.position(tp) < ends[tp]:
                batch = await consumer.getmany(tp, timeout_ms=1000)
                for msg in batch.get(tp, []):
                    try:
                        event = codec.decode(msg.value, list(msg.headers or ()))
                    except DecodeError:
                        continue
                    if not isinstance(event, PlatformRuleChanged):
                        continue
                    if until_ms is None or int(event.occurred_at.timestamp() * 1000) <= until_ms:
                        out.append(event)
        out.sort(key=lambda e: e.occurred_at)  # stable: a platform's changes keep log order
    finally:
        await consumer.stop()
    return out
