"""Replay against a real worker: the state as of T equals the worker's tables at T, and the
reconciliation of a healthy run finds nothing missing, extra, late or mismatched.

Time is driven with ticks (the scenario of tests/cases: 72 hourly ticks, complaints that
are acknowledged on time, late or never, refunds with lifecycle violations). The scenario is
published in three stretches; after each, once the worker has committed everything, its
changelog topics (``<prefix>-bureau-cases-<family>-changelog``) are read and compared with a
replay as of the stretch's last tick. At the end every earlier T is replayed again over the
whole log, which must still give the state the tables had at T.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from datetime import timedelta
from pathlib import Path

import jsonschema

from audit.collect import Collector
from audit.deadletters import read_dead_letters
from audit.fold import AsOf
from audit.html import render_html
from audit.reconcile import Scope, read_alerts, reconcile, reconcile_replay
from audit.replay import replay
from audit.report import build_report
from schemas.families import CaseFamily
from streams.codec import EventCodec
from streams.settings import PROJECT_ROOT
from tests.cases.scenario import START, build

from .helpers import publish_steps, read_changelog, states_of, wait_processed

SCHEMA = PROJECT_ROOT / "docs" / "audit-report.schema.json"
SVG = "{http://www.w3.org/2000/svg}"


async def _tables(settings, catalogue) -> dict[CaseFamily, dict[str, dict]]:
    out = {}
    for family in CaseFamily:
        topic = f"{catalogue.prefix}-bureau-cases-{family.value}-changelog"
        out[family] = states_of(await read_changelog(settings.bootstrap, topic))
    return out


async def _replayed(settings, catalogue, until, collector=None):
    result = await replay(settings, AsOf.at(until), catalogue=catalogue, collector=collector)
    states: dict[CaseFamily, dict[str, dict]] = {f: {} for f in CaseFamily}
    for family, case_id, _p, state in result.folder.envelopes():
        states[family][case_id] = state
    return result, states


async def test_replay_as_of_t_equals_the_worker_tables_at_t(
    settings, catalogue, worker_factory, tmp_path: Path
) -> None:
    codec = EventCodec()
    steps, expected = build(seed=5, complaints=30)
    # The replay folds case topics; interview recommendations come from the regulator side
    # (platform fold over alerts) and are reported as out of scope of the case replay.
    interviews = {e for e in expected if e[0] == "InterviewRecommended"}
    expected = expected - interviews
    worker = worker_factory("--no-web")
    # a first tick before anything happens: the worker is up and assigned when it is committed
    await publish_steps(settings.bootstrap, catalogue, [s for s in steps if s.at <= START], codec)
    await wait_processed(settings.bootstrap, catalogue, 90, f"at start:\n{worker.log_tail()}")

    snapshots = {}
    published = START
    for hours in (20, 45, 72):
        until = START + timedelta(hours=hours)
        stretch = [s for s in steps if published < s.at <= until]
        await publish_steps(settings.bootstrap, catalogue, stretch, codec)
        published = until
        await wait_processed(settings.bootstrap, catalogue, 60, f"to +{hours} h")
        tables = await _tables(settings, catalogue)
        _result, states = await _replayed(settings, catalogue, until)
        assert states == tables, f"replay as of +{hours} h differs from the worker's tables"
        assert sum(len(t) for t in tables.values()) > 0
        snapshots[until] = tables
    assert worker.alive(), worker.log_tail()

    for until, tables in snapshots.items():  # the whole log now holds later records too
        _result, states = await _replayed(settings, catalogue, until)
        assert states == tables, f"replay as of {until} over the whole log differs"

    collector = Collector()
    final = START + timedelta(hours=72)
    result, _states = await _replayed(settings, catalogue, final, collector)
    actual, bad = await read_alerts(settings, catalogue.alerts)
    rec = reconcile(collector.alerts.values(), actual, Scope(until_ms=result.as_of.until_ms),
                    catalogue.alerts, late_after_ms=30_000, undecodable=bad)  # fmt: skip
    assert rec.healthy, (rec.missing, rec.extra, rec.late, rec.mismatched)
    assert rec.expected == rec.actual == rec.matched == len(expected) and bad == 0
    # platform-level facts the case replay does not re-derive: interviews, and the
    # ROSTER_MISSING signal of each platform this test left off the roster
    unrostered = {a.subject for a in actual if a.rule_id == "ROSTER_MISSING"}
    assert rec.out_of_scope == len(interviews) + len(unrostered)
    assert rec.max_lateness_ms is not None and rec.max_lateness_ms < 30_000

    # With the regulator agents replayed too, the interviews and the unrostered platforms'
    # ROSTER_MISSING signals are in scope and all there.
    full = reconcile_replay(result, actual, catalogue, late_after_ms=30_000, undecodable=bad)
    assert full.healthy, (full.missing, full.extra, full.late, full.mismatched)
    regulator_side = len(interviews) + len(unrostered)
    assert full.out_of_scope == 0 and full.expected == len(expected) + regulator_side
    assert interviews and "InterviewRecommended" in full.scope["alert_types"]
    dead = await read_dead_letters(settings, catalogue)
    assert dead.total == dead.ingress + dead.agents + dead.undecodable

    report = build_report(result, reconciliation=full, source={"prefix": catalogue.prefix},
                          dead_letters=dead)  # fmt: skip
    assert report["summary"]["dead_letters"] == dead.total
    assert report["summary"]["signals"] == len(interviews)  # the regulator agents own
    jsonschema.validate(report, json.loads(SCHEMA.read_text()))
    _check_report(report, expected)
    _check_html(render_html(report), report)


def _check_report(report: dict, expected: set) -> None:
    breaches = sum(1 for kind, _w, _c in expected if kind == "SlaBreached")
    assert report["summary"]["breaches"] == breaches
    assert report["charts"]["breaches_by_rule"] == [
        {"rule_id": "COMPLAINT_ACKNOWLEDGE", "breaches": breaches}
    ]
    by_platform = {p["platform_id"]: p for p in report["platforms"]}
    assert set(by_platform) == {"shop-a", "shop-b", "shop-c"}
    assert sum(p["alerts"]["breaches"] for p in by_platform.values()) == breaches
    violations = sum(1 for kind, _w, _c in expected if kind == "LifecycleViolationDetected")
    assert sum(p["metrics"]["violations"] for p in by_platform.values()) == violations
    case = next(c for c in report["cases"] if any(k["breached"] for k in c["clocks"]))
    assert case["timeline"] and case["timeline"][0]["type"] == "ComplaintFiled"
    assert any(a["type"] == "SlaBreached" and a["trigger"]["topic"].endswith(".complaints")
               for a in case["alerts"])  # fmt: skip


def _check_html(page: str, report: dict) -> None:
    root = ET.fromstring(page.split("\n", 1)[1])  # well-formed XML after the doctype
    assert page.startswith("<!DOCTYPE html>")
    assert not any(
        el.get("src") or (el.tag.endswith("link") and el.get("href")) for el in root.iter()
    ), "the page must not load anything"
    points = [el for el in root.iter(f"{SVG}circle") if el.get("class") == "point"]
    series = report["charts"]["sla_compliance"]["platforms"]
    want = {(s["platform_id"], p["period"], str(p["compliance"])) for s in series
            for p in s["points"]}  # fmt: skip
    got = {(el.get("data-platform"), el.get("data-period"), el.get("data-value")) for el in points}
    assert got == want and want
    bars = {el.get("data-rule"): el.get("data-value") for el in root.iter(f"{SVG}rect")
            if el.get("data-rule")}  # fmt: skip
    assert bars == {r["rule_id"]: str(r["breaches"]) for r in report["charts"]["breaches_by_rule"]}
