"""The regulator's agents in a replay: expected risk signals, interviews and scorecards.

The case replay (:mod:`audit.fold`) hands every record it folds (case events, and every tick
up to T, including the ticks the case fast path skips) and every alert the case processors
raise to :class:`RegulatorReplay`, in that order. It runs them through the very processors
the worker's regulator agents run (:class:`agents.scorecard_processors.CaseFactsProcessor`
then :class:`~agents.scorecard_processors.ScorecardProcessor`) over in-memory tables, so the
signals and interview recommendations it raises are the ones the worker must have raised,
and its scorecards are the ones the worker's API must show.

The regulator's internal subject topic is replaced by one in-memory partition: a subject's
partition changes nothing but where its state is kept (every subject partition receives
every watermark). Signals are judged on watermarks from complaint contributions tagged with
the tick before them, so the order in which partitions are replayed does not change them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from agents.core.context import Context
from agents.regulator_state import SubjectState
from agents.scorecard import SignalsPolicy, local_day, range_scorecard
from agents.scorecard_processors import (
    CASES_TABLE,
    CONTRIB_TABLE,
    SUBJECTS_TABLE,
    CaseFactsProcessor,
    ScorecardProcessor,
)
from audit.collect import AlertSeen
from audit.fold import MemoryStore, RecordMeta
from audit.governance_replay import GovernanceReplay
from schemas.families import CaseFamily
from schemas.instants import to_ms
from schemas.models import AlertEvent, Event
from streams.codec import EventCodec
from streams.records import BatchResult, InRecord
from streams.topics import Catalogue

SUBJECT_TOPIC = "replay-regulator-by-subject"
DRAIN_EVERY = 5000
SIGNAL_TYPES = frozenset({"RiskSignalRaised", "InterviewRecommended"})
"""The alert types the regulator agents raise (RiskSignalRaised of the signals policy's
rules; the case agents' own RiskSignalRaised, e.g. CALENDAR_YEAR_UNKNOWN, come from the case
replay)."""


@dataclass(frozen=True, slots=True)
class RaisedSignal:
    """A signal or interview the replayed regulator raised, with the last record it had read."""

    event: AlertEvent
    trigger: RecordMeta | None


class RegulatorReplay:
    """Feeds the replay's records and alerts through the regulator's two processors."""

    def __init__(
        self,
        catalogue: Catalogue,
        ctx: Context,
        policy: SignalsPolicy,
        complaint_partitions: int,
        codec: EventCodec | None = None,
    ) -> None:
        self.catalogue = catalogue
        self.policy = policy
        self.codec = codec or EventCodec()
        self.facts = CaseFactsProcessor(catalogue, ctx, SUBJECT_TOPIC, 1, self.codec)
        self.scores = ScorecardProcessor(
            catalogue, ctx, policy, sources=complaint_partitions, codec=self.codec
        )
        self.tables: dict[str, Any] = {
            CASES_TABLE: MemoryStore(),
            SUBJECTS_TABLE: MemoryStore(),
            CONTRIB_TABLE: MemoryStore(),
        }
        self.raised: list[RaisedSignal] = []
        self.governance = GovernanceReplay(catalogue, ctx, policy, complaint_partitions,
                                           self.codec)  # fmt: skip
        """Issue 18: the 未诉先办 refund signal and the rule changes' complaints."""
        self._pending: list[InRecord] = []
        self._last: RecordMeta | None = None
        self._alert_offset = 0
        self.records = 0

    # feeding ---------------------------------------------------------------------------
    def on_record(self, rec: InRecord) -> None:
        """A case-topic record the case replay folded (or a tick ≤ T it passed)."""
        self._pending.append(rec)
        self.records += 1
        if len(self._pending) >= DRAIN_EVERY:
            self.drain()

    def on_alert(self, event: Event) -> None:
        """An alert the replayed case agents raised, as the regulator reads it from the
        alerts topic."""
        if not isinstance(event, AlertEvent):
            return
        key, value, headers = self.codec.encode(event, "/bureau/replay")
        self._alert_offset += 1
        self._pending.append(
            InRecord(self.catalogue.alerts, 0, self._alert_offset, key, value, list(headers), 0)
        )

    def drain(self) -> None:
        batch, self._pending = self._pending, []
        if not batch:
            return
        ticks = [r for r in batch if r.topic != self.catalogue.alerts]
        if ticks:
            last = ticks[-1]
            self._last = RecordMeta(last.topic, last.partition, last.offset, last.timestamp_ms)
        for early in self.governance.feed(ticks):
            self.raised.append(RaisedSignal(early, self._last))
        subject_batch = self._apply(self.facts.process(batch, self.tables))
        if subject_batch:
            for o in self._apply(self.scores.process(subject_batch, self.tables)):
                event = self.codec.decode(o.value or b"", o.headers)
                if isinstance(event, AlertEvent):
                    self.raised.append(RaisedSignal(event, self._last))

    def _apply(self, result: BatchResult) -> list[InRecord]:
        for w in result.writes:
            store = self.tables[w.table]
            if w.value is None:
                store.data.pop(w.key, None)
            else:
                store.data[w.key] = w.value
        return [
            InRecord(o.topic, 0, i, o.key, o.value, list(o.headers or []), 0)
            for i, o in enumerate(result.out)
        ]

    # results ---------------------------------------------------------------------------
    def subjects(self) -> Iterable[tuple[str, dict[str, Any]]]:
        for key, raw in self.tables[SUBJECTS_TABLE].data.items():
            name = key.decode()
            if not name.startswith("\x00"):
                yield name, SubjectState.decode(raw).to_json()

    def clock(self) -> date | None:
        now = self.scores.clock(0)
        return None if now is None else local_day(now)

    def expected(self) -> list[AlertSeen]:
        """The signals and interviews raised, first occurrence of each id, in order."""
        out: dict[str, AlertSeen] = {}
        for raised in self.raised:
            e = raised.event
            if e.alert_id in out:
                continue
            out[e.alert_id] = AlertSeen(
                alert_id=e.alert_id,
                event_type=type(e).__name__,
                rule_id=e.rule_id,
                subject=e.subject,
                case_id=e.case_id,
                platform_id=e.platform_id,
                severity=str(e.severity),
                level=str(e.level),
                due_ms=None if e.due_at is None else to_ms(e.due_at),
                observed_ms=to_ms(e.observed_at),
                family=CaseFamily.COMPLAINTS,
                trigger=None,  # judged on watermarks: no single record made it due
                detail=e.detail,
            )
        return list(out.values())

    def scorecards(self) -> list[dict[str, Any]]:
        """Every subject's scorecard over the days it keeps (the same function the API's
        ``?from=&to=`` answers with)."""
        out = []
        for subject, env in sorted(self.subjects()):
            days = env["days"]
            if not days:
                continue
            first = date.fromisoformat(env["kept_from"] or min(days))
            last = date.fromisoformat(max(days))
            out.append(range_scorecard(subject, days, first, last).to_json())
        return out


__all__ = ["SIGNAL_TYPES", "RaisedSignal", "RegulatorReplay"]
