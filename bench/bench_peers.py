"""The peers every regbus row is measured against, in the same run, on the same records.

One topic of complaint traffic (``bench.workload``: four events per case, ticks into every
partition) on :data:`PARTITIONS` partitions, read by three pipelines doing the same smaller
job — decode the Confluent-framed Avro, keep per-case state, count per platform:

* **the limit loop**: aiokafka ``getmany`` + fastavro + dict updates, nothing else; read
  again until it has run :data:`MIN_SECONDS`;
* **quixstreams** 3.28.1: a stateful ``update`` on RocksDB state with changelog topics, its
  final checkpoint included (in ``.venv-quix``: its pins exclude regbus's, see
  ``bench/peer_quix.py``);
* **a naive Faust agent**: one event at a time, two table writes, RocksDB, timed by its
  committed offsets over its first :data:`FAUST_EVENTS` records.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from fastavro import parse_schema, schemaless_reader

from bench.baseline import Rate, drain_rate
from bench.workload import Encoded, complaint_stream
from schemas.families import CaseFamily
from schemas.lock import read_lock
from schemas.repository import histories
from streams.admin import ensure_topics
from streams.settings import PROJECT_ROOT
from streams.topics import Catalogue

PARTITIONS = 12
"""Enough for 1, 2 and 3 workers to share evenly (production's default is 4)."""
MIN_SECONDS = 3.0
FAUST_EVENTS = 30_000
QUIX_PYTHON = PROJECT_ROOT / ".venv-quix" / "bin" / "python"


@dataclass
class Peers:
    limit: Rate
    quix: Rate | None
    faust: Rate | None
    topic: str
    prefix: str
    records: list[Encoded]
    note: str = ""


def ratio(value: float, base: float | None) -> str:
    """Three significant figures, never "0.00"."""
    if not base:
        return "n/a"
    x = value / base
    return f"{x:,.0f}" if x >= 1000 else f"{x:.3g}"


def schema_texts() -> dict[int, Any]:
    lock = read_lock()
    out: dict[int, Any] = {}
    for name, versions in histories().items():
        for sv in versions:
            entry = lock.get((name, sv.version))
            if entry is not None:
                out[entry.id] = sv.schema
    return out


def catalogue(prefix: str) -> Catalogue:
    return Catalogue(prefix, case_partitions=PARTITIONS)


async def fill(bootstrap: str, cat: Catalogue, records: list[Encoded]) -> str:
    await ensure_topics(bootstrap, cat.specs())
    topic = cat.cases(CaseFamily.COMPLAINTS)
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=True,
                                linger_ms=5, max_batch_size=512 * 1024)  # fmt: skip
    await producer.start()
    try:
        futures = [
            await producer.send(topic, value, key=key, headers=headers, partition=partition)
            for key, value, headers, partition in records
        ]
        await asyncio.gather(*futures)
    finally:
        await producer.stop()
    return topic


async def limit_loop(bootstrap: str, topic: str, total: int) -> Rate:
    schemas = {k: parse_schema(v, named_schemas={}) for k, v in schema_texts().items()}
    events, took = 0, 0.0
    while took < MIN_SECONDS:
        consumer = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap, group_id=None,
                                    auto_offset_reset="earliest", enable_auto_commit=False,
                                    max_poll_records=2000)  # fmt: skip
        await consumer.start()
        cases: dict[str, Any] = {}
        platforms: dict[str, int] = {}
        seen = 0
        try:
            start = time.perf_counter()
            while seen < total:
                batch = await consumer.getmany(timeout_ms=1000, max_records=2000)
                for recs in batch.values():
                    for rec in recs:
                        value = rec.value
                        body = BytesIO(value)
                        body.seek(5)
                        record: Any = schemaless_reader(
                            body, schemas[int.from_bytes(value[1:5], "big")], None
                        )
                        case = record.get("case_id")
                        if case:
                            cases[case] = record["event_id"]
                            platform = record["platform_id"]
                            platforms[platform] = platforms.get(platform, 0) + 1
                    seen += len(recs)
            took += time.perf_counter() - start
            events += seen
        finally:
            await consumer.stop()
    return Rate("limit loop (aiokafka getmany + fastavro + dict)", events, took)


