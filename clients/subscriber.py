"""Alert subscriptions for regulators: filtered, deduplicated, resumable.

``subscribe(bootstrap, prefix, level=..., office=..., group_id=...)`` returns an
:class:`AlertSubscriber`, an async context manager and async iterator of
:class:`~schemas.models.AlertEvent`::

    async with subscribe(bootstrap, "regbus", level="DEPARTMENT", group_id=group) as alerts:
        async for alert in alerts:
            show(alert)        # an alert counts as delivered when the loop asks for the next

**Once per alert.** The alerts topic is at-least-once: a worker that crashes after sending
re-sends, and a replay re-raises. A re-raised alert carries the same ``alert_id`` (ids come
from natural keys), so the subscriber drops every id it has already delivered to its group.

**Across restarts.** With a ``group_id`` the subscriber keeps two things: the Kafka committed
offsets of the group (its position; committed every ``commit_interval`` seconds and on close)
and the ids it delivered, in an append-only journal under ``REGBUS_STATE_DIR/subscribers/``.
A restart resumes at the committed position and drops ids the journal lists, so an alert
delivered after the last commit is not shown again, and nothing after it is skipped. The ids
live in a local file, not in a compacted topic, because a regulator's account may only read
(the ACL plan gives it READ on the alerts topic and its own groups, no WRITE anywhere), and a
file costs no round trip per alert; the journal is written before the next alert is fetched
and fsynced before each offset commit. A lock file keeps a second process off the same group.

**Delivery point.** An alert is marked delivered when the consumer asks for the next one
(or leaves the ``async with`` block normally): if processing raises, the alert comes again.

**Position.** ``since`` (an aware datetime) starts every partition at the first alert
*published* at or after it (Kafka ``offsets_for_times``), overriding the committed position;
without it a group resumes where it stopped, and a new group starts at ``start``:
``"latest"`` (only new alerts), ``"earliest"``, or an int N (the last N of each partition).
Without a ``group_id`` nothing is committed or written: ids are remembered in memory only.
"""

from __future__ import annotations

import asyncio
import fcntl
import hashlib
import logging
import os
import re
import time
from collections import OrderedDict, deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson
from aiokafka import AIOKafkaConsumer, TopicPartition

from schemas.families import ALERT_EVENTS
from schemas.instants import from_ms, to_ms
from schemas.mapping import from_avro
from schemas.models import AlertEvent, Level
from streams.alert_feed import (
    AlertFilter,
    InvalidFilter,
    ReceivedAlert,
    SubscriptionError,
    alert_json,
)
from streams.codec import DecodeError, EventCodec
from streams.compat import partitions_of

METADATA_RETRIES = (0.2, 0.5, 1.0, 2.0)
"""Pauses before asking the cluster again for a topic it did not list: a topic created a
moment before (the bureau's worker declaring it) reaches every broker's metadata in a while."""
log = logging.getLogger(__name__)

DEFAULT_MAX_SEEN = 200_000
_ALERT_NAMES = frozenset(ALERT_EVENTS)

__all__ = [
    "AlertFilter",
    "AlertSubscriber",
    "InvalidFilter",
    "ReceivedAlert",
    "SeenIds",
    "SubscriberBusy",
    "SubscriptionError",
    "alert_json",
    "subscribe",
]


class SubscriberBusy(SubscriptionError):
    """Another process is subscribed with the same group on this machine."""


