"""Shared fixtures: the project's real broker (started or reused) and per-test topic names."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import pytest

from regbus.config import Settings
from streams.broker import BrokerLauncher
from streams.topics import Catalogue


@pytest.fixture(scope="session")
def bootstrap() -> str:
    """Start the project's broker once per session, or reuse the one already running."""
    launcher = BrokerLauncher()
    status = launcher.up()
    assert status.running, status.detail
    _wait_for_group_coordinator(launcher.bootstrap)
    return launcher.bootstrap


def _wait_for_group_coordinator(bootstrap: str, timeout: float = 60.0) -> None:
    """A fresh broker creates __consumer_offsets on first use; wait until groups work."""
    import asyncio
    import time

    from aiokafka.admin import AIOKafkaAdminClient

    async def ready() -> bool:
        admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
        await admin.start()
        try:
            await admin.list_consumer_group_offsets("regbus-test-warmup")
            return True
        except Exception:
            return False
        finally:
            await admin.close()

    deadline = time.monotonic() + timeout
    while not asyncio.run(ready()):
        if time.monotonic() > deadline:
            raise AssertionError(f"no group coordinator on {bootstrap} after {timeout:.0f}s")
        time.sleep(0.5)


@pytest.fixture
def prefix(request: pytest.FixtureRequest) -> Iterator[str]:
    """A topic-name prefix unique to this test: its topics and groups touch no other test.

    The test's topics are deleted afterwards (its workers are stopped by then), so a long
    session does not leave the broker with tens of thousands of partitions."""
    name = f"t{uuid.uuid4().hex[:12]}"
    yield name
    if "bootstrap" in request.fixturenames:
        import asyncio

        from streams.admin import delete_topics_with_prefix

        bootstrap = request.getfixturevalue("bootstrap")
        try:
            asyncio.run(delete_topics_with_prefix(bootstrap, name))
        except RuntimeError:  # inside a running loop (async test teardown): use a thread
            import threading

            t = threading.Thread(
                target=lambda: asyncio.run(delete_topics_with_prefix(bootstrap, name))
            )
            t.start()
            t.join(60)


@pytest.fixture
def settings(bootstrap: str, prefix: str, tmp_path) -> Settings:  # type: ignore[no-untyped-def]
    return Settings(bootstrap=bootstrap, topic_prefix=prefix, state_dir=tmp_path / "state")


@pytest.fixture
async def catalogue(settings: Settings) -> AsyncIterator[Catalogue]:
    from streams.admin import ensure_topics

    cat = Catalogue(settings.topic_prefix)
    await ensure_topics(settings.bootstrap, cat.specs())
    yield cat


class WorkerProcess:
    """A real ``regbus worker`` subprocess on this test's topics (killable, restartable)."""

    def __init__(self, settings: Settings, log_path: Path, extra_args: list[str]) -> None:
        self.settings = settings
        self.log_path = log_path
        self.extra_args = extra_args
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> WorkerProcess:
        env = dict(os.environ)
        env.update(
            REGBUS_BOOTSTRAP=self.settings.bootstrap,
            REGBUS_TOPIC_PREFIX=self.settings.topic_prefix,
            REGBUS_STATE_DIR=str(self.settings.state_dir),
        )
        cmd = [
            sys.executable, "-m", "regbus", "worker", "--clock", "external",
            "--store", "memory://", "--loglevel", "info", *self.extra_args,
        ]  # fmt: skip
        log = self.log_path.open("ab")
        self.proc = subprocess.Popen(
            cmd, stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True
        )
        return self

    def kill(self, sig: int = signal.SIGKILL) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, sig)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)

    def stop(self) -> None:
        self.kill(signal.SIGTERM)

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except FileNotFoundError:
            return "(no worker log)"


@pytest.fixture
def worker_factory(settings: Settings, tmp_path: Path) -> Iterator[Callable[..., WorkerProcess]]:
    """Start workers for this test; every one is stopped at teardown."""
    started: list[WorkerProcess] = []

    def factory(*extra_args: str, name: str = "worker") -> WorkerProcess:
        w = WorkerProcess(settings, tmp_path / f"{name}.log", list(extra_args)).start()
        started.append(w)
        return w

    yield factory
    for w in started:
        w.stop()
