"""Provision, rotate and revoke a platform on the secure broker; its consumer-group boundary."""

from __future__ import annotations

import asyncio
import time

import pytest
from aiokafka import AIOKafkaProducer
from aiokafka.conn import create_conn
from aiokafka.errors import (
    KafkaConnectionError,
    SaslAuthenticationFailed,
    TopicAuthorizationFailedError,
)
from aiokafka.protocol.metadata import MetadataRequest
from security_probes import ALLOWED, AUTHZ, REAUTH_MS, Probe, seed

from devtools.broker.secure import SecureBrokerLauncher
from streams.platform_secure import (
    provision_platform,
    revoke_platform_access,
    rotate_platform,
    security_admin,
)
from streams.security import (
    ClientCredentials,
    PrincipalKind,
    acl_plan,
    client_kwargs,
    credentials_from_env,
    group_prefix,
    worker_app_id,
)
from streams.settings import Settings
from streams.topics import Catalogue


def _load(path) -> ClientCredentials:  # type: ignore[no-untyped-def]
    return credentials_from_env({"REGBUS_CREDENTIALS_FILE": str(path)})


async def _producer(bootstrap: str, creds: ClientCredentials) -> AIOKafkaProducer:
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap,
        acks="all",
        enable_idempotence=True,
        request_timeout_ms=3000,
        **client_kwargs(credentials=creds),
    )
    await producer.start()
    return producer


async def _authenticates(port: int, creds: ClientCredentials) -> bool:
    try:
        conn = await create_conn("127.0.0.1", port, **client_kwargs(credentials=creds))
    except SaslAuthenticationFailed:
        return False
    conn.close()
    return True


async def test_add_creates_a_credential_file_and_exactly_the_planned_acls_idempotently(
    secure_settings: Settings,
    admin_credentials: ClientCredentials,
    two_platforms: Catalogue,
) -> None:
    a = two_platforms.platforms[0]
    grant = await provision_platform(
        secure_settings, a, catalogue=two_platforms, credentials=admin_credentials
    )
    assert grant.created_credential and grant.path is not None
    assert grant.path.stat().st_mode & 0o777 == 0o600
    assert grant.path.parent.stat().st_mode & 0o777 == 0o700
    creds = _load(grant.path)
    assert creds.username == f"platform-{a}" and creds.security_protocol == "SASL_SSL"
    assert creds.password and creds.password not in repr(creds)

    again = await provision_platform(
        secure_settings, a, catalogue=two_platforms, credentials=admin_credentials
    )
    assert not again.created_credential and again.path is None, "add must not rotate"
    async with security_admin(secure_settings.bootstrap, admin_credentials) as admin:
        enforced = await admin.describe_acls(grant.principal)
    assert enforced == set(acl_plan(two_platforms, PrincipalKind.PLATFORM, a))
    assert await _authenticates(secure_settings.port, creds), "the first password still works"


async def test_an_idempotent_producer_needs_only_write_on_its_own_topic(
    secure_settings: Settings,
    admin_credentials: ClientCredentials,
    two_platforms: Catalogue,
) -> None:
    a = two_platforms.platforms[0]
    grant = await provision_platform(
        secure_settings, a, catalogue=two_platforms, credentials=admin_credentials
    )
    assert grant.path is not None
    producer = await _producer(secure_settings.bootstrap, _load(grant.path))
    try:
        meta = await producer.send_and_wait(two_platforms.ingress(a), b"v", key=b"k")
        assert meta.offset >= 0
        txn = producer._txn_manager
        assert txn is not None and txn.producer_id >= 0, "InitProducerId was not granted"
    finally:
        await producer.stop()


async def test_a_revoked_platform_is_locked_out_at_once(
    secure_settings: Settings,
    admin_credentials: ClientCredentials,
    two_platforms: Catalogue,
) -> None:
    a = two_platforms.platforms[0]
    grant = await provision_platform(
        secure_settings, a, catalogue=two_platforms, credentials=admin_credentials
    )
    assert grant.path is not None
    creds = _load(grant.path)
    producer = await _producer(secure_settings.bootstrap, creds)
    try:
        await producer.send_and_wait(two_platforms.ingress(a), b"before", key=b"k")
        deleted, removed = await revoke_platform_access(
            secure_settings, a, credentials=admin_credentials
        )
        assert deleted and removed == len(acl_plan(two_platforms, PrincipalKind.PLATFORM, a))
        started = time.monotonic()
        with pytest.raises(TopicAuthorizationFailedError):
            await producer.send_and_wait(two_platforms.ingress(a), b"after", key=b"k")
        assert time.monotonic() - started < 2, "the open connection kept its rights"
    finally:
        await producer.stop()
    assert not await _authenticates(secure_settings.port, creds), "a new session was let in"
    assert not grant.path.exists(), "the revoked credentials file was left behind"


async def test_rotation_retires_the_old_password_and_cuts_its_open_sessions(
    secure_settings: Settings,
    admin_credentials: ClientCredentials,
    two_platforms: Catalogue,
) -> None:
    a = two_platforms.platforms[0]
    first = await provision_platform(
        secure_settings, a, catalogue=two_platforms, credentials=admin_credentials
    )
    assert first.path is not None
    old = _load(first.path)
    # A bare connection shows the session itself; a producer would hide the cut behind its
    # endless reconnect-and-retry loop (aiokafka treats a failed SASL login as retriable).
    session = await create_conn("127.0.0.1", secure_settings.port, **client_kwargs(credentials=old))
    try:
        await session.send(MetadataRequest([two_platforms.ingress(a)]))
        second = await rotate_platform(
            secure_settings, a, catalogue=two_platforms, credentials=admin_credentials
        )
        assert second.path == first.path and second.created_credential
        new = _load(second.path)
        assert new.password != old.password
        assert not await _authenticates(secure_settings.port, old)
        assert await _authenticates(secure_settings.port, new)
        rotated = time.monotonic()
        cut_after = None
        while time.monotonic() - rotated < REAUTH_MS / 1000 + 5:
            try:
                await session.send(MetadataRequest([two_platforms.ingress(a)]))
            except KafkaConnectionError:
                cut_after = time.monotonic() - rotated
                break
            await asyncio.sleep(0.25)
        assert cut_after is not None, "the old session outlived connections.max.reauth.ms"
        assert cut_after <= REAUTH_MS / 1000 + 1
    finally:
        session.close()


async def test_a_platform_consumes_only_in_its_own_group_namespace(
    secure_broker: SecureBrokerLauncher,
    secure_settings: Settings,
    admin_credentials: ClientCredentials,
    two_platforms: Catalogue,
) -> None:
    a, b = two_platforms.platforms[:2]
    inbox = two_platforms.inbox(a)
    await seed(secure_settings.bootstrap, admin_credentials, [inbox])
    grant = await provision_platform(
        secure_settings, a, catalogue=two_platforms, credentials=admin_credentials
    )
    assert grant.path is not None
    probe = Probe(secure_broker.bootstrap, client_kwargs(credentials=_load(grant.path)))
    own = group_prefix(two_platforms, PrincipalKind.PLATFORM, a) + "inbox"
    others = {
        "B's group": group_prefix(two_platforms, PrincipalKind.PLATFORM, b) + "inbox",
        "the worker's group": worker_app_id(two_platforms),
        "an unprefixed group": f"{a}-inbox",
    }
    assert await probe.read(inbox, group_id=own) == ALLOWED
    for what, group in others.items():
        assert await probe.read(inbox, group_id=group) == AUTHZ, f"A joined {what} {group}"
