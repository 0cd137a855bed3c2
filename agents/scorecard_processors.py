"""The regulator's two batch processors (pure: no Faust, Kafka or wall clock).

:class:`CaseFactsProcessor` (per case id, reads the case topics and the alerts topic) keeps
each case's timeline and complaint facts and sends *contributions* — (date, counters) per
fact — to the subject topic, one record per platform / category per batch.
:class:`ScorecardProcessor` (per subject) folds contributions into day buckets and decides
the signals when time moves. See :mod:`agents.regulator` for the wiring and the reasoning.

**Signals are judged on what had happened by the tick.** A complaint contribution carries a
*tag*: the last tick its complaint partition forwarded before it. The subject side applies
it to the scorecard's day buckets at once (the API shows the latest facts), and to the
*signal* buckets (complaints, resolved, settled only) when the regulator clock passes its tag,
i.e. at the first watermark after the events behind it. Partitions are consumed at different
speeds, so without the tag a day's settlement rate or a week's surge would depend on how far
other partitions had run ahead; with it, the same log gives the same signals at the same
instants, live or replayed.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

import orjson

from agents.core import PlatformRecord, record_breach
from agents.core.context import Context
from agents.regulator_state import (
    CaseEntry,
    Contribution,
    Contributions,
    SubjectClock,
    SubjectState,
    Watermark,
    decode_subject_record,
    deferred_slot,
    encode_subject_record,
    parse_slot,
)
from agents.scorecard import (
    COMPLAINT_EVENT_NAMES,
    COMPLAINTS,
    RESOLVED,
    SETTLED,
    WIDTH,
    SignalsPolicy,
    add_into,
    alert_contribution,
    category_subject,
    fold_complaint,
    local_day,
    prune,
    settlement_alert,
    settlement_check,
    subject_kind,
    surge_alert,
    surge_check,
    weeks_of,
)
from schemas.families import CaseFamily
from schemas.mapping import from_avro
from schemas.models import AlertEvent, SlaBreached
from streams.codec import DecodeError, EventCodec
from streams.records import BatchResult, InRecord, OutRecord, StateReader, StateWrite
from streams.topics import Catalogue

log = logging.getLogger(__name__)

CASES_TABLE = "regulator-cases"
SUBJECTS_TABLE = "regulator-scorecards"
CONTRIB_TABLE = "regulator-contrib"
SUBJECT_TOPIC_SUFFIX = "regulator-by-subject"
BUREAU_SOURCE = "/bureau/regulator"

TIMELINE_MAX = 20
"""Entries kept per case (case events and the alerts about it), newest by arrival."""
RECENT_IDS = 32
TICK_FORWARD_EVERY = timedelta(seconds=60)
"""Watermarks are forwarded at most once per minute of tick time (and on every new day)."""
RAISED_KEPT = 32
_SEP = "\x1f"
_META = "\x00wm" + _SEP
_TICK = "\x00tick" + _SEP
"""regulator-cases key of a complaint partition's last forwarded tick (the contribution tag)."""
SIGNAL_COUNTERS = (COMPLAINTS, RESOLVED, SETTLED)
"""The counters the signals read: kept again in the deferred signal buckets."""
_INTERVIEW = _SEP + "#interview"
_CASE_ALERTS = frozenset(
    {"SlaWarningRaised", "SlaBreached", "EscalationRaised", "LifecycleViolationDetected"}
)
_NOTE_FIELDS = (
    "channel", "category", "priority", "forwarded_by", "reason", "level", "outcome",
    "compensation_fen", "satisfaction", "amount_fen", "decision", "approved_amount_fen",
    "deadline", "new_deadline", "negative_list_item", "verified_by", "rule_id", "severity",
    "due_at", "violation", "threshold_pct", "negative_list_code",
)  # fmt: skip


def _ms(instant: datetime) -> int:
    return int(instant.timestamp() * 1000)


def _from_ms(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, UTC)


def _note(record: Mapping[str, Any]) -> str:
    parts = []
    for name in _NOTE_FIELDS:
        value = record.get(name)
        if value is None:
            continue
        if isinstance(value, datetime):
            value = value.isoformat(timespec="milliseconds")
        parts.append(f"{name}={value}")
    return " ".join(parts)


