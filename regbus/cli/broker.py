"""``regbus broker up | down | status | logs | fetch | grant | revoke``.

``--secure`` addresses the second, secured broker (SASL_SSL + ACLs, ``devtools.broker.secure``)
instead of the plain one; ``--nodes 3`` the replicated three-node cluster
(``devtools.broker.cluster``, ports 19292-19297, its own folder); without either every
command addresses the single default broker on 19092 exactly as before.
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from typing import TypeVar

import typer
from rich.console import Console

from devtools.broker.launcher import BrokerError, BrokerLauncher
from streams.settings import Settings

app = typer.Typer(help="The local Kafka broker (KRaft, no Docker).", no_args_is_help=True)
console = Console(stderr=True)
T = TypeVar("T")

_SECURE = typer.Option(
    False, "--secure", help="the secured broker (SASL_SSL, ACLs; own dir and ports)"
)


def _run(action: Callable[[], T]) -> T:
    try:
        return action()
    except BrokerError as exc:
        console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(1) from None


_NODES = typer.Option(
    1, "--nodes", min=1, help="3: the replicated KRaft cluster (own ports and folder)"
)
_BASE_PORT = typer.Option(
    None, "--base-port", help="cluster: first client port (default 19292; nodes use +0,+2,+4)"
)


def _cluster(nodes: int, base_port: int | None, heap: str = "512m"):  # type: ignore[no-untyped-def]
    from devtools.broker.cluster import CLUSTER_BASE_PORT, ClusterLauncher

    return ClusterLauncher(Settings.from_env(), nodes, base_port or CLUSTER_BASE_PORT, heap)


def _launcher(secure: bool, **kw) -> BrokerLauncher:  # type: ignore[no-untyped-def]
    if not secure:
        return BrokerLauncher(Settings.from_env(), **kw)
    from devtools.broker.secure import SecureBrokerLauncher

    return SecureBrokerLauncher(Settings.from_env(), **kw)


@app.command()
def fetch() -> None:
    """Fetch the Kafka jars from Maven Central into the cache (once)."""
    launcher = BrokerLauncher(Settings.from_env())
    fetched = _run(launcher.fetch)
    console.print(("fetched into " if fetched else "already cached in ") + str(launcher.lib))


@app.command()
def up(
    heap: str = typer.Option("768m", help="JVM heap cap"),
    secure: bool = _SECURE,
    port: int | None = typer.Option(
        None, help="secure client port (default 19192 or REGBUS_SECURE_PORT; controller +1)"
    ),
    controller_port: int | None = typer.Option(None, help="secure controller port (mutual TLS)"),
    reauth_ms: int = typer.Option(
        10_000, help="secure: connections re-authenticate (or are closed) this often"
    ),
    nodes: int = _NODES,
    base_port: int | None = _BASE_PORT,
) -> None:
    """Start the broker, or reuse the one already answering."""
    if nodes > 1:
        if secure or port or controller_port:
            console.print("[red]error:[/red] --nodes does not combine with --secure/--port")
            raise typer.Exit(2)
        cluster = _cluster(nodes, base_port, heap if heap != "768m" else "512m")
        st = _run(cluster.up)
        console.print(st.detail, soft_wrap=True)
        console.print(
            "client settings for the cluster:\n"
            f"  export REGBUS_BOOTSTRAP={cluster.bootstrap} "
            f"REGBUS_REPLICATION_FACTOR={cluster.replication_factor} "
            f"REGBUS_MIN_INSYNC_REPLICAS={cluster.min_insync_replicas}",
            soft_wrap=True,
        )
        return
    if not secure and (port or controller_port):
        console.print("[red]error:[/red] --port/--controller-port apply to --secure only")
        raise typer.Exit(2)
    extra = dict(port=port, controller_port=controller_port, reauth_ms=reauth_ms)
    launcher = _launcher(secure, heap=heap, **(extra if secure else {}))
    before = launcher.status()
    status = _run(launcher.up)
    verb = "reused" if before.running else "started"
    console.print(f"{'secure ' if secure else ''}broker {verb}: {status.detail}")
    if secure:
        creds = launcher.paths.admin_credentials  # type: ignore[attr-defined]
        console.print(
            "admin client settings (the password stays in the file):\n"
            f"  export REGBUS_BOOTSTRAP={launcher.bootstrap} REGBUS_CREDENTIALS_FILE={creds}",
            soft_wrap=True,
        )


@app.command()
def down(
    purge: bool = typer.Option(False, help="also remove data and logs"),
    secure: bool = _SECURE,
    nodes: int = _NODES,
    base_port: int | None = _BASE_PORT,
) -> None:
    """Stop the broker started by regbus (with --nodes 3: the cluster's nodes only)."""
    if nodes > 1:
        console.print(_cluster(nodes, base_port).down(purge=purge), soft_wrap=True)
        return
    console.print(_launcher(secure).down(purge=purge))


@app.command()
def status(secure: bool = _SECURE, nodes: int = _NODES, base_port: int | None = _BASE_PORT) -> None:
    """Say whether the broker answers (every node, with --nodes); exit 1 when it does not."""
    st = _cluster(nodes, base_port).status() if nodes > 1 else _launcher(secure).status()
    typer.echo(st.detail)
    raise typer.Exit(0 if st.running else 1)


@app.command()
def logs(
    follow: bool = typer.Option(False, "--follow", "-f"),
    lines: int = 50,
    secure: bool = _SECURE,
    nodes: int = _NODES,
    base_port: int | None = _BASE_PORT,
    node: int = typer.Option(1, "--node", help="cluster: which node's log"),
) -> None:
    """Show the broker's server log."""
    if nodes > 1:
        path = _run(lambda: _cluster(nodes, base_port).node(node)).log_path()
    else:
        path = _launcher(secure).log_path()
    if not path.exists():
        console.print(f"no log yet at {path}")
        raise typer.Exit(1)
    cmd = ["tail", f"-n{lines}"] + (["-F"] if follow else []) + [str(path)]
    subprocess.run(cmd, check=False)


_KINDS = "worker, regulator, auditor or bureau"


@app.command()
def grant(
    kind: str = typer.Argument(..., help=_KINDS),
    name: str = typer.Option(None, help="account name (default regbus-<kind>)"),
    rotate: bool = typer.Option(False, help="replace an existing password"),
) -> None:
    """Create a service account's SCRAM credential and ACLs on the secured broker.

    Connects to REGBUS_BOOTSTRAP as the admin in REGBUS_CREDENTIALS_FILE (or REGBUS_SASL_*);
    writes the account's credentials to <state_dir>/credentials/<name>.credentials (0600).
    Platforms are granted by `regbus platform add`.
    """
    import asyncio

    from streams.platform_secure import grant_access
    from streams.settings import Settings

    principal_kind, account = _account(kind, name)
    result = asyncio.run(grant_access(Settings.from_env(), principal_kind, account, rotate=rotate))
    if result.path is not None:
        console.print(f"credentials written to {result.path} (mode 0600)", soft_wrap=True)
    else:
        console.print(f"{account}: credential kept (use --rotate to replace it)")
    console.print(f"{len(result.acls)} ACL(s) in place for {result.principal}")


@app.command()
def revoke(
    kind: str = typer.Argument(..., help=_KINDS),
    name: str = typer.Option(None, help="account name (default regbus-<kind>)"),
) -> None:
    """Delete a service account's credential and every ACL naming it (secured broker)."""
    import asyncio

    from streams.platform_secure import revoke_access
    from streams.settings import Settings

    principal_kind, account = _account(kind, name)
    deleted, removed = asyncio.run(revoke_access(Settings.from_env(), principal_kind, account))
    console.print(
        f"{account}: credential {'deleted' if deleted else 'was already gone'}, "
        f"{removed} ACL(s) removed"
    )


def _account(kind: str, name: str | None):  # type: ignore[no-untyped-def]
    from streams.security import DEFAULT_ACCOUNTS, PrincipalKind, credentials_from_env

    try:
        principal_kind = PrincipalKind(kind)
    except ValueError:
        principal_kind = None
    if principal_kind is None or principal_kind is PrincipalKind.PLATFORM:
        console.print(f"[red]error:[/red] kind must be {_KINDS}")
        raise typer.Exit(2)
    if not credentials_from_env().secure:
        console.print(
            "[red]error:[/red] set REGBUS_CREDENTIALS_FILE (or REGBUS_SASL_*) to the "
            "admin's credentials first"
        )
        raise typer.Exit(2)
    return principal_kind, name or DEFAULT_ACCOUNTS[principal_kind]
