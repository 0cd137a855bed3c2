"""The regulator's typed state and internal-topic records: one encode / decode each."""

from __future__ import annotations

import orjson
import pytest

from agents.core.complaint import ComplaintStatus
from agents.regulator_state import (
    CaseEntry,
    Contribution,
    Contributions,
    SubjectClock,
    SubjectState,
    Watermark,
    decode_subject_record,
    deferred_slot,
    encode_subject_record,
    parse_slot,
)
from agents.scorecard import WIDTH, ComplaintFacts
from schemas.models import Channel

FACTS = ComplaintFacts("alpha", "FOOD_SAFETY", Channel.HOTLINE_12345, "2025-06-02",
                       ComplaintStatus.RESOLVED, forwarded=True, acknowledged=True,
                       outcome="SETTLED")  # fmt: skip


def test_table_values_round_trip_with_readable_names() -> None:
    entry = CaseEntry(3, [(1_700_000_000_000, "ComplaintFiled", "e-1", "channel=HOTLINE_12345")],
                      ["e-1"], FACTS, FACTS.contribution(), 3, False)  # fmt: skip
    assert CaseEntry.decode(entry.encode()) == entry
    assert set(orjson.loads(entry.encode())) == {
        "partition", "timeline", "recent_ids", "facts", "contribution", "complaint_partition",
        "ack_breached_before_filing",
    }  # fmt: skip
    state = SubjectState(1, {"2025-06-02": [1] * WIDTH}, "2025-04-01", None, ["a-1"],
                         {"2025-06-02": [1] * WIDTH}, "2025-06-02", ["2025-06-02"],
                         {deferred_slot(5, "2025-06-02"): [1] * WIDTH})  # fmt: skip
    assert SubjectState.decode(state.encode()) == state
    assert parse_slot(deferred_slot(5, "2025-06-02")) == (5, "2025-06-02")
    clock = SubjectClock(2, {0: 10, 3: 12}, "2025-06-01")
    assert SubjectClock.decode(clock.encode()) == clock


def test_subject_records_round_trip_and_garbage_is_refused() -> None:
    contributions = Contributions((
        Contribution("case:C-1", "2025-06-02", [1] * WIDTH, tag_ms=0),
        Contribution("alert:A-1", "2025-06-03", [0] * WIDTH, breach={"alert_id": "A-1"}),
    ))  # fmt: skip
    for record in (contributions, Watermark(3, 1_700_000_000_000)):
        assert decode_subject_record(encode_subject_record(record)) == record
    assert contributions.items[0].is_case and not contributions.items[1].is_case
    for bad in (b"", b"{}", b'{"kind": "x"}', b'{"t": "c", "i": []}'):
        with pytest.raises((ValueError, KeyError)):
            decode_subject_record(bad)
