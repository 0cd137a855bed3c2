"""Fixtures for the contract suite: the official AsyncAPI CLI, installed once per checkout.

The CLI comes from npm into ``.regbus/node`` (ignored by git). It is pinned to the newest
release that still runs on Node 20 (5.x and later need Node 24). The first run takes about a
minute; later runs reuse the install. Without npm the AsyncAPI tests fail (never skip): the
generated document must be checked by the official validator.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from streams.settings import PROJECT_ROOT

ASYNCAPI_CLI_VERSION = "4.1.1"
NODE_DIR = PROJECT_ROOT / ".regbus" / "node"


@dataclass(frozen=True)
class AsyncApiCli:
    executable: Path
    env: dict[str, str]

    def validate(self, document: Path) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(self.executable), "validate", str(document), "--fail-severity", "error"],
            capture_output=True,
            text=True,
            env=self.env,
            timeout=180,
            check=False,
        )


def _installed_version() -> str | None:
    manifest = NODE_DIR / "node_modules" / "@asyncapi" / "cli" / "package.json"
    if not manifest.exists():
        return None
    return str(json.loads(manifest.read_text())["version"])


def _install() -> None:
    npm = shutil.which("npm")
    if npm is None:
        pytest.fail(
            "npm is not on PATH: the AsyncAPI document is validated with the official "
            "@asyncapi/cli from npm; install Node.js 20+ with npm (e.g. apt-get install npm)"
        )
    NODE_DIR.mkdir(parents=True, exist_ok=True)
    # Two pytest processes may race to install; the lock makes the second wait and reuse.
    with open(NODE_DIR / ".install.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if _installed_version() == ASYNCAPI_CLI_VERSION:
            return
        result = subprocess.run(
            [
                npm,
                "install",
                "--prefix",
                str(NODE_DIR),
                "--no-audit",
                "--no-fund",
                f"@asyncapi/cli@{ASYNCAPI_CLI_VERSION}",
            ],
            capture_output=True,
            text=True,
            timeout=900,
            check=False,
        )
        if result.returncode != 0 or _installed_version() != ASYNCAPI_CLI_VERSION:
            pytest.fail(
                f"npm install @asyncapi/cli@{ASYNCAPI_CLI_VERSION} failed "
                f"(exit {result.returncode}):\n{result.stdout[-2000:]}\n{result.stderr[-2000:]}"
            )


@pytest.fixture(scope="session")
def asyncapi_cli() -> AsyncApiCli:
    if _installed_version() != ASYNCAPI_CLI_VERSION:
        _install()
    executable = NODE_DIR / "node_modules" / ".bin" / "asyncapi"
    # Keep the CLI quiet and offline: no usage metrics, no analytics file in $HOME.
    analytics = NODE_DIR / "asyncapi-analytics.json"
    analytics.write_text(
        json.dumps({"analyticsEnabled": "false", "infoMessageShown": "true", "userID": "regbus"})
    )
    env = {**os.environ, "ASYNCAPI_METRICS_CONFIG_PATH": str(analytics), "CI": "true"}
    return AsyncApiCli(executable, env)