class SeenIds:
    """Alert ids already delivered: bounded (oldest forgotten first), optionally persisted
    as an append-only journal of one id per line, compacted when it doubles the bound."""

    def __init__(self, path: Path | None = None, limit: int = DEFAULT_MAX_SEEN) -> None:
        self.path = path
        self.limit = limit
        self._ids: OrderedDict[str, None] = OrderedDict()
        self._fd: int | None = None
        self._lines = 0
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            if path.exists():
                for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
                    if line:
                        self._remember(line)
                        self._lines += 1
            self._open()
            if self._lines > 2 * limit:
                self._compact()

    def _open(self) -> None:
        assert self.path is not None
        self._fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)

    def _remember(self, ident: str) -> None:
        self._ids[ident] = None
        self._ids.move_to_end(ident)
        while len(self._ids) > self.limit:
            self._ids.popitem(last=False)

    def __contains__(self, ident: object) -> bool:
        return ident in self._ids

    def __len__(self) -> int:
        return len(self._ids)

    def add_all(self, idents: Iterable[str]) -> None:
        new = [i for i in idents if i not in self._ids]
        for ident in new:
            self._remember(ident)
        if self._fd is not None and new:
            os.write(self._fd, "".join(f"{i}\n" for i in new).encode())
            self._lines += len(new)
            if self._lines > 2 * self.limit:
                self._compact()

    def sync(self) -> None:
        if self._fd is not None:
            os.fsync(self._fd)

    def _compact(self) -> None:
        assert self.path is not None
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text("".join(f"{i}\n" for i in self._ids), encoding="utf-8")
        with tmp.open("rb") as fh:
            os.fsync(fh.fileno())
        if self._fd is not None:
            os.close(self._fd)
        os.replace(tmp, self.path)
        self._lines = len(self._ids)
        self._open()

    def close(self) -> None:
        if self._fd is not None:
            self.sync()
            os.close(self._fd)
            self._fd = None


@dataclass(slots=True)
class _Entry:
    tp: TopicPartition
    offset: int
    timestamp_ms: int
    alert: AlertEvent | None


@dataclass
class SubscriberStats:
    read: int = 0
    delivered: int = 0
    duplicates: int = 0
    filtered: int = 0
    undecodable: int = 0
    commits: int = 0
    positions: dict[int, int] = field(default_factory=dict)


def _safe_name(group: str) -> str:
    readable = re.sub(r"[^A-Za-z0-9._-]", "_", group)[:80]
    return f"{readable}-{hashlib.sha1(group.encode()).hexdigest()[:8]}"


def _client_options() -> dict[str, Any]:
    try:
        from streams.security import client_kwargs
    except ImportError:  # pragma: no cover - the security module is optional
        return {}
    return client_kwargs()


