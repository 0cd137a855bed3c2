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


def test_the_page_shows_the_roster_owners_and_every_delivery_and_failure(report) -> None:
    """The roster / notification section: owners per platform at the instant, deliveries by
    channel, each failed delivery with its reason; and it says so when the topics were not
    read. The JSON twin carries the same (validated against the schema)."""
    from datetime import datetime

    from audit.side_logs import SideLogs
    from schemas.models import Level, NotificationDelivered, NotificationFailed, NotifyChannel
    from tests.notify.helpers import T0, assignment, escalation

    none_read = render_html(report)
    assert '<section id="roster">' in none_read and "Not read" in none_read
    side = SideLogs(until_ms=int((T0 + timedelta(days=1)).timestamp() * 1000))
    side._keep(assignment("acme", office="HD-ZGC", leader="WANG-JU"))
    side._keep(assignment("other", office="HD-XSQ", department="FOOD_SAFETY", leader="LI-JU"))
    side._keep(assignment("later", effective_from=T0 + timedelta(days=5)))  # not yet in force
    alert = escalation(1)
    common = {
        "case_id": alert.case_id, "platform_id": "acme", "occurred_at": T0, "rule_id":
        alert.rule_id, "level": Level.LEADERSHIP, "alert_id": alert.alert_id,
    }  # fmt: skip
    side._keep(NotificationDelivered(event_id="n1", delivery_id="d1", channel=NotifyChannel.WEBHOOK,
                                     recipient="zhang.wei", attempts=1, **common))  # fmt: skip
    side._keep(NotificationFailed(event_id="n2", delivery_id="d2", channel=NotifyChannel.EMAIL,
                                  recipient="wang.ju@hd.example.cn", attempts=4,
                                  reason="HTTP 503 <retry>", **common))  # fmt: skip
    later = {**common, "occurred_at": datetime(2030, 1, 1, tzinfo=T0.tzinfo)}
    side._keep(NotificationDelivered(event_id="n3", delivery_id="d3", channel=NotifyChannel.EMAIL,
                                     recipient="x@hd.example.cn", attempts=1, **later))  # fmt: skip
    side.route(alert)
    with_side = {**report, "roster_and_notifications": side.as_json()}
    schema = json.loads((PROJECT_ROOT / "docs" / "audit-report.schema.json").read_text())
    jsonschema.validate(with_side, schema)
    owners = {o["platform_id"]: o for o in with_side["roster_and_notifications"]["owners"]}
    assert owners["acme"]["office"] == "HD-ZGC" and owners["acme"]["notifications_failed"] == 1
    assert owners["later"]["office"] is None  # its entry takes effect after the instant

    page = render_html(with_side)
    root = ET.fromstring(page.split("\n", 1)[1])
    (section,) = [el for el in root.iter() if el.get("id") == "roster"]
    text = "".join(section.itertext())

    def tag(el: ET.Element) -> str:
        return el.tag.rsplit("}", 1)[-1]

    rows = {
        tuple("".join(td.itertext()) for td in tr.iter() if tag(td) == "td")[:4]
        for tr in section.iter()
        if tag(tr) == "tr"
    }
    assert ("acme", "HD-ZGC", "CONSUMER_PROTECTION", "WANG-JU") in rows
    assert ("other", "HD-XSQ", "FOOD_SAFETY", "LI-JU") in rows
    assert "no roster entry in force" in text
    assert "delivered by webhook" in text and "delivered by email" not in text  # n3 is after T
    assert "wang.ju@hd.example.cn" in text and "HTTP 503 <retry>" in text  # escaped, shown
    assert "alerts without an owner" in text
