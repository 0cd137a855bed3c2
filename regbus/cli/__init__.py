"""The ``regbus`` command line: one typer app that mounts the sub-apps of each package.

Each sub-app lives next to the code it drives; this module only mounts them, importing
lazily so that ``regbus --help`` stays fast and a broken optional part cannot break the rest.
"""

from __future__ import annotations

import importlib
from typing import Any

import typer

app = typer.Typer(
    name="regbus",
    help="Event backbone between online platforms and the market-supervision bureau.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)

# (command name, module, attribute): a typer.Typer mounted as a group, or a function
# registered as a single command.
_GROUPS: list[tuple[str, str, str]] = [
    ("broker", "regbus.cli.broker", "app"),
    ("topics", "regbus.cli.topics", "app"),
    ("calendar", "regbus.cli.calendar", "app"),
    ("alerts", "regbus.cli.alerts", "app"),
    ("schemas", "regbus.cli.schemas", "app"),
    ("platform", "regbus.cli.platform", "app"),
    ("deadletter", "regbus.cli.deadletter", "app"),
    ("audit", "regbus.cli.audit", "app"),
    ("case", "regbus.cli.case", "app"),
    ("console", "regbus.cli.console", "app"),
    ("roster", "regbus.cli.roster", "app"),
    ("privacy", "regbus.cli.privacy", "app"),
    ("api", "regbus.cli.api", "app"),
    ("rules", "regbus.cli.rules", "app"),
]
_COMMANDS: list[tuple[str, str, str]] = [
    ("worker", "regbus.cli.worker", "worker_command"),
    ("bench", "regbus.cli.bench", "bench_command"),
    ("publish", "regbus.cli.publish", "publish_command"),
    ("replay", "regbus.cli.audit", "replay_command"),
    ("simulate", "regbus.cli.simulate", "simulate_command"),
    ("demo", "regbus.cli.demo", "demo_command"),
]


def _load(module: str, attr: str) -> Any:
    """The sub-app or command, or None when its module is not part of this checkout."""
    try:
        return getattr(importlib.import_module(module), attr)
    except ModuleNotFoundError as exc:
        if exc.name and module.startswith(exc.name):
            return None
        return _broken(module, exc)
    except Exception as exc:  # one broken part must not take every other command down
        return _broken(module, exc)


def _broken(module: str, exc: Exception) -> Any:
    def command() -> None:
        typer.echo(f"error: {module} failed to load: {type(exc).__name__}: {exc}", err=True)
        raise typer.Exit(2)

    return command


def _mount() -> None:
    for name, module, attr in _GROUPS:
        sub = _load(module, attr)
        if isinstance(sub, typer.Typer):
            app.add_typer(sub, name=name)
        elif sub is not None:
            app.command(name=name)(sub)
    for name, module, attr in _COMMANDS:
        fn = _load(module, attr)
        if fn is not None:
            app.command(name=name)(fn)


_mount()


def main() -> None:
    """Run the CLI; an unreachable broker or schema registry is one line on stderr and exit 1
    (docs/cli.md), never a traceback."""
    import logging

    from aiokafka.errors import KafkaConnectionError

    from schemas.store import RegistryUnavailableError

    # aiokafka's retried transient errors (e.g. "NotLeaderForPartitionError, retrying" while a
    # new topic elects its leader) are its business, not the user's; failures still surface.
    logging.getLogger("aiokafka").setLevel(logging.ERROR)
    try:
        app()
    except RegistryUnavailableError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise SystemExit(1) from None
    except KafkaConnectionError as exc:
        typer.echo(f"error: cannot reach the Kafka broker ({exc}); is it up? "
                   "`regbus broker status` (REGBUS_BOOTSTRAP names it)", err=True)  # fmt: skip
        raise SystemExit(1) from None