# ---- stage 1: per case ---------------------------------------------------------------------
class CaseFactsProcessor:
    """Per case: timeline, complaint facts and contribution; forwards contributions and
    watermarks to the subject topic. Pure (no Faust); never raises on input."""

    def __init__(
        self,
        catalogue: Catalogue,
        ctx: Context,
        subject_topic: str,
        subject_partitions: int,
        codec: EventCodec | None = None,
    ) -> None:
        self.catalogue = catalogue
        self.subject_topic = subject_topic
        self.subject_partitions = subject_partitions
        self.codec = codec or EventCodec()
        self.counters: Counter[str] = Counter()
        self._complaints = catalogue.cases(CaseFamily.COMPLAINTS)
        self._case_topics = {catalogue.cases(f) for f in CaseFamily}
        self._alerts = catalogue.alerts
        self._rule_types = {r.id: r.case_type.value for v in ctx.policy.versions for r in v.rules}
        self._forwarded: dict[int, datetime] = {}

    def process(self, batch: Sequence[InRecord], tables: Mapping[str, StateReader]) -> BatchResult:
        run = _FactsBatch(self, tables[CASES_TABLE])
        for rec in batch:
            try:
                name, record = self.codec.decode_raw(rec.value or b"")
            except DecodeError:
                self.counters["undecodable"] += 1  # the case agent dead-letters it
                continue
            except Exception:  # never expected from decode_raw; skip, never stop
                log.exception(
                    "regulator: cannot read %s/%s@%s", rec.topic, rec.partition, rec.offset
                )
                self.counters["undecodable"] += 1
                continue
            if name == "CalendarYearPublished":
                continue  # broadcast to the case topics for the case agents; no case of its own
            if name == "ClockTicked":
                self.counters["ticks"] += 1
                if rec.topic == self._complaints:
                    self._forward_tick(rec.partition, record["tick_at"], run)
                continue
            if rec.topic == self._alerts:
                case_id = self._alert(name, record, run)
                if case_id is None:
                    continue
            elif rec.topic in self._case_topics:
                case_id = record["case_id"]
                self.counters["events"] += 1
            else:
                continue
            entry = run.entry(case_id, rec.partition)
            if rec.topic == self._complaints:
                entry.complaint_partition = rec.partition
            ident = record.get("alert_id") or record["event_id"]
            if ident in entry.recent_ids:
                run.replayed.add(case_id)  # a redelivery: its contribution is sent again
                continue
            entry.recent_ids = [*entry.recent_ids[-(RECENT_IDS - 1) :], ident]
            at = record.get("observed_at") or record["occurred_at"]
            line = (_ms(at), name, ident, _note(record))
            entry.timeline = [*entry.timeline[-(TIMELINE_MAX - 1) :], line]
            run.touched.add(case_id)
            run.changed.add(case_id)
            if name in COMPLAINT_EVENT_NAMES:
                before = entry.facts
                entry.facts = fold_complaint(before, name, record)
                if before is None and entry.facts is not None and entry.ack_breached_before_filing:
                    entry.facts.mark_ack_breached()
                    entry.ack_breached_before_filing = False
            elif name == "SlaBreached" and record["rule_id"] == "COMPLAINT_ACKNOWLEDGE":
                if entry.facts is not None:
                    entry.facts.mark_ack_breached()
                else:  # the alert read before the filing (topics are consumed independently)
                    entry.ack_breached_before_filing = True
        run.flush()
        for case_id in run.touched:
            entry = run.loaded[case_id]
            run.result.writes.append(
                StateWrite(CASES_TABLE, entry.partition, case_id.encode(), entry.encode())
            )
        return run.result

    def _alert(self, name: str, record: Mapping[str, Any], run: _FactsBatch) -> str | None:
        """Queue breach and violation facts; return the case id for the timeline."""
        self.counters["alerts"] += 1
        case_type = self._rule_types.get(record["rule_id"])
        contribution = alert_contribution(name, record, case_type)
        if contribution is not None:
            day, counters = contribution
            # The interview fold needs the breach itself (record_breach).
            breach = (
                from_avro(name, dict(record)).model_dump(mode="json")
                if name == "SlaBreached"
                else None
            )
            fact = Contribution("alert:" + record["alert_id"], day, counters, breach=breach)
            run.queue(record["platform_id"], fact)
        if name in _CASE_ALERTS or record["rule_id"] == "POLICY_VERSION_UNKNOWN":
            return str(record["subject"])
        return None

    def forget(self, partitions: Iterable[int]) -> None:
        """Complaint partitions moved to another worker: their last forwarded tick is read
        again from the table (which that worker keeps writing) if they come back."""
        for p in partitions:
            self._forwarded.pop(p, None)

    def tag(self, partition: int | None, store: StateReader) -> int:
        """The contribution tag of a complaint partition: its last forwarded tick (ms), 0
        before the first."""
        if partition is None:
            return 0
        last = self._forwarded.get(partition)
        if last is None:
            raw = store.get(f"{_TICK}{partition}".encode())
            if raw is None:
                return 0
            last = self._forwarded[partition] = _from_ms(int(raw))
        return _ms(last)

    def _forward_tick(self, partition: int, tick_at: datetime, run: _FactsBatch) -> None:
        self.tag(partition, run.store)  # load the stored tick after a restart
        last = self._forwarded.get(partition)
        if last is not None and (
            tick_at <= last
            or (tick_at - last < TICK_FORWARD_EVERY and local_day(tick_at) == local_day(last))
        ):
            return
        run.flush()  # everything before the tick reaches the subjects before its watermark,
        self._forwarded[partition] = tick_at  # tagged with the tick before this one
        key, at = f"{_TICK}{partition}".encode(), _ms(tick_at)
        run.result.writes.append(StateWrite(CASES_TABLE, partition, key, str(at).encode()))
        value = encode_subject_record(Watermark(partition, at))
        for target in range(self.subject_partitions):
            run.result.out.append(OutRecord(self.subject_topic, None, value, partition=target))


