"""``regbus simulate``: a seeded month of platform and bureau traffic, with expected outcomes.

    regbus simulate --seed 8 --platforms 5 --days 30 --scale 1            # dry run: summary
    regbus simulate --ndjson out/                                         # files per platform
    regbus simulate --publish                                             # to a running worker

With ``--publish`` a worker must run on the same prefix with ``--clock external`` (the
simulator publishes the ticks); see docs/demo.md. The expected outcome comes from the
simulator's own bookkeeping, never from the system, so it can be compared with what the
system raised.
"""

from __future__ import annotations

import asyncio
import contextlib
from datetime import date
from pathlib import Path

import typer
from rich.console import Console

from devtools.simulator.config import DEFAULT_DAYS, DEFAULT_SEED, DEFAULT_START, SimConfig
from devtools.simulator.files import EXPECTED, EXPECTED_ALERTS, AlertFile, write_expected
from devtools.simulator.generator import Simulation
from devtools.simulator.outcome import ExpectedOutcome
from devtools.simulator.report import (
    by_rule_table,
    dead_letter_table,
    scorecard_table,
    summary_console,
)
from streams.settings import Settings

console = summary_console()
err_console = Console(stderr=True)


def make_config(
    seed: int, platforms: int, days: int, scale: float, start: str, tick_minutes: int
) -> SimConfig:
    try:
        return SimConfig(
            seed=seed,
            platforms=platforms,
            days=days,
            scale=scale,
            start=date.fromisoformat(start),
            tick_minutes=tick_minutes,
        )
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None


def print_summary(outcome: ExpectedOutcome) -> None:
    data = outcome.to_json()
    ev = data["events"]
    console.print(
        f"[bold]{ev['sent']:,}[/bold] records ({ev['routed']:,} valid events, "
        f"{ev['dead_lettered']:,} malformed or spoofed, {ev['duplicates']:,} resends), "
        f"{data['window']['ticks']:,} ticks from {outcome.cfg.start} to "
        f"{outcome.cfg.end_date} (Beijing); expected alerts: {data['alerts']['total']:,}"
    )
    console.print(scorecard_table(data))
    console.print(by_rule_table(data["alerts"]["by_rule"]))
    console.print(dead_letter_table(data["dead_letters"]))


def simulate_command(
    seed: int = typer.Option(DEFAULT_SEED, help="random seed: same seed, same bytes"),
    platforms: int = typer.Option(5, help="how many platforms (5 covers every profile)"),
    days: int = typer.Option(DEFAULT_DAYS, help="simulated days"),
    scale: float = typer.Option(1.0, help="volume multiplier (1 ≈ 5,000 records a month)"),
    start: str = typer.Option(DEFAULT_START.isoformat(), help="first day (Beijing time)"),
    tick_minutes: int = typer.Option(60, help="simulated minutes between clock ticks"),
    ndjson: Path | None = typer.Option(None, help="write NDJSON files into this directory"),
    publish: bool = typer.Option(False, "--publish", help="publish to the running system"),
    expected: Path | None = typer.Option(
        None, help="where to write the expected outcome (default: next to the output)"
    ),
    pace: float = typer.Option(0.0, help="--publish: minimum wall seconds per tick"),
) -> None:
    """Generate a reproducible stream of complaints, refunds, spot checks and bad records."""
    cfg = make_config(seed, platforms, days, scale, start, tick_minutes)
    if ndjson is not None and publish:
        raise typer.BadParameter("choose one of --ndjson and --publish")
    if ndjson is not None:
        from devtools.simulator.files import write_ndjson

        outcome = write_ndjson(cfg, ndjson)
        print_summary(outcome)
        console.print(f"files in {ndjson}/ ({EXPECTED}, {EXPECTED_ALERTS}, <platform>.ndjson …)")
        return
    settings = Settings.from_env()
    target = expected
    if target is None and publish:
        target = settings.state_dir / "sim" / settings.topic_prefix / EXPECTED
    with contextlib.ExitStack() as stack:
        sink = None
        if target is not None:
            target.parent.mkdir(parents=True, exist_ok=True)
            sink = AlertFile(stack.enter_context(target.with_name(EXPECTED_ALERTS).open("wb")))
        sim = Simulation(cfg, sink=sink)
        if publish:
            _publish(settings, cfg, sim, pace)
        else:
            for _ in sim:
                pass
    print_summary(sim.outcome)
    if target is not None:
        write_expected(sim.outcome, target)
        console.print(f"expected outcome: {target} (and {EXPECTED_ALERTS} beside it)")


def _publish(settings: Settings, cfg: SimConfig, sim: Simulation, pace: float) -> None:
    from devtools.simulator.publish import (
        PublishStats,
        RoutingStalledError,
        check_window,
        prepare,
        publish_simulation,
    )

    try:
        check_window(cfg)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None

    def show(stats: PublishStats) -> None:
        if stats.ticks % 24 == 0 and stats.sim_time is not None:
            console.print(
                f"  {stats.sim_time:%Y-%m-%d %H:%M} UTC  sent {stats.sent:,}  "
                f"routed {stats.routed:,}  ticks {stats.ticks:,}  {stats.elapsed:.0f}s"
            )

    async def main() -> None:
        await prepare(settings, cfg)
        await publish_simulation(settings, sim, cfg, progress=show, pace=pace)

    try:
        asyncio.run(main())
    except RoutingStalledError as exc:
        err_console.print(str(exc))
        raise typer.Exit(1) from None
