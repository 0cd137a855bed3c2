"""Bounded waits and small consume/produce helpers for real-broker tests."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.structs import ConsumerRecord


async def wait_until(
    predicate: Callable[[], Awaitable[bool] | bool],
    timeout: float,
    message: str | Callable[[], str],
    interval: float = 0.1,
) -> None:
    """Poll ``predicate`` until true; fail with ``message`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        result = predicate()
        if isinstance(result, Awaitable):
            result = await result
        if result:
            return
        if time.monotonic() > deadline:
            text = message() if callable(message) else message
            raise AssertionError(f"timed out after {timeout:.0f}s: {text}")
        await asyncio.sleep(interval)


class TopicReader:
    """Reads one or more topics from the beginning, accumulating every record seen."""

    def __init__(self, bootstrap: str, *topics: str) -> None:
        self.records: list[ConsumerRecord[bytes, bytes]] = []
        self._consumer = AIOKafkaConsumer(
            *topics,
            bootstrap_servers=bootstrap,
            group_id=None,
            auto_offset_reset="earliest",
            enable_auto_commit=False,
        )

    async def __aenter__(self) -> TopicReader:
        await self._consumer.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self._consumer.stop()

    async def poll(self) -> int:
        batch = await self._consumer.getmany(timeout_ms=200)
        n = 0
        for records in batch.values():
            self.records.extend(records)
            n += len(records)
        return n

    async def read_until(
        self,
        predicate: Callable[[list[ConsumerRecord[bytes, bytes]]], bool],
        timeout: float,
        message: str | Callable[[], str],
    ) -> list[ConsumerRecord[bytes, bytes]]:
        async def check() -> bool:
            await self.poll()
            return predicate(self.records)

        await wait_until(check, timeout, message, interval=0)
        return self.records

    async def settle(self, quiet: float = 1.5, timeout: float = 30.0) -> list[Any]:
        """Read until nothing new arrives for ``quiet`` seconds (bounded by ``timeout``)."""
        deadline = time.monotonic() + timeout
        last_new = time.monotonic()
        while time.monotonic() < deadline:
            if await self.poll():
                last_new = time.monotonic()
            elif time.monotonic() - last_new >= quiet:
                break
        return self.records


async def produce(
    bootstrap: str,
    topic: str,
    records: list[tuple[bytes | None, bytes, list[tuple[str, bytes]]]],
    partition: int | None = None,
) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=True)
    await producer.start()
    try:
        futures = [
            await producer.send(topic, value, key=key, headers=headers, partition=partition)
            for key, value, headers in records
        ]
        await asyncio.gather(*futures)
    finally:
        await producer.stop()
