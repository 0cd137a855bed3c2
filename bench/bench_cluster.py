"""The three-broker cluster (replication 3, ``min.insync.replicas`` 2, acks=all) beside the
single broker, in the same run: raw produce, SDK publish and the complaint case agent.

The cluster is the one ``regbus broker up --nodes 3`` runs (ports 19292-19297): reused when it
is up, otherwise started here and stopped at the end. Each row names both numbers and their
ratio, so the price of replication is read on one line.

    regbus bench --only cluster
"""

from __future__ import annotations

import asyncio
import dataclasses
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import GroupCoordinatorNotAvailableError

from bench.workload import complaint_stream
from clients.publisher import PlatformPublisher
from devtools.broker.cluster import ClusterLauncher
from devtools.worker_process import WorkerProcess
from schemas.families import CaseFamily
from schemas.models import ComplaintAcknowledged
from streams.admin import ensure_topics
from streams.registry import add_platform
from streams.settings import Settings
from streams.topics import Catalogue

PLATFORM = "bench-cluster"
BATCH = 5000
CASE_EVENTS_CAP = 20_000
"""The case agent drains at a few thousand events/s: this many keep the run in minutes."""


@dataclasses.dataclass(frozen=True)
class Side:
    name: str
    settings: Settings


async def _raw_produce(settings: Settings, n: int) -> float:
    cat = Catalogue.from_settings(settings)
    spec = cat.by_name(cat.alerts)  # a 4-partition topic with the side's replication
    topic = dataclasses.replace(spec, name=f"{settings.topic_prefix}.bench-raw")
    await ensure_topics(settings.bootstrap, [topic])
    producer = AIOKafkaProducer(
        bootstrap_servers=settings.bootstrap, acks="all", enable_idempotence=True,
        linger_ms=5, max_batch_size=512 * 1024,
    )  # fmt: skip
    await producer.start()
    value = b"x" * 300
    try:
        start = time.perf_counter()
        futures = [
            await producer.send(topic.name, value, key=f"case-{i % 5000}".encode())
            for i in range(n)
        ]
        await asyncio.gather(*futures)
        return n / (time.perf_counter() - start)
    finally:
        await producer.stop()


async def _sdk_publish(settings: Settings, n: int) -> float:
    await add_platform(settings, PLATFORM)
    at = datetime.now(UTC) - timedelta(hours=1)
    events = [
        ComplaintAcknowledged(
            event_id=f"ack-{i}", case_id=f"C-{i % 5000}", platform_id=PLATFORM,
            occurred_at=at, handler_ref="agent-7",
        )
        for i in range(n)
    ]  # fmt: skip
    async with PlatformPublisher(PLATFORM, settings.bootstrap, prefix=settings.topic_prefix) as pub:
        start = time.perf_counter()
        for i in range(0, n, BATCH):
            report = await pub.publish_batch(events[i : i + BATCH])
            assert report.ok, report
        return n / (time.perf_counter() - start)


async def _fill_cases(settings: Settings, cat: Catalogue, n: int) -> int:
    await ensure_topics(settings.bootstrap, cat.specs())
    producer = AIOKafkaProducer(
        bootstrap_servers=settings.bootstrap, acks="all", enable_idempotence=True,
        linger_ms=5, max_batch_size=512 * 1024,
    )  # fmt: skip
    await producer.start()
    topic = cat.cases(CaseFamily.COMPLAINTS)
    try:
        futures = [
            await producer.send(topic, value, key=key, headers=headers, partition=partition)
            for key, value, headers, partition in complaint_stream(n, cat)
        ]
        await asyncio.gather(*futures)
        return len(futures)
    finally:
        await producer.stop()


async def _committed(bootstrap: str, group: str, topic: str) -> int:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        offsets = await admin.list_consumer_group_offsets(group)
    except GroupCoordinatorNotAvailableError:  # a fresh cluster: __consumer_offsets not yet
        return 0
    finally:
        await admin.close()
    return sum(m.offset for tp, m in offsets.items() if tp.topic == topic and m.offset > 0)


async def _case_agent(settings: Settings, n: int) -> float:
    """Records/s the worker's complaint agent commits through a pre-filled topic, from its
    first commit on (start-up excluded)."""
    cat = Catalogue.from_settings(settings)
    total = await _fill_cases(settings, cat, n)
    topic, group = cat.cases(CaseFamily.COMPLAINTS), f"{settings.topic_prefix}-bureau"
    worker = WorkerProcess(settings, settings.state_dir / "worker.log").start()
    try:
        first: tuple[float, int] | None = None
        deadline = time.monotonic() + 600
        while time.monotonic() < deadline:
            done = await _committed(settings.bootstrap, group, topic)
            now = time.perf_counter()
            if done and first is None:
                first = (now, done)
            if done >= total and first is not None:
                took = now - first[0]
                return (total - first[1]) / took if took > 0 else float("nan")
            if not worker.alive():
                raise RuntimeError(f"the worker died:\n{worker.log_tail()}")
            await asyncio.sleep(0.2)
        raise RuntimeError(f"{group} did not drain {topic} in 10 minutes")
    finally:
        worker.stop()


async def run(bootstrap: str, baseline, n: int):  # type: ignore[no-untyped-def]
    from bench.rows import Row

    env = Settings.from_env()
    cluster = ClusterLauncher(env)
    started = not (await asyncio.to_thread(cluster.status)).running
    await asyncio.to_thread(cluster.up, 180.0)
    try:
        state = Path(tempfile.mkdtemp(prefix="regbus-bench-cluster-"))
        tag = uuid.uuid4().hex[:8]
        sides = [
            Side("single broker (RF 1)", Settings(
                bootstrap=bootstrap, topic_prefix=f"bs{tag}", state_dir=state / "single",
                kafka_cache=env.kafka_cache,
            )),
            Side("3-broker cluster (RF 3, min ISR 2)", cluster.client_settings(Settings(
                topic_prefix=f"bc{tag}", state_dir=state / "cluster",
                kafka_cache=env.kafka_cache,
            ))),
        ]  # fmt: skip
        cases = min(n, CASE_EVENTS_CAP)
        measured: dict[str, list[float]] = {"raw": [], "sdk": [], "cases": []}
        for side in sides:  # same run, one after the other
            measured["raw"].append(await _raw_produce(side.settings, n))
            measured["sdk"].append(await _sdk_publish(side.settings, n))
            measured["cases"].append(await _case_agent(side.settings, cases))
    finally:
        if started:
            await asyncio.to_thread(cluster.down)
    labels = {
        "raw": (f"raw aiokafka produce, acks=all, {n:,} events", "idempotent, 4 partitions"),
        "sdk": (
            f"SDK publish_batch, acks=all, {n:,} events",
            f"batches of {BATCH}, validate + encode + send",
        ),
        "cases": (
            f"complaint case agent (Faust worker), {cases:,} events",
            "drain of a pre-filled topic, by committed offsets; changelog replicated alike",
        ),
    }
    rows = []
    for key, (label, note) in labels.items():
        single, replicated = measured[key]
        for side, rate in zip(sides, (single, replicated), strict=True):
            rows.append(Row(f"{label}: {side.name}", f"{rate:,.0f} ev/s", "", "", note))
        rows.append(Row(f"{label}: cluster / single", f"{replicated / single:.2f}×", "", "", ""))
    return rows
