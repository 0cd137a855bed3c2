"""``regbus broker up | down | status | logs | fetch``."""

from __future__ import annotations

import subprocess

import typer
from rich.console import Console

from streams.broker.launcher import BrokerError, BrokerLauncher

app = typer.Typer(help="The local Kafka broker (KRaft, no Docker).", no_args_is_help=True)
console = Console(stderr=True)


def _run(action):  # type: ignore[no-untyped-def]
    try:
        return action()
    except BrokerError as exc:
        console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(1) from None


@app.command()
def fetch() -> None:
    """Fetch the Kafka jars from Maven Central into the cache (once)."""
    launcher = BrokerLauncher()
    fetched = _run(launcher.fetch)
    console.print(("fetched into " if fetched else "already cached in ") + str(launcher.lib))


@app.command()
def up(heap: str = typer.Option("768m", help="JVM heap cap")) -> None:
    """Start the broker, or reuse the one already answering."""
    launcher = BrokerLauncher(heap=heap)
    before = launcher.status()
    status = _run(launcher.up)
    verb = "reused" if before.running else "started"
    console.print(f"broker {verb}: {status.detail}")


@app.command()
def down(purge: bool = typer.Option(False, help="also remove data and logs")) -> None:
    """Stop the broker started by regbus."""
    console.print(BrokerLauncher().down(purge=purge))


@app.command()
def status() -> None:
    """Say whether the broker answers; exit 1 when it does not."""
    st = BrokerLauncher().status()
    typer.echo(st.detail)
    raise typer.Exit(0 if st.running else 1)


@app.command()
def logs(follow: bool = typer.Option(False, "--follow", "-f"), lines: int = 50) -> None:
    """Show the broker's server log."""
    path = BrokerLauncher().log_path()
    if not path.exists():
        console.print(f"no log yet at {path}")
        raise typer.Exit(1)
    cmd = ["tail", f"-n{lines}"] + (["-F"] if follow else []) + [str(path)]
    subprocess.run(cmd, check=False)
