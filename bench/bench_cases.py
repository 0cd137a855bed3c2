"""Case agents: the complaint agent beside its peers (``bench.bench_peers``), same run.

Rows: the processor alone (records already in memory, no Kafka, spread over the partitions
as the producer's partitioner spreads them), and 1, 2 and 3 real workers on RocksDB draining
the peers' records from a topic of :data:`bench.bench_peers.PARTITIONS` partitions, timed by
their committed offsets (startup excluded), with the warnings the workers logged.
"""

from __future__ import annotations

import tempfile
import time
import uuid

from aiokafka.partitioner import DefaultPartitioner

from agents.cases import CASES_TABLE, CaseProcessor
from agents.core import default_context
from bench.baseline import drain_rate, start_worker, worker_warnings
from bench.bench_peers import PARTITIONS, Peers, catalogue, fill, ratio
from schemas.families import CaseFamily
from streams.records import InRecord
from streams.topics import Catalogue

WORKERS = (1, 2, 3)


class DictStore(dict):  # type: ignore[type-arg]
    def items(self):  # type: ignore[no-untyped-def]
        return super().items()


def processor_rate(peers: Peers, min_seconds: float = 3.0) -> tuple[float, dict[str, int]]:
    cat = Catalogue("bench", case_partitions=PARTITIONS)
    parts = list(range(PARTITIONS))
    partitioner = DefaultPartitioner()
    topic = cat.cases(CaseFamily.COMPLAINTS)
    records = [
        InRecord(topic, p if p is not None else partitioner(k, parts, parts), i, k, v, h, 0)
        for i, (k, v, h, p) in enumerate(peers.records)
    ]
    done, took = 0, 0.0
    counters: dict[str, int] = {}
    while took < min_seconds:  # a fresh processor and store per pass: the same work again
        proc = CaseProcessor(CaseFamily.COMPLAINTS, cat, default_context())
        store = DictStore()
        start = time.perf_counter()
        for i in range(0, len(records), 1000):
            result = proc.process(records[i : i + 1000], {CASES_TABLE: store})
            for w in result.writes:
                store[w.key] = w.value
        took += time.perf_counter() - start
        done += len(records)
        counters = proc.counters
    return done / took, counters


async def workers_rate(bootstrap: str, peers: Peers, workers: int) -> tuple[float, tuple[int, str]]:
    if workers == 1:
        prefix, topic = peers.prefix, peers.topic  # the peers read it with their own groups
    else:
        prefix = f"bench{uuid.uuid4().hex[:8]}"
        topic = await fill(bootstrap, catalogue(prefix), peers.records)
    dirs = [tempfile.mkdtemp(prefix="regbus-bench-") for _ in range(workers)]
    procs = [start_worker(bootstrap, prefix, d, case_partitions=PARTITIONS) for d in dirs]
    try:
        rate = await drain_rate(bootstrap, f"{prefix}-bureau", topic, len(peers.records), 420)
    except RuntimeError as exc:  # a stalled partition: report it, keep the run
        rate = float("nan")
        print(f"{workers} workers: {exc}")
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            proc.wait(timeout=60)
    return rate, worker_warnings(*dirs)


def peer_extra(rate: float, peers: Peers, warnings: str = "") -> dict[str, str]:
    return {
        "limit": ratio(rate, peers.limit.per_second),
        "quix": ratio(rate, peers.quix.per_second if peers.quix else None),
        "faust": ratio(rate, peers.faust.per_second if peers.faust else None),
        "warnings": warnings,
    }


async def run(bootstrap: str, baseline, n: int):  # type: ignore[no-untyped-def]
    from bench.rows import Row

    peers: Peers = baseline.peers
    raw = baseline.consume.per_second
    alone, _counters = processor_rate(peers)
    rows = [
        Row("case processor alone (no Kafka)", f"{alone:,.0f} ev/s", ratio(alone, raw),
            "≥ 0.25× limit", "CaseProcessor.process on in-memory records, "
            f"{PARTITIONS} partitions", peer_extra(alone, peers)),
    ]  # fmt: skip
    for workers in WORKERS:
        rate, (count, common) = await workers_rate(bootstrap, peers, workers)
        label = "worker" if workers == 1 else "workers"
        rows.append(Row(
            f"complaint case agent, {workers} {label}, RocksDB",
            f"{rate:,.0f} ev/s" if rate == rate else "stalled (see note)",
            ratio(rate, raw), "≥ 1.0× quix" if workers == 1 else "",
            f"{len(peers.records):,} records, {PARTITIONS} partitions, by committed offsets",
            peer_extra(rate, peers, f"{count}" + (f" ({common})" if common else "")),
        ))  # fmt: skip
    return rows
