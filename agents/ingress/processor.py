"""The ingress processor: every record platforms and bureau units write passes here first.

For each record on ``<prefix>.ingress.<owner>`` (owner = a platform id, or ``bureau``) the
:class:`IngressProcessor` decides, in this order:

1. decode (Confluent framing, Avro, pydantic, CloudEvents headers) → the codec's reason;
   personal data in clear in any free-text or reference field → PERSONAL_DATA (masked);
2. identity: ``ce_source`` and ``platform_id`` must name the topic's owner → SPOOFED_SOURCE;
   a platform must be registered and not revoked (the bureau's events must name a registered
   platform) → UNKNOWN_PLATFORM;
3. who may send what (:data:`SEND_RULES`) → FORBIDDEN_TYPE; a negative-list code that is
   unknown or not in force on the event's day (:mod:`agents.core.negative_list`) →
   INVALID_VALUE naming the field;
4. envelope consistency (non-empty case id, record key = case id, ``ce_id`` = event id,
   ``ce_subject`` = case id, ``ce_time`` = ``occurred_at``) → INVALID_VALUE;
5. ``occurred_at`` more than the tolerance ahead of the clock → FUTURE_TIMESTAMP;
6. dedup by (``ce_source``, ``ce_id``): a resend is counted, not routed; a key is kept for
   ``dedup_retention`` (30 days) after it was first seen, then swept (a resend after that is
   routed again and the case agent ignores it: it keeps the ids it applied);
7. size: a record whose uncompressed one-record batch is above
   :data:`streams.limits.MAX_MESSAGE_BYTES` cannot be copied to a canonical topic (it arrived
   compressed, or through a topic created with a larger limit) → RECORD_TOO_LARGE;
8. route the *original* key/value/headers to the canonical case topic, and for the
   bureau's messages to a platform (:attr:`SendRule.inbox`) also to that platform's inbox.

A dead letter carries the original key, value and headers; when that would make the dead
letter itself too large for the dead-letter topic, it carries the coordinates, the headers
(values cut if they are large), the original's size and the SHA-256 of its key and value
instead, with ``original_value`` null (:meth:`IngressProcessor.dead_letter`).

Illegal lifecycle transitions are not checked here: the case agents own the lifecycles.
The processor is pure (no Faust, no Kafka, no wall clock except the injected ``clock`` for
the future check) and never raises on input: anything unexpected is dead-lettered as
PROCESSING_ERROR with the exception in the detail; a copy the broker refuses is dead-lettered
as PRODUCE_FAILED (:meth:`IngressProcessor.delivery_failed`). :mod:`agents.ingress.wiring`
runs it in Faust.
"""

from __future__ import annotations

import hashlib
import logging
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Protocol

import orjson

from agents.core.negative_list import NegativeList, finding_refusal
from schemas.families import GOVERNANCE, CaseFamily
from schemas.models import DeadLetterReason, Event
from schemas.pii import scan_event
from schemas.send_rules import SEND_RULES, Sender, refusal
from streams.cloudevents_headers import (
    CE_ID,
    CE_SOURCE,
    CE_SUBJECT,
    CE_TIME,
    header_dict,
    parse_source,
)
from streams.codec import DecodeError, EventCodec
from streams.deadletter_record import dead_letter, dead_letter_notice
from streams.limits import MAX_MESSAGE_BYTES, record_batch_bytes
from streams.records import BatchResult, InRecord, OutRecord, StateReader, StateWrite
from streams.topics import PLATFORM_ID, Catalogue

log = logging.getLogger(__name__)

DEDUP_TABLE = "ingress-dedup"
DEFAULT_FUTURE_TOLERANCE = timedelta(minutes=10)
DEFAULT_DEDUP_RETENTION = timedelta(days=30)
SWEEP_EVERY = timedelta(hours=1)
"""How often (by the processor's clock) expired dedup keys are looked for."""
_DEDUP_PREFIX = b"d\x00"
_HEADER_BUDGET = 64 * 1024
"""Header bytes a digest-form dead letter keeps whole; above it, each value is cut."""
_HEADER_CUT = 256


class PlatformStatus(StrEnum):
    ACTIVE = "ACTIVE"
    REVOKED = "REVOKED"
    UNKNOWN = "UNKNOWN"


