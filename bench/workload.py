"""Pre-encoded, realistic case traffic for the throughput benchmarks.

A complaint's life: filed → acknowledged → resolved → feedback (four events), interleaved
across cases, with a tick into every partition every ``tick_every`` events. Encoding happens
before the clock starts, so the benchmarks time consumption only.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

from schemas.families import CaseFamily
from schemas.models import (
    Category,
    Channel,
    ComplaintAcknowledged,
    ComplaintFeedbackRecorded,
    ComplaintFiled,
    ComplaintResolved,
    Event,
    Outcome,
    Priority,
    Satisfaction,
)
from streams.codec import EventCodec
from streams.ticks import tick_records
from streams.topics import Catalogue

START = datetime(2026, 11, 2, tzinfo=UTC)
Encoded = tuple[bytes | None, bytes, list[tuple[str, bytes]], int | None]  # key, value, hdrs, p


def complaint_life(i: int, at: datetime, platform: str) -> list[Event]:
    case = f"BC-{i:09d}"
    common: dict[str, Any] = {"case_id": case, "platform_id": platform}
    return [
        ComplaintFiled(
            event_id=f"{case}-f", occurred_at=at, channel=Channel.PLATFORM_APP,
            category=Category.DELIVERY_GOODS_DAMAGE, priority=Priority.NORMAL, merchant_ref="m",
            live_room_ref=None, claimed_amount_fen=1000, insured=False, declared_value_fen=None,
            office="HD-ZGC", consumer_ref=f"c{i}", intake_at=at,
            policy_rule_version="SAMR-20",  # the version that times platform-app complaints
            **common,
        ),
        ComplaintAcknowledged(
            event_id=f"{case}-a", occurred_at=at + timedelta(hours=3), handler_ref=None, **common
        ),
        ComplaintResolved(
            event_id=f"{case}-r", occurred_at=at + timedelta(days=2), outcome=Outcome.SETTLED,
            compensation_fen=500, **common,
        ),
        ComplaintFeedbackRecorded(
            event_id=f"{case}-b", occurred_at=at + timedelta(days=3),
            satisfaction=Satisfaction.SATISFIED, **common,
        ),
    ]  # fmt: skip


def complaint_stream(
    n: int, catalogue: Catalogue, tick_every: int = 2000, open_cases: int = 500, seed: int = 1
) -> Iterator[Encoded]:
    """About ``n`` encoded records: complaint lifecycles (``open_cases`` in flight) + ticks."""
    codec = EventCodec()
    rnd = random.Random(seed)
    pending: list[list[Event]] = []
    made = 0
    case_no = 0
    clock = START
    while made < n:
        while len(pending) < open_cases:
            pending.append(complaint_life(case_no, clock, f"p{case_no % 7}"))
            case_no += 1
        life = pending[rnd.randrange(len(pending))]
        event = life.pop(0)
        if not life:
            pending.remove(life)
        key, value, headers = codec.encode(event, f"/platforms/{event.platform_id}")
        yield key, value, headers, None
        made += 1
        if made % tick_every == 0:
            clock += timedelta(minutes=10)
            for _topic, partition, tkey, tvalue, theaders in tick_records(catalogue, clock, codec):
                if _topic == catalogue.cases(next(iter(_families()))):
                    yield tkey, tvalue, theaders, partition
                    made += 1


def _families() -> tuple[CaseFamily, ...]:
    return (CaseFamily.COMPLAINTS,)
