"""The platform SDK: publish complaint, refund and rectification events to the bureau.

::

    async with PlatformPublisher("acme", "127.0.0.1:19092") as pub:
        await pub.acknowledge_complaint("case-1", event_id="acme-ack-1", handler_ref="agent-7")
        report = await pub.publish_batch(events)          # all valid, or nothing is sent
        assert report.ok, report.rejected

Every submission carries a platform-unique ``event_id`` (it becomes ``ce_id``). Pass your own
stable id to make retries safe: the bureau's ingress drops a resend of an id it has seen,
and this SDK reports an id already sent in the same session as a duplicate without sending
it again. Events are validated (pydantic, plus what a platform may send — see
:data:`agents.ingress.SEND_RULES` — and no personal data in clear in any free-text or
reference field, :mod:`schemas.pii`) before anything is sent; a batch with any invalid item is
not sent at all and every bad item is reported (index, field, message).

The producer uses ``acks="all"`` with idempotence on; a batch is handed to the producer in
one go and its deliveries are awaited together, never one by one.
"""

from __future__ import annotations

import asyncio
import difflib
import threading
from collections import OrderedDict
from collections.abc import Callable, Coroutine, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import wraps
from typing import Any, TypeVar

from aiokafka.partitioner import DefaultPartitioner
from pydantic import ValidationError

from schemas.models import (
    EVENT_TYPES,
    Category,
    Channel,
    ComplaintAcknowledged,
    ComplaintFiled,
    ComplaintResolved,
    ComplaintResumed,
    ComplaintSuspended,
    Event,
    Outcome,
    Priority,
    RectificationSubmitted,
    RefundPaid,
    RefundRequested,
    RefundReviewed,
    ReviewDecision,
    SuspendReason,
)
from schemas.pii import scan_event
from schemas.send_rules import Sender, refusal
from streams.cloudevents_headers import platform_source
from streams.codec import EncodeError, EventCodec
from streams.limits import MAX_MESSAGE_BYTES, PRODUCER_MAX_REQUEST_BYTES, record_batch_bytes
from streams.topics import Catalogue

__all__ = [
    "InvalidEventError",
    "ItemError",
    "PlatformNotRegisteredError",
    "PlatformPublisher",
    "PublishReport",
    "SyncPlatformPublisher",
    "validate_items",
]

T = TypeVar("T")
WHOLE_ITEM = "(item)"
DELIVERY = "(delivery)"


@dataclass(frozen=True)
class ItemError:
    """One problem with one item of a batch: its index, the field (dotted path) and why."""

    index: int
    field: str
    message: str

    def __str__(self) -> str:
        return f"[{self.index}] {self.field}: {self.message}"


@dataclass
class PublishReport:
    """What happened to a batch. ``sent`` and ``duplicates`` hold event ids."""

    sent: list[str] = field(default_factory=list)
    duplicates: list[str] = field(default_factory=list)
    rejected: list[ItemError] = field(default_factory=list)
    """Validation problems: when there are any, nothing of the batch was sent."""
    failed: list[ItemError] = field(default_factory=list)
    """Items the broker did not acknowledge; resend them with the same ids."""

    @property
    def ok(self) -> bool:
        return not self.rejected and not self.failed

    def add(self, other: PublishReport, offset: int = 0) -> None:
        """Fold a later chunk's report into this one (its indexes shifted by ``offset``)."""
        self.sent += other.sent
        self.duplicates += other.duplicates
        self.rejected += [ItemError(e.index + offset, e.field, e.message) for e in other.rejected]
        self.failed += [ItemError(e.index + offset, e.field, e.message) for e in other.failed]


class InvalidEventError(ValueError):
    """A single event failed validation; ``errors`` says where."""

    def __init__(self, errors: Sequence[ItemError]) -> None:
        super().__init__("; ".join(f"{e.field}: {e.message}" for e in errors))
        self.errors = list(errors)


class PlatformNotRegisteredError(RuntimeError):
    """The platform's ingress topic does not exist (``regbus platform add <id>`` first)."""