class _FactsBatch:
    """One batch of :class:`CaseFactsProcessor`: cases loaded once, contributions coalesced
    per subject (one record per subject per flush, the latest contribution per fact)."""

    def __init__(self, proc: CaseFactsProcessor, store: StateReader) -> None:
        self.proc = proc
        self.store = store
        self.result = BatchResult()
        self.loaded: dict[str, CaseEntry] = {}
        self.touched: set[str] = set()
        """Cases to write back."""
        self.changed: set[str] = set()
        self.replayed: set[str] = set()
        """Cases whose contribution to compare (changed) or re-send (replayed) at the flush."""
        self.pending: dict[str, dict[str, Contribution]] = {}

    def entry(self, case_id: str, partition: int) -> CaseEntry:
        entry = self.loaded.get(case_id)
        if entry is None:
            raw = self.store.get(case_id.encode())
            entry = CaseEntry.decode(raw) if raw is not None else CaseEntry(partition)
            self.loaded[case_id] = entry
        entry.partition = partition
        return entry

    def queue(self, subject: str, contribution: Contribution) -> None:
        self.pending.setdefault(subject, {})[contribution.fact] = contribution

    def flush(self) -> None:
        for case_id in self.changed | self.replayed:
            entry = self.loaded[case_id]
            facts = entry.facts
            if facts is None:
                continue
            contribution = facts.contribution()
            if case_id in self.replayed or entry.contribution != contribution:
                entry.contribution = contribution
                tag = self.proc.tag(entry.complaint_partition, self.store)
                fact = Contribution("case:" + case_id, *contribution, tag_ms=tag)
                self.queue(facts.platform_id, fact)
                self.queue(category_subject(facts.category), fact)
        self.changed.clear()
        self.replayed.clear()
        topic = self.proc.subject_topic
        for subject, items in self.pending.items():
            body = encode_subject_record(Contributions(tuple(items.values())))
            self.result.out.append(OutRecord(topic, subject.encode(), body))
            self.proc.counters["contributions"] += len(items)
        self.pending.clear()


