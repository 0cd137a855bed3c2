"""The local broker and cluster launchers, their settings, and docker-compose agreement."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from devtools.broker import BrokerLauncher, broker_settings
from devtools.broker.cluster import (
    CLUSTER_CLUSTER_ID,
    CLUSTER_MIN_INSYNC,
    CLUSTER_REPLICATION_FACTOR,
    ClusterLauncher,
    cluster_node_settings,
    node_ports,
)
from devtools.broker.launcher import CLUSTER_ID
from devtools.broker.secure import SECURE_PORT
from streams.settings import DEFAULT_PORT, KAFKA_VERSION, PROJECT_ROOT, Settings
from streams.topics import Catalogue


def test_up_twice_reuses_and_status_tells_the_truth(bootstrap: str) -> None:
    launcher = BrokerLauncher(Settings.from_env())
    first = launcher.status()
    assert first.running and bootstrap == first.bootstrap
    again = launcher.up()
    assert again.running
    assert again.pid == first.pid, "a second `up` must reuse the running broker"
    assert "running" in again.detail


def test_status_of_a_port_with_no_broker_says_stopped(tmp_path: Path) -> None:
    from streams.settings import Settings

    nowhere = BrokerLauncher(Settings(bootstrap="127.0.0.1:1", state_dir=tmp_path))
    st = nowhere.status()
    assert not st.running and st.detail.startswith("stopped")


def test_pom_pins_the_kafka_version_the_code_expects() -> None:
    pom = (PROJECT_ROOT / "devtools" / "broker" / "pom.xml").read_text()
    assert f"<kafka.version>{KAFKA_VERSION}</kafka.version>" in pom


_SAME = [
    "process.roles", "node.id", "auto.create.topics.enable", "num.partitions",
    "default.replication.factor", "min.insync.replicas",
    "offsets.topic.replication.factor", "offsets.topic.num.partitions",
    "transaction.state.log.replication.factor", "transaction.state.log.min.isr",
    "transaction.state.log.num.partitions",
    "share.coordinator.state.topic.replication.factor",
    "share.coordinator.state.topic.min.isr", "group.initial.rebalance.delay.ms",
    "controller.listener.names", "log.retention.hours",
]  # fmt: skip
"""Settings that must agree literally (listener topology differs: compose adds INTERNAL)."""


def _compose(name: str) -> dict[str, Any]:
    return yaml.safe_load((PROJECT_ROOT / name).read_text())  # type: ignore[no-any-return]


def _agrees(env: dict[str, Any], local: dict[str, str], port: int) -> None:
    for key in _SAME:
        env_key = "KAFKA_" + key.upper().replace(".", "_")
        assert str(env[env_key]) == local[key], f"{key}: compose {env[env_key]} vs {local[key]}"
    assert f"PLAINTEXT://127.0.0.1:{port}" in env["KAFKA_ADVERTISED_LISTENERS"]
    assert f"PLAINTEXT://:{port}," in env["KAFKA_LISTENERS"]


def test_compose_file_matches_the_local_launcher() -> None:
    services = _compose("docker-compose.yml")["services"]
    kafka = services["kafka"]
    assert "profiles" not in kafka and "profiles" not in services["worker"]
    assert kafka["environment"]["CLUSTER_ID"] == CLUSTER_ID
    _agrees(kafka["environment"], broker_settings(19092, 19093, "/unused"), 19092)
    assert kafka["ports"] == ["127.0.0.1:19092:19092"]
    assert kafka["environment"]["KAFKA_CONTROLLER_QUORUM_VOTERS"].endswith(":19093")


def test_compose_cluster_profile_matches_the_cluster_launcher() -> None:
    services = _compose("docker-compose.yml")["services"]
    nodes = [services[f"kafka-{n}"] for n in (1, 2, 3)]
    want_voters = ",".join(f"{n}@kafka-{n}:{node_ports(n)[1]}" for n in (1, 2, 3))
    for n, node in enumerate(nodes, 1):
        env, (client, _controller) = node["environment"], node_ports(n)
        assert node["profiles"] == ["cluster"]
        assert env["CLUSTER_ID"] == CLUSTER_CLUSTER_ID
        assert env["KAFKA_CONTROLLER_QUORUM_VOTERS"] == want_voters
        _agrees(env, cluster_node_settings(n, "/unused"), client)
        assert node["ports"] == [f"127.0.0.1:{client}:{client}"]
    worker = services["worker-cluster"]
    assert worker["profiles"] == ["cluster"]
    env = worker["environment"]
    assert env["REGBUS_REPLICATION_FACTOR"] == str(CLUSTER_REPLICATION_FACTOR)
    assert env["REGBUS_MIN_INSYNC_REPLICAS"] == str(CLUSTER_MIN_INSYNC)
    assert Settings.from_env(env).replication_factor == 3


def test_both_compose_files_bind_loopback_and_pin_the_kafka_version() -> None:
    for name in ("docker-compose.yml", "docker-compose.secure.yml"):
        services = _compose(name)["services"]
        for service_name, service in services.items():
            for port in service.get("ports", []):
                assert str(port).startswith("127.0.0.1:"), f"{name} {service_name}: {port}"
            image = service["image"]
            if image.startswith("apache/kafka"):
                assert image == f"apache/kafka:{KAFKA_VERSION}", f"{name} {service_name}"
    secure = _compose("docker-compose.secure.yml")["services"]["kafka"]
    assert secure["ports"] == [f"127.0.0.1:{SECURE_PORT}:{SECURE_PORT}"]


def test_compose_workers_publish_their_http_api_to_the_host() -> None:
    services = _compose("docker-compose.yml")["services"]
    for name, host_port in (("worker", 6066), ("worker-cluster", 6067)):
        worker = services[name]
        assert worker["ports"] == [f"127.0.0.1:{host_port}:6066"]
        command = " ".join(worker["command"].split())
        # Inside its container the API must listen beyond the container's own loopback.
        assert "regbus worker --web-bind 0.0.0.0 --web-port 6066" in command


def test_cluster_nodes_have_distinct_ports_folders_and_a_three_voter_quorum(
    tmp_path: Path,
) -> None:
    launcher = ClusterLauncher(Settings(state_dir=tmp_path))
    assert launcher.bootstrap == "127.0.0.1:19292,127.0.0.1:19294,127.0.0.1:19296"
    ports = [p for n in (1, 2, 3) for p in node_ports(n)]
    assert ports == list(range(19292, 19298)) and DEFAULT_PORT not in ports
    homes = {m.home for m in launcher.members}
    assert len(homes) == 3 and all(h.parent == tmp_path / "cluster" for h in homes)
    props = cluster_node_settings(2, "/d")
    assert props["node.id"] == "2"
    assert props["controller.quorum.voters"] == (
        "1@127.0.0.1:19293,2@127.0.0.1:19295,3@127.0.0.1:19297"
    )
    assert props["listeners"] == "PLAINTEXT://127.0.0.1:19294,CONTROLLER://127.0.0.1:19295"
    assert (props["default.replication.factor"], props["min.insync.replicas"]) == ("3", "2")
    assert props["offsets.topic.replication.factor"] == "3"
    single = broker_settings(19092, 19093, "/d")
    assert (single["default.replication.factor"], single["min.insync.replicas"]) == ("1", "1")


def test_cluster_status_on_free_ports_says_stopped_and_down_touches_nothing(
    tmp_path: Path,
) -> None:
    launcher = ClusterLauncher(Settings(state_dir=tmp_path), base_port=19992)
    st = launcher.status()
    assert not st.running and st.detail.startswith("stopped")
    assert launcher.down() == "cluster not running"


def test_settings_read_replication_and_partitions_from_env_and_round_trip() -> None:
    default = Settings.from_env({})
    assert (default.replication_factor, default.min_insync_replicas) == (1, 1)
    assert default.case_partitions == 4
    env = {
        "REGBUS_REPLICATION_FACTOR": "3",
        "REGBUS_MIN_INSYNC_REPLICAS": "2",
        "REGBUS_CASE_PARTITIONS": "12",
        "REGBUS_BOOTSTRAP": "127.0.0.1:1,127.0.0.1:2",
    }
    s = Settings.from_env(env)
    assert (s.replication_factor, s.min_insync_replicas, s.case_partitions) == (3, 2, 12)
    assert s.port == 1
    assert Settings.from_env(s.to_env()) == s
    specs = Catalogue.from_settings(s).with_platforms(["p1"]).specs()
    assert {(t.replication_factor, t.config()["min.insync.replicas"]) for t in specs} == {(3, "2")}
    assert {t.partitions for t in specs if t.family.value == "cases"} == {12}
    with pytest.raises(ValueError, match=r"min\.insync\.replicas 3"):
        Settings.from_env({"REGBUS_MIN_INSYNC_REPLICAS": "3"})
    with pytest.raises(ValueError, match="REGBUS_CASE_PARTITIONS"):
        Settings.from_env({"REGBUS_CASE_PARTITIONS": "many"})
