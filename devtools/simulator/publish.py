"""Publish a simulation to a running system, in simulated-time slices.

Events go to ingress and reach the case topics only once the worker has routed them, while a
tick is written straight into the case topics. To keep every tick *after* the events it must
follow, each slice (the sends up to a tick's instant) is published, then we wait until the
canonical topics' end offsets have grown by exactly the number of records ingress will route
(a bounded wait), and only then publish the tick.

Inside a slice, one case may have events on two ingress topics (the bureau forwards, the
platform signs for it an hour later); the two topics are consumed independently, so the slice
is split into *waves*: a case's next event goes one wave later whenever it changes topic (or
producer: a raw resend on the platform's own topic is not ordered with the SDK's records),
and each wave is routed before the next is sent.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from clients.publisher import PlatformPublisher
from devtools.simulator.config import SimConfig
from devtools.simulator.model import Send, Sender, SimItem, Tick
from devtools.simulator.platforms import STRAY_INGRESS, coverage
from schemas.families import CaseFamily
from streams.admin import ensure_topics
from streams.cloudevents_headers import bureau_source
from streams.codec import EventCodec
from streams.registry import add_platform
from streams.roster_log import publish_roster
from streams.settings import Settings
from streams.ticks import publish_ticks
from streams.topics import Catalogue, Family, TopicSpec

FUTURE_MARGIN = timedelta(minutes=5)


class RoutingStalledError(RuntimeError):
    """The worker did not route a slice in time (not running, wrong prefix, or stuck)."""


@dataclass
class PublishStats:
    sent: int = 0
    routed: int = 0
    raw: int = 0
    ticks: int = 0
    waves: int = 0
    sim_time: datetime | None = None
    started: float = field(default_factory=time.monotonic)
    waiting: float = 0.0
    """Seconds spent waiting for the worker to route."""

    @property
    def elapsed(self) -> float:
        return time.monotonic() - self.started


Progress = Callable[[PublishStats], Awaitable[None] | None]


async def prepare(settings: Settings, cfg: SimConfig) -> Catalogue:
    """Create the topics, register the platforms and the stray ingress-pattern topic.

    Run it before the worker starts when you can: the worker then subscribes to the stray
    topic at once instead of finding it on its next scan (up to ~10 s later)."""
    ids = [p.platform_id for p in cfg.roster]
    catalogue = Catalogue.from_settings(settings).with_platforms(ids)
    stray = TopicSpec(
        f"{settings.topic_prefix}.{STRAY_INGRESS}",
        Family.INGRESS,
        1,
        "case id",
        (),
        "Simulator probe: an ingress-pattern topic no platform owns (WRONG_TOPIC).",
        replication_factor=settings.replication_factor,
        min_insync_replicas=settings.min_insync_replicas,
    )
    await ensure_topics(settings.bootstrap, [*catalogue.specs(), stray])
    for platform_id in ids:
        await add_platform(settings, platform_id, cfg.roster[ids.index(platform_id)].name)
    # the 包片 roster, in force well before the window (and its backlog): every alert has an owner
    await publish_roster(settings, coverage(cfg.roster, cfg.start_at - timedelta(days=400)))
    from devtools.simulator.rule_changes import publish_rule_change  # issue 18

    await publish_rule_change(settings, cfg)
    return catalogue


def check_window(cfg: SimConfig, now: datetime | None = None) -> None:
    """Ingress refuses events from the future: the whole window must lie in the past."""
    now = now or datetime.now(UTC)
    if cfg.end_at > now - FUTURE_MARGIN:
        raise ValueError(
            f"the simulated window ends {cfg.end_at:%Y-%m-%d %H:%M} UTC, not in the past: ingress "
            "would dead-letter its events as FUTURE_TIMESTAMP. Choose an earlier --start."
        )


class RouteWatch:
    """Sums the end offsets of every canonical case partition (and the governance topic's)."""

    def __init__(self, bootstrap: str, catalogue: Catalogue) -> None:
        self._tps = [
            TopicPartition(catalogue.cases(fam), p)
            for fam in CaseFamily
            for p in range(catalogue.case_partitions)
        ]
        # the bureau's enforcement acts are routed to governance (and ticked there too)
        self._tps += [
            TopicPartition(catalogue.governance, p) for p in range(catalogue.case_partitions)
        ]
        self._governance = catalogue.governance
        self._consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=None)

    @property
    def partitions(self) -> int:
        """The partitions every tick is published to (the case and governance partitions)."""
        return len(self._tps)

    async def start(self) -> None:
        await self._consumer.start()

    async def stop(self) -> None:
        await self._consumer.stop()

    async def total(self) -> int:
        ends = await self._consumer.end_offsets(self._tps)
        return int(sum(ends.values()))

    async def case_total(self) -> int:
        """The case partitions alone: what tells a prefix that holds a run (the governance
        topic already has the rule change :func:`prepare` records)."""
        tps = [tp for tp in self._tps if tp.topic != self._governance]
        ends = await self._consumer.end_offsets(tps)
        return int(sum(ends.values()))

    async def wait_for(self, target: int, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        delay = 0.005
        while (seen := await self.total()) < target:
            if time.monotonic() > deadline:
                raise RoutingStalledError(
                    f"ingress routed {seen} of {target} canonical records within {timeout:.0f}s; "
                    "is a worker running on this prefix with --clock external?"
                )
            await asyncio.sleep(delay)
            delay = min(0.05, delay * 1.5)


def _lane(s: Send) -> str:
    """Topic and producer: records keep their order only within one of these."""
    if s.raw is not None:  # the raw producer, not the SDK's, even on a platform's topic
        return f"raw:{s.raw.topic}"
    return "ingress.bureau" if s.sender is Sender.BUREAU else f"ingress.{s.owner}"


def waves(sends: list[Send]) -> list[list[Send]]:
    """Split a slice so that no case changes lane (topic and producer) inside one wave.

    Resends count too: a resend that overtook its original would be the copy ingress
    routes, possibly ahead of the case's earlier records."""
    out: list[list[Send]] = []
    last: dict[str, tuple[str, int]] = {}
    for s in sends:
        lane = _lane(s)
        prev = last.get(s.case_id)
        index = 0 if prev is None else prev[1] + (prev[0] != lane)
        last[s.case_id] = (lane, index)
        while len(out) <= index:
            out.append([])
        out[index].append(s)
    return out


class SlicePublisher:
    """Publishes a simulation's items to one prefix (an async context manager)."""

    def __init__(
        self,
        settings: Settings,
        cfg: SimConfig,
        *,
        codec: EventCodec | None = None,
        pace: float = 0.0,
        route_timeout: float = 60.0,
        first_route_timeout: float = 120.0,
    ) -> None:
        self.settings = settings
        self.cfg = cfg
        self.codec = codec or EventCodec()
        self.pace = pace
        self.route_timeout = route_timeout
        self.first_route_timeout = first_route_timeout
        ids = [p.platform_id for p in cfg.roster]
        self.catalogue = Catalogue.from_settings(settings).with_platforms(ids)
        self.stats = PublishStats()
        self._producer: Any = None
        self._platforms: dict[str, PlatformPublisher] = {}
        self._watch = RouteWatch(settings.bootstrap, self.catalogue)
        self._target = 0
        self._routed_once = False

    async def __aenter__(self) -> SlicePublisher:
        from streams.security import client_kwargs

        options = client_kwargs(self.settings)
        self._producer = AIOKafkaProducer(
            bootstrap_servers=self.settings.bootstrap,
            acks="all",
            enable_idempotence=True,
            linger_ms=5,
            **options,
        )
        await self._producer.start()
        for p in self.cfg.roster:
            pub = PlatformPublisher(
                p.platform_id,
                self.settings.bootstrap,
                prefix=self.settings.topic_prefix,
                codec=self.codec,
                linger_ms=5,
                producer_options=options,
            )
            await pub.start()
            self._platforms[p.platform_id] = pub
        await self._watch.start()
        self._target = await self._watch.total()
        return self

    async def __aexit__(self, *exc: object) -> None:
        for pub in self._platforms.values():
            await pub.stop()
        if self._producer is not None:
            await self._producer.stop()
        await self._watch.stop()

    async def run(self, items: Iterable[SimItem], progress: Progress | None = None) -> PublishStats:
        pending: list[Send] = []
        slice_started = time.monotonic()
        for item in items:
            if isinstance(item, Send):
                pending.append(item)
                continue
            await self._slice(pending, item)
            pending = []
            if progress is not None:
                maybe = progress(self.stats)
                if maybe is not None:
                    await maybe
            if self.pace:
                await asyncio.sleep(max(0.0, self.pace - (time.monotonic() - slice_started)))
            slice_started = time.monotonic()
        return self.stats

    async def _slice(self, sends: list[Send], tick: Tick) -> None:
        for wave in waves(sends):
            await self._send_wave(wave)
        await publish_ticks(
            self.settings.bootstrap, self.catalogue, tick.at, self.codec, self._producer
        )
        self._target += self._watch.partitions
        self.stats.ticks += 1
        self.stats.sim_time = tick.at

    async def _send_wave(self, wave: list[Send]) -> None:
        by_platform: dict[str, list[Any]] = {}
        futures: list[Any] = []
        routed = 0
        for s in wave:
            if s.sender is Sender.PLATFORM:
                by_platform.setdefault(s.owner, []).append(s.event)
            elif s.sender is Sender.BUREAU:
                assert s.event is not None
                key, value, headers = self.codec.encode(s.event, bureau_source(s.unit))
                topic = self.catalogue.bureau_ingress
                futures.append(await self._producer.send(topic, value, key=key, headers=headers))
            else:
                assert s.raw is not None
                topic = f"{self.settings.topic_prefix}.{s.raw.topic}"
                futures.append(
                    await self._producer.send(
                        topic, s.raw.value, key=s.raw.key, headers=list(s.raw.headers)
                    )
                )
                self.stats.raw += 1
            routed += s.routed
        reports = await asyncio.gather(
            *(self._platforms[pid].publish_batch(events) for pid, events in by_platform.items())
        )
        await asyncio.gather(*futures)
        for report in reports:
            if not report.ok or report.duplicates:
                problems = report.rejected + report.failed
                raise RuntimeError(f"the SDK refused simulated events: {problems[:3]}")
        self.stats.sent += len(wave)
        self.stats.waves += 1
        if routed:
            self._target += routed
            self.stats.routed += routed
            began = time.monotonic()
            timeout = self.route_timeout if self._routed_once else self.first_route_timeout
            await self._watch.wait_for(self._target, timeout)
            self._routed_once = True
            self.stats.waiting += time.monotonic() - began


async def publish_simulation(
    settings: Settings,
    items: Iterable[SimItem],
    cfg: SimConfig,
    *,
    progress: Progress | None = None,
    pace: float = 0.0,
    route_timeout: float = 60.0,
    first_route_timeout: float = 120.0,
) -> PublishStats:
    """Publish a run to ``settings``' prefix (topics prepared, a worker running)."""
    check_window(cfg)
    async with SlicePublisher(
        settings,
        cfg,
        pace=pace,
        route_timeout=route_timeout,
        first_route_timeout=first_route_timeout,
    ) as pub:
        return await pub.run(items, progress)
