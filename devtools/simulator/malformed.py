"""Records that must not become facts: one builder per dead-letter reason, and resends.

The MALFORMED platform sends them next to its valid traffic, written around the SDK (which
would refuse most of them). Each builder starts from a valid event of a throw-away case, so a
record trips exactly the check it is meant to, in the order ingress checks (docs/contract.md).
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable
from datetime import UTC, datetime

import orjson

from devtools.simulator.model import RawRecord, Send, Sender
from devtools.simulator.platforms import STRAY_INGRESS, UNREGISTERED_PLATFORM
from schemas.models import (
    Category,
    Channel,
    ComplaintAcknowledged,
    ComplaintFiled,
    ComplaintForwarded,
    DeadLetterReason,
    Event,
    Priority,
)
from streams.cloudevents_headers import CE_ID, CE_SOURCE, CE_TYPE, bureau_source, platform_source
from streams.codec import EventCodec

FAR_FUTURE = datetime(2099, 1, 1, tzinfo=UTC)
"""Fixed rather than "now + a year", so the same seed always writes the same bytes."""
UNKNOWN_SCHEMA = 999_999
NOT_SIMULATED: dict[DeadLetterReason, str] = {
    DeadLetterReason.RECORD_TOO_LARGE: "needs a record above the canonical topics' limit that "
    "arrives compressed (about 1 MB per run); tests/ingest/test_oversize.py sends them",
    DeadLetterReason.PRODUCE_FAILED: "a broker refusing a routed copy is a fault, not input; "
    "tests/ingest/test_deadletter_reasons.py covers it",
    DeadLetterReason.PROCESSING_ERROR: "a defect in ingress, not input; "
    "tests/ingest/test_ingress_failures.py makes the processor raise",
}
"""Reasons about the bureau's own failures, not a record's content: the simulator's
MALFORMED platform does not send them (and the round-robin below stays as it was)."""
REASONS: tuple[DeadLetterReason, ...] = tuple(r for r in DeadLetterReason if r not in NOT_SIMULATED)

Headers = tuple[tuple[str, bytes], ...]


def _uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def _ack(rng: random.Random, platform_id: str, case_id: str, at: datetime) -> Event:
    return ComplaintAcknowledged(
        event_id=_uuid(rng),
        case_id=case_id,
        platform_id=platform_id,
        occurred_at=at,
        handler_ref=f"agent-{rng.randint(1, 99)}",
    )


def _filed(rng: random.Random, platform_id: str, case_id: str, at: datetime) -> Event:
    return ComplaintFiled(
        event_id=_uuid(rng),
        case_id=case_id,
        platform_id=platform_id,
        occurred_at=at,
        channel=Channel.HOTLINE_12345,
        category=Category.OTHER,
        priority=Priority.NORMAL,
        claimed_amount_fen=rng.randint(10, 500) * 100,
        insured=False,
        office="HD-HDJ",
        consumer_ref=f"c-{rng.getrandbits(32):08x}",
        intake_at=at,
    )


def _headers(event: Event, source: str, codec: EventCodec) -> Headers:
    return tuple(codec.headers_for(event, source))


def _replace(headers: Headers, key: str, value: bytes | None) -> Headers:
    kept = tuple((k, v) for k, v in headers if k != key)
    return kept if value is None else (*kept, (key, value))


class MalformedFactory:
    """Builds the k-th bad record of a platform: reasons are taken round-robin."""

    def __init__(self, codec: EventCodec, spoof_as: str) -> None:
        self.codec = codec
        self.spoof_as = spoof_as
        self._builders: dict[DeadLetterReason, Callable[..., Send]] = {
            DeadLetterReason.BAD_MAGIC: self._bad_magic,
            DeadLetterReason.UNKNOWN_SCHEMA_ID: self._unknown_schema,
            DeadLetterReason.TRUNCATED: self._truncated,
            DeadLetterReason.INVALID_VALUE: self._key_mismatch,
            DeadLetterReason.WRONG_TYPE_HEADER: self._wrong_type,
            DeadLetterReason.MISSING_HEADER: self._missing_header,
            DeadLetterReason.SPOOFED_SOURCE: self._spoofed,
            DeadLetterReason.FORBIDDEN_TYPE: self._forbidden,
            DeadLetterReason.UNKNOWN_PLATFORM: self._unknown_platform,
            DeadLetterReason.FUTURE_TIMESTAMP: self._future,
            DeadLetterReason.WRONG_TOPIC: self._wrong_topic,
            DeadLetterReason.PERSONAL_DATA: self._personal_data,
        }
        assert set(self._builders) == set(REASONS)

    def build(
        self, k: int, rng: random.Random, platform_id: str, case_id: str, at: datetime
    ) -> Send:
        reason = REASONS[k % len(REASONS)]
        return self._builders[reason](rng, platform_id, case_id, at)

    # one builder per reason ---------------------------------------------------------------
    def _raw(
        self,
        at: datetime,
        owner: str,
        case_id: str,
        topic: str,
        key: bytes | None,
        value: bytes,
        headers: Headers,
        reason: DeadLetterReason,
    ) -> Send:
        raw = RawRecord(topic, key, value, headers, reason)
        return Send(at, Sender.RAW, owner, case_id, None, raw)

    def _own(
        self,
        at: datetime,
        pid: str,
        case_id: str,
        value: bytes,
        headers: Headers,
        reason: DeadLetterReason,
        key: bytes | None = None,
    ) -> Send:
        """A bad record on the platform's own ingress topic, keyed by its case by default."""
        key = case_id.encode() if key is None else key
        return self._raw(at, pid, case_id, f"ingress.{pid}", key, value, headers, reason)

    def _valid(
        self, rng: random.Random, pid: str, case_id: str, at: datetime
    ) -> tuple[Event, bytes, Headers]:
        event = _ack(rng, pid, case_id, at)
        return (
            event,
            self.codec.encode_value(event),
            _headers(event, platform_source(pid), self.codec),
        )

    def _bad_magic(self, rng: random.Random, pid: str, case_id: str, at: datetime) -> Send:
        # A platform that posts JSON where Avro is expected: the first byte is "{".
        event, _value, headers = self._valid(rng, pid, case_id, at)
        body = orjson.dumps({"type": "ComplaintAcknowledged", **event.model_dump(mode="json")})
        return self._own(at, pid, case_id, body, headers, DeadLetterReason.BAD_MAGIC)

    def _unknown_schema(self, rng: random.Random, pid: str, case_id: str, at: datetime) -> Send:
        _event, value, headers = self._valid(rng, pid, case_id, at)
        forged = b"\x00" + UNKNOWN_SCHEMA.to_bytes(4, "big") + value[5:]
        return self._own(at, pid, case_id, forged, headers, DeadLetterReason.UNKNOWN_SCHEMA_ID)

    def _truncated(self, rng: random.Random, pid: str, case_id: str, at: datetime) -> Send:
        _event, value, headers = self._valid(rng, pid, case_id, at)
        return self._own(at, pid, case_id, value[:3], headers, DeadLetterReason.TRUNCATED)

    def _key_mismatch(self, rng: random.Random, pid: str, case_id: str, at: datetime) -> Send:
        _event, value, headers = self._valid(rng, pid, case_id, at)
        return self._own(
            at,
            pid,
            case_id,
            value,
            headers,
            DeadLetterReason.INVALID_VALUE,
            key=b"not-" + case_id.encode(),
        )

    def _wrong_type(self, rng: random.Random, pid: str, case_id: str, at: datetime) -> Send:
        _event, value, headers = self._valid(rng, pid, case_id, at)
        forged = _replace(headers, CE_TYPE, b"regbus.RefundPaid.v1")
        return self._own(at, pid, case_id, value, forged, DeadLetterReason.WRONG_TYPE_HEADER)

    def _missing_header(self, rng: random.Random, pid: str, case_id: str, at: datetime) -> Send:
        _event, value, headers = self._valid(rng, pid, case_id, at)
        return self._own(
            at, pid, case_id, value, _replace(headers, CE_ID, None), DeadLetterReason.MISSING_HEADER
        )

    def _spoofed(self, rng: random.Random, pid: str, case_id: str, at: datetime) -> Send:
        _event, value, headers = self._valid(rng, pid, case_id, at)
        forged = _replace(headers, CE_SOURCE, platform_source(self.spoof_as).encode())
        return self._own(at, pid, case_id, value, forged, DeadLetterReason.SPOOFED_SOURCE)

    def _forbidden(self, rng: random.Random, pid: str, case_id: str, at: datetime) -> Send:
        # Forwarding is the bureau's act; a platform may not forward complaints to itself.
        event = ComplaintForwarded(
            event_id=_uuid(rng),
            case_id=case_id,
            platform_id=pid,
            occurred_at=at,
            forwarded_by=pid,
        )
        return self._own(
            at,
            pid,
            case_id,
            self.codec.encode_value(event),
            _headers(event, platform_source(pid), self.codec),
            DeadLetterReason.FORBIDDEN_TYPE,
        )

    def _unknown_platform(self, rng: random.Random, pid: str, case_id: str, at: datetime) -> Send:
        # A hotline work order about a platform that never registered with the bureau.
        event = _filed(rng, UNREGISTERED_PLATFORM, case_id, at)
        return self._raw(
            at,
            "bureau",
            case_id,
            "ingress.bureau",
            case_id.encode(),
            self.codec.encode_value(event),
            _headers(event, bureau_source("hotline-12345"), self.codec),
            DeadLetterReason.UNKNOWN_PLATFORM,
        )

    def _future(self, rng: random.Random, pid: str, case_id: str, at: datetime) -> Send:
        event = _ack(rng, pid, case_id, FAR_FUTURE)
        return self._own(
            at,
            pid,
            case_id,
            self.codec.encode_value(event),
            _headers(event, platform_source(pid), self.codec),
            DeadLetterReason.FUTURE_TIMESTAMP,
        )

    def _wrong_topic(self, rng: random.Random, pid: str, case_id: str, at: datetime) -> Send:
        _event, value, headers = self._valid(rng, pid, case_id, at)
        return self._raw(
            at,
            pid,
            case_id,
            STRAY_INGRESS,
            case_id.encode(),
            value,
            headers,
            DeadLetterReason.WRONG_TOPIC,
        )

    def _personal_data(self, rng: random.Random, pid: str, case_id: str, at: datetime) -> Send:
        # A platform that puts the consumer's mobile number where a pseudonym belongs.
        event = _ack(rng, pid, case_id, at).model_copy(
            update={"handler_ref": f"139{rng.randint(0, 99_999_999):08d}"}
        )
        return self._own(
            at,
            pid,
            case_id,
            self.codec.encode_value(event),
            _headers(event, platform_source(pid), self.codec),
            DeadLetterReason.PERSONAL_DATA,
        )


def resend(send: Send, codec: EventCodec, at: datetime) -> Send:
    """The same event sent again at ``at``, byte for byte (a retry): ingress drops it."""
    assert send.event is not None and send.sender is Sender.PLATFORM
    event = send.event
    headers = _headers(event, platform_source(send.owner), codec)
    raw = RawRecord(
        f"ingress.{send.owner}", event.case_id.encode(), codec.encode_value(event), headers, None
    )
    return Send(at, Sender.RAW, send.owner, send.case_id, None, raw)
