"""Credentials and ACLs on the broker: SCRAM users and ACL bindings over Kafka's admin protocol.

aiokafka 0.14's admin client has no create/delete ACL or SCRAM calls, but its protocol layer
lets us declare the four requests we need (CreateAcls v1, DeleteAcls v1, DescribeAcls v1,
AlterUserScramCredentials v0, DescribeUserScramCredentials v0) and send them over the same
authenticated connection: no JVM per call, one round trip per change.

Passwords are generated here, salted and hashed client-side (the broker only ever receives
the SCRAM salt and salted password), and written to a 0600 credentials file for the principal;
they are never returned in a repr, printed or logged.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import secrets
import time
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeAlias

from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.protocol.api import Request, RequestStruct, Response
from aiokafka.protocol.types import (
    Array,
    CompactArray,
    CompactBytes,
    CompactString,
    Int8,
    Int16,
    Int32,
    Schema,
    String,
    TaggedFields,
)

from streams import compat
from streams.security import (
    ENV_CAFILE,
    ENV_PASSWORD,
    ENV_PROTOCOL,
    ENV_USERNAME,
    AclEntry,
    ClientCredentials,
    Operation,
    PatternType,
    Permission,
    PrincipalKind,
    ResourceType,
    acl_plan,
    client_kwargs,
    credentials_from_env,
    principal,
    username,
    write_secret,
)
from streams.topics import Catalogue

SCRAM_ITERATIONS = 8192
_SCRAM_TYPES = {"SCRAM-SHA-256": (1, "sha256"), "SCRAM-SHA-512": (2, "sha512")}


class SecurityAdminError(RuntimeError):
    """The broker refused an ACL or credential change; the message names the Kafka error."""


# wire structs ---------------------------------------------------------------------------
_S = String("utf-8")
_CS = CompactString("utf-8")


class _CreateAclsResponse(Response):  # type: ignore[misc]  # aiokafka is untyped
    API_KEY = 30
    API_VERSION = 1
    SCHEMA = Schema(
        ("throttle_time_ms", Int32),
        ("results", Array(("error_code", Int16), ("error_message", _S))),
    )


class _CreateAclsV1(RequestStruct):  # type: ignore[misc]  # aiokafka is untyped
    API_KEY = 30
    API_VERSION = 1
    RESPONSE_TYPE = _CreateAclsResponse
    SCHEMA = Schema(
        (
            "creations",
            Array(
                ("resource_type", Int8),
                ("resource_name", _S),
                ("pattern_type", Int8),
                ("principal", _S),
                ("host", _S),
                ("operation", Int8),
                ("permission_type", Int8),
            ),
        )
    )


_BINDING = (
    ("resource_type", Int8),
    ("resource_name", _S),
    ("pattern_type", Int8),
    ("principal", _S),
    ("host", _S),
    ("operation", Int8),
    ("permission_type", Int8),
)


class _DeleteAclsResponse(Response):  # type: ignore[misc]  # aiokafka is untyped
    API_KEY = 31
    API_VERSION = 1
    SCHEMA = Schema(
        ("throttle_time_ms", Int32),
        (
            "filter_results",
            Array(
                ("error_code", Int16),
                ("error_message", _S),
                ("matching", Array(("error_code", Int16), ("error_message", _S), *_BINDING)),
            ),
        ),
    )


class _DeleteAclsV1(RequestStruct):  # type: ignore[misc]  # aiokafka is untyped
    API_KEY = 31
    API_VERSION = 1
    RESPONSE_TYPE = _DeleteAclsResponse
    SCHEMA = Schema(("filters", Array(*_BINDING)))


class _DescribeAclsResponse(Response):  # type: ignore[misc]  # aiokafka is untyped
    API_KEY = 29
    API_VERSION = 1
    SCHEMA = Schema(
        ("throttle_time_ms", Int32),
        ("error_code", Int16),
        ("error_message", _S),
        (
            "resources",
            Array(
                ("resource_type", Int8),
                ("resource_name", _S),
                ("pattern_type", Int8),
                (
                    "acls",
                    Array(
                        ("principal", _S),
                        ("host", _S),
                        ("operation", Int8),
                        ("permission_type", Int8),
                    ),
                ),
            ),
        ),
    )


class _DescribeAclsV1(RequestStruct):  # type: ignore[misc]  # aiokafka is untyped
    API_KEY = 29
    API_VERSION = 1
    RESPONSE_TYPE = _DescribeAclsResponse
    SCHEMA = Schema(*_BINDING)


class _AlterScramResponse(Response):  # type: ignore[misc]  # aiokafka is untyped
    API_KEY = 51
    API_VERSION = 0
    SCHEMA = Schema(
        ("throttle_time_ms", Int32),
        (
            "results",
            CompactArray(
                ("user", _CS),
                ("error_code", Int16),
                ("error_message", _CS),
                ("tags", TaggedFields),
            ),
        ),
        ("tags", TaggedFields),
    )


class _AlterScramV0(RequestStruct):  # type: ignore[misc]  # aiokafka is untyped
    FLEXIBLE_VERSION = True
    API_KEY = 51
    API_VERSION = 0
    RESPONSE_TYPE = _AlterScramResponse
    SCHEMA = Schema(
        ("deletions", CompactArray(("name", _CS), ("mechanism", Int8), ("tags", TaggedFields))),
        (
            "upsertions",
            CompactArray(
                ("name", _CS),
                ("mechanism", Int8),
                ("iterations", Int32),
                ("salt", CompactBytes),
                ("salted_password", CompactBytes),
                ("tags", TaggedFields),
            ),
        ),
        ("tags", TaggedFields),
    )


class _DescribeScramResponse(Response):  # type: ignore[misc]  # aiokafka is untyped
    API_KEY = 50
    API_VERSION = 0
    SCHEMA = Schema(
        ("throttle_time_ms", Int32),
        ("error_code", Int16),
        ("error_message", _CS),
        (
            "results",
            CompactArray(
                ("user", _CS),
                ("error_code", Int16),
                ("error_message", _CS),
                (
                    "credentials",
                    CompactArray(
                        ("mechanism", Int8), ("iterations", Int32), ("tags", TaggedFields)
                    ),
                ),
                ("tags", TaggedFields),
            ),
        ),
        ("tags", TaggedFields),
    )


class _DescribeScramV0(RequestStruct):  # type: ignore[misc]  # aiokafka is untyped
    FLEXIBLE_VERSION = True
    API_KEY = 50
    API_VERSION = 0
    RESPONSE_TYPE = _DescribeScramResponse
    SCHEMA = Schema(
        ("users", CompactArray(("name", _CS), ("tags", TaggedFields))), ("tags", TaggedFields)
    )


_Struct: TypeAlias = RequestStruct


def _request(struct_cls: type[RequestStruct], *fields: Any) -> Request[Any]:
    """A one-version :class:`Request` around ``struct_cls`` (aiokafka negotiates the rest)."""

    class _One(Request[_Struct]):  # type: ignore[misc]
        API_KEY = struct_cls.API_KEY

        def build(self, request_struct_class: type[_Struct]) -> _Struct:
            return request_struct_class(*fields)

    _One._CLASSES = (struct_cls,)  # after __init_subclass__, which derives it from the generic
    return _One()


def _error(code: int, message: str | None, what: str) -> None:
    if code:
        from aiokafka.errors import for_code

        name = for_code(code).__name__
        raise SecurityAdminError(f"{what}: Kafka error {code} {name}: {message or ''}".strip())


def scram_salted_password(password: str, salt: bytes, mechanism: str, iterations: int) -> bytes:
    """RFC 5802 ``Hi(password, salt, i)``: what the broker stores instead of the password."""
    digest = _SCRAM_TYPES[mechanism][1]
    return hashlib.pbkdf2_hmac(digest, password.encode(), salt, iterations)


# the admin ------------------------------------------------------------------------------
class SecurityAdmin:
    """SCRAM users and ACLs on one cluster, as the authenticated (super) user."""

    def __init__(self, client: AIOKafkaAdminClient) -> None:
        self._admin = client

    async def _send(self, request: Request[Any]) -> Any:
        return await compat.admin_send(self._admin, request)

    # SCRAM -----------------------------------------------------------------------------
    async def upsert_user(
        self,
        user: str,
        password: str,
        mechanism: str = "SCRAM-SHA-512",
        iterations: int = SCRAM_ITERATIONS,
    ) -> None:
        salt = secrets.token_bytes(32)
        salted = scram_salted_password(password, salt, mechanism, iterations)
        code = _SCRAM_TYPES[mechanism][0]
        resp = await self._send(
            _request(_AlterScramV0, [], [(user, code, iterations, salt, salted, {})], {})
        )
        for name, err, msg, _ in resp.results:
            _error(err, msg, f"setting SCRAM credential of {name}")

    async def delete_user(self, user: str) -> bool:
        """Remove every SCRAM credential of ``user``; False when it had none."""
        existing = (await self.describe_users([user])).get(user, [])
        if not existing:
            return False
        codes = {v[0]: k for k, v in _SCRAM_TYPES.items()}
        deletions: list[tuple[str, int, dict[int, bytes]]] = [
            (user, _SCRAM_TYPES[codes[m]][0], {}) for m, _ in existing
        ]
        resp = await self._send(_request(_AlterScramV0, deletions, [], {}))
        for name, err, msg, _ in resp.results:
            _error(err, msg, f"deleting SCRAM credential of {name}")
        return True

    async def describe_users(self, users: Iterable[str]) -> dict[str, list[tuple[int, int]]]:
        """``{user: [(mechanism code, iterations)]}``; users without credentials are absent."""
        resp = await self._send(_request(_DescribeScramV0, [(u, {}) for u in users], {}))
        _error(resp.error_code, resp.error_message, "describing SCRAM credentials")
        out: dict[str, list[tuple[int, int]]] = {}
        for user, err, msg, creds, _ in resp.results:
            if err == 91:  # RESOURCE_NOT_FOUND: no credential for this user
                continue
            _error(err, msg, f"describing SCRAM credential of {user}")
            out[user] = [(m, i) for m, i, _ in creds]
        return out

    # ACLs ------------------------------------------------------------------------------
    async def create_acls(self, entries: Iterable[AclEntry]) -> None:
        rows = [_binding(e) for e in entries]
        if not rows:
            return
        resp = await self._send(_request(_CreateAclsV1, rows))
        for (err, msg), row in zip(resp.results, rows, strict=True):
            _error(err, msg, f"creating ACL {row}")

    async def delete_acls(self, entries: Iterable[AclEntry]) -> int:
        """Delete exactly these bindings; returns how many the broker removed."""
        return await self._delete([_binding(e) for e in entries], "deleting ACLs")

    async def delete_principal_acls(self, principal_name: str) -> int:
        """Delete every ACL naming ``principal_name``, on any resource."""
        flt = (
            ResourceType.ANY,
            None,
            PatternType.ANY,
            principal_name,
            None,
            Operation.ANY,
            Permission.ANY,
        )
        return await self._delete([flt], f"deleting ACLs of {principal_name}")

    async def _delete(self, filters: list[tuple[Any, ...]], what: str) -> int:
        if not filters:
            return 0
        resp = await self._send(_request(_DeleteAclsV1, filters))
        removed = 0
        for err, msg, matching in resp.filter_results:
            _error(err, msg, what)
            removed += len(matching)
        return removed

    async def describe_acls(self, principal_name: str | None = None) -> set[AclEntry]:
        """ACLs as this broker's authorizer currently enforces them."""
        flt = (
            ResourceType.ANY,
            None,
            PatternType.ANY,
            principal_name,
            None,
            Operation.ANY,
            Permission.ANY,
        )
        resp = await self._send(_request(_DescribeAclsV1, *flt))
        _error(resp.error_code, resp.error_message, "describing ACLs")
        out: set[AclEntry] = set()
        for rtype, rname, ptype, acls in resp.resources:
            for who, host, op, perm in acls:
                out.add(
                    AclEntry(
                        who,
                        ResourceType(rtype),
                        rname,
                        PatternType(ptype),
                        Operation(op),
                        Permission(perm),
                        host,
                    )
                )
        return out

    async def wait_acls(
        self, principal_name: str, expected: set[AclEntry], timeout: float = 10.0
    ) -> None:
        """Wait until the broker enforces exactly ``expected`` for the principal.

        Changes are committed by the controller and then applied by the broker's metadata
        listener; DescribeAcls is answered from the broker's authorizer, so once it agrees
        the broker enforces the change.
        """
        deadline = time.monotonic() + timeout
        while True:
            current = await self.describe_acls(principal_name)
            if current == expected:
                return
            if time.monotonic() > deadline:
                raise SecurityAdminError(
                    f"ACLs of {principal_name} not applied within {timeout:.0f}s"
                )
            await asyncio.sleep(0.05)


