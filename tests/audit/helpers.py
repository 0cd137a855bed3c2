"""Shared pieces of the audit tests: scenario records, the live processor as an oracle, and
small broker helpers (publish a scenario, wait for the worker, read a changelog)."""

from __future__ import annotations

import asyncio
import time
import zlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

import orjson
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from agents.cases import CASES_TABLE, CaseProcessor
from agents.core.context import Context
from audit.fold import MemoryStore
from schemas.families import CaseFamily
from schemas.models import Event
from streams.codec import EventCodec
from streams.records import InRecord
from streams.ticks import tick_records
from streams.topics import Catalogue
from tests.cases.scenario import Step

SOURCE = "/platforms/test"


@dataclass
class FakeRecord:
    offset: int
    timestamp: int
    key: bytes | None
    value: bytes
    headers: list[tuple[str, bytes]] = field(default_factory=list)


Log = dict[tuple[str, int], list[FakeRecord]]


def family_of(event: Event) -> CaseFamily:
    name = type(event).__name__
    if name.startswith("Complaint"):
        return CaseFamily.COMPLAINTS
    if name.startswith("Refund"):
        return CaseFamily.REFUNDS
    return CaseFamily.RECTIFICATIONS


def partition_of(case_id: str, catalogue: Catalogue) -> int:
    return zlib.crc32(case_id.encode()) % catalogue.case_partitions


def step_records(
    catalogue: Catalogue, step: Step, codec: EventCodec
) -> list[tuple[str, int, bytes | None, bytes, list[tuple[str, bytes]]]]:
    """The (topic, partition, key, value, headers) records one scenario step writes."""
    if step.event is None:
        return tick_records(catalogue, step.at, codec)
    key, value, headers = codec.encode(step.event, SOURCE)
    topic = catalogue.cases(family_of(step.event))
    return [(topic, partition_of(step.event.case_id, catalogue), key, value, headers)]


def build_log(catalogue: Catalogue, steps: Iterable[Step], codec: EventCodec) -> Log:
    log: Log = {}
    clock = 1_000
    for step in steps:
        for topic, p, key, value, headers in step_records(catalogue, step, codec):
            part = log.setdefault((topic, p), [])
            clock += 1
            part.append(FakeRecord(len(part), clock, key, value, list(headers)))
    return log


def live_run(
    catalogue: Catalogue, log: Log, ctx: Context, batch: int = 1000
) -> tuple[dict[CaseFamily, dict[bytes, bytes]], list[Event]]:
    """What the live agents would hold and emit: CaseProcessor over the log in batches."""
    stores: dict[CaseFamily, MemoryStore] = {}
    procs: dict[CaseFamily, CaseProcessor] = {}
    outputs: list[Event] = []
    for family in CaseFamily:
        stores[family] = MemoryStore()
        procs[family] = CaseProcessor(family, catalogue, ctx)
        procs[family].on_output = outputs.append
    for (topic, p), records in sorted(log.items()):
        family = next(f for f in CaseFamily if catalogue.cases(f) == topic)
        for i in range(0, len(records), batch):
            chunk = [
                InRecord(topic, p, r.offset, r.key, r.value, r.headers, r.timestamp)
                for r in records[i : i + batch]
            ]
            result = procs[family].process(chunk, {CASES_TABLE: stores[family]})
            for w in result.writes:
                assert w.value is not None
                stores[family].data[w.key] = w.value
    return {f: s.data for f, s in stores.items()}, outputs


def steps_until(steps: list[Step], until: datetime) -> list[Step]:
    return [s for s in steps if s.at <= until]


# broker helpers -------------------------------------------------------------------------
async def publish_steps(
    bootstrap: str, catalogue: Catalogue, steps: Iterable[Step], codec: EventCodec
) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=True)
    await producer.start()
    try:
        futures = []
        for step in steps:
            for topic, p, key, value, headers in step_records(catalogue, step, codec):
                futures.append(
                    await producer.send(topic, value, key=key, partition=p, headers=headers)
                )
        await asyncio.gather(*futures)
    finally:
        await producer.stop()


async def end_offsets(bootstrap: str, topics: list[str]) -> dict[TopicPartition, int]:
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=None)
    await consumer.start()
    try:
        admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
        await admin.start()
        try:
            described = await admin.describe_topics(topics)
        finally:
            await admin.close()
        tps = [TopicPartition(d["topic"], p["partition"]) for d in described
               for p in d["partitions"]]  # fmt: skip
        return await consumer.end_offsets(tps)
    finally:
        await asyncio.sleep(0)
        await consumer.stop()


async def wait_processed(
    bootstrap: str, catalogue: Catalogue, timeout: float, why: str = ""
) -> None:
    """Until the worker's group has committed every case-topic record written so far."""
    group = f"{catalogue.prefix}-bureau"
    ends = await end_offsets(bootstrap, [catalogue.cases(f) for f in CaseFamily])
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        deadline = time.monotonic() + timeout
        while True:
            committed = await admin.list_consumer_group_offsets(group)
            behind = {
                tp: end for tp, end in ends.items()
                if end > 0 and (tp not in committed or committed[tp].offset < end)
            }  # fmt: skip
            if not behind:
                return
            if time.monotonic() > deadline:
                raise AssertionError(f"worker did not process the case topics {why}: {behind}")
            await asyncio.sleep(0.2)
    finally:
        await admin.close()


async def read_changelog(bootstrap: str, topic: str) -> dict[bytes, bytes]:
    """The latest value per key of a table changelog (what the table holds)."""
    ends = await end_offsets(bootstrap, [topic])
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap, group_id=None, auto_offset_reset="earliest"
    )
    await consumer.start()
    out: dict[bytes, bytes] = {}
    try:
        active = [tp for tp, end in ends.items() if end > 0]
        if not active:
            return out
        consumer.assign(active)
        await consumer.seek_to_beginning(*active)
        todo = set(active)
        while todo:
            batch = await consumer.getmany(timeout_ms=500)
            for tp, records in batch.items():
                for r in records:
                    if r.value is None:
                        out.pop(r.key, None)
                    else:
                        out[r.key] = r.value
                if records and records[-1].offset >= ends[tp] - 1:
                    todo.discard(tp)
    finally:
        await asyncio.sleep(0)  # see streams.ledger.logread.LogReader.__aexit__
        await consumer.stop()
    return out


def states_of(store: dict[bytes, bytes]) -> dict[str, dict[str, object]]:
    """Case id → dumped state, from envelope bytes (ignores the envelope's partition)."""
    return {k.decode(): orjson.loads(v)["s"] for k, v in store.items()}
