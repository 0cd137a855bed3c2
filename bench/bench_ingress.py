"""Ingress agent throughput against raw aiokafka consume, in the same run.

A platform's ingress topic is filled first; then a worker drains it (decode, anti-spoofing,
allowed types, dedup, routing to the case topic), timed by the ingress consumer's committed
offsets so that worker startup is not counted.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from tempfile import mkdtemp

from aiokafka import AIOKafkaProducer

from bench.bench_cases import committed
from regbus.config import Settings
from schemas.models import ComplaintAcknowledged
from streams.codec import EventCodec
from streams.registry import add_platform

PLATFORM = "bench-in"


async def run(bootstrap: str, baseline, n: int):  # type: ignore[no-untyped-def]
    from bench.run import Row

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
    env = dict(os.environ, REGBUS_BOOTSTRAP=bootstrap, REGBUS_TOPIC_PREFIX=prefix,
               REGBUS_STATE_DIR=str(settings.state_dir))  # fmt: skip
    worker = subprocess.Popen(
        [sys.executable, "-m", "regbus", "worker", "--clock", "external", "--store",
         "memory://", "--no-web"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        group = f"{prefix}-bureau"
        first_at, first_done = None, 0
        deadline = time.monotonic() + 600
        while time.monotonic() < deadline:
            done = await committed(bootstrap, group, topic, cat.case_partitions)
            now = time.perf_counter()
            if done and first_at is None:
                first_at, first_done = now, done
            if done >= n:
                break
            await asyncio.sleep(0.2)
        else:
            raise RuntimeError("the worker did not drain the ingress topic in 10 minutes")
        assert first_at is not None
        took = time.perf_counter() - first_at
        rate = (n - first_done) / took if took > 0 else float("nan")
    finally:
        worker.terminate()
        worker.wait(timeout=60)
    raw = baseline.consume.per_second
    return [
        Row("ingress agent (Faust worker, all agents running)", f"{rate:,.0f} ev/s",
            f"{rate / raw:.3f}", "≥ 0.5", "drain of a pre-filled ingress topic"),
    ]  # fmt: skip