class PlatformLookup(Protocol):
    def status(self, platform_id: str) -> PlatformStatus: ...


class PlatformDirectory:
    """The registry topic folded into ``platform id → status`` (latest entry wins)."""

    def __init__(self, statuses: Mapping[str, PlatformStatus] | None = None) -> None:
        self._status: dict[str, PlatformStatus] = dict(statuses or {})

    def status(self, platform_id: str) -> PlatformStatus:
        return self._status.get(platform_id, PlatformStatus.UNKNOWN)

    def apply(self, key: bytes | None, value: bytes | None) -> bool:
        """Apply one registry record; True if a platform's status changed."""
        if not key:
            return False
        pid = key.decode("utf-8", "replace")
        if value is None:
            new = PlatformStatus.UNKNOWN
        else:
            try:
                entry = orjson.loads(value)
                revoked = bool(entry.get("revoked")) if isinstance(entry, dict) else True
            except orjson.JSONDecodeError:
                log.warning("registry entry for %r is not JSON; treating it as revoked", pid)
                revoked = True
            new = PlatformStatus.REVOKED if revoked else PlatformStatus.ACTIVE
        old = self._status.get(pid, PlatformStatus.UNKNOWN)
        if new is PlatformStatus.UNKNOWN:
            self._status.pop(pid, None)
        else:
            self._status[pid] = new
        return new is not old

    def snapshot(self) -> dict[str, PlatformStatus]:
        return dict(self._status)


@dataclass
class IngressMetrics:
    """Every record the processor sees ends in exactly one of routed / duplicates / dead."""

    received: int = 0
    routed: int = 0
    inbox_copies: int = 0
    inbox_notices: int = 0
    """Dead-letter notices sent to the refused record's platform."""
    duplicates: int = 0
    redelivered: int = 0
    """Records at or below the partition's processed offset (a rebalance or crash replay):
    skipped entirely, so a poison record is dead-lettered once."""
    dead_lettered: Counter[DeadLetterReason] = field(default_factory=Counter)
    dead_letter_failures: int = 0
    too_large: int = 0
    """Records dead-lettered because they do not fit a canonical topic."""
    produce_failures: int = 0
    """Records whose copy the broker refused; each was then dead-lettered."""
    digest_only: int = 0
    """Dead letters that carry a digest instead of the original value (too large whole)."""
    dedup_expired: int = 0
    """Dedup keys deleted after the retention (not a record count)."""

    @property
    def accounted(self) -> int:
        return self.routed + self.duplicates + sum(self.dead_lettered.values())


class _Reject(Exception):
    """Control flow inside the processor: becomes a dead letter, never escapes."""

    def __init__(self, reason: DeadLetterReason, detail: str) -> None:
        self.reason = reason
        self.detail = detail


_CE_HEADERS = frozenset({CE_ID, CE_SOURCE, "ce_type", "ce_specversion", "ce_time", CE_SUBJECT})


