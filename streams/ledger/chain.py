"""The hash chain over one partition of a canonical topic (tamper evidence).

For the records of a partition in offset order::

    h(-1) = SHA-256( "regbus.chain/1" 0x00 topic 0x00 uint32be(partition) )      the genesis
    h(n)  = SHA-256( h(n-1) || enc(record n) )

    enc(r) = "R" || int64be(offset) || int64be(timestamp ms)
               || bytes(key) || bytes(value)
               || uint32be(header count) || ( bytes(header key, UTF-8) || bytes(header value) )*
    bytes(None) = int32be(-1);   bytes(b) = int32be(len(b)) || b

Everything Kafka stores for the record is covered except the timestamp *type* (a topic
setting): the exact key, value and header bytes, the header order, the offset (so removing,
inserting or reordering records changes every later hash) and the timestamp (which the
reconciliation's lateness relies on). The genesis binds a chain to its topic and partition.
"""

from __future__ import annotations

import hashlib
import struct
from collections.abc import Sequence
from dataclasses import dataclass

FORMAT = "regbus.chain/1"
_I32 = struct.Struct(">i")
_HEAD = struct.Struct(">cqq")
_NULL = _I32.pack(-1)


def genesis(topic: str, partition: int) -> bytes:
    return hashlib.sha256(
        FORMAT.encode() + b"\x00" + topic.encode() + b"\x00" + partition.to_bytes(4, "big")
    ).digest()


def _field(data: bytes | None) -> bytes:
    if data is None:
        return _NULL
    return _I32.pack(len(data)) + data


def encode_record(
    offset: int,
    timestamp_ms: int,
    key: bytes | None,
    value: bytes | None,
    headers: Sequence[tuple[str, bytes | None]],
) -> bytes:
    """The canonical bytes of one record (see the module docstring)."""
    parts = [_HEAD.pack(b"R", offset, timestamp_ms), _field(key), _field(value)]
    parts.append(len(headers).to_bytes(4, "big"))
    for hkey, hvalue in headers:
        parts.append(_field(hkey.encode()))
        parts.append(_field(hvalue))
    return b"".join(parts)


def link(
    previous: bytes,
    offset: int,
    timestamp_ms: int,
    key: bytes | None,
    value: bytes | None,
    headers: Sequence[tuple[str, bytes | None]],
) -> bytes:
    """h(n) from h(n-1) and record n."""
    return hashlib.sha256(
        previous + encode_record(offset, timestamp_ms, key, value, headers)
    ).digest()


@dataclass
class Chain:
    """A partition's chain as it is being computed: the head hash and where it stands."""

    topic: str
    partition: int
    head: bytes
    last_offset: int | None = None
    """Offset of the last record folded in (None: still at the genesis or at an anchor)."""
    count: int = 0

    @classmethod
    def start(cls, topic: str, partition: int) -> Chain:
        return cls(topic, partition, genesis(topic, partition))

    @classmethod
    def resume(cls, topic: str, partition: int, head_hex: str, last_offset: int) -> Chain:
        """Continue from a checkpoint: ``head_hex`` is h(last_offset)."""
        return cls(topic, partition, bytes.fromhex(head_hex), last_offset)

    def add(
        self,
        offset: int,
        timestamp_ms: int,
        key: bytes | None,
        value: bytes | None,
        headers: Sequence[tuple[str, bytes | None]],
    ) -> bytes:
        self.head = link(self.head, offset, timestamp_ms, key, value, headers)
        self.last_offset = offset
        self.count += 1
        return self.head

    @property
    def head_hex(self) -> str:
        return self.head.hex()
