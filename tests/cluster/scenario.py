"""A small simulated run on the cluster, with a fault injected between two ticks.

What a run proves, whatever the fault: every event the SDK (and the bureau's producer)
reported as sent is in the canonical log (the case and governance topics) exactly once; every
dead letter has the reason the simulator predicted; and the alert set equals the simulator's
prediction, with one fact per alert id (a copy re-sent after a crash carries the same id:
at-least-once, idempotent).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date

from aiokafka import AIOKafkaConsumer, TopicPartition

from devtools.simulator import ExpectedAlert, SimConfig, Simulation
from devtools.simulator.model import Send, Sender, SimItem
from devtools.simulator.publish import PublishStats, prepare, publish_simulation
from devtools.simulator.watch import INTERVIEW, SystemWatch, compare
from schemas.families import CaseFamily
from schemas.models import AlertEvent, ClockTicked
from streams.codec import EventCodec
from streams.settings import Settings
from streams.topics import Catalogue

SMALL = SimConfig(days=2, platforms=3, start=date(2026, 9, 18))
"""Two simulated days, three platforms: a few hundred events, every kind of alert."""

Fault = Callable[[int], None]
"""Called after each tick with the number of ticks published so far."""


@dataclass
class RunResult:
    stats: PublishStats
    expected: list[ExpectedAlert]
    sent: list[Send]
    sim: Simulation
    watch: SystemWatch
    canonical: Counter[str] = field(default_factory=Counter)
    alert_facts: defaultdict[str, set[tuple[object, ...]]] = field(
        default_factory=lambda: defaultdict(set)
    )
    alert_copies: int = 0
    settled: bool = True

    def problems(self) -> list[str]:
        """Everything that differs from the prediction, one line each (empty: exact)."""
        out: list[str] = [] if self.settled else ["the system did not settle in time"]
        if self.stats.routed != self.sim.outcome.routed:
            out.append(f"routed {self.stats.routed}, predicted {self.sim.outcome.routed}")
        want = Counter(s.event.event_id for s in self.sent if s.routed and s.event is not None)
        sdk = {s.event.event_id for s in self.sent if s.sender is Sender.PLATFORM and s.event}
        twice = sorted(e for e, n in self.canonical.items() if n > 1)
        if twice:
            out.append(f"{len(twice)} event(s) twice in the canonical log, e.g. {twice[:3]}")
        lost = sorted(set(want) - set(self.canonical))
        if lost:
            out.append(f"{len(lost)} sent event(s) not in the canonical log, e.g. {lost[:3]}")
        stray = sorted(set(self.canonical) - set(want))
        if stray:
            out.append(f"{len(stray)} canonical event(s) nobody sent, e.g. {stray[:3]}")
        if not sdk <= set(self.canonical):
            out.append("an event the SDK reported as sent is missing from the canonical log")
        dead = dict(self.sim.outcome.dead_letters)
        result = compare(
            self.expected, self.watch.alerts, dead, dict(self.watch.dead_letters),
            self.sim.outcome.interviews_by_platform, self.watch.interviews,
        )  # fmt: skip
        if not result.ok:
            out.append(result.describe())
        shared = {i: f for i, f in self.alert_facts.items() if len(f) > 1}
        if shared:
            out.append(f"{len(shared)} alert id(s) name two different facts: {list(shared)[:3]}")
        predicted = {a.full() for a in self.expected if a.kind != INTERVIEW}
        ids = [i for i, f in self.alert_facts.items() if next(iter(f))[0] != INTERVIEW]
        if len(ids) != len(predicted):
            out.append(f"{len(ids)} distinct case alert ids, {len(predicted)} predicted")
        return out


async def run_scenario(
    settings: Settings,
    start_workers: Callable[[], object],
    fault: Fault | None = None,
    cfg: SimConfig = SMALL,
) -> RunResult:
    """Prepare the topics, start the workers, publish ``cfg`` calling ``fault`` after each
    tick, wait until the system settles, then read back the canonical log and the alerts."""
    expected: list[ExpectedAlert] = []
    sim = Simulation(cfg, sink=expected.append)
    catalogue = await prepare(settings, cfg)
    start_workers()
    sent: list[Send] = []

    def items() -> Iterator[SimItem]:
        for item in sim:
            if isinstance(item, Send):
                sent.append(item)
            yield item

    def progress(stats: PublishStats) -> None:
        if fault is not None:
            fault(stats.ticks)

    stats = await publish_simulation(
        settings, items(), cfg, progress=progress, route_timeout=180, first_route_timeout=240
    )
    watch = SystemWatch(settings.bootstrap, catalogue)
    watching = asyncio.create_task(watch.run())
    try:
        dead = sum(sim.outcome.dead_letters.values())
        settled = await watch.wait_for(len(expected), dead, timeout=300, quiet=3.0)
    finally:
        watching.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await watching
    result = RunResult(stats, expected, sent, sim, watch, settled=settled)
    await _read_back(settings.bootstrap, catalogue, result)
    return result


async def _read_back(bootstrap: str, catalogue: Catalogue, result: RunResult) -> None:
    codec = EventCodec()
    tps = [
        TopicPartition(catalogue.cases(fam), p)
        for fam in CaseFamily
        for p in range(catalogue.case_partitions)
    ]
    # the bureau's governance acts (interviews, orders, penalties, campaigns) are canonical too
    tps += [TopicPartition(catalogue.governance, p) for p in range(catalogue.case_partitions)]
    tps += [TopicPartition(catalogue.alerts, p) for p in range(catalogue.case_partitions)]
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False
    )
    await consumer.start()
    try:
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        ends = await consumer.end_offsets(tps)
        left = {tp for tp in tps if ends[tp] > 0}
        alert_records = 0
        while left:
            batch = await asyncio.wait_for(consumer.getmany(timeout_ms=500), 60)
            for tp, records in batch.items():
                for rec in records:
                    event = codec.decode(rec.value or b"", list(rec.headers))
                    if tp.topic == catalogue.alerts:
                        assert isinstance(event, AlertEvent)
                        alert_records += 1
                        fact = ExpectedAlert.from_alert(event).full()
                        result.alert_facts[event.alert_id].add(fact)
                    elif not isinstance(event, ClockTicked):
                        result.canonical[event.event_id] += 1
                    if rec.offset + 1 >= ends[tp]:
                        left.discard(tp)
        result.alert_copies = alert_records - len(result.alert_facts)
    finally:
        await consumer.stop()
