"""The regulator side of a real worker: scorecards, signals, the HTTP API, subscribers, CLI.

One worker subprocess (``regbus worker --clock external --store memory:// --web-port N``) runs
the scenario of :mod:`tests.regulator.scenario` once for the whole module: its events go to
the canonical case topics, time moves by one tick, and every alert it raised is then produced
a second time (at-least-once below must not show or count anything twice). The tests read
what the worker built: over HTTP, through the subscriber and through ``regbus alerts``.
"""

from __future__ import annotations

import asyncio
import os
import re
import socket
import subprocess
import sys
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import httpx
import orjson
import pytest

from agents.api_auth import Role, TokenStore, bearer_header
from clients.subscriber import subscribe
from devtools.worker_process import WorkerProcess
from schemas.families import CaseFamily
from schemas.instants import BEIJING
from schemas.models import AlertEvent, InterviewRecommended, Level, RiskSignalRaised, SlaBreached
from streams.admin import ensure_topics
from streams.codec import EventCodec
from streams.settings import Settings
from streams.ticks import publish_ticks
from streams.topics import Catalogue
from tests.kafka_helpers import TopicReader, produce, wait_until

from . import scenario as sc
from .pipeline import family_of
from .test_subscriber import FAST, drain, make_alert, send, take

pytestmark = pytest.mark.broker
CODEC = EventCodec()
TOKEN = ""
"""The regulator token the module's worker accepts (made with the world)."""
ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class World:
    settings: Settings
    catalogue: Catalogue
    worker: WorkerProcess
    url: str
    scenario: sc.Scenario
    published: list[AlertEvent] = field(default_factory=list)
    """Every alert record the worker published (before the duplicates were added)."""

    @property
    def distinct(self) -> dict[str, AlertEvent]:
        return {a.alert_id: a for a in self.published}

    def env(self) -> dict[str, str]:
        return {
            **os.environ,
            "REGBUS_BOOTSTRAP": self.settings.bootstrap,
            "REGBUS_TOPIC_PREFIX": self.settings.topic_prefix,
            "REGBUS_STATE_DIR": str(self.settings.state_dir),
            "REGBUS_API_TOKEN": TOKEN,
        }


async def metric(client: httpx.AsyncClient, name: str, **labels: str) -> float:
    """The sample of ``name`` with exactly these labels (0 if there is none)."""
    text = (await client.get("/metrics")).text
    for match in re.finditer(rf"^{name}\{{([^}}]*)\}} (\S+)$", text, re.M):
        if dict(re.findall(r'(\w+)="([^"]*)"', match.group(1))) == labels:
            return float(match.group(2))
    return 0.0


async def get_json(client: httpx.AsyncClient, path: str, **params: str) -> dict:
    resp = await client.get(path, params=params)
    assert resp.status_code == 200, resp.text
    return resp.json()


def decode_alerts(records) -> list[AlertEvent]:  # type: ignore[no-untyped-def]
    return [CODEC.decode(r.value, r.headers) for r in records]


