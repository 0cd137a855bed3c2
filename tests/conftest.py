"""Shared fixtures: the project's real broker (started or reused) and per-test topic names."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

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
    return launcher.bootstrap


@pytest.fixture
def prefix() -> str:
    """A topic-name prefix unique to this test: its topics and groups touch no other test."""
    return f"t{uuid.uuid4().hex[:12]}"


@pytest.fixture
def settings(bootstrap: str, prefix: str, tmp_path) -> Settings:  # type: ignore[no-untyped-def]
    return Settings(bootstrap=bootstrap, topic_prefix=prefix, state_dir=tmp_path / "state")


@pytest.fixture
async def catalogue(settings: Settings) -> AsyncIterator[Catalogue]:
    from streams.admin import ensure_topics

    cat = Catalogue(settings.topic_prefix)
    await ensure_topics(settings.bootstrap, cat.specs())
    yield cat
