"""Small JSON helpers shared by the report parts: instants as ISO strings, log positions."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from audit.fold import RecordMeta
from schemas.instants import from_ms


def iso_ms(ms: int | None) -> str | None:
    """Epoch milliseconds as ``2026-03-01T08:00:00.000Z`` (None stays None)."""
    if ms is None:
        return None
    return from_ms(ms).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def iso(instant: datetime | None) -> str | None:
    if instant is None:
        return None
    return instant.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def meta_json(meta: RecordMeta | None) -> dict[str, Any] | None:
    """Where a record sits: topic, partition, offset and its Kafka timestamp."""
    if meta is None:
        return None
    return {
        "topic": meta.topic,
        "partition": meta.partition,
        "offset": meta.offset,
        "logged_at": iso_ms(meta.timestamp_ms),
    }
