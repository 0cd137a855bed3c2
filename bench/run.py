"""``regbus bench``: run the benchmarks and write ``docs/benchmarks.md``.

Each benchmark module exposes ``async def run(bootstrap, baseline) -> list[Row]``; this
runner measures the raw baseline first, then each benchmark, and writes one table per run
with the machine and the date.
"""

from __future__ import annotations

import asyncio
import importlib
import os
import platform
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rich.console import Console

from agents.runtime import tune_gc
from bench.baseline import Rate, make_topic, raw_consume, raw_produce
from bench.rows import Row
from streams.settings import PROJECT_ROOT, Settings

console = Console()

BENCHMARKS = [
    "bench.bench_peers",
    "bench.bench_publish",
    "bench.bench_ingress",
    "bench.bench_cases",
    "bench.bench_deadlines",
    "bench.bench_replay",
    "bench.bench_latency",
    "bench.bench_e2e",
    "bench.bench_cluster",
]
NEEDS_PEERS = {"peers", "cases", "ingress"}


@dataclass
class Baseline:
    produce: Rate
    consume: Rate
    peers: Any = None
    """bench.bench_peers.Peers: the limit loop, quixstreams and naive Faust, this run."""


WARM_UP = 20_000
"""Records produced and consumed, unmeasured, before the baseline: a freshly started broker
(and its JIT) ran the first baseline at about half speed, which made every ratio too kind."""


async def measure_baseline(bootstrap: str, n: int) -> Baseline:
    warm = await make_topic(bootstrap)
    await raw_produce(bootstrap, warm, WARM_UP)
    await raw_consume(bootstrap, warm, WARM_UP)
    topic = await make_topic(bootstrap)
    produce = await raw_produce(bootstrap, topic, n)
    consume = await raw_consume(bootstrap, topic, n)
    return Baseline(produce, consume)


def machine() -> str:
    cores = os.cpu_count()
    mem = ""
    try:
        with open("/proc/meminfo") as fh:
            kib = int(fh.readline().split()[1])
            mem = f", {kib / 1024 / 1024:.0f} GiB"
    except OSError:
        pass
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return f"{cpu}, {cores} cores{mem}, Python {platform.python_version()}"


async def run_all(n: int, only: list[str]) -> tuple[Baseline, list[Row]]:
    bootstrap = Settings.from_env().bootstrap
    base = await measure_baseline(bootstrap, n)
    rows = [
        Row(base.produce.name, f"{base.produce.per_second:,.0f} ev/s", "1.00"),
        Row(base.consume.name, f"{base.consume.per_second:,.0f} ev/s", "1.00"),
    ]
    if not only or NEEDS_PEERS & set(only):
        from bench.bench_peers import measure

        console.print("[bold]running the peers (limit loop, quixstreams, naive Faust)…[/bold]")
        base.peers = await measure(bootstrap, n)
    for module in BENCHMARKS:
        short = module.rsplit(".", 1)[1].removeprefix("bench_")
        if only and short not in only:
            continue
        try:
            mod = importlib.import_module(module)
        except ModuleNotFoundError as exc:
            if exc.name == module:
                continue
            raise
        console.print(f"[bold]running {short}…[/bold]")
        rows.extend(await mod.run(bootstrap, base, n))
    return base, rows


def render(rows: list[Row], n: int) -> str:
    now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    plain = [r for r in rows if not r.extra]
    versus = [r for r in rows if r.extra]
    lines = [
        f"### Run of {now}",
        "",
        f"Machine: {machine()}. Kafka 4.4.0 local broker. Events per run: {n:,}.",
        "",
    ]
    if versus:
        lines += [
            "Each regbus row beside its peers, same records, same run (ratios: regbus ÷ peer):",
            "",
            "| regbus | result | × limit loop | × quixstreams | × naive Faust | target "
            "| worker warnings | note |",
            "|---|---|---|---|---|---|---|---|",
        ]
        lines += [
            f"| {r.name} | {r.value} | {r.extra['limit']} | {r.extra['quix']} "
            f"| {r.extra['faust']} | {r.target} | {r.extra.get('warnings', '')} | {r.note} |"
            for r in versus
        ]
        lines.append("")
    lines += [
        "| benchmark | result | ratio to raw consume/produce | target | note |",
        "|---|---|---|---|---|",
    ]
    lines += [f"| {r.name} | {r.value} | {r.ratio} | {r.target} | {r.note} |" for r in plain]
    return "\n".join(lines) + "\n"


def run_and_record(events: int, only: list[str], write: bool) -> str:
    """Run the benchmarks, print the table and (``write``) put it on top of
    docs/benchmarks.md; the table."""
    tune_gc()  # as the worker and the replay run (both sides of every ratio alike)
    _base, rows = asyncio.run(run_all(events, only))
    text = render(rows, events)
    console.print(text)
    if write:
        path: Path = PROJECT_ROOT / "docs" / "benchmarks.md"
        head = "# Benchmarks\n\nWritten by `regbus bench` (newest run first).\n\n"
        old = path.read_text().removeprefix(head) if path.exists() else ""
        path.write_text(head + text + "\n" + old)
    return text