def _in_deployment(resource_name: str, cat: Catalogue) -> bool:
    return resource_name.startswith((f"{cat.prefix}.", f"{cat.prefix}-"))


def _binding(e: AclEntry) -> tuple[Any, ...]:
    return (
        e.resource_type,
        e.resource_name,
        e.pattern,
        e.principal,
        e.host,
        e.operation,
        e.permission,
    )


@asynccontextmanager
async def security_admin(
    bootstrap: str, credentials: ClientCredentials | None = None
) -> AsyncIterator[SecurityAdmin]:
    """An admin connection authenticated with ``credentials`` (default: the environment)."""
    creds = credentials if credentials is not None else credentials_from_env()
    client = AIOKafkaAdminClient(
        bootstrap_servers=bootstrap,
        request_timeout_ms=30000,
        **client_kwargs(credentials=creds),
    )
    await client.start()
    try:
        yield SecurityAdmin(client)
    finally:
        await client.close()


# provisioning ---------------------------------------------------------------------------
@dataclass(frozen=True)
class Grant:
    """What :func:`grant_access` did. The password is only in the 0600 file at ``path``."""

    principal: str
    acls: tuple[AclEntry, ...]
    path: Path | None
    created_credential: bool


def credentials_path(state_dir: Path, user: str) -> Path:
    return state_dir / "credentials" / f"{user}.credentials"


