"""Probe what a principal may do on the secure broker: one bounded attempt per topic and operation.

An attempt ends as ``allowed`` (the record went in, or a seeded record came back), ``authz``
(the broker answered TOPIC/CLUSTER/GROUP_AUTHORIZATION_FAILED), ``authn`` (the client could
not get an authenticated connection at all) or ``error: …`` (anything else, always a
failure). Nothing here waits on a sleep: reads poll with a deadline.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Iterable
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import (
    ClusterAuthorizationFailedError,
    GroupAuthorizationFailedError,
    KafkaConnectionError,
    TopicAuthorizationFailedError,
)

from streams.security import ClientCredentials, client_kwargs
from streams.topics import TopicSpec

ALLOWED, AUTHZ, AUTHN = "allowed", "authz", "authn"
_AUTHZ_ERRORS = (
    TopicAuthorizationFailedError,
    ClusterAuthorizationFailedError,
    GroupAuthorizationFailedError,
)

# The secure test broker re-authenticates sessions this often (production default: 10 s).
REAUTH_MS = 4000

# (title, text) pairs printed in the terminal summary by conftest.py.
REPORTS: list[tuple[str, str]] = []

logging.getLogger("aiokafka").setLevel(logging.CRITICAL)


async def create_topics(
    bootstrap: str, admin: ClientCredentials, specs: Iterable[TopicSpec]
) -> None:
    client = AIOKafkaAdminClient(bootstrap_servers=bootstrap, **client_kwargs(credentials=admin))
    await client.start()
    try:
        existing = set(await client.list_topics())
        new = [
            NewTopic(s.name, s.partitions, 1, topic_configs=s.config())
            for s in specs
            if s.name not in existing
        ]
        if new:
            resp = await client.create_topics(new, timeout_ms=30000)
            bad = [(name, code) for name, code, _ in resp.topic_errors if code]
            assert not bad, f"creating topics failed: {bad}"
    finally:
        await client.close()


async def seed(bootstrap: str, admin: ClientCredentials, topics: Iterable[str]) -> None:
    """One record in partition 0 of each topic, so a permitted read has something to return."""
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap, acks="all", **client_kwargs(credentials=admin)
    )
    await producer.start()
    try:
        await asyncio.gather(
            *[await producer.send(t, b"seed", key=b"seed", partition=0) for t in topics]
        )
    finally:
        await producer.stop()


class Probe:
    """One principal's producer and consumer; ``write``/``read`` classify a single attempt."""

    def __init__(self, bootstrap: str, kwargs: dict[str, Any], timeout: float = 5.0) -> None:
        self.bootstrap = bootstrap
        self.kwargs = kwargs
        self.timeout = timeout

    async def write(self, topic: str) -> str:
        producer = AIOKafkaProducer(
            bootstrap_servers=self.bootstrap, acks="all", request_timeout_ms=5000, **self.kwargs
        )
        try:
            await producer.start()
        except KafkaConnectionError:
            return AUTHN
        try:
            await asyncio.wait_for(
                producer.send_and_wait(topic, b"probe", key=b"probe", partition=0), self.timeout
            )
            return ALLOWED
        except _AUTHZ_ERRORS:
            return AUTHZ
        except Exception as exc:
            return f"error: {type(exc).__name__}: {exc}"
        finally:
            await producer.stop()

    async def read(self, topic: str, group_id: str | None = None) -> str:
        consumer = AIOKafkaConsumer(
            bootstrap_servers=self.bootstrap,
            group_id=group_id,
            auto_offset_reset="earliest",
            enable_auto_commit=False,
            request_timeout_ms=5000,
            **self.kwargs,
        )
        try:
            await consumer.start()
        except KafkaConnectionError:
            return AUTHN
        try:
            return await self._read(consumer, topic, group_id)
        except _AUTHZ_ERRORS:
            return AUTHZ
        except Exception as exc:
            return f"error: {type(exc).__name__}: {exc}"
        finally:
            await consumer.stop()

    async def _read(self, consumer: AIOKafkaConsumer, topic: str, group_id: str | None) -> str:
        tp = TopicPartition(topic, 0)
        if group_id is None:
            consumer.assign([tp])
        else:
            consumer.subscribe([topic])
        deadline = time.monotonic() + self.timeout
        while time.monotonic() < deadline:
            # A topic the principal may not even DESCRIBE never reaches the fetcher: aiokafka
            # records the broker's TOPIC_AUTHORIZATION_FAILED metadata answer here and retries.
            if topic in consumer._client.cluster.unauthorized_topics:
                return AUTHZ
            batch = await consumer.getmany(timeout_ms=100)
            if any(batch.values()):
                if group_id is not None:
                    await consumer.commit()
                return ALLOWED
        return f"error: no record and no denial within {self.timeout:.0f}s"
