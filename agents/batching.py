"""Plain-data records between Faust and the processors, and the batch agent glue.

Processors (ingress, case families) see only :class:`InRecord` lists and return a
:class:`BatchResult`; they import nothing from Faust, so the same code runs under the worker,
in benchmarks and in the replay. The glue here applies a result the cheap way: state writes go
to the table's store and, once per key per batch, to its changelog; outputs are queued with
``send_soon`` (no per-record await). Faust flushes the producer before it commits offsets, so
a crash replays the uncommitted batch instead of losing its effects (at-least-once).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from streams import compat
from streams.records import (
    BatchProcessor,
    BatchResult,
    InRecord,
    StateReader,
)

log = logging.getLogger(__name__)


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
        """Write the store and queue the changelog record for ``partition``."""
        self.put_local(partition, key, value)
        self.table.send_changelog(partition, key, value)


def apply_result(app: Any, tables: dict[str, TableIO], result: BatchResult) -> None:
    """Write state (store + one changelog record per key) and queue outputs, no awaits."""
    for w in result.writes:
        tables[w.table].put(w.partition, w.key, w.value)
    topics: dict[str, Any] = {}
    for o in result.out:
        topic = topics.get(o.topic)
        if topic is None:
            topic = topics[o.topic] = app.topic(
                o.topic, key_serializer="raw", value_serializer="raw"
            )
        topic.send_soon(key=o.key, value=o.value, partition=o.partition, headers=o.headers)


def attach_batch_agent(
    app: Any,
    name: str,
    source: Any,
    processor: BatchProcessor,
    tables: dict[str, Any],
    max_batch: int,
    within: float,
    on_batch: Any = None,
) -> Any:
    """Register a ``concurrency=1`` agent that feeds ``source`` to ``processor`` in batches."""
    io = {tname: TableIO(t) for tname, t in tables.items()}
    readers: dict[str, StateReader] = dict(io)

    async def agent(stream: Any) -> None:
        async for events in stream.take_events(max_batch, within=within):
            batch = [to_in_record(e) for e in events]
            result = processor.process(batch, readers)
            apply_result(app, io, result)
            if on_batch is not None:
                on_batch(len(batch), result)

    agent.__name__ = name
    agent.__qualname__ = name
    return app.agent(source, name=name, concurrency=1)(agent)
