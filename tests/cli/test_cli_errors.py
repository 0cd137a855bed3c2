"""An unreachable registry or broker is one line and exit 1, never a traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _run(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "regbus", *args], cwd=ROOT, capture_output=True, text=True,
        env={**os.environ, **env}, timeout=120,
    )  # fmt: skip


def test_a_registry_pointing_nowhere_is_one_line() -> None:
    done = _run(
        "publish", "--platform", "acme", "examples/acme-events.ndjson",
        SCHEMA_REGISTRY_URL="http://127.0.0.1:1",
    )  # fmt: skip
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "schema registry at http://127.0.0.1:1" in lines[0], lines