class IngressProcessor:
    """The ingress checks as a :class:`agents.batching.BatchProcessor` (pure; never raises)."""

    def __init__(
        self,
        catalogue: Catalogue,
        platforms: PlatformLookup,
        *,
        codec: EventCodec | None = None,
        clock: Callable[[], datetime] | None = None,
        future_tolerance: timedelta = DEFAULT_FUTURE_TOLERANCE,
        dedup_retention: timedelta = DEFAULT_DEDUP_RETENTION,
        max_bytes: int = MAX_MESSAGE_BYTES,
        negative_list: NegativeList | None = None,
    ) -> None:
        self.max_bytes = max_bytes
        self.catalogue = catalogue
        self.platforms = platforms
        self.codec = codec or EventCodec()
        self._clock = clock or (lambda: datetime.now(UTC))
        self.future_tolerance = future_tolerance
        self.dedup_retention = dedup_retention
        self._next_sweep: datetime | None = None
        self.metrics = IngressMetrics()
        self._ingress_prefix = f"{catalogue.prefix}.ingress."
        self._owners: dict[str, tuple[Sender, str] | None] = {}
        self._case_topics: dict[CaseFamily | str, str] = {
            fam: catalogue.cases(fam) for fam in CaseFamily
        }
        self._case_topics[GOVERNANCE] = catalogue.governance
        self.negative_list = negative_list or NegativeList.load()

    # topic ownership ----------------------------------------------------------------------
    def owner(self, topic: str) -> tuple[Sender, str] | None:
        """(sender kind, platform id or "") of an ingress topic; None if it is not one."""
        try:
            return self._owners[topic]
        except KeyError:
            pass
        found: tuple[Sender, str] | None = None
        if topic.startswith(self._ingress_prefix):
            rest = topic[len(self._ingress_prefix) :]
            if rest == "bureau":
                found = (Sender.BUREAU, "")
            elif PLATFORM_ID.match(rest):
                found = (Sender.PLATFORM, rest)
        self._owners[topic] = found
        return found

    def is_canonical(self, topic: str) -> bool:
        """True for a canonical case topic (where a routed record's copy goes)."""
        return topic in self._case_topics.values() or topic == self.catalogue.governance

    def needs_registry_sync(self, batch: Iterable[InRecord]) -> bool:
        """True if a record comes from a platform the directory does not list as active."""
        for topic in {rec.topic for rec in batch}:
            owner = self.owner(topic)
            if owner and owner[0] is Sender.PLATFORM:
                if self.platforms.status(owner[1]) is not PlatformStatus.ACTIVE:
                    return True
        return False

    # the batch ----------------------------------------------------------------------------
    def process(self, batch: Sequence[InRecord], tables: Mapping[str, StateReader]) -> BatchResult:
        return self.process_traced(batch, tables)[0]

    def process_traced(
        self, batch: Sequence[InRecord], tables: Mapping[str, StateReader]
    ) -> tuple[BatchResult, list[InRecord]]:
        """:meth:`process`, plus the input record each output came from (same order as
        ``result.out``), so that a copy the broker refuses can be dead-lettered."""
        dedup = tables[DEDUP_TABLE]
        result = BatchResult()
        origins: list[InRecord] = []
        now = self._clock()
        horizon = now + self.future_tolerance
        stamp = b"%d " % int(now.timestamp() * 1000)
        done: dict[tuple[str, int], int] = {}
        seen: set[bytes] = set()
        m = self.metrics
        for rec in batch:
            tp = (rec.topic, rec.partition)
            last = done.get(tp)
            if last is None:
                last = done[tp] = _read_offset(dedup.get(_hw_key(*tp)))
            if rec.offset <= last:
                m.redelivered += 1
                continue
            done[tp] = rec.offset
            m.received += 1
            before = len(result.out)
            try:
                self._one(rec, dedup, seen, horizon, stamp, result)
            except _Reject as rej:
                self._dead(rec, rej.reason, rej.detail, result)
            except Exception as exc:  # a bug must not stop the stream: park the record
                log.exception("ingress: unexpected error on %s[%d]@%d", *tp, rec.offset)
                self._dead(
                    rec, DeadLetterReason.PROCESSING_ERROR,
                    f"{type(exc).__name__}: {exc}", result,
                )  # fmt: skip
            origins.extend([rec] * (len(result.out) - before))
        for (topic, partition), offset in done.items():
            if offset >= 0:
                result.writes.append(
                    StateWrite(DEDUP_TABLE, partition, _hw_key(topic, partition), b"%d" % offset)
                )
        self._sweep(dedup, now, result)
        return result, origins

    def _sweep(self, dedup: StateReader, now: datetime, result: BatchResult) -> None:
        """Once per :data:`SWEEP_EVERY`, delete the dedup keys first seen before the
        retention (a tombstone each, so the compacted changelog forgets them too)."""
        if self._next_sweep is None:
            self._next_sweep = now + SWEEP_EVERY  # not at start: recovery just loaded them
            return
        if now < self._next_sweep:
            return
        self._next_sweep = now + SWEEP_EVERY
        cutoff = int((now - self.dedup_retention).timestamp() * 1000)
        expired = 0
        for key, value in dedup.items():
            if not key.startswith(_DEDUP_PREFIX):
                continue
            seen_ms, partition = _seen(value)
            if seen_ms < cutoff and partition is not None:
                result.writes.append(StateWrite(DEDUP_TABLE, partition, key, None))
                expired += 1
        self.metrics.dedup_expired += expired
        if expired:
            log.info("ingress: %d dedup keys older than %s expired", expired,
                     self.dedup_retention)  # fmt: skip

    def _one(
        self,
        rec: InRecord,
        dedup: StateReader,
        seen: set[bytes],
        horizon: datetime,
        stamp: bytes,
        result: BatchResult,
    ) -> None:
        owner = self.owner(rec.topic)
        if owner is None:
            raise _Reject(DeadLetterReason.WRONG_TOPIC, f"{rec.topic} is not an ingress topic")
        sender, owner_id = owner
        _check_repeated_headers(rec.headers)
        try:
            event = self.codec.decode(rec.value, rec.headers)  # type: ignore[arg-type]
        except DecodeError as exc:
            raise _Reject(exc.reason, exc.detail) from None
        _check_personal_data(event)
        hd = header_dict(rec.headers)
        source_bytes = hd[CE_SOURCE] or b""
        source = source_bytes.decode("utf-8", "replace")
        try:
            kind, name = parse_source(source)
        except ValueError as exc:
            raise _Reject(DeadLetterReason.SPOOFED_SOURCE, str(exc)) from None

        if sender is Sender.PLATFORM:
            if kind != "platforms" or name != owner_id:
                raise _Reject(DeadLetterReason.SPOOFED_SOURCE, f"ce_source {source} on {rec.topic}")
            if event.platform_id != owner_id:
                raise _Reject(
                    DeadLetterReason.SPOOFED_SOURCE,
                    f"platform_id {event.platform_id!r} on {rec.topic}",
                )
            status = self.platforms.status(owner_id)
            if status is not PlatformStatus.ACTIVE:
                raise _Reject(
                    DeadLetterReason.UNKNOWN_PLATFORM, f"platform {owner_id!r} is {status.lower()}"
                )
        else:
            if kind != "bureau":
                raise _Reject(DeadLetterReason.SPOOFED_SOURCE, f"ce_source {source} on {rec.topic}")
            if self.platforms.status(event.platform_id) is PlatformStatus.UNKNOWN:
                raise _Reject(
                    DeadLetterReason.UNKNOWN_PLATFORM,
                    f"platform_id {event.platform_id!r} is not registered",
                )

        refused = refusal(event, sender)
        if refused is not None:
            raise _Reject(DeadLetterReason.FORBIDDEN_TYPE, f"{refused[0]}: {refused[1]}")

        cited = finding_refusal(event, self.negative_list)
        if cited is not None:
            raise _Reject(DeadLetterReason.INVALID_VALUE, f"{cited[0]}: {cited[1]}")

        case_id = event.case_id.encode()
        if not case_id:
            raise _Reject(DeadLetterReason.INVALID_VALUE, "case_id is empty")
        if rec.key != case_id:
            raise _Reject(
                DeadLetterReason.INVALID_VALUE,
                f"record key {rec.key!r} is not the case id {event.case_id!r}",
            )
        ce_id = hd[CE_ID] or b""
        if ce_id != event.event_id.encode():
            raise _Reject(DeadLetterReason.INVALID_VALUE, "ce_id header is not the event_id")
        subject = hd.get(CE_SUBJECT)
        if subject is not None and subject != case_id:
            raise _Reject(DeadLetterReason.INVALID_VALUE, "ce_subject header is not the case_id")
        ce_time = hd.get(CE_TIME)
        if ce_time is not None and _instant_of(ce_time) != event.occurred_at:
            raise _Reject(DeadLetterReason.INVALID_VALUE, "ce_time header is not the occurred_at")
        if event.occurred_at > horizon:
            raise _Reject(
                DeadLetterReason.FUTURE_TIMESTAMP,
                f"occurred_at {event.occurred_at.isoformat()} is more than "
                f"{self.future_tolerance} ahead of the bureau clock",
            )

        value: bytes = rec.value or b""  # decoded above, so never None here
        size = record_batch_bytes(rec.key, value, rec.headers)
        if size > self.max_bytes:
            self.metrics.too_large += 1
            raise _Reject(
                DeadLetterReason.RECORD_TOO_LARGE,
                f"the record is {size} bytes uncompressed, more than the "
                f"{self.max_bytes} a canonical topic accepts",
            )
        key = _DEDUP_PREFIX + source_bytes + b"\x00" + ce_id
        if key in seen or dedup.get(key) is not None:
            self.metrics.duplicates += 1
            return
        seen.add(key)
        # "<first seen, ms> <topic>/<partition>/<offset>": when to expire it, and where from
        where = stamp + f"{rec.topic}/{rec.partition}/{rec.offset}".encode()
        result.writes.append(StateWrite(DEDUP_TABLE, rec.partition, key, where))
        rule = SEND_RULES[event.EVENT_NAME]
        headers: list[tuple[str, bytes]] = rec.headers
        if rule.family is None:  # governance: keyed by the platform the bureau acts on
            result.out.append(
                OutRecord(self.catalogue.governance, event.platform_id.encode(), value, headers)
            )
        else:
            result.out.append(OutRecord(self._case_topics[rule.family], case_id, value, headers))
        self.metrics.routed += 1
        if rule.inbox and sender is Sender.BUREAU:
            result.out.append(
                OutRecord(self.catalogue.inbox(event.platform_id), case_id, value, headers)
            )
            self.metrics.inbox_copies += 1

    def _dead(
        self, rec: InRecord, reason: DeadLetterReason, detail: str, result: BatchResult
    ) -> None:
        out = self.dead_letter(rec, reason, detail)
        if out is None:
            log.error("ingress: cannot build a dead letter for %s[%d]@%d", rec.topic,
                      rec.partition, rec.offset)  # fmt: skip
            self.metrics.dead_letter_failures += 1
            return
        result.out.append(out)
        self.metrics.dead_lettered[reason] += 1
        self._notify_platform(rec, reason, self.owner(rec.topic), result)

    def dead_letter(
        self, rec: InRecord, reason: DeadLetterReason, detail: str, *, digest: bool = False
    ) -> OutRecord | None:
        """The dead letter of ``rec``: whole if it fits the dead-letter topic (and not
        ``digest``), else in digest form; None if none can be built."""
        owner = self.owner(rec.topic)
        claimed = owner[1] if owner else ""
        for attempt in (rec, replace(rec, timestamp_ms=0)):
            try:
                out = None if digest else self._build(attempt, reason, detail, claimed)
                if out is None or record_batch_bytes(out.key, out.value, out.headers) > (
                    self.max_bytes
                ):
                    slim, noted = _digest_form(attempt, detail)
                    out = self._build(slim, reason, noted, claimed)
                    self.metrics.digest_only += 1
            except Exception:  # e.g. a producer-set timestamp no datetime can hold
                continue
            return out
        return None

    def _build(
        self, rec: InRecord, reason: DeadLetterReason, detail: str, claimed: str
    ) -> OutRecord:
        return dead_letter(self.catalogue, self.codec, rec, reason, detail, claimed)

    def _notify_platform(
        self,
        rec: InRecord,
        reason: DeadLetterReason,
        owner: tuple[Sender, str] | None,
        result: BatchResult,
    ) -> None:
        """Tell a registered platform that one of its records was refused (its inbox exists
        and only it reads it); the bureau's own refused records concern no platform."""
        if owner is None or owner[0] is not Sender.PLATFORM:
            return
        if self.platforms.status(owner[1]) is not PlatformStatus.ACTIVE:
            return
        try:
            result.out.append(dead_letter_notice(self.catalogue, self.codec, rec, reason, owner[1]))
        except Exception:  # the dead letter itself is written; the notice is best effort
            log.exception("ingress: no dead-letter notice for %s@%d", rec.topic, rec.offset)
            return
        self.metrics.inbox_notices += 1

    def delivery_failed(
        self, rec: InRecord, error: BaseException | str, *, unrouted: bool = True
    ) -> BatchResult:
        """What to write when the broker refused a copy of ``rec`` that this processor had
        routed: its dead letter, and the deletion of its dedup key (so that a resend is
        judged again rather than dropped as a duplicate). ``unrouted``: the refused copy
        was the canonical one (the record no longer counts as routed)."""
        result = BatchResult()
        text = error if isinstance(error, str) else f"{type(error).__name__}: {error}"
        self.metrics.produce_failures += 1
        if unrouted:
            self.metrics.routed -= 1
        self._dead(rec, DeadLetterReason.PRODUCE_FAILED, text, result)
        key = _dedup_key(rec)
        if key is not None:
            result.writes.append(StateWrite(DEDUP_TABLE, rec.partition, key, None))
        return result

    def processing_failed(self, rec: InRecord, error: BaseException) -> BatchResult:
        """The dead letter of a record whose processing raised even on its own."""
        result = BatchResult()
        self.metrics.received += 1
        detail = f"{type(error).__name__}: {error}"
        self._dead(rec, DeadLetterReason.PROCESSING_ERROR, detail, result)
        return result


