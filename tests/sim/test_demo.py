"""``regbus demo`` end to end (a short month), and Ctrl-C leaving no worker behind."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

pytestmark = [pytest.mark.broker, pytest.mark.slow]


def _demo(tmp_path: Path, *args: str) -> subprocess.Popen[str]:
    # The project's own state directory: the demo's broker check must find the shared broker
    # (a state directory of its own would make it start a second one if the first is slow).
    env = dict(os.environ)
    cmd = [sys.executable, "-m", "regbus", "demo", "--no-live", "--prefix",
           f"tdemo{uuid.uuid4().hex[:8]}", "--out", str(tmp_path / "out"), *args]  # fmt: skip
    return subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True)  # fmt: skip


def _gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


def test_short_demo_matches_its_prediction_and_writes_the_report(bootstrap, tmp_path) -> None:
    proc = _demo(tmp_path, "--fast", "--days", "3")
    output, _ = proc.communicate(timeout=240)
    assert proc.returncode == 0, output
    summary = json.loads((tmp_path / "out" / "demo-summary.json").read_text())
    assert summary["match"] is True, output
    assert summary["governance"] == {"match": True, "differences": []}, output
    assert summary["missing_count"] == 0 and summary["unexpected_count"] == 0, output
    cards = summary["scorecards"]
    assert cards["match"] is True and cards["differences"] == [], output
    assert (cards["from"], cards["to"]) == ("2026-09-18", "2026-09-20")  # the three days
    assert cards["system"] == cards["expected"]
    assert sum(c["complaints"] for c in cards["system"].values()) > 50
    assert "scorecards of 2026-09-18 – 2026-09-20 equal the simulator's" in output
    assert summary["expected"]["total"] > 50
    assert "exactly the" in output and "alerts the simulator predicted" in output
    # every inbox and every notification as predicted; local receivers got each one once
    deliveries = summary["deliveries"]
    assert deliveries["match"] is True, deliveries
    assert deliveries["inbox"]["system"] == deliveries["inbox"]["expected"]
    sent = deliveries["notifications"]
    assert sent["delivered"] == sent["expected"] > 0 and sent["received_twice"] == 0, sent
    report = summary["audit_report"]
    if report is not None:  # the audit package is another issue; the demo runs without it
        assert Path(report).is_file()
        audit = json.loads((tmp_path / "out" / "report.json").read_text())
        rec = audit["reconciliation"]  # the regulator's signals and interviews in scope too
        assert rec["healthy"] and "InterviewRecommended" in rec["scope"]["alert_types"], rec
        assert audit["summary"]["signals"] > 0 and rec["out_of_scope"] == 0
    worker_pid = int((tmp_path / "out" / "worker.pid").read_text())
    assert _gone(worker_pid)


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_ctrl_c_stops_the_demo_and_its_worker(bootstrap, tmp_path, sig) -> None:
    proc = _demo(tmp_path, "--fast")
    pid_file = tmp_path / "out" / "worker.pid"
    deadline = time.monotonic() + 120
    assert proc.stdout is not None
    while True:  # wait until the month is under way
        line = proc.stdout.readline()
        assert line, "the demo ended before the simulation started"
        if line.strip().startswith("day 1/"):
            break
        assert time.monotonic() < deadline, "the simulation did not start"
    worker_pid = int(pid_file.read_text())
    console_pid = int((tmp_path / "out" / "console.pid").read_text())
    assert not _gone(worker_pid) and not _gone(console_pid)
    proc.send_signal(sig)
    rest, _ = proc.communicate(timeout=60)
    assert proc.returncode == 130, rest
    assert "interrupted" in rest
    assert _gone(worker_pid), "the worker outlived the demo"
    assert _gone(console_pid), "the console outlived the demo"