@pytest.fixture(scope="module")
async def world(bootstrap: str, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[World]:
    tmp = tmp_path_factory.mktemp("regulator")
    prefix = f"t{uuid.uuid4().hex[:12]}"
    settings = Settings(bootstrap=bootstrap, topic_prefix=prefix, state_dir=tmp / "state")
    catalogue = Catalogue(prefix)
    await ensure_topics(bootstrap, catalogue.specs())
    port = free_port()
    global TOKEN
    TOKEN = TokenStore(settings.state_dir).create("tests", Role.REGULATOR)
    extra = ["--web-port", str(port), *os.environ.get("REGBUS_TEST_WORKER_ARGS", "").split()]
    worker = WorkerProcess(settings, tmp / "worker.log", args=extra).start()
    scen = sc.build()
    w = World(settings, catalogue, worker, f"http://127.0.0.1:{port}", scen)
    try:
        async with httpx.AsyncClient(
            base_url=w.url, timeout=10, headers=bearer_header(TOKEN)
        ) as client:
            await _run_scenario(w, client)
        yield w
    finally:
        worker.stop()


async def _healthy(client: httpx.AsyncClient) -> bool:
    try:
        return (await client.get("/healthz")).status_code == 200
    except httpx.TransportError:
        return False


async def _run_scenario(w: World, client: httpx.AsyncClient) -> None:
    log = w.worker.log_tail
    await wait_until(lambda: _healthy(client), 90, lambda: f"worker never healthy:\n{log()}")
    by_topic: dict[str, list] = {}
    for event in w.scenario.events():
        by_topic.setdefault(w.catalogue.cases(family_of(event)), []).append(
            CODEC.encode(event, f"/platforms/{event.platform_id}")
        )
    by_topic[w.catalogue.cases(CaseFamily.COMPLAINTS)].append(
        (b"garbage", b"\x01not avro", [("ce_id", b"x")])  # one record for the dead-letter count
    )
    for topic, records in by_topic.items():
        await produce(w.settings.bootstrap, topic, records)
    late_ack = sc.LATE_ACK_CASE

    async def late_ack_counted() -> bool:  # the breach raised before the tick has reached the
        card = await client.get(  # regulator, so the interview counts it first
            f"/platforms/{sc.ALPHA}/scorecard", params={"window": "30d", "at": "2025-06-05"}
        )
        return card.status_code == 200 and card.json()["counts"]["breaches"] == 1

    await wait_until(late_ack_counted, 60, lambda: f"{late_ack} breach not counted:\n{log()}")
    await publish_ticks(w.settings.bootstrap, w.catalogue, sc.T_END)
    async with TopicReader(w.settings.bootstrap, w.catalogue.alerts) as reader:
        wanted = {"COMPLAINT_SURGE": 2, "SETTLEMENT_BELOW_TARGET": 1, "INTERVIEW_RECOMMENDED": 1}

        def signals_in(records) -> bool:  # type: ignore[no-untyped-def]
            rules = Counter(a.rule_id for a in decode_alerts(records))
            return (
                all(rules[r] >= n for r, n in wanted.items())
                and rules["RECTIFICATION_DEADLINE"] >= 1
            )

        await reader.read_until(signals_in, 60, lambda: f"signals missing:\n{log()}")
        records = await reader.settle(quiet=1.5)
    w.published = decode_alerts(records)
    # at-least-once below: every alert once more, at new offsets
    await produce(
        w.settings.bootstrap,
        w.catalogue.alerts,
        [(r.key, r.value, list(r.headers)) for r in records],
    )

    async def duplicates_read() -> bool:
        seen = await metric(client, "regbus_events_processed_total", agent="regulator_cases",
                            kind="alerts")  # fmt: skip
        return seen >= 2 * len(records)

    await wait_until(duplicates_read, 60, lambda: f"duplicates not consumed:\n{log()}")

    async def ring_full() -> bool:
        body = await get_json(client, "/alerts", limit="1000")
        return body["ready"] and body["count"] >= len(w.distinct)

    await wait_until(ring_full, 30, "the alert ring did not fill")
    assert w.worker.alive(), log()


@pytest.fixture
async def client(world: World) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=world.url, timeout=10, headers=bearer_header(TOKEN)) as c:
        yield c


# ---- scorecards and signals ---------------------------------------------------------------
@pytest.mark.parametrize(("subject", "window", "ref"), sc.CHECKS)
async def test_scorecard_equals_the_oracle(world, client, subject, window, ref) -> None:  # type: ignore[no-untyped-def]
    if subject.startswith("category:"):
        path = f"/categories/{subject.split(':')[1]}/scorecard"
    else:
        path = f"/platforms/{subject}/scorecard"
    body = await get_json(client, path, window=window.value, at=ref.isoformat())
    expected = sc.oracle(world.scenario, subject, window, ref, world.published)
    assert body["counts"] == expected
    assert body["rates"] == pytest.approx(sc.rates(expected))
    assert (body["window"], body["as_of"]) == (window.value, ref.isoformat())


@pytest.mark.parametrize("subject", [sc.ALPHA, sc.BETA, "category:DELIVERY_GOODS_DAMAGE"])
async def test_a_range_scorecard_equals_the_oracle(world, client, subject) -> None:  # type: ignore[no-untyped-def]
    kind, name = ("categories", subject.split(":")[1]) if ":" in subject else ("platforms", subject)
    first, last = date(2025, 5, 12), date(2025, 6, 6)  # neither a week nor 30 days
    span = {"from": first.isoformat(), "to": last.isoformat()}
    body = await get_json(client, f"/{kind}/{name}/scorecard", **span)
    window = sc.Window.RANGE
    expected = sc.oracle(world.scenario, subject, window, last, world.published, (first, last))
    assert body["counts"] == expected and expected["complaints"] > 0
    assert (body["window"], body["from"], body["to"]) == ("range", "2025-05-12", "2025-06-06")
    assert body["kept_from"] is not None and body["kept_from"] <= "2025-05-12"


