"""The 未诉先办 signal (agents/core/early_signal.py) and its processor (agents/early_signals.py)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta

import pytest

from agents.core import default_context
from agents.core.early_signal import (
    RefundRejectionPolicy,
    WeekCounts,
    judge_week,
    monday_of,
    week_closes_at,
)
from agents.early_signals import EARLY_TABLE, EarlySignalProcessor
from agents.scorecard import SignalsPolicy
from schemas.families import CaseFamily
from schemas.models import (
    ClockTicked,
    Event,
    RefundRequested,
    RefundReviewed,
    ReviewDecision,
    RiskSignalRaised,
)
from streams.codec import EventCodec
from streams.records import InRecord
from streams.topics import Catalogue

POLICY = RefundRejectionPolicy()  # 10 reviews, share ≥ 40 %, rise ≥ 25 points
W1 = date(2026, 11, 9)  # a Monday
W2 = W1 + timedelta(days=7)


def weeks(prev: tuple[int, int], cur: tuple[int, int]) -> dict[date, WeekCounts]:
    return {W1: WeekCounts(*prev), W2: WeekCounts(*cur)}


@pytest.mark.parametrize(
    ("prev", "cur", "fires"),
    [
        ((10, 1), (10, 5), True),  # 50 %, rose 40 points
        ((0, 0), (10, 4), True),  # no reviews the week before: rising from 0, at 40 %
        ((10, 2), (10, 4), False),  # 40 %, rose only 20 points
        ((10, 0), (9, 9), False),  # fewer than 10 reviews
        ((10, 0), (10, 3), False),  # 30 % < 40 %
        ((10, 1), (20, 7), False),  # 35 % < 40 %
        ((10, 6), (10, 9), True),  # 90 %, rose 30 points
        ((10, 7), (10, 9), False),  # 90 %, rose only 20 points
    ],
)
def test_threshold(prev: tuple[int, int], cur: tuple[int, int], fires: bool) -> None:
    assert judge_week("p", W2, weeks(prev, cur), POLICY).triggered is fires


def test_exactly_at_every_threshold_fires() -> None:
    # 4/10 = 40 % share, previous 1.5/10 impossible: use 20 reviews, 3 rejected = 15 %
    j = judge_week("p", W2, {W1: WeekCounts(20, 3), W2: WeekCounts(10, 4)}, POLICY)
    assert j.current.share == 0.4 and j.previous.share == 0.15
    assert j.triggered
    just_below = judge_week("p", W2, {W1: WeekCounts(20, 3), W2: WeekCounts(11, 4)}, POLICY)
    assert not just_below.triggered


def test_week_boundary_is_beijing_time() -> None:
    sunday_late_beijing = datetime(2026, 11, 15, 15, 59, 59, tzinfo=UTC)  # Sun 23:59:59 +08
    monday_beijing = datetime(2026, 11, 15, 16, 0, tzinfo=UTC)  # Mon 00:00 +08 (Sun in UTC)
    assert monday_of(sunday_late_beijing) == W1
    assert monday_of(monday_beijing) == W2
    assert week_closes_at(W1) == monday_beijing


# ---- the processor ---------------------------------------------------------------------------
class Store:
    def __init__(self) -> None:
        self.data: dict[bytes, bytes] = {}

    def get(self, key: bytes) -> bytes | None:
        return self.data.get(key)

    def items(self) -> Iterable[tuple[bytes, bytes]]:
        return list(self.data.items())


class Harness:
    def __init__(self, partitions: int = 2) -> None:
        self.cat = Catalogue("t", case_partitions=partitions)
        self.codec = EventCodec()
        self.proc = EarlySignalProcessor(
            self.cat, default_context(), SignalsPolicy.load(), partitions
        )
        self.store = Store()
        self.offset = 0
        self.alerts: list[RiskSignalRaised] = []
        self.partitions = partitions

    def feed(self, events: list[tuple[int, Event]]) -> None:
        batch = []
        for partition, event in events:
            self.offset += 1
            _k, value, headers = self.codec.encode(event, "/bureau/test")
            batch.append(InRecord(self.cat.cases(CaseFamily.REFUNDS), partition, self.offset,
                                  None, value, list(headers), 0))  # fmt: skip
        result = self.proc.process(batch, {EARLY_TABLE: self.store})
        for w in result.writes:
            if w.value is None:
                self.store.data.pop(w.key, None)
            else:
                self.store.data[w.key] = w.value
        for o in result.out:
            ev = self.codec.decode(o.value, o.headers)
            assert isinstance(ev, RiskSignalRaised)
            self.alerts.append(ev)

    def tick(self, at: datetime, partitions: Iterable[int] | None = None) -> None:
        ps = range(self.partitions) if partitions is None else partitions
        self.feed([(p, _tick(at, p)) for p in ps])


def _tick(at: datetime, p: int) -> Event:
    return ClockTicked(event_id=f"t-{at.isoformat()}-{p}", case_id="", platform_id="",
                       occurred_at=at, tick_at=at)  # fmt: skip


def requested(n: int, at: datetime, linked: bool = False, platform: str = "xianyu") -> Event:
    return RefundRequested(
        event_id=f"rq-{n}", case_id=f"R-{n}", platform_id=platform, occurred_at=at,
        order_ref=f"o-{n}", amount_fen=1000, reason="质量问题",
        complaint_case_id=f"C-{n}" if linked else None,
    )  # fmt: skip


def reviewed(n: int, at: datetime, rejected: bool, platform: str = "xianyu") -> Event:
    decision = ReviewDecision.REJECTED if rejected else ReviewDecision.APPROVED
    return RefundReviewed(
        event_id=f"rv-{n}", case_id=f"R-{n}", platform_id=platform, occurred_at=at,
        decision=decision, approved_amount_fen=0 if rejected else 1000,
    )  # fmt: skip


def bj(day: date, hour: int = 10) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC) - timedelta(hours=8)


def week_of_reviews(h: Harness, start: int, monday: date, total: int, rejected: int,
                    linked: int = 0) -> None:  # fmt: skip
    events: list[tuple[int, Event]] = []
    for i in range(total + linked):
        n = start + i
        at = bj(monday + timedelta(days=i % 5))
        events.append((n % 2, requested(n, at, linked=i >= total)))
        events.append(
            (n % 2, reviewed(n, at + timedelta(hours=2), rejected=i < rejected or i >= total))
        )
    h.feed(events)


def test_processor_fires_once_when_the_week_closes_on_every_partition() -> None:
    h = Harness()
    week_of_reviews(h, 0, W1, total=10, rejected=1)
    week_of_reviews(h, 100, W2, total=10, rejected=5)
    h.tick(bj(W2 + timedelta(days=6), 23))  # Sunday 23:00 Beijing: the week is still open
    assert h.alerts == []
    close = week_closes_at(W2)
    h.tick(close, partitions=[0])  # one partition has passed the week's end, not the other
    assert h.alerts == []
    h.tick(close, partitions=[1])
    assert [a.rule_id for a in h.alerts] == ["REFUND_REJECTIONS_RISING"]
    alert = h.alerts[0]
    assert alert.subject == "xianyu" and alert.observed_at == close and alert.metric == 0.5
    h.tick(close + timedelta(minutes=1))
    h.tick(close + timedelta(days=7))
    assert len(h.alerts) == 1  # judged once


def test_refunds_linked_to_a_complaint_do_not_count() -> None:
    h = Harness()
    week_of_reviews(h, 0, W1, total=10, rejected=1)
    week_of_reviews(h, 100, W2, total=6, rejected=2, linked=6)  # 8/12 rejected, 6 linked
    h.tick(week_closes_at(W2))
    assert h.alerts == []  # unlinked: 2/6 and too few reviews


def test_below_threshold_does_not_fire_and_late_reviews_are_not_counted() -> None:
    h = Harness()
    week_of_reviews(h, 0, W1, total=10, rejected=1)
    week_of_reviews(h, 100, W2, total=10, rejected=3)  # 30 %
    h.tick(week_closes_at(W2) - timedelta(hours=1))
    h.tick(week_closes_at(W2) + timedelta(minutes=1), partitions=[0])
    # two more rejections of week W2 logged on partition 0 after it passed the week's end
    h.feed([(0, requested(500, bj(W2 + timedelta(days=2))))])
    h.feed([(0, reviewed(500, bj(W2 + timedelta(days=2)), True))])
    h.feed([(0, requested(502, bj(W2 + timedelta(days=2))))])
    h.feed([(0, reviewed(502, bj(W2 + timedelta(days=2)), True))])
    h.tick(week_closes_at(W2) + timedelta(minutes=1), partitions=[1])
    assert h.alerts == []
    assert h.proc.counters["late"] == 2


def test_a_redelivered_review_is_counted_once() -> None:
    h = Harness()
    week_of_reviews(h, 0, W1, total=10, rejected=1)
    week_of_reviews(h, 100, W2, total=9, rejected=4)
    # the tenth review delivered three times: still 10 reviews, 4 rejected (40 %... +30)
    for _ in range(3):
        h.feed([(1, requested(109, bj(W2)))])
        h.feed([(1, reviewed(109, bj(W2), False))])
    h.tick(week_closes_at(W2))
    assert len(h.alerts) == 1 and h.alerts[0].metric == 0.4
