"""The system on a three-node KRaft cluster: topics replicated 3 with min.insync.replicas 2,
a broker killed with SIGKILL mid-run (any node, then the leader of a cases partition), a
worker killed mid-run among three. Each run must end exactly as the simulator predicted
(tests/cluster/scenario.py says what "exactly" covers)."""

from __future__ import annotations

import asyncio
import dataclasses
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType

from devtools.broker.cluster import ClusterLauncher
from devtools.worker_process import WorkerProcess
from schemas.families import CaseFamily
from streams.admin import ensure_topics
from streams.settings import Settings
from streams.topics import Catalogue
from tests.cluster.scenario import SMALL, run_scenario

pytestmark = [
    pytest.mark.broker,
    pytest.mark.slow,
    pytest.mark.cluster,
    # a run publishes, waits for routing (up to 240 s) and settles (up to 300 s): on a loaded
    # machine the default 300 s could cut a run that is slow but still exact
    pytest.mark.timeout(600),
]

KILL_AT, BACK_AT = SMALL.grid.count // 3, SMALL.grid.count // 2
"""Ticks after which the fault strikes and (for a broker) after which it is healed."""


async def _describe(bootstrap: str, topic: str, timeout: float = 30.0) -> list[dict[str, object]]:
    """The topic's partitions with leader and replicas, once every node's metadata has them
    (a topic just created may still show none)."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            (desc,) = await admin.describe_topics([topic])
            parts = sorted(desc["partitions"], key=lambda p: p["partition"])
            if parts and all(p["leader"] >= 0 for p in parts):
                return parts
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"no partition metadata for {topic} after {timeout:.0f}s")
            await asyncio.sleep(0.2)
    finally:
        await admin.close()


class _Workers:
    """Worker subprocesses on one prefix, each with its own state folder; stopped at exit."""

    def __init__(self, settings: Settings, logs: Path, count: int) -> None:
        self.procs = [
            WorkerProcess(
                dataclasses.replace(settings, state_dir=settings.state_dir / f"w{n}"),
                logs / f"worker{n}.log",
            )
            for n in range(count)
        ]

    def start(self) -> None:
        for w in self.procs:
            w.start()

    def stop(self) -> None:
        for w in self.procs:
            w.stop()

    def tails(self) -> str:
        return "\n".join(f"--- worker {n}\n{w.log_tail(15)}" for n, w in enumerate(self.procs))


class _BrokerFault:
    """SIGKILL one node after tick KILL_AT, restart it (in the background) after BACK_AT."""

    def __init__(self, cluster: ClusterLauncher, pick: callable) -> None:  # type: ignore[valid-type]
        self.cluster, self.pick = cluster, pick
        self.killed: int | None = None
        self.restart: threading.Thread | None = None

    def __call__(self, ticks: int) -> None:
        if ticks == KILL_AT and self.killed is None:
            self.killed = self.pick()
            self.cluster.kill(self.killed)
        elif ticks == BACK_AT and self.killed is not None and self.restart is None:
            self.restart = threading.Thread(target=self.cluster.start, args=(self.killed,))
            self.restart.start()

    def join(self) -> None:
        if self.restart is not None:
            self.restart.join(180)


async def test_topics_are_replicated_three_ways_with_two_in_sync(cluster_settings) -> None:
    catalogue = Catalogue.from_settings(cluster_settings)
    assert {(s.replication_factor, s.config()["min.insync.replicas"]) for s in catalogue} == {
        (3, "2")
    }
    await ensure_topics(cluster_settings.bootstrap, catalogue.specs())
    parts = await _describe(cluster_settings.bootstrap, catalogue.cases(CaseFamily.COMPLAINTS))
    assert len(parts) == catalogue.case_partitions
    assert all(sorted(p["replicas"]) == [1, 2, 3] for p in parts), parts  # type: ignore[type-var]
    assert len({p["leader"] for p in parts}) == 3, "leaders spread over the three nodes"


async def test_the_workers_internal_topics_and_changelogs_are_replicated_too(
    cluster_settings: Settings,
) -> None:
    """Created before the worker subscribes (agents.startup), with the catalogue's replication:
    with one replica, a changelog on the killed node went offline and the agents writing to it
    waited for the node to come back (the broker-kill runs stalled)."""
    from agents.app import build_worker
    from agents.parts import WorkerOptions
    from agents.startup import create_worker_topics, internal_topics

    catalogue = Catalogue.from_settings(cluster_settings)
    cluster_settings.state_dir.mkdir(parents=True, exist_ok=True)
    app = build_worker(cluster_settings, WorkerOptions(store="memory://", web_enabled=False)).app
    wanted = [t.name for t in internal_topics(app)]
    assert any(n.endswith("-changelog") for n in wanted)
    assert any(n.endswith("-regulator-by-subject") for n in wanted)
    assert any(n.endswith("-__assignor-__leader") for n in wanted)
    created = await create_worker_topics(cluster_settings.bootstrap, catalogue, app)
    assert set(wanted) <= set(created)
    admin = AIOKafkaAdminClient(bootstrap_servers=cluster_settings.bootstrap)
    await admin.start()
    try:
        for desc in await admin.describe_topics(wanted):
            assert all(len(p["replicas"]) == 3 for p in desc["partitions"]), desc
        resources = [ConfigResource(ConfigResourceType.TOPIC, name) for name in wanted]
        isr: dict[str, str | None] = {}
        deadline = asyncio.get_running_loop().time() + 30
        while isr != dict.fromkeys(wanted, "2") and asyncio.get_running_loop().time() < deadline:
            for response in await admin.describe_configs(resources):  # a node that has not
                for code, _msg, _type, name, entries in response.resources:  # the topic yet
                    if code == 0:  # answers with an error: ask again
                        isr[name] = {e[0]: e[1] for e in entries}.get("min.insync.replicas")
            await asyncio.sleep(0.2)
        assert isr == dict.fromkeys(wanted, "2"), isr
    finally:
        await admin.close()


async def test_a_broker_killed_mid_run_loses_nothing(
    all_nodes_up: ClusterLauncher, cluster_settings: Settings, tmp_path: Path
) -> None:
    workers = _Workers(cluster_settings, tmp_path, 1)
    fault = _BrokerFault(all_nodes_up, lambda: 2)
    try:
        result = await run_scenario(cluster_settings, workers.start, fault)
        fault.join()
        alive = workers.procs[0].alive()
    finally:
        workers.stop()
    assert fault.killed == 2 and fault.restart is not None
    assert alive, "the worker must ride out a broker loss"
    problems = result.problems()
    assert not problems, "\n".join(problems) + "\n" + workers.tails()
    assert len(result.canonical) > 100 and len(result.expected) > 30


async def test_the_leader_of_a_cases_partition_killed_mid_run_loses_nothing(
    all_nodes_up: ClusterLauncher, cluster_settings: Settings, tmp_path: Path
) -> None:
    topic = Catalogue.from_settings(cluster_settings).cases(CaseFamily.COMPLAINTS)
    leaders: list[int] = []

    def leader_of_partition_0() -> int:
        # Called between two ticks, inside the publisher's event loop: ask from a thread.
        with ThreadPoolExecutor(1) as pool:
            parts = pool.submit(asyncio.run, _describe(cluster_settings.bootstrap, topic)).result()
        leaders.append(int(parts[0]["leader"]))  # type: ignore[call-overload]
        return leaders[-1]

    workers = _Workers(cluster_settings, tmp_path, 1)
    fault = _BrokerFault(all_nodes_up, leader_of_partition_0)
    try:
        result = await run_scenario(cluster_settings, workers.start, fault)
        fault.join()
        after = await _describe(cluster_settings.bootstrap, topic)
    finally:
        workers.stop()
    assert fault.killed == leaders[0]
    problems = result.problems()
    assert not problems, "\n".join(problems) + "\n" + workers.tails()
    assert after[0]["leader"] in {1, 2, 3}


async def test_one_of_three_workers_killed_mid_run_changes_nothing(
    all_nodes_up: ClusterLauncher, cluster_settings: Settings, tmp_path: Path
) -> None:
    workers = _Workers(cluster_settings, tmp_path, 3)
    killed: list[int] = []

    def kill_one(ticks: int) -> None:
        if ticks == KILL_AT and not killed:
            workers.procs[0].kill()
            killed.append(0)

    try:
        result = await run_scenario(cluster_settings, workers.start, kill_one)
        alive = [w.alive() for w in workers.procs]
    finally:
        workers.stop()
    assert killed == [0] and alive == [False, True, True], workers.tails()
    problems = result.problems()
    assert not problems, "\n".join(problems) + "\n" + workers.tails()