# ---- stage 2: per subject ------------------------------------------------------------------
class ScorecardProcessor:
    """Per platform / category: day buckets from contributions, signals on watermarks."""

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
        self.sources = sources
        self.codec = codec or EventCodec()
        self.counters: Counter[str] = Counter()
        self.alerts_raised: Counter[tuple[str, str]] = Counter()
        self._clocks: dict[int, SubjectClock] = {}

    # partition lifecycle ---------------------------------------------------------------
    def forget(self, partitions: Iterable[int]) -> None:
        for p in partitions:
            self._clocks.pop(p, None)

    def _partition_clock(self, partition: int, store: StateReader) -> SubjectClock:
        clock = self._clocks.get(partition)
        if clock is None:
            raw = store.get(f"{_META}{partition}".encode())
            clock = SubjectClock.decode(raw) if raw else SubjectClock(partition)
            self._clocks[partition] = clock
        return clock

    def clock(self, partition: int) -> datetime | None:
        """The subject partition's time: the minimum watermark over the complaint partitions
        (None until every one of them has reported)."""
        clock = self._clocks.get(partition)
        if clock is None or len(clock.watermarks) < self.sources:
            return None
        return _from_ms(min(clock.watermarks.values()))

    # the batch -------------------------------------------------------------------------
    def process(self, batch: Sequence[InRecord], tables: Mapping[str, StateReader]) -> BatchResult:
        subjects, contribs = tables[SUBJECTS_TABLE], tables[CONTRIB_TABLE]
        result = BatchResult()
        loaded: dict[str, SubjectState] = {}
        changed: set[str] = set()
        contrib_writes: dict[str, tuple[int, bytes | None]] = {}
        clocks: set[int] = set()

        def subject_state(subject: str, partition: int) -> SubjectState:
            state = loaded.get(subject)
            if state is None:
                raw = subjects.get(subject.encode())
                state = SubjectState.decode(raw) if raw is not None else SubjectState(partition)
                loaded[subject] = state
            return state

        def contrib(key: str) -> Any:
            pending = contrib_writes.get(key)
            raw = pending[1] if pending is not None else contribs.get(key.encode())
            return None if raw is None else orjson.loads(raw)

        for rec in batch:
            try:
                msg = decode_subject_record(rec.value or b"")
                if isinstance(msg, Contributions):  # of one subject, the record's key
                    subject = (rec.key or b"").decode()
                    state = subject_state(subject, rec.partition)
                    state.partition = rec.partition
                    for c in msg.items:
                        key = f"{subject}{_SEP}{c.fact}"
                        new = c.stored()
                        old = contrib(key)
                        self.counters["contributions"] += 1
                        if old == new:
                            continue
                        _apply(state, old, new)
                        changed.add(subject)
                        contrib_writes[key] = (rec.partition, orjson.dumps(new))
                        if c.is_case:
                            _defer(state, old, new, c.tag_ms or 0)
                        elif old is None and c.breach is not None:
                            self._interview(subject, rec.partition, c.breach, contrib,
                                            contrib_writes, result)  # fmt: skip
                else:
                    clock = self._partition_clock(rec.partition, subjects)
                    before = self.clock(rec.partition)
                    clock.watermarks[msg.source] = max(
                        clock.watermarks.get(msg.source, 0), msg.at_ms
                    )
                    clocks.add(rec.partition)
                    now = self.clock(rec.partition)
                    if now is not None and (before is None or now > before):
                        self._evaluate(rec.partition, now, subjects, loaded, changed, result)
            except Exception:  # a malformed internal record: log, skip, never stop
                log.exception("regulator: bad subject record %s@%s", rec.partition, rec.offset)
                self.counters["skipped"] += 1

        for subject in changed:
            state = loaded[subject]
            result.writes.append(
                StateWrite(SUBJECTS_TABLE, state.partition, subject.encode(), state.encode())
            )
        for key, (partition, value) in contrib_writes.items():
            result.writes.append(StateWrite(CONTRIB_TABLE, partition, key.encode(), value))
        for partition in clocks:
            clock_key = f"{_META}{partition}".encode()
            value = self._clocks[partition].encode()
            result.writes.append(StateWrite(SUBJECTS_TABLE, partition, clock_key, value))
        return result

    # signals ---------------------------------------------------------------------------
    def _evaluate(
        self,
        partition: int,
        now: datetime,
        subjects: StateReader,
        loaded: dict[str, SubjectState],
        changed: set[str],
        result: BatchResult,
    ) -> None:
        """Time moved to ``now``: judge dirty weeks (surge) and, once per closed day, the
        30-day settlement rate, for every subject of this partition."""
        clock = self._clocks[partition]
        today = local_day(now)
        closed = (today - timedelta(days=1)).isoformat()
        new_day = clock.closed_day is None or closed > clock.closed_day
        clock.closed_day = closed if new_day else clock.closed_day
        names = set(loaded)
        for key, _raw in subjects.items():
            name = key.decode()
            if not name.startswith("\x00"):
                names.add(name)
        policy = self.policy
        for subject in sorted(names):
            state = loaded.get(subject)
            if state is None:
                raw = subjects.get(subject.encode())
                if raw is None:
                    continue
                state = SubjectState.decode(raw)
            if state.partition != partition:
                continue
            kind = subject_kind(subject)
            dirty = _release(state, _ms(now))
            signal_days = state.signal_days
            first = date.fromisoformat(state.signal_first_day) if state.signal_first_day else None
            pending = []
            for week in sorted(state.dirty_weeks):
                monday = date.fromisoformat(week)
                if monday > today:
                    pending.append(week)
                    continue
                check = surge_check(signal_days, first, monday, policy.surge)
                if check.triggered and kind in policy.surge.subjects:
                    alert = surge_alert(subject, check, policy, self._version(monday), now)
                    dirty |= self._raise(state, alert, result)
            if pending != state.dirty_weeks:
                state.dirty_weeks, dirty = pending, True
            if new_day and kind in policy.settlement.subjects:
                check_s = settlement_check(
                    signal_days, today - timedelta(days=1), policy.settlement
                )
                if check_s.low and state.low_since is None:
                    alert = settlement_alert(subject, check_s, policy, self._version(check_s.end),
                                             now)  # fmt: skip
                    self._raise(state, alert, result)
                    state.low_since, dirty = closed, True
                elif not check_s.low and state.low_since is not None:
                    state.low_since, dirty = None, True
            if new_day:
                keep_from = today - timedelta(days=policy.keep_days)
                if state.kept_from != keep_from.isoformat():
                    prune(state.days, keep_from)
                    prune(signal_days, keep_from)
                    state.kept_from, dirty = keep_from.isoformat(), True
            if dirty:
                loaded[subject] = state
                changed.add(subject)

    def _raise(self, state: SubjectState, alert: AlertEvent, result: BatchResult) -> bool:
        if alert.alert_id in state.raised:
            return False
        state.raised = [*state.raised[-(RAISED_KEPT - 1) :], alert.alert_id]
        self._emit(alert, result)
        self.counters["signals"] += 1
        return True

    def _emit(self, alert: AlertEvent, result: BatchResult) -> None:
        _key, value, headers = self.codec.encode(alert, BUREAU_SOURCE)
        result.out.append(OutRecord(self.catalogue.alerts, alert.subject.encode(), value, headers))
        self.alerts_raised[(alert.rule_id, alert.level.value)] += 1

    def _interview(
        self,
        platform: str,
        partition: int,
        alert_json: Mapping[str, Any],
        contrib: Any,
        writes: dict[str, tuple[int, bytes | None]],
        result: BatchResult,
    ) -> None:
        key = platform + _INTERVIEW
        stored = contrib(key)
        record = PlatformRecord.model_validate(stored) if stored is not None else None
        new, outputs = record_breach(record, SlaBreached.model_validate(alert_json), self.ctx)
        writes[key] = (partition, orjson.dumps(new.model_dump(mode="json")))
        for ev in outputs:
            if isinstance(ev, AlertEvent):
                self._emit(ev, result)
                self.counters["interviews"] += 1

    def _version(self, day: date) -> str:
        return self.ctx.policy.version_at(day).id


