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
    case_partitions: int = typer.Option(0, help="partitions per case topic (0: the default)"),
) -> None:
    """Run the bureau worker: ingress, case agents, SLA timers, alerts, HTTP API."""
    if clock not in ("wall", "external"):
        raise typer.BadParameter("--clock must be 'wall' or 'external'")
    options = WorkerOptions(
        clock=clock, tick_interval=tick_interval, store=store, web_enabled=not no_web,
        web_port=web_port, web_bind=web_bind, notify=notifier_settings_from_env(),
        case_partitions=case_partitions or None,
    )  # fmt: skip
    run_worker(Settings.from_env(), options, loglevel)


def notifier_settings_from_env(env: dict[str, str] | None = None) -> Any:
    """REGBUS_NOTIFY_WEBHOOK_URL / _SECRET, REGBUS_SMTP_HOST / _PORT / _FROM / _USER /
    _PASSWORD / _STARTTLS, REGBUS_NOTIFY_ATTEMPTS / _BACKOFF; None when neither endpoint is set."""
    import os

    from agents.notifier import NotifierSettings

    e = os.environ if env is None else env
    if not (e.get("REGBUS_NOTIFY_WEBHOOK_URL") or e.get("REGBUS_SMTP_HOST")):
        return None
    return NotifierSettings(
        webhook_url=e.get("REGBUS_NOTIFY_WEBHOOK_URL") or None,
        webhook_secret=e.get("REGBUS_NOTIFY_WEBHOOK_SECRET", ""),
        smtp_host=e.get("REGBUS_SMTP_HOST") or None,
        smtp_port=int(e.get("REGBUS_SMTP_PORT", "25")),
        smtp_sender=e.get("REGBUS_SMTP_FROM", "regbus@localhost"),
        smtp_username=e.get("REGBUS_SMTP_USER") or None,
        smtp_password=e.get("REGBUS_SMTP_PASSWORD") or None,
        smtp_starttls=e.get("REGBUS_SMTP_STARTTLS", "") in ("1", "true", "yes"),
        max_attempts=int(e.get("REGBUS_NOTIFY_ATTEMPTS", "4")),
        backoff=float(e.get("REGBUS_NOTIFY_BACKOFF", "0.5")),
    )


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
