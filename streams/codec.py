"""The wire codec: Confluent framing + schemaless Avro + CloudEvents headers.

Value layout (Confluent wire format)::

    byte 0      magic 0x00
    bytes 1-4   schema id, big-endian unsigned (from the lock file or the schema registry)
    bytes 5-    the Avro binary encoding of the record, no container, no schema

A writer always uses the newest schema of the event; a reader looks the writer's schema up
by id and reads into the newest schema (Avro schema resolution), so older records upcast
on read. Every failure to decode is a :class:`DecodeError` carrying a dead-letter reason;
nothing from fastavro or pydantic escapes.
"""

from __future__ import annotations

from collections.abc import Sequence
from io import BytesIO
from typing import Any

from fastavro import schemaless_reader, schemaless_writer
from pydantic import ValidationError

from schemas.mapping import AvroRecord, from_avro, to_avro
from schemas.models import DeadLetterReason, Event
from schemas.pii import PersonalDataError
from schemas.store import ParsedSchema, ResolvedId, SchemaStore, default_store
from streams.cloudevents_headers import (
    CE_SPECVERSION,
    CE_TYPE,
    REQUIRED_HEADERS,
    SPECVERSION,
    HeaderDict,
    Headers,
    build_headers,
    header_dict,
)

MAGIC = 0
HEADER_SIZE = 5

__all__ = [
    "HEADER_SIZE",
    "MAGIC",
    "DecodeError",
    "EncodeError",
    "EventCodec",
    "header_dict",
]


class DecodeError(Exception):
    """A record that cannot become an event; ``reason`` is its dead-letter reason code."""

    def __init__(self, reason: DeadLetterReason, detail: str) -> None:
        super().__init__(f"{reason.value}: {detail}")
        self.reason = reason
        self.detail = detail


class EncodeError(Exception):
    """An event that cannot be written (not a concrete event type, or an unencodable value)."""


def _validation_detail(exc: ValidationError) -> str:
    first = exc.errors()[0]
    where = ".".join(str(p) for p in first.get("loc", ()))
    return f"{exc.error_count()} invalid field(s); {where}: {first.get('msg', '')}"


