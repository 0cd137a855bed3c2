"""The worker's data path without Kafka or Faust: case processors → regulator processors.

Topics are in-memory logs partitioned like Kafka's default partitioner (murmur2 of the key);
each consumer keeps its own offsets, so any stretch of any topic can be replayed into the
same processors (redelivery) or into fresh ones (replay from scratch).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from aiokafka.partitioner import DefaultPartitioner

from agents.cases import CASES_TABLE, CaseProcessor
from agents.core.context import Context
from agents.scorecard import SignalsPolicy
from agents.scorecard_processors import CASES_TABLE as REG_CASES
from agents.scorecard_processors import (
    CONTRIB_TABLE,
    SUBJECTS_TABLE,
    CaseFactsProcessor,
    ScorecardProcessor,
)
from schemas.families import CaseFamily
from schemas.models import AlertEvent, Event
from streams.codec import EventCodec
from streams.records import BatchResult, InRecord
from streams.ticks import tick_records
from streams.topics import Catalogue

PARTITIONS = 4
SUBJECT_TOPIC = "regulator-by-subject"
_partitioner = DefaultPartitioner()
_FAMILY_OF = {
    name: fam
    for fam, names in {
        CaseFamily.COMPLAINTS: "Complaint",
        CaseFamily.REFUNDS: "Refund",
        CaseFamily.RECTIFICATIONS: "Rectification Inspection",
    }.items()
    for name in names.split()
}


class Store:
    def __init__(self) -> None:
        self.data: dict[bytes, bytes] = {}

    def get(self, key: bytes) -> bytes | None:
        return self.data.get(key)

    def items(self) -> list[tuple[bytes, bytes]]:
        return list(self.data.items())


def family_of(event: Event) -> CaseFamily:
    name = type(event).__name__
    for prefix, fam in _FAMILY_OF.items():
        if name.startswith(prefix):
            return fam
    raise ValueError(name)


class Pipeline:
    def __init__(
        self, ctx: Context, policy: SignalsPolicy, prefix: str = "p", batch_size: int = 10_000
    ) -> None:
        self.batch_size = batch_size
        self.catalogue = Catalogue(prefix)
        self.codec = EventCodec()
        self.logs: dict[str, dict[int, list[InRecord]]] = defaultdict(lambda: defaultdict(list))
        self.offsets: dict[str, dict[tuple[str, int], int]] = defaultdict(dict)
        self.case_procs = {f: CaseProcessor(f, self.catalogue, ctx, self.codec) for f in CaseFamily}
        self.case_stores = {f: {CASES_TABLE: Store()} for f in CaseFamily}
        self.facts = CaseFactsProcessor(self.catalogue, ctx, SUBJECT_TOPIC, PARTITIONS, self.codec)
        self.scores = ScorecardProcessor(
            self.catalogue, ctx, policy, sources=PARTITIONS, codec=self.codec
        )
        self.reg_stores = {REG_CASES: Store(), SUBJECTS_TABLE: Store(), CONTRIB_TABLE: Store()}

    # topics ----------------------------------------------------------------------------
    def append(
        self, topic: str, key: bytes | None, value: bytes, headers: list, partition: int | None
    ) -> None:
        if partition is None:
            partition = _partitioner(key, list(range(PARTITIONS)), list(range(PARTITIONS)))
        log = self.logs[topic][partition]
        log.append(InRecord(topic, partition, len(log), key, value, list(headers), 0))

    def publish(self, events: Iterable[Event]) -> None:
        for event in events:
            key, value, headers = self.codec.encode(event, "/bureau/test")
            self.append(self.catalogue.cases(family_of(event)), key, value, headers, None)

    def tick(self, when) -> None:  # type: ignore[no-untyped-def]
        for topic, partition, key, value, headers in tick_records(self.catalogue, when, self.codec):
            self.append(topic, key, value, headers, partition)

    def records(self, topic: str) -> list[InRecord]:
        return [r for p in sorted(self.logs[topic]) for r in self.logs[topic][p]]

    def alerts(self) -> list[AlertEvent]:
        out = []
        for rec in self.records(self.catalogue.alerts):
            ev = self.codec.decode(rec.value, rec.headers)
            assert isinstance(ev, AlertEvent)
            out.append(ev)
        return out

    # consumers -------------------------------------------------------------------------
    def _pending(self, consumer: str, topics: list[str]) -> list[InRecord]:
        """The next batch: up to ``batch_size`` records, a few from each partition in turn
        (as a consumer interleaves fetches)."""
        out: list[InRecord] = []
        offsets = self.offsets[consumer]
        while len(out) < self.batch_size:
            before = len(out)
            for topic in topics:
                for p, log in sorted(self.logs[topic].items()):
                    start = offsets.get((topic, p), 0)
                    chunk = log[start : start + 3]
                    out += chunk
                    offsets[(topic, p)] = start + len(chunk)
            if len(out) == before:
                break
        return out

    def _apply(self, result: BatchResult, stores: dict[str, Store]) -> None:
        for w in result.writes:
            if w.value is None:
                stores[w.table].data.pop(w.key, None)
            else:
                stores[w.table].data[w.key] = w.value
        for o in result.out:
            self.append(o.topic, o.key, o.value, o.headers, o.partition)

    def run(self) -> None:
        """Run every consumer until nothing is left to consume."""
        cases_topics = [self.catalogue.cases(f) for f in CaseFamily]
        while True:
            progressed = False
            for fam, proc in self.case_procs.items():
                batch = self._pending(f"cases-{fam}", [self.catalogue.cases(fam)])
                if batch:
                    self._apply(proc.process(batch, self.case_stores[fam]), self.case_stores[fam])
                    progressed = True
            batch = self._pending("regulator_cases", [*cases_topics, self.catalogue.alerts])
            if batch:
                self._apply(self.facts.process(batch, self.reg_stores), self.reg_stores)
                progressed = True
            batch = self._pending("regulator_scorecards", [SUBJECT_TOPIC])
            if batch:
                self._apply(self.scores.process(batch, self.reg_stores), self.reg_stores)
                progressed = True
            if not progressed:
                return

    def rewind(self, consumer: str) -> None:
        """Redeliver everything this consumer has seen (as after a crash before a commit)."""
        self.offsets[consumer].clear()
