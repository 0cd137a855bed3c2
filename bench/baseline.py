"""Raw aiokafka produce and consume rates on the local broker: the baseline for every ratio.

Every other benchmark runs in the same process right after this one and reports
``its rate / baseline rate``, so machine load and broker state affect both sides alike.
"""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
import time
import uuid
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic


@dataclass(frozen=True)
class Rate:
    name: str
    count: int
    seconds: float

    @property
    def per_second(self) -> float:
        return self.count / self.seconds if self.seconds else 0.0


def payload(size: int = 300) -> bytes:
    """About the size of an encoded event with its CloudEvents headers."""
    return os.urandom(size)


async def make_topic(bootstrap: str, partitions: int = 4) -> str:
    name = f"bench-{uuid.uuid4().hex[:10]}"
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(name, partitions, 1)])
    finally:
        await admin.close()
    return name


async def raw_produce(bootstrap: str, topic: str, n: int, size: int = 300) -> Rate:
    """acks=all + idempotence (what our SDK uses), all sends queued, then one gather."""
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap,
        acks="all",
        enable_idempotence=True,
        linger_ms=5,
        max_batch_size=512 * 1024,
    )
    await producer.start()
    value = payload(size)
    keys = [f"case-{i % 5000}".encode() for i in range(n)]
    try:
        start = time.perf_counter()
        futures = [await producer.send(topic, value, key=keys[i]) for i in range(n)]
        await asyncio.gather(*futures)
        took = time.perf_counter() - start
    finally:
        await producer.stop()
    return Rate("raw aiokafka produce", n, took)


async def raw_produce_batches(bootstrap: str, topic: str, n: int, size: int = 300) -> Rate:
    """The same records through aiokafka's batch API (create_batch / send_batch, one closed
    batch per partition when full): the fastest way aiokafka produces, which the SDK uses."""
    from aiokafka.partitioner import DefaultPartitioner

    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all",
                                enable_idempotence=True, linger_ms=5,
                                max_batch_size=512 * 1024)  # fmt: skip
    await producer.start()
    value = payload(size)
    keys = [f"case-{i % 5000}".encode() for i in range(n)]
    partitioner = DefaultPartitioner()
    try:
        parts = sorted(await producer.partitions_for(topic))
        start = time.perf_counter()
        builders: dict[int, object] = {}
        futures = []
        for key in keys:
            p = partitioner(key, parts, parts)
            batch = builders.get(p) or builders.setdefault(p, producer.create_batch())
            if batch.append(key=key, value=value, timestamp=None) is None:  # type: ignore[attr-defined]
                futures.append(await producer.send_batch(batch, topic, partition=p))
                batch = builders[p] = producer.create_batch()
                batch.append(key=key, value=value, timestamp=None)
        for p, batch in builders.items():
            batch.close()  # type: ignore[attr-defined]
            futures.append(await producer.send_batch(batch, topic, partition=p))
        await asyncio.gather(*futures)
        took = time.perf_counter() - start
    finally:
        await producer.stop()
    return Rate("raw aiokafka produce, batch API", n, took)


async def raw_consume(bootstrap: str, topic: str, n: int) -> Rate:
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        group_id=None,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        max_poll_records=2000,
    )
    await consumer.start()
    seen = 0
    try:
        start = time.perf_counter()
        while seen < n:
            batch = await consumer.getmany(timeout_ms=1000, max_records=2000)
            seen += sum(len(v) for v in batch.values())
        took = time.perf_counter() - start
    finally:
        await consumer.stop()
    return Rate("raw aiokafka consume", seen, took)


def start_worker(
    bootstrap: str, prefix: str, state_dir: str, store: str = "rocksdb://",
    case_partitions: int | None = None,
) -> subprocess.Popen[bytes]:  # fmt: skip
    """A real ``regbus worker`` on ``prefix``'s topics, time from ticks only, no HTTP, on the
    production store (RocksDB). Its log (warnings and up) goes to :func:`worker_log`."""
    env = dict(os.environ, REGBUS_BOOTSTRAP=bootstrap, REGBUS_TOPIC_PREFIX=prefix,
               REGBUS_STATE_DIR=state_dir)  # fmt: skip
    args = [sys.executable, "-m", "regbus", "worker", "--clock", "external", "--store", store,
            "--no-web", "--loglevel", "warning"]  # fmt: skip
    if case_partitions:
        args += ["--case-partitions", str(case_partitions)]
    log = worker_log(state_dir).open("ab")
    return subprocess.Popen(args, env=env, stdout=log, stderr=subprocess.STDOUT)


def worker_log(state_dir: str) -> Path:
    path = Path(state_dir)
    path.mkdir(parents=True, exist_ok=True)
    return path / "worker.log"


_LEVEL = re.compile(r"\[(WARNING|ERROR|CRITICAL)\]\s*(.*)")


def worker_warnings(*state_dirs: str) -> tuple[int, str]:
    """How many warnings (and worse) the workers logged, and the commonest two, shortened."""
    kinds: Counter[str] = Counter()
    for state_dir in state_dirs:
        path = worker_log(state_dir)
        if not path.exists():
            continue
        for line in path.read_text(errors="replace").splitlines():
            m = _LEVEL.search(line)
            if m:
                kinds[re.sub(r"\d+", "N", m.group(2))[:60]] += 1
    total = sum(kinds.values())
    common = "; ".join(f"{c}× “{k}”" for k, c in kinds.most_common(2))
    return total, common


async def committed(bootstrap: str, group: str, topic: str) -> int:
    """Records of ``topic`` that ``group`` has committed, summed over partitions."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        offsets = await admin.list_consumer_group_offsets(group)
    finally:
        await admin.close()
    return sum(meta.offset for tp, meta in offsets.items() if tp.topic == topic and meta.offset > 0)


async def drain_rate(
    bootstrap: str, group: str, topic: str, total: int, within: float = 600.0
) -> float:
    """Records/s at which ``group`` commits its way through ``total`` records of ``topic``,
    from its first commit on (so the worker's startup is not counted)."""
    first_at, first_done = None, 0
    deadline = time.monotonic() + within
    done = 0
    while time.monotonic() < deadline:
        done = await committed(bootstrap, group, topic)
        now = time.perf_counter()
        if done and first_at is None:
            first_at, first_done = now, done
        if done >= total:
            assert first_at is not None
            took = now - first_at
            return (total - first_done) / took if took > 0 else float("nan")
        await asyncio.sleep(0.2)
    raise RuntimeError(f"{group} committed {done:,} of {total:,} of {topic} in {within:.0f} s")
