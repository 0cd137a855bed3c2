"""Build the dead-letter record for a rejected input record (shared by every agent)."""

from __future__ import annotations

import hashlib
import uuid
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from schemas.instants import from_ms
from schemas.models import DeadLetterHeader, DeadLetterReason, DeadLetterRecord
from schemas.pii import mask, scan_bytes
from streams.topics import Catalogue

if TYPE_CHECKING:
    from streams.codec import EventCodec
    from streams.records import InRecord, OutRecord

DEADLETTER_SOURCE = "/bureau/regbus"
_NS = uuid.UUID("0d3c7b55-58a4-5b3e-8f9e-8b7c6a5d4e3f")


def dead_letter_id(topic: str, partition: int, offset: int) -> str:
    """One id per original record: a re-processed poison record is the same dead letter."""
    return str(uuid.uuid5(_NS, f"{topic}/{partition}/{offset}"))


def dead_letter(
    catalogue: Catalogue,
    codec: EventCodec,
    rec: InRecord,
    reason: DeadLetterReason,
    detail: str,
    platform_id: str = "",
) -> OutRecord:
    from streams.records import OutRecord

    kept_key, kept_value, kept_headers, note = _withhold_personal_data(rec, reason)
    record = DeadLetterRecord(
        event_id=dead_letter_id(rec.topic, rec.partition, rec.offset),
        case_id="",
        platform_id=platform_id,
        occurred_at=from_ms(rec.timestamp_ms) if rec.timestamp_ms else datetime.now(UTC),
        original_topic=rec.topic,
        original_partition=rec.partition,
        original_offset=rec.offset,
        original_key=kept_key,
        original_value=kept_value,
        original_headers=kept_headers,
        reason=reason,
        detail=(mask(detail) + note)[:2000],
    )
    _key, value, headers = codec.encode(record, DEADLETTER_SOURCE)
    return OutRecord(catalogue.deadletter, rec.topic.encode(), value, headers)


def dead_letter_notice(
    catalogue: Catalogue,
    codec: EventCodec,
    rec: InRecord,
    reason: DeadLetterReason,
    platform_id: str,
) -> OutRecord:
    """The notice of a refused record for its platform's inbox: reason and coordinates and the
    record's own ``ce_type``/``ce_id``, never its bytes or the refusal's free text."""
    from schemas.models import DeadLetterNotice
    from streams.records import OutRecord

    ident = dead_letter_id(rec.topic, rec.partition, rec.offset)
    hd = {k: v for k, v in reversed(rec.headers)}  # the first of repeated keys

    def header(name: str) -> str | None:
        raw = hd.get(name)
        return None if raw is None else raw.decode("utf-8", "replace")[:200]

    notice = DeadLetterNotice(
        event_id=str(uuid.uuid5(_NS, f"notice/{ident}")),
        case_id="",
        platform_id=platform_id,
        occurred_at=datetime.fromtimestamp(rec.timestamp_ms / 1000, UTC)
        if rec.timestamp_ms
        else datetime.now(UTC),
        dead_letter_id=ident,
        original_topic=rec.topic,
        original_partition=rec.partition,
        original_offset=rec.offset,
        reason=reason,
        ce_type=header("ce_type"),
        ce_id=header("ce_id"),
    )
    _key, value, headers = codec.encode(notice, DEADLETTER_SOURCE)
    return OutRecord(catalogue.inbox(platform_id), rec.topic.encode(), value, headers)


def _withhold_personal_data(
    rec: InRecord, reason: DeadLetterReason
) -> tuple[bytes | None, bytes | None, list[DeadLetterHeader], str]:
    """The key, value and headers a dead letter may keep, and a note on what it withheld.

    The dead-letter topic must never hold personal data in clear (PIPL): a record refused for
    it, or whose bytes show any (whatever the reason it was refused), keeps no original value
    — only its SHA-256 and its coordinates; a key or header that shows personal data is
    dropped the same way. Such a letter cannot be redriven: the sender must resend without
    the data.
    """
    key, value = rec.key, rec.value
    withheld: list[str] = []
    if value is not None and (reason is DeadLetterReason.PERSONAL_DATA or scan_bytes(value)):
        withheld.append(f"value sha256:{hashlib.sha256(value).hexdigest()}")
        value = None
    if key is not None and scan_bytes(key):
        withheld.append(f"key sha256:{hashlib.sha256(key).hexdigest()}")
        key = None
    headers: list[DeadLetterHeader] = []
    for k, v in rec.headers:
        shown: bytes | None = v
        if v is not None and scan_bytes(v):
            withheld.append(f"header {k}")
            shown = None
        headers.append(DeadLetterHeader(key=k, value=shown))
    if not withheld:
        return key, value, headers, ""
    return (
        key,
        value,
        headers,
        " | 含个人信息,原文未保留 / personal data withheld: " + ", ".join(withheld),
    )
