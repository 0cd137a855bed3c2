"""Start-up: every topic exists before any agent subscribes, and readiness says when an
agent does not consume a topic it subscribes to (``/health`` 503, with which)."""

from __future__ import annotations

from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

import httpx
import pytest
from aiokafka.admin import AIOKafkaAdminClient

from agents.startup import Readiness, _problems, internal_topics
from agents.web import health
from streams.settings import Settings
from streams.topics import Catalogue
from tests.ingest.conftest import IngressWorker, build_ingress_app
from tests.kafka_helpers import wait_until


@dataclass(frozen=True)
class TP:
    topic: str
    partition: int


@dataclass
class _Consumer:
    assigned: set[TP]
    started: bool = True
    crashed: bool = False

    def assignment(self) -> set[TP]:
        return self.assigned


@dataclass
class _Cluster:
    partitions: dict[str, int]

    def partitions_for_topic(self, topic: str) -> set[int] | None:
        n = self.partitions.get(topic)
        return None if n is None else set(range(n))


@dataclass
class _App:
    consumer: _Consumer
    cluster: _Cluster
    sources: dict[str, list[str]]
    rebalancing: bool = False
    agents: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._consumer = self.consumer
        cluster = self.cluster

        class Client:
            async def fetch_all_metadata(self) -> _Cluster:
                return cluster

        class Producer:
            client = Client()

        class FaustProducer:
            def _ensure_producer(self) -> Producer:
                return Producer()

        self.producer = FaustProducer()
        for name, topics in self.sources.items():
            channel = type("Channel", (), {"topics": topics})()
            self.agents[name] = type("Agent", (), {"name": f"app.{name}", "channel": channel})()


async def test_a_missing_or_unassigned_source_topic_is_a_readiness_problem() -> None:
    sources = {"cases": ["t.cases"], "by_subject": ["t-by-subject"]}
    held = {TP("t.cases", 0), TP("t.cases", 1)}
    missing = _App(_Consumer(held), _Cluster({"t.cases": 4}), sources)
    assert await _problems(missing) == ["by_subject: topic t-by-subject does not exist"]
    unassigned = _App(_Consumer(held), _Cluster({"t.cases": 4, "t-by-subject": 4}), sources)
    assert await _problems(unassigned) == [
        "by_subject: not consuming t-by-subject (partitions [0, 1] not assigned)"
    ]
    whole = held | {TP("t-by-subject", 0), TP("t-by-subject", 1)}
    good = _App(_Consumer(whole), _Cluster({"t.cases": 4, "t-by-subject": 4}), sources)
    assert await _problems(good) == []


async def test_an_unassigned_topic_resubscribes_a_cluster_that_does_not_answer_does_not(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Two failed checks in a row resubscribe (a group rejoin); a broker that does not answer
    makes the worker not ready, but resubscribing then would only restart the rebalance of a
    group whose coordinator moved with the lost broker."""
    from streams import compat

    flagged: list[object] = []
    monkeypatch.setattr(compat, "conductor_flag_changes", flagged.append)
    sources = {"cases": ["t.cases"], "by_subject": ["t-by-subject"]}
    held = {TP("t.cases", 0)}
    unassigned = _App(_Consumer(held), _Cluster({"t.cases": 4, "t-by-subject": 4}), sources)
    unassigned.topics = "conductor"  # type: ignore[attr-defined]
    readiness = Readiness()
    for _ in range(4):
        assert await readiness.check(unassigned)
    assert readiness.resubscriptions == 2 and flagged == ["conductor", "conductor"]

    class _Down:
        async def fetch_all_metadata(self) -> None:
            raise ConnectionError("node 2 is gone")

    down = _App(_Consumer(held), _Cluster({}), sources)
    down.topics = "conductor"  # type: ignore[attr-defined]
    down.producer = SimpleNamespace(_ensure_producer=lambda: SimpleNamespace(client=_Down()))
    quiet = Readiness()
    for _ in range(4):
        assert (await quiet.check(down))[0].startswith("readiness check failed: ConnectionError")
    assert quiet.resubscriptions == 0 and quiet.failed_checks == 0 and not quiet.ready


def test_health_is_503_with_the_problems_until_ready() -> None:
    app = _App(_Consumer({TP("t.cases", 0)}), _Cluster({}), {})
    readiness = Readiness()
    status, body = health(app, readiness)
    assert (status, body["status"], body["problems"]) == (503, "not_ready", ["not checked yet"])
    readiness.problems = []
    assert health(app, readiness)[0] == 200


@pytest.mark.broker
async def test_the_worker_creates_its_internal_topics_before_subscribing_and_gets_ready(
    settings: Settings, catalogue: Catalogue
) -> None:
    settings.state_dir.mkdir(parents=True, exist_ok=True)
    port = _free_port()
    parts = build_ingress_app(settings, full=True, web_enabled=True, web_port=port)
    wanted = [t.name for t in internal_topics(parts.app)]
    assert any(name.endswith("-regulator-by-subject") for name in wanted)
    assert any(name.endswith("-changelog") for name in wanted)
    admin = AIOKafkaAdminClient(bootstrap_servers=settings.bootstrap)
    await admin.start()
    try:
        assert not set(wanted) & set(await admin.list_topics())  # none exists yet
        worker = IngressWorker(parts, settings, catalogue)
        parts.app.finalize()
        try:
            await parts.app.on_first_start()  # what app.start() runs before any service
            assert set(wanted) <= set(await admin.list_topics())
            await parts.app.start()
            async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=10) as web:
                early = await web.get("/health")
                if not parts.readiness.ready:  # the first check runs 2 s after the start
                    assert early.status_code == 503 and early.json()["status"] != "ok"
                    assert early.json()["reason"]
                await wait_until(
                    lambda: parts.readiness.ready, 90, lambda: f"not ready: {parts.readiness}"
                )
                ready = await web.get("/health")
                assert ready.status_code == 200 and ready.json()["status"] == "ok", ready.text
                missing = await web.get("/no/such/page")  # no token: refused before routing
                assert missing.status_code == 401 and "error" in missing.json()
                text = (await web.get("/metrics")).text
                assert "regbus_worker_ready 1.0" in text
        finally:
            await worker.stop()
    finally:
        await admin.close()


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