def _digest_form(rec: InRecord, detail: str) -> tuple[InRecord, str]:
    """``rec`` without its value (and its key or large header values, if they are large),
    and a detail that says so and gives the original's size and digests."""
    size = record_batch_bytes(rec.key, rec.value, rec.headers)
    notes = [f"original not stored whole: {size} bytes"]
    notes.append(f"value sha256 {hashlib.sha256(rec.value or b'').hexdigest()}")
    key = rec.key
    if key is not None and len(key) > _HEADER_CUT:
        notes.append(f"key ({len(key)} bytes) sha256 {hashlib.sha256(key).hexdigest()}")
        key = None
    headers = rec.headers
    if sum(len(k) + len(v or b"") for k, v in headers) > _HEADER_BUDGET:
        notes.append(f"header values cut to {_HEADER_CUT} bytes")
        headers = [(k[:_HEADER_CUT], None if v is None else v[:_HEADER_CUT]) for k, v in headers]
    slim = replace(rec, key=key, value=None, headers=headers)
    return slim, "; ".join(notes) + "; " + detail


def _dedup_key(rec: InRecord) -> bytes | None:
    hd = header_dict(rec.headers)
    source, ce_id = hd.get(CE_SOURCE), hd.get(CE_ID)
    if not source or not ce_id:
        return None
    return _DEDUP_PREFIX + source + b"\x00" + ce_id


