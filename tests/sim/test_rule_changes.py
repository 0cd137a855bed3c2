"""The simulator's issue-18 pieces: the 保价 rule change shifts the insured share, and the
refund burst's REFUND_REJECTIONS_RISING is predicted exactly as the worker's own processor
raises it when fed the same sends and ticks in publishing order (no broker needed)."""

from __future__ import annotations

import zlib
from datetime import timedelta

from agents.core import default_context
from agents.early_signals import EARLY_TABLE, EarlySignalProcessor
from agents.scorecard import SignalsPolicy
from devtools.simulator.config import SimConfig
from devtools.simulator.generator import Simulation
from devtools.simulator.model import ExpectedAlert, Send, Tick
from devtools.simulator.rule_changes import INSURED_AFTER, rule_change, signal_week
from schemas.families import CaseFamily
from schemas.models import ClockTicked, RefundRequested, RefundReviewed, RiskSignalRaised
from streams.codec import EventCodec
from streams.records import InRecord
from streams.topics import Catalogue
from tests.core.test_early_signal import Store

RULE = "REFUND_REJECTIONS_RISING"


def test_the_month_predicts_the_signal_as_the_worker_processor_raises_it() -> None:
    cfg = SimConfig(days=21)
    predicted: list[ExpectedAlert] = []
    sim = Simulation(cfg, sink=predicted.append)
    cat, codec, store = Catalogue("sim", case_partitions=3), EventCodec(), Store()
    proc = EarlySignalProcessor(cat, default_context(), SignalsPolicy.load(), 3)
    raised: list[RiskSignalRaised] = []
    topic, offset = cat.cases(CaseFamily.REFUNDS), 0

    def feed(records: list[InRecord]) -> None:
        result = proc.process(records, {EARLY_TABLE: store})
        for w in result.writes:
            if w.value is None:
                store.data.pop(w.key, None)
            else:
                store.data[w.key] = w.value
        for o in result.out:
            ev = codec.decode(o.value, o.headers)
            assert isinstance(ev, RiskSignalRaised)
            raised.append(ev)

    for item in sim:
        offset += 1
        if isinstance(item, Send):
            e = item.event
            if item.routed and isinstance(e, RefundRequested | RefundReviewed):
                _k, value, headers = codec.encode(e, "/platforms/x")
                p = zlib.crc32(e.case_id.encode()) % 3
                feed([InRecord(topic, p, offset, None, value, list(headers), 0)])
        elif isinstance(item, Tick):
            tick = ClockTicked(event_id=f"t{offset}", case_id="", platform_id="bureau",
                               occurred_at=item.at, tick_at=item.at)  # fmt: skip
            _k, value, headers = codec.encode(tick, "/bureau/clock")
            feed([InRecord(topic, p, offset, None, value, list(headers), 0) for p in range(3)])
    ours = [(a.subject, a.observed_at) for a in predicted if a.rule_id == RULE]
    assert len(ours) == 1  # the burst, once; the base traffic (12 % rejected) never fires
    assert ours == [(a.subject, a.observed_at) for a in raised]
    week = signal_week(cfg)
    assert week is not None and ours[0][1].date() == week + timedelta(days=6)  # Mon 00:00 +08


def test_the_rule_change_shifts_the_insured_share_after_it() -> None:
    cfg = SimConfig(days=21)
    sim = Simulation(cfg)
    for _ in sim:
        pass
    change = rule_change(cfg)
    assert change is not None and change.advice_ref
    effect = sim.outcome.filings.predicted()
    before, after = effect["before"]["insured_share"], effect["after"]["insured_share"]
    assert before < 0.4 < after  # 25 % before, 70 % after
    assert abs(after - INSURED_AFTER) < 0.15
    assert effect["after"]["delivery_complaints"] > 20
