"""The local broker launcher against the real JVM broker, and docker-compose agreement."""

from __future__ import annotations

from pathlib import Path

import yaml

from devtools.broker import BrokerLauncher, broker_settings
from streams.settings import KAFKA_VERSION, PROJECT_ROOT, Settings


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


def test_compose_file_matches_the_local_launcher() -> None:
    compose = yaml.safe_load((PROJECT_ROOT / "docker-compose.yml").read_text())
    kafka = compose["services"]["kafka"]
    assert kafka["image"] == f"apache/kafka:{KAFKA_VERSION}"
    env = kafka["environment"]
    local = broker_settings(19092, 19093, "/unused")
    # Settings that must agree literally (listener topology differs: compose adds INTERNAL).
    same = [
        "process.roles", "node.id", "auto.create.topics.enable", "num.partitions",
        "offsets.topic.replication.factor", "offsets.topic.num.partitions",
        "transaction.state.log.replication.factor", "transaction.state.log.min.isr",
        "transaction.state.log.num.partitions",
        "share.coordinator.state.topic.replication.factor",
        "share.coordinator.state.topic.min.isr", "group.initial.rebalance.delay.ms",
        "controller.listener.names", "log.retention.hours",
    ]  # fmt: skip
    for key in same:
        env_key = "KAFKA_" + key.upper().replace(".", "_")
        assert str(env[env_key]) == local[key], f"{key}: compose {env[env_key]} vs {local[key]}"
    assert kafka["ports"] == ["19092:19092"]
    assert "PLAINTEXT://127.0.0.1:19092" in env["KAFKA_ADVERTISED_LISTENERS"]
    assert env["KAFKA_CONTROLLER_QUORUM_VOTERS"].endswith(":19093")
