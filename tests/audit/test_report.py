"""The report document and page from an in-memory replay of a busy month (no broker)."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from datetime import timedelta
from html.parser import HTMLParser

import jsonschema
import pytest

from agents.core import engine
from audit.collect import Collector
from audit.fold import AsOf, ReplayFolder
from audit.html import render_html
from audit.metrics import SETTLEMENT_TARGET
from audit.replay import ReplayResult
from audit.report import build_report
from bench.bench_replay import START, workload
from streams.settings import PROJECT_ROOT
from streams.topics import Catalogue

from .helpers import FakeRecord

SVG = "{http://www.w3.org/2000/svg}"
CAT = Catalogue("report", case_partitions=2)


@pytest.fixture(scope="module")
def report() -> dict:
    records = workload(CAT, 2500, 0.9, timedelta(hours=4), seed=21)
    log: dict[tuple[str, int], list[FakeRecord]] = {}
    for topic, p, key, value, headers in records:
        part = log.setdefault((topic, p), [])
        part.append(FakeRecord(len(part), 1_000 + len(part), key, value, headers))
    collector = Collector()
    until = START + timedelta(days=25)
    folder = ReplayFolder(CAT, AsOf.at(until), collector, ctx=engine.default_context())
    for (topic, p), recs in sorted(log.items()):
        folder.feed(topic, p, recs)
    folder.finish()
    result = ReplayResult(folder.as_of, folder, collector, 1.0)
    return build_report(result, source={"prefix": CAT.prefix})


def test_report_validates_against_its_schema(report) -> None:
    schema = json.loads((PROJECT_ROOT / "docs" / "audit-report.schema.json").read_text())
    jsonschema.validate(report, schema)
    assert report["summary"]["cases"] > 100 and report["platforms"]


def test_scorecards_follow_their_definitions(report) -> None:
    """The 三率 and 和解率 of the report are the one definition (agents.core.rates)."""
    for p in report["platforms"]:
        c, m = p["complaints"], p["metrics"]
        if c["resolved"]:
            assert m["settlement_rate"] == c["settled"] / c["resolved"]
            assert m["settlement_below_target"] == (m["settlement_rate"] < SETTLEMENT_TARGET)
        if c["forwarded"]:
            assert m["response_rate"] == c["responded_in_time"] / c["forwarded"]
        if c["feedback"]:
            assert m["resolution_rate"] == c["resolved_at_visit"] / c["feedback"]
            assert m["satisfaction_rate"] == c["satisfied"] / c["feedback"]
        assert c["resolved"] >= c["settled"] + c["not_settled"]
    assert any(p["metrics"]["settlement_rate"] is not None for p in report["platforms"])


def test_settlement_counts_withdrawn_complaints_in_the_denominator() -> None:
    """The issue's example: 16 settled, 2 not settled, 2 withdrawn is 80 %, live and audit."""
    from agents.core.rates import rates
    from agents.scorecard import METRICS
    from agents.scorecard import rates as live_rates
    from audit.metrics import PlatformTally

    tally = PlatformTally("p", complaints=20, resolved=20, settled=16, not_settled=2)
    assert tally.as_json()["metrics"]["settlement_rate"] == 0.8
    vector = [0] * len(METRICS)
    vector[METRICS.index("resolved")], vector[METRICS.index("settled")] = 20, 16
    assert live_rates(vector)["settlement_rate"] == 0.8 == rates(tally.counters())[
        "settlement_rate"]  # fmt: skip


def test_page_is_well_formed_self_contained_and_carries_the_chart_data(report) -> None:
    page = render_html(report)
    HTMLParser().feed(page)  # the browser's view
    root = ET.fromstring(page.split("\n", 1)[1])  # and well-formed XML
    tags = {el.tag.rsplit("}", 1)[-1] for el in root.iter()}
    assert {"svg", "table", "details"} <= tags and not {"script", "img", "link"} & tags
    bars = {
        el.get("data-platform"): float(el.get("data-value"))
        for el in root.iter(f"{SVG}rect")
        if el.get("data-platform")
    }
    assert bars == {
        s["platform_id"]: s["settlement_rate"]
        for s in report["charts"]["settlement"]
        if s["settlement_rate"] is not None
    }
    (line,) = [el for el in root.iter(f"{SVG}line") if el.get("class") == "target"]
    assert float(line.get("data-value")) == SETTLEMENT_TARGET
    points = [el for el in root.iter(f"{SVG}circle") if el.get("class") == "point"]
    assert len(points) == sum(len(s["points"]) for s in report["charts"]["sla_compliance"][
        "platforms"])  # fmt: skip
    breach_bars = {el.get("data-rule") for el in root.iter(f"{SVG}rect") if el.get("data-rule")}
    assert breach_bars == {r["rule_id"] for r in report["charts"]["breaches_by_rule"]}


def test_the_page_counts_agree_and_say_what_they_leave_out(report, monkeypatch) -> None:
    """Summary, heading and rendered list agree; a truncated list says "showing N of M"."""
    import audit.html as html

    s = report["summary"]
    assert s["case_rows"] == len(report["cases"]) == s["cases"] + s["unknown_cases"]
    monkeypatch.setattr(html, "HTML_CASE_LIMIT", 7)
    page = render_html(report)
    heading = (f"Cases ({len(report['cases'])}: {s['cases']} opened, {s['unknown_cases']} never "
               f"opened) — showing 7 of {len(report['cases'])}")  # fmt: skip
    assert heading in page
    assert page.count('<details id="case-') == 7
    assert f"Showing 7 of {len(report['cases'])} cases" in page
    # a replay without the dead-letter topic says whose dead letters it counted
    assert "replayed case agents only" in page
    assert s["dead_letters_by_source"]["topic_read"] is False
