"""A platform claiming to be another: the broker blocks the other's topic, ingress the claim.

ACLs decide *where* a platform may write (only its own ingress topic); they cannot see what
the record says. A platform that writes to its own topic while claiming another platform's
identity (``ce_source`` or ``platform_id``) is caught by the ingress agent, which trusts
the topic the record arrived on, never the record. This test sends the forgeries over the
secure broker with the platform's real credentials, consumes them with the worker's, and
feeds exactly what was consumed to :class:`agents.ingress.IngressProcessor`.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import UTC, datetime

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.errors import TopicAuthorizationFailedError

from schemas.models import ComplaintAcknowledged, DeadLetterReason
from streams.cloudevents_headers import platform_source
from streams.codec import EventCodec
from streams.platform_secure import grant_access
from streams.security import (
    DEFAULT_ACCOUNTS,
    ClientCredentials,
    PrincipalKind,
    client_kwargs,
    credentials_from_env,
)
from streams.settings import Settings
from streams.topics import Catalogue

ingress = pytest.importorskip("agents.ingress", reason="the ingress agent is not written yet")
batching = pytest.importorskip("agents.batching")


class _EmptyTable:
    def get(self, key: bytes) -> bytes | None:
        return None

    def items(self) -> Iterable[tuple[bytes, bytes]]:
        return ()


async def _credentials(
    settings: Settings, admin: ClientCredentials, cat: Catalogue, kind: PrincipalKind, name: str
) -> ClientCredentials:
    grant = await grant_access(settings, kind, name, catalogue=cat, credentials=admin, rotate=True)
    assert grant.path is not None
    return credentials_from_env({"REGBUS_CREDENTIALS_FILE": str(grant.path)})


async def test_a_platform_posing_as_another_is_dead_lettered_as_spoofed(
    secure_settings: Settings,
    admin_credentials: ClientCredentials,
    two_platforms: Catalogue,
) -> None:
    cat = two_platforms
    a, b = cat.platforms[:2]
    platform_a = await _credentials(
        secure_settings, admin_credentials, cat, PrincipalKind.PLATFORM, a
    )
    worker = await _credentials(
        secure_settings,
        admin_credentials,
        cat,
        PrincipalKind.WORKER,
        DEFAULT_ACCOUNTS[PrincipalKind.WORKER],
    )
    codec = EventCodec()

    def ack(claimed: str) -> ComplaintAcknowledged:
        return ComplaintAcknowledged(
            event_id=str(uuid.uuid4()),
            case_id=f"case-{uuid.uuid4().hex[:8]}",
            platform_id=claimed,
            occurred_at=datetime(2025, 3, 3, 8, 0, tzinfo=UTC),
        )

    honest = codec.encode(ack(a), platform_source(a))
    as_b_header = codec.encode(ack(b), platform_source(b))  # claims B everywhere
    b_event = ack(b)
    as_b_body = (
        b_event.case_id.encode(),
        codec.encode_value(b_event),
        codec.headers_for(b_event, platform_source(a)),
    )  # honest header, B's id

    producer = AIOKafkaProducer(
        bootstrap_servers=secure_settings.bootstrap,
        acks="all",
        enable_idempotence=True,
        **client_kwargs(credentials=platform_a),
    )
    await producer.start()
    try:
        with pytest.raises(TopicAuthorizationFailedError):  # the direct route is closed
            await producer.send_and_wait(
                cat.ingress(b), as_b_header[1], key=as_b_header[0], headers=as_b_header[2]
            )
        for key, value, headers in (honest, as_b_header, as_b_body):
            await producer.send_and_wait(
                cat.ingress(a), value, key=key, headers=headers, partition=0
            )
    finally:
        await producer.stop()

    consumer = AIOKafkaConsumer(
        bootstrap_servers=secure_settings.bootstrap,
        group_id=None,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        **client_kwargs(credentials=worker),
    )
    await consumer.start()
    tp = TopicPartition(cat.ingress(a), 0)
    consumer.assign([tp])
    consumed = []
    try:
        while len(consumed) < 3:
            batch = await consumer.getmany(tp, timeout_ms=5000)
            assert batch, "the worker did not receive A's records"
            consumed += batch[tp]
    finally:
        await consumer.stop()

    directory = ingress.PlatformDirectory(
        {a: ingress.PlatformStatus.ACTIVE, b: ingress.PlatformStatus.ACTIVE}
    )
    processor = ingress.IngressProcessor(cat, directory, codec=codec)
    records = [
        batching.InRecord(
            m.topic, m.partition, m.offset, m.key, m.value, list(m.headers), m.timestamp
        )
        for m in consumed
    ]
    result = processor.process(records, {ingress.DEDUP_TABLE: _EmptyTable()})

    assert processor.metrics.routed == 1, "the honest record must still go through"
    assert processor.metrics.dead_lettered == {DeadLetterReason.SPOOFED_SOURCE: 2}
    inbox = f"{cat.prefix}.inbox."
    routed = [o for o in result.out if o.topic != cat.deadletter and not o.topic.startswith(inbox)]
    assert [o.key for o in routed] == [honest[0]]
    # the refused records' owner hears of them in its inbox (reason and coordinates only)
    assert sum(o.topic.startswith(inbox) for o in result.out) == 2
    assert sum(o.topic == cat.deadletter for o in result.out) == 2
