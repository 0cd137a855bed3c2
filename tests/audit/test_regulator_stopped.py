"""A real worker stopped half-way through a real run: the audit says "not healthy" and lists
the risk signals and the interview the stopped regulator agents never raised.

The regulator scenario (tests/regulator/scenario.py) goes to the case topics with a tick every
12 hours, so the regulator's signals fall at different instants: the settlement signal on
18 May, the complaint surges on 2 June, the interview on 3 June. The worker processes the run
up to 1 June, then gets SIGKILL; the rest of the log is written with no worker running. The
audit replays the whole log and finds what the live system should have raised.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from audit.collect import Collector
from audit.fold import AsOf
from audit.html import render_html
from audit.reconcile import read_alerts, reconcile_replay
from audit.replay import replay
from audit.report import build_report
from streams.codec import EventCodec
from tests.cases.scenario import Step
from tests.kafka_helpers import TopicReader, wait_until
from tests.regulator import scenario as sc

from .helpers import publish_steps, wait_processed

REGULATOR_TYPES = {"RiskSignalRaised", "InterviewRecommended"}
STOP_AT = datetime(2025, 6, 1, tzinfo=UTC)
"""After the settlement signal (18 May), before the surges (2 June) and the interview."""


def _steps() -> list[Step]:
    events = sorted(sc.build().events(), key=lambda e: e.occurred_at)
    steps: list[Step] = []
    tick = datetime(2025, 5, 6, tzinfo=UTC)
    i = 0
    while tick <= sc.T_END:
        while i < len(events) and events[i].occurred_at <= tick:
            steps.append(Step(events[i].occurred_at, events[i]))
            i += 1
        steps.append(Step(tick, None))
        tick += timedelta(hours=12)
    steps += [Step(e.occurred_at, e) for e in events[i:]]
    steps.append(Step(sc.T_END, None))
    return steps


def _regulator_rules(alerts) -> set[tuple[str, str]]:  # type: ignore[no-untyped-def]
    return {(a.rule_id, a.subject) for a in alerts if a.event_type in REGULATOR_TYPES}


async def test_a_worker_stopped_half_way_is_not_healthy_and_its_missing_signals_are_listed(
    settings, catalogue, worker_factory
) -> None:
    codec = EventCodec()
    steps = _steps()
    worker = worker_factory("--no-web")
    await publish_steps(settings.bootstrap, catalogue, [s for s in steps if s.at <= STOP_AT],
                        codec)  # fmt: skip
    await wait_processed(settings.bootstrap, catalogue, 120, f"before the stop:\n"
                         f"{worker.log_tail()}")  # fmt: skip
    async with TopicReader(settings.bootstrap, catalogue.alerts) as reader:

        def settlement_raised(records) -> bool:  # type: ignore[no-untyped-def]
            found = (codec.decode(r.value, list(r.headers)) for r in records)
            return any(getattr(a, "rule_id", "") == "SETTLEMENT_BELOW_TARGET" for a in found)

        await reader.read_until(settlement_raised, 60, lambda: worker.log_tail())
        await reader.settle(quiet=1.5)
    assert worker.alive(), worker.log_tail()
    worker.kill()  # SIGKILL, half-way
    await wait_until(lambda: not worker.alive(), 20, "the worker did not stop")
    await publish_steps(settings.bootstrap, catalogue, [s for s in steps if s.at > STOP_AT],
                        codec)  # fmt: skip

    as_of = AsOf.at(sc.T_END + timedelta(minutes=1))
    result = await replay(settings, as_of, catalogue=catalogue, collector=Collector())
    actual, bad = await read_alerts(settings, catalogue.alerts)
    rec = reconcile_replay(result, actual, catalogue, late_after_ms=10**9, undecodable=bad)

    # (ROSTER_MISSING: this test puts the two platforms on no roster; the signal is raised at
    # their first case, long before the stop, and is reconciled with the case alerts)
    raised = {r for r in _regulator_rules(actual) if r[0] != "ROSTER_MISSING"}
    assert raised == {("SETTLEMENT_BELOW_TARGET", sc.BETA)}, raised
    assert result.regulator is not None
    should = {(a.rule_id, a.subject) for a in result.regulator.expected()}
    assert should >= raised | {("COMPLAINT_SURGE", sc.ALPHA), ("INTERVIEW_RECOMMENDED", sc.ALPHA)}
    assert not rec.healthy and not rec.extra and bad == 0
    missing_signals = {
        (m["rule_id"], m["subject"])
        for m in rec.missing
        if m["type"] in REGULATOR_TYPES and m["rule_id"] != "ROSTER_MISSING"
    }
    assert missing_signals == should - raised
    assert any(m["type"] not in REGULATOR_TYPES for m in rec.missing)  # case alerts too

    report = build_report(result, reconciliation=rec, source={"prefix": catalogue.prefix})
    assert report["reconciliation"]["healthy"] is False
    page = render_html(report)
    assert "not healthy" in page
    missing_section = page[page.index("<h3>Missing</h3>") :]
    listed = [m for m in rec.missing if m["type"] in REGULATOR_TYPES]
    assert not [m for m in listed if m["rule_id"] == "ROSTER_MISSING"]
    assert len(listed) == len(missing_signals)
    for m in listed:
        assert f"<td>{m['type']}</td><td>{m['rule_id']}</td>" in missing_section, m
        assert m["observed_at"] in missing_section
