"""The audit replays the regulator agents too (no broker): the risk signals and interview
recommendations the log calls for and the scorecards the API must show. A real worker
stopped half-way, and the audit's "not healthy" listing the signals it never raised, is
tests/audit/test_regulator_stopped.py.

The "live" side is the worker's data path without Kafka (tests/regulator/pipeline.py: case
processors → regulator processors → alerts), run over the regulator scenario; the audit
side folds only that run's case topics.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import pytest

from agents.core import default_context
from agents.core.context import Context
from agents.regulator import Regulator
from agents.scorecard import SignalsPolicy, Window
from agents.web import Period, scorecard_view
from audit.collect import Collector
from audit.fold import AsOf, ReplayFolder
from audit.reconcile import ActualAlert, _actual, reconcile_replay
from audit.regulator_replay import RegulatorReplay
from audit.replay import ReplayResult
from audit.report import build_report
from schemas.families import CaseFamily
from streams.codec import EventCodec
from tests.regulator import scenario as sc
from tests.regulator.pipeline import Pipeline

from .helpers import FakeRecord

POLICY = SignalsPolicy.load()


@pytest.fixture(scope="module")
def ctx() -> Context:
    return default_context()


REGULATOR_TYPES = {"RiskSignalRaised", "InterviewRecommended"}


@dataclass
class _Logged:
    """An alerts-topic record as ``read_alerts`` sees it."""

    value: bytes
    partition: int
    offset: int
    timestamp: int


@pytest.fixture(scope="module")
def run(ctx: Context) -> tuple[Pipeline, ReplayResult, list[ActualAlert]]:
    pipe = Pipeline(ctx, POLICY)
    pipe.publish(sc.build().events())
    pipe.run()
    pipe.tick(sc.T_END)
    pipe.run()
    catalogue = pipe.catalogue
    complaints = catalogue.cases(CaseFamily.COMPLAINTS)
    regulator = RegulatorReplay(catalogue, ctx, POLICY, len(pipe.logs[complaints]), pipe.codec)
    collector = Collector()
    as_of = AsOf.at(sc.T_END + timedelta(minutes=1))
    folder = ReplayFolder(catalogue, as_of, collector, ctx=ctx, tap=regulator)
    ends = {}
    for family in CaseFamily:
        topic = catalogue.cases(family)
        for p, recs in sorted(pipe.logs[topic].items()):
            fake = [FakeRecord(r.offset, 1_000 + r.offset, r.key, r.value or b"", r.headers)
                    for r in recs]  # fmt: skip
            folder.feed(topic, p, fake)
            ends[(topic, p)] = len(recs)
    folder.finish()
    regulator.drain()
    result = ReplayResult(as_of, folder, collector, 1.0, {}, ends, regulator)
    codec = EventCodec()
    actual = []
    for p, recs in pipe.logs[catalogue.alerts].items():
        for r in recs:
            alert = _actual(codec, _Logged(r.value or b"", p, r.offset, 1_000 + r.offset))
            assert alert is not None
            actual.append(alert)
    return pipe, result, actual


def test_the_replay_derives_every_signal_and_interview_the_regulator_raised(run) -> None:
    pipe, result, actual = run
    rec = reconcile_replay(result, actual, pipe.catalogue, late_after_ms=10**9)
    assert rec.healthy, (rec.missing, rec.extra, rec.mismatched)
    raised = {a.alert_id: a.rule_id for a in actual if a.event_type in REGULATOR_TYPES}
    expected = {a.alert_id: a.rule_id for a in result.regulator.expected()}
    assert expected == raised
    assert {"COMPLAINT_SURGE", "SETTLEMENT_BELOW_TARGET"} <= set(raised.values())
    assert rec.out_of_scope == 0 and rec.matched == rec.expected == len(
        {a.alert_id for a in actual}
    )
    scope = rec.scope
    assert "InterviewRecommended" in scope["alert_types"]
    assert any("RiskSignalRaised (risk signals" in t for t in scope["alert_types"])
    assert scope["observed_until"] is not None and scope["not_checked"]


def test_the_replayed_scorecards_equal_the_live_api_field_by_field(run, ctx: Context) -> None:
    """What ``GET /platforms/{id}/scorecard?from=&to=`` answers from the live regulator's
    tables equals the audit report's scorecard of the same log, every field."""
    pipe, result, _actual = run
    live = Regulator(pipe.facts, pipe.scores, pipe.reg_stores, POLICY)  # type: ignore[arg-type]
    report = build_report(result, source={"prefix": pipe.catalogue.prefix})
    cards = report["scorecards"]
    assert {c["subject"] for c in cards} >= {sc.ALPHA, sc.BETA}
    for card in cards:
        subject = card["subject"] if card["kind"] == "platform" else f"category:{card['subject']}"
        period = Period(Window.RANGE, start=_date(card["from"]), end=_date(card["to"]))
        body = scorecard_view(subject, period, live)
        assert body is not None, subject
        for field in ("subject", "kind", "window", "from", "to", "counts", "rates"):
            assert body[field] == card[field], (subject, field)
        assert any(card["counts"].values())


def _date(text: str):  # type: ignore[no-untyped-def]
    from datetime import date

    return date.fromisoformat(text)
