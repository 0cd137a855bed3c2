"""The worker's roster: the roster topic folded into an :class:`AlertRouter`, and the hooks
that make the case agents and the regulator's signals route every alert by it.

A :class:`TopicTail` reads the single-partition ``roster`` topic to its end before the agents
start (a snapshot in a thread, as the ingress registry does) and then follows it, so an
assignment published while the worker runs applies to the next alert.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import Any

from agents.core.routing import AlertRouter
from schemas.families import INBOX_ALERTS
from schemas.models import AlertEvent, Event, RosterAssigned
from streams.codec import DecodeError, EventCodec
from streams.records import BatchResult, OutRecord
from streams.topics import Catalogue

log = logging.getLogger(__name__)

SIGNALS_SOURCE = "/bureau/regulator"

__all__ = ["RosterTail", "TopicTail", "attach", "reroute"]


class TopicTail:
    """Reads partition 0 of a topic from the start and hands each decoded event to
    ``on_event``; ``snapshot()`` reads to the current end once, ``run()`` follows it."""

    def __init__(
        self,
        bootstrap: str,
        topic: str,
        on_event: Callable[[Event], object],
        *,
        client_options: Mapping[str, Any] | None = None,
        codec: EventCodec | None = None,
    ) -> None:
        self.bootstrap = bootstrap
        self.topic = topic
        self.on_event = on_event
        self.client_options = dict(client_options or {})
        self.codec = codec or EventCodec()
        self.position = 0
        self.skipped = 0

    def _consumer(self) -> Any:
        from aiokafka import AIOKafkaConsumer

        return AIOKafkaConsumer(
            bootstrap_servers=self.bootstrap, group_id=None, enable_auto_commit=False,
            **self.client_options,
        )  # fmt: skip

    def _apply(self, records: Any) -> None:
        for msg in records:
            try:
                event = self.codec.decode(msg.value, list(msg.headers or ()))
            except DecodeError as exc:
                log.error("%s@%d: %s", self.topic, msg.offset, exc)
                self.skipped += 1
                continue
            self.on_event(event)

    async def _read_to_end(self, consumer: Any) -> bool:
        from aiokafka import TopicPartition

        if self.topic not in await consumer.topics():
            return False
        tp = TopicPartition(self.topic, 0)
        if tp not in consumer.assignment():
            consumer.assign([tp])
        consumer.seek(tp, self.position)
        end = (await consumer.end_offsets([tp]))[tp]
        while self.position < end:
            batch = await consumer.getmany(tp, timeout_ms=1000)
            self._apply(batch.get(tp, []))
            self.position = await consumer.position(tp)
        return True

    async def snapshot(self) -> None:
        consumer = self._consumer()
        await consumer.start()
        try:
            await self._read_to_end(consumer)
        finally:
            await consumer.stop()

    async def run(self, idle: float = 1.0) -> None:
        consumer = self._consumer()
        await consumer.start()
        try:
            while True:
                try:
                    if not await self._read_to_end(consumer):
                        await asyncio.sleep(idle)  # the topic does not exist yet
                        continue
                    await asyncio.sleep(idle)
                except asyncio.CancelledError:
                    raise
                except Exception as exc:  # a broker hiccup: keep what we have, try again
                    log.warning("tailing %s: %s", self.topic, exc)
                    await asyncio.sleep(idle)
        finally:
            await consumer.stop()


class RosterTail(TopicTail):
    """The roster topic into an :class:`AlertRouter`."""

    def __init__(self, bootstrap: str, catalogue: Catalogue, router: AlertRouter,
                 **kwargs: Any) -> None:  # fmt: skip
        self.router = router
        super().__init__(bootstrap, catalogue.roster, self._on, **kwargs)

    def _on(self, event: Event) -> None:
        if isinstance(event, RosterAssigned):
            self.router.apply(event)


def reroute(
    result: BatchResult,
    router: AlertRouter,
    catalogue: Catalogue,
    has_inbox: Callable[[str], bool],
    codec: EventCodec,
    source: str = SIGNALS_SOURCE,
) -> BatchResult:
    """Route the alerts of a processor that publishes them encoded (the regulator's signals
    and interview recommendations) and copy the platform's own to its inbox."""
    out: list[OutRecord] = []
    for rec in result.out:
        if rec.topic != catalogue.alerts:
            out.append(rec)
            continue
        try:
            alert = codec.decode(rec.value or b"", rec.headers)
        except DecodeError:
            out.append(rec)
            continue
        if not isinstance(alert, AlertEvent):
            out.append(rec)
            continue
        for routed in router.route(alert):
            _key, value, headers = codec.encode(routed, source)
            out.append(OutRecord(rec.topic, routed.subject.encode(), value, headers))
            if routed.EVENT_NAME in INBOX_ALERTS and has_inbox(routed.platform_id):
                out.append(OutRecord(catalogue.inbox(routed.platform_id), rec.key, value, headers))
    return replace(result, out=out)


def attach(app: Any, settings: Any, catalogue: Catalogue, parts: Any) -> AlertRouter:
    """Fold the roster into one router before the agents start, follow it, and route the
    case agents' alerts by it (the regulator calls :func:`reroute` on its results)."""
    from agents.ingress import PlatformStatus
    from agents.ingress.wiring import _in_thread
    from streams.security import client_kwargs

    router = AlertRouter()
    tail = RosterTail(settings.bootstrap, catalogue, router, client_options=client_kwargs(settings))
    try:
        _in_thread(tail.snapshot, timeout=30.0)
    except Exception as exc:  # broker not up yet: the tail catches up once it is
        log.warning("roster: no snapshot at start (%s); following the topic", exc)

    directory = getattr(parts.ingress_watcher, "directory", None)

    def has_inbox(platform_id: str) -> bool:
        return directory is not None and directory.status(platform_id) is PlatformStatus.ACTIVE

    for proc in parts.case_processors.values():
        proc.route = router.route
        proc.has_inbox = has_inbox
    parts.roster_router = router
    if parts.regulator is not None:
        codec = EventCodec()
        parts.regulator.route_result = lambda result: reroute(
            result, router, catalogue, has_inbox, codec
        )

    async def roster_tail() -> None:
        await tail.run()

    app.task(roster_tail)
    return router
