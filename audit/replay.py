"""Audit replay: read the canonical case topics and fold them into every case's state as of T.

No worker is needed and nothing is written to Kafka. The records go, partition by partition
and in log order, through the live case agent's own processor (:mod:`audit.fold`),
so a replay reproduces the state, the SLA clock events and the alerts the agents produced —
see ``docs/audit.md`` for the precise meaning of "as of T".

Reading is built for speed: one consumer assigned every canonical partition (no group), large
``getmany`` batches, the end offsets fixed when the replay starts (records appended later
are not read), and partitions paused as soon as they are finished.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from agents.core import engine
from agents.scorecard import SignalsPolicy
from audit.collect import Collector
from audit.enforcement import EnforcementReplay, read_enforcement
from audit.fold import AsOf, Mode, Observer, ReplayFolder, shared_context
from audit.governance import CampaignFold, read_campaigns
from audit.regulator_replay import RegulatorReplay
from audit.side_logs import SideLogs, read_side_logs
from schemas.families import CaseFamily
from streams.codec import EventCodec
from streams.ledger.logread import LogReader
from streams.settings import Settings
from streams.topics import Catalogue

__all__ = ["AsOf", "Mode", "ReplayResult", "regulator_replayable", "replay"]


@dataclass
class ReplayResult:
    as_of: AsOf
    folder: ReplayFolder
    collector: Collector | None
    seconds: float
    start_offsets: dict[tuple[str, int], int] = field(default_factory=dict)
    end_offsets: dict[tuple[str, int], int] = field(default_factory=dict)
    regulator: RegulatorReplay | None = None
    """The regulator agents replayed (None when the replay is filtered: a case, a platform
    or a window cannot give a platform's or a category's signals)."""
    side: SideLogs | None = None
    """The roster and the delivery log as of the instant (None: not read)."""
    enforcement: EnforcementReplay | None = None
    """The platforms' enforcement records as of the instant (None: a case or window replay,
    or a log without the governance topic)."""
    campaigns: CampaignFold | None = None
    """The governance topic's spot-check campaigns as of the instant (None: not read)."""

    @property
    def records(self) -> int:
        return self.folder.stats.records

    @property
    def records_per_second(self) -> float:
        return self.records / self.seconds if self.seconds > 0 else 0.0


async def replay(
    settings: Settings,
    as_of: AsOf,
    *,
    catalogue: Catalogue | None = None,
    collector: Collector | None = None,
    observer: Observer | None = None,
    on_progress: Callable[[int, int], None] | None = None,
    ctx: engine.Context | None = None,
    codec: EventCodec | None = None,
    families: tuple[CaseFamily, ...] = tuple(CaseFamily),
    signals_policy: SignalsPolicy | None = None,
    regulator: bool = True,
) -> ReplayResult:
    """Fold the canonical topics as of ``as_of``; ``on_progress(done, total)`` per batch.

    ``collector`` (or any other ``observer``) sees every case event folded and every output
    the processors emit."""
    catalogue = catalogue or Catalogue.from_settings(settings)
    watcher = collector if collector is not None else observer
    side = await read_side_logs(settings, catalogue, as_of.until_ms)
    campaigns = await read_campaigns(settings, catalogue, as_of.until_ms)
    topics = [catalogue.cases(f) for f in families]
    started = time.perf_counter()
    async with LogReader(settings) as reader:
        ranges = await reader.bounds(topics)
        for topic in topics:
            if not any(tp.topic == topic for tp in ranges):
                raise LookupError(f"topic {topic} does not exist (wrong REGBUS_TOPIC_PREFIX?)")
        reg = None
        if regulator and regulator_replayable(as_of, families):
            complaints = catalogue.cases(CaseFamily.COMPLAINTS)
            reg = RegulatorReplay(
                catalogue,
                ctx or shared_context(),
                signals_policy or SignalsPolicy.load(),
                sum(1 for tp in ranges if tp.topic == complaints),
                codec,
            )
        folder = ReplayFolder(
            catalogue, as_of, watcher, ctx=ctx, codec=codec, tap=reg, route=side.route
        )
        total = sum(end - start for start, end in ranges.values())
        done = 0
        async for tp, records in reader.read(ranges):
            done += len(records)
            if folder.feed(tp.topic, tp.partition, records):
                reader.stop(tp)
                done += ranges[tp][1] - records[-1].offset - 1  # left unread after the cutoff
            if on_progress is not None:
                on_progress(done, total)
        folder.finish()
        if reg is not None:
            reg.drain()
            from streams.rule_log import read_rule_changes  # issue 18

            reg.governance.add_rule_changes(await read_rule_changes(settings, as_of.until_ms))
    enforcement = None
    if as_of.case is None and as_of.since_ms is None:
        enforcement = await read_enforcement(
            settings, catalogue, as_of.until_ms, as_of.platform, side.route
        )
    return ReplayResult(
        as_of,
        folder,
        collector,
        time.perf_counter() - started,
        {(tp.topic, tp.partition): r[0] for tp, r in ranges.items()},
        {(tp.topic, tp.partition): r[1] for tp, r in ranges.items()},
        reg,
        side,
        enforcement,
        campaigns,
    )


def regulator_replayable(as_of: AsOf, families: tuple[CaseFamily, ...]) -> bool:
    """Signals and interviews are judged over a platform's or a category's every case: only
    an unfiltered replay of every family can derive them."""
    unfiltered = as_of.case is None and as_of.platform is None and as_of.since_ms is None
    return unfiltered and set(families) == set(CaseFamily)
