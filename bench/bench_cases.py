"""Case agents: throughput of the complaint agent against raw aiokafka consume.

Two rows: the processor alone (records already in memory, no Kafka: the ceiling Python
allows), and the real Faust worker draining a pre-filled topic, timed by its committed
offsets (startup excluded).
"""

from __future__ import annotations

import asyncio
import tempfile
import time
import uuid

from aiokafka import AIOKafkaProducer

from agents.cases import CASES_TABLE, CaseProcessor
from agents.core import default_context
from bench.baseline import drain_rate, start_worker
from bench.workload import complaint_stream
from schemas.families import CaseFamily
from streams.admin import ensure_topics
from streams.records import InRecord
from streams.topics import Catalogue


class DictStore(dict):  # type: ignore[type-arg]
    def items(self):  # type: ignore[no-untyped-def]
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


async def worker_rate(bootstrap: str, n: int) -> float:
    prefix = f"bench{uuid.uuid4().hex[:8]}"
    cat = Catalogue(prefix)
    total = await fill_topic(bootstrap, cat, n)
    proc = start_worker(bootstrap, prefix, tempfile.mkdtemp(prefix="regbus-bench-"))
    try:
        return await drain_rate(
            bootstrap, f"{prefix}-bureau", cat.cases(CaseFamily.COMPLAINTS), total
        )
    finally:
        proc.terminate()
        proc.wait(timeout=60)


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
