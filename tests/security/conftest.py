"""The secure broker: a separate KRaft instance, started once per session and stopped at the end.

It never touches the plain broker (``.regbus/broker``, port 19092): its state lives in a
session temp dir and it listens on a free port pair (or ``REGBUS_TEST_SECURE_PORT`` and the
port after it). Connections are re-authenticated every few seconds so the rotation test can
observe an old session being cut off without a long wait.
"""

from __future__ import annotations

import os
import socket
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from security_probes import REAUTH_MS, REPORTS, create_topics

from devtools.broker.secure import SecureBrokerLauncher
from streams.security import ClientCredentials, credentials_from_env
from streams.settings import Settings
from streams.topics import Catalogue


def _free_port_pair() -> int:
    for _ in range(50):
        with socket.socket() as a:
            a.bind(("127.0.0.1", 0))
            port = a.getsockname()[1]
            with socket.socket() as b:
                try:
                    b.bind(("127.0.0.1", port + 1))
                except OSError:
                    continue
            return port
    raise RuntimeError("no two consecutive free ports on 127.0.0.1")


@pytest.fixture(scope="session")
def secure_broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SecureBrokerLauncher]:
    port = int(os.environ.get("REGBUS_TEST_SECURE_PORT", "0")) or _free_port_pair()
    state = tmp_path_factory.mktemp("secure-state")
    launcher = SecureBrokerLauncher(
        Settings(state_dir=state),
        heap="384m",
        port=port,
        controller_port=port + 1,
        reauth_ms=REAUTH_MS,
    )
    status = launcher.up(timeout=120)
    assert status.running, status.detail
    yield launcher
    launcher.down(purge=True)


@pytest.fixture(scope="session")
def admin_credentials(secure_broker: SecureBrokerLauncher) -> ClientCredentials:
    return credentials_from_env(secure_broker.credentials_env())


@pytest.fixture
def secure_settings(secure_broker: SecureBrokerLauncher, prefix: str, tmp_path: Path) -> Settings:
    return Settings(
        bootstrap=secure_broker.bootstrap, topic_prefix=prefix, state_dir=tmp_path / "state"
    )


@pytest.fixture
async def two_platforms(
    secure_settings: Settings, admin_credentials: ClientCredentials
) -> AsyncIterator[Catalogue]:
    """A deployment with platforms A and B (ids unique to the test), topics created."""
    tag = secure_settings.topic_prefix[-6:]
    cat = Catalogue(secure_settings.topic_prefix).with_platforms([f"a{tag}", f"b{tag}"])
    await create_topics(secure_settings.bootstrap, admin_credentials, cat.specs())
    yield cat


def pytest_terminal_summary(terminalreporter) -> None:  # type: ignore[no-untyped-def]
    for title, text in REPORTS:
        terminalreporter.write_sep("-", title)
        terminalreporter.write_line(text)