async def test_a_range_older_than_the_kept_days_is_refused(world, client) -> None:  # type: ignore[no-untyped-def]
    got = await client.get(f"/platforms/{sc.ALPHA}/scorecard",
                           params={"from": "2024-01-01", "to": "2025-06-06"})  # fmt: skip
    assert got.status_code == 400 and "oldest day kept" in got.json()["error"]


async def test_each_signal_is_raised_once(world) -> None:  # type: ignore[no-untyped-def]
    signals = [a for a in world.published if isinstance(a, RiskSignalRaised | InterviewRecommended)]
    # this world has no 包片 roster: each platform with alerts raises ROSTER_MISSING once
    missing = Counter(a.subject for a in signals if a.rule_id == "ROSTER_MISSING")
    assert missing and set(missing.values()) == {1}, missing
    signals = [a for a in signals if a.rule_id != "ROSTER_MISSING"]
    assert Counter((a.rule_id, a.subject) for a in signals) == {
        ("COMPLAINT_SURGE", sc.ALPHA): 1,
        ("COMPLAINT_SURGE", "category:DELIVERY_GOODS_DAMAGE"): 1,  # beta's steady week: none
        ("SETTLEMENT_BELOW_TARGET", sc.BETA): 1,
        ("INTERVIEW_RECOMMENDED", sc.ALPHA): 1,
    }
    (interview,) = [a for a in signals if isinstance(a, InterviewRecommended)]
    assert interview.breach_count == 3 and interview.level is Level.LEADERSHIP


async def test_the_default_scorecard_uses_the_regulators_clock(world, client) -> None:  # type: ignore[no-untyped-def]
    body = await get_json(client, f"/platforms/{sc.BETA}/scorecard")
    assert body["as_of"] == "2025-06-06"  # the local date of the last tick
    assert body["window"] == "30d" and body["targets"] == {"settlement_rate": 0.85}
    assert body["settlement_low_since"] == "2025-06-05"
    week = await get_json(client, f"/platforms/{sc.ALPHA}/scorecard", window="week")
    assert (week["from"], week["to"]) == ("2025-06-02", "2025-06-08")
    assert week["counts"]["complaints"] == 12


# ---- subscribers ------------------------------------------------------------------------------
async def test_department_subscriber_gets_exactly_the_department_alerts(world, tmp_path) -> None:  # type: ignore[no-untyped-def]
    wanted = {i for i, a in world.distinct.items() if a.level is Level.DEPARTMENT}
    async with subscribe(
        world.settings.bootstrap, world.settings.topic_prefix, level=Level.DEPARTMENT,
        group_id=f"{world.settings.topic_prefix}.regbus-regulator.dept", start="earliest",
        state_dir=tmp_path, **FAST,
    ) as sub:  # fmt: skip
        got = await take(sub, len(wanted))
        got += await drain(sub)
    ids = [a.alert_id for a in got]
    assert len(ids) == len(set(ids)), "an alert was shown twice"
    assert set(ids) == wanted
    breaches = Counter(a.platform_id for a in got if isinstance(a, SlaBreached))
    assert breaches == {sc.ALPHA: 5, sc.BETA: 2}
    assert sub.stats.duplicates >= len(wanted)  # every one came twice on the topic


async def test_tail_cli_json_and_resume(world) -> None:  # type: ignore[no-untyped-def]
    wanted = {i for i, a in world.distinct.items() if a.level is Level.DEPARTMENT}
    base = [sys.executable, "-m", "regbus", "alerts", "tail", "--json", "--level", "department",
            "--group", "cli-test", "--start", "earliest"]  # fmt: skip

    def run(*extra: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*base, *extra], env=world.env(), capture_output=True, text=True, timeout=90, cwd=ROOT
        )

    first = await asyncio.to_thread(run, "--max", "3", "--timeout", "30")
    assert first.returncode == 0, first.stderr
    rest = await asyncio.to_thread(run, "--max", str(len(wanted) - 3), "--timeout", "30")
    assert rest.returncode == 0, rest.stderr
    again = await asyncio.to_thread(run, "--max", "1", "--timeout", "2")
    assert again.returncode == 1 and "0 of 1" in again.stderr  # nothing left, nothing repeated
    lines = first.stdout.splitlines() + rest.stdout.splitlines()
    alerts = [orjson.loads(line) for line in lines]
    assert len(alerts) == len(wanted) and {a["alert_id"] for a in alerts} == wanted
    assert all(a["level"] == "DEPARTMENT" and a["type"] for a in alerts)


