"""``regbus worker``: run the bureau's Faust worker."""

from __future__ import annotations

import logging
from typing import Any

import typer

from agents.app import WorkerOptions, create_app
from agents.runtime import tune_gc
from streams.settings import Settings


def worker_command(
    clock: str = typer.Option("wall", help="wall: publish ticks from real time; external: don't"),
    tick_interval: float = typer.Option(5.0, help="seconds between wall-clock ticks"),
    store: str = typer.Option(
        "rocksdb://", help="table store: rocksdb:// (RocksDB via rocksdict) or memory://"
    ),
    web_port: int = typer.Option(6066, help="HTTP API port (127.0.0.1)"),
    no_web: bool = typer.Option(False, "--no-web", help="do not start the HTTP API"),
    web_bind: str = typer.Option(
        "127.0.0.1", help="HTTP API address (0.0.0.0 only inside a container)"
    ),
    loglevel: str = typer.Option("warning", help="worker log level"),
) -> None:
    """Run the bureau worker: ingress, case agents, SLA timers, alerts, HTTP API."""
    if clock not in ("wall", "external"):
        raise typer.BadParameter("--clock must be 'wall' or 'external'")
    options = WorkerOptions(
        clock=clock, tick_interval=tick_interval, store=store, web_enabled=not no_web,
        web_port=web_port, web_bind=web_bind,
    )  # fmt: skip
    run_worker(Settings.from_env(), options, loglevel)


def run_worker(settings: Settings, options: WorkerOptions, loglevel: str = "warning") -> None:
    from faust.worker import Worker

    app: Any = create_app(settings, options)
    tune_gc()
    logging.getLogger("aiokafka").setLevel(logging.ERROR)
    Worker(app, loglevel=loglevel, quiet=True).execute_from_commandline()
