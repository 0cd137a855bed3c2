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
    loglevel: str = typer.Option("warning", help="worker log level"),
    case_partitions: int = typer.Option(0, help="partitions per case topic (0: the default)"),
) -> None:
    """Run the bureau worker: ingress, case agents, SLA timers, alerts, HTTP API."""
    if clock not in ("wall", "external"):
        raise typer.BadParameter("--clock must be 'wall' or 'external'")
    options = WorkerOptions(
        clock=clock, tick_interval=tick_interval, store=store, web_enabled=not no_web,
        web_port=web_port, case_partitions=case_partitions or None,
    )  # fmt: skip
    run_worker(Settings.from_env(), options, loglevel)


def run_worker(settings: Settings, options: WorkerOptions, loglevel: str = "warning") -> None:
    app: Any = create_app(settings, options)
    tune_gc()
    logging.getLogger("aiokafka").setLevel(logging.ERROR)
    make_faust_worker(app, loglevel).execute_from_commandline()


def make_faust_worker(app: Any, loglevel: str) -> Any:
    """Faust's worker without its terminal spinner.

    At a level of WARNING or above, Faust's worker attaches a spinner handler at DEBUG and
    sets the ROOT logger to DEBUG (``Worker._setup_spinner_handler``), so every
    ``logger.debug`` on Faust's and aiokafka's hot paths (``Topic.publish_message`` logs each
    send) built a ``LogRecord`` that no handler printed: ~9 % of the worker's time. Without the
    spinner, the root logger stays at ``loglevel``."""
    from faust.worker import Worker

    worker = Worker(app, loglevel=loglevel, quiet=True)
    worker.spinner = None
    return worker
