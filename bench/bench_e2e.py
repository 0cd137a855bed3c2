"""End to end: simulated platform and bureau traffic through ingress, case agents and alerts.

A seeded simulation (``devtools.simulator``) is published to a fresh prefix with a real
``regbus worker --clock external`` subprocess, exactly as ``regbus demo --fast`` does it, and
timed from the first record sent until the alerts topic holds every alert the simulator
predicted. The rate is records the platforms and the bureau sent per second of that time,
as a ratio to the raw aiokafka produce baseline.

Ticks come once per simulated day here (the demo ticks hourly): the publisher waits for
ingress to route each slice before its tick (docs/demo.md), and with hourly ticks that round
trip, not the system's throughput, would be what this measures.
"""

from __future__ import annotations

import asyncio
import contextlib
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from devtools.simulator import ExpectedAlert, SimConfig, Simulation
from devtools.simulator.publish import prepare, publish_simulation
from devtools.simulator.watch import SystemWatch
from devtools.worker_process import WorkerProcess
from streams.settings import Settings

DAYS = 10
MAX_RECORDS = 20_000
"""The worker is one Python process; more records only make the run longer, not the rate
more accurate."""
SENDS_PER_DAY_AT_SCALE_1 = 175.0
"""About what a default roster sends per simulated day at scale 1 (measured)."""


async def measure(bootstrap: str, n: int) -> dict[str, Any]:
    scale = max(0.2, min(n, MAX_RECORDS) / (SENDS_PER_DAY_AT_SCALE_1 * DAYS))
    cfg = SimConfig(days=DAYS, scale=scale, tick_minutes=1440)
    with tempfile.TemporaryDirectory(prefix="regbus-bench-e2e-") as tmp:
        settings = Settings(
            bootstrap=bootstrap,
            topic_prefix=f"bench-e2e-{uuid.uuid4().hex[:8]}",
            state_dir=Path(tmp),
        )
        catalogue = await prepare(settings, cfg)
        worker = WorkerProcess(settings, Path(tmp) / "worker.log").start()
        expected: list[ExpectedAlert] = []
        sim = Simulation(cfg, sink=expected.append)
        watch = SystemWatch(bootstrap, catalogue, keep=False)
        watching = asyncio.create_task(watch.run())
        try:
            await _worker_ready(worker)
            started = time.monotonic()
            stats = await publish_simulation(settings, sim, cfg)
            published = time.monotonic()
            predicted = len(expected)
            dead = sum(sim.outcome.dead_letters.values())
            settled = await watch.wait_for(predicted, dead, timeout=300, quiet=0.5)
            took = (watch.last_record if settled else time.monotonic()) - started
        finally:
            watching.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watching
            worker.stop()
    return {
        "sent": stats.sent,
        "routed": stats.routed,
        "ticks": stats.ticks,
        "alerts": watch.alert_count,
        "predicted": predicted,
        "seconds": took,
        "publish_seconds": published - started,
        "waiting": stats.waiting,
        "settled": settled,
        "scale": scale,
    }


async def _worker_ready(worker: WorkerProcess, timeout: float = 120.0) -> None:
    """Wait for the worker's "Ready" log line: start-up is not throughput."""
    deadline = time.monotonic() + timeout
    while "Ready" not in worker.log_tail(400):
        if not worker.alive() or time.monotonic() > deadline:
            raise RuntimeError(f"the worker did not start:\n{worker.log_tail()}")
        await asyncio.sleep(0.2)


async def run(bootstrap: str, baseline: Any, n: int) -> list[Any]:
    from bench.rows import Row

    m = await measure(bootstrap, n)
    rate = m["sent"] / m["seconds"] if m["seconds"] else 0.0
    ratio = rate / baseline.produce.per_second if baseline.produce.per_second else 0.0
    note = (
        f"{m['sent']:,} records ({m['routed']:,} routed), {m['ticks']} daily ticks, "
        f"{m['alerts']:,} alerts ({m['predicted']:,} predicted)"
        + ("" if m["settled"] else " (NOT settled)")
        + f"; publishing {m['publish_seconds']:.1f}s of which {m['waiting']:.1f}s waiting for "
        "ingress to route each slice before its tick"
    )
    return [
        Row(
            "e2e simulated traffic → ingress → case agents → alerts",
            f"{rate:,.0f} ev/s",
            f"{ratio:.3g}",
            "",
            note,
        )
    ]