def _loc(loc: Iterable[Any]) -> str:
    return ".".join(str(p) for p in loc) or WHOLE_ITEM


def _unknown_type(name: Any) -> str:
    if not isinstance(name, str):
        return f"must be an event type name, got {type(name).__name__}"
    close = difflib.get_close_matches(name, sorted(EVENT_TYPES), n=1, cutoff=0.6)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    return f"unknown event type {name!r}{hint}"


def _problem(error: Any) -> str:
    """Pydantic's message, with what was found when it says what was expected."""
    message = str(error["msg"])
    if error.get("type") not in ("missing", "extra_forbidden") and "input" in error:
        found = error["input"]
        # What was found, never the text itself: it may be the personal data refused.
        shown = "a string" if isinstance(found, str) else f"{type(found).__name__} {found!r:.60}"
        message += f" (got {shown})"
    return message


def validate_item(platform_id: str, index: int, item: Any) -> tuple[Event | None, list[ItemError]]:
    """One batch item (an event, or a mapping with ``"type"``) checked as a platform's event."""
    if isinstance(item, Event):
        event: Event = item
    elif isinstance(item, Mapping):
        fields = dict(item)
        name = fields.pop("type", None)
        if not name:
            return None, [ItemError(index, "type", "missing: name the event, e.g. RefundPaid")]
        cls = EVENT_TYPES.get(name) if isinstance(name, str) else None
        if cls is None:
            return None, [ItemError(index, "type", _unknown_type(name))]
        fields.setdefault("platform_id", platform_id)
        try:
            event = cls.model_validate(fields)
        except ValidationError as exc:
            return None, [ItemError(index, _loc(e["loc"]), _problem(e)) for e in exc.errors()]
    else:
        return None, [ItemError(index, WHOLE_ITEM, "expected an event or a JSON object")]
    errors: list[ItemError] = []
    refused = refusal(event, Sender.PLATFORM)
    if refused is not None:
        errors.append(ItemError(index, *refused))
    if event.platform_id != platform_id:
        errors.append(
            ItemError(index, "platform_id", f"must be {platform_id!r} (the publishing platform)")
        )
    if not event.case_id:
        errors.append(ItemError(index, "case_id", "must not be empty"))
    # Personal data in clear never leaves the platform (PIPL; docs/security.md).
    errors += [ItemError(index, f.field, f.message()) for f in scan_event(event)]
    return (None, errors) if errors else (event, [])


def _size(value: Any) -> int:
    if isinstance(value, str):
        return len(value.encode("utf-8"))
    if isinstance(value, bytes):
        return len(value)
    if isinstance(value, Mapping):
        return sum(_size(v) for v in value.values())
    if isinstance(value, list | tuple):
        return sum(_size(v) for v in value)
    return 8


def oversize_error(
    index: int, event: Event, key: bytes, value: bytes, headers: Sequence[tuple[str, bytes]]
) -> ItemError | None:
    """An error naming the largest field if the event's record would be above the bus's one
    size limit (:data:`streams.limits.MAX_MESSAGE_BYTES`), else None."""
    size = record_batch_bytes(key, value, headers)
    if size <= MAX_MESSAGE_BYTES:
        return None
    fields = event.model_dump()
    name = max(fields, key=lambda f: _size(fields[f])) if fields else WHOLE_ITEM
    return ItemError(
        index, name,
        f"the event is {size} bytes on the wire, more than the limit of {MAX_MESSAGE_BYTES} "
        f"bytes; {name} alone is {_size(fields.get(name))} bytes",
    )  # fmt: skip


def validate_items(platform_id: str, items: Sequence[Any]) -> tuple[list[Event], list[ItemError]]:
    """Every item validated; the events (in order) and every error found."""
    events: list[Event] = []
    errors: list[ItemError] = []
    for i, item in enumerate(items):
        event, errs = validate_item(platform_id, i, item)
        if event is not None:
            events.append(event)
        errors += errs
    return events, errors


