"""The 未诉先办 early signal (REFUND_REJECTIONS_RISING) from the refunds topic, before complaints.

One batch agent on ``cases.refunds`` (:class:`EarlySignalProcessor`, pure: no Faust, Kafka or
wall clock; :func:`attach` wires it). State lives in one table, co-partitioned with the
refunds topic, every key written to the partition of the record behind it:

* ``c<SEP><case id>`` — the refund's platform, whether a complaint is linked, the week its
  review was counted in (a redelivered review is not counted twice);
* ``a<SEP><partition><SEP><platform><SEP><monday>`` — [reviewed, rejected] of unlinked refunds
  reviewed that week, counted by that refunds partition;
* ``\\x00wm<SEP><partition>`` — the partition's last tick (stored on each new day).

**Time**: the refunds clock is the minimum over the refunds partitions of their last tick
(every partition receives every tick). A week is judged once, when that clock first reaches
the following Monday 00:00 Beijing time; the alert's ``observed_at`` is that tick. A review
counts for its week only if its partition had not yet passed the week's end when it was read
(a review logged after that is *late* and not counted), so the same log gives the same signals
at the same instants, live or replayed (:mod:`audit.regulator_replay` runs this processor too).
The signals are routed by the 包片 roster like the regulator's (``route``).
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

import orjson

from agents.core.calendar import SHANGHAI
from agents.core.context import Context
from agents.core.early_signal import (
    WeekCounts,
    judge_week,
    monday_of,
    rejection_alert,
    week_closes_at,
)
from agents.scorecard import SignalsPolicy
from schemas.families import CaseFamily
from schemas.models import AlertEvent
from streams.codec import DecodeError, EventCodec
from streams.records import BatchResult, InRecord, OutRecord, StateReader, StateWrite
from streams.topics import Catalogue

log = logging.getLogger(__name__)

__all__ = ["EARLY_TABLE", "EarlySignalProcessor", "attach"]

EARLY_TABLE = "early-refunds"
SOURCE = "/bureau/regulator"
_SEP = "\x1f"
_WM = "\x00wm" + _SEP
_JUDGED = "\x00judged"
_RAISED = "\x00raised"
RAISED_KEPT = 64


def _ms(instant: datetime) -> int:
    return int(instant.timestamp() * 1000)


def _from_ms(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, UTC)


class _Overlay:
    """The table as this batch sees it: reads through the pending writes."""

    def __init__(self, store: StateReader) -> None:
        self.store = store
        self.pending: dict[bytes, tuple[int, bytes | None]] = {}

    def get(self, key: str) -> Any:
        k = key.encode()
        if k in self.pending:
            raw = self.pending[k][1]
        else:
            raw = self.store.get(k)
        return None if raw is None else orjson.loads(raw)

    def put(self, partition: int, key: str, value: Any) -> None:
        self.pending[key.encode()] = (partition, None if value is None else orjson.dumps(value))

    def items(self, prefix: str) -> Iterable[tuple[str, Any]]:
        seen: dict[bytes, bytes | None] = {k: v for k, v in self.store.items()}
        seen.update({k: v for k, (_p, v) in self.pending.items()})
        p = prefix.encode()
        for k, v in seen.items():
            if v is not None and k.startswith(p):
                yield k.decode(), orjson.loads(v)

    def writes(self) -> list[StateWrite]:
        return [StateWrite(EARLY_TABLE, p, k, v) for k, (p, v) in self.pending.items()]


class EarlySignalProcessor:
    """Unlinked refund reviews per platform and week; the week judged when the clock closes it."""

    def __init__(
        self,
        catalogue: Catalogue,
        ctx: Context,
        policy: SignalsPolicy,
        sources: int,
        codec: EventCodec | None = None,
    ) -> None:
        self.catalogue = catalogue
        self.ctx = ctx
        self.policy = policy
        self.rule = policy.refund_rejections
        self.sources = sources
        self.codec = codec or EventCodec()
        self.counters: Counter[str] = Counter()
        self._refunds = catalogue.cases(CaseFamily.REFUNDS)
        self._wm: dict[int, int] = {}

    def forget(self, partitions: Iterable[int]) -> None:
        for p in partitions:
            self._wm.pop(p, None)

    def _watermark(self, partition: int, table: _Overlay) -> int | None:
        if partition not in self._wm:
            stored = table.get(f"{_WM}{partition}")
            if stored is None:
                return None
            self._wm[partition] = int(stored)
        return self._wm[partition]

    def clock(self) -> datetime | None:
        if len(self._wm) < self.sources:
            return None
        return _from_ms(min(self._wm.values()))

    def process(self, batch: Sequence[InRecord], tables: Mapping[str, StateReader]) -> BatchResult:
        table = _Overlay(tables[EARLY_TABLE])
        result = BatchResult()
        for p in range(self.sources):
            self._watermark(p, table)
        for rec in batch:
            if rec.topic != self._refunds:
                continue
            try:
                name, record = self.codec.decode_raw(rec.value or b"")
            except DecodeError:
                self.counters["undecodable"] += 1  # the case agent dead-letters it
                continue
            except Exception:
                log.exception("early signals: cannot read %s@%s", rec.partition, rec.offset)
                self.counters["undecodable"] += 1
                continue
            try:
                if name == "ClockTicked":
                    self._tick(rec.partition, record["tick_at"], table, result)
                elif name == "RefundRequested":
                    self._requested(rec.partition, record, table)
                elif name == "RefundReviewed":
                    self._reviewed(rec.partition, record, table)
            except Exception:  # never stop on one record
                log.exception("early signals: skipped %s@%s", rec.partition, rec.offset)
                self.counters["skipped"] += 1
        result.writes.extend(table.writes())
        return result

    # facts -------------------------------------------------------------------------------
    def _requested(self, partition: int, record: Mapping[str, Any], table: _Overlay) -> None:
        key = f"c{_SEP}{record['case_id']}"
        entry = table.get(key)
        linked = record.get("complaint_case_id") is not None
        if entry is None:
            entry = {"platform": record["platform_id"], "linked": linked, "counted": None}
        else:
            entry["linked"] = bool(entry["linked"]) or linked
        table.put(partition, key, entry)

    def _reviewed(self, partition: int, record: Mapping[str, Any], table: _Overlay) -> None:
        key = f"c{_SEP}{record['case_id']}"
        entry = table.get(key)
        if entry is None or entry["linked"] or entry["counted"] is not None:
            self.counters["not_counted"] += 1  # unknown, linked to a complaint, or counted
            return
        monday = monday_of(record["occurred_at"])
        wm = self._watermark(partition, table)
        if wm is not None and wm >= _ms(week_closes_at(monday)):
            self.counters["late"] += 1  # its week had closed on this partition
            return
        agg_key = f"a{_SEP}{partition}{_SEP}{entry['platform']}{_SEP}{monday.isoformat()}"
        reviewed, rejected = table.get(agg_key) or [0, 0]
        counts = WeekCounts(reviewed, rejected).plus(record["decision"])
        table.put(partition, agg_key, [counts.reviewed, counts.rejected])
        entry["counted"] = monday.isoformat()
        table.put(partition, key, entry)
        self.counters["counted"] += 1

    # time --------------------------------------------------------------------------------
    def _tick(
        self, partition: int, tick_at: datetime, table: _Overlay, result: BatchResult
    ) -> None:
        at = _ms(tick_at)
        before = self.clock()
        last = self._wm.get(partition)
        if last is not None and at <= last:
            return
        self._wm[partition] = at
        if last is None or _day(last) != _day(at):
            table.put(partition, f"{_WM}{partition}", at)
        now = self.clock()
        if now is not None and (before is None or now > before):
            self._judge(now, table, result)

    def _judge(self, now: datetime, table: _Overlay, result: BatchResult) -> None:
        judged = table.get(_JUDGED)
        last_closed = monday_of(now) - timedelta(days=7)  # the newest week closed by ``now``
        if judged is not None and date.fromisoformat(judged) >= last_closed:
            return
        weeks: dict[str, dict[date, WeekCounts]] = {}
        where: dict[str, int] = {}
        for key, value in table.items(f"a{_SEP}"):
            _a, partition, platform, monday = key.split(_SEP)
            day = date.fromisoformat(monday)
            acc = weeks.setdefault(platform, {}).get(day, WeekCounts())
            weeks[platform][day] = WeekCounts(acc.reviewed + value[0], acc.rejected + value[1])
            where[key] = int(partition)
        raised = list(table.get(_RAISED) or [])
        for platform in sorted(weeks):
            for week in sorted(weeks[platform]):
                if week > last_closed or (
                    judged is not None and week <= date.fromisoformat(judged)
                ):
                    continue
                j = judge_week(platform, week, weeks[platform], self.rule)
                if not j.triggered:
                    continue
                alert = rejection_alert(
                    j, self.rule, office=self.policy.office, department=self.policy.department,
                    policy_version=self.ctx.policy.version_at(week).id, observed_at=now,
                )  # fmt: skip
                if alert.alert_id in raised:
                    continue
                raised = [*raised[-(RAISED_KEPT - 1) :], alert.alert_id]
                self._emit(alert, result)
        table.put(0, _RAISED, raised)
        table.put(0, _JUDGED, last_closed.isoformat())
        floor = last_closed - timedelta(days=7 * self.rule.keep_weeks)
        for agg_key, part in where.items():
            if date.fromisoformat(agg_key.rsplit(_SEP, 1)[1]) < floor:
                table.put(part, agg_key, None)

    def _emit(self, alert: AlertEvent, result: BatchResult) -> None:
        _key, value, headers = self.codec.encode(alert, SOURCE)
        result.out.append(OutRecord(self.catalogue.alerts, alert.subject.encode(), value, headers))
        self.counters["signals"] += 1


def _day(ms: int) -> date:
    return _from_ms(ms).astimezone(SHANGHAI).date()


# ---- Faust wiring ------------------------------------------------------------------------
def attach(app: Any, catalogue: Catalogue, options: Any, parts: Any) -> EarlySignalProcessor:
    """Register the early-signal agent and its table; its signals are routed by the roster."""
    from agents.batching import TableIO, apply_result, to_in_record
    from agents.core import default_context
    from agents.regulator import load_signals_policy
    from agents.roster import reroute

    partitions = catalogue.case_partitions
    proc = EarlySignalProcessor(catalogue, default_context(), load_signals_policy(), partitions)
    table = app.Table(EARLY_TABLE, key_type=bytes, value_type=bytes, partitions=partitions,
                      help="per refund and per platform week: unlinked refund reviews")  # fmt: skip
    tables = {EARLY_TABLE: TableIO(table)}
    route: Callable[[BatchResult], BatchResult] | None = None
    router = getattr(parts, "roster_router", None)
    if router is not None:
        codec = EventCodec()
        directory = getattr(parts.ingress_watcher, "directory", None)

        def has_inbox(platform_id: str) -> bool:
            from agents.ingress import PlatformStatus

            return directory is not None and directory.status(platform_id) is PlatformStatus.ACTIVE

        def route(result: BatchResult) -> BatchResult:
            return reroute(result, router, catalogue, has_inbox, codec)

    regulator = getattr(parts, "regulator", None)
    max_batch = getattr(options, "max_batch", 1000)
    within = getattr(options, "batch_within", 0.01)
    source = app.topic(catalogue.cases(CaseFamily.REFUNDS), key_serializer="raw",
                       value_serializer="raw")  # fmt: skip

    async def early_signals(stream: Any) -> None:
        async for events in stream.take_events(max_batch, within=within):
            result = proc.process([to_in_record(e) for e in events], tables)
            raised = sum(1 for o in result.out if o.topic == catalogue.alerts)
            if regulator is not None and raised:
                regulator.alerts_published[(proc.rule.rule_id, proc.rule.level.value)] += raised
            if route is not None:
                result = route(result)
            apply_result(app, tables, result)

    app.agent(source, name="early_signals", concurrency=1)(early_signals)

    async def _on_revoked(sender: Any, revoked: Any, **_: Any) -> None:
        proc.forget(
            tp.partition for tp in revoked if tp.topic == catalogue.cases(CaseFamily.REFUNDS)
        )

    return proc
