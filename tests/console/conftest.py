"""The console under test: a real ``regbus console`` subprocess, and a headless Chromium."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from streams.settings import Settings

SCREENS = Path(__file__).resolve().parent.parent / "output" / "screens"
ADMIN = ("admin", "admin-pass-1")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class ConsoleProcess:
    def __init__(self, settings: Settings, db: Path, log: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.db = db
        self.log = log
        env = dict(os.environ)
        env.update(
            REGBUS_BOOTSTRAP=settings.bootstrap,
            REGBUS_TOPIC_PREFIX=settings.topic_prefix,
            REGBUS_STATE_DIR=str(settings.state_dir),
            REGBUS_CONSOLE_ADMIN=f"{ADMIN[0]}:{ADMIN[1]}",
            REGBUS_CONSOLE_SECRET="test-secret",
        )
        with log.open("ab") as out:
            self.proc = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "regbus",
                    "console",
                    "--port",
                    str(self.port),
                    "--db",
                    str(db),
                ],
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env=env,
                start_new_session=True,
            )

    def wait_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"console exited:\n{self.log_tail()}")
            try:
                with urllib.request.urlopen(f"{self.url}/health", timeout=2) as r:
                    if r.status == 200:
                        return
            except OSError:
                time.sleep(0.3)
        raise AssertionError(f"console not ready after {timeout}s:\n{self.log_tail()}")

    def log_tail(self) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-40:])
        except FileNotFoundError:
            return "(no log)"

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(5)


@pytest.fixture
def console_factory(settings: Settings, tmp_path: Path) -> Iterator[object]:
    started: list[ConsoleProcess] = []

    def factory() -> ConsoleProcess:
        c = ConsoleProcess(settings, tmp_path / "console.sqlite", tmp_path / "console.log")
        started.append(c)
        c.wait_ready()
        return c

    yield factory
    for c in started:
        c.stop()


@pytest.fixture
def browser() -> Iterator[object]:
    if not shutil.which("chromium") or not shutil.which("chromedriver"):
        pytest.fail("chromium / chromedriver missing: run `make setup` (.ci/browser_deps.sh)")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for arg in (
        "--headless=new",
        "--no-sandbox",
        "--disable-dev-shm-usage",
        "--window-size=1440,900",
        "--lang=zh-CN",
        "--disable-gpu",
    ):
        options.add_argument(arg)
    driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
    # The viewport (what a screenshot shows) is 1440×900, not the outer window.
    driver.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {"width": 1440, "height": 900, "deviceScaleFactor": 1, "mobile": False},
    )
    driver.set_page_load_timeout(30)
    SCREENS.mkdir(parents=True, exist_ok=True)
    try:
        yield driver
    finally:
        driver.quit()
