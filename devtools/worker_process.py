"""A ``regbus worker --clock external`` subprocess for the demo, the benchmarks and the tests.

It runs in its own session (process group), so stopping it stops everything it started, and
a Ctrl-C in the terminal reaches the demo, which then stops the worker itself (no orphans).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

from streams.settings import Settings


class WorkerProcess:
    def __init__(
        self,
        settings: Settings,
        log_path: Path,
        web_port: int | None = None,
        args: Sequence[str] | None = None,
        env: Mapping[str, str] | None = None,
    ) -> None:
        """``args``: the worker's own options (web, store…); default: an in-memory store and
        the HTTP API on ``web_port``, or none. ``env``: more environment (e.g. notifier
        endpoints)."""
        self.settings = settings
        self.log_path = log_path
        self.web_port = web_port
        self.args = list(args) if args is not None else None
        self.proc: subprocess.Popen[bytes] | None = None
        self.env = dict(env or {})

    def start(self) -> WorkerProcess:
        env = dict(os.environ)
        env.update(self.settings.to_env())
        env.update(self.env)
        web = ["--no-web"] if self.web_port is None else ["--web-port", str(self.web_port)]
        args = self.args if self.args is not None else web
        cmd = [
            sys.executable,
            "-m",
            "regbus",
            "worker",
            "--clock",
            "external",
            "--store",
            "memory://",
            "--loglevel",
            "info",
            *args,
        ]
        self.settings.state_dir.mkdir(parents=True, exist_ok=True)
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("ab") as log:
            self.proc = subprocess.Popen(
                cmd,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env=env,
                start_new_session=True,  # its own group: the terminal's Ctrl-C reaches us only
            )
        # For operators (and the Ctrl-C test): which process to look for.
        self.pid_path.write_text(str(self.proc.pid))
        return self

    @property
    def pid_path(self) -> Path:
        return self.log_path.with_suffix(".pid")

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def kill(self, sig: int = signal.SIGKILL, timeout: float = 20.0) -> None:
        """Signal the worker's process group; SIGKILL it if it does not go in time."""
        proc = self.proc
        if proc is None or proc.poll() is not None:
            return
        try:
            os.killpg(proc.pid, sig)
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)
        except ProcessLookupError:
            pass

    def stop(self, timeout: float = 20.0) -> None:
        """SIGTERM, then SIGKILL after ``timeout`` seconds."""
        self.kill(signal.SIGTERM, timeout)

    def log_milestones(self, lines: int = 40) -> str:
        """The log's start-up and rebalance lines, with their times: a slow start and a stall
        read differently here, where the tail shows only the last moment."""
        try:
            text = self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return "(no worker log)"
        marks = ("Ready", "ready", "ebalanc", "ssign", "Crashed", "ERROR", "Elected")
        hits = [line for line in text.splitlines() if any(m in line for m in marks)]
        return "\n".join(hits[-lines:])

    def log_tail(self, lines: int = 30) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return "(no worker log)"
        return "\n".join(text.splitlines()[-lines:])
