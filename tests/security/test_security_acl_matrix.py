"""Every principal × every topic family × read/write against the secure broker.

Three tables must agree cell by cell: the design written out by hand below (the issue's
words), what :func:`streams.security.acl_plan` grants, and what the broker actually allows.
"""

from __future__ import annotations

import asyncio
import dataclasses
import time

from aiokafka.conn import create_conn
from aiokafka.errors import KafkaConnectionError, SaslAuthenticationFailed
from security_matrix import (
    ADMIN,
    ANONYMOUS,
    WRONG_PASSWORD,
    grant_all,
    matrix_columns,
    plan_matrix,
    render_matrix,
)
from security_probes import ALLOWED, AUTHN, AUTHZ, REPORTS, Probe, seed

from devtools.broker.secure import SecureBrokerLauncher
from streams.security import ClientCredentials, client_kwargs, credentials_from_env
from streams.topics import Catalogue

# The design, by hand: which columns each principal may Read and Write. Everything else denied.
INGRESS_ALL = {"A ingress", "B ingress", "bureau ingress"}
EVERY = {
    "A ingress",
    "B ingress",
    "bureau ingress",
    "A inbox",
    "B inbox",
    "cases",
    "alerts",
    "sla",
    "deadletter",
    "audit",
    "registry",
    "roster",
    "notifications",
}
DESIGN: dict[str, tuple[set[str], set[str]]] = {
    "platform A": ({"A inbox"}, {"A ingress"}),
    "platform B": ({"B inbox"}, {"B ingress"}),
    "bureau intake": (set(), {"bureau ingress"}),
    "worker": (
        INGRESS_ALL | {"cases", "registry", "alerts", "roster", "notifications"},
        {"cases", "alerts", "sla", "deadletter", "A inbox", "B inbox", "notifications"},
    ),
    "regulator": ({"alerts", "roster", "notifications"}, set()),
    "auditor": (EVERY, {"audit"}),
    ADMIN: (EVERY, EVERY),
    ANONYMOUS: (set(), set()),
    WRONG_PASSWORD: (set(), set()),
}


async def test_every_principal_can_do_exactly_what_the_design_says(
    secure_broker: SecureBrokerLauncher,
    admin_credentials: ClientCredentials,
    two_platforms: Catalogue,
    tmp_path,  # type: ignore[no-untyped-def]
) -> None:
    started = time.monotonic()
    cat = two_platforms
    bootstrap = secure_broker.bootstrap
    columns = matrix_columns(cat)
    await seed(bootstrap, admin_credentials, columns.values())
    files = await grant_all(secure_broker, admin_credentials, cat, tmp_path)

    creds = {
        label: credentials_from_env({"REGBUS_CREDENTIALS_FILE": str(p)})
        for label, p in files.items()
    }
    creds[ADMIN] = admin_credentials
    clients = {label: client_kwargs(credentials=c) for label, c in creds.items()}
    clients[ANONYMOUS] = {}  # a client with no credentials configured: PLAINTEXT
    wrong = dataclasses.replace(creds["platform A"], password="not-the-password")
    clients[WRONG_PASSWORD] = client_kwargs(credentials=wrong)

    observed: dict[str, dict[str, tuple[str, str]]] = {}
    for label, kwargs in clients.items():
        probe = Probe(bootstrap, kwargs)
        names = list(columns)
        reads = asyncio.gather(*[probe.read(columns[c]) for c in names])
        writes = asyncio.gather(*[probe.write(columns[c]) for c in names])
        r, w = await asyncio.gather(reads, writes)
        observed[label] = {c: (r[i], w[i]) for i, c in enumerate(names)}

    planned = plan_matrix(cat, list(clients))
    table = render_matrix(observed, DESIGN, planned, list(columns))
    REPORTS.append((f"ACL matrix on the secure broker ({time.monotonic() - started:.1f}s)", table))
    print(table)

    mismatches = []
    for label, row in observed.items():
        may_read, may_write = DESIGN[label]
        for col, (got_r, got_w) in row.items():
            denial = AUTHN if label in (ANONYMOUS, WRONG_PASSWORD) else AUTHZ
            want_r = ALLOWED if col in may_read else denial
            want_w = ALLOWED if col in may_write else denial
            if (got_r, got_w) != (want_r, want_w):
                mismatches.append(
                    f"{label} × {col}: read {got_r} (want {want_r}), write {got_w} (want {want_w})"
                )
            if label in planned and planned[label][col] != (col in may_read, col in may_write):
                mismatches.append(
                    f"{label} × {col}: acl_plan grants {planned[label][col]}, "
                    "the design says otherwise"
                )
    assert not mismatches, "\n".join(mismatches) + "\n" + table


async def test_a_wrong_password_fails_authentication_and_no_credentials_get_no_session(
    secure_broker: SecureBrokerLauncher, admin_credentials: ClientCredentials
) -> None:
    host, port = "127.0.0.1", secure_broker.port
    wrong = dataclasses.replace(admin_credentials, password="guess")
    try:
        conn = await create_conn(host, port, **client_kwargs(credentials=wrong))
    except SaslAuthenticationFailed:
        pass
    else:
        conn.close()
        raise AssertionError("a wrong password authenticated")
    try:
        conn = await create_conn(host, port)  # PLAINTEXT against the SASL_SSL listener
    except KafkaConnectionError:
        pass
    else:
        conn.close()
        raise AssertionError("a PLAINTEXT client got a session on the SASL_SSL listener")
