"""Shared fixtures: the project's real broker (started or reused) and per-test topic names."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import pytest

from devtools.broker import BrokerLauncher
from devtools.worker_process import WorkerProcess
from streams.settings import Settings
from streams.topics import Catalogue


@pytest.fixture(scope="session")
def bootstrap() -> str:
    """Start the project's broker once per session, or reuse the one already running."""
    launcher = BrokerLauncher(Settings.from_env())
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

    cat = Catalogue.from_settings(settings)
    await ensure_topics(settings.bootstrap, cat.specs())
    yield cat


@pytest.fixture
def worker_factory(settings: Settings, tmp_path: Path) -> Iterator[Callable[..., WorkerProcess]]:
    """Start workers for this test; every one is stopped at teardown."""
    started: list[WorkerProcess] = []

    def factory(*extra_args: str, name: str = "worker") -> WorkerProcess:
        w = WorkerProcess(settings, tmp_path / f"{name}.log", args=extra_args).start()
        started.append(w)
        return w

    yield factory
    for w in started:
        w.stop()
