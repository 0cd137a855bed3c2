"""Fetch, format, start, probe and stop a single-node KRaft Kafka broker without Docker.

The broker jars come from Maven Central through ``pom.xml`` beside this file and are cached
outside the git tree (``Settings.kafka_cache``); data, logs and the pid file live in one
project-local state directory (``Settings.state_dir / "broker"``) that ``down --purge`` removes.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import shutil
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from streams.settings import KAFKA_VERSION, Settings

POM = Path(__file__).with_name("pom.xml")
CLUSTER_ID = "cmVnYnVzLWxvY2FsLTAx"  # fixed: a re-format of a purged dir gets the same id


class BrokerError(RuntimeError):
    """A broker operation failed; the message is one line a person can act on."""


def broker_settings(
    port: int,
    controller_port: int,
    log_dir: str,
    *,
    node_id: int = 1,
    voters: str | None = None,
    replication_factor: int = 1,
    min_insync_replicas: int = 1,
) -> dict[str, str]:
    """A node's server.properties. docker-compose.yml mirrors these (a test checks).

    The defaults are the single broker; a cluster node (:mod:`devtools.broker.cluster`) gives
    its id, the quorum's voters and the replication of Kafka's own internal topics."""
    rf, isr = str(replication_factor), str(min_insync_replicas)
    return {
        "process.roles": "broker,controller",
        "node.id": str(node_id),
        "controller.quorum.voters": voters or f"{node_id}@127.0.0.1:{controller_port}",
        "listeners": f"PLAINTEXT://127.0.0.1:{port},CONTROLLER://127.0.0.1:{controller_port}",
        "advertised.listeners": f"PLAINTEXT://127.0.0.1:{port}",
        "controller.listener.names": "CONTROLLER",
        "inter.broker.listener.name": "PLAINTEXT",
        "listener.security.protocol.map": "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
        "log.dirs": log_dir,
        "num.partitions": "1",
        "default.replication.factor": rf,
        "min.insync.replicas": isr,
        "auto.create.topics.enable": "false",
        "offsets.topic.replication.factor": rf,
        "offsets.topic.num.partitions": "8",
        "transaction.state.log.replication.factor": rf,
        "transaction.state.log.min.isr": isr,
        "transaction.state.log.num.partitions": "4",
        "share.coordinator.state.topic.replication.factor": rf,
        "share.coordinator.state.topic.min.isr": isr,
        "group.initial.rebalance.delay.ms": "0",
        "num.network.threads": "2",
        "num.io.threads": "4",
        "log.retention.hours": "-1",
    }


_LOG4J2 = """\
status = warn
appender.file.type = RollingFile
appender.file.name = file
appender.file.fileName = {logs}/server.log
appender.file.filePattern = {logs}/server.log.%i
appender.file.layout.type = PatternLayout
appender.file.layout.pattern = [%d] %p %m (%c)%n
appender.file.policies.type = Policies
appender.file.policies.size.type = SizeBasedTriggeringPolicy
appender.file.policies.size.size = 20MB
appender.file.strategy.type = DefaultRolloverStrategy
appender.file.strategy.max = 3
rootLogger.level = INFO
rootLogger.appenderRef.file.ref = file
logger.kafka.name = kafka
logger.kafka.level = INFO
logger.apache.name = org.apache.kafka
logger.apache.level = WARN
"""


@dataclass(frozen=True)
class BrokerStatus:
    running: bool
    ours: bool
    pid: int | None
    bootstrap: str
    detail: str


class BrokerLauncher:
    """Everything ``regbus broker up|down|status|logs`` does, usable from tests too."""

    def __init__(self, settings: Settings, heap: str = "768m") -> None:
        self.settings = settings
        self.heap = heap
        self.home = self.settings.state_dir / "broker"
        self.lib = self.settings.kafka_cache / "lib"

    # paths -----------------------------------------------------------------------------
    @property
    def data_dir(self) -> Path:
        return self.home / "data"

    @property
    def logs_dir(self) -> Path:
        return self.home / "logs"

    @property
    def pid_file(self) -> Path:
        return self.home / "broker.pid"

    @property
    def bootstrap(self) -> str:
        return self.settings.bootstrap

    # fetch -----------------------------------------------------------------------------
    def fetch(self) -> bool:
        """Fetch the broker jars once; True when a download happened."""
        stamp = self.lib / ".pom-sha256"
        digest = hashlib.sha256(POM.read_bytes()).hexdigest()
        if stamp.exists() and stamp.read_text() == digest:
            return False
        _require("mvn", "Maven (apt-get install maven)")
        _require("java", "Java 17 (apt-get install openjdk-17-jre-headless)")
        self.settings.kafka_cache.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(dir=self.settings.kafka_cache, prefix="lib-"))
        cmd = [
            "mvn", "-q", "-B", "-f", str(POM), "dependency:copy-dependencies",
            f"-DoutputDirectory={tmp}", "-DincludeScope=runtime",
        ]  # fmt: skip
        proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            shutil.rmtree(tmp, ignore_errors=True)
            last = (proc.stdout + proc.stderr).strip().splitlines()[-5:]
            raise BrokerError("Maven could not fetch Kafka: " + " | ".join(last))
        (tmp / ".pom-sha256").write_text(digest)
        if self.lib.exists():
            shutil.rmtree(self.lib)
        tmp.rename(self.lib)
        return True

    # lifecycle -------------------------------------------------------------------------
    def up(self, timeout: float = 90.0) -> BrokerStatus:
        """Start the broker, or reuse one that already answers on the port."""
        current = self.status()
        if current.running:
            return current
        proc = self.spawn()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise BrokerError(
                    f"broker exited with code {proc.returncode}; see {self.logs_dir}/broker.out"
                )
            if self._answers(2.0):
                return self.status()
            time.sleep(0.3)
        raise BrokerError(f"broker did not answer within {timeout:.0f}s; see {self.logs_dir}")

    def spawn(self) -> subprocess.Popen[bytes]:
        """Write the config, format storage once and start the JVM; do not wait for it (a
        cluster node answers only once a quorum of its peers is up too)."""
        self.fetch()
        _require("java", "Java 17 (apt-get install openjdk-17-jre-headless)")
        self.home.mkdir(parents=True, exist_ok=True)
        self.logs_dir.mkdir(parents=True, exist_ok=True)
        props = self._write_config()
        if not (self.data_dir / "meta.properties").exists():
            self._format(props)
        out = (self.logs_dir / "broker.out").open("ab")
        env = dict(os.environ)
        env.pop("KAFKA_OPTS", None)
        cmd = [
            "java", f"-Xmx{self.heap}", f"-Xms{self.heap}", "-XX:+UseG1GC",
            "-XX:MaxGCPauseMillis=20", "-Djava.awt.headless=true",
            f"-Dlog4j2.configurationFile={self.home / 'log4j2.properties'}",
            f"-Dkafka.logs.dir={self.logs_dir}",
            "-cp", f"{self.lib}/*", "kafka.Kafka", str(props),
        ]  # fmt: skip
        proc = subprocess.Popen(
            cmd, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            start_new_session=True, env=env, preexec_fn=_raise_open_files_limit,
        )  # fmt: skip
        out.close()
        self.pid_file.write_text(str(proc.pid))
        return proc

    def down(self, purge: bool = False, timeout: float = 60.0) -> str:
        pid = self._pid()
        said = "broker not running"
        if pid is not None and _alive(pid):
            os.killpg(pid, signal.SIGTERM)
            deadline = time.monotonic() + timeout
            while _alive(pid) and time.monotonic() < deadline:
                time.sleep(0.2)
            if _alive(pid):
                os.killpg(pid, signal.SIGKILL)
                said = f"broker (pid {pid}) killed after {timeout:.0f}s"
            else:
                said = f"broker (pid {pid}) stopped"
        self.pid_file.unlink(missing_ok=True)
        if purge and self.home.exists():
            shutil.rmtree(self.home)
            said += f"; removed {self.home}"
        return said

    def status(self) -> BrokerStatus:
        pid = self._pid()
        alive = pid is not None and _alive(pid)
        answers = self._answers(2.0)
        if answers and alive:
            detail = f"running: Kafka {KAFKA_VERSION} on {self.bootstrap} (pid {pid})"
        elif answers:
            detail = f"running: a broker answers on {self.bootstrap} (not started by regbus)"
        elif alive:
            detail = f"starting or unhealthy: pid {pid} alive but {self.bootstrap} not answering"
        else:
            detail = f"stopped: nothing answers on {self.bootstrap}"
        return BrokerStatus(answers, alive, pid if alive else None, self.bootstrap, detail)

    def log_path(self) -> Path:
        return self.logs_dir / "server.log"

    # internals -------------------------------------------------------------------------
    def _answers(self, timeout: float) -> bool:
        """Does a broker answer on our port? (The secure launcher probes with credentials.)"""
        return _answers_metadata(self.bootstrap, timeout)

    def _pid(self) -> int | None:
        try:
            return int(self.pid_file.read_text().strip())
        except (FileNotFoundError, ValueError):
            return None

    def _write_config(self) -> Path:
        port = self.settings.port
        props = broker_settings(port, port + 1, str(self.data_dir))
        path = self.home / "server.properties"
        path.write_text("".join(f"{k}={v}\n" for k, v in props.items()))
        (self.home / "log4j2.properties").write_text(_LOG4J2.format(logs=self.logs_dir))
        return path

    def _format(self, props: Path) -> None:
        cmd = [
            "java", "-Xmx256m", "-cp", f"{self.lib}/*",
            f"-Dlog4j2.configurationFile={self.home / 'log4j2.properties'}",
            "kafka.tools.StorageTool", "format", "-t", CLUSTER_ID, "-c", str(props),
        ]  # fmt: skip
        proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            raise BrokerError("formatting KRaft storage failed: " + proc.stderr.strip()[-300:])


def _raise_open_files_limit() -> None:
    """Every partition keeps a few files open; give the broker all the descriptors it may."""
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    for want in (1_048_576, hard):
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, want), max(hard, want)))
            return
        except (ValueError, OSError):
            continue


def _require(tool: str, what: str) -> None:
    if shutil.which(tool) is None:
        raise BrokerError(f"'{tool}' not found: install {what}")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie child still "exists"; treat it as dead.
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().split()[2] != "Z"
    except OSError:
        return True


def _answers_metadata(
    bootstrap: str, timeout: float, client_kwargs: dict[str, object] | None = None
) -> bool:
    """True when a Kafka broker answers a metadata request on ``bootstrap`` (``client_kwargs``:
    credentials for a secured listener)."""
    from aiokafka.client import AIOKafkaClient  # local: keep `regbus --help` fast

    async def probe() -> bool:
        client = AIOKafkaClient(
            bootstrap_servers=bootstrap,
            request_timeout_ms=int(timeout * 1000),
            **(client_kwargs or {}),
        )
        try:
            await asyncio.wait_for(client.bootstrap(), timeout)
            return bool(client.cluster.brokers())
        except Exception:
            return False
        finally:
            await client.close()

    import logging

    logging.getLogger("aiokafka").setLevel(logging.CRITICAL)
    return asyncio.run(probe())
