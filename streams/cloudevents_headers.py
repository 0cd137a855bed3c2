"""CloudEvents 1.0 attributes as Kafka headers (the Kafka protocol binding, binary mode).

The Avro value is the event data; the headers carry the envelope, so brokers, the ingress
anti-spoof check and consumers can route on ``ce_type`` / ``ce_source`` without decoding:

    ce_id           the event id                 ce_specversion  "1.0"
    ce_source       /platforms/<id> or /bureau/<unit>
    ce_type         regbus.<EventName>.v1        ce_time         RFC 3339 UTC, e.g. …T08:00:00.000Z
    ce_subject      the case id (omitted when empty: CloudEvents forbids an empty subject)
    content-type    application/avro
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime
from functools import lru_cache

from schemas.models import Event

CE_ID = "ce_id"
CE_SOURCE = "ce_source"
CE_TYPE = "ce_type"
CE_SPECVERSION = "ce_specversion"
CE_TIME = "ce_time"
CE_SUBJECT = "ce_subject"
CONTENT_TYPE = "content-type"

SPECVERSION = b"1.0"
AVRO_CONTENT_TYPE = b"application/avro"
REQUIRED_HEADERS: tuple[str, ...] = (CE_ID, CE_SOURCE, CE_TYPE, CE_SPECVERSION)

Headers = list[tuple[str, bytes]]
HeaderDict = dict[str, bytes | None]

_SOURCE = re.compile(r"^/(platforms|bureau)/([^/\s]+)$")


def platform_source(platform_id: str) -> str:
    return f"/platforms/{platform_id}"


def bureau_source(unit: str) -> str:
    return f"/bureau/{unit}"


def parse_source(source: str) -> tuple[str, str]:
    """``("platforms", id)`` or ``("bureau", unit)``; ValueError for any other shape."""
    match = _SOURCE.match(source)
    if match is None:
        raise ValueError(f"ce_source must be /platforms/<id> or /bureau/<unit>, got {source!r}")
    return match.group(1), match.group(2)


def rfc3339_utc(moment: datetime) -> str:
    """``2025-03-01T08:00:00.123Z`` (the models hold UTC at millisecond precision)."""
    return (
        f"{moment.year:04d}-{moment.month:02d}-{moment.day:02d}T"
        f"{moment.hour:02d}:{moment.minute:02d}:{moment.second:02d}."
        f"{moment.microsecond // 1000:03d}Z"
    )


@lru_cache(maxsize=1024)
def _source_bytes(source: str) -> bytes:
    parse_source(source)  # a malformed source raises (and is not cached)
    return source.encode()


@lru_cache(maxsize=256)
def _type_bytes(ce_type: str) -> bytes:
    return ce_type.encode()


def build_headers(event: Event, source: str) -> Headers:
    headers: Headers = [
        (CE_ID, event.event_id.encode()),
        (CE_SOURCE, _source_bytes(source)),
        (CE_TYPE, _type_bytes(event.CE_TYPE)),
        (CE_SPECVERSION, SPECVERSION),
        (CE_TIME, rfc3339_utc(event.occurred_at).encode()),
    ]
    if event.case_id:
        headers.append((CE_SUBJECT, event.case_id.encode()))
    headers.append((CONTENT_TYPE, AVRO_CONTENT_TYPE))
    return headers


def header_dict(headers: Iterable[tuple[str, bytes | str | None]] | None) -> HeaderDict:
    """Headers as a dict; for a repeated key the last value wins (as Kafka clients do)."""
    out: HeaderDict = {}
    for key, value in headers or ():
        out[key] = value.encode() if isinstance(value, str) else value
    return out
