"""The enforcement agent: each platform's record of interviews, orders to correct, penalties.

It reads the ``governance`` topic (the bureau's enforcement events, routed there by ingress
and keyed by platform id, and the governance ticks that time the orders' deadlines) and the
``InterviewRecommended`` alerts of the alerts topic (keyed by the platform id too, so a
platform's record and its recommendations share a partition number). Per record it runs
:func:`agents.core.enforcement.handle` and keeps the result in the table
``enforcement-records`` (key: platform id); the alerts the core raises (deadline warnings,
an overdue order's breach, its escalation, refused events) are routed by the roster and
published like the case agents' alerts, the platform's own copied to its inbox.

:class:`EnforcementProcessor` imports nothing from Faust; :func:`attach` wires it as a
``concurrency=1`` batch agent, and the audit replay folds the same processor.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import orjson

from agents.core import enforcement as core
from agents.core.context import Context
from schemas.families import INBOX_ALERTS
from schemas.models import (
    ENFORCEMENT_TYPES,
    AlertEvent,
    ClockTicked,
    DeadLetterReason,
    Event,
    InterviewRecommended,
)
from streams.cloudevents_headers import CE_TYPE
from streams.codec import DecodeError, EventCodec
from streams.deadletter_record import dead_letter
from streams.records import BatchResult, InRecord, OutRecord, StateReader, StateWrite
from streams.topics import Catalogue

log = logging.getLogger(__name__)

__all__ = ["RECORDS_TABLE", "EnforcementProcessor", "attach", "concerns_records"]

RECORDS_TABLE = "enforcement-records"
BUREAU_SOURCE = "/bureau/regbus"
_RECOMMENDED_TYPE = InterviewRecommended.CE_TYPE.encode()
_TAKEN: tuple[type[Event], ...] = (*ENFORCEMENT_TYPES, ClockTicked)
_GOVERNANCE_TYPES = frozenset(t.CE_TYPE.encode() for t in _TAKEN)
"""What the agent takes from the governance topic: other governance events (campaigns, rule
changes) share the topic and are other agents' business."""


class EnforcementProcessor:
    """The enforcement agent's work, with no Faust in it."""

    def __init__(self, catalogue: Catalogue, ctx: Context, codec: EventCodec | None = None) -> None:
        self.catalogue = catalogue
        self.ctx = ctx
        self.codec = codec or EventCodec()
        self.route: Callable[[AlertEvent], list[AlertEvent]] | None = None
        """The roster's alert routing (set by :func:`attach` when the worker has a roster)."""
        self.has_inbox: Callable[[str], bool] = lambda _platform: False
        self.on_output: Callable[[Event], None] | None = None
        self.counters: dict[str, int] = {"events": 0, "ticks": 0, "alerts": 0, "deadletter": 0}
        self._due: dict[int, dict[str, Any]] = {}
        """Per partition: platform id → its earliest deadline threshold (None: nothing due)."""

    def forget(self, partitions: Iterable[int]) -> None:
        for p in partitions:
            self._due.pop(p, None)

    def _due_index(self, partition: int, store: StateReader) -> dict[str, Any]:
        index = self._due.get(partition)
        if index is None:
            index = self._due[partition] = {}
            for key, raw in store.items():
                envelope = orjson.loads(raw)
                if envelope["p"] == partition:
                    rec = core.record_from_json(orjson.dumps(envelope["s"]))
                    index[key.decode()] = rec.next_due_at
        return index

    def record(self, store: StateReader, platform_id: str) -> core.EnforcementRecord | None:
        raw = store.get(platform_id.encode())
        if raw is None:
            return None
        return core.record_from_json(orjson.dumps(orjson.loads(raw)["s"]))

    def process(self, batch: Sequence[InRecord], tables: dict[str, StateReader]) -> BatchResult:
        store = tables[RECORDS_TABLE]
        result = BatchResult()
        loaded: dict[str, tuple[int, core.EnforcementRecord | None]] = {}
        dirty: set[str] = set()

        def load(platform_id: str, partition: int) -> core.EnforcementRecord | None:
            if platform_id not in loaded:
                loaded[platform_id] = (partition, self.record(store, platform_id))
            return loaded[platform_id][1]

        for rec in batch:
            if not concerns_records(rec, self.catalogue):
                continue  # other alerts, other governance events
            try:
                event = self.codec.decode(rec.value or b"", rec.headers)
            except DecodeError as exc:
                result.out.append(dead_letter(
                    self.catalogue, self.codec, rec, exc.reason, exc.detail))  # fmt: skip
                self.counters["deadletter"] += 1
                continue
            index = self._due_index(rec.partition, store)
            try:
                if isinstance(event, ClockTicked):
                    self.counters["ticks"] += 1
                    for platform_id, due in list(index.items()):
                        if due is None or due > event.tick_at:
                            continue
                        current = load(platform_id, rec.partition)
                        assert current is not None
                        self._apply(core.on_tick(current, event.tick_at, self.ctx),
                                    rec.partition, index, loaded, dirty, result)  # fmt: skip
                    continue
                self.counters["events"] += 1
                current = load(event.platform_id, rec.partition)
                decision = core.handle(current, event, self.ctx)
                self._apply(decision, rec.partition, index, loaded, dirty, result)
            except Exception as exc:  # a core bug must not stop the partition; keep the record
                log.exception("enforcement agent could not apply %s", type(event).__name__)
                result.out.append(dead_letter(
                    self.catalogue, self.codec, rec, DeadLetterReason.INVALID_VALUE,
                    f"enforcement agent failed: {type(exc).__name__}: {exc}",
                ))  # fmt: skip
                self.counters["deadletter"] += 1
        for platform_id in sorted(dirty):
            partition, record = loaded[platform_id]
            assert record is not None
            envelope = {"p": partition, "s": orjson.loads(core.record_to_json(record))}
            result.writes.append(
                StateWrite(RECORDS_TABLE, partition, platform_id.encode(), orjson.dumps(envelope))
            )
        return result

    def _apply(
        self,
        decision: core.EnforcementDecision,
        partition: int,
        index: dict[str, Any],
        loaded: dict[str, tuple[int, core.EnforcementRecord | None]],
        dirty: set[str],
        result: BatchResult,
    ) -> None:
        record = decision.record
        platform_id = record.platform_id
        previous = loaded.get(platform_id, (partition, None))[1]
        if record != previous:
            loaded[platform_id] = (partition, record)
            dirty.add(platform_id)
        index[platform_id] = record.next_due_at
        self._emit(decision.outputs, result)

    def _emit(self, outputs: Sequence[Event], result: BatchResult) -> None:
        alerts: list[AlertEvent] = [a for a in outputs if isinstance(a, AlertEvent)]
        if self.route is not None:
            alerts = [routed for a in alerts for routed in self.route(a)]
        for alert in alerts:
            key = alert.subject.encode()
            _key, value, headers = self.codec.encode(alert, BUREAU_SOURCE)
            result.out.append(OutRecord(self.catalogue.alerts, key, value, headers))
            self.counters["alerts"] += 1
            if alert.EVENT_NAME in INBOX_ALERTS and self.has_inbox(alert.platform_id):
                result.out.append(
                    OutRecord(self.catalogue.inbox(alert.platform_id), key, value, headers)
                )
            if self.on_output is not None:
                self.on_output(alert)


