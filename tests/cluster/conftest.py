"""The three-node cluster, started once per session on its own ports and state folder.

It never touches the shared single broker (19092) nor a cluster started with
``regbus broker up --nodes 3`` (19292-19297): the tests' nodes listen on 19392-19397
(``REGBUS_TEST_CLUSTER_PORT`` moves them) and live in a temporary folder removed at the end.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from devtools.broker.cluster import ClusterLauncher
from streams.settings import Settings
from tests.conftest import _wait_for_group_coordinator

TEST_CLUSTER_PORT = int(os.environ.get("REGBUS_TEST_CLUSTER_PORT", "19392"))


@pytest.fixture(scope="session")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ClusterLauncher]:
    state = tmp_path_factory.mktemp("cluster-state")
    launcher = ClusterLauncher(
        Settings(state_dir=state), nodes=3, base_port=TEST_CLUSTER_PORT, heap="512m"
    )
    try:
        status = launcher.up(timeout=180)
        assert status.running, status.detail
        _wait_for_group_coordinator(launcher.bootstrap, timeout=120)
        yield launcher
    finally:
        launcher.down(purge=True, timeout=10)  # its data goes anyway: no need to wait long


@pytest.fixture
def cluster_settings(cluster: ClusterLauncher, tmp_path: Path) -> Settings:
    """A uuid prefix on the cluster, replication 3, min.insync.replicas 2."""
    return cluster.client_settings(
        Settings(topic_prefix=f"c{uuid.uuid4().hex[:12]}", state_dir=tmp_path / "state")
    )


@pytest.fixture
def all_nodes_up(cluster: ClusterLauncher) -> Iterator[ClusterLauncher]:
    """Every node running before and after the test (a test that killed one restarts it)."""
    cluster.up(timeout=180)
    yield cluster
    cluster.up(timeout=180)