async def test_scorecard_cli(world) -> None:  # type: ignore[no-untyped-def]
    cmd = [sys.executable, "-m", "regbus", "alerts", "scorecard", sc.BETA, "--url", world.url,
           "--at", "2025-06-05", "--json"]  # fmt: skip
    done = await asyncio.to_thread(
        subprocess.run, cmd, env=world.env(), capture_output=True, text=True, timeout=60, cwd=ROOT
    )
    assert done.returncode == 0, done.stderr
    body = orjson.loads(done.stdout)
    assert body["counts"] == sc.oracle(
        world.scenario, sc.BETA, sc.Window.D30, date(2025, 6, 5), world.published
    )
    ranged = await asyncio.to_thread(
        subprocess.run, [*cmd[:-3], "--from", "2025-06-02", "--to", "2025-06-04", "--json"],
        env=world.env(), capture_output=True, text=True, timeout=60, cwd=ROOT,
    )  # fmt: skip
    assert ranged.returncode == 0, ranged.stderr
    body = orjson.loads(ranged.stdout)
    first, last = date(2025, 6, 2), date(2025, 6, 4)
    expected = sc.oracle(world.scenario, sc.BETA, sc.Window.RANGE, last, world.published,
                         (first, last))  # fmt: skip
    assert body["counts"] == expected and body["window"] == "range"


# ---- the HTTP API ---------------------------------------------------------------------------
async def test_case_view(world, client) -> None:  # type: ignore[no-untyped-def]
    body = await get_json(client, f"/cases/{sc.LATE_ACK_CASE}")
    assert (body["kind"], body["status"], body["platform_id"]) == (
        "complaint", "ACKNOWLEDGED", sc.ALPHA,
    )  # fmt: skip
    kinds = [e["type"] for e in body["timeline"]]
    assert kinds[:2] == ["ComplaintFiled", "ComplaintForwarded"]
    assert {"SlaBreached", "ComplaintAcknowledged"} <= set(kinds)
    assert len(kinds) == len({e["id"] for e in body["timeline"]})  # duplicates not listed twice
    assert [e["at"] for e in body["timeline"]] == sorted(e["at"] for e in body["timeline"])
    assert {c["rule_id"] for c in body["clocks"]} >= {"COMPLAINT_RESOLVE"}
    refund = await get_json(client, "/cases/alpha-refund-1")
    assert refund["kind"] == "refund" and refund["state"]["kind"] == "refund"
    missing = await client.get("/cases/no-such-case")
    assert missing.status_code == 404 and "no-such-case" in missing.json()["error"]


async def test_alerts_view(world, client) -> None:  # type: ignore[no-untyped-def]
    body = await get_json(client, "/alerts", level="DEPARTMENT", platform=sc.ALPHA, limit="1000")
    expected = {i for i, a in world.distinct.items()
                if a.level is Level.DEPARTMENT and a.platform_id == sc.ALPHA}  # fmt: skip
    assert {a["alert_id"] for a in body["alerts"]} == expected
    assert body["count"] == len(expected)  # the duplicates on the topic are not listed
    times = [a["observed_at"] for a in body["alerts"]]
    assert body["alerts"] and len(times) == len(expected)
    two = await get_json(client, "/alerts", rule="COMPLAINT_ACKNOWLEDGE,COMPLAINT_SURGE", limit="2")
    assert two["count"] == 2
    future = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    assert (await get_json(client, "/alerts", since=future))["count"] == 0
    # One time rule (schemas.instants): no zone is Beijing time, and ages count back from now.
    tomorrow_beijing = (datetime.now(UTC) + timedelta(days=1)).astimezone(BEIJING)
    naive = tomorrow_beijing.replace(tzinfo=None).isoformat(timespec="seconds")
    assert (await get_json(client, "/alerts", since=naive))["count"] == 0
    everything = (await get_json(client, "/alerts", limit="1000"))["count"]
    published_within_the_hour = await get_json(client, "/alerts", since="1h", limit="1000")
    assert everything > 0 and published_within_the_hour["count"] == everything