def concerns_records(rec: InRecord, catalogue: Catalogue) -> bool:
    """An enforcement event or tick of the governance topic, or an interview recommendation
    (judged from the ce_type header, without decoding); an undecodable record without one
    is taken, so that it is dead-lettered as live."""
    if rec.topic == catalogue.alerts:
        return is_recommendation(rec)
    kinds = [v for k, v in rec.headers if k == CE_TYPE]
    return not kinds or kinds[0] in _GOVERNANCE_TYPES


def is_recommendation(rec: InRecord) -> bool:
    """An InterviewRecommended record (judged from its ce_type header, without decoding)."""
    return any(k == CE_TYPE and v == _RECOMMENDED_TYPE for k, v in rec.headers)


def summary_of(store: StateReader, platform_id: str) -> dict[str, Any] | None:
    """The platform's enforcement record as JSON (None: the bureau has not acted on it)."""
    raw = store.get(platform_id.encode())
    if raw is None:
        return None
    return core.summary(core.record_from_json(orjson.dumps(orjson.loads(raw)["s"])))


def attach(app: Any, settings: Any, catalogue: Catalogue, parts: Any) -> EnforcementProcessor:
    """Register the enforcement agent and its table; route its alerts by the worker's roster."""
    from agents.batching import attach_batch_agent
    from agents.ingress import PlatformStatus

    proc = EnforcementProcessor(catalogue, _context(parts))
    router = getattr(parts, "roster_router", None)
    if router is not None:
        proc.route = router.route
    directory = getattr(parts.ingress_watcher, "directory", None)

    def has_inbox(platform_id: str) -> bool:
        return directory is not None and directory.status(platform_id) is PlatformStatus.ACTIVE

    proc.has_inbox = has_inbox
    table = app.Table(
        RECORDS_TABLE, key_type=bytes, value_type=bytes, partitions=catalogue.case_partitions,
        help="per platform: interviews, orders to correct, penalties",
    )  # fmt: skip
    source = app.topic(
        catalogue.governance, catalogue.alerts, key_serializer="raw", value_serializer="raw"
    )
    options = parts.options
    attach_batch_agent(
        app, "enforcement_records", source, proc, {RECORDS_TABLE: table},
        options.max_batch, options.batch_within,
    )  # fmt: skip

    async def _on_revoked(sender: Any, revoked: Any, **_: Any) -> None:
        proc.forget(tp.partition for tp in revoked if tp.topic == catalogue.governance)

    app.on_partitions_revoked.connect(_on_revoked)
    return proc


def _context(parts: Any) -> Context:
    """The case agents' context (policy, and the calendar years published so far)."""
    for proc in getattr(parts, "case_processors", {}).values():
        return proc.ctx  # type: ignore[no-any-return]
    from agents.core import default_context

    return default_context()
