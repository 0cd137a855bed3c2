"""``regbus demo``: broker, worker and a simulated month, checked against the prediction."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import typer

from devtools.demo import DEFAULT_PACE, run_demo
from devtools.simulator.config import DEFAULT_DAYS, DEFAULT_SEED, DEFAULT_START, SimConfig
from devtools.simulator.publish import check_window
from streams.settings import Settings


def demo_command(
    seed: int = typer.Option(DEFAULT_SEED, help="simulation seed"),
    platforms: int = typer.Option(5, help="simulated platforms (5 covers every profile)"),
    days: int = typer.Option(DEFAULT_DAYS, help="simulated days"),
    scale: float = typer.Option(1.0, help="volume multiplier"),
    start: str = typer.Option(DEFAULT_START.isoformat(), help="first simulated day"),
    prefix: str | None = typer.Option(
        None, help="topic prefix (default: a fresh demo-<timestamp>); reuse one to review it"
    ),
    fast: bool = typer.Option(False, "--fast", help="no pacing: as fast as the worker routes"),
    pace: float = typer.Option(DEFAULT_PACE, help="wall seconds per simulated hour"),
    out: Path | None = typer.Option(None, help="where to write the report and the summary"),
    live: bool = typer.Option(True, "--live/--no-live", help="the live alert view (needs a tty)"),
    audit: bool = typer.Option(True, "--audit/--no-audit", help="replay into the audit report"),
) -> None:
    """Run a simulated month through broker, worker and alerts, then print the summary."""
    try:
        cfg = SimConfig(
            seed=seed, platforms=platforms, days=days, scale=scale, start=date.fromisoformat(start)
        )
        check_window(cfg)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None
    code = run_demo(Settings.from_env(), cfg, prefix, 0.0 if fast else pace, out, live, audit)
    raise typer.Exit(code)