class AlertSubscriber:
    """See the module docstring. Not safe for concurrent use from several tasks."""

    def __init__(
        self,
        bootstrap: str,
        prefix: str,
        *,
        level: str | Level | Iterable[str | Level] | None = None,
        office: str | Iterable[str] | None = None,
        platform: str | Iterable[str] | None = None,
        rules: str | Iterable[str] | None = None,
        since: datetime | None = None,
        group_id: str | None = None,
        start: str | int = "latest",
        state_dir: Path | None = None,
        codec: EventCodec | None = None,
        client_options: Mapping[str, Any] | None = None,
        commit_interval: float = 1.0,
        max_seen: int = DEFAULT_MAX_SEEN,
        poll_timeout: float = 0.5,
    ) -> None:
        if since is not None and (since.tzinfo is None or since.utcoffset() is None):
            raise SubscriptionError("since must carry a time zone, e.g. 2026-03-02T09:00+08:00")
        if not (start in ("latest", "earliest") or (isinstance(start, int) and start >= 0)):
            raise SubscriptionError("start must be 'latest', 'earliest' or a count >= 0")
        self.bootstrap = bootstrap
        self.topic = f"{prefix}.alerts"
        self.filter = AlertFilter.of(level, office, platform, rules)
        self.since = since
        self.group_id = group_id or None
        self.start_at = start
        self.codec = codec or EventCodec()
        self.commit_interval = commit_interval
        self.poll_timeout_ms = int(poll_timeout * 1000)
        self.stats = SubscriberStats()
        self._client_options = dict(client_options) if client_options is not None else None
        self._max_seen = max_seen
        self._state_dir = state_dir
        self._consumer: AIOKafkaConsumer | None = None
        self._seen: SeenIds | None = None
        self._lock_fd: int | None = None
        self._buffer: deque[_Entry] = deque()
        self._pending: list[_Entry] = []
        self._done: dict[TopicPartition, int] = {}
        self._committed: dict[TopicPartition, int] = {}
        self._last_commit = time.monotonic()

    # lifecycle -------------------------------------------------------------------------
    async def __aenter__(self) -> AlertSubscriber:
        await self.start()
        return self

    async def __aexit__(self, exc_type: Any, *_: Any) -> None:
        await self.stop(mark_pending=exc_type is None)

    async def start(self) -> None:
        if self._consumer is not None:
            return
        self._open_state()
        options = self._client_options if self._client_options is not None else _client_options()
        consumer = AIOKafkaConsumer(
            bootstrap_servers=self.bootstrap,
            group_id=self.group_id,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            **options,
        )
        try:
            await consumer.start()
            self._consumer = consumer
            await self._assign(consumer)
        except BaseException:
            self._consumer = None
            await consumer.stop()
            self._close_state()
            raise

    def _open_state(self) -> None:
        if self.group_id is None:
            self._seen = SeenIds(None, self._max_seen)
            return
        if self._state_dir is None:
            raise SubscriptionError("a subscription with a group_id needs a state_dir")
        base = self._state_dir / "subscribers"
        base.mkdir(parents=True, exist_ok=True)
        name = _safe_name(self.group_id)
        self._lock_fd = os.open(base / f"{name}.lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(self._lock_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(self._lock_fd)
            self._lock_fd = None
            raise SubscriberBusy(
                f"group {self.group_id!r} is in use by another subscriber on this machine"
            ) from None
        self._seen = SeenIds(base / f"{name}.ids", self._max_seen)
        meta = base / f"{name}.json"
        wanted = {"group": self.group_id, "filters": self.filter.describe()}
        if meta.exists():
            try:
                before = orjson.loads(meta.read_bytes())
            except orjson.JSONDecodeError:
                before = None
            if before is not None and before.get("filters") != wanted["filters"]:
                log.warning(
                    "group %s was used with filters %s, now %s: alerts the old filters left "
                    "out before its committed position are not shown",
                    self.group_id, before.get("filters"), wanted["filters"],
                )  # fmt: skip
        meta.write_bytes(orjson.dumps(wanted))

    def _close_state(self) -> None:
        if self._seen is not None:
            self._seen.close()
        if self._lock_fd is not None:
            fcntl.flock(self._lock_fd, fcntl.LOCK_UN)
            os.close(self._lock_fd)
            self._lock_fd = None

    async def _assign(self, consumer: AIOKafkaConsumer) -> None:
        # The consumer's own cache knows only assigned topics; ask the cluster (a regulator
        # sees only the topics its ACLs let it describe).
        partitions = await partitions_of(consumer, self.topic)
        for pause in METADATA_RETRIES:  # a topic created a moment ago may not be listed yet
            if partitions:
                break
            await asyncio.sleep(pause)
            partitions = await partitions_of(consumer, self.topic)
        if not partitions:
            raise SubscriptionError(f"topic {self.topic} does not exist (wrong prefix?)")
        tps = [TopicPartition(self.topic, p) for p in partitions]
        consumer.assign(tps)
        ends = await consumer.end_offsets(tps)
        begins = await consumer.beginning_offsets(tps)
        if self.since is not None:
            found = await consumer.offsets_for_times({tp: to_ms(self.since) for tp in tps})
            positions = {tp: found[tp].offset if found.get(tp) else ends[tp] for tp in tps}
        else:
            positions = {}
            for tp in tps:
                committed = await consumer.committed(tp) if self.group_id else None
                if committed is not None:
                    positions[tp] = committed
                elif self.start_at == "latest":
                    positions[tp] = ends[tp]
                elif self.start_at == "earliest":
                    positions[tp] = begins[tp]
                else:
                    positions[tp] = max(begins[tp], ends[tp] - int(self.start_at))
        for tp, position in positions.items():
            consumer.seek(tp, position)
        self._done = dict(positions)
        self.stats.positions = {tp.partition: off for tp, off in positions.items()}

    async def stop(self, mark_pending: bool = True) -> None:
        """Mark the alerts handed out last as delivered (unless told not to), commit, close."""
        consumer = self._consumer
        if consumer is None:
            return
        try:
            if mark_pending:
                self._mark_pending()
            else:  # handed out but not delivered: the committed position must not pass them
                for e in self._pending:
                    self._done[e.tp] = min(self._done.get(e.tp, e.offset), e.offset)
                self._pending = []
            await self.commit()
        finally:
            self._consumer = None
            await consumer.stop()
            self._close_state()

    # delivery --------------------------------------------------------------------------
    def _mark_pending(self) -> None:
        if not self._pending:
            return
        assert self._seen is not None
        self._seen.add_all(e.alert.alert_id for e in self._pending if e.alert is not None)
        for e in self._pending:
            self._done[e.tp] = e.offset + 1
        self.stats.delivered += len(self._pending)
        self._pending = []

    async def commit(self) -> None:
        """Persist the delivered ids, then commit the position (no-op without a group)."""
        self._last_commit = time.monotonic()
        consumer = self._consumer
        if self.group_id is None or consumer is None:
            return
        changed = {tp: off for tp, off in self._done.items() if self._committed.get(tp) != off}
        if not changed:
            return
        assert self._seen is not None
        self._seen.sync()
        await consumer.commit(changed)
        self._committed.update(changed)
        self.stats.commits += 1
        self.stats.positions.update({tp.partition: off for tp, off in changed.items()})

    async def _fill(self) -> None:
        consumer = self._consumer
        assert consumer is not None
        if time.monotonic() - self._last_commit >= self.commit_interval:
            await self.commit()
        batches = await consumer.getmany(timeout_ms=self.poll_timeout_ms)
        for tp, records in batches.items():
            for rec in records:
                self.stats.read += 1
                self._buffer.append(_Entry(tp, rec.offset, rec.timestamp, self._decode(rec)))

    def _decode(self, rec: Any) -> AlertEvent | None:
        try:
            name, record = self.codec.decode_raw(rec.value or b"")
            if name not in _ALERT_NAMES:
                self.stats.undecodable += 1
                return None
            if not self.filter.matches(record):
                self.stats.filtered += 1
                return None
            alert = from_avro(name, record)
        except DecodeError as exc:
            log.warning("alerts %s@%s: %s", rec.partition, rec.offset, exc)
            self.stats.undecodable += 1
            return None
        except Exception as exc:  # a record the model refuses: skip it, keep the stream
            log.warning("alerts %s@%s: invalid alert: %s", rec.partition, rec.offset, exc)
            self.stats.undecodable += 1
            return None
        assert isinstance(alert, AlertEvent)
        return alert

    def _take(self, limit: int) -> list[_Entry]:
        """Up to ``limit`` new matching entries from the buffer; skipped ones are done."""
        assert self._seen is not None
        taken: list[_Entry] = []
        ids: set[str] = set()
        while self._buffer and len(taken) < limit:
            entry = self._buffer.popleft()
            alert = entry.alert
            if alert is None:
                self._done[entry.tp] = entry.offset + 1
            elif alert.alert_id in self._seen or alert.alert_id in ids:
                self.stats.duplicates += 1
                self._done[entry.tp] = entry.offset + 1
            else:
                ids.add(alert.alert_id)
                taken.append(entry)
        return taken

    def __aiter__(self) -> AlertSubscriber:
        return self

    async def __anext__(self) -> AlertEvent:
        if self._consumer is None:
            await self.start()
        self._mark_pending()
        while True:
            taken = self._take(1)
            if taken:
                self._pending = taken
                assert taken[0].alert is not None
                return taken[0].alert
            await self._fill()

    async def next_batch(self, max_alerts: int = 500) -> list[ReceivedAlert]:
        """The next new alerts (possibly none after one poll); the previous batch counts as
        delivered once this is called."""
        if self._consumer is None:
            await self.start()
        self._mark_pending()
        taken = self._take(max_alerts)
        if not taken:
            await self._fill()
            taken = self._take(max_alerts)
        self._pending = taken
        return [
            ReceivedAlert(
                e.alert,  # type: ignore[arg-type]
                from_ms(e.timestamp_ms),
                e.tp.partition,
                e.offset,
            )
            for e in taken
        ]


def subscribe(
    bootstrap: str,
    prefix: str,
    *,
    level: str | Level | Iterable[str | Level] | None = None,
    office: str | Iterable[str] | None = None,
    platform: str | Iterable[str] | None = None,
    rules: str | Iterable[str] | None = None,
    since: datetime | None = None,
    group_id: str | None = None,
    **options: Any,
) -> AlertSubscriber:
    """A subscription to ``<prefix>.alerts`` (start it with ``async with``); see the module
    docstring for delivery, dedup and position. ``options`` go to :class:`AlertSubscriber`."""
    return AlertSubscriber(
        bootstrap, prefix, level=level, office=office, platform=platform, rules=rules,
        since=since, group_id=group_id, **options,
    )  # fmt: skip
