"""The principal × topic matrix: columns from the catalogue, grants, and the rendered tables.

``python tests/security/security_matrix.py`` prints the Markdown that ``docs/security.md``
carries between its ``acl-table`` markers; ``test_security_docs.py`` keeps the two equal.
"""

from __future__ import annotations

from pathlib import Path

from devtools.broker.secure import SecureBrokerLauncher
from schemas.families import CaseFamily
from streams.platform_secure import grant_access
from streams.security import (
    DEFAULT_ACCOUNTS,
    ClientCredentials,
    Operation,
    PrincipalKind,
    ResourceType,
    acl_plan,
    allows,
    principal,
)
from streams.topics import Catalogue

ADMIN = "admin (super user)"
ANONYMOUS = "no credentials"
WRONG_PASSWORD = "wrong password"
DOC_PLATFORMS = ("acme", "globex")


def matrix_columns(cat: Catalogue) -> dict[str, str]:
    """Column label → topic. Platform A and B are the catalogue's first two platforms."""
    a, b = cat.platforms[:2]
    return {
        "A ingress": cat.ingress(a),
        "B ingress": cat.ingress(b),
        "bureau ingress": cat.bureau_ingress,
        "A inbox": cat.inbox(a),
        "B inbox": cat.inbox(b),
        "cases": cat.cases(CaseFamily.COMPLAINTS),
        "alerts": cat.alerts,
        "sla": cat.sla,
        "deadletter": cat.deadletter,
        "audit": cat.audit,
        "registry": cat.platforms_registry,
        "roster": cat.roster,
        "notifications": cat.notifications,
    }


def plan_principals(cat: Catalogue) -> dict[str, tuple[PrincipalKind, str]]:
    a, b = cat.platforms[:2]
    return {
        "platform A": (PrincipalKind.PLATFORM, a),
        "platform B": (PrincipalKind.PLATFORM, b),
        "bureau intake": (PrincipalKind.BUREAU, DEFAULT_ACCOUNTS[PrincipalKind.BUREAU]),
        "worker": (PrincipalKind.WORKER, DEFAULT_ACCOUNTS[PrincipalKind.WORKER]),
        "regulator": (PrincipalKind.REGULATOR, DEFAULT_ACCOUNTS[PrincipalKind.REGULATOR]),
        "auditor": (PrincipalKind.AUDITOR, DEFAULT_ACCOUNTS[PrincipalKind.AUDITOR]),
    }


async def grant_all(
    broker: SecureBrokerLauncher, admin: ClientCredentials, cat: Catalogue, out_dir: Path
) -> dict[str, Path]:
    """Provision every planned principal; label → its new 0600 credentials file."""
    from streams.settings import Settings

    settings = Settings(bootstrap=broker.bootstrap, topic_prefix=cat.prefix, state_dir=out_dir)
    files: dict[str, Path] = {}
    for label, (kind, name) in plan_principals(cat).items():
        path = out_dir / f"{label.replace(' ', '-')}.credentials"
        await grant_access(
            settings, kind, name, catalogue=cat, credentials=admin, out=path, rotate=True
        )
        files[label] = path
    return files


def plan_matrix(cat: Catalogue, labels: list[str]) -> dict[str, dict[str, tuple[bool, bool]]]:
    """(may read, may write) per column, as acl_plan grants it, for the planned principals."""
    out: dict[str, dict[str, tuple[bool, bool]]] = {}
    principals = plan_principals(cat)
    for label in labels:
        if label not in principals:
            continue
        plan = acl_plan(cat, *principals[label])
        out[label] = {
            col: (
                allows(plan, ResourceType.TOPIC, topic, Operation.READ),
                allows(plan, ResourceType.TOPIC, topic, Operation.WRITE),
            )
            for col, topic in matrix_columns(cat).items()
        }
    return out


_MARK = {"allowed": None, "authz": "-", "authn": "."}


def render_matrix(
    observed: dict[str, dict[str, tuple[str, str]]],
    design: dict[str, tuple[set[str], set[str]]],
    planned: dict[str, dict[str, tuple[bool, bool]]],
    columns: list[str],
) -> str:
    """A fixed-width table: ``RW`` allowed, ``-`` denied by ACL, ``.`` no session, ``!`` error,
    ``*`` after a cell that differs from the design or the plan."""
    widths = [max(len(c), 3) + 1 for c in columns]
    lines = [f"{'':22}" + "".join(f"{c:>{w}}" for c, w in zip(columns, widths, strict=True))]
    for label, row in observed.items():
        cells = []
        for col in columns:
            got_r, got_w = row[col]
            r = "R" if got_r == "allowed" else _MARK.get(got_r) or "!"
            w = "W" if got_w == "allowed" else _MARK.get(got_w) or "!"
            may_r, may_w = design[label]
            ok = (got_r == "allowed") == (col in may_r) and (got_w == "allowed") == (col in may_w)
            if label in planned:
                ok = ok and planned[label][col] == (col in may_r, col in may_w)
            cells.append(f"{r}{w}{'' if ok else '*'}")
        lines.append(
            f"{label:22}" + "".join(f"{c:>{w}}" for c, w in zip(cells, widths, strict=True))
        )
    lines.append(
        "R/W allowed · '-' denied by ACL · '.' no authenticated session · "
        "'!' unexpected error · '*' differs from the design"
    )
    return "\n".join(lines)


def docs_markdown() -> str:
    """The ACL bindings and the read/write matrix for a sample deployment, from acl_plan."""
    cat = Catalogue("regbus").with_platforms(DOC_PLATFORMS)
    lines = [
        f"Sample deployment: prefix `regbus`, platforms `{DOC_PLATFORMS[0]}` (A) and "
        f"`{DOC_PLATFORMS[1]}` (B). `*` marks a prefixed binding.",
        "",
        "| principal | resource | operation |",
        "|---|---|---|",
    ]
    for label, (kind, name) in plan_principals(cat).items():
        for e in acl_plan(cat, kind, name):
            star = "*" if e.pattern.name == "PREFIXED" else ""
            lines.append(
                f"| {label} `{principal(kind, name)}` | {e.resource_type.name.lower()} "
                f"`{e.resource_name}{star}` | {e.operation.name} |"
            )
    lines.append(f"| {ADMIN} `User:regbus-admin` | everything (`super.users`) | ALL |")
    lines.append("| the broker itself `User:regbus-broker` | everything (`super.users`) | ALL |")
    columns = matrix_columns(cat)
    planned = plan_matrix(cat, list(plan_principals(cat)))
    lines += ["", "What that allows, per topic (R read, W write, – denied):", ""]
    lines.append("| principal | " + " | ".join(columns) + " |")
    lines.append("|---" * (len(columns) + 1) + "|")
    for label, row in planned.items():
        cells = [("R" if r else "") + ("W" if w else "") or "–" for r, w in row.values()]
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    lines.append(f"| {ADMIN} | " + " | ".join("RW" for _ in columns) + " |")
    lines.append(f"| {ANONYMOUS} / {WRONG_PASSWORD} | " + " | ".join("–" for _ in columns) + " |")
    return "\n".join(lines)


if __name__ == "__main__":
    print(docs_markdown())
