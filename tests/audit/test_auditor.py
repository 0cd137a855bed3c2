"""The worker's optional checkpoint timer (agents/auditor.py): leader-only, same code as the CLI."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from agents import auditor
from bench.bench_replay import produce_all, workload
from streams.ledger.checkpoints import read_checkpoints
from streams.ledger.signing import ENV_KEY, generate


class _FakeApp:
    def __init__(self) -> None:
        self.timers: list[tuple[float, dict[str, Any], Any]] = []

    def timer(self, interval: float, **kw: Any) -> Any:
        def register(fn: Any) -> Any:
            self.timers.append((interval, kw, fn))
            return fn

        return register


async def test_timer_publishes_signed_checkpoints(settings, catalogue, tmp_path, monkeypatch):
    key_path, _pub = generate(tmp_path / "k.pem")
    monkeypatch.setenv(ENV_KEY, str(key_path))
    monkeypatch.setenv(auditor.ENV_INTERVAL, "7")
    app = _FakeApp()
    auditor.attach(app, settings, catalogue, None)
    ((interval, kw, fn),) = app.timers
    assert interval == 7 and kw["on_leader"] is True

    await produce_all(settings.bootstrap, workload(catalogue, 80, 0.5, timedelta(minutes=5)))
    await fn()
    stored, _bad = await read_checkpoints(settings, catalogue)
    assert stored and all(s.checkpoint.signature for s in stored)
    await fn()  # nothing new: nothing published
    assert len((await read_checkpoints(settings, catalogue))[0]) == len(stored)


def test_interval_zero_disables_the_timer(settings, catalogue, monkeypatch) -> None:
    monkeypatch.setenv(auditor.ENV_INTERVAL, "0")
    app = _FakeApp()
    auditor.attach(app, settings, catalogue, None)
    assert app.timers == []
