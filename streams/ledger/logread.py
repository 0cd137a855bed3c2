"""Read ranges of many partitions at once, in offset order per partition, without a group.

One consumer is assigned every partition wanted and seeked to each range's start; ``getmany``
then returns large batches from all of them, and each partition is paused as soon as its range
is read (or its handler says it is done). End offsets are taken when reading starts, so
records appended meanwhile are not read.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterable
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from streams.security import client_kwargs
from streams.settings import Settings

FETCH_RECORDS = 20_000
Ranges = dict[TopicPartition, tuple[int, int]]
"""Per partition: [start offset, end offset) to read."""


def replay_consumer(settings: Settings, **extra: Any) -> AIOKafkaConsumer:
    """A group-less, read-only consumer tuned for reading whole partitions quickly."""
    return AIOKafkaConsumer(
        bootstrap_servers=settings.bootstrap,
        group_id=None,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        max_poll_records=FETCH_RECORDS,
        fetch_max_bytes=64 * 1024 * 1024,
        max_partition_fetch_bytes=16 * 1024 * 1024,
        fetch_max_wait_ms=100,
        **client_kwargs(settings),
        **extra,
    )


async def topic_partitions(settings: Settings, topics: list[str]) -> dict[str, list[int]]:
    """Partition ids per topic (a topic that does not exist maps to an empty list)."""
    admin = AIOKafkaAdminClient(bootstrap_servers=settings.bootstrap, **client_kwargs(settings))
    await admin.start()
    try:
        described = await admin.describe_topics(topics)
    finally:
        await admin.close()
    out: dict[str, list[int]] = {t: [] for t in topics}
    for entry in described:
        if entry.get("error_code", 0) == 0 and entry.get("topic") in out:
            out[entry["topic"]] = sorted(p["partition"] for p in entry.get("partitions", []))
    return out


class LogReader:
    """One consumer for reading whole partitions or ranges of them (use as a context)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.consumer: AIOKafkaConsumer = replay_consumer(settings)
        self._active: set[TopicPartition] = set()

    async def __aenter__(self) -> LogReader:
        await self.consumer.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        # aiokafka's no-group coordinator starts a task in start(); stopping before it ever
        # ran makes stop() raise CancelledError, so let it run once first.
        await asyncio.sleep(0)
        await self.consumer.stop()

    async def bounds(self, topics: Iterable[str]) -> Ranges:
        """[log start, end) of every partition of ``topics`` (missing topics: none)."""
        found = await topic_partitions(self.settings, list(topics))
        tps = [TopicPartition(t, p) for t, parts in found.items() for p in parts]
        if not tps:
            return {}
        begin = await self.consumer.beginning_offsets(tps)
        end = await self.consumer.end_offsets(tps)
        return {tp: (begin[tp], end[tp]) for tp in tps}

    async def read(self, ranges: Ranges) -> AsyncIterator[tuple[TopicPartition, list[Any]]]:
        """(partition, records) batches covering each range, in offset order per partition.

        The caller may ``stop(tp)`` a partition at any point; its remaining records are not
        returned."""
        consumer = self.consumer
        wanted = {tp: r for tp, r in ranges.items() if r[1] > r[0]}
        self._active = set(wanted)
        if not wanted:
            return
        consumer.assign(list(wanted))
        for tp, (start, _end) in wanted.items():
            consumer.seek(tp, start)
        while self._active:
            batch = await consumer.getmany(timeout_ms=500, max_records=FETCH_RECORDS)
            if not batch:
                for tp in list(self._active):  # nothing came: ranges ending in a gap
                    if await consumer.position(tp) >= wanted[tp][1]:
                        self.stop(tp)
                continue
            for tp, records in batch.items():
                if tp not in self._active or not records:
                    continue
                end = wanted[tp][1]
                if records[-1].offset >= end:
                    records = [r for r in records if r.offset < end]
                if records:
                    yield tp, records
                if not records or records[-1].offset >= end - 1:
                    self.stop(tp)

    def stop(self, tp: TopicPartition) -> None:
        """Read no further in ``tp``."""
        if tp in self._active:
            self._active.discard(tp)
            self.consumer.pause(tp)
