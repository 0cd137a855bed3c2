"""The case agents' batch path: per batch, one produce per topic partition and no per-record
await, log record or changelog send; commits wait for durable outputs.

The fake producer counts what the hot path asks of aiokafka; a logging handler on the root
logger at DEBUG counts every ``LogRecord`` built while a batch of 2,000 records goes through
the case processor and the batched produce.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.partitioner import DefaultPartitioner

from agents.batching import BatchProducer, TableIO
from agents.cases import CASES_TABLE, CaseProcessor
from agents.core import default_context
from bench.workload import complaint_stream
from schemas.families import CaseFamily
from streams.records import BatchResult, InRecord, OutRecord, StateWrite
from streams.topics import Catalogue


class _Meta:
    def __init__(self, offset: int) -> None:
        self.offset = offset


class _Batch:
    def __init__(self, limit: int) -> None:
        self.records: list[tuple[Any, Any, Any]] = []
        self.limit = limit
        self.closed = False

    def append(self, *, key: Any, value: Any, timestamp: Any, headers: Any) -> object | None:
        if self.closed or len(self.records) >= self.limit:
            self.closed = True
            return None
        self.records.append((key, value, headers))
        return object()

    def close(self) -> None:
        self.closed = True

    def record_count(self) -> int:
        return len(self.records)


class FakeProducer:
    """aiokafka's batch API, counted; ``fail_first`` deliveries fail."""

    def __init__(self, partitions: int = 4, batch_limit: int = 10_000, fail_first: int = 0):
        self.partitions = partitions
        self.batch_limit = batch_limit
        self.fail_first = fail_first
        self.created = 0
        self.sent: list[tuple[str, int, _Batch]] = []
        self.single_sends = 0
        self.next_offset: dict[tuple[str, int], int] = {}

    async def partitions_for(self, topic: str) -> set[int]:
        return set(range(self.partitions))

    def create_batch(self) -> _Batch:
        self.created += 1
        return _Batch(self.batch_limit)

    async def send_batch(self, batch: _Batch, topic: str, *, partition: int) -> asyncio.Future:
        fut: asyncio.Future = asyncio.get_running_loop().create_future()
        if self.fail_first:
            self.fail_first -= 1
            fut.set_exception(RuntimeError("broker said no"))
            return fut
        self.sent.append((topic, partition, batch))
        base = self.next_offset.get((topic, partition), 0)
        self.next_offset[(topic, partition)] = base + batch.record_count()
        fut.set_result(_Meta(base))
        return fut

    async def send(self, *a: Any, **kw: Any) -> None:  # the per-record path: must stay unused
        self.single_sends += 1
        raise AssertionError("per-record send on the batch path")


class _Store:
    def __init__(self) -> None:
        self.data: dict[bytes, bytes] = {}
        self.persisted: list[tuple[Any, int]] = []

    def set_persisted_offset(self, tp: Any, offset: int) -> None:
        self.persisted.append((tp, offset))


class _ChangelogTopic:
    def __init__(self, name: str) -> None:
        self.name = name

    def get_topic_name(self) -> str:
        return self.name


class FakeTable:
    def __init__(self, name: str) -> None:
        self.data = _Store()
        self.changelog_topic = _ChangelogTopic(f"{name}-changelog")

    def send_changelog(self, *a: Any, **kw: Any) -> None:  # Faust's per-record changelog path
        raise AssertionError("per-record send_changelog on the batch path")