class EventCodec:
    """Encodes events to (key, value, headers) and decodes values back, bound to one store."""

    def __init__(self, store: SchemaStore | None = None) -> None:
        self._store = store if store is not None else default_store()
        # Per event class: the 5-byte prefix, the parsed schema and the ce_type bytes, so the
        # hot path is dictionary look-ups and one fastavro call.
        self._writers: dict[type[Event], tuple[bytes, ParsedSchema]] = {}
        self._ids: dict[int, tuple[ResolvedId, bytes]] = {}

    @property
    def store(self) -> SchemaStore:
        return self._store

    # encode ---------------------------------------------------------------------------
    def _writer(self, cls: type[Event]) -> tuple[bytes, ParsedSchema]:
        found = self._writers.get(cls)
        if found is None:
            try:
                ws = self._store.writer(cls.EVENT_NAME)
            except KeyError:
                raise EncodeError(f"{cls.__name__} is not an event type with a schema") from None
            found = (bytes([MAGIC]) + ws.schema_id.to_bytes(4, "big"), ws.parsed)
            self._writers[cls] = found
        return found

    def encode_value(self, event: Event) -> bytes:
        prefix, parsed = self._writer(type(event))
        out = BytesIO()
        out.write(prefix)
        try:
            schemaless_writer(out, parsed, to_avro(event))
        except Exception as exc:  # fastavro: a value the schema cannot carry
            raise EncodeError(f"{type(event).__name__}: {exc}") from exc
        return out.getvalue()

    def headers_for(self, event: Event, source: str) -> Headers:
        return build_headers(event, source)

    def encode(self, event: Event, source: str) -> tuple[bytes, bytes, Headers]:
        """(key = case id as UTF-8, framed Avro value, CloudEvents headers)."""
        return event.case_id.encode(), self.encode_value(event), build_headers(event, source)

    # decode ---------------------------------------------------------------------------
    header_dict = staticmethod(header_dict)

    def _resolve(self, schema_id: int) -> tuple[ResolvedId, bytes] | None:
        found = self._ids.get(schema_id)
        if found is None:
            resolved = self._store.resolve(schema_id)
            if resolved is None:
                return None
            found = (resolved, f"regbus.{resolved.event_name}.v1".encode())
            self._ids[schema_id] = found
        return found

    def _read(self, value: Any, ce_type: bytes | None) -> tuple[str, AvroRecord]:
        if not isinstance(value, bytes | bytearray | memoryview):
            raise DecodeError(DeadLetterReason.INVALID_VALUE, "value is not bytes (tombstone?)")
        size = len(value)
        if size == 0:
            raise DecodeError(DeadLetterReason.TRUNCATED, "empty value")
        if value[0] != MAGIC:
            raise DecodeError(DeadLetterReason.BAD_MAGIC, f"magic byte is {value[0]}, not 0")
        if size < HEADER_SIZE:
            raise DecodeError(DeadLetterReason.TRUNCATED, f"{size} bytes, shorter than the header")
        schema_id = int.from_bytes(value[1:HEADER_SIZE], "big")
        found = self._resolve(schema_id)
        if found is None:
            raise DecodeError(DeadLetterReason.UNKNOWN_SCHEMA_ID, f"schema id {schema_id}")
        resolved, expected_type = found
        if ce_type is not None and ce_type != expected_type:
            raise DecodeError(
                DeadLetterReason.WRONG_TYPE_HEADER,
                f"ce_type {ce_type!r} but schema id {schema_id} is {resolved.event_name}",
            )
        body = BytesIO(value)
        body.seek(HEADER_SIZE)
        try:
            record = schemaless_reader(body, resolved.writer, resolved.reader)
        except (EOFError, IndexError) as exc:
            raise DecodeError(DeadLetterReason.TRUNCATED, f"Avro body ends early: {exc}") from None
        except Exception as exc:  # anything fastavro raises on malformed input
            raise DecodeError(
                DeadLetterReason.INVALID_VALUE, f"{type(exc).__name__}: {exc}"
            ) from None
        if body.tell() != size:
            raise DecodeError(
                DeadLetterReason.INVALID_VALUE, f"{size - body.tell()} trailing bytes after record"
            )
        if not isinstance(record, dict):
            raise DecodeError(DeadLetterReason.INVALID_VALUE, "record is not a map")
        return resolved.event_name, record

    def decode_raw(self, value: bytes) -> tuple[str, AvroRecord]:
        """(event name, the record as a plain dict): no headers, no model (replay hot path)."""
        return self._read(value, None)

    def decode(
        self, value: bytes, headers: Sequence[tuple[str, bytes | None]] | None = None
    ) -> Event:
        """The validated event; with ``headers``, the CloudEvents envelope is checked too."""
        ce_type: bytes | None = None
        if headers is not None:
            hd = header_dict(headers)
            _check_required(hd)
            ce_type = hd[CE_TYPE]
        name, record = self._read(value, ce_type)
        try:
            return from_avro(name, record)
        except ValidationError as exc:
            reason = DeadLetterReason.INVALID_VALUE
            if any(isinstance((e.get("ctx") or {}).get("error"), PersonalDataError)
                   for e in exc.errors()):  # fmt: skip
                reason = DeadLetterReason.PERSONAL_DATA
            raise DecodeError(reason, _validation_detail(exc)) from None
        except Exception as exc:  # a validator tripping over a value pydantic let through
            raise DecodeError(
                DeadLetterReason.INVALID_VALUE, f"{type(exc).__name__}: {exc}"
            ) from None

    def event_name(self, value: bytes) -> str:
        """The event name a framed value claims, from its schema id (the body is not read)."""
        if len(value) < HEADER_SIZE or value[0] != MAGIC:
            raise DecodeError(DeadLetterReason.BAD_MAGIC, "not a framed value")
        found = self._resolve(int.from_bytes(value[1:HEADER_SIZE], "big"))
        if found is None:
            raise DecodeError(DeadLetterReason.UNKNOWN_SCHEMA_ID, "unknown schema id")
        return found[0].event_name


def _check_required(hd: HeaderDict) -> None:
    missing = [name for name in REQUIRED_HEADERS if not hd.get(name)]
    if missing:
        raise DecodeError(DeadLetterReason.MISSING_HEADER, f"missing {', '.join(missing)}")
    if hd[CE_SPECVERSION] != SPECVERSION:
        raise DecodeError(
            DeadLetterReason.INVALID_VALUE,
            f"unsupported ce_specversion {hd[CE_SPECVERSION]!r} (expected 1.0)",
        )