@pytest.mark.parametrize(
    ("path", "params", "status"),
    [
        ("/platforms/alpha/scorecard", {"window": "year"}, 400),
        ("/platforms/alpha/scorecard", {"at": "June 5th"}, 400),
        ("/platforms/alpha/scorecard", {"from": "2025-06-01"}, 400),
        ("/platforms/alpha/scorecard", {"from": "2025-06-05", "to": "2025-06-01"}, 400),
        (
            "/platforms/alpha/scorecard",
            {"from": "2025-06-01", "to": "2025-06-05", "window": "week"},
            400,
        ),
        ("/platforms/alpha/scorecard", {"window": "range"}, 400),
        ("/platforms/nobody/scorecard", {}, 404),
        ("/categories/BICYCLES/scorecard", {}, 404),
        ("/alerts", {"level": "BOSS"}, 400),
        ("/alerts", {"limit": "0"}, 400),
        ("/alerts", {"limit": "many"}, 400),
        ("/alerts", {"since": "2025-06-02T25:00:00"}, 400),
        ("/alerts/stream", {"since": "yesterday"}, 400),
        ("/nothing/here", {}, 404),
    ],
)
async def test_bad_requests_get_json_errors(world, client, path, params, status) -> None:  # type: ignore[no-untyped-def]
    resp = await client.get(path, params=params)
    assert resp.status_code == status
    assert resp.headers["content-type"].startswith("application/json")
    assert resp.json()["error"]


async def test_sse_stream_sends_live_alerts_with_filters(world, client) -> None:  # type: ignore[no-untyped-def]
    gamma = f"gamma{uuid.uuid4().hex[:6]}"
    live = [make_alert(n, Level.DEPARTMENT, platform=gamma) for n in range(900, 902)]
    other = make_alert(903, Level.DEPARTMENT, platform="delta")
    events: list[dict] = []
    async with client.stream(
        "GET", "/alerts/stream", params={"platform": gamma, "limit": "2"}, timeout=30
    ) as resp:
        assert resp.status_code == 200
        assert resp.headers["content-type"].startswith("text/event-stream")
        await send(world.settings.bootstrap, world.catalogue.alerts, [other, *live])
        async with asyncio.timeout(30):
            async for line in resp.aiter_lines():
                if line.startswith("data: "):
                    events.append(orjson.loads(line[6:]))
    # the two are on different partitions: any order, but only they, each once
    assert sorted(e["alert_id"] for e in events) == sorted(a.alert_id for a in live)


async def test_sse_stream_replays_the_ring_since_a_time(world, client) -> None:  # type: ignore[no-untyped-def]
    ids: list[str] = []
    async with client.stream(
        "GET", "/alerts/stream",
        params={"since": "2000-01-01T00:00:00+00:00", "rule": "COMPLAINT_SURGE", "limit": "2"},
        timeout=30,
    ) as resp:  # fmt: skip
        async with asyncio.timeout(30):
            async for line in resp.aiter_lines():
                if line.startswith("id: "):
                    ids.append(line[4:])
    surges = {i for i, a in world.distinct.items() if a.rule_id == "COMPLAINT_SURGE"}
    assert set(ids) == surges


async def test_health_metrics_and_openapi(world, client) -> None:  # type: ignore[no-untyped-def]
    health = await client.get("/healthz")
    assert health.status_code == 200 and health.json()["status"] == "ok"
    assert "regulator_scorecards" in health.json()["agents"]
    text = (await client.get("/metrics")).text
    assert await metric(client, "regbus_events_processed_total", agent="cases_complaints",
                        kind="events") > 200  # fmt: skip
    assert await metric(client, "regbus_alerts_published_total", rule="COMPLAINT_ACKNOWLEDGE",
                        level="DEPARTMENT") == 5  # fmt: skip
    assert await metric(client, "regbus_alerts_published_total", rule="COMPLAINT_SURGE",
                        level="DEPARTMENT") == 2  # fmt: skip
    assert await metric(client, "regbus_deadletter_total", agent="cases_complaints",
                        reason="UNSPECIFIED") == 1  # fmt: skip
    lags = re.findall(r'^regbus_consumer_lag\{partition="\d+",topic="([^"]+)"\} \d', text, re.M)
    assert world.catalogue.cases(CaseFamily.COMPLAINTS) in lags
    assert not [t for t in lags if t.endswith("-changelog")]
    doc = await get_json(client, "/openapi.json")
    assert doc["openapi"].startswith("3.")
    assert set(doc["paths"]) == {
        "/cases/{id}", "/platforms/{id}/scorecard", "/platforms/{id}/rules",
        "/platforms/{id}/enforcement",
        "/categories/{id}/scorecard", "/alerts",
        "/alerts/stream", "/healthz", "/health", "/metrics", "/openapi.json",
        "/campaigns", "/campaigns/{id}",
    }  # fmt: skip