def _apply(state: SubjectState, old: list[Any] | None, new: list[Any]) -> None:
    """Replace a fact's old contribution by its new one in the scorecard's day buckets."""
    floor = state.kept_from
    for contribution, sign in ((old, -1), (new, 1)):
        if contribution is None or contribution[0] is None:
            continue
        day, vec = contribution
        if floor is not None and day < floor:
            continue  # older than the buckets kept (pruned): not counted any more
        add_into(state.days, day, vec, sign)


def _defer(state: SubjectState, old: list[Any] | None, new: list[Any], tag: int) -> None:
    """Queue the change of a complaint's signal counters, to apply once the clock passes
    ``tag``. Changes with the same tag and day are summed, so the queue holds at most one
    entry per (tick, day) however long the clock stands still."""
    queue = state.deferred
    for contribution, sign in ((old, -1), (new, 1)):
        if contribution is None or contribution[0] is None:
            continue
        day, vec = contribution
        slot = deferred_slot(tag, day)
        acc = queue.get(slot) or [0] * WIDTH
        for i in SIGNAL_COUNTERS:
            acc[i] += sign * vec[i]
        if any(acc):
            queue[slot] = acc
        else:
            queue.pop(slot, None)


def _release(state: SubjectState, now_ms: int) -> bool:
    """Apply the deferred changes tagged before ``now_ms`` to the signal buckets (in tag
    order), marking their weeks for the surge test. Returns whether anything changed."""
    queue = state.deferred
    if not queue:
        return False
    ready = []
    for slot in list(queue):
        tag, day = parse_slot(slot)
        if tag < now_ms:
            ready.append((tag, day, queue.pop(slot)))
    if not ready:
        return False
    floor = state.kept_from
    touched = []
    for _tag, day, vec in sorted(ready):
        if floor is not None and day < floor:
            continue
        add_into(state.signal_days, day, vec, 1)
        touched.append(day)
        if state.signal_first_day is None or day < state.signal_first_day:
            state.signal_first_day = day
    state.dirty_weeks = sorted(set(state.dirty_weeks) | weeks_of(touched))
    return True
