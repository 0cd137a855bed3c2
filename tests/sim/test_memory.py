"""The generator streams in bounded memory: a run three times as long peaks about as high."""

from __future__ import annotations

import tracemalloc
from datetime import date

from devtools.simulator import SimConfig, Simulation
from devtools.simulator.workcal import clear_caches


def _peak(days: int) -> tuple[int, int]:
    # July to September 2025 has no public holiday: the load is stationary after the ramp.
    cfg = SimConfig(start=date(2025, 7, 1), days=days)
    clear_caches()
    tracemalloc.start()
    try:
        count = sum(1 for _ in Simulation(cfg))
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return count, peak


def test_peak_memory_does_not_grow_with_the_length_of_the_run() -> None:
    _peak(3)  # one-time allocations (schema store, codec) out of the way of both measures
    short_items, short_peak = _peak(28)
    long_items, long_peak = _peak(84)
    assert long_items > 3 * short_items
    # Open cases (a few weeks' worth, which fluctuate with weekends) bound the memory, not
    # the number of records sent: three times the records, not three times the memory.
    assert long_peak < 1.5 * short_peak, (short_peak, long_peak)
    assert long_peak < 32 * 1024 * 1024
