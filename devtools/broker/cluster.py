"""A three-node KRaft cluster from the same Maven jars: ``regbus broker up --nodes 3``.

Every node runs in combined mode (``process.roles=broker,controller``) and is one of the
quorum's three voters, so the cluster keeps a controller majority and every partition keeps
``min.insync.replicas=2`` through the loss of any one node. The cluster lives beside the single
default broker, never instead of it: its own ports (client ``base``, ``base+2``, ``base+4``;
controller one above each, i.e. 19292-19297 by default), its own state folder
(``<state_dir>/cluster/node<N>``) and its own cluster id.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from devtools.broker.launcher import (
    _LOG4J2,
    BrokerError,
    BrokerLauncher,
    BrokerStatus,
    _alive,
    _answers_metadata,
    broker_settings,
)
from streams.settings import KAFKA_VERSION, Settings

CLUSTER_BASE_PORT = 19292
CLUSTER_NODES = 3
CLUSTER_REPLICATION_FACTOR = 3
CLUSTER_MIN_INSYNC = 2
CLUSTER_CLUSTER_ID = "cmVnYnVzLWNsdXN0ZXIwMQ"  # base64url("regbus-cluster01"), 16 bytes


def node_ports(node_id: int, base: int = CLUSTER_BASE_PORT) -> tuple[int, int]:
    """(client port, controller port) of node ``node_id`` (1-based)."""
    client = base + 2 * (node_id - 1)
    return client, client + 1


def voters(nodes: int, base: int = CLUSTER_BASE_PORT) -> str:
    return ",".join(f"{n}@127.0.0.1:{node_ports(n, base)[1]}" for n in range(1, nodes + 1))


def cluster_bootstrap(nodes: int = CLUSTER_NODES, base: int = CLUSTER_BASE_PORT) -> str:
    return ",".join(f"127.0.0.1:{node_ports(n, base)[0]}" for n in range(1, nodes + 1))


def cluster_node_settings(
    node_id: int, log_dir: str, nodes: int = CLUSTER_NODES, base: int = CLUSTER_BASE_PORT
) -> dict[str, str]:
    """server.properties of one node; docker-compose.yml's ``cluster`` profile mirrors it."""
    client, controller = node_ports(node_id, base)
    return broker_settings(
        client,
        controller,
        log_dir,
        node_id=node_id,
        voters=voters(nodes, base),
        replication_factor=min(CLUSTER_REPLICATION_FACTOR, nodes),
        min_insync_replicas=min(CLUSTER_MIN_INSYNC, nodes),
    )


class ClusterNode(BrokerLauncher):
    """One node: the single-broker launcher with its own folder, ports and properties."""

    def __init__(self, settings: Settings, node_id: int, nodes: int, base: int, heap: str) -> None:
        super().__init__(settings, heap)
        self.node_id = node_id
        self.nodes = nodes
        self.base = base
        self.home = settings.state_dir / "cluster" / f"node{node_id}"

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{node_ports(self.node_id, self.base)[0]}"

    def _write_config(self) -> Path:
        props = cluster_node_settings(self.node_id, str(self.data_dir), self.nodes, self.base)
        path = self.home / "server.properties"
        path.write_text("".join(f"{k}={v}\n" for k, v in props.items()))
        (self.home / "log4j2.properties").write_text(_LOG4J2.format(logs=self.logs_dir))
        return path

    def _format(self, props: Path) -> None:
        cmd = [
            "java", "-Xmx256m", "-cp", f"{self.lib}/*",
            f"-Dlog4j2.configurationFile={self.home / 'log4j2.properties'}",
            "kafka.tools.StorageTool", "format", "-t", CLUSTER_CLUSTER_ID, "-c", str(props),
        ]  # fmt: skip
        proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            raise BrokerError("formatting KRaft storage failed: " + proc.stderr.strip()[-300:])


@dataclass(frozen=True)
class ClusterStatus:
    nodes: tuple[BrokerStatus, ...]
    bootstrap: str

    @property
    def running(self) -> bool:
        return all(n.running for n in self.nodes)

    @property
    def detail(self) -> str:
        up = sum(n.running for n in self.nodes)
        head = (
            f"running: Kafka {KAFKA_VERSION}, {up} of {len(self.nodes)} nodes on {self.bootstrap}"
            if up
            else f"stopped: no node answers on {self.bootstrap}"
        )
        return "\n".join([head, *(f"  node {i}: {n.detail}" for i, n in enumerate(self.nodes, 1))])