def write_credentials_file(path: Path, creds: ClientCredentials) -> None:
    """Write a credentials file for ``REGBUS_CREDENTIALS_FILE`` (0600, directory 0700)."""

    path.parent.mkdir(parents=True, exist_ok=True)
    path.parent.chmod(0o700)
    lines = {
        ENV_PROTOCOL: creds.security_protocol,
        ENV_USERNAME: creds.username or "",
        ENV_PASSWORD: creds.password or "",
        "REGBUS_SASL_MECHANISM": creds.mechanism,
    }
    if creds.cafile:
        lines[ENV_CAFILE] = creds.cafile
    write_secret(path, "".join(f"{k}={v}\n" for k, v in lines.items()))


async def grant_access(
    settings: Any,
    kind: PrincipalKind,
    name: str,
    *,
    catalogue: Catalogue | None = None,
    credentials: ClientCredentials | None = None,
    out: Path | None = None,
    rotate: bool = False,
) -> Grant:
    """Create (or, with ``rotate``, replace) the principal's SCRAM credential and its ACLs.

    Idempotent: an existing credential is kept unless ``rotate``; ACLs not in the plan are
    removed, so re-running after a catalogue change converges on :func:`acl_plan`.
    ``credentials`` are the admin's (default: from the environment); the principal's new
    credentials file reuses their protocol and CA file.
    """
    admin_creds = credentials if credentials is not None else credentials_from_env()
    cat = catalogue or Catalogue.from_settings(settings)
    user = username(kind, name)
    who = principal(kind, name)
    plan = acl_plan(cat, kind, name)
    path = out or credentials_path(settings.state_dir, user)
    async with security_admin(settings.bootstrap, admin_creds) as admin:
        exists = user in await admin.describe_users([user])
        created = rotate or not exists
        if created:
            password = secrets.token_urlsafe(24)
            await admin.upsert_user(user, password, admin_creds.mechanism)
            write_credentials_file(
                path,
                ClientCredentials(
                    admin_creds.security_protocol,
                    user,
                    password,
                    admin_creds.mechanism,
                    admin_creds.cafile,
                ),
            )
        current = await admin.describe_acls(who)
        # Only this deployment's resources: a cluster may host several topic prefixes.
        stale = {e for e in current - set(plan) if _in_deployment(e.resource_name, cat)}
        await admin.delete_acls(stale)
        await admin.create_acls(plan)
        await admin.wait_acls(who, (current - stale) | set(plan))
    return Grant(who, tuple(plan), path if created else None, created)


