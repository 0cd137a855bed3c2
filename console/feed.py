"""Feeds the read model from the topics, and writes the console's own facts back to Kafka.

:class:`Feed` assigns itself every partition of the topics it folds (no consumer group: the
read model keeps its own positions, committed in the same SQLite transaction as the effects),
polls, decodes and hands each poll to :meth:`ReadModel.apply` as one batch. After each poll it
records the log end of every partition, so the pages can say how far behind the log they are.
New alerts are also pushed to the subscribers of :meth:`Feed.subscribe` (the SSE stream).

:class:`FactWriter` publishes the console's facts (alert actions, accounts, access log) with
``acks=all`` and idempotence, then waits until the feed has folded them: a regulator who
acknowledges an alert sees it acknowledged on the next page.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence
from typing import Any

from console.readmodel import Applied, ReadModel
from schemas.families import CaseFamily
from schemas.models import AlertEvent, Event
from streams.codec import DecodeError, EventCodec
from streams.settings import Settings
from streams.topics import Catalogue

log = logging.getLogger("regbus.console")

__all__ = ["FactWriter", "Feed", "fed_topics", "fold_log"]


def fed_topics(catalogue: Catalogue) -> list[str]:
    """Every topic the read model folds."""
    return [
        *(catalogue.cases(f) for f in CaseFamily),
        catalogue.sla,
        catalogue.alerts,
        catalogue.deadletter,
        catalogue.roster,
        catalogue.alert_actions,
        catalogue.accounts,
        catalogue.access_log,
    ]


def _decode(codec: EventCodec, record: Any) -> Event | None:
    try:
        return codec.decode(record.value, record.headers)
    except DecodeError as exc:
        log.warning("%s[%s]@%s not decoded: %s", record.topic, record.partition, record.offset, exc)
        return None


class Feed:
    """The consumer that keeps a :class:`ReadModel` up with the log."""

    def __init__(
        self, settings: Settings, catalogue: Catalogue, model: ReadModel, max_records: int = 5000
    ) -> None:
        self.settings = settings
        self.catalogue = catalogue
        self.model = model
        self.max_records = max_records
        self.codec = EventCodec()
        self._subscribers: set[asyncio.Queue[dict[str, Any]]] = set()
        self._task: asyncio.Task[None] | None = None
        self._consumer: Any = None
        self.polls = 0
        self.error: str | None = None

    def subscribe(self) -> asyncio.Queue[dict[str, Any]]:
        queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue(maxsize=1000)
        self._subscribers.add(queue)
        return queue

    def unsubscribe(self, queue: asyncio.Queue[dict[str, Any]]) -> None:
        self._subscribers.discard(queue)

    async def start(self) -> None:
        from aiokafka import AIOKafkaConsumer, TopicPartition

        consumer = AIOKafkaConsumer(
            bootstrap_servers=self.settings.bootstrap,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            isolation_level="read_committed",
        )
        await consumer.start()
        self._consumer = consumer
        tps: list[Any] = []
        # The catalogue declares each topic's partitions (and creates the topics with them).
        for topic in fed_topics(self.catalogue):
            spec = self.catalogue.by_name(topic)
            tps.extend(TopicPartition(topic, p) for p in range(spec.partitions))
        consumer.assign(tps)
        positions = self.model.positions()
        for tp in tps:
            next_offset = positions.get((tp.topic, tp.partition))
            if next_offset is None:
                await consumer.seek_to_beginning(tp)
            else:
                consumer.seek(tp, next_offset)
        self._tps = tps
        self._task = asyncio.create_task(self._run(), name="console-feed")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._consumer is not None:
            await self._consumer.stop()

    async def _run(self) -> None:
        while True:
            try:
                await self.poll_once(timeout_ms=500)
                self.error = None
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the page says so; the feed keeps trying
                self.error = f"{type(exc).__name__}: {exc}"
                log.exception("console feed poll failed")
                await asyncio.sleep(1.0)

    async def poll_once(self, timeout_ms: int = 500) -> int:
        consumer = self._consumer
        polled = await consumer.getmany(timeout_ms=timeout_ms, max_records=self.max_records)
        batch: list[Applied] = []
        for tp, records in polled.items():
            for r in records:
                batch.append(Applied(tp.topic, tp.partition, r.offset, _decode(self.codec, r)))
        ends = await consumer.end_offsets(self._tps)
        end_offsets = {(tp.topic, tp.partition): off for tp, off in ends.items()}
        applied = self.model.apply(batch, end_offsets)
        self.polls += 1
        if applied:
            self._notify(batch)
        return applied

    def _notify(self, batch: Sequence[Applied]) -> None:
        alerts = [a.event for a in batch if isinstance(a.event, AlertEvent)]
        for event in alerts:
            payload = {
                "alert_id": event.alert_id,
                "type": type(event).__name__,
                "rule_id": event.rule_id,
                "level": event.level.value,
                "severity": event.severity.value,
                "platform_id": event.platform_id,
                "subject": event.subject,
                "case_id": event.case_id,
                "observed_at": event.observed_at.isoformat(),
                "due_at": event.due_at.isoformat() if event.due_at else None,
            }
            for queue in list(self._subscribers):
                with contextlib.suppress(asyncio.QueueFull):
                    queue.put_nowait(payload)

    async def caught_up_to(self, topic: str, partition: int, offset: int, timeout: float) -> bool:
        """Whether the model has folded ``topic[partition]@offset`` within ``timeout`` s."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while loop.time() < deadline:
            if self.model.positions().get((topic, partition), 0) > offset:
                return True
            await asyncio.sleep(0.05)
        return False


class FactWriter:
    """Publishes the console's facts and waits until the read model has them."""

    def __init__(self, settings: Settings, feed: Feed | None = None) -> None:
        self.settings = settings
        self.feed = feed
        self.codec = EventCodec()
        self._producer: Any = None

    async def start(self) -> None:
        from aiokafka import AIOKafkaProducer

        self._producer = AIOKafkaProducer(
            bootstrap_servers=self.settings.bootstrap, acks="all", enable_idempotence=True
        )
        await self._producer.start()

    async def stop(self) -> None:
        if self._producer is not None:
            await self._producer.stop()

    async def write(self, topic: str, key: str, event: Event, wait: float = 5.0) -> bool:
        """Publish one fact; True when the read model has folded it within ``wait`` s."""
        _key, value, headers = self.codec.encode(event, "/bureau/console")
        meta = await self._producer.send_and_wait(
            topic, value=value, key=key.encode(), headers=list(headers)
        )
        if self.feed is None:
            return False
        return await self.feed.caught_up_to(meta.topic, meta.partition, meta.offset, wait)


async def fold_log(settings: Settings, catalogue: Catalogue, model: ReadModel) -> int:
    """Fold every topic from the beginning up to its current end (``regbus console rebuild``)."""
    feed = Feed(settings, catalogue, model)
    await feed.start()
    try:
        total = 0
        while True:
            total += await feed.poll_once(timeout_ms=300)
            if all(r["lag"] == 0 for r in model.lag()) and len(model.lag()) >= len(feed._tps):
                return total
    finally:
        await feed.stop()
