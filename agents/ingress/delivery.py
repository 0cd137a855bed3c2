"""How an ingress batch's outcome becomes durable before its offsets may be committed.

Faust acks the events of a ``take_events`` batch when the agent asks for the next batch —
also when the agent raised (``Stream.take_events``'s ``finally``) — and commits acked
offsets after flushing the producer, whether or not the flushed sends succeeded. So the
agent must not raise, and must not ask for the next batch before every record of this one
has a durable outcome. :meth:`IngressDelivery.handle` therefore:

1. runs the processor on the batch; if it raises (it is built not to), runs it again one
   record at a time, and a record that raises on its own is dead-lettered (PROCESSING_ERROR);
2. appends every output to the worker's aiokafka producer (appending is a few microseconds:
   see below) and awaits their deliveries together; then the state writes (dedup keys), so
   the changelog never holds a key whose copies were lost with a killed worker;
3. a copy the broker refused (too large, not allowed, …) makes its record a dead letter
   (PRODUCE_FAILED, dedup key deleted); a dead letter refused whole is sent again in digest
   form; other errors (timeouts, a broker away) are retried with a growing pause, and after
   :data:`RETRY_ROUNDS` the record is dead-lettered; a dead letter is retried until it holds.

Only then does the agent take the next batch. Appending straight to aiokafka's accumulator
(rather than Faust's ``send_soon``, a buffered message object and a task hop per record)
keeps ingress at tens of thousands of records a second.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from functools import partial
from typing import Any

from aiokafka import TopicPartition
from aiokafka.errors import (
    InvalidTopicError,
    MessageSizeTooLargeError,
    RecordListTooLargeError,
    RecordTooLargeError,
    TopicAuthorizationFailedError,
)

from agents.batching import TableIO
from agents.ingress.processor import IngressProcessor
from schemas.models import DeadLetterRecord
from streams import compat
from streams.records import BatchResult, InRecord, OutRecord, StateReader

log = logging.getLogger(__name__)

REFUSALS: tuple[type[BaseException], ...] = (
    MessageSizeTooLargeError,
    RecordTooLargeError,
    RecordListTooLargeError,
    InvalidTopicError,
    TopicAuthorizationFailedError,
)
"""Errors a resend cannot cure: the record is dead-lettered at once."""
RETRY_ROUNDS = 5
"""Rounds an output failing with another error is resent before its record is dead-lettered."""
RETRY_PAUSE = 0.5
"""Seconds before the first resend; doubled each round, at most :data:`MAX_PAUSE`."""
MAX_PAUSE = 15.0

_Failure = tuple[InRecord, OutRecord, BaseException]


class IngressDelivery:
    """Runs one ingress batch to a durable outcome (see the module docstring)."""

    def __init__(
        self,
        app: Any,
        table: Any,
        io: TableIO,
        processor: IngressProcessor,
        readers: dict[str, StateReader],
    ) -> None:
        self._app = app
        self._table = table
        self._io = io
        self._readers = readers
        self.processor = processor
        self.deadletter_topic = processor.catalogue.deadletter

    async def handle(self, batch: Sequence[InRecord]) -> None:
        try:
            result, origins = self.processor.process_traced(batch, self._readers)
        except Exception:  # never expected: process() catches per record
            log.exception("ingress: a batch of %d records raised; taking it one by one",
                          len(batch))  # fmt: skip
            for rec in batch:
                await self._one_alone(rec)
            return
        await self.deliver(result, origins)

    async def _one_alone(self, rec: InRecord) -> None:
        try:
            result, origins = self.processor.process_traced([rec], self._readers)
        except Exception as exc:
            log.exception("ingress: %s[%d]@%d raised on its own; dead-lettering it",
                          rec.topic, rec.partition, rec.offset)  # fmt: skip
            result = self.processor.processing_failed(rec, exc)
            origins = [rec] * len(result.out)
        await self.deliver(result, origins)  # at once: the next record reads its state

    async def deliver(self, result: BatchResult, origins: Sequence[InRecord]) -> None:
        """Send ``result`` and wait until each of its records has a durable outcome."""
        failures = await self._send(result, origins)
        rounds = 0
        while failures:
            rounds += 1
            again, again_origins, resent = self._recover(failures, rounds)
            if resent:
                pause = min(MAX_PAUSE, RETRY_PAUSE * 2 ** min(rounds - 1, 8))
                log.warning("ingress: %d outputs not delivered (%s); retrying in %.1fs",
                            len(failures), _first_error(failures), pause)  # fmt: skip
                await asyncio.sleep(pause)
            failures = await self._send(again, again_origins)

    def _recover(
        self, failures: list[_Failure], rounds: int
    ) -> tuple[BatchResult, list[InRecord], bool]:
        """What to send next: outputs resent as they are, then the dead letters (and dedup
        tombstones) replacing the others; their origins; whether anything is resent."""
        retry, recovery = BatchResult(), BatchResult()
        retry_origins: list[InRecord] = []
        recovery_origins: list[InRecord] = []
        done: set[int] = set()
        for rec, out, exc in failures:
            if out.topic == self.deadletter_topic:
                replacement = self._digest_dead_letter(rec, out, exc)
                if replacement is None:
                    retry.out.append(out)
                    retry_origins.append(rec)
                else:
                    recovery.out.append(replacement)
                    recovery_origins.append(rec)
                continue
            if not isinstance(exc, REFUSALS) and rounds <= RETRY_ROUNDS:
                retry.out.append(out)
                retry_origins.append(rec)
                continue
            if id(rec) in done:
                continue  # one dead letter per record, however many of its copies failed
            done.add(id(rec))
            routed_copy = self.processor.is_canonical(out.topic)
            log.error("ingress: %s[%d]@%d: %s refused its copy (%s); dead-lettering it",
                      rec.topic, rec.partition, rec.offset, out.topic, exc)  # fmt: skip
            dead = self.processor.delivery_failed(rec, exc, unrouted=routed_copy)
            recovery.out += dead.out
            recovery.writes += dead.writes
            recovery_origins += [rec] * len(dead.out)
        resent = bool(retry.out)
        retry.out += recovery.out
        retry.writes += recovery.writes
        return retry, retry_origins + recovery_origins, resent

    def _digest_dead_letter(
        self, rec: InRecord, out: OutRecord, exc: BaseException
    ) -> OutRecord | None:
        """The digest form of a dead letter the broker refused whole; None to resend it."""
        if not isinstance(exc, REFUSALS):
            return None
        try:
            refused = self.processor.codec.decode(out.value, out.headers)
        except Exception:
            refused = None
        if not isinstance(refused, DeadLetterRecord) or refused.original_value is None:
            return None  # already without the original: nothing smaller to send
        detail = f"dead letter refused whole ({type(exc).__name__}); {refused.detail}"
        return self.processor.dead_letter(rec, refused.reason, detail, digest=True)

    async def _send(self, result: BatchResult, origins: Sequence[InRecord]) -> list[_Failure]:
        producer = compat.faust_aiokafka_producer(self._app)
        failures: list[_Failure] = []
        pending: list[tuple[InRecord, OutRecord, Any]] = []
        for out, rec in zip(result.out, origins, strict=True):
            try:
                fut = await producer.send(
                    out.topic, out.value, key=out.key, partition=out.partition,
                    headers=out.headers,
                )  # fmt: skip
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # refused before sending (size), or no metadata
                failures.append((rec, out, exc))
                continue
            pending.append((rec, out, fut))
        outcomes = await asyncio.gather(*(f for _, _, f in pending), return_exceptions=True)
        for (rec, out, _), outcome in zip(pending, outcomes, strict=True):
            if isinstance(outcome, BaseException):
                if isinstance(outcome, asyncio.CancelledError):
                    raise outcome
                failures.append((rec, out, outcome))
        # The state (dedup keys) only after the copies are durable: a worker killed between
        # the two must not leave a dedup key whose copies never reached the broker, or the
        # re-read record would be taken for a duplicate and lost.
        changelog = self._table.changelog_topic.get_topic_name()
        last: dict[int, Any] = {}
        for w in result.writes:
            self._io.put_local(w.partition, w.key, w.value)
            try:
                last[w.partition] = await producer.send(
                    changelog, w.value, key=w.key, partition=w.partition
                )
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the store has it; recovery would re-read the input
                log.warning("ingress: dedup changelog write failed: %s", exc)
        for partition, fut in last.items():
            fut.add_done_callback(partial(self._persisted, TopicPartition(changelog, partition)))
        if last:
            await asyncio.gather(*last.values(), return_exceptions=True)
        return failures

    def _persisted(self, tp: Any, fut: Any) -> None:
        # What Table._on_changelog_sent does: RocksDB remembers how far its data goes.
        if not fut.cancelled() and fut.exception() is None:
            self._table.data.set_persisted_offset(tp, fut.result().offset)


def _first_error(failures: list[_Failure]) -> str:
    _rec, out, exc = failures[0]
    return f"{out.topic}: {type(exc).__name__}: {exc}"
