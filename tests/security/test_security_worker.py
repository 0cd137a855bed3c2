"""The worker's ACLs are enough for Faust: its consumer group, internal topics and outputs."""

from __future__ import annotations

import asyncio
from pathlib import Path

import faust
from security_probes import seed

from agents.app import faust_kwargs
from schemas.families import CaseFamily
from streams.platform_secure import grant_access
from streams.security import (
    DEFAULT_ACCOUNTS,
    ClientCredentials,
    PrincipalKind,
    credentials_from_env,
    worker_app_id,
)
from streams.settings import Settings
from streams.topics import Catalogue


async def test_a_faust_app_with_the_worker_credentials_consumes_ingress_and_keeps_a_table(
    secure_settings: Settings,
    admin_credentials: ClientCredentials,
    two_platforms: Catalogue,
    tmp_path: Path,
) -> None:
    cat = two_platforms
    grant = await grant_access(
        secure_settings,
        PrincipalKind.WORKER,
        DEFAULT_ACCOUNTS[PrincipalKind.WORKER],
        catalogue=cat,
        credentials=admin_credentials,
        rotate=True,
    )
    assert grant.path is not None
    worker = credentials_from_env({"REGBUS_CREDENTIALS_FILE": str(grant.path)})
    app = faust.App(
        worker_app_id(cat),
        broker=f"kafka://{secure_settings.bootstrap}",
        store="memory://",
        web_enabled=False,
        topic_partitions=cat.case_partitions,
        topic_replication_factor=1,
        consumer_auto_offset_reset="earliest",
        datadir=str(tmp_path / "faust"),
        **faust_kwargs(credentials=worker),
    )
    ingress_topics = [cat.ingress(p) for p in cat.platforms] + [cat.bureau_ingress]
    source = app.topic(*ingress_topics, key_serializer="raw", value_serializer="raw")
    sink = app.topic(cat.cases(CaseFamily.COMPLAINTS), key_serializer="raw", value_serializer="raw")
    seen = app.Table("seen", default=int, partitions=cat.case_partitions)
    forwarded = asyncio.Event()

    @app.agent(source)
    async def ingress(stream):  # type: ignore[no-untyped-def]
        async for event in stream.events():
            seen[event.message.topic] += 1
            await sink.send(key=event.key, value=event.value)
            forwarded.set()

    await app.start()
    try:
        await seed(secure_settings.bootstrap, admin_credentials, [cat.ingress(cat.platforms[0])])
        await asyncio.wait_for(forwarded.wait(), 30)
    finally:
        await app.stop()
    from aiokafka.admin import AIOKafkaAdminClient

    from streams.security import client_kwargs

    admin = AIOKafkaAdminClient(
        bootstrap_servers=secure_settings.bootstrap, **client_kwargs(credentials=admin_credentials)
    )
    await admin.start()
    try:
        topics = set(await admin.list_topics())
    finally:
        await admin.close()
    assert f"{worker_app_id(cat)}-seen-changelog" in topics, "the worker created its changelog"