def _schemas_file() -> str:
    fd, path = tempfile.mkstemp(prefix="regbus-bench-schemas-", suffix=".json")
    with os.fdopen(fd, "w") as fh:
        json.dump({str(k): v for k, v in schema_texts().items()}, fh)
    return path


async def quix_rate(bootstrap: str, topic: str, total: int) -> tuple[Rate | None, str]:
    if not QUIX_PYTHON.exists():
        return None, "quixstreams not installed (`make bench` builds .venv-quix)"
    args = [str(QUIX_PYTHON), str(PROJECT_ROOT / "bench" / "peer_quix.py"), bootstrap, topic,
            f"quix-{uuid.uuid4().hex[:8]}", str(total), _schemas_file(),
            tempfile.mkdtemp(prefix="regbus-bench-quix-")]  # fmt: skip
    done = await asyncio.to_thread(subprocess.run, args, capture_output=True, timeout=900)
    lines = [ln for ln in done.stdout.decode().splitlines() if ln.startswith("{")]
    if done.returncode != 0 or not lines:
        return None, f"quixstreams failed: {done.stderr.decode()[-300:]}"
    got = json.loads(lines[-1])
    return Rate("quixstreams (stateful update, RocksDB)", got["events"], got["seconds"]), ""


async def faust_rate(bootstrap: str, topic: str, total: int) -> Rate:
    group = f"nf{uuid.uuid4().hex[:8]}"
    state = tempfile.mkdtemp(prefix="regbus-bench-faust-")
    env = dict(os.environ, REGBUS_BENCH_BOOTSTRAP=bootstrap, REGBUS_BENCH_TOPIC=topic,
               REGBUS_BENCH_GROUP=group, REGBUS_BENCH_SCHEMAS=_schemas_file(),
               REGBUS_BENCH_STATE_DIR=state)  # fmt: skip
    with open(Path(state) / "worker.log", "ab") as log:
        proc = subprocess.Popen([sys.executable, "-m", "bench.peer_faust", "worker"], env=env,
                                stdout=log, stderr=subprocess.STDOUT, cwd=PROJECT_ROOT)  # fmt: skip
    count = min(total, FAUST_EVENTS)
    try:
        rate = await drain_rate(bootstrap, group, topic, count)
    finally:
        proc.terminate()
        proc.wait(timeout=60)
    return Rate("naive Faust agent (one event at a time, 2 table writes, RocksDB)", count,
                count / rate if rate else 0.0)  # fmt: skip


async def measure(bootstrap: str, n: int) -> Peers:
    prefix = f"peer{uuid.uuid4().hex[:8]}"
    cat = catalogue(prefix)
    records = list(complaint_stream(n, cat))
    topic = await fill(bootstrap, cat, records)
    limit = await limit_loop(bootstrap, topic, len(records))
    quix, note = await quix_rate(bootstrap, topic, len(records))
    faust = await faust_rate(bootstrap, topic, len(records))
    return Peers(limit, quix, faust, topic, prefix, records, note)


async def run(bootstrap: str, baseline, n: int):  # type: ignore[no-untyped-def]
    from bench.rows import Row

    peers = baseline.peers
    raw = baseline.consume.per_second
    rows = []
    for rate in (peers.limit, peers.quix, peers.faust):
        if rate is None:
            rows.append(Row("quixstreams", "not run", "", "", peers.note))
            continue
        rows.append(Row(rate.name, f"{rate.per_second:,.0f} ev/s", ratio(rate.per_second, raw),
                        "", f"{rate.count:,} records in {rate.seconds:.1f} s; "
                        f"{PARTITIONS} partitions"))  # fmt: skip
    return rows
