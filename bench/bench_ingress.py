"""Ingress agent throughput against raw aiokafka consume, in the same run.

A platform's ingress topic is filled first; then a worker drains it (decode, anti-spoofing,
allowed types, dedup, routing to the case topic), timed by the ingress consumer's committed
offsets so that worker startup is not counted.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from tempfile import mkdtemp

from aiokafka import AIOKafkaProducer

from bench.baseline import drain_rate, start_worker, worker_warnings
from bench.bench_cases import peer_extra
from bench.bench_peers import ratio
from schemas.models import ComplaintAcknowledged
from streams.codec import EventCodec
from streams.registry import add_platform
from streams.settings import Settings

PLATFORM = "bench-in"


async def run(bootstrap: str, baseline, n: int):  # type: ignore[no-untyped-def]
    from bench.rows import Row

    prefix = f"ing{uuid.uuid4().hex[:8]}"
    settings = Settings(bootstrap=bootstrap, topic_prefix=prefix, state_dir=Path(mkdtemp()))
    cat = await add_platform(settings, PLATFORM)
    codec = EventCodec()
    at = datetime.now(UTC) - timedelta(hours=1)
    topic = cat.ingress(PLATFORM)
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=True,
                                linger_ms=5, max_batch_size=512 * 1024)  # fmt: skip
    await producer.start()
    try:
        futs = []
        for i in range(n):
            ev = ComplaintAcknowledged(
                event_id=f"a-{i}",
                case_id=f"C-{i % 5000}",
                platform_id=PLATFORM,
                occurred_at=at,
                handler_ref=None,
            )
            key, value, headers = codec.encode(ev, f"/platforms/{PLATFORM}")
            futs.append(await producer.send(topic, value, key=key, headers=headers))
        await asyncio.gather(*futs)
    finally:
        await producer.stop()
    worker = start_worker(bootstrap, prefix, str(settings.state_dir))
    try:
        rate = await drain_rate(bootstrap, f"{prefix}-bureau", topic, n)
    finally:
        worker.terminate()
        worker.wait(timeout=60)
    raw = baseline.consume.per_second
    count, common = worker_warnings(str(settings.state_dir))
    warnings = f"{count}" + (f" ({common})" if common else "")
    return [
        Row("ingress agent (1 worker, all agents running, RocksDB)", f"{rate:,.0f} ev/s",
            ratio(rate, raw), "≥ 0.15× limit", f"drain of {n:,} records pre-filled",
            peer_extra(rate, baseline.peers, warnings)),
    ]  # fmt: skip
