"""Client credentials and the ACL plan: who may touch which topic, derived from the catalogue.

Credentials come from the environment or from a 0600 credentials file, never from command-line
arguments, and never appear in a repr or a log line:

==========================  =========================================================
``REGBUS_SECURITY_PROTOCOL`` ``PLAINTEXT`` (default), ``SASL_PLAINTEXT`` or ``SASL_SSL``
``REGBUS_SASL_USERNAME``     SCRAM user name
``REGBUS_SASL_PASSWORD``     SCRAM password
``REGBUS_SASL_MECHANISM``    ``SCRAM-SHA-512`` (default) or ``SCRAM-SHA-256``
``REGBUS_SSL_CAFILE``        PEM file of the CA that signed the broker certificate
``REGBUS_CREDENTIALS_FILE``  a file of ``KEY=VALUE`` lines with the keys above; it must be
                             owned by the current user and not readable by anyone else.
                             Variables set in the environment override the file.
==========================  =========================================================

:func:`client_kwargs` turns them into aiokafka keyword arguments (the worker's
:func:`agents.app.faust_kwargs` into Faust app settings); both are empty for PLAINTEXT,
so splatting them changes nothing on the plain broker.

:func:`acl_plan` is the single source of the authorisation design: the broker ACLs, the table
in ``docs/security.md`` and the test matrix in ``tests/security`` are all derived from it.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import IntEnum, StrEnum
from pathlib import Path
from typing import Any

from schemas.families import CaseFamily
from streams.topics import Catalogue

ENV_PROTOCOL = "REGBUS_SECURITY_PROTOCOL"
ENV_USERNAME = "REGBUS_SASL_USERNAME"
ENV_PASSWORD = "REGBUS_SASL_PASSWORD"
ENV_MECHANISM = "REGBUS_SASL_MECHANISM"
ENV_CAFILE = "REGBUS_SSL_CAFILE"
ENV_FILE = "REGBUS_CREDENTIALS_FILE"
_KEYS = (ENV_PROTOCOL, ENV_USERNAME, ENV_PASSWORD, ENV_MECHANISM, ENV_CAFILE)
PROTOCOLS = ("PLAINTEXT", "SASL_PLAINTEXT", "SASL_SSL")
MECHANISMS = ("SCRAM-SHA-512", "SCRAM-SHA-256")

ADMIN_USER = "regbus-admin"
PLATFORM_USER_PREFIX = "platform-"


class CredentialsError(ValueError):
    """Credentials are missing, malformed or stored unsafely; the message says which."""


# credentials ---------------------------------------------------------------------------
@dataclass(frozen=True)
class ClientCredentials:
    """How a client authenticates. The password is kept out of ``repr``."""

    security_protocol: str = "PLAINTEXT"
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    mechanism: str = "SCRAM-SHA-512"
    cafile: str | None = None

    @property
    def secure(self) -> bool:
        return self.security_protocol != "PLAINTEXT"


def read_credentials_file(path: Path) -> dict[str, str]:
    """``KEY=VALUE`` lines of a credentials file that only its owner can read."""
    try:
        info = path.stat()
    except FileNotFoundError:
        raise CredentialsError(f"credentials file {path} does not exist") from None
    if info.st_mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise CredentialsError(
            f"credentials file {path} is readable by others (mode "
            f"{stat.S_IMODE(info.st_mode):04o}); run: chmod 600 {path}"
        )
    if info.st_uid != os.getuid():
        raise CredentialsError(f"credentials file {path} is not owned by the current user")
    values: dict[str, str] = {}
    for number, line in enumerate(path.read_text().splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        key, sep, value = line.partition("=")
        if not sep:
            raise CredentialsError(f"{path}:{number}: expected KEY=VALUE")
        values[key.strip()] = value.strip()
    return values


def credentials_from_env(environ: Mapping[str, str] | None = None) -> ClientCredentials:
    """Read credentials from ``REGBUS_*`` variables and ``REGBUS_CREDENTIALS_FILE``."""
    env = os.environ if environ is None else environ
    values: dict[str, str] = {}
    if env.get(ENV_FILE):
        values.update(read_credentials_file(Path(env[ENV_FILE])))
    values.update({k: env[k] for k in _KEYS if env.get(k)})
    username = values.get(ENV_USERNAME)
    protocol = values.get(ENV_PROTOCOL) or ("SASL_SSL" if username else "PLAINTEXT")
    protocol = protocol.upper()
    mechanism = (values.get(ENV_MECHANISM) or MECHANISMS[0]).upper()
    if protocol not in PROTOCOLS:
        raise CredentialsError(f"{ENV_PROTOCOL}={protocol}: use one of {', '.join(PROTOCOLS)}")
    if mechanism not in MECHANISMS:
        raise CredentialsError(f"{ENV_MECHANISM}={mechanism}: use one of {', '.join(MECHANISMS)}")
    if protocol != "PLAINTEXT" and not (username and values.get(ENV_PASSWORD)):
        raise CredentialsError(f"{protocol} needs {ENV_USERNAME} and {ENV_PASSWORD}")
    cafile = values.get(ENV_CAFILE)
    if cafile and not Path(cafile).is_file():
        raise CredentialsError(f"{ENV_CAFILE}={cafile}: no such file")
    return ClientCredentials(protocol, username, values.get(ENV_PASSWORD), mechanism, cafile)


def ssl_context(credentials: ClientCredentials) -> Any:
    """A verifying TLS context (hostname checked) trusting ``cafile`` or the system CAs."""
    from aiokafka.helpers import create_ssl_context

    return create_ssl_context(cafile=credentials.cafile)


def client_kwargs(
    settings: object | None = None, *, credentials: ClientCredentials | None = None
) -> dict[str, Any]:
    """aiokafka keyword arguments for a producer, consumer, admin or bare client.

    ``settings`` (a :class:`streams.settings.Settings`) is accepted so every call site reads
    ``client_kwargs(settings)``; credentials deliberately do not live in ``Settings`` so a
    settings object can be printed. Returns ``{}`` for PLAINTEXT.
    """
    del settings
    creds = credentials if credentials is not None else credentials_from_env()
    if not creds.secure:
        return {}
    kwargs: dict[str, Any] = {
        "security_protocol": creds.security_protocol,
        "sasl_mechanism": creds.mechanism,
        "sasl_plain_username": creds.username,
        "sasl_plain_password": creds.password,
    }
    if creds.security_protocol == "SASL_SSL":
        kwargs["ssl_context"] = ssl_context(creds)
    return kwargs


# the ACL plan --------------------------------------------------------------------------
class PrincipalKind(StrEnum):
    PLATFORM = "platform"  # one per registered platform
    BUREAU = "bureau"  # bureau intake systems (hotline, inspections) writing bureau ingress
    WORKER = "worker"  # the Faust worker
    REGULATOR = "regulator"  # alert subscribers
    AUDITOR = "auditor"  # audit replay and hash-chain checkpoints


DEFAULT_ACCOUNTS: dict[PrincipalKind, str] = {
    PrincipalKind.BUREAU: "regbus-bureau",
    PrincipalKind.WORKER: "regbus-worker",
    PrincipalKind.REGULATOR: "regbus-regulator",
    PrincipalKind.AUDITOR: "regbus-auditor",
}


# Kafka's wire codes (org.apache.kafka.common.resource / acl).
class ResourceType(IntEnum):
    ANY = 1
    TOPIC = 2
    GROUP = 3
    CLUSTER = 4
    TRANSACTIONAL_ID = 5


class PatternType(IntEnum):
    ANY = 1
    LITERAL = 3
    PREFIXED = 4


class Operation(IntEnum):
    ANY = 1
    ALL = 2
    READ = 3
    WRITE = 4
    CREATE = 5
    DELETE = 6
    ALTER = 7
    DESCRIBE = 8
    CLUSTER_ACTION = 9
    DESCRIBE_CONFIGS = 10
    ALTER_CONFIGS = 11
    IDEMPOTENT_WRITE = 12


class Permission(IntEnum):
    ANY = 1
    DENY = 2
    ALLOW = 3


@dataclass(frozen=True, order=True)
class AclEntry:
    """One Kafka ACL binding (always ALLOW, from any host: denials are the default)."""

    principal: str
    resource_type: ResourceType
    resource_name: str
    pattern: PatternType
    operation: Operation
    permission: Permission = Permission.ALLOW
    host: str = "*"

    def describe(self) -> str:
        star = "*" if self.pattern is PatternType.PREFIXED else ""
        return (
            f"{self.principal} {self.permission.name} {self.operation.name} "
            f"{self.resource_type.name.lower()}:{self.resource_name}{star}"
        )


def username(kind: PrincipalKind, name: str) -> str:
    """The SCRAM user for a principal: platforms get ``platform-<id>``.

    The prefix keeps platform ids and service accounts apart: a platform registered as
    ``regbus-admin`` becomes ``platform-regbus-admin``, never the super user.
    """
    if kind is PrincipalKind.PLATFORM:
        from streams.topics import validate_platform_id

        return PLATFORM_USER_PREFIX + validate_platform_id(name)
    if "." in name or name.startswith(PLATFORM_USER_PREFIX) or not name:
        raise ValueError(f"service account {name!r}: no '.', no {PLATFORM_USER_PREFIX!r} prefix")
    return name


def principal(kind: PrincipalKind, name: str) -> str:
    return f"User:{username(kind, name)}"


def group_prefix(catalogue: Catalogue, kind: PrincipalKind, name: str) -> str:
    """Consumer groups a principal may use start with ``<prefix>.<user>.``.

    ``.`` is not allowed in user names, so no principal's prefix covers another's groups
    (``acme.`` would cover ``acme-eu.x``; ``regbus.platform-acme.`` cannot), and none covers
    the worker's ``<prefix>-bureau`` group.
    """
    return f"{catalogue.prefix}.{username(kind, name)}."


def worker_app_id(catalogue: Catalogue) -> str:
    """The Faust app id (= consumer group, = prefix of its internal topics); agents/app.py."""
    return f"{catalogue.prefix}-bureau"


def acl_plan(catalogue: Catalogue, kind: PrincipalKind, name: str) -> list[AclEntry]:
    """Every ACL the principal gets, least rights first; everything else is denied.

    WRITE, READ and the rest imply DESCRIBE on the same resource. An idempotent producer
    needs no IDEMPOTENT_WRITE on the cluster: since Kafka 3.0 WRITE on any topic implies it
    (KIP-679); the test matrix produces with idempotence on to prove it.
    """
    who = principal(kind, name)
    T, G = ResourceType.TOPIC, ResourceType.GROUP
    LIT, PRE = PatternType.LITERAL, PatternType.PREFIXED
    op = Operation
    cat = catalogue
    plan: list[tuple[ResourceType, str, PatternType, Operation]]
    if kind is PrincipalKind.PLATFORM:
        plan = [
            (T, cat.ingress(name), LIT, op.WRITE),
            (T, cat.ingress(name), LIT, op.DESCRIBE),
            (T, cat.inbox(name), LIT, op.READ),
            (G, group_prefix(cat, kind, name), PRE, op.READ),
        ]
    elif kind is PrincipalKind.BUREAU:
        plan = [
            (T, cat.bureau_ingress, LIT, op.WRITE),
            (T, cat.bureau_ingress, LIT, op.DESCRIBE),
            # intake seals the complainant's data under the subject's key; erasures are logged
            (T, cat.subject_keys, LIT, op.READ),
            (T, cat.subject_keys, LIT, op.WRITE),
            (T, cat.privacy, LIT, op.WRITE),
            (T, cat.governance, LIT, op.WRITE),  # rule changes (streams/rule_log.py)
        ]
    elif kind is PrincipalKind.WORKER:
        app_id = worker_app_id(cat)
        plan = [(T, f"{cat.prefix}.ingress.", PRE, op.READ)]
        for fam in CaseFamily:
            plan += [(T, cat.cases(fam), LIT, op.READ), (T, cat.cases(fam), LIT, op.WRITE)]
        plan += [
            (T, cat.alerts, LIT, op.WRITE),
            (T, cat.alerts, LIT, op.READ),  # agents/regulator.py escalates raised alerts
            (T, cat.sla, LIT, op.WRITE),
            (T, cat.deadletter, LIT, op.WRITE),
            (T, f"{cat.prefix}.inbox.", PRE, op.WRITE),
            (T, cat.platforms_registry, LIT, op.READ),
            (T, cat.roster, LIT, op.READ),  # agents/roster.py routes every alert by it
            (T, cat.notifications, LIT, op.READ),  # the notifier folds its delivery log
            (T, cat.notifications, LIT, op.WRITE),
            (T, cat.subject_keys, LIT, op.READ),
            (T, cat.subject_keys, LIT, op.WRITE),
            (T, cat.privacy, LIT, op.WRITE),  # who viewed whose case (agents/web.py)
            (T, cat.governance, LIT, op.READ),  # enforcement, campaigns, rule changes
            (T, cat.governance, LIT, op.WRITE),  # ingress routes the bureau's acts; ticks
        ]
        internal = f"{app_id}-"
        plan += [
            (T, internal, PRE, o)
            for o in (op.CREATE, op.READ, op.WRITE, op.DESCRIBE, op.DESCRIBE_CONFIGS)
        ]
        plan.append((G, app_id, LIT, op.READ))
    elif kind is PrincipalKind.REGULATOR:
        plan = [
            (T, cat.alerts, LIT, op.READ),
            (T, cat.roster, LIT, op.READ),  # who covers which platform (the console's scope)
            (T, cat.notifications, LIT, op.READ),  # the delivery log
            (G, group_prefix(cat, kind, name), PRE, op.READ),
        ]
    elif kind is PrincipalKind.AUDITOR:
        plan = [
            (T, f"{cat.prefix}.", PRE, op.READ),
            (T, cat.audit, LIT, op.WRITE),
            (G, group_prefix(cat, kind, name), PRE, op.READ),
        ]
    else:  # pragma: no cover - StrEnum is closed
        raise ValueError(kind)
    out = [AclEntry(who, rt, res, pat, o) for rt, res, pat, o in plan]
    if kind is PrincipalKind.AUDITOR:  # its prefixed READ must not reach the subject keys
        out.append(AclEntry(who, T, cat.subject_keys, LIT, op.READ, Permission.DENY))
    return out


def full_plan(catalogue: Catalogue) -> list[AclEntry]:
    """The ACLs for every registered platform and every default service account."""
    out: list[AclEntry] = []
    for platform_id in catalogue.platforms:
        out += acl_plan(catalogue, PrincipalKind.PLATFORM, platform_id)
    for kind, account in DEFAULT_ACCOUNTS.items():
        out += acl_plan(catalogue, kind, account)
    return out


_IMPLIES_DESCRIBE = {
    Operation.READ,
    Operation.WRITE,
    Operation.DELETE,
    Operation.ALTER,
    Operation.DESCRIBE,
}


def allows(
    entries: list[AclEntry], resource_type: ResourceType, name: str, operation: Operation
) -> bool:
    """Would these bindings let ``operation`` on the named resource through?

    Kafka's rules, for the subset the plan uses: a literal binding matches its name (or
    ``*``), a prefixed one every name starting with it; ALL grants everything; READ, WRITE,
    DELETE and ALTER imply DESCRIBE; a matching DENY (literal, same operation) wins.
    """
    for e in entries:
        if (
            e.permission is Permission.DENY and e.resource_type is resource_type
            and e.pattern is PatternType.LITERAL and e.resource_name == name
            and e.operation is operation
        ):  # fmt: skip
            return False
    for e in entries:
        if e.resource_type is not resource_type or e.permission is not Permission.ALLOW:
            continue
        if e.pattern is PatternType.LITERAL:
            matches = e.resource_name in (name, "*")
        else:
            matches = name.startswith(e.resource_name)
        if not matches:
            continue
        if e.operation in (operation, Operation.ALL):
            return True
        if operation is Operation.DESCRIBE and e.operation in _IMPLIES_DESCRIBE:
            return True
    return False


def write_secret(path: Path, data: bytes | str) -> None:
    """Write a file that only its owner can read, created 0600 (never briefly wider)."""
    raw = data.encode() if isinstance(data, str) else data
    path.unlink(missing_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(raw)
