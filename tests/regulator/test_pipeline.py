"""The regulator processors on the scenario, without Kafka: numbers, signals, idempotency."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import orjson
import pytest

from agents.core.context import Context
from agents.scorecard import SignalsPolicy, scorecard
from agents.scorecard_processors import SUBJECTS_TABLE
from schemas.families import CaseFamily
from schemas.models import (
    InterviewRecommended,
    RiskSignalRaised,
    SlaBreached,
)

from . import scenario as sc
from .pipeline import Pipeline

POLICY = SignalsPolicy.load()


def run_scenario(
    ctx: Context, scen: sc.Scenario | None = None, batch_size: int = 10_000
) -> tuple[Pipeline, sc.Scenario]:
    scen = scen or sc.build()
    pipe = Pipeline(ctx, POLICY, batch_size=batch_size)
    pipe.publish(scen.events())
    pipe.run()
    pipe.tick(sc.T_END)
    pipe.run()
    return pipe, scen


@pytest.fixture(scope="module", params=[10_000, 7], ids=["big-batches", "small-batches"])
def ran(ctx: Context, request: pytest.FixtureRequest) -> tuple[Pipeline, sc.Scenario]:
    """Big batches coalesce a case's events; small ones update contributions many times."""
    return run_scenario(ctx, batch_size=request.param)


def days_of(pipe: Pipeline, subject: str) -> dict[str, list[int]]:
    return orjson.loads(pipe.reg_stores[SUBJECTS_TABLE].data[subject.encode()])["days"]


def signals(pipe: Pipeline) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for alert in pipe.alerts():
        if isinstance(alert, RiskSignalRaised | InterviewRecommended):
            out.setdefault(alert.rule_id, set()).add(alert.subject)
    return out


@pytest.mark.parametrize(("subject", "window", "ref"), sc.CHECKS)
def test_scorecards_equal_the_oracle(ran, subject, window, ref) -> None:  # type: ignore[no-untyped-def]
    pipe, scen = ran
    card = scorecard(subject, days_of(pipe, subject), window, ref)
    expected = sc.oracle(scen, subject, window, ref, pipe.alerts())
    assert card.counts == expected
    assert card.rates == pytest.approx(sc.rates(expected))


def test_the_scenario_exercises_every_counter(ran) -> None:  # type: ignore[no-untyped-def]
    pipe, scen = ran
    from datetime import date

    from agents.scorecard import Window

    total: Counter[str] = Counter()
    for subject in (sc.ALPHA, sc.BETA):
        total.update(sc.oracle(scen, subject, Window.D30, date(2025, 6, 5), pipe.alerts()))
    assert all(total[m] > 0 for m in total), total  # an oracle of zeros would prove nothing
    assert total["responded_in_time"] < total["forwarded"]


def test_surge_settlement_and_interview_signals(ran) -> None:  # type: ignore[no-untyped-def]
    pipe, _ = ran
    assert signals(pipe) == {
        "COMPLAINT_SURGE": {sc.ALPHA, "category:DELIVERY_GOODS_DAMAGE"},  # beta is steady
        "SETTLEMENT_BELOW_TARGET": {sc.BETA},  # alpha has too few resolutions to judge
        "INTERVIEW_RECOMMENDED": {sc.ALPHA},  # beta has two breaches, not three
    }
    (interview,) = [a for a in pipe.alerts() if isinstance(a, InterviewRecommended)]
    assert interview.breach_count == 3 and interview.observed_at == sc.T_END
    (settlement,) = [a for a in pipe.alerts() if a.rule_id == "SETTLEMENT_BELOW_TARGET"]
    assert settlement.metric < 0.85 and "2025-05-07–2025-06-05" in settlement.detail


def test_redelivery_and_duplicate_alerts_change_nothing(ctx: Context) -> None:
    pipe, _ = run_scenario(ctx)
    before = {k: v for k, v in pipe.reg_stores[SUBJECTS_TABLE].data.items()}
    n_alerts = len(pipe.alerts())
    for rec in list(pipe.records(pipe.catalogue.alerts)):  # every alert once more
        pipe.append(rec.topic, rec.key, rec.value, rec.headers, None)
    pipe.rewind("regulator_cases")  # and the regulator re-reads everything (crash replay)
    pipe.rewind("regulator_scorecards")
    pipe.run()
    assert pipe.reg_stores[SUBJECTS_TABLE].data == before
    assert len(pipe.alerts()) == 2 * n_alerts  # nothing new was raised