class CountingHandler(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture
def log_records() -> Iterator[CountingHandler]:
    """Every LogRecord built anywhere while the test runs (root logger at DEBUG)."""
    root = logging.getLogger()
    handler = CountingHandler()
    old = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        yield handler
    finally:
        root.removeHandler(handler)
        root.setLevel(old)


def _result(outputs: int, writes: int) -> BatchResult:
    result = BatchResult()
    for i in range(outputs):
        topic = "alerts" if i % 3 == 0 else "sla"
        result.out.append(OutRecord(topic, f"case-{i % 97}".encode(), b"v%d" % i, [("h", b"x")]))
    for i in range(writes):
        result.writes.append(StateWrite(CASES_TABLE, i % 4, f"case-{i}".encode(), b"s%d" % i))
    return result


async def test_one_send_per_topic_partition_and_no_log_record(
    log_records: CountingHandler,
) -> None:
    producer = FakeProducer(partitions=4)
    table = FakeTable("cases")
    tables = {CASES_TABLE: TableIO(table)}
    result = _result(outputs=3000, writes=800)
    log_records.records.clear()
    await BatchProducer(app=None, producer=producer).deliver(tables, result)

    # 2 output topics × 4 partitions + 4 changelog partitions: 12 sends for 3,800 records
    assert len(producer.sent) == 12, [(t, p) for t, p, _ in producer.sent]
    assert producer.created == 12 and producer.single_sends == 0
    assert sum(b.record_count() for _t, _p, b in producer.sent) == 3800
    assert log_records.records == [], [r.getMessage() for r in log_records.records[:5]]
    # partitioned by key exactly as aiokafka's default partitioner (Faust's send) would
    part = DefaultPartitioner()
    for topic, partition, batch in producer.sent:
        if topic != "cases-changelog":
            assert {part(k, [0, 1, 2, 3], [0, 1, 2, 3]) for k, _v, _h in batch.records} == {
                partition
            }
    # the stores are written after delivery, and RocksDB's offset is set once per partition
    assert len(table.data.data) == 800
    assert sorted((tp.partition, off) for tp, off in table.data.persisted) == [
        (0, 199), (1, 199), (2, 199), (3, 199),
    ]  # fmt: skip


async def test_a_full_batch_is_queued_and_the_next_one_started() -> None:
    producer = FakeProducer(partitions=1, batch_limit=100)
    await BatchProducer(None, producer).deliver({CASES_TABLE: TableIO(FakeTable("c"))},
                                                _result(outputs=250, writes=0))  # fmt: skip
    sizes = sorted(b.record_count() for _t, _p, b in producer.sent)
    assert sizes == [66, 84, 100]  # sla: 100 then 66, alerts: 84


async def test_a_failed_delivery_is_retried_and_the_store_waits_for_it() -> None:
    BatchProducer.RETRY_PAUSE = 0.01
    producer = FakeProducer(partitions=2, fail_first=1)
    table = FakeTable("cases")
    sender = BatchProducer(None, producer)
    await sender.deliver({CASES_TABLE: TableIO(table)}, _result(outputs=10, writes=5))
    assert sender.counters["retries"] == 1
    assert len(table.data.data) == 5
    delivered = sum(b.record_count() for _t, _p, b in producer.sent)
    assert delivered >= 15  # the whole batch again (idempotent effects), nothing skipped


async def test_case_processor_and_produce_build_no_log_record_per_event(
    log_records: CountingHandler,
) -> None:
    """A 2,000-record batch of complaint traffic through the real processor and the batched
    produce: no LogRecord at all, one send per topic partition."""
    cat = Catalogue("perf")
    records = [
        InRecord(cat.cases(CaseFamily.COMPLAINTS), p if p is not None else i % 4, i, k, v, h, 0)
        for i, (k, v, h, p) in enumerate(complaint_stream(2000, cat))
    ]
    proc = CaseProcessor(CaseFamily.COMPLAINTS, cat, default_context())
    table = FakeTable("cases")
    io = TableIO(table)
    proc.process(records[:10], {CASES_TABLE: io})  # warm-up: the index of each partition
    producer = FakeProducer(partitions=4)
    log_records.records.clear()
    result = proc.process(records[10:], {CASES_TABLE: io})
    await BatchProducer(None, producer).deliver({CASES_TABLE: io}, result)
    assert len(result.out) > 1000 and len(result.writes) > 100
    assert log_records.records == [], [r.getMessage() for r in log_records.records[:5]]
    topics = {t for t, _p, _b in producer.sent}
    assert len(producer.sent) <= 4 * len(topics)


def test_the_worker_leaves_the_root_logger_at_its_level() -> None:
    """Faust's spinner set the root logger to DEBUG: a LogRecord per send, never printed."""
    import faust

    from regbus.cli.worker import make_faust_worker

    app = faust.App(f"perf-{uuid.uuid4().hex[:8]}", broker="kafka://127.0.0.1:1",
                    store="memory://", web_enabled=False)  # fmt: skip
    root = logging.getLogger()
    old_level, old_handlers = root.level, list(root.handlers)
    try:
        root.handlers[:] = [logging.NullHandler()]
        root.setLevel(logging.WARNING)
        worker = make_faust_worker(app, "warning")
        worker.on_setup_root_logger(root, logging.WARNING)
        assert root.level == logging.WARNING
        assert not logging.getLogger("faust.topics").isEnabledFor(logging.DEBUG)
    finally:
        root.handlers[:] = old_handlers
        root.setLevel(old_level)


async def test_batched_produce_on_the_real_broker(bootstrap: str) -> None:
    """Keys land where the default partitioner puts them, headers and order kept, and the
    futures awaited by ``deliver`` are the broker's acknowledgements."""
    from aiokafka.admin import AIOKafkaAdminClient, NewTopic

    topic = f"perf-{uuid.uuid4().hex}"
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(topic, 3, 1)])
    finally:
        await admin.close()
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=True)
    await producer.start()
    result = BatchResult()
    for i in range(300):
        result.out.append(OutRecord(topic, f"k{i % 11}".encode(), b"%d" % i, [("n", b"%d" % i)]))
    try:
        await BatchProducer(None, producer).deliver({}, result)
    finally:
        await producer.stop()
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest",
                                group_id=None)  # fmt: skip
    await consumer.start()
    got: list[Any] = []
    try:
        async with asyncio.timeout(30):
            while len(got) < 300:
                batch = await consumer.getmany(timeout_ms=1000)
                for recs in batch.values():
                    got.extend(recs)
    finally:
        await consumer.stop()
    part = DefaultPartitioner()
    for rec in got:
        assert rec.partition == part(rec.key, [0, 1, 2], [0, 1, 2])
        assert rec.headers == (("n", rec.value),)
    per_key: dict[bytes, list[int]] = {}
    for rec in sorted(got, key=lambda r: (r.partition, r.offset)):
        per_key.setdefault(rec.key, []).append(int(rec.value))
    assert all(v == sorted(v) for v in per_key.values())