async def revoke_access(
    settings: Any,
    kind: PrincipalKind,
    name: str,
    *,
    credentials: ClientCredentials | None = None,
    remove_file: bool = True,
) -> tuple[bool, int]:
    """Lock a principal out: delete its SCRAM credential and every ACL naming it.

    Connections already open lose all rights at once (ACLs are checked per request) and
    are closed within ``connections.max.reauth.ms``; new connections fail authentication.
    Returns (credential deleted, ACLs removed).
    """
    user = username(kind, name)
    who = principal(kind, name)
    async with security_admin(settings.bootstrap, credentials) as admin:
        removed = await admin.delete_principal_acls(who)
        deleted = await admin.delete_user(user)
        await admin.wait_acls(who, set())
    if remove_file:
        credentials_path(settings.state_dir, user).unlink(missing_ok=True)
    return deleted, removed


# what `regbus platform add|rotate|revoke` call in secure mode ---------------------------
async def provision_platform(settings: Any, platform_id: str, **kw: Any) -> Grant:
    return await grant_access(settings, PrincipalKind.PLATFORM, platform_id, **kw)


async def rotate_platform(settings: Any, platform_id: str, **kw: Any) -> Grant:
    return await grant_access(settings, PrincipalKind.PLATFORM, platform_id, rotate=True, **kw)


async def revoke_platform_access(settings: Any, platform_id: str, **kw: Any) -> tuple[bool, int]:
    return await revoke_access(settings, PrincipalKind.PLATFORM, platform_id, **kw)


def secure_mode(environ: dict[str, str] | None = None) -> bool:
    """True when the configured client credentials use SASL (so ACLs must be managed)."""
    return credentials_from_env(os.environ if environ is None else environ).secure
