"""The deadline index: which (case, clock, threshold) entries fall due, without scanning.

Entries live in time buckets (one per minute by default): a dict from bucket number to the
entries in it, plus a heap of bucket numbers. ``pop_due(now)`` pops whole buckets that ended
before ``now`` and looks into the current bucket only; ``add``/``remove``/``sync`` are O(1)
dict work plus an O(log b) heap push when a new bucket appears. There is exactly one pending
entry per (case, clock, kind): adding the same key again moves it.

The index is plain data: ``to_dict``/``from_dict`` and ``to_bytes``/``from_bytes`` give a
JSON form for durable storage (the Faust side keeps one per partition), and it can always be
rebuilt from case states with :func:`agents.core.engine.due_entries`.
"""

from __future__ import annotations

import heapq
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from agents.core.errors import DeadlineIndexError
from schemas.instants import from_ms, to_ms

FORMAT = "regbus.deadlines/1"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

Key = tuple[str, str, str]
"""(case_id, clock ref, kind)."""


@dataclass(frozen=True, slots=True, order=True)
class DueEntry:
    """One pending threshold: ``kind`` is WARN_<pct>, BREACH, ESCALATE or RECHECK."""

    due_at: datetime
    case_id: str
    clock: str
    kind: str

    @property
    def key(self) -> Key:
        return (self.case_id, self.clock, self.kind)


