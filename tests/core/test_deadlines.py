"""The deadline index: only due entries are touched; one entry per key; durable form."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agents.core.deadlines import DeadlineIndex, DueEntry
from agents.core.errors import DeadlineIndexError

T0 = datetime(2026, 3, 2, tzinfo=UTC)


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def entry(case: str, minutes: float, clock: str = "R#0", kind: str = "BREACH") -> DueEntry:
    return DueEntry(at(minutes), case, clock, kind)


class CountingDict(dict[Any, Any]):
    """Counts lookups, to show pop_due does not walk every bucket."""

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.lookups = 0

    def get(self, key: Any, default: Any = None) -> Any:
        self.lookups += 1
        return super().get(key, default)


def test_pop_due_returns_only_due_entries_in_order() -> None:
    index = DeadlineIndex()
    for i, minutes in enumerate([30, 5, 10.5, 10.2, 120]):
        index.add(entry(f"c{i}", minutes))
    assert index.peek() == at(5)
    assert index.pop_due(at(4)) == []
    due = index.pop_due(at(10.3))
    assert [(e.case_id, e.due_at) for e in due] == [("c1", at(5)), ("c3", at(10.2))]
    assert len(index) == 3
    assert [e.case_id for e in index.pop_due(at(10.5))] == ["c2"]
    assert [e.case_id for e in index.pop_due(at(1000))] == ["c0", "c4"]
    assert len(index) == 0 and index.peek() is None


def test_pop_due_cases_gives_each_case_once() -> None:
    index = DeadlineIndex()
    index.add(entry("b", 1))
    index.add(entry("a", 2))
    index.add(entry("b", 3, kind="WARN_50"))
    index.add(entry("c", 9))
    assert index.pop_due_cases(at(5)) == ["b", "a"]
    assert len(index) == 1


def test_one_pending_entry_per_case_clock_kind() -> None:
    index = DeadlineIndex()
    index.add(entry("c", 10))
    index.add(entry("c", 50))  # same key moves
    index.add(entry("c", 20, kind="WARN_50"))
    assert len(index) == 2
    assert index.pop_due(at(30)) == [entry("c", 20, kind="WARN_50")]
    assert index.pop_due(at(60)) == [entry("c", 50)]


def test_remove_sync_and_discard() -> None:
    index = DeadlineIndex()
    index.sync("a", [entry("a", 1), entry("a", 2, kind="WARN_50"), entry("b", 3)])
    assert len(index) == 2  # entries of other cases are not the case's business
    assert index.remove("a", "R#0", "BREACH")
    assert not index.remove("a", "R#0", "BREACH")
    index.sync("a", [entry("a", 5, kind="WARN_75"), entry("a", 2, kind="WARN_50")])
    assert index.entries_for("a") == [entry("a", 2, kind="WARN_50"), entry("a", 5, kind="WARN_75")]
    index.sync("a", [])
    assert len(index) == 0
    index.add(entry("z", 1))
    index.add(entry("z", 2, clock="Q#0"))
    assert index.discard_case("z") == 2 and len(index) == 0
    assert index.pop_due(at(10)) == []


def test_pop_due_touches_only_due_buckets_among_many() -> None:
    index = DeadlineIndex()
    index._buckets = CountingDict()
    rng = random.Random(7)
    for i in range(50_000):
        index.add(entry(f"case-{i}", 60 + rng.random() * 60 * 24 * 30, clock=f"R#{i % 3}"))
    index.add(entry("early", 1.5))
    index._buckets.lookups = 0
    assert [e.case_id for e in index.pop_due(at(2))] == ["early"]
    assert index._buckets.lookups <= 3
    index._buckets.lookups = 0
    assert index.pop_due(at(30)) == []
    assert index._buckets.lookups <= 2


def test_refilled_bucket_is_heaped_once() -> None:
    index = DeadlineIndex()
    for _ in range(100):
        index.add(entry("c", 10))
        index.remove("c", "R#0", "BREACH")
    index.add(entry("c", 10))
    assert len(index._heap) == 1
    assert index.pop_due(at(11)) == [entry("c", 10)]


def test_serialization_round_trip() -> None:
    index = DeadlineIndex(bucket_ms=1000)
    entries = [entry(f"c{i}", i * 0.7, kind=k) for i in range(50) for k in ("WARN_50", "BREACH")]
    for e in entries:
        index.add(e)
    index.pop_due(at(3))
    copy = DeadlineIndex.from_bytes(index.to_bytes())
    assert copy.bucket_ms == 1000
    assert sorted(copy) == sorted(index)
    assert DeadlineIndex.from_dict(index.to_dict()).to_dict() == index.to_dict()
    assert copy.pop_due(at(1000)) == index.pop_due(at(1000))


@pytest.mark.parametrize(
    "data",
    [
        b"not json",
        b"[]",
        b'{"format": "other"}',
        b'{"format": "regbus.deadlines/1", "bucket_ms": 60000, "entries": [[1, 2, 3, 4]]}',
        b'{"format": "regbus.deadlines/1", "bucket_ms": 60000, "entries": [["a", "b", "c"]]}',
        b'{"format": "regbus.deadlines/1", "bucket_ms": 60000, "entries": [["a","b","c",1.5]]}',
        b'{"format": "regbus.deadlines/1", "bucket_ms": 0, "entries": []}',
    ],
)
def test_malformed_data_is_a_domain_error(data: bytes) -> None:
    with pytest.raises(DeadlineIndexError):
        DeadlineIndex.from_bytes(data)


ops = st.lists(
    st.tuples(
        st.sampled_from(["add", "remove", "pop"]),
        st.sampled_from(["a", "b", "c", "d"]),
        st.sampled_from(["WARN_50", "BREACH"]),
        st.integers(min_value=0, max_value=600),
    ),
    max_size=60,
)


@settings(max_examples=80, deadline=None)
@given(ops)
def test_matches_a_naive_model(script: list[tuple[str, str, str, int]]) -> None:
    index = DeadlineIndex(bucket_ms=60_000)
    model: dict[tuple[str, str, str], datetime] = {}
    for op, case, kind, seconds in script:
        when = T0 + timedelta(seconds=seconds)
        if op == "add":
            index.add(DueEntry(when, case, "R#0", kind))
            model[(case, "R#0", kind)] = when
        elif op == "remove":
            assert index.remove(case, "R#0", kind) == (
                model.pop((case, "R#0", kind), None) is not None
            )
        else:
            expected = sorted(DueEntry(t, *k) for k, t in model.items() if t <= when)
            assert index.pop_due(when) == expected
            model = {k: t for k, t in model.items() if t > when}
        assert len(index) == len(model)
    assert index.peek() == (min(model.values()) if model else None)
