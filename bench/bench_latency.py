"""p99 publish → alert latency through ingress and the case agent, at half of peak load.

1. Peak: a platform publishes a burst of refund requests; peak is the rate at which the
   worker turns them into SLA clock records (ingress → case agent → ``sla`` topic).
2. Latency: at half that rate, background requests keep the pipeline busy while probe
   cases pay before approval; each probe's ``LifecycleViolationDetected`` is timed from the
   moment the SDK handed the payment to the producer to the moment a regulator-side
   consumer received the alert.
"""

from __future__ import annotations

import asyncio
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from bench.baseline import start_worker
from bench.bench_peers import ratio
from schemas.models import LifecycleViolationDetected, RefundPaid, RefundRequested
from streams.codec import EventCodec
from streams.registry import add_platform
from streams.settings import Settings

PLATFORM = "bench-p"
SOURCE = f"/platforms/{PLATFORM}"


def _request(case: str, at: datetime) -> RefundRequested:
    return RefundRequested(
        event_id=f"{case}-q", case_id=case, platform_id=PLATFORM, occurred_at=at,
        order_ref="o", amount_fen=1000, reason="r",
    )  # fmt: skip


def _paid(case: str, at: datetime) -> RefundPaid:
    return RefundPaid(
        event_id=f"{case}-p", case_id=case, platform_id=PLATFORM, occurred_at=at,
        amount_fen=1000, channel="c", payment_ref="x",
    )  # fmt: skip


async def _consume_until(consumer: AIOKafkaConsumer, want: int, timeout: float) -> float:
    seen = 0
    deadline = time.monotonic() + timeout
    while seen < want and time.monotonic() < deadline:
        batch = await consumer.getmany(timeout_ms=200)
        seen += sum(len(v) for v in batch.values())
    if seen < want:
        raise RuntimeError(f"only {seen}/{want} records within {timeout:.0f}s")
    return time.perf_counter()


async def run(bootstrap: str, baseline, n: int):  # type: ignore[no-untyped-def]
    from bench.rows import Row

    prefix = f"lat{uuid.uuid4().hex[:8]}"
    settings = Settings(bootstrap=bootstrap, topic_prefix=prefix,
                        state_dir=Path(tempfile.mkdtemp(prefix="regbus-lat-")))  # fmt: skip
    cat = await add_platform(settings, PLATFORM)
    from streams.admin import ensure_topics

    await ensure_topics(bootstrap, cat.specs())
    worker = start_worker(bootstrap, prefix, str(settings.state_dir))
    codec = EventCodec()
    now = datetime.now(UTC) - timedelta(hours=1)
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all",
                                enable_idempotence=True, linger_ms=1)  # fmt: skip
    sla = AIOKafkaConsumer(cat.sla, bootstrap_servers=bootstrap, group_id=None,
                           auto_offset_reset="earliest")  # fmt: skip
    alerts = AIOKafkaConsumer(cat.alerts, bootstrap_servers=bootstrap, group_id=None,
                              auto_offset_reset="latest")  # fmt: skip
    await producer.start()
    await sla.start()
    try:
        ingress = cat.ingress(PLATFORM)

        async def send(event):  # type: ignore[no-untyped-def]
            key, value, headers = codec.encode(event, SOURCE)
            return await producer.send(ingress, value, key=key, headers=headers)

        # warm-up: the worker is up and has partitions once one request comes out as a clock
        await (await send(_request("WARM", now)))
        await _consume_until(sla, 1, 120)
        # 1. peak
        burst = min(n, 20_000)
        t0 = time.perf_counter()
        futs = [await send(_request(f"PK-{i}", now)) for i in range(burst)]
        await asyncio.gather(*futs)
        t1 = await _consume_until(sla, burst, 300)
        peak = burst / (t1 - t0)
        # 2. latency at half of peak
        await alerts.start()
        await alerts.seek_to_end()
        rate = peak / 2
        probes = 400
        per_probe = 10  # background requests between probes
        sent_at: dict[str, float] = {}
        interval = (per_probe + 1) / rate
        start = time.perf_counter()
        received: dict[str, float] = {}

        async def listen() -> None:
            while len(received) < probes:
                batch = await alerts.getmany(timeout_ms=200)
                stamp = time.perf_counter()
                for records in batch.values():
                    for rec in records:
                        ev = codec.decode(rec.value)
                        if isinstance(ev, LifecycleViolationDetected):
                            received.setdefault(ev.case_id, stamp)

        listener = asyncio.create_task(listen())
        for i in range(probes):
            case = f"LP-{i}"
            await send(_request(case, now))
            for j in range(per_probe):
                await send(_request(f"BG-{i}-{j}", now))
            sent_at[case] = time.perf_counter()
            await send(_paid(case, now + timedelta(minutes=1)))
            wait = start + (i + 1) * interval - time.perf_counter()
            if wait > 0:
                await asyncio.sleep(wait)
        await asyncio.wait_for(listener, 120)
        lat = sorted((received[c] - sent_at[c]) * 1000 for c in sent_at)
        p50, p99 = lat[len(lat) // 2], lat[int(len(lat) * 0.99) - 1]
    finally:
        await producer.stop()
        await sla.stop()
        await alerts.stop()
        worker.terminate()
        worker.wait(timeout=60)
    return [
        Row("pipeline peak (ingress → case agent)", f"{peak:,.0f} ev/s",
            ratio(peak, baseline.consume.per_second), "", "burst of refund requests"),
        Row("publish → alert latency at half peak", f"p50 {p50:.0f} ms, p99 {p99:.0f} ms", "",
            "p99 ≤ 100 ms", f"{probes} probes at {rate:,.0f} ev/s"),
    ]  # fmt: skip
