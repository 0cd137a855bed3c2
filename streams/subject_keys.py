"""The data-subject key store: one AES-256 key per ``consumer_ref``, on ``<prefix>.subject-keys``.

The topic is compacted and keyed by the consumer reference; a value is the raw 32-byte key
(``SubjectKey``, not Avro: nothing but the key and no personal data), a tombstone erases it.
Only the worker and the bureau principals may read or write it (docs/security.md). Erasing
is crypto-shredding: every ``complainant_sealed`` blob of that subject, in every topic and
every export, stops opening, while the log and its hash chain are untouched.

After an erasure the store folded from the topic no longer has the key at once; the record
that held it stays on disk until the log cleaner compacts the segment (the topic rolls a
segment every hour and compacts within an hour, tombstones are kept one hour), so the key is
physically gone within about two hours. Backups of the topic must follow the same schedule.
"""

from __future__ import annotations

from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from schemas.sealed import KEY_BYTES, Complainant, new_key, seal_complainant
from streams.security import client_kwargs
from streams.settings import Settings
from streams.topics import Catalogue

__all__ = ["SubjectKeyStore"]


class SubjectKeyStore:
    """The keys folded from the topic (latest record per consumer ref wins)."""

    def __init__(self, settings: Settings, catalogue: Catalogue | None = None) -> None:
        self.settings = settings
        self.topic = (catalogue or Catalogue(settings.topic_prefix)).subject_keys
        self._keys: dict[str, bytes] = {}

    async def load(self) -> SubjectKeyStore:
        """Read the whole topic (up to its end when called) into memory."""
        consumer = AIOKafkaConsumer(
            bootstrap_servers=self.settings.bootstrap, group_id=None,
            enable_auto_commit=False, auto_offset_reset="earliest", **_options(self.settings),
        )  # fmt: skip
        await consumer.start()
        try:
            tp = TopicPartition(self.topic, 0)
            consumer.assign([tp])
            await consumer.seek_to_beginning(tp)
            end = (await consumer.end_offsets([tp]))[tp]
            keys: dict[str, bytes] = {}
            while end and await consumer.position(tp) < end:
                batch = await consumer.getmany(tp, timeout_ms=500)
                for rec in batch.get(tp, []):
                    if rec.key is None:
                        continue
                    ref = rec.key.decode("utf-8", "replace")
                    if rec.value is None or len(rec.value) != KEY_BYTES:
                        keys.pop(ref, None)
                    else:
                        keys[ref] = rec.value
            self._keys = keys
        finally:
            await consumer.stop()
        return self

    def get(self, consumer_ref: str) -> bytes | None:
        return self._keys.get(consumer_ref)

    def __contains__(self, consumer_ref: str) -> bool:
        return consumer_ref in self._keys

    async def _write(self, consumer_ref: str, value: bytes | None) -> None:
        producer = AIOKafkaProducer(
            bootstrap_servers=self.settings.bootstrap, acks="all", enable_idempotence=True,
            **_options(self.settings),
        )  # fmt: skip
        await producer.start()
        try:
            await producer.send_and_wait(self.topic, value, key=consumer_ref.encode(), partition=0)
        finally:
            await producer.stop()

    async def key_for(self, consumer_ref: str) -> bytes:
        """The subject's key, created (and written durably) on first use."""
        found = self._keys.get(consumer_ref)
        if found is None:
            found = new_key()
            await self._write(consumer_ref, found)
            self._keys[consumer_ref] = found
        return found

    async def seal(self, consumer_ref: str, case_id: str, who: Complainant) -> bytes:
        """``complainant_sealed`` for a ComplaintFiled of this subject and case."""
        return seal_complainant(await self.key_for(consumer_ref), consumer_ref, case_id, who)

    async def erase(self, consumer_ref: str) -> bool:
        """Tombstone the subject's key; True if there was one."""
        had = self._keys.pop(consumer_ref, None) is not None
        await self._write(consumer_ref, None)
        return had


def _options(settings: Settings) -> dict[str, Any]:
    return client_kwargs(settings)