class PlatformPublisher:
    """Async publisher for one platform (an async context manager)."""

    def __init__(
        self,
        platform_id: str,
        bootstrap: str,
        *,
        prefix: str = "regbus",
        codec: EventCodec | None = None,
        linger_ms: int = 10,
        max_batch_size: int = 512 * 1024,
        compression_type: str | None = None,
        request_timeout_ms: int = 30000,
        dedup_capacity: int = 100_000,
        clock: Callable[[], datetime] | None = None,
        producer_options: Mapping[str, Any] | None = None,
        check_registered: bool = True,
    ) -> None:
        self.platform_id = platform_id
        self.bootstrap = bootstrap
        self.topic = Catalogue(prefix).ingress(platform_id)
        self.source = platform_source(platform_id)
        self.codec = codec or EventCodec()
        self._clock = clock or (lambda: datetime.now(UTC))
        self._producer_kwargs: dict[str, Any] = {
            "linger_ms": linger_ms,
            "max_batch_size": max_batch_size,
            "compression_type": compression_type,
            "request_timeout_ms": request_timeout_ms,
            **(producer_options or {}),
            "acks": "all",
            "enable_idempotence": True,
            "max_request_size": PRODUCER_MAX_REQUEST_BYTES,
        }
        self._check_registered = check_registered
        self._capacity = dedup_capacity
        self._sent_ids: OrderedDict[str, None] = OrderedDict()
        self._producer: Any = None
        self._partitioner = DefaultPartitioner()
        self._partition_key: list[int] = []
        self._partition_of: dict[bytes, int] = {}

    # lifecycle ----------------------------------------------------------------------------
    async def start(self) -> None:
        from aiokafka import AIOKafkaProducer

        if self._producer is not None:
            return
        producer = AIOKafkaProducer(bootstrap_servers=self.bootstrap, **self._producer_kwargs)
        await producer.start()
        try:
            if self._check_registered and not await self._topic_exists(producer):
                raise PlatformNotRegisteredError(
                    f"topic {self.topic} does not exist: is platform {self.platform_id!r} "
                    f"registered? (regbus platform add {self.platform_id})"
                )
        except BaseException:
            await producer.stop()
            raise
        self._producer = producer

    async def _topic_exists(self, producer: Any) -> bool:
        # A topic created a moment ago may take a little while to reach every broker's
        # metadata cache, so a miss is re-checked briefly before it counts.
        for delay in (0.0, 0.2, 0.5, 1.0):
            await asyncio.sleep(delay)
            metadata = await producer.client.fetch_all_metadata()
            if self.topic in metadata.topics():
                return True
        return False

    async def stop(self) -> None:
        producer, self._producer = self._producer, None
        if producer is not None:
            await producer.stop()

    async def __aenter__(self) -> PlatformPublisher:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # publishing ---------------------------------------------------------------------------
    def was_sent(self, event_id: str) -> bool:
        """True if this session already delivered ``event_id`` (bounded memory)."""
        return event_id in self._sent_ids

    def _remember_all(self, event_ids: Iterable[str]) -> None:
        """Event ids just delivered (new to this session: the batch skipped known ones)."""
        sent = self._sent_ids
        for eid in event_ids:
            sent[eid] = None
        while len(sent) > self._capacity:
            sent.popitem(last=False)

    async def publish_batch(self, items: Sequence[Event | Mapping[str, Any]]) -> PublishReport:
        """Validate every item, then send them all (or, if any is invalid, none)."""
        events, errors = validate_items(self.platform_id, items)
        report = PublishReport()
        if errors:
            report.rejected = errors
            return report
        batch_ids: set[str] = set()
        todo: list[tuple[int, Event, tuple[bytes, bytes, list[tuple[str, bytes]]]]] = []
        for index, event in enumerate(events):
            eid = event.event_id
            if eid in batch_ids or eid in self._sent_ids:
                report.duplicates.append(eid)
                continue
            batch_ids.add(eid)
            try:
                encoded = self.codec.encode(event, self.source)
            except EncodeError as exc:
                report.rejected.append(ItemError(index, WHOLE_ITEM, str(exc)))
                continue
            too_large = oversize_error(index, event, *encoded)
            if too_large is not None:
                report.rejected.append(too_large)
                continue
            todo.append((index, event, encoded))
        if report.rejected:
            report.duplicates.clear()
            return report
        if not todo:
            return report
        await self._send_all(todo, report)
        return report

    async def _send_all(
        self,
        todo: list[tuple[int, Event, tuple[bytes, bytes, list[tuple[str, bytes]]]]],
        report: PublishReport,
    ) -> None:
        """Send through aiokafka's batch API: records go into one batch per partition
        (partitioned by key as the producer's default partitioner would) and each full batch is
        queued whole: a third of ``send()``'s per-record cost, same ordering per key, same
        acks=all and idempotence. A batch that fails fails each of its records."""
        producer = self._require_started()
        partitions = await self._partitions(producer)
        builders: dict[int, tuple[Any, list[tuple[int, str]]]] = {}
        queued: list[tuple[list[tuple[int, str]], Any]] = []

        async def submit(partition: int) -> None:
            batch, members = builders.pop(partition)
            batch.close()  # complete: the sender takes it at once instead of lingering
            try:
                fut = await producer.send_batch(batch, self.topic, partition=partition)
            except Exception as exc:
                for index, _eid in members:
                    report.failed.append(ItemError(index, DELIVERY, f"{type(exc).__name__}: {exc}"))
                return
            queued.append((members, fut))

        partition_of = self._partition_cache(partitions)
        for index, event, (key, value, headers) in todo:
            partition = partition_of.get(key)
            if partition is None:
                partition = partition_of[key] = self._partitioner(key, partitions, partitions)
            entry = builders.get(partition)
            if entry is None:
                entry = builders[partition] = (producer.create_batch(), [])
            if entry[0].append(key=key, value=value, timestamp=None, headers=headers) is None:
                await submit(partition)  # full: queue it, start the next one
                entry = builders[partition] = (producer.create_batch(), [])
                entry[0].append(key=key, value=value, timestamp=None, headers=headers)
            entry[1].append((index, event.event_id))
        for partition in list(builders):
            await submit(partition)
        results = await asyncio.gather(*(f for _, f in queued), return_exceptions=True)
        sent: list[tuple[int, str]] = []
        for (members, _), res in zip(queued, results, strict=True):
            for index, eid in members:
                if isinstance(res, BaseException):
                    report.failed.append(ItemError(index, DELIVERY, f"{type(res).__name__}: {res}"))
                else:
                    sent.append((index, eid))
        sent.sort()
        self._remember_all(eid for _, eid in sent)
        report.sent += [eid for _, eid in sent]  # in the order given
        report.failed.sort(key=lambda e: e.index)

    def _partition_cache(self, partitions: list[int]) -> dict[bytes, int]:
        """Key → partition (murmur2 is pure Python in aiokafka); reset when the partitions
        change or the cache grows past the dedup capacity."""
        if self._partition_key != partitions or len(self._partition_of) > self._capacity:
            self._partition_key, self._partition_of = list(partitions), {}
        return self._partition_of

    async def _partitions(self, producer: Any) -> list[int]:
        """The ingress topic's partitions, from the producer's metadata (fetched if missing)."""
        return sorted(await producer.partitions_for(self.topic))

    async def publish(self, event: Event | Mapping[str, Any]) -> PublishReport:
        """Publish one event; raises :class:`InvalidEventError` if it is not valid."""
        report = await self.publish_batch([event])
        if report.rejected:
            raise InvalidEventError(report.rejected)
        return report

    def _require_started(self) -> Any:
        if self._producer is None:
            raise RuntimeError("publisher not started: use `async with` or await start()")
        return self._producer

    async def _emit(
        self,
        cls: type[Event],
        case_id: str,
        event_id: str | None,
        occurred_at: datetime | None,
        **fields: Any,
    ) -> PublishReport:
        import uuid

        data = {
            "event_id": event_id or str(uuid.uuid4()),
            "case_id": case_id,
            "platform_id": self.platform_id,
            "occurred_at": occurred_at or self._clock(),
            **fields,
        }
        try:
            event = cls.model_validate(data)
        except ValidationError as exc:
            raise InvalidEventError(
                [ItemError(0, _loc(e["loc"]), e["msg"]) for e in exc.errors()]
            ) from None
        return await self.publish(event)

    # one method per event a platform may send ----------------------------------------------
    async def file_complaint(
        self,
        case_id: str,
        *,
        category: Category,
        priority: Priority,
        claimed_amount_fen: int,
        insured: bool,
        office: str,
        consumer_ref: str,
        intake_at: datetime | None = None,
        merchant_ref: str | None = None,
        live_room_ref: str | None = None,
        declared_value_fen: int | None = None,
        policy_rule_version: str | None = None,
        event_id: str | None = None,
        occurred_at: datetime | None = None,
    ) -> PublishReport:
        """A consumer complained in the platform's app (channel PLATFORM_APP)."""
        occurred_at = occurred_at or self._clock()
        return await self._emit(
            ComplaintFiled, case_id, event_id, occurred_at,
            channel=Channel.PLATFORM_APP, category=category, priority=priority,
            claimed_amount_fen=claimed_amount_fen, insured=insured, office=office,
            consumer_ref=consumer_ref, intake_at=intake_at or occurred_at,
            merchant_ref=merchant_ref, live_room_ref=live_room_ref,
            declared_value_fen=declared_value_fen, policy_rule_version=policy_rule_version,
        )  # fmt: skip

    async def acknowledge_complaint(
        self,
        case_id: str,
        *,
        handler_ref: str | None = None,
        event_id: str | None = None,
        occurred_at: datetime | None = None,
    ) -> PublishReport:
        """Sign for a complaint the bureau forwarded (starts nothing, meets the sign-for SLA)."""
        return await self._emit(
            ComplaintAcknowledged, case_id, event_id, occurred_at, handler_ref=handler_ref
        )

    async def suspend_complaint(
        self,
        case_id: str,
        *,
        reason: SuspendReason,
        note: str | None = None,
        event_id: str | None = None,
        occurred_at: datetime | None = None,
    ) -> PublishReport:
        """Pause handling for TESTING, APPRAISAL or ODR_NEGOTIATION (SLA clocks pause)."""
        return await self._emit(
            ComplaintSuspended, case_id, event_id, occurred_at, reason=reason, note=note
        )

    async def resume_complaint(
        self,
        case_id: str,
        *,
        note: str | None = None,
        event_id: str | None = None,
        occurred_at: datetime | None = None,
    ) -> PublishReport:
        """Resume handling after a suspension (SLA clocks run again)."""
        return await self._emit(ComplaintResumed, case_id, event_id, occurred_at, note=note)

    async def resolve_complaint(
        self,
        case_id: str,
        *,
        outcome: Outcome,
        compensation_fen: int = 0,
        event_id: str | None = None,
        occurred_at: datetime | None = None,
    ) -> PublishReport:
        """Close the complaint: SETTLED, NOT_SETTLED or WITHDRAWN, with any compensation."""
        return await self._emit(
            ComplaintResolved, case_id, event_id, occurred_at,
            outcome=outcome, compensation_fen=compensation_fen,
        )  # fmt: skip

    async def request_refund(
        self,
        case_id: str,
        *,
        order_ref: str,
        amount_fen: int,
        reason: str,
        goods_received_at: datetime | None = None,
        complaint_case_id: str | None = None,
        event_id: str | None = None,
        occurred_at: datetime | None = None,
    ) -> PublishReport:
        """Step 1 of the three-step refund: the consumer asked for a refund."""
        return await self._emit(
            RefundRequested, case_id, event_id, occurred_at,
            order_ref=order_ref, amount_fen=amount_fen, reason=reason,
            goods_received_at=goods_received_at, complaint_case_id=complaint_case_id,
        )  # fmt: skip

    async def review_refund(
        self,
        case_id: str,
        *,
        decision: ReviewDecision,
        approved_amount_fen: int,
        reason: str | None = None,
        event_id: str | None = None,
        occurred_at: datetime | None = None,
    ) -> PublishReport:
        """Step 2: approve, partly approve or reject the refund."""
        return await self._emit(
            RefundReviewed, case_id, event_id, occurred_at,
            decision=decision, approved_amount_fen=approved_amount_fen, reason=reason,
        )  # fmt: skip

    async def pay_refund(
        self,
        case_id: str,
        *,
        amount_fen: int,
        channel: str,
        payment_ref: str,
        event_id: str | None = None,
        occurred_at: datetime | None = None,
    ) -> PublishReport:
        """Step 3: the refund was paid."""
        return await self._emit(
            RefundPaid, case_id, event_id, occurred_at,
            amount_fen=amount_fen, channel=channel, payment_ref=payment_ref,
        )  # fmt: skip

    async def submit_rectification(
        self,
        case_id: str,
        *,
        evidence_refs: list[str],
        note: str | None = None,
        event_id: str | None = None,
        occurred_at: datetime | None = None,
    ) -> PublishReport:
        """Report a rectification the bureau ordered as done, with evidence."""
        return await self._emit(
            RectificationSubmitted, case_id, event_id, occurred_at,
            evidence_refs=evidence_refs, note=note,
        )  # fmt: skip