async def test_case_show_cli_gives_each_running_clock_its_time_left(world, client) -> None:  # type: ignore[no-untyped-def]
    api = await get_json(client, f"/cases/{sc.LATE_ACK_CASE}")
    running = [c for c in api["clocks"] if c["status"] == "RUNNING"]
    assert running, api["clocks"]
    at = "2025-06-03T12:00:00+08:00"
    cmd = [sys.executable, "-m", "regbus", "case", "show", sc.LATE_ACK_CASE, "--at", at, "--json"]
    env = {**world.env(), "REGBUS_API_URL": world.url}
    done = await asyncio.to_thread(
        subprocess.run, cmd, env=env, capture_output=True, text=True, timeout=60, cwd=ROOT
    )
    assert done.returncode == 0, done.stderr
    body = orjson.loads(done.stdout)
    as_of = datetime.fromisoformat(at)
    for clock in body["clocks"]:
        if clock["status"] != "RUNNING":
            assert clock["time_left"] is None
            continue
        due = datetime.fromisoformat(clock["due_at"])
        assert clock["time_left_seconds"] == int((due - as_of).total_seconds())
    missing = await asyncio.to_thread(
        subprocess.run, [*cmd[:5], "no-such-case"], env=env, capture_output=True, text=True,
        timeout=60, cwd=ROOT,
    )  # fmt: skip
    assert missing.returncode == 1 and "no case 'no-such-case'" in missing.stderr
    nowhere = await asyncio.to_thread(
        subprocess.run, [*cmd[:5], sc.LATE_ACK_CASE],
        env={**env, "REGBUS_API_URL": "http://127.0.0.1:1"}, capture_output=True, text=True,
        timeout=60, cwd=ROOT,
    )  # fmt: skip
    assert nowhere.returncode == 1 and "cannot reach the worker's API" in nowhere.stderr
    assert "Traceback" not in nowhere.stderr


# ---- authentication (docs/security.md) ------------------------------------------------------
async def test_an_unauthenticated_case_request_is_401(world) -> None:  # type: ignore[no-untyped-def]
    async with httpx.AsyncClient(base_url=world.url, timeout=10) as anon:
        for path in (f"/cases/{sc.LATE_ACK_CASE}", f"/platforms/{sc.ALPHA}/scorecard", "/alerts"):
            got = await anon.get(path)
            assert got.status_code == 401, path
            assert got.headers["WWW-Authenticate"].startswith("Bearer")
        bad = await anon.get(f"/cases/{sc.LATE_ACK_CASE}", headers=bearer_header("rbt_forged"))
        assert bad.status_code == 401
        assert (await anon.get("/healthz")).status_code in (200, 503)  # open on loopback
        assert (await anon.get("/metrics")).status_code == 200


async def test_a_platform_token_reads_only_its_own_platform(world) -> None:  # type: ignore[no-untyped-def]
    beta = TokenStore(world.settings.state_dir).create("beta-api", Role.PLATFORM, sc.BETA)
    async with httpx.AsyncClient(
        base_url=world.url, timeout=10, headers=bearer_header(beta)
    ) as client:
        assert (await client.get(f"/platforms/{sc.ALPHA}/scorecard")).status_code == 403
        assert (await client.get(f"/platforms/{sc.BETA}/scorecard")).status_code == 200
        assert (await client.get("/cases/alpha-refund-1")).status_code == 403
        assert (await client.get("/alerts")).status_code == 403


async def test_case_views_are_logged_with_the_viewer(world, client) -> None:  # type: ignore[no-untyped-def]
    await get_json(client, "/cases/alpha-refund-1")
    async with TopicReader(world.settings.bootstrap, world.catalogue.privacy) as r:
        recs = await r.read_until(
            lambda rs: any(b"alpha-refund-1" in (m.key or b"") for m in rs), 60, "a case view"
        )
    views = [CODEC.decode(m.value) for m in recs if m.key == b"alpha-refund-1"]
    assert any(v.viewer == "tests" and v.role == "regulator" for v in views)  # type: ignore[attr-defined]
