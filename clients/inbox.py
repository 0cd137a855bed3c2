"""A platform's inbox: everything the bureau tells it — every decision on its cases, its own
SLA warnings (ahead of the deadline) and breaches, escalations, interview recommendations and
its refused records — as decoded events or as typed notices (:mod:`clients.notices`).

::

    async with PlatformInbox("acme", "127.0.0.1:19092") as inbox:
        async for notice in inbox.notices():
            match notice:
                case DeadlineWarning(time_left=left): hurry(notice.case_id, left)
                case CaseDecision(): apply(notice.event)
                case RefusedRecord(reason=why): fix(notice.your_event_id, why)
            # the offset is committed when you ask for the next one

Delivery is at-least-once: an event's offset is committed only after the loop body that
received it finished and asked for the next event, so a crash (or a ``break``) replays it.
Handle events idempotently by ``event_id``.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Mapping
from typing import TYPE_CHECKING, Any

from schemas.models import Event
from streams.codec import DecodeError, EventCodec
from streams.topics import Catalogue

log = logging.getLogger(__name__)

__all__ = ["PlatformInbox", "default_group_id"]

if TYPE_CHECKING:
    from clients.notices import Notice


def default_group_id(prefix: str, platform_id: str) -> str:
    """``<prefix>.platform-<id>.inbox``: inside the group prefix the broker ACLs grant it."""
    return f"{prefix}.platform-{platform_id}.inbox"


class PlatformInbox:
    """Async iterator over the events in ``<prefix>.inbox.<platform_id>``."""

    def __init__(
        self,
        platform_id: str,
        bootstrap: str,
        *,
        prefix: str = "regbus",
        group_id: str | None = None,
        codec: EventCodec | None = None,
        auto_offset_reset: str = "earliest",
        consumer_options: Mapping[str, Any] | None = None,
    ) -> None:
        self.platform_id = platform_id
        self.bootstrap = bootstrap
        self.topic = Catalogue(prefix).inbox(platform_id)
        self.group_id = group_id or default_group_id(prefix, platform_id)
        self.codec = codec or EventCodec()
        self._kwargs = {
            "auto_offset_reset": auto_offset_reset,
            **(consumer_options or {}),
            "enable_auto_commit": False,
        }
        self._consumer: Any = None
        self.skipped = 0
        """Records that did not decode, or that name another platform (logged and committed
        past, never yielded)."""

    async def start(self) -> None:
        from aiokafka import AIOKafkaConsumer

        if self._consumer is not None:
            return
        consumer = AIOKafkaConsumer(
            self.topic, bootstrap_servers=self.bootstrap, group_id=self.group_id, **self._kwargs
        )
        await consumer.start()
        self._consumer = consumer

    async def stop(self) -> None:
        consumer, self._consumer = self._consumer, None
        if consumer is not None:
            await consumer.stop()

    async def __aenter__(self) -> PlatformInbox:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    def __aiter__(self) -> AsyncIterator[Event]:
        return self._events()

    async def _events(self) -> AsyncIterator[Event]:
        from aiokafka import TopicPartition

        await self.start()
        consumer = self._consumer
        while True:
            batch = await consumer.getmany(timeout_ms=1000)
            for tp, records in batch.items():
                for msg in records:
                    try:
                        event = self.codec.decode(msg.value, list(msg.headers or ()))
                    except DecodeError as exc:
                        # Ingress only forwards records it decoded, so this is a contract
                        # break upstream; skipping keeps the inbox moving.
                        log.error("inbox %s@%d: %s", self.topic, msg.offset, exc)
                        self.skipped += 1
                    else:
                        if event.platform_id == self.platform_id:
                            yield event
                        else:  # never expected: the bureau writes only the platform's own
                            log.error("inbox %s@%d: event of platform %r", self.topic,
                                      msg.offset, event.platform_id)  # fmt: skip
                            self.skipped += 1
                    await consumer.commit({TopicPartition(tp.topic, tp.partition): msg.offset + 1})

    async def notices(self) -> AsyncIterator[Notice]:
        """The inbox as typed notices (one class per kind, see :mod:`clients.notices`)."""
        from clients.notices import notice_of

        async for event in self._events():
            yield notice_of(event)
