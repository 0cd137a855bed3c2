"""Read the common fields of a framed event without decoding the whole record.

Every event schema starts with the same four fields in wire order (``event_id``, ``case_id``,
``platform_id`` as Avro strings, ``occurred_at`` as a ``timestamp-millis`` long), and
``ClockTicked`` adds ``tick_at`` right after them. The replay needs only those to route a
record (which case, which platform, which time, is it a tick), so it reads them straight
from the bytes. The layout is checked per schema id against the writer schema the codec
resolves; a schema id whose writer does not start that way is classified ``FULL`` and
the caller decodes it with :meth:`streams.codec.EventCodec.decode_raw` instead.
The property test in ``tests/audit`` checks this reader against ``decode_raw``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from schemas.models import ClockTicked
from streams.codec import HEADER_SIZE, MAGIC, EventCodec

_PREFIX = (
    ("event_id", "string"),
    ("case_id", "string"),
    ("platform_id", "string"),
    ("occurred_at", "timestamp-millis"),
)


class WireError(ValueError):
    """The bytes do not hold the expected prefix (truncated or not this layout)."""


@dataclass(frozen=True, slots=True)
class Kind:
    """What a schema id means to the replay."""

    schema_id: int
    event_name: str
    is_tick: bool
    fast: bool
    """True when the writer schema starts with the common prefix (and tick_at for ticks)."""
    tick_last: bool = False
    """A tick whose ``tick_at`` is the last field: read it backwards from the end."""


def _field_type(field: dict[str, Any]) -> str:
    ftype = field.get("type")
    if isinstance(ftype, dict):
        return str(ftype.get("logicalType") or ftype.get("type"))
    return str(ftype)


def _fields(writer: Any) -> list[dict[str, Any]]:
    fields = writer.get("fields") if isinstance(writer, dict) else None
    return fields if isinstance(fields, list) else []


def _has_prefix(writer: Any, is_tick: bool) -> bool:
    fields = _fields(writer)
    wanted = _PREFIX + ((("tick_at", "timestamp-millis"),) if is_tick else ())
    if len(fields) < len(wanted):
        return False
    return all(
        f.get("name") == name and _field_type(f) == ftype
        for f, (name, ftype) in zip(fields, wanted, strict=False)
    )


class KindTable:
    """Schema id → :class:`Kind`, resolved once per id through the codec's store."""

    def __init__(self, codec: EventCodec) -> None:
        self._codec = codec
        self._kinds: dict[bytes, Kind | None] = {}

    @property
    def cache(self) -> dict[bytes, Kind | None]:
        """The resolved kinds keyed by the value's first five bytes (magic + schema id)."""
        return self._kinds

    def kind(self, value: bytes) -> Kind | None:
        """The kind of a framed value, or None when its id is unknown or it is not framed."""
        head = value[:HEADER_SIZE]
        try:
            return self._kinds[head]
        except KeyError:
            pass
        found: Kind | None = None
        if len(value) >= HEADER_SIZE and value[0] == MAGIC:
            schema_id = int.from_bytes(head[1:], "big")
            resolved = self._codec.store.resolve(schema_id)
            if resolved is not None:
                is_tick = resolved.event_name == ClockTicked.EVENT_NAME
                fast = _has_prefix(resolved.writer, is_tick)
                last = fast and is_tick and len(_fields(resolved.writer)) == len(_PREFIX) + 1
                found = Kind(schema_id, resolved.event_name, is_tick, fast, last)
        if len(self._kinds) < 10_000:  # garbage input must not grow it without bound
            self._kinds[head] = found
        return found


def _long(buf: bytes, pos: int) -> tuple[int, int]:
    """One zig-zag varint (Avro ``int``/``long``) at ``pos``: (value, next position)."""
    b = buf[pos]
    pos += 1
    n = b & 0x7F
    shift = 7
    while b & 0x80:
        b = buf[pos]
        pos += 1
        n |= (b & 0x7F) << shift
        shift += 7
        if shift > 70:
            raise WireError("varint longer than 10 bytes")
    return (n >> 1) ^ -(n & 1), pos


def _skip_string(buf: bytes, pos: int) -> int:
    size, pos = _long(buf, pos)
    end = pos + size
    if size < 0 or end > len(buf):
        raise WireError("string runs past the end of the value")
    return end


def _string(buf: bytes, pos: int) -> tuple[str, int]:
    size, pos = _long(buf, pos)
    end = pos + size
    if size < 0 or end > len(buf):
        raise WireError("string runs past the end of the value")
    return buf[pos:end].decode(), end


def read_prefix(value: bytes) -> tuple[str, str, int]:
    """(case_id, platform_id, occurred_at in epoch ms) of a framed value with the prefix."""
    try:
        pos = _skip_string(value, HEADER_SIZE)
        case_id, pos = _string(value, pos)
        platform_id, pos = _string(value, pos)
        occurred_ms, _ = _long(value, pos)
    except (IndexError, UnicodeDecodeError) as exc:
        raise WireError(str(exc)) from None
    return case_id, platform_id, occurred_ms


def read_last_long(value: bytes) -> int:
    """The value's final field when it is a ``long`` that follows another ``long``.

    A varint's last byte has the high bit clear and its other bytes have it set, so reading
    backwards from the end, the varint's bytes are the ones with the bit set up to the
    previous clear-bit byte (the end of the preceding long); most significant group first."""
    end = len(value) - 1
    if end <= HEADER_SIZE:
        raise WireError("value too short for a trailing varint")
    n = value[end]
    if n & 0x80:
        raise WireError("value does not end with a varint")
    i = end - 1
    while value[i] & 0x80:
        if i <= HEADER_SIZE or end - i >= 10:
            raise WireError("trailing varint runs too far back")
        n = (n << 7) | (value[i] & 0x7F)
        i -= 1
    return (n >> 1) ^ -(n & 1)


def read_tick_ms(value: bytes) -> int:
    """``tick_at`` in epoch ms of a framed ClockTicked with the prefix layout."""
    try:
        pos = _skip_string(value, HEADER_SIZE)
        pos = _skip_string(value, pos)
        pos = _skip_string(value, pos)
        _occurred, pos = _long(value, pos)
        tick_ms, _ = _long(value, pos)
    except IndexError as exc:
        raise WireError(str(exc)) from None
    return tick_ms