def test_a_replay_from_scratch_raises_the_same_signals(ran, ctx: Context) -> None:  # type: ignore[no-untyped-def]
    first, scen = ran
    second, _ = run_scenario(ctx, scen)  # the same log, read by fresh processors

    def ids(pipe: Pipeline) -> set[str]:
        return {a.alert_id for a in pipe.alerts() if not isinstance(a, SlaBreached)}

    assert ids(first) == ids(second)


def test_signals_wait_until_every_partition_passed_the_day(ctx: Context) -> None:
    scen = sc.build()
    pipe = Pipeline(ctx, POLICY)
    pipe.publish(scen.events())
    pipe.run()
    # a tick in only some complaint partitions does not move the regulator's clock
    from streams.ticks import tick_records

    for topic, partition, key, value, headers in tick_records(pipe.catalogue, sc.T_END, pipe.codec):
        if topic == pipe.catalogue.cases(CaseFamily.COMPLAINTS) and partition < 3:
            pipe.append(topic, key, value, headers, partition)
    pipe.run()
    assert not signals(pipe).get("COMPLAINT_SURGE")
    pipe.tick(sc.T_END)
    pipe.run()
    assert signals(pipe)["COMPLAINT_SURGE"] == {sc.ALPHA, "category:DELIVERY_GOODS_DAMAGE"}


def test_a_tick_in_the_same_batch_as_the_events_sees_them(ctx: Context) -> None:
    """Contributions queued before a tick are flushed before its watermark goes out."""
    scen = sc.build()
    pipe = Pipeline(ctx, POLICY)
    pipe.publish(scen.events())
    pipe.tick(sc.T_END)
    pipe.run()  # one batch per consumer: the events and the tick together
    found = signals(pipe)
    assert found["COMPLAINT_SURGE"] == {sc.ALPHA, "category:DELIVERY_GOODS_DAMAGE"}
    assert found["SETTLEMENT_BELOW_TARGET"] == {sc.BETA}


def test_signal_changes_wait_for_the_clock_in_a_bounded_queue(ctx: Context) -> None:
    """Before any tick the scorecard counts at once, the signal buckets not yet: their
    changes wait, summed per (tick, day), and are applied when the clock passes them."""
    scen = sc.build()
    pipe = Pipeline(ctx, POLICY, batch_size=7)  # many small batches: many changes per fact
    pipe.publish(scen.events())
    pipe.run()
    env = orjson.loads(pipe.reg_stores[SUBJECTS_TABLE].data[sc.ALPHA.encode()])
    intake_days = {d for d, v in env["days"].items() if v[0]}
    assert intake_days and env["signal_days"] == {}
    assert {slot.split("\x1f")[1] for slot in env["deferred"]} == intake_days  # one slot per day
    pipe.tick(sc.T_END)
    pipe.run()
    env = orjson.loads(pipe.reg_stores[SUBJECTS_TABLE].data[sc.ALPHA.encode()])
    assert env["deferred"] == {}
    signal_complaints = {d: v[0] for d, v in env["signal_days"].items()}
    assert signal_complaints == {d: v[0] for d, v in env["days"].items() if v[0]}


def test_a_restarted_regulator_tags_with_the_stored_tick(ctx: Context) -> None:
    """The tag (last forwarded tick of the complaint partition) survives a restart: it is
    read back from the regulator-cases table, not reset to 'before any tick'."""
    from agents.scorecard_processors import CaseFactsProcessor

    from .pipeline import PARTITIONS, SUBJECT_TOPIC

    scen = sc.build()
    first = sc.T_END - timedelta(days=30)  # before every event of the scenario
    pipe = Pipeline(ctx, POLICY)
    pipe.tick(first)
    pipe.run()
    pipe.facts = CaseFactsProcessor(pipe.catalogue, ctx, SUBJECT_TOPIC, PARTITIONS, pipe.codec)
    pipe.publish(scen.events())
    pipe.run()
    env = orjson.loads(pipe.reg_stores[SUBJECTS_TABLE].data[sc.ALPHA.encode()])
    tags = {int(slot.split("\x1f")[0]) for slot in env["deferred"]}
    assert tags == {int(first.timestamp() * 1000)}