class ClusterLauncher:
    """``regbus broker up|down|status|logs --nodes 3``, and the cluster tests' fixture.

    ``kill(node)`` and ``start(node)`` take one node down hard (SIGKILL) and back."""

    def __init__(
        self,
        settings: Settings,
        nodes: int = CLUSTER_NODES,
        base_port: int = CLUSTER_BASE_PORT,
        heap: str = "512m",
    ) -> None:
        if nodes < 1:
            raise BrokerError("--nodes must be at least 1")
        self.settings = settings
        self.base_port = base_port
        self.members = [
            ClusterNode(settings, n, nodes, base_port, heap) for n in range(1, nodes + 1)
        ]
        self.home = settings.state_dir / "cluster"

    @property
    def bootstrap(self) -> str:
        return cluster_bootstrap(len(self.members), self.base_port)

    @property
    def replication_factor(self) -> int:
        return min(CLUSTER_REPLICATION_FACTOR, len(self.members))

    @property
    def min_insync_replicas(self) -> int:
        return min(CLUSTER_MIN_INSYNC, len(self.members))

    def client_settings(self, base: Settings | None = None) -> Settings:
        """``base`` (default: this launcher's settings) pointed at the cluster, with the
        cluster's replication factor and ``min.insync.replicas``."""
        from dataclasses import replace

        return replace(
            base or self.settings,
            bootstrap=self.bootstrap,
            replication_factor=self.replication_factor,
            min_insync_replicas=self.min_insync_replicas,
        )

    def node(self, node_id: int) -> ClusterNode:
        if not 1 <= node_id <= len(self.members):
            raise BrokerError(f"no node {node_id}: the cluster has nodes 1-{len(self.members)}")
        return self.members[node_id - 1]

    def fetch(self) -> bool:
        return self.members[0].fetch()

    def up(self, timeout: float = 120.0) -> ClusterStatus:
        """Start every node not already running, then wait until each answers."""
        procs = {m.node_id: m.spawn() for m in self.members if not _node_alive(m)}
        self.wait(timeout, procs)
        return self.status()

    def start(self, node_id: int, timeout: float = 120.0) -> None:
        """Bring one node back (after :meth:`kill`) and wait until it answers."""
        member = self.node(node_id)
        if not _node_alive(member):
            self.wait(timeout, {node_id: member.spawn()})

    def wait(self, timeout: float, procs: dict[int, subprocess.Popen[bytes]] | None = None) -> None:
        deadline = time.monotonic() + timeout
        waiting = [m for m in self.members if procs is None or m.node_id in procs]
        while waiting:
            for m in list(waiting):
                proc = (procs or {}).get(m.node_id)
                if proc is not None and proc.poll() is not None:
                    raise BrokerError(
                        f"node {m.node_id} exited with code {proc.returncode}; "
                        f"see {m.logs_dir}/broker.out"
                    )
                if _answers_metadata(m.bootstrap, 2.0):
                    waiting.remove(m)
            if not waiting:
                return
            if time.monotonic() > deadline:
                names = ", ".join(str(m.node_id) for m in waiting)
                raise BrokerError(
                    f"cluster node(s) {names} did not answer within {timeout:.0f}s; "
                    f"see {self.home}/node*/logs"
                )
            time.sleep(0.5)

    def kill(self, node_id: int) -> int:
        """SIGKILL one node (a crash: no controlled shutdown); return its pid."""
        member = self.node(node_id)
        pid = member._pid()
        if pid is None or not _alive(pid):
            raise BrokerError(f"node {node_id} is not running")
        os.killpg(pid, signal.SIGKILL)
        deadline = time.monotonic() + 10
        while _alive(pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        member.pid_file.unlink(missing_ok=True)
        return pid

    def down(self, purge: bool = False, timeout: float = 60.0) -> str:
        """Stop every node of the cluster (only the cluster's own pids: never the default
        broker); ``purge`` removes the cluster's folder. All nodes get SIGTERM at once: one
        stopped after the others would wait for a controller quorum that is gone."""
        pids = {m.node_id: m._pid() for m in self.members}
        running = {n: p for n, p in pids.items() if p is not None and _alive(p)}
        for pid in running.values():
            os.killpg(pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while any(_alive(p) for p in running.values()) and time.monotonic() < deadline:
            time.sleep(0.2)
        said = []
        for n, pid in running.items():
            if _alive(pid):
                os.killpg(pid, signal.SIGKILL)
                said.append(f"node {n} (pid {pid}) killed after {timeout:.0f}s")
            else:
                said.append(f"node {n} (pid {pid}) stopped")
        for m in self.members:
            m.pid_file.unlink(missing_ok=True)
        if not running:
            said.append("cluster not running")
        if purge and self.home.exists():
            shutil.rmtree(self.home)
            said.append(f"removed {self.home}")
        return "; ".join(said)

    def status(self) -> ClusterStatus:
        return ClusterStatus(tuple(m.status() for m in self.members), self.bootstrap)

    def log_paths(self) -> list[Path]:
        return [m.log_path() for m in self.members]


def _node_alive(member: ClusterNode) -> bool:
    pid = member._pid()
    return pid is not None and _alive(pid)
