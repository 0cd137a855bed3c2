"""Write a simulation to files: NDJSON per platform, the bureau's, raw records, ticks, and
the expected outcome (``expected.json`` plus one expected alert per line).

``<platform>.ndjson`` is exactly what ``regbus publish --platform <platform>`` reads. The
bureau's file has the same shape plus ``ce_source``. Files are written in simulated-time
order, but separately: replaying them faithfully (events before the ticks that follow them,
across topics) is what ``regbus simulate --publish`` does; the files are for inspection, for
platform-side tests of ``regbus publish``, and for other tools.
"""

from __future__ import annotations

import base64
from contextlib import ExitStack
from pathlib import Path
from typing import IO, Any

import orjson

from devtools.simulator.config import SimConfig
from devtools.simulator.generator import Simulation
from devtools.simulator.model import ExpectedAlert, Send, Sender, Tick
from devtools.simulator.outcome import ExpectedOutcome
from streams.cloudevents_headers import bureau_source
from streams.codec import EventCodec

EXPECTED = "expected.json"
EXPECTED_ALERTS = "expected-alerts.ndjson"


def _b64(data: bytes | None) -> str | None:
    return None if data is None else base64.b64encode(data).decode()


def send_line(s: Send) -> dict[str, Any]:
    """One NDJSON object for a send (the ``regbus publish`` shape for events)."""
    if s.raw is not None:
        return {
            "at": s.at.isoformat(),
            "topic": s.raw.topic,
            "key": _b64(s.raw.key),
            "value": _b64(s.raw.value),
            "headers": [[k, _b64(v)] for k, v in s.raw.headers],
            "expect": s.raw.reason.value if s.raw.reason else "DUPLICATE",
        }
    assert s.event is not None
    line: dict[str, Any] = {"type": type(s.event).__name__, **s.event.model_dump(mode="json")}
    if s.sender is Sender.BUREAU:
        line["ce_source"] = bureau_source(s.unit)
    return line


def write_expected(outcome: ExpectedOutcome, path: Path) -> None:
    path.write_bytes(orjson.dumps(outcome.to_json(), option=orjson.OPT_INDENT_2) + b"\n")


class AlertFile:
    """An expected-alert sink writing one JSON object per line."""

    def __init__(self, handle: IO[bytes]) -> None:
        self._handle = handle

    def __call__(self, alert: ExpectedAlert) -> None:
        self._handle.write(orjson.dumps(alert.to_json()) + b"\n")


def read_expected_alerts(path: Path) -> list[ExpectedAlert]:
    with path.open("rb") as fh:
        return [ExpectedAlert.from_json(orjson.loads(line)) for line in fh if line.strip()]


def write_ndjson(cfg: SimConfig, out_dir: Path, codec: EventCodec | None = None) -> ExpectedOutcome:
    """Run the simulation into ``out_dir``; returns the expected outcome (also written)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    with ExitStack() as stack:
        files: dict[str, IO[bytes]] = {}

        def sink_for(name: str) -> IO[bytes]:
            fh = files.get(name)
            if fh is None:
                fh = files[name] = stack.enter_context((out_dir / f"{name}.ndjson").open("wb"))
            return fh

        alerts = AlertFile(stack.enter_context((out_dir / EXPECTED_ALERTS).open("wb")))
        sim = Simulation(cfg, sink=alerts, codec=codec)
        for item in sim:
            if isinstance(item, Tick):
                sink_for("ticks").write(b'{"tick_at":"%s"}\n' % item.at.isoformat().encode())
                continue
            name = "raw" if item.sender is Sender.RAW else item.owner
            sink_for(name).write(orjson.dumps(send_line(item)) + b"\n")
    write_expected(sim.outcome, out_dir / EXPECTED)
    return sim.outcome