def _instant_of(stamp: bytes) -> datetime | None:
    """The instant an RFC 3339 ``ce_time`` names (None when it names none)."""
    try:
        moment = datetime.fromisoformat(stamp.decode("ascii").replace("Z", "+00:00"))
    except (UnicodeDecodeError, ValueError):
        return None
    return moment if moment.tzinfo is not None else None


def _hw_key(topic: str, partition: int) -> bytes:
    return b"h\x00%s\x00%d" % (topic.encode(), partition)


def _seen(value: bytes) -> tuple[int, int | None]:
    """(first seen in ms, changelog partition) of a dedup value; (0, …) if it has no time."""
    stamp, _, where = value.partition(b" ")
    if not where:
        stamp, where = b"0", value
    try:
        partition: int | None = int(where.rsplit(b"/", 2)[1])
    except (IndexError, ValueError):
        partition = None
    try:
        return int(stamp), partition
    except ValueError:
        return 0, partition


def _read_offset(value: bytes | None) -> int:
    if value is None:
        return -1
    try:
        return int(value)
    except ValueError:
        return -1


def _check_personal_data(event: Event) -> None:
    """PERSONAL_DATA if a free-text or reference field carries personal data in clear.

    The detail names every field with the value masked; :func:`streams.deadletter_record.
    dead_letter` keeps no original bytes for such a record (docs/security.md).
    """
    found = scan_event(event)
    if found:
        raise _Reject(
            DeadLetterReason.PERSONAL_DATA,
            "; ".join(f"{f.field}: {f.kind.value} {f.masked}" for f in found),
        )


def _check_repeated_headers(headers: Sequence[tuple[str, bytes | None]]) -> None:
    # Clients disagree on which of two equal header keys wins; the record is copied verbatim
    # downstream, so an ambiguous envelope is refused rather than resolved here.
    seen: set[str] = set()
    for key, _ in headers:
        if key in _CE_HEADERS:
            if key in seen:
                reason = (
                    DeadLetterReason.SPOOFED_SOURCE
                    if key == CE_SOURCE
                    else DeadLetterReason.INVALID_VALUE
                )
                raise _Reject(reason, f"header {key} appears more than once")
            seen.add(key)
