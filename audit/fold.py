"""Fold canonical case records into case states as of an instant, through the live agent.

The work is done by :class:`agents.cases.CaseProcessor` — the very object the Faust case
agents run — over an in-memory :class:`MemoryStore` instead of a Faust table, so live
processing and replay share one code path (decode → upcast → ``engine.handle`` / ``on_tick``
→ store envelope) and cannot diverge. What this module adds is only *which* records reach
the processor and *when*:

* **as of T** (see ``docs/audit.md``): a case event whose ``occurred_at`` is after T is left
  out; a tick whose ``tick_at`` is after T ends its partition in ``known`` mode (the bureau's
  clock passed T there, so what follows was learnt later) and is skipped in ``happened`` mode;
* **filters**: one case, one platform (decided by the first record of each case), or a
  window that starts at a tick (cases first seen with a non-opening event are left out);
* **the tick fast path**: a tick is handed to the processor only when its partition's
  deadline index has something due at ``tick_at``. Any other tick is a no-op for the
  processor (``pop_due_cases`` returns nothing), so skipping it changes nothing but the time.

Ticks and routing fields are read straight from the bytes (:mod:`audit.wire`); the
processor decodes every record it gets with the full codec, exactly as live.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from functools import cache
from typing import Any, Protocol

import orjson

from agents.cases import CASES_TABLE, CaseProcessor
from agents.core import engine
from audit.wire import (
    Kind,
    KindTable,
    WireError,
    read_last_long,
    read_prefix,
    read_tick_ms,
)
from schemas.families import CaseFamily
from schemas.instants import from_ms, to_ms
from schemas.models import (
    AlertEvent,
    ComplaintFiled,
    DeadLetterRecord,
    Event,
    InspectionFindingRecorded,
    RefundRequested,
    SlaClockEvent,
)
from schemas.store import SchemaStore
from streams.cloudevents_headers import Headers
from streams.codec import DecodeError, EventCodec
from streams.records import InRecord, OutRecord
from streams.topics import Catalogue

OPENING_EVENTS = frozenset(
    {ComplaintFiled.EVENT_NAME, RefundRequested.EVENT_NAME, InspectionFindingRecorded.EVENT_NAME}
)
MAX_PENDING = 5000
"""Records handed to the processor in one call at most (the live agent's batches are 1000)."""


class Mode(StrEnum):
    KNOWN = "known"
    """What the bureau knew at T: a partition ends at its first tick after T."""
    HAPPENED = "happened"
    """What the whole log now says happened by T: every record with a time ≤ T."""


@dataclass(frozen=True, slots=True)
class AsOf:
    """Which records a replay folds (times in epoch milliseconds, UTC)."""

    until_ms: int
    mode: Mode = Mode.KNOWN
    since_ms: int | None = None
    platform: str | None = None
    case: str | None = None

    @classmethod
    def at(cls, until: datetime, **kw: Any) -> AsOf:
        since = kw.pop("since", None)
        return cls(to_ms(until), since_ms=None if since is None else to_ms(since), **kw)

    @property
    def until(self) -> datetime:
        return ms_to_dt(self.until_ms)


@cache
def shared_context() -> engine.Context:
    """The packaged policy and calendar, loaded once per process (as a worker does)."""
    return engine.default_context()


def ms_to_dt(ms: int) -> datetime:
    return from_ms(ms)


@dataclass(frozen=True, slots=True)
class RecordMeta:
    """Where a record sits in the log, and its Kafka timestamp (epoch ms)."""

    topic: str
    partition: int
    offset: int
    timestamp_ms: int


class RecordLike(Protocol):
    """What the folder reads from a consumed record (aiokafka's ConsumerRecord fits)."""

    offset: int
    timestamp: int
    key: bytes | None
    value: bytes | None
    headers: Sequence[tuple[str, bytes]]


class Observer(Protocol):
    """Receives what the replay sees and produces (the report collector implements it)."""

    def on_case_event(
        self, meta: RecordMeta, family: CaseFamily, name: str, case_id: str, platform_id: str,
        occurred_ms: int,
    ) -> None: ...  # fmt: skip

    def on_output(self, event: Event, trigger: RecordMeta | None, family: CaseFamily) -> None: ...

    def on_dead_letter(self, record: DeadLetterRecord) -> None: ...


class RecordTap(Protocol):
    """Sees, in order, every record the case replay folds or passes (every tick ≤ T) and
    every output of the case processors: the regulator replay
    (:class:`audit.regulator_replay.RegulatorReplay`) implements it."""

    def on_record(self, rec: InRecord) -> None: ...

    def on_alert(self, event: Event) -> None: ...


class MemoryStore:
    """The in-memory stand-in for a Faust table: case id → the live agent's envelope bytes."""

    def __init__(self) -> None:
        self.data: dict[bytes, bytes] = {}

    def get(self, key: bytes) -> bytes | None:
        return self.data.get(key)

    def items(self) -> Iterable[tuple[bytes, bytes]]:
        return self.data.items()


class _TracingCodec(EventCodec):
    """The processor's codec. It remembers which record it decoded last, so each output the
    processor emits can be attributed to the record that caused it; and it does not encode
    the alerts and clock events the processor would publish (a replay publishes nothing, and
    encoding them was a fifth of the cost per event). Dead letters are still encoded: the
    replay reads them back for its report."""

    def __init__(self, store: SchemaStore) -> None:
        super().__init__(store)
        self.current: RecordMeta | None = None
        self._metas: dict[int, RecordMeta] = {}

    def begin(self, metas: dict[int, RecordMeta]) -> None:
        self._metas = metas
        self.current = None

    def decode(
        self, value: bytes, headers: Sequence[tuple[str, bytes | None]] | None = None
    ) -> Event:
        self.current = self._metas.get(id(value))
        return super().decode(value, headers)

    def encode(self, event: Event, source: str) -> tuple[bytes, bytes, Headers]:
        if isinstance(event, AlertEvent | SlaClockEvent):
            return b"", b"", []
        return super().encode(event, source)


@dataclass
class PartitionProgress:
    """Per canonical partition: how far the replay got and what it did there."""

    topic: str
    partition: int
    records: int = 0
    ticks_applied: int = 0
    ticks_skipped: int = 0
    last_tick_ms: int | None = None
    last_offset: int | None = None
    cutoff_offset: int | None = None
    """Offset of the first tick after T (known mode); None when the log ended first."""
    before_window: int = 0
    """Records skipped before the window (``since``) started in this partition."""


@dataclass
class FoldStats:
    events_applied: int = 0
    events_after_until: int = 0
    events_filtered: int = 0
    ticks_after_until: int = 0
    dead_letters: int = 0
    cases_before_window: int = 0
    partitions: dict[tuple[str, int], PartitionProgress] = field(default_factory=dict)

    @property
    def records(self) -> int:
        return sum(p.records for p in self.partitions.values())

    @property
    def ticks_applied(self) -> int:
        return sum(p.ticks_applied for p in self.partitions.values())

    @property
    def ticks_skipped(self) -> int:
        return sum(p.ticks_skipped for p in self.partitions.values())


class _Family:
    def __init__(
        self, family: CaseFamily, catalogue: Catalogue, ctx: engine.Context, codec: EventCodec
    ) -> None:
        self.family = family
        self.store = MemoryStore()
        self.tracer = _TracingCodec(codec.store)
        self.processor = CaseProcessor(family, catalogue, ctx, self.tracer)
        self.tables: dict[str, Any] = {CASES_TABLE: self.store}


class ReplayFolder:
    """Feeds consumed records, partition by partition, to one CaseProcessor per family."""

    def __init__(
        self,
        catalogue: Catalogue,
        as_of: AsOf,
        observer: Observer | None = None,
        ctx: engine.Context | None = None,
        codec: EventCodec | None = None,
        tap: RecordTap | None = None,
        route: Any = None,
    ) -> None:
        """``route``: the roster's alert routing, as live (:mod:`audit.side_logs`)."""
        self.catalogue = catalogue
        self.as_of = as_of
        self.observer = observer
        self.tap = tap
        self.codec = codec or EventCodec()
        self.kinds = KindTable(self.codec)
        ctx = ctx or shared_context()
        self._families = {f: _Family(f, catalogue, ctx, self.codec) for f in CaseFamily}
        self._by_topic = {catalogue.cases(f): f for f in CaseFamily}
        self._decided: dict[str, bool] = {}
        self._needs_decision = as_of.platform is not None or as_of.since_ms is not None
        self.stats = FoldStats()
        self._pending: dict[tuple[str, int], list[InRecord]] = {}
        self._next_due: dict[tuple[str, int], int | None] = {}
        self._started: set[tuple[str, int]] = set()
        for fam in self._families.values():
            fam.processor.on_output = self._output_hook(fam)
            fam.processor.route = route

    def _output_hook(self, fam: _Family) -> Any:
        observer = self.observer
        tap = self.tap

        def hook(event: Event) -> None:
            if observer is not None:
                observer.on_output(event, fam.tracer.current, fam.family)
            if tap is not None:
                tap.on_alert(event)

        return hook

    # feeding -------------------------------------------------------------------------
    def family_of(self, topic: str) -> CaseFamily:
        return self._by_topic[topic]

    def progress(self, topic: str, partition: int) -> PartitionProgress:
        key = (topic, partition)
        found = self.stats.partitions.get(key)
        if found is None:
            found = self.stats.partitions[key] = PartitionProgress(topic, partition)
        return found

    def feed(self, topic: str, partition: int, records: Sequence[RecordLike]) -> bool:
        """Fold the next records of one partition (in offset order). Returns True when the
        partition is finished as of T (known mode, a tick after T was reached); records
        after that point must not be fed."""
        fam = self._families[self._by_topic[topic]]
        key = (topic, partition)
        pending = self._pending.setdefault(key, [])
        prog = self.progress(topic, partition)
        if not records:
            return False
        prog.records += len(records)
        prog.last_offset = records[-1].offset
        as_of = self.as_of
        until = as_of.until_ms
        known = as_of.mode is Mode.KNOWN
        kinds = self.kinds
        cached_kind = kinds.cache.get
        tick_ms_of = read_last_long
        stats = self.stats
        next_due = self._next_due.get(key)
        started = as_of.since_ms is None or key in self._started
        since = as_of.since_ms or 0
        skipped = 0
        for i, rec in enumerate(records):
            value = rec.value or b""
            kind = cached_kind(value[:5]) or (kinds.kind(value) if value else None)
            if kind is not None and kind.is_tick:
                # the hot path: most records of a production log are ticks with nothing due
                try:
                    if kind.tick_last:
                        tick_ms = tick_ms_of(value)
                    elif kind.fast:
                        tick_ms = read_tick_ms(value)
                    else:
                        tick_ms = self._slow_tick_ms(value)
                except (WireError, DecodeError):
                    pending.append(_in(topic, partition, rec))  # the processor dead-letters it
                    continue
                if tick_ms > until:
                    stats.ticks_after_until += 1
                    if known:
                        prog.cutoff_offset = rec.offset
                        prog.records -= len(records) - i
                        prog.last_offset = records[i - 1].offset if i else prog.last_offset
                        prog.ticks_skipped += skipped
                        self._flush(fam, key, pending)
                        return True
                    continue
                if not started:
                    if tick_ms < since:
                        prog.before_window += 1
                        continue
                    started = True
                    self._started.add(key)
                prog.last_tick_ms = tick_ms
                if self.tap is not None:
                    self.tap.on_record(_in(topic, partition, rec))
                if pending:
                    next_due = self._flush(fam, key, pending)
                if next_due is None or next_due > tick_ms:
                    skipped += 1
                    continue
                prog.ticks_applied += 1
                pending.append(_in(topic, partition, rec))
                next_due = 0  # unknown until flushed: a following tick must flush first
                continue
            if self._event(fam, key, pending, rec, kind, value, started, since):
                next_due = self._flush(fam, key, pending)
        prog.ticks_skipped += skipped
        self._next_due[key] = next_due
        return False

    def _event(
        self, fam: _Family, key: tuple[str, int], pending: list[InRecord], rec: RecordLike,
        kind: Kind | None, value: bytes, started: bool, since: int,
    ) -> bool:  # fmt: skip
        """Queue one non-tick record for the processor if it is folded; True = flush now."""
        topic, partition = key
        if kind is None:
            pending.append(_in(topic, partition, rec))  # dead-lettered by the processor
            return False
        try:
            if kind.fast:
                case_id, platform_id, occurred_ms = read_prefix(value)
            else:
                case_id, platform_id, occurred_ms = self._slow_prefix(value)
        except (WireError, DecodeError):
            pending.append(_in(topic, partition, rec))
            return False
        stats = self.stats
        if occurred_ms > self.as_of.until_ms:
            stats.events_after_until += 1
            return False
        if not started and occurred_ms < since:
            self.stats.partitions[key].before_window += 1
            return False
        if not self._included(case_id, platform_id, kind.event_name):
            stats.events_filtered += 1
            return False
        stats.events_applied += 1
        if self.observer is not None:
            meta = RecordMeta(topic, partition, rec.offset, rec.timestamp)
            self.observer.on_case_event(
                meta, fam.family, kind.event_name, case_id, platform_id, occurred_ms
            )
        record = _in(topic, partition, rec)
        pending.append(record)
        if self.tap is not None:
            self.tap.on_record(record)
        return len(pending) >= MAX_PENDING

    def finish(self) -> None:
        """Hand every record still pending to its processor."""
        for (topic, partition), pending in self._pending.items():
            if pending:
                fam = self._families[self._by_topic[topic]]
                self._flush(fam, (topic, partition), pending)

    def _included(self, case_id: str, platform_id: str, event_name: str) -> bool:
        as_of = self.as_of
        if as_of.case is not None and case_id != as_of.case:
            return False
        if not self._needs_decision:
            return True
        decided = self._decided.get(case_id)
        if decided is None:
            decided = True
            if as_of.platform is not None and platform_id != as_of.platform:
                decided = False
            elif as_of.since_ms is not None and event_name not in OPENING_EVENTS:
                decided = False
                self.stats.cases_before_window += 1
            self._decided[case_id] = decided
        return decided

    def _slow_prefix(self, value: bytes) -> tuple[str, str, int]:
        _name, record = self.codec.decode_raw(value)
        return str(record["case_id"]), str(record["platform_id"]), to_ms(record["occurred_at"])

    def _slow_tick_ms(self, value: bytes) -> int:
        _name, record = self.codec.decode_raw(value)
        return to_ms(record["tick_at"])

    def _flush(self, fam: _Family, key: tuple[str, int], pending: list[InRecord]) -> int | None:
        batch = list(pending)
        pending.clear()
        fam.tracer.begin(
            {id(r.value): RecordMeta(r.topic, r.partition, r.offset, r.timestamp_ms) for r in batch}
        )
        result = fam.processor.process(batch, fam.tables)
        fam.tracer.begin({})
        data = fam.store.data
        for w in result.writes:
            if w.value is None:
                data.pop(w.key, None)
            else:
                data[w.key] = w.value
        self._dead_letters(result.out)
        due = _next_due_ms(fam.processor, key[1])
        self._next_due[key] = due
        return due

    def _dead_letters(self, out: list[OutRecord]) -> None:
        for o in out:
            if o.topic != self.catalogue.deadletter:
                continue
            self.stats.dead_letters += 1
            if self.observer is not None:
                record = self.codec.decode(o.value)
                assert isinstance(record, DeadLetterRecord)
                self.observer.on_dead_letter(record)

    # results -------------------------------------------------------------------------
    def envelopes(self) -> Iterator[tuple[CaseFamily, str, int, dict[str, Any]]]:
        """(family, case id, partition, dumped state) of every case, as the live table has it."""
        for family, fam in self._families.items():
            for key, raw in fam.store.data.items():
                envelope = orjson.loads(raw)
                yield family, key.decode(), int(envelope["p"]), envelope["s"]

    def raw_store(self, family: CaseFamily) -> dict[bytes, bytes]:
        return self._families[family].store.data


def _in(topic: str, partition: int, rec: RecordLike) -> InRecord:
    return InRecord(
        topic, partition, rec.offset, rec.key, rec.value, list(rec.headers), rec.timestamp
    )


def _next_due_ms(processor: CaseProcessor, partition: int) -> int | None:
    """The earliest pending deadline of one partition in the processor's index (epoch ms).

    Uses ``CaseProcessor.next_due(partition)`` when the processor offers it, else its index
    directly; when neither is available it answers 0, which makes every tick go to the
    processor (correct, only slower)."""
    method = getattr(processor, "next_due", None)
    if callable(method):
        due = method(partition)
    else:
        indexes = getattr(processor, "_indexes", None)
        if not isinstance(indexes, dict):
            return 0
        index = indexes.get(partition)
        due = None if index is None else index.peek()
    return None if due is None else to_ms(due)
