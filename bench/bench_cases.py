"""Case agents: throughput of the complaint agent against raw aiokafka consume.

Two rows: the processor alone (records already in memory, no Kafka: the ceiling Python
allows), and the real Faust worker draining a pre-filled topic, timed by its committed
offsets (startup excluded).
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.structs import TopicPartition

from agents.batching import InRecord
from agents.cases import CASES_TABLE, CaseProcessor
from agents.core import default_context
from bench.workload import complaint_stream
from streams.admin import ensure_topics
from streams.topics import CaseFamily, Catalogue


class DictStore(dict):  # type: ignore[type-arg]
    def items(self):  # type: ignore[no-untyped-def, override]
        return super().items()


def processor_rate(n: int) -> tuple[float, dict[str, int]]:
    cat = Catalogue("bench")
    records = [
        InRecord(cat.cases(CaseFamily.COMPLAINTS), p or 0, i, k, v, h, 0)
        for i, (k, v, h, p) in enumerate(complaint_stream(n, cat))
    ]
    proc = CaseProcessor(CaseFamily.COMPLAINTS, cat, default_context())
    store = DictStore()
    start = time.perf_counter()
    for i in range(0, len(records), 1000):
        result = proc.process(records[i : i + 1000], {CASES_TABLE: store})
        for w in result.writes:
            store[w.key] = w.value
    took = time.perf_counter() - start
    return len(records) / took, proc.counters


async def fill_topic(bootstrap: str, cat: Catalogue, n: int) -> int:
    await ensure_topics(bootstrap, cat.specs())
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap, acks="all", enable_idempotence=True, linger_ms=5,
        max_batch_size=512 * 1024,
    )  # fmt: skip
    await producer.start()
    topic = cat.cases(CaseFamily.COMPLAINTS)
    sent = 0
    try:
        futures = []
        for key, value, headers, partition in complaint_stream(n, cat):
            futures.append(
                await producer.send(topic, value, key=key, headers=headers, partition=partition)
            )
            sent += 1
        await asyncio.gather(*futures)
    finally:
        await producer.stop()
    return sent


async def committed(bootstrap: str, group: str, topic: str, partitions: int) -> int:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        offsets = await admin.list_consumer_group_offsets(group)
    finally:
        await admin.close()
    return sum(
        meta.offset
        for tp, meta in offsets.items()
        if tp.topic == topic and tp.partition < partitions and meta.offset > 0
    )


async def worker_rate(bootstrap: str, n: int) -> float:
    prefix = f"bench{uuid.uuid4().hex[:8]}"
    cat = Catalogue(prefix)
    total = await fill_topic(bootstrap, cat, n)
    topic = cat.cases(CaseFamily.COMPLAINTS)
    state = Path(tempfile.mkdtemp(prefix="regbus-bench-"))
    env = dict(os.environ, REGBUS_BOOTSTRAP=bootstrap, REGBUS_TOPIC_PREFIX=prefix,
               REGBUS_STATE_DIR=str(state))  # fmt: skip
    proc = subprocess.Popen(
        [sys.executable, "-m", "regbus", "worker", "--clock", "external", "--store",
         "memory://", "--no-web"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        group = f"{prefix}-bureau"
        first_at = None
        first_done = 0
        deadline = time.monotonic() + 600
        while time.monotonic() < deadline:
            done = await committed(bootstrap, group, topic, cat.case_partitions)
            now = time.perf_counter()
            if done and first_at is None:
                first_at, first_done = now, done
            if done >= total:
                break
            await asyncio.sleep(0.2)
        else:
            raise RuntimeError("worker did not drain the topic in 10 minutes")
        assert first_at is not None
        took = time.perf_counter() - first_at
        return (total - first_done) / took if took > 0 else float("nan")
    finally:
        proc.terminate()
        proc.wait(timeout=60)
    _ = TopicPartition


async def run(bootstrap: str, baseline, n: int):  # type: ignore[no-untyped-def]
    from bench.run import Row

    raw = baseline.consume.per_second
    alone, _counters = processor_rate(min(n, 100_000))
    worker = await worker_rate(bootstrap, n)
    return [
        Row("case processor alone (no Kafka)", f"{alone:,.0f} ev/s", f"{alone / raw:.2f}",
            "", "CaseProcessor.process on in-memory records"),
        Row("complaint case agent (Faust worker)", f"{worker:,.0f} ev/s", f"{worker / raw:.2f}",
            "≥ 0.5", "drain of a pre-filled topic, by committed offsets"),
    ]  # fmt: skip
