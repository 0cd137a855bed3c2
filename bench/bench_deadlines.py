"""Deadline scaling: per-event cost with 1 thousand … millions of open deadlines, tick cost
by number of due items, and resident memory per open deadline.

The open deadlines are real index entries of real cases (a filed complaint has its
acknowledgement, resolution and warning thresholds pending); the measured events are new
complaints filed and acknowledged on top of them, plus ticks that find nothing due, so the
numbers show what the size of the index costs each event.
"""

from __future__ import annotations

import gc
import os
import time
from datetime import timedelta

from agents.cases import CASES_TABLE, CaseProcessor
from agents.core import DeadlineIndex, DueEntry, default_context
from bench.workload import START, complaint_life
from schemas.families import CaseFamily
from streams.codec import EventCodec
from streams.records import InRecord
from streams.ticks import tick_records
from streams.topics import Catalogue

SIZES = (1_000, 100_000, 1_000_000)


def _rss() -> int:
    with open(f"/proc/{os.getpid()}/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def _fill(index: DeadlineIndex, n: int) -> None:
    """n open deadlines spread over the next 30 days (none due during the measurement)."""
    far = START + timedelta(days=10)
    for i in range(n):
        index.sync(f"OPEN-{i:09d}", (DueEntry(far + timedelta(seconds=i % 2_592_000),
                                              f"OPEN-{i:09d}", "ack", "BREACH"),))  # fmt: skip


def per_event_cost(open_deadlines: int, events: int = 20_000) -> tuple[float, float]:
    """(µs per event, bytes of RSS per open deadline) with ``open_deadlines`` in the index."""
    cat = Catalogue("bench")
    codec = EventCodec()
    topic = cat.cases(CaseFamily.COMPLAINTS)
    proc = CaseProcessor(CaseFamily.COMPLAINTS, cat, default_context())
    store: dict[bytes, bytes] = {}
    gc.collect()
    before = _rss()
    index = proc._index(0, store)
    _fill(index, open_deadlines)
    gc.collect()
    per_deadline = (_rss() - before) / open_deadlines
    records: list[InRecord] = []
    clock = START
    for i in range(events // 2):
        filed, ack = complaint_life(10_000_000 + i, clock, "p1")[:2]
        for ev in (filed, ack):
            _k, value, h = codec.encode(ev, "/platforms/p1")
            records.append(InRecord(topic, 0, len(records), ev.case_id.encode(), value, h, 0))
        if i % 500 == 0:
            clock += timedelta(seconds=1)
            for t, p, _tk, tv, th in tick_records(cat, clock, codec):
                if t == topic and p == 0:
                    records.append(InRecord(topic, 0, len(records), None, tv, th, 0))
    start = time.perf_counter()
    for i in range(0, len(records), 1000):
        result = proc.process(records[i : i + 1000], {CASES_TABLE: _Store(store)})
        for w in result.writes:
            store[w.key] = w.value  # type: ignore[assignment]
    took = time.perf_counter() - start
    return took / len(records) * 1e6, per_deadline


def tick_cost(due_items: int) -> float:
    """µs per due item for one tick that finds ``due_items`` deadlines due."""
    index = DeadlineIndex()
    at = START + timedelta(hours=1)
    for i in range(due_items):
        index.sync(f"D-{i}", (DueEntry(at, f"D-{i}", "ack", "BREACH"),))
    _fill(index, 100_000)  # and plenty that are not due
    start = time.perf_counter()
    popped = index.pop_due(at)
    took = time.perf_counter() - start
    assert len(popped) == due_items
    return took / max(due_items, 1) * 1e6


class _Store:
    def __init__(self, data: dict[bytes, bytes]) -> None:
        self._data = data

    def get(self, key: bytes) -> bytes | None:
        return self._data.get(key)

    def items(self):  # type: ignore[no-untyped-def]
        return self._data.items()


async def run(bootstrap: str, baseline, n: int):  # type: ignore[no-untyped-def]
    from bench.rows import Row

    rows = []
    sizes = SIZES + ((10_000_000,) if os.environ.get("REGBUS_BENCH_10M") else ())
    costs = {}
    for size in sizes:
        us, mem = per_event_cost(size)
        costs[size] = us
        rows.append(Row(f"case event cost, {size:,} open deadlines", f"{us:.1f} µs/event", "",
                        "flat", f"index memory ≈ {mem:.0f} B per open deadline"))  # fmt: skip
    spread = max(costs.values()) / min(costs.values())
    rows.append(Row("per-event cost spread (max/min)", f"{spread:.2f}×", "", "≈ 1", ""))
    for due in (10, 1_000, 100_000):
        rows.append(Row(f"tick with {due:,} due items", f"{tick_cost(due):.2f} µs/due item", "",
                        "", "index pop only (firing costs the on_tick above)"))  # fmt: skip
    return rows
