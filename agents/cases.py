"""Case agents: fold canonical case events and clock ticks through the pure core.

One :class:`CaseProcessor` per case family. Per batch it loads each touched case once, runs
``engine.handle`` / ``engine.on_tick`` on every record in partition order, and writes each
touched case once (store + changelog). Deadlines live in a per-partition time-bucketed
:class:`~agents.core.deadlines.DeadlineIndex`, rebuilt from the stored cases when the partition
is (re)assigned, so a tick touches only what is due.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import orjson

from agents.calendar_years import year_data
from agents.core import engine
from agents.core.deadlines import DeadlineIndex
from agents.core.sla_clock import RECHECK
from schemas.families import INBOX_ALERTS, CaseFamily
from schemas.models import (
    AlertEvent,
    CalendarYearPublished,
    ClockTicked,
    DeadLetterReason,
    Event,
    SlaClockEvent,
)
from streams.codec import DecodeError, EventCodec
from streams.deadletter_record import dead_letter
from streams.records import BatchResult, InRecord, OutRecord, StateReader, StateWrite
from streams.topics import Catalogue

log = logging.getLogger(__name__)

BUREAU_SOURCE = "/bureau/regbus"
CASES_TABLE = "cases"


class CaseProcessor:
    """The case agent's work for one family, with no Faust in it."""

    def __init__(
        self,
        family: CaseFamily,
        catalogue: Catalogue,
        ctx: engine.Context,
        codec: EventCodec | None = None,
        cache_size: int = 100_000,
    ) -> None:
        self.family = family
        self.catalogue = catalogue
        self.ctx = ctx
        self.codec = codec or EventCodec()
        self._indexes: dict[int, DeadlineIndex] = {}
        # Decoded states of recently touched cases, so a case's next event skips the store
        # read and validation; bounded, and dropped for partitions this worker loses.
        self._cache: OrderedDict[str, tuple[int, Any]] = OrderedDict()
        self.cache_size = cache_size
        self.counters: dict[str, int] = {"events": 0, "ticks": 0, "alerts": 0, "deadletter": 0}
        self.on_output: Callable[[Event], None] | None = None
        self.route: Callable[[AlertEvent], list[AlertEvent]] | None = None
        """The roster's alert routing (:meth:`agents.core.routing.AlertRouter.route`)."""
        self.has_inbox: Callable[[str], bool] = lambda _platform: False
        """Whether a platform's inbox exists (registered and active): its own alerts go there."""

    # partition lifecycle ---------------------------------------------------------------
    def forget(self, partitions: Iterable[int]) -> None:
        """Drop the index of revoked partitions; it is rebuilt if they come back."""
        gone = set(partitions)
        for p in gone:
            self._indexes.pop(p, None)
        for case_id in [c for c, (p, _s) in self._cache.items() if p in gone]:
            del self._cache[case_id]

    def _index(self, partition: int, store: StateReader) -> DeadlineIndex:
        index = self._indexes.get(partition)
        if index is None:
            index = self._indexes[partition] = DeadlineIndex()
            for key, raw in store.items():
                envelope = orjson.loads(raw)
                state = engine.load_state(envelope["s"]) if envelope["p"] == partition else None
                if state is not None:
                    index.sync(key.decode(), engine.due_entries(state))
        return index

    # the batch -------------------------------------------------------------------------
    def process(self, batch: Sequence[InRecord], tables: dict[str, StateReader]) -> BatchResult:
        store = tables[CASES_TABLE]
        result = BatchResult()
        loaded: dict[str, tuple[int, Any]] = {}  # case id -> (partition, state), once per batch
        dirty: set[str] = set()

        def load(case_id: str, partition: int) -> Any:
            hit = loaded.get(case_id) or self._cache.get(case_id)
            if hit is not None:
                loaded[case_id] = hit
                return hit[1]
            raw = store.get(case_id.encode())
            state = None if raw is None else engine.load_state(orjson.loads(raw)["s"])
            loaded[case_id] = (partition, state)
            return state

        def apply(case_id: str, partition: int, index: DeadlineIndex, d: engine.Decision) -> None:
            index.sync(case_id, d.due)
            if d.state is not None:
                loaded[case_id] = (partition, d.state)
                dirty.add(case_id)
            self._emit(d.outputs, result)

        for rec in batch:
            try:
                event = self.codec.decode(rec.value or b"", rec.headers)
            except DecodeError as exc:
                # Ingress validated this already; a bad record here was written around it.
                result.out.append(
                    dead_letter(self.catalogue, self.codec, rec, exc.reason, exc.detail)
                )
                self.counters["deadletter"] += 1
                continue
            index = self._index(rec.partition, store)
            try:
                if isinstance(event, ClockTicked):
                    self.counters["ticks"] += 1
                    now = event.tick_at
                    for case_id in index.pop_due_cases(now):
                        state = load(case_id, rec.partition)
                        if state is not None:
                            apply(
                                case_id, rec.partition, index, engine.on_tick(state, now, self.ctx)
                            )
                    continue
                if isinstance(event, CalendarYearPublished):
                    # A year's holidays: recount this partition's provisional deadlines now.
                    self.ctx = self.ctx.with_years([year_data(event)])
                    self.counters["calendar_years"] = self.counters.get("calendar_years", 0) + 1
                    waiting = sorted({e.case_id for e in index if e.kind == RECHECK})
                    for case_id in waiting:
                        state = load(case_id, rec.partition)
                        if state is not None:
                            decision = engine.restate_calendar(state, event.occurred_at, self.ctx)
                            apply(case_id, rec.partition, index, decision)
                    continue
                self.counters["events"] += 1
                state = load(event.case_id, rec.partition)
                apply(event.case_id, rec.partition, index, engine.handle(state, event, self.ctx))
            except Exception as exc:  # a core bug must not stop the partition; keep the record
                log.exception(
                    "case agent could not apply %s at %s/%s",
                    type(event).__name__,
                    rec.partition,
                    rec.offset,
                )
                result.out.append(dead_letter(
                    self.catalogue, self.codec, rec, DeadLetterReason.INVALID_VALUE,
                    f"case agent failed: {type(exc).__name__}: {exc}",
                ))  # fmt: skip
                self.counters["deadletter"] += 1

        cache = self._cache
        for case_id in dirty:
            partition, state = entry = loaded[case_id]
            envelope = {"p": partition, "s": engine.dump_state(state)}
            result.writes.append(
                StateWrite(CASES_TABLE, partition, case_id.encode(), orjson.dumps(envelope))
            )
            cache[case_id] = entry
            cache.move_to_end(case_id)
        while len(cache) > self.cache_size:
            cache.popitem(last=False)
        return result

    def _emit(self, outputs: Sequence[Event], result: BatchResult) -> None:
        if self.route is not None:
            outputs = _routed(outputs, self.route)
        for ev in outputs:
            if isinstance(ev, AlertEvent):
                topic = self.catalogue.alerts
                key = ev.subject.encode()
                self.counters["alerts"] += 1
            elif isinstance(ev, SlaClockEvent):
                topic = self.catalogue.sla
                key = ev.case_id.encode()
            else:
                continue
            _key, value, headers = self.codec.encode(ev, BUREAU_SOURCE)
            result.out.append(OutRecord(topic, key, value, headers))
            if ev.EVENT_NAME in INBOX_ALERTS and self.has_inbox(ev.platform_id):
                # the platform hears of its own warnings (ahead of the deadline) and breaches
                inbox = self.catalogue.inbox(ev.platform_id)
                result.out.append(OutRecord(inbox, key, value, headers))
            if self.on_output is not None:
                self.on_output(ev)