TYPED_METHODS = (
    "file_complaint",
    "acknowledge_complaint",
    "suspend_complaint",
    "resume_complaint",
    "resolve_complaint",
    "request_refund",
    "review_refund",
    "pay_refund",
    "submit_rectification",
)


class SyncPlatformPublisher:
    """The same SDK for synchronous code: a private event loop runs in a daemon thread.

    ::

        with SyncPlatformPublisher("acme", "127.0.0.1:19092") as pub:
            pub.pay_refund("r-1", amount_fen=1200, channel="alipay", payment_ref="p-9")
    """

    def __init__(
        self, platform_id: str, bootstrap: str, *, timeout: float = 60.0, **options: Any
    ) -> None:
        self._publisher = PlatformPublisher(platform_id, bootstrap, **options)
        self._timeout = timeout
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None

    @property
    def publisher(self) -> PlatformPublisher:
        return self._publisher

    def start(self) -> None:
        if self._loop is not None:
            return
        loop = asyncio.new_event_loop()
        thread = threading.Thread(
            target=loop.run_forever, name=f"regbus-publisher-{self._publisher.platform_id}",
            daemon=True,
        )  # fmt: skip
        thread.start()
        self._loop, self._thread = loop, thread
        try:
            self._call(self._publisher.start())
        except BaseException:
            self._shutdown_loop()
            raise

    def close(self) -> None:
        if self._loop is None:
            return
        try:
            self._call(self._publisher.stop())
        finally:
            self._shutdown_loop()

    def _shutdown_loop(self) -> None:
        loop, thread = self._loop, self._thread
        self._loop = self._thread = None
        if loop is not None and thread is not None:
            loop.call_soon_threadsafe(loop.stop)
            thread.join(timeout=10)
            loop.close()

    def __enter__(self) -> SyncPlatformPublisher:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _call(self, coro: Coroutine[Any, Any, T]) -> T:
        if self._loop is None:
            coro.close()
            raise RuntimeError("publisher not started: use `with` or call start()")
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(self._timeout)

    def publish_batch(self, items: Sequence[Event | Mapping[str, Any]]) -> PublishReport:
        return self._call(self._publisher.publish_batch(items))

    def publish(self, event: Event | Mapping[str, Any]) -> PublishReport:
        return self._call(self._publisher.publish(event))

    def was_sent(self, event_id: str) -> bool:
        return self._publisher.was_sent(event_id)


def _sync_method(name: str) -> Callable[..., PublishReport]:
    target = getattr(PlatformPublisher, name)

    @wraps(target)
    def method(self: SyncPlatformPublisher, *args: Any, **kwargs: Any) -> PublishReport:
        report: PublishReport = self._call(getattr(self._publisher, name)(*args, **kwargs))
        return report

    return method


for _name in TYPED_METHODS:
    setattr(SyncPlatformPublisher, _name, _sync_method(_name))
