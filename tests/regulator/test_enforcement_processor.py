"""The enforcement processor without Faust: it takes enforcement events, governance ticks
and interview recommendations; other governance events and other alerts pass it by, and an
undecodable record is dead-lettered."""

from __future__ import annotations

from datetime import timedelta

from agents.core.context import Context
from agents.enforcement import RECORDS_TABLE, EnforcementProcessor, summary_of
from audit.fold import MemoryStore
from schemas.models import Event, RosterAssigned
from streams.codec import EventCodec
from streams.records import InRecord
from streams.topics import Catalogue
from tests import enforcement_events as ev
from tests.core.builders import sh

CAT = Catalogue("proc")
CODEC = EventCodec()
T0 = sh(2026, 6, 1, 10)


def _rec(event: Event, offset: int, topic: str = CAT.governance) -> InRecord:
    key, value, headers = CODEC.encode(event, "/bureau/hd-zgc")
    return InRecord(topic, 0, offset, key, value, list(headers), 0)


def test_foreign_records_pass_by_and_garbage_is_dead_lettered() -> None:
    proc = EnforcementProcessor(CAT, Context.load(calendar_dir=None), CODEC)
    store = MemoryStore()
    foreign = RosterAssigned(
        event_id="r-1", case_id="", platform_id=ev.PLATFORM, occurred_at=T0, office="HD-ZGC",
        department="D", leader="L", office_contacts=[], department_contacts=[],
        leader_contacts=[], effective_from=T0, assigned_by="ops",
    )  # fmt: skip
    batch = [
        _rec(ev.ordered("o-1", T0, T0 + timedelta(days=10)), 0),
        _rec(foreign, 1),  # another agent's governance event: not ours, not refused either
        _rec(ev.penalty("p-1", T0, 300), 2, topic=CAT.alerts),  # not a recommendation: skipped
        InRecord(CAT.governance, 0, 3, b"k", b"\x00garbage", [], 0),
    ]
    result = proc.process(batch, {RECORDS_TABLE: store})
    for w in result.writes:
        assert w.value is not None
        store.data[w.key] = w.value
    assert [o.topic for o in result.out] == [CAT.deadletter]
    record = summary_of(store, ev.PLATFORM)
    assert record is not None
    assert (record["orders_open"], record["penalties"], record["refused_events"]) == (1, 0, 0)
