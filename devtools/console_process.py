"""A ``regbus console`` subprocess beside the worker (the demo starts it, prints its address)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from streams.settings import Settings

DEMO_ADMIN = ("admin", "regbus-demo")


class ConsoleProcess:
    def __init__(self, settings: Settings, log_path: Path, port: int) -> None:
        self.settings = settings
        self.log_path = log_path
        self.port = port
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def address(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    def start(self) -> ConsoleProcess:
        env = dict(os.environ)
        env.update(
            REGBUS_BOOTSTRAP=self.settings.bootstrap,
            REGBUS_TOPIC_PREFIX=self.settings.topic_prefix,
            REGBUS_STATE_DIR=str(self.settings.state_dir),
        )
        env.setdefault("REGBUS_CONSOLE_ADMIN", ":".join(DEMO_ADMIN))
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("ab") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "regbus", "console", "--port", str(self.port)],
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env=env,
                start_new_session=True,
            )
        self.pid_path.write_text(str(self.proc.pid))
        return self

    @property
    def pid_path(self) -> Path:
        return self.log_path.with_suffix(".pid")

    def stop(self, timeout: float = 15.0) -> None:
        proc = self.proc
        if proc is None or proc.poll() is not None:
            return
        try:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)
        except ProcessLookupError:
            pass
