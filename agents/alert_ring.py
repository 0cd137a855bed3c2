"""The ring of recent alerts each worker keeps for ``/alerts`` and the SSE stream, filled from
the whole alerts topic with the worker's own consumer (no group, nothing committed)."""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict, deque
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition

from schemas.families import ALERT_EVENTS
from schemas.instants import from_ms, to_ms
from schemas.mapping import from_avro
from schemas.models import AlertEvent
from streams.alert_feed import AlertFilter, ReceivedAlert, alert_json
from streams.codec import EventCodec
from streams.compat import partitions_of
from streams.security import client_kwargs
from streams.topics import Catalogue

__all__ = ["RING_SIZE", "SSE_QUEUE", "AlertRing", "RingEntry", "fill_ring"]

log = logging.getLogger(__name__)

RING_SIZE = 5000
"""Recent alerts each worker keeps for ``/alerts`` and the SSE stream."""
SEEN_IDS = 200_000
"""Alert ids remembered so that a re-sent alert (at-least-once) enters the ring once."""
SSE_QUEUE = 1000


# ---- the ring of recent alerts -------------------------------------------------------------
@dataclass(slots=True)
class RingEntry:
    published_ms: int
    alert: dict[str, Any]


class _Listener:
    def __init__(self) -> None:
        self.queue: asyncio.Queue[RingEntry | None] = asyncio.Queue(SSE_QUEUE)
        self.overflowed = False


class AlertRing:
    """The last ``size`` distinct alerts, oldest first, and the live SSE listeners."""

    def __init__(self, size: int = RING_SIZE) -> None:
        self.entries: deque[RingEntry] = deque(maxlen=size)
        self.listeners: set[_Listener] = set()
        self.ready = False
        self.seen = 0
        self._ids: OrderedDict[str, None] = OrderedDict()  # a re-sent alert is shown once

    def add(self, received: Iterable[ReceivedAlert]) -> None:
        for item in received:
            alert_id = item.alert.alert_id
            if alert_id in self._ids:
                continue
            self._ids[alert_id] = None
            if len(self._ids) > SEEN_IDS:
                self._ids.popitem(last=False)
            entry = RingEntry(to_ms(item.published_at), alert_json(item.alert))
            self.entries.append(entry)
            self.seen += 1
            for listener in list(self.listeners):
                try:
                    listener.queue.put_nowait(entry)
                except asyncio.QueueFull:  # a client that does not read: cut it off
                    listener.overflowed = True
                    self.listeners.discard(listener)

    def listen(self) -> _Listener:
        listener = _Listener()
        self.listeners.add(listener)
        return listener

    def close(self) -> None:
        for listener in list(self.listeners):
            try:
                listener.queue.put_nowait(None)
            except asyncio.QueueFull:
                listener.overflowed = True
        self.listeners.clear()

    def query(
        self, flt: AlertFilter, since: datetime | None, after_id: str | None = None
    ) -> list[RingEntry]:
        """Matching entries, oldest first: published at/after ``since``, after ``after_id``."""
        entries = list(self.entries)
        if after_id is not None:
            for i in range(len(entries) - 1, -1, -1):
                if entries[i].alert["alert_id"] == after_id:
                    entries = entries[i + 1 :]
                    break
        since_ms = None if since is None else to_ms(since)
        return [
            e
            for e in entries
            if (since_ms is None or e.published_ms >= since_ms) and flt.matches(e.alert)
        ]


async def fill_ring(ring: AlertRing, settings: Any, catalogue: Catalogue) -> None:
    """Follow the whole alerts topic (no group, nothing committed), starting with its tail."""
    per_partition = RING_SIZE // max(1, catalogue.case_partitions) + 1
    codec = EventCodec()
    while True:
        consumer = AIOKafkaConsumer(
            bootstrap_servers=settings.bootstrap, group_id=None, enable_auto_commit=False,
            **client_kwargs(),
        )  # fmt: skip
        try:
            await consumer.start()
            partitions = await partitions_of(consumer, catalogue.alerts)
            tps = [TopicPartition(catalogue.alerts, p) for p in partitions]
            consumer.assign(tps)
            ends = await consumer.end_offsets(tps)
            begins = await consumer.beginning_offsets(tps)
            for tp in tps:
                consumer.seek(tp, max(begins[tp], ends[tp] - per_partition))
            ring.ready = True
            while True:
                batches = await consumer.getmany(timeout_ms=200)
                ring.add(_received(codec, batches))
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # broker away, topic missing: keep trying
            ring.ready = False
            log.warning("alert ring: %s; retrying", exc)
            await asyncio.sleep(2.0)
        finally:
            await consumer.stop()


def _received(codec: EventCodec, batches: dict[Any, list[Any]]) -> list[ReceivedAlert]:
    """The decodable alerts of one poll; an undecodable record is logged and passed over
    (the ring is a view: the alerts topic itself stays whole)."""
    out: list[ReceivedAlert] = []
    for records in batches.values():
        for rec in records:
            try:
                name, record = codec.decode_raw(rec.value or b"")
                if name not in ALERT_EVENTS:
                    continue
                alert = from_avro(name, record)
            except Exception as exc:
                log.warning("alerts %s@%s: %s", rec.partition, rec.offset, exc)
                continue
            assert isinstance(alert, AlertEvent)
            published = from_ms(rec.timestamp)
            out.append(ReceivedAlert(alert, published, rec.partition, rec.offset))
    return out
