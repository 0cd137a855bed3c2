"""The README's command blocks, run literally against the real broker.

Every ```bash block of README.md is run line by line with bash, in a scratch folder that
holds the repository's ``examples/``, on a fresh topic prefix, with a worker running (as the
README tells the reader to have). A line may need a moment for the worker to catch up, so
each is retried (bounded) until it exits 0; a line with ``--json`` must print JSON (one
document, or NDJSON). The ```sh block (``make demo`` / ``make test``) is what runs this test,
so it is not run here.
"""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from devtools.worker_process import WorkerProcess
from streams.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
pytestmark = [pytest.mark.broker, pytest.mark.slow]


def bash_lines(text: str) -> list[str]:
    lines: list[str] = []
    for block in re.findall(r"^```bash\n(.*?)^```", text, flags=re.S | re.M):
        lines += [line for line in block.splitlines() if line.strip()]
    return lines


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _parse_json(text: str) -> None:
    try:
        json.loads(text)
    except json.JSONDecodeError:
        for line in text.splitlines():
            json.loads(line)


def test_readme_has_runnable_blocks() -> None:
    lines = bash_lines(README.read_text(encoding="utf-8"))
    assert len(lines) >= 10, lines
    assert any("--json" in line for line in lines)


def test_readme_commands_run_literally(bootstrap: str, tmp_path: Path) -> None:
    settings = Settings(
        bootstrap=bootstrap, topic_prefix=f"readme-{uuid.uuid4().hex[:8]}",
        state_dir=tmp_path / "state",
    )  # fmt: skip
    port = _free_port()
    work = tmp_path / "work"
    work.mkdir()
    (work / "examples").symlink_to(ROOT / "examples")
    env = {
        **os.environ,
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        "REGBUS_BOOTSTRAP": settings.bootstrap,
        "REGBUS_TOPIC_PREFIX": settings.topic_prefix,
        "REGBUS_STATE_DIR": str(settings.state_dir),
        "REGBUS_API_URL": f"http://127.0.0.1:{port}",
        "USER": "readme",
    }
    lines = bash_lines(README.read_text(encoding="utf-8"))
    worker: WorkerProcess | None = None
    try:
        for line in lines:
            if worker is None and not line.startswith("regbus platform add"):
                worker = WorkerProcess(settings, tmp_path / "worker.log", port).start()
            exported = re.match(r"^export ([A-Z_]+)=(.*)$", line)
            if exported:  # keep the variable for the lines after it, as a shell session would
                name, value = exported.groups()
                done = subprocess.run(
                    ["bash", "-c", f"printf '%s' {value}"], cwd=work, env=env,
                    capture_output=True, text=True, timeout=120,
                )  # fmt: skip
                assert done.returncode == 0 and done.stdout, f"{line}\n{done.stderr}"
                env[name] = done.stdout
                continue
            deadline = time.monotonic() + 120
            while True:
                done = subprocess.run(
                    ["bash", "-c", f"set -o pipefail; {line}"], cwd=work, env=env,
                    capture_output=True, text=True, timeout=120,
                )  # fmt: skip
                if done.returncode == 0 or time.monotonic() > deadline:
                    break
                time.sleep(1.0)
            assert done.returncode == 0, f"{line}\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}"
            if "--json" in line:
                _parse_json(done.stdout)
    finally:
        if worker is not None:
            worker.stop()
