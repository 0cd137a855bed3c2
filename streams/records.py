"""Plain-data records between Kafka and the processors.

Processors (ingress, case families, the replay's fold) see only :class:`InRecord` lists and
return a :class:`BatchResult`; nothing here knows Faust, so the same code runs under the
worker, in benchmarks and in the replay.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

__all__ = [
    "BatchProcessor",
    "BatchResult",
    "Headers",
    "InRecord",
    "OutRecord",
    "StateReader",
    "StateWrite",
]

Headers = list[tuple[str, bytes]]


@dataclass(slots=True)
class InRecord:
    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    headers: Headers
    timestamp_ms: int


@dataclass(slots=True)
class OutRecord:
    topic: str
    key: bytes | None
    value: bytes
    headers: Headers = field(default_factory=list)
    partition: int | None = None


@dataclass(slots=True)
class StateWrite:
    table: str
    partition: int
    key: bytes
    value: bytes | None


@dataclass(slots=True)
class BatchResult:
    out: list[OutRecord] = field(default_factory=list)
    writes: list[StateWrite] = field(default_factory=list)


class StateReader(Protocol):
    def get(self, key: bytes) -> bytes | None: ...

    def items(self) -> Iterable[tuple[bytes, bytes]]: ...


class BatchProcessor(Protocol):
    """Turns a batch of input records into outputs and state writes; never raises on input."""

    def process(self, batch: Sequence[InRecord], tables: dict[str, StateReader]) -> BatchResult: ...