class DeadlineIndex:
    """Time-bucketed index of pending deadlines (mutable; one per partition)."""

    def __init__(self, bucket_ms: int = 60_000) -> None:
        if bucket_ms <= 0:
            raise DeadlineIndexError("bucket_ms must be positive")
        self.bucket_ms = bucket_ms
        self._due: dict[Key, int] = {}
        self._by_case: dict[str, set[Key]] = {}
        self._buckets: dict[int, set[Key]] = {}
        self._heap: list[int] = []
        self._heaped: set[int] = set()

    # ---- size and lookup ---------------------------------------------------------------
    def __len__(self) -> int:
        return len(self._due)

    def __contains__(self, key: object) -> bool:
        return key in self._due

    def __iter__(self) -> Iterator[DueEntry]:
        for (case_id, clock, kind), ms in self._due.items():
            yield DueEntry(from_ms(ms), case_id, clock, kind)

    def entries_for(self, case_id: str) -> list[DueEntry]:
        keys = self._by_case.get(case_id, ())
        return sorted(DueEntry(from_ms(self._due[k]), *k) for k in keys)

    def peek(self) -> datetime | None:
        """The earliest pending due instant (the next time a tick can find work)."""
        while self._heap:
            bucket = self._buckets.get(self._heap[0])
            if bucket:
                return from_ms(min(self._due[k] for k in bucket))
            self._heaped.discard(heapq.heappop(self._heap))
        return None

    # ---- changes -----------------------------------------------------------------------
    def add(self, entry: DueEntry) -> None:
        self._put(entry.key, to_ms(entry.due_at))

    def remove(self, case_id: str, clock: str, kind: str) -> bool:
        return self._drop((case_id, clock, kind))

    def discard_case(self, case_id: str) -> int:
        keys = list(self._by_case.get(case_id, ()))
        for key in keys:
            self._drop(key)
        return len(keys)

    def sync(self, case_id: str, entries: Iterable[DueEntry]) -> None:
        """Make the case's pending entries exactly ``entries`` (what a Decision returns)."""
        wanted = {e.key: to_ms(e.due_at) for e in entries if e.case_id == case_id}
        for key in list(self._by_case.get(case_id, ())):
            if key not in wanted:
                self._drop(key)
        for key, ms in wanted.items():
            if self._due.get(key) != ms:
                self._put(key, ms)

    def pop_due(self, now: datetime) -> list[DueEntry]:
        """Remove and return every entry due at or before ``now``, earliest first."""
        now_ms = to_ms(now)
        limit = now_ms // self.bucket_ms
        popped: list[tuple[int, Key]] = []
        while self._heap and self._heap[0] <= limit:
            number = self._heap[0]
            bucket = self._buckets.get(number)
            if number < limit or bucket is None:
                heapq.heappop(self._heap)
                self._heaped.discard(number)
                if bucket:
                    del self._buckets[number]
                    for key in bucket:
                        popped.append((self._due.pop(key), key))
                        self._unlink_case(key)
                continue
            due_now = [k for k in bucket if self._due[k] <= now_ms]
            for key in due_now:
                popped.append((self._due.pop(key), key))
                bucket.discard(key)
                self._unlink_case(key)
            if not bucket:
                del self._buckets[number]
                heapq.heappop(self._heap)
                self._heaped.discard(number)
            break
        popped.sort()
        return [DueEntry(from_ms(ms), *key) for ms, key in popped]

    def pop_due_cases(self, now: datetime) -> list[str]:
        """:meth:`pop_due`, reduced to the distinct case ids in due order: call ``on_tick``
        once per case (it fires everything of the case that is due at ``now``)."""
        return list(dict.fromkeys(e.case_id for e in self.pop_due(now)))

    # ---- storage -----------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "bucket_ms": self.bucket_ms,
            "entries": [[c, k, kind, ms] for (c, k, kind), ms in sorted(self._due.items())],
        }

    @classmethod
    def from_dict(cls, data: Any) -> DeadlineIndex:
        try:
            if data.get("format") != FORMAT:
                raise DeadlineIndexError(f"not a {FORMAT} document")
            index = cls(int(data["bucket_ms"]))
            for case_id, clock, kind, ms in data["entries"]:
                if not all(isinstance(v, str) for v in (case_id, clock, kind)):
                    raise DeadlineIndexError("entry keys must be strings")
                if not isinstance(ms, int) or isinstance(ms, bool):
                    raise DeadlineIndexError("entry due must be integer milliseconds")
                index._put((case_id, clock, kind), ms)
        except DeadlineIndexError:
            raise
        except (AttributeError, KeyError, TypeError, ValueError) as exc:
            raise DeadlineIndexError(f"malformed deadline index: {exc!r}") from exc
        return index

    def to_bytes(self) -> bytes:
        return json.dumps(self.to_dict(), separators=(",", ":")).encode()

    @classmethod
    def from_bytes(cls, data: bytes) -> DeadlineIndex:
        try:
            raw = json.loads(data)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise DeadlineIndexError(f"deadline index is not JSON: {exc}") from exc
        return cls.from_dict(raw)

    # ---- internals ---------------------------------------------------------------------
    def _put(self, key: Key, ms: int) -> None:
        old = self._due.get(key)
        if old is not None:
            self._unbucket(key, old)
        self._due[key] = ms
        self._by_case.setdefault(key[0], set()).add(key)
        number = ms // self.bucket_ms
        bucket = self._buckets.get(number)
        if bucket is None:
            bucket = self._buckets[number] = set()
        bucket.add(key)
        if number not in self._heaped:
            self._heaped.add(number)
            heapq.heappush(self._heap, number)

    def _drop(self, key: Key) -> bool:
        ms = self._due.pop(key, None)
        if ms is None:
            return False
        self._unbucket(key, ms)
        self._unlink_case(key)
        return True

    def _unbucket(self, key: Key, ms: int) -> None:
        number = ms // self.bucket_ms
        bucket = self._buckets.get(number)
        if bucket is not None:
            bucket.discard(key)
            if not bucket:
                # The heap keeps the number until it is reached (lazy deletion); _heaped
                # stops a refilled bucket from being pushed twice.
                del self._buckets[number]

    def _unlink_case(self, key: Key) -> None:
        keys = self._by_case.get(key[0])
        if keys is not None:
            keys.discard(key)
            if not keys:
                del self._by_case[key[0]]
