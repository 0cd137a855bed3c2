"""Process-wide runtime settings for regbus's long-running commands."""

from __future__ import annotations

import gc

GC_THRESHOLDS = (20_000, 20, 100)
"""Young collections every 20 000 net allocations instead of 700, full ones far rarer.

The worker and the replay hold many long-lived objects (case states, the deadline index,
table stores). With the default thresholds, full collections over them were the long tail of
publish→alert latency: p99 about 320–440 ms, against 130–200 ms with these. They also cost
the replay about a fifth of its speed. See docs/benchmarks.md and docs/decisions.md."""


def tune_gc() -> None:
    """Move everything loaded so far (modules, schemas, policy) out of the collector's sight,
    and collect less often. Cycles are still collected."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)
