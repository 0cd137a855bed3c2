"""The one record-size limit, and how a record's size on the wire is counted.

:data:`MAX_MESSAGE_BYTES` is stated here once and everything else derives from it: every
catalogue topic's ``max.message.bytes`` (:mod:`streams.topics`), the worker's producer
(``agents.app``), and the platform SDK, which refuses an event whose record would be larger
before sending it (``clients.publisher``). Ingress dead-letters a record it cannot copy to its
canonical topic because of its size (a compressed batch can carry a record larger than the
limit once uncompressed).

Kafka measures ``max.message.bytes`` on a record *batch*; a record "of size n" here means the
uncompressed batch holding only that record (:func:`record_batch_bytes`), which is what a
producer sends when the record is alone in its batch and what the broker checks.
"""

from __future__ import annotations

from collections.abc import Iterable

__all__ = [
    "BATCH_HEADER_BYTES",
    "MAX_MESSAGE_BYTES",
    "PRODUCER_MAX_REQUEST_BYTES",
    "record_batch_bytes",
]

MAX_MESSAGE_BYTES = 1_048_576
"""The largest record batch any topic of the catalogue accepts (1 MiB, just under the
broker's own default ``message.max.bytes`` of 1,048,588)."""

BATCH_HEADER_BYTES = 61
"""Kafka's v2 record batch header (base offset … record count)."""

PRODUCER_MAX_REQUEST_BYTES = MAX_MESSAGE_BYTES + 64
"""``max_request_size`` for aiokafka producers: aiokafka refuses a record whose *upper-bound*
estimate (batch header + 21 bytes of worst-case record overhead + the data) is above it, which
is up to ~20 bytes more than the exact size, so a record of exactly the limit needs the slack.
The broker still enforces :data:`MAX_MESSAGE_BYTES` exactly."""


def _varint_bytes(n: int) -> int:
    """Bytes of Kafka's zig-zag varint for ``n``."""
    z = (n << 1) ^ (n >> 63)
    size = 1
    while z >= 0x80:
        z >>= 7
        size += 1
    return size


def _field_bytes(data: bytes | None) -> int:
    return 1 if data is None else _varint_bytes(len(data)) + len(data)


def record_batch_bytes(
    key: bytes | None, value: bytes | None, headers: Iterable[tuple[str, bytes | None]] = ()
) -> int:
    """The exact size of an uncompressed v2 batch holding this one record."""
    headers = list(headers)
    body = 3 + _field_bytes(key) + _field_bytes(value) + _varint_bytes(len(headers))
    for hkey, hvalue in headers:
        body += _field_bytes(hkey.encode("utf-8")) + _field_bytes(hvalue)
    return BATCH_HEADER_BYTES + _varint_bytes(body) + body
