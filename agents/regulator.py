"""Regulator agents: per-platform and per-category scorecards, risk signals, case timelines.

The canonical topics are keyed by case id; scorecards are per platform and per category. Two
batch agents bridge that, through an internal topic of the worker's own (Faust internal
topics share the app id prefix, which the worker's ACLs already cover)::

    cases.* + alerts ─▶ regulator_cases      per case (table regulator-cases): the case's
                          (keyed by case id)   timeline, its complaint facts, and its
                                               *contribution* = (intake date, counters)
                        ─▶ <app-id>-regulator-by-subject   keyed by platform id / category:<C>
    ─▶ regulator_scorecards  per subject (regulator-scorecards): day buckets; signals
                             (regulator-contrib: the last contribution per subject and fact)
                        ─▶ alerts   RiskSignalRaised (surge, settlement), InterviewRecommended

Contributions are *states*, not deltas: the subject side keeps the last contribution of each
fact (complaint case or alert) and applies only the difference, so a redelivered or replayed
record changes nothing (at-least-once in, exact counts out). Time reaches the subject side
as watermarks: each complaint partition forwards its ClockTicked time to every subject
partition, and a subject partition's clock is the minimum over the complaint partitions, so
a day or a week is judged only once every partition has passed it. Signals are decided on
those watermarks, from complaint contributions tagged with the tick before them (so a
partition that ran ahead is not counted early: see :mod:`agents.scorecard_processors`), with
ids from rule + subject + window (``agents.scorecard``); repeated breaches go through the
core's ``record_breach``.

The processors (:mod:`agents.scorecard_processors`) import nothing from Faust, as
:mod:`agents.cases`; :func:`attach` wires them.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any

from agents.batching import TableIO, apply_result
from agents.regulator_state import CaseEntry, SubjectState
from agents.scorecard import SignalsPolicy
from agents.scorecard_processors import (
    CASES_TABLE,
    CONTRIB_TABLE,
    SUBJECT_TOPIC_SUFFIX,
    SUBJECTS_TABLE,
    CaseFactsProcessor,
    ScorecardProcessor,
)
from schemas.families import CaseFamily
from schemas.models import AlertEvent, Event
from streams.records import BatchResult, InRecord
from streams.topics import Catalogue

SIGNALS_FILE_ENV = "REGBUS_SIGNALS_FILE"

__all__ = [
    "CASES_TABLE",
    "CONTRIB_TABLE",
    "SUBJECTS_TABLE",
    "CaseFactsProcessor",
    "Regulator",
    "ScorecardProcessor",
    "TableIO",
    "attach",
    "load_signals_policy",
]


# ---- Faust wiring ----------------------------------------------------------------------------
class Regulator:
    """What :func:`attach` registered (the web API reads it through the worker's parts)."""

    def __init__(
        self,
        facts: CaseFactsProcessor,
        scorecards: ScorecardProcessor,
        tables: dict[str, TableIO],
        policy: SignalsPolicy,
    ) -> None:
        self.facts = facts
        self.scorecards = scorecards
        self.tables = tables
        self.policy = policy
        self.alerts_published: Counter[tuple[str, str]] = Counter()
        """Alerts this worker published, by (rule id, level): case agents and signals."""
        self.route_result: Callable[[BatchResult], BatchResult] | None = None
        """Routes the signals by the roster (set by :func:`agents.roster.attach`)."""

    def subject(self, subject: str) -> dict[str, Any] | None:
        """A subject's state (:class:`agents.regulator_state.SubjectState`) as JSON."""
        raw = self.tables[SUBJECTS_TABLE].get(subject.encode())
        return None if raw is None else SubjectState.decode(raw).to_json()

    def case(self, case_id: str) -> dict[str, Any] | None:
        """A case's entry (:class:`agents.regulator_state.CaseEntry`) as JSON."""
        raw = self.tables[CASES_TABLE].get(case_id.encode())
        return None if raw is None else CaseEntry.decode(raw).to_json()


def load_signals_policy() -> SignalsPolicy:
    path = os.environ.get(SIGNALS_FILE_ENV)
    return SignalsPolicy.load(Path(path) if path else None)


def _tap_alerts(processors: Iterable[Any], counter: Counter[tuple[str, str]]) -> None:
    """Count every alert the case agents publish, through their ``on_output`` hook."""
    for proc in processors:
        previous = getattr(proc, "on_output", None)

        def hook(ev: Event, _previous: Any = previous) -> None:
            if isinstance(ev, AlertEvent):
                counter[(ev.rule_id, ev.level.value)] += 1
            if _previous is not None:
                _previous(ev)

        proc.on_output = hook


def attach(
    app: Any, catalogue: Catalogue, options: Any, case_processors: Mapping[Any, Any]
) -> Regulator:
    """Register the two regulator agents, their tables and the internal subject topic; the
    case processors' alerts are counted as they are published."""
    from agents.batching import to_in_record
    from agents.core import default_context

    ctx = default_context()
    policy = load_signals_policy()
    partitions = catalogue.case_partitions
    subject_topic_name = f"{app.conf.id}-{SUBJECT_TOPIC_SUFFIX}"
    subject_topic = app.topic(
        subject_topic_name, partitions=partitions, internal=True, retention=timedelta(days=7),
        key_serializer="raw", value_serializer="raw",
    )  # fmt: skip

    def table(name: str, help_text: str) -> Any:
        return app.Table(
            name, key_type=bytes, value_type=bytes, partitions=partitions, help=help_text
        )

    tables = {
        CASES_TABLE: TableIO(table(CASES_TABLE, "per case: timeline and complaint facts")),
        SUBJECTS_TABLE: TableIO(table(SUBJECTS_TABLE, "per platform/category: day buckets")),
        CONTRIB_TABLE: TableIO(table(CONTRIB_TABLE, "per subject and fact: last contribution")),
    }
    facts = CaseFactsProcessor(catalogue, ctx, subject_topic_name, partitions)
    scorecards = ScorecardProcessor(catalogue, ctx, policy, sources=partitions)
    regulator = Regulator(facts, scorecards, tables, policy)
    scorecards.alerts_raised = regulator.alerts_published  # one count of published alerts
    _tap_alerts(case_processors.values(), regulator.alerts_published)
    max_batch = getattr(options, "max_batch", 1000)
    within = getattr(options, "batch_within", 0.01)

    def run(processor: Any, batch: list[InRecord]) -> None:
        result = processor.process(batch, tables)
        if processor is scorecards and regulator.route_result is not None:
            result = regulator.route_result(result)
        apply_result(app, tables, result)

    sources = [catalogue.cases(f) for f in CaseFamily] + [catalogue.alerts]
    case_source = app.topic(*sources, key_serializer="raw", value_serializer="raw")

    async def regulator_cases(stream: Any) -> None:
        async for events in stream.take_events(max_batch, within=within):
            run(facts, [to_in_record(e) for e in events])

    async def regulator_scorecards(stream: Any) -> None:
        async for events in stream.take_events(max_batch, within=within):
            run(scorecards, [to_in_record(e) for e in events])

    app.agent(case_source, name="regulator_cases", concurrency=1)(regulator_cases)
    app.agent(subject_topic, name="regulator_scorecards", concurrency=1)(regulator_scorecards)

    @app.on_partitions_revoked.connect
    async def _on_revoked(sender: Any, revoked: Any, **_: Any) -> None:
        scorecards.forget(tp.partition for tp in revoked if tp.topic == subject_topic_name)
        complaints = catalogue.cases(CaseFamily.COMPLAINTS)
        facts.forget(tp.partition for tp in revoked if tp.topic == complaints)

    return regulator