def _routed(
    outputs: Sequence[Event], route: Callable[[AlertEvent], list[AlertEvent]]
) -> list[Event]:
    out: list[Event] = []
    for ev in outputs:
        if isinstance(ev, AlertEvent):
            out.extend(route(ev))
        else:
            out.append(ev)
    return out


def attach(
    app: Any, settings: Any, catalogue: Catalogue, options: Any
) -> dict[CaseFamily, CaseProcessor]:
    """Register one batch agent and one state table per case family."""
    from agents.batching import attach_batch_agent
    from agents.calendar_years import read_published_years_now
    from streams.security import client_kwargs

    ctx = engine.default_context()
    try:  # every year published so far, so a worker started later agrees with the others
        published = read_published_years_now(settings.bootstrap, catalogue, client_kwargs())
    except Exception:
        log.exception("cannot read the calendar topic; published years apply when broadcast")
        published = []
    if published:
        ctx = ctx.with_years(published)
        log.info("calendar years from the calendar topic: %s", [y.year for y in published])
    processors: dict[CaseFamily, CaseProcessor] = {}
    for family in CaseFamily:
        proc = processors[family] = CaseProcessor(family, catalogue, ctx)
        table = app.Table(
            f"cases-{family.value}",
            key_type=bytes,  # bytes types make Faust use the raw serializer
            value_type=bytes,
            partitions=catalogue.case_partitions,
        )
        source = app.topic(catalogue.cases(family), key_serializer="raw", value_serializer="raw")
        attach_batch_agent(
            app, f"cases_{family.value}", source, proc, {CASES_TABLE: table},
            options.max_batch, options.batch_within,
        )  # fmt: skip

    async def _on_revoked(sender: Any, revoked: Any, **_: Any) -> None:
        for family, proc in processors.items():
            proc.forget(tp.partition for tp in revoked if tp.topic == catalogue.cases(family))

    app.on_partitions_revoked.connect(_on_revoked)

    return processors
