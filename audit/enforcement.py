"""The platforms' enforcement records as of the audited instant (issue 18).

The governance topic (the bureau's interviews, orders to correct and penalties, and the
ticks that time the orders) and the ``InterviewRecommended`` alerts are folded through the
enforcement agent's own processor (:class:`agents.enforcement.EnforcementProcessor`) over an
in-memory table, as :mod:`audit.fold` does for the cases: the report shows each platform's
record, and the reconciliation expects the alerts the orders' deadlines and the refused
events raised. A record whose time is after the instant is left out.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from agents.core.enforcement import record_from_json, summary
from agents.enforcement import RECORDS_TABLE, EnforcementProcessor, concerns_records
from audit.collect import AlertSeen
from audit.fold import MemoryStore, shared_context
from schemas.families import CaseFamily
from schemas.instants import to_ms
from schemas.models import AlertEvent, ClockTicked, Event
from streams.codec import DecodeError, EventCodec
from streams.records import InRecord
from streams.topics import Catalogue

__all__ = ["EnforcementReplay", "read_enforcement"]


@dataclass
class EnforcementReplay:
    """Feeds governance records and alerts, in log order, to the enforcement processor."""

    catalogue: Catalogue
    until_ms: int
    platform: str | None = None
    route: Callable[[AlertEvent], list[AlertEvent]] | None = None
    codec: EventCodec = field(default_factory=EventCodec)
    raised: list[AlertEvent] = field(default_factory=list)
    records_read: int = 0
    records_folded: int = 0

    def __post_init__(self) -> None:
        self.store = MemoryStore()
        self.processor = EnforcementProcessor(self.catalogue, shared_context(), self.codec)
        self.processor.route = self.route
        self.processor.on_output = self._raised

    def _raised(self, event: Event) -> None:
        if isinstance(event, AlertEvent):
            self.raised.append(event)

    def _in_scope(self, rec: InRecord) -> bool:
        if not concerns_records(rec, self.catalogue):
            return False  # other alerts, other governance events
        try:
            event = self.codec.decode(rec.value or b"", rec.headers)
        except DecodeError:
            return True  # the processor dead-letters it, as live
        at = event.tick_at if isinstance(event, ClockTicked) else event.occurred_at
        if to_ms(at) > self.until_ms:
            return False
        return (
            self.platform is None
            or isinstance(event, ClockTicked)
            or (event.platform_id == self.platform)
        )

    def feed(self, records: Iterable[InRecord]) -> None:
        batch = []
        for rec in records:
            self.records_read += 1
            if self._in_scope(rec):
                batch.append(rec)
        self.records_folded += len(batch)
        result = self.processor.process(batch, {RECORDS_TABLE: self.store})
        for w in result.writes:
            if w.value is None:
                self.store.data.pop(w.key, None)
            else:
                self.store.data[w.key] = w.value

    def records(self) -> list[dict[str, Any]]:
        """Each platform's record (the API's shape), by platform id."""
        import orjson

        out = []
        for key in sorted(self.store.data):
            envelope = orjson.loads(self.store.data[key])
            out.append(summary(record_from_json(orjson.dumps(envelope["s"]))))
        return out

    def expected(self) -> list[AlertSeen]:
        """The alerts the records raised (first of each id), for the reconciliation."""
        seen: dict[str, AlertSeen] = {}
        for e in self.raised:
            if e.alert_id in seen:
                continue
            seen[e.alert_id] = AlertSeen(
                alert_id=e.alert_id, event_type=type(e).__name__, rule_id=e.rule_id,
                subject=e.subject, case_id=e.case_id, platform_id=e.platform_id,
                severity=str(e.severity), level=str(e.level),
                due_ms=None if e.due_at is None else to_ms(e.due_at),
                observed_ms=to_ms(e.observed_at), family=CaseFamily.RECTIFICATIONS,
                trigger=None, detail=e.detail,
            )  # fmt: skip
        return list(seen.values())

    def as_json(self) -> dict[str, Any]:
        records = self.records()
        return {
            "records_read": self.records_read,
            "records_folded": self.records_folded,
            "alerts_raised": len(self.expected()),
            "platforms": records,
            "totals": {
                name: sum(r[name] for r in records)
                for name in (
                    "interviews_held",
                    "orders_open",
                    "orders_closed",
                    "orders_overdue",
                    "penalties",
                    "penalty_total_fen",
                )
            },
        }


async def read_enforcement(
    settings: Any,
    catalogue: Catalogue,
    until_ms: int,
    platform: str | None = None,
    route: Callable[[AlertEvent], list[AlertEvent]] | None = None,
) -> EnforcementReplay | None:
    """Fold the governance topic and the alerts topic's interview recommendations as of
    ``until_ms``; None when the governance topic does not exist (a log from before it)."""
    from streams.ledger.logread import LogReader

    fold = EnforcementReplay(catalogue, until_ms, platform, route)
    topics = [catalogue.governance, catalogue.alerts]
    async with LogReader(settings) as reader:
        ranges = await reader.bounds(topics)
        if not any(tp.topic == catalogue.governance for tp in ranges):
            return None
        # recommendations first: an interview answering one finds it either way (held
        # before its recommendation arrived, the recommendation is then already answered)
        alerts = {tp: r for tp, r in ranges.items() if tp.topic == catalogue.alerts}
        governance = {tp: r for tp, r in ranges.items() if tp.topic == catalogue.governance}
        for part in (alerts, governance):
            async for tp, records in reader.read(part):
                fold.feed(
                    InRecord(tp.topic, tp.partition, r.offset, r.key, r.value,
                             list(r.headers), r.timestamp)
                    for r in records
                )  # fmt: skip
    return fold
