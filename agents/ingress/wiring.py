"""The Faust wiring of the ingress processor: source topics, dedup table, registry watcher.

Faust-streaming 0.15.3 subscribes to ``topic.topics`` only (``app.topic(pattern=...)`` is
accepted and silently subscribes nothing), so the pattern ``catalogue.ingress_pattern`` is
resolved here from broker metadata, and the list grows while the worker runs.
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
import threading
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping
from datetime import timedelta
from typing import Any

from aiokafka import TopicPartition

from agents.batching import TableIO
from agents.ingress.delivery import IngressDelivery
from agents.ingress.processor import DEDUP_TABLE, IngressProcessor, PlatformDirectory
from streams import compat
from streams.records import StateReader
from streams.topics import Catalogue

log = logging.getLogger(__name__)

FUTURE_MINUTES_ENV = "REGBUS_INGRESS_FUTURE_MINUTES"
DEDUP_DAYS_ENV = "REGBUS_INGRESS_DEDUP_DAYS"
"""Days a (ce_source, ce_id) dedup key is kept (default 30)."""
RESUBSCRIBE_DELAY = 1.0
"""Seconds the Faust conductor waits before resubscribing after a topic is added (its own
default, 45 s, would keep a new platform waiting)."""
DISCOVERY_INTERVAL = 10.0
"""Seconds between scans for ingress topics created without a registry entry."""


def dedup_retention_from(options: Any) -> timedelta:
    days = getattr(options, "ingress_dedup_days", None)
    if days is None:
        days = float(os.environ.get(DEDUP_DAYS_ENV, "30"))
    return timedelta(days=float(days))


def future_tolerance_from(options: Any) -> timedelta:
    minutes = getattr(options, "ingress_future_minutes", None)
    if minutes is None:
        minutes = float(os.environ.get(FUTURE_MINUTES_ENV, "10"))
    return timedelta(minutes=float(minutes))


class RegistryWatcher:
    """Tails the registry topic into a :class:`PlatformDirectory` and finds ingress topics.

    One aiokafka consumer without a group, assigned to the registry's single partition.
    ``sync()`` waits until everything written to the registry before the call is applied;
    the agent calls it before a batch that holds records of a platform not known as active,
    so a platform registered before it published is never refused.
    """

    def __init__(
        self,
        bootstrap: str,
        catalogue: Catalogue,
        directory: PlatformDirectory,
        *,
        client_options: Mapping[str, Any] | None = None,
        start_offset: int = 0,
        known_topics: Iterable[str] = (),
        on_new_topics: Callable[[list[str]], Awaitable[None] | None] | None = None,
        each_round: Callable[[], None] | None = None,
    ) -> None:
        self.bootstrap = bootstrap
        self.catalogue = catalogue
        self.directory = directory
        self.client_options = dict(client_options or {})
        self.position = start_offset
        self.known_topics = set(known_topics)
        self.on_new_topics = on_new_topics
        self.each_round = each_round
        self._tp = TopicPartition(catalogue.platforms_registry, 0)
        self._pattern = re.compile(catalogue.ingress_pattern)
        self._consumer: Any = None
        self._advanced = asyncio.Event()
        self.ready = asyncio.Event()

    def _new_consumer(self) -> Any:
        from aiokafka import AIOKafkaConsumer

        return AIOKafkaConsumer(
            bootstrap_servers=self.bootstrap, group_id=None, enable_auto_commit=False,
            **self.client_options,
        )  # fmt: skip

    async def snapshot(self) -> list[str]:
        """Read the registry to its end and list the ingress topics; returns the topics."""
        consumer = self._new_consumer()
        await consumer.start()
        try:
            topics = await self._ingress_topics(consumer)
            await self._read_to_end(consumer)
            self.known_topics |= set(topics)
            return topics
        finally:
            await consumer.stop()

    async def _ingress_topics(self, consumer: Any) -> list[str]:
        return sorted(t for t in await consumer.topics() if self._pattern.match(t))

    async def _read_to_end(self, consumer: Any) -> None:
        if self._tp.topic not in await consumer.topics():
            return  # no registry yet: no platform is registered
        consumer.assign([self._tp])
        consumer.seek(self._tp, self.position)
        end = (await consumer.end_offsets([self._tp]))[self._tp]
        while self.position < end:
            batch = await consumer.getmany(self._tp, timeout_ms=1000)
            self._apply(batch.get(self._tp, []))
            self.position = await consumer.position(self._tp)

    def _apply(self, records: Iterable[Any]) -> bool:
        changed = False
        for msg in records:
            changed |= self.directory.apply(msg.key, msg.value)
        return changed

    async def run(self) -> None:
        consumer = self._consumer = self._new_consumer()
        await consumer.start()
        try:
            await self._read_to_end(consumer)
            self.ready.set()
            await self._discover(consumer)
            last_scan = time.monotonic()
            while True:
                if self._tp not in consumer.assignment():
                    await asyncio.sleep(1.0)  # the registry topic does not exist yet
                    await self._read_to_end(consumer)
                    changed = bool(consumer.assignment())
                else:
                    batch = await consumer.getmany(self._tp, timeout_ms=500)
                    changed = self._apply(batch.get(self._tp, []))
                    self.position = await consumer.position(self._tp)
                self._advanced.set()
                self._advanced = asyncio.Event()
                if changed or time.monotonic() - last_scan > DISCOVERY_INTERVAL:
                    await self._discover(consumer)
                    last_scan = time.monotonic()
                if self.each_round is not None:
                    self.each_round()
        finally:
            self._consumer = None
            await consumer.stop()

    async def _discover(self, consumer: Any) -> None:
        try:
            found = await self._ingress_topics(consumer)
        except Exception as exc:  # metadata hiccup: try again on the next round
            log.warning("ingress topic discovery failed: %s", exc)
            return
        new = [t for t in found if t not in self.known_topics]
        if new and self.on_new_topics is not None:
            self.known_topics |= set(new)
            log.info("ingress: subscribing to new topics %s", ", ".join(new))
            maybe = self.on_new_topics(new)
            if maybe is not None:
                await maybe

    async def sync(self, within: float = 5.0) -> bool:
        """Wait until the registry is read up to its current end; False if not in time."""
        consumer = self._consumer
        if consumer is None or self._tp not in consumer.assignment():
            return False
        try:
            async with asyncio.timeout(within):
                end = (await consumer.end_offsets([self._tp]))[self._tp]
                while self.position < end:
                    await self._advanced.wait()
        except TimeoutError:
            return False
        except Exception as exc:  # the broker did not answer: go on with what we know
            log.warning("registry sync failed: %s", exc)
            return False
        return True


def _in_thread(coro_fn: Callable[[], Awaitable[Any]], timeout: float) -> Any:
    """Run a coroutine to completion on a private loop in a daemon thread, bounded in time.

    attach() is synchronous and may be called inside a running loop (tests); a daemon
    thread (not an executor, whose threads are joined at exit) cannot hold the process up
    if the broker never answers.
    """
    box: dict[str, Any] = {}

    def run() -> None:
        try:
            box["result"] = asyncio.run(asyncio.wait_for(coro_fn(), timeout))
        except BaseException as exc:  # handed to the caller below
            box["error"] = exc

    thread = threading.Thread(target=run, name="regbus-ingress-snapshot", daemon=True)
    thread.start()
    thread.join(timeout + 5.0)
    if "error" in box:
        raise box["error"]
    if "result" not in box:
        raise TimeoutError(f"no answer from the broker within {timeout:.0f}s")
    return box["result"]


def attach(
    app: Any, settings: Any, catalogue: Catalogue, options: Any
) -> tuple[IngressProcessor, RegistryWatcher]:
    """Register the ingress agent, its dedup table and the registry watcher on ``app``.

    Faust-streaming 0.15.3 subscribes to ``topic.topics`` only (``pattern=`` is accepted and
    silently subscribes nothing), so the pattern ``catalogue.ingress_pattern`` is resolved
    here: the source topic's name list is filled from the broker's metadata at attach time
    and grown in place when the watcher sees a new platform (or, every few seconds, a new
    matching topic); the conductor then resubscribes after :data:`RESUBSCRIBE_DELAY`.
    """
    from agents.batching import to_in_record
    from streams.security import client_kwargs

    client_options = client_kwargs(settings)
    directory = PlatformDirectory()
    watcher = RegistryWatcher(
        settings.bootstrap, catalogue, directory, client_options=client_options
    )
    try:
        found = _in_thread(watcher.snapshot, timeout=30.0)
        watcher.ready.set()
    except Exception as exc:  # broker not up yet: the watcher catches up once it is
        log.warning("ingress: no registry snapshot at start (%s); waiting for the watcher", exc)
        found = []
    names: list[str] = sorted({catalogue.bureau_ingress, *found})
    source = app.topic(*names, key_serializer="raw", value_serializer="raw")
    # Faust clones the source for the agent, passing this very list to each clone: growing
    # it in place is how a new ingress topic reaches the running subscription.
    source.topics = names
    watcher.known_topics |= set(names)

    conductor = app.topics
    compat.set_resubscribe_delay(conductor, RESUBSCRIBE_DELAY)

    def add_topics(new: list[str]) -> None:
        for name in new:
            if name not in names:
                names.append(name)
        compat.conductor_flag_changes(conductor)

    def resubscribe_if_missed() -> None:
        # The conductor drops a change flagged while the group is rebalancing; flag again
        # until every name is in its index (it is, once the resubscription happened).
        index = compat.conductor_subscribed(conductor)
        if index and not app.rebalancing and any(n not in index for n in names):
            compat.conductor_flag_changes(conductor)

    watcher.on_new_topics = add_topics
    watcher.each_round = resubscribe_if_missed

    table = app.Table(
        DEDUP_TABLE, key_type=bytes, value_type=bytes, partitions=catalogue.case_partitions,
        help="ingress dedup keys (ce_source, ce_id) and per-partition processed offsets",
    )  # fmt: skip
    io = TableIO(table)
    readers: dict[str, StateReader] = {DEDUP_TABLE: io}
    processor = IngressProcessor(
        catalogue, directory,
        clock=getattr(options, "ingress_clock", None),
        future_tolerance=future_tolerance_from(options),
        dedup_retention=dedup_retention_from(options),
    )  # fmt: skip
    delivery = IngressDelivery(app, table, io, processor, readers)

    max_batch = getattr(options, "max_batch", 1000)
    within = getattr(options, "batch_within", 0.01)

    async def ingress(stream: Any) -> None:
        await watcher.ready.wait()
        async for events in stream.take_events(max_batch, within=within):
            batch = [to_in_record(e) for e in events]
            if processor.needs_registry_sync(batch):
                await watcher.sync()
            # Every record of the batch ends routed or dead-lettered, durably, before the
            # loop asks for the next batch (which is when Faust acks this one).
            await delivery.handle(batch)

    app.agent(source, name="ingress", concurrency=1)(ingress)

    async def ingress_registry_watcher() -> None:
        await watcher.run()

    app.task(ingress_registry_watcher)

    return processor, watcher
