"""Plain-data records between Faust and the processors, and the batch agent glue.

Processors (ingress, case families) see only :class:`InRecord` lists and return a
:class:`BatchResult`; they import nothing from Faust, so the same code runs under the worker,
in benchmarks and in the replay. The glue here applies a result once per batch:

* :class:`BatchProducer` (the case agents' path, offered to ingress and the regulator): state
  goes to the table's store, and every output record and every changelog record of the batch
  goes into aiokafka's batch API, one ``BatchBuilder`` per topic partition, then the agent
  awaits those few delivery futures before it hands the batch back to Faust, which acks and
  later commits it. Nothing per record waits, logs, or builds a Faust message object, and
  offsets are committed only past outputs the broker has acknowledged.
* :func:`apply_result`, the older path (``send_soon`` per record, Faust's producer buffer),
  kept for the callers that have not moved yet.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from functools import partial
from typing import Any

from aiokafka.partitioner import DefaultPartitioner
from faust.types import TP

from streams import compat
from streams.records import (
    BatchProcessor,
    BatchResult,
    InRecord,
    StateReader,
)

log = logging.getLogger(__name__)

__all__ = [
    "BatchProducer",
    "ChangelogGate",
    "TableIO",
    "apply_result",
    "attach_batch_agent",
    "attach_changelog_gate",
    "install_changelog_gate",
    "to_in_record",
]


def to_in_record(event: Any) -> InRecord:
    msg = event.message
    headers = msg.headers
    if isinstance(headers, dict):
        headers = list(headers.items())
    return InRecord(
        msg.topic,
        msg.partition,
        msg.offset,
        msg.key,
        msg.value,
        list(headers or ()),
        int(msg.timestamp * 1000) if msg.timestamp else 0,
    )


class TableIO:
    """Raw-key access to a Faust table's store with an explicit partition.

    A batch agent has no current event for Faust to take the partition from, so reads and
    writes go to the store directly (memory and RocksDB stores alike) and each write is sent
    to the changelog partition given here.
    """

    def __init__(self, table: Any) -> None:
        self.table = table

    def get(self, key: bytes) -> bytes | None:
        store = self.table.data
        if compat.store_is_partitioned(store):
            return compat.store_get(store, key)
        return store.data.get(key)  # type: ignore[no-any-return]

    def items(self) -> Iterable[tuple[bytes, bytes]]:
        store = self.table.data
        if compat.store_is_partitioned(store):
            return list(compat.store_items(store))  # the databases of the active partitions
        return list(store.data.items())

    def put_local(self, partition: int, key: bytes, value: bytes | None) -> None:
        """Write the store only (the caller sends the changelog record itself)."""
        store = self.table.data
        if compat.store_is_partitioned(store):
            db = compat.store_db_for_partition(store, partition)
            if value is None:
                db.delete(key)
            else:
                db.put(key, value)
                compat.store_note_key(store, key, partition)
        else:
            if value is None:
                store.data.pop(key, None)
            else:
                store.data[key] = value
            compat.store_note_key(store, key, partition)

    def put(self, partition: int, key: bytes, value: bytes | None) -> None:
        """Write the store and queue the changelog record for ``partition`` (held by the
        app's :class:`ChangelogGate` until the outputs queued before it are durable)."""
        self.put_local(partition, key, value)
        gate = getattr(self.table.app, "changelog_gate", None)
        if gate is None:
            self.table.send_changelog(partition, key, value)
        else:
            gate.change(self, partition, key, value)

    @property
    def changelog_topic(self) -> str:
        return self.table.changelog_topic.get_topic_name()  # type: ignore[no-any-return]

    def persisted(self, partition: int, offset: int) -> None:
        """What Faust's ``Table._on_changelog_sent`` does once per record, once per batch:
        the RocksDB store remembers how far its changelog goes, so recovery starts there."""
        self.table.data.set_persisted_offset(TP(self.changelog_topic, partition), offset)


class ChangelogGate:
    """Holds changelog records until the outputs queued before them are durable.

    Faust's producer buffer sends a batch's outputs and its changelog records in no set
    order. A worker killed in between could leave the changelog durable ("event applied",
    "deadline fired") and the alert it raised lost; the restarted worker, restoring that
    state and re-reading the uncommitted input, sees a duplicate and never raises the alert.
    So :meth:`TableIO.put` writes the store at once and leaves the changelog record here, and
    :meth:`release` — run before every producer flush, which Faust runs before every commit
    (:func:`streams.compat.flush_before_commit`), and by a timer — waits for the outputs queued
    so far, then sends the held changelog records and waits for them too. Order on the
    broker: outputs, then state, then the committed offset. A crash anywhere re-reads input
    whose outputs are re-sent with the same ids (at-least-once, idempotent). One wait per
    release, none per record; the store a later batch reads is already up to date.
    """

    RETRY_PAUSE = 1.0
    PATIENCE = 30.0

    def __init__(self) -> None:
        self._outputs: list[tuple[Any, Any]] = []  # future, how to send it again
        self._changes: list[tuple[TableIO, int, bytes, bytes | None]] = []
        self._lock: asyncio.Lock | None = None
        self.counters: dict[str, int] = {"released": 0, "changelog": 0, "resent": 0}

    def output(self, future: Any, again: Any) -> None:
        self._outputs.append((future, again))

    def change(self, io: TableIO, partition: int, key: bytes, value: bytes | None) -> None:
        self._changes.append((io, partition, key, value))

    @property
    def held(self) -> int:
        return len(self._changes)

    async def release(self) -> None:
        if self._lock is None:
            self._lock = asyncio.Lock()
        async with self._lock:
            outputs, self._outputs = self._outputs, []
            changes, self._changes = self._changes, []
            await self._durable(outputs)
            if not changes:
                return
            sent = []
            for io, partition, key, value in changes:
                again = partial(io.table.send_changelog, partition, key, value)
                sent.append((again(), again))
            await self._durable(sent)
            self.counters["released"] += 1
            self.counters["changelog"] += len(changes)

    async def _durable(self, pending: list[tuple[Any, Any]]) -> None:
        """Wait for every future; send the failed ones again (same bytes) until they hold."""
        while pending:
            futures = [f for f, _ in pending]
            while True:
                _done, waiting = await asyncio.wait(futures, timeout=self.PATIENCE)
                if not waiting:
                    break
                log.warning("changelog gate: %d records not acknowledged after %.0f s; waiting",
                            len(waiting), self.PATIENCE)  # fmt: skip
            failed = [(f, again) for f, again in pending if f.cancelled() or f.exception()]
            if not failed:
                return
            self.counters["resent"] += len(failed)
            first = failed[0][0]
            why = "cancelled" if first.cancelled() else first.exception()
            log.warning("changelog gate: %d records not delivered (%s); sending them again",
                        len(failed), why)  # fmt: skip
            await asyncio.sleep(self.RETRY_PAUSE)
            pending = [(again(), again) for _f, again in failed]


def attach_changelog_gate(app: Any, interval: float = 1.0) -> ChangelogGate:
    """Give ``app`` a :class:`ChangelogGate`, released every ``interval`` seconds and (once
    the app starts: :func:`install_changelog_gate`) before each producer flush, so before
    each commit."""
    gate = ChangelogGate()
    app.changelog_gate = gate  # BureauApp.on_first_start puts it before the producer's flush

    @app.timer(interval, name="changelog_gate")  # type: ignore[untyped-decorator]
    async def release_changelogs() -> None:
        await gate.release()

    return gate


def install_changelog_gate(app: Any) -> None:
    """Release the app's gate before every flush of Faust's producer (called once the app
    starts, before the consumer does)."""
    gate = getattr(app, "changelog_gate", None)
    if gate is not None:
        compat.flush_before_commit(app, gate.release)


def apply_result(app: Any, tables: dict[str, TableIO], result: BatchResult) -> None:
    """Write state (store + one changelog record per key) and queue outputs, no awaits.

    The per-record path through Faust's producer buffer; :class:`BatchProducer` is the
    batched one. With a :class:`ChangelogGate` on the app, the outputs' futures go to the
    gate and the changelog records wait there until those outputs are durable."""
    gate = getattr(app, "changelog_gate", None)
    topics: dict[str, Any] = {}
    for o in result.out:
        topic = topics.get(o.topic)
        if topic is None:
            topic = topics[o.topic] = app.topic(
                o.topic, key_serializer="raw", value_serializer="raw"
            )
        send = partial(
            topic.send_soon, key=o.key, value=o.value, partition=o.partition, headers=o.headers
        )
        future = send()
        if gate is not None:
            gate.output(future, send)
    for w in result.writes:
        tables[w.table].put(w.partition, w.key, w.value)


class BatchProducer:
    """One batched produce per :class:`BatchResult`, awaited before the batch is acked.

    Outputs, then (once those are acknowledged) changelog records, are appended to one
    aiokafka ``BatchBuilder`` per topic partition (partitioned by key with aiokafka's
    default partitioner, as Faust's ``send`` would); each builder is closed and queued
    whole, and :meth:`deliver` returns once the broker acknowledged every one (acks=all,
    idempotent producer). A failed delivery is retried whole after a pause: the effects are
    idempotent (deterministic ids, dedup by event id), the partition waits rather than
    skips, and the input is never acked past an output that is not durable.
    """

    RETRY_PAUSE = 1.0

    def __init__(self, app: Any, producer: Any = None) -> None:
        self._app = app
        self._producer = producer
        self._partitioner = DefaultPartitioner()
        self._partitions: dict[str, list[int]] = {}
        self.counters: dict[str, int] = {
            "batches": 0, "records": 0, "sends": 0, "retries": 0,
        }  # fmt: skip

    def producer(self) -> Any:
        if self._producer is None:
            return compat.faust_aiokafka_producer(self._app)
        return self._producer

    async def _partitions_of(self, producer: Any, topic: str) -> list[int]:
        # Topics are declared with fixed partition counts (streams.topics); once per topic.
        found = self._partitions.get(topic)
        if found is None:
            found = self._partitions[topic] = sorted(await producer.partitions_for(topic))
        return found

    async def deliver(self, tables: dict[str, TableIO], result: BatchResult) -> None:
        """Produce outputs + changelogs, wait until durable, then write the stores."""
        while True:
            try:
                await self._produce(tables, result)
                return
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the broker refused or timed out: keep the batch
                self.counters["retries"] += 1
                log.warning(
                    "batch of %d outputs not delivered (%s: %s); retrying",
                    len(result.out) + len(result.writes), type(exc).__name__, exc,
                )  # fmt: skip
                await asyncio.sleep(self.RETRY_PAUSE)

    async def _produce(self, tables: dict[str, TableIO], result: BatchResult) -> None:
        producer = self.producer()
        builders: dict[tuple[str, int], Any] = {}
        queued: list[tuple[str, int, Any, int]] = []  # topic, partition, future, records
        partition_of = self._partitioner

        async def submit(topic: str, partition: int) -> None:
            batch = builders.pop((topic, partition))
            batch.close()  # complete: the sender takes it now instead of lingering
            fut = await producer.send_batch(batch, topic, partition=partition)
            queued.append((topic, partition, fut, batch.record_count()))
            self.counters["sends"] += 1

        async def add(
            topic: str, partition: int | None, key: bytes | None, value: bytes | None,
            headers: list[tuple[str, bytes]],
        ) -> None:  # fmt: skip
            if partition is None:
                parts = await self._partitions_of(producer, topic)
                partition = partition_of(key, parts, parts)
            slot = (topic, partition)
            batch = builders.get(slot)
            if batch is None:
                batch = builders[slot] = producer.create_batch()
            if batch.append(key=key, value=value, timestamp=None, headers=headers) is None:
                await submit(topic, partition)  # full: queue it, start the next one
                batch = builders[slot] = producer.create_batch()
                if batch.append(key=key, value=value, timestamp=None, headers=headers) is None:
                    raise ValueError(f"a record for {topic} is larger than a whole batch")

        # Outputs first, acknowledged, and only then the changelog records: a worker killed in
        # between must not leave state saying "done" for outputs that never reached the broker
        # (see ChangelogGate).
        for o in result.out:
            await add(o.topic, o.partition, o.key, o.value, o.headers)
        for slot in list(builders):
            await submit(*slot)
        metadata = list(await asyncio.gather(*(fut for _t, _p, fut, _n in queued)))
        outputs = len(queued)
        changelogs: dict[str, str] = {}
        for w in result.writes:
            name = changelogs.get(w.table)
            if name is None:
                name = changelogs[w.table] = tables[w.table].changelog_topic
            await add(name, w.partition, w.key, w.value, [])
        for slot in list(builders):
            await submit(*slot)
        if not queued:
            return
        metadata += await asyncio.gather(*(fut for _t, _p, fut, _n in queued[outputs:]))
        self.counters["batches"] += 1
        self.counters["records"] += len(result.out) + len(result.writes)
        last: dict[tuple[str, int], int] = {}
        for (topic, partition, _fut, count), meta in zip(queued, metadata, strict=True):
            last[(topic, partition)] = meta.offset + count - 1
        self._store(tables, result, changelogs, last)

    @staticmethod
    def _store(
        tables: dict[str, TableIO], result: BatchResult, changelogs: dict[str, str],
        last: dict[tuple[str, int], int],
    ) -> None:  # fmt: skip
        # After delivery: a crash before this line leaves the changelog ahead of the local
        # store, which recovery replays; never a store ahead of outputs nobody received.
        for w in result.writes:
            tables[w.table].put_local(w.partition, w.key, w.value)
        for table_name, topic in changelogs.items():
            table = tables[table_name]
            for (t, partition), offset in last.items():
                if t == topic:
                    table.persisted(partition, offset)


BATCHED_PRODUCE = False
"""Off until the stall is understood: with the produce awaited inside the agent, a rebalance
can run while a batch is in flight (the synchronous ``apply_result`` leaves it no gap), and
multi-worker drains and the SIGKILL test then saw partitions whose commits stopped (see
docs/benchmarks.md). ``BatchProducer`` itself is tested in tests/perf."""


def attach_batch_agent(
    app: Any,
    name: str,
    source: Any,
    processor: BatchProcessor,
    tables: dict[str, Any],
    max_batch: int,
    within: float,
    on_batch: Any = None,
    batched_produce: bool = BATCHED_PRODUCE,
) -> Any:
    """Register a ``concurrency=1`` agent that feeds ``source`` to ``processor`` in batches.

    Per batch: one decode pass and the core's work (``processor.process``), one store write
    per touched key, one batched produce of outputs and changelog records, awaited; only then
    does the agent return to ``take_events``, which acks the batch for Faust to commit."""
    io = {tname: TableIO(t) for tname, t in tables.items()}
    readers: dict[str, StateReader] = dict(io)
    producer = BatchProducer(app) if batched_produce else None

    async def agent(stream: Any) -> None:
        async for events in stream.take_events(max_batch, within=within):
            batch = [to_in_record(e) for e in events]
            result = processor.process(batch, readers)
            if producer is not None:
                await producer.deliver(io, result)
            else:
                apply_result(app, io, result)
            if on_batch is not None:
                on_batch(len(batch), result)

    agent.__name__ = name
    agent.__qualname__ = name
    return app.agent(source, name=name, concurrency=1)(agent)
