"""One test per private Faust/aiokafka name :mod:`streams.compat` touches.

Each test runs the compat function against the installed library, so an upgrade that renames
or removes a private name fails here, by name, instead of somewhere deep in a worker.
"""

from __future__ import annotations

import inspect
import uuid
from pathlib import Path
from typing import Any

import faust
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from faust.stores import memory, rocksdb
from faust.transport import consumer as faust_consumer
from faust.transport.drivers import aiokafka as faust_aiokafka

from streams import compat


def _app(tmp_path: Path) -> Any:
    return faust.App(
        f"compat-{uuid.uuid4().hex[:8]}", broker="kafka://127.0.0.1:1", store="memory://",
        datadir=str(tmp_path), web_enabled=False,
    )  # fmt: skip


# ---- aiokafka -------------------------------------------------------------------------------
async def test_partitions_of_asks_the_cluster(bootstrap: str) -> None:
    topic = f"compat-{uuid.uuid4().hex}"
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(topic, num_partitions=3, replication_factor=1)])
    finally:
        await admin.close()
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap)
    await consumer.start()
    try:
        assert await compat.partitions_of(consumer, topic) == [0, 1, 2]
        assert await compat.partitions_of(consumer, f"{topic}-missing") == []
    finally:
        await consumer.stop()


async def test_max_request_size_reads_the_producer_setting() -> None:
    producer = AIOKafkaProducer(bootstrap_servers="127.0.0.1:1", max_request_size=123_456)
    assert compat.max_request_size(producer) == 123_456


async def test_admin_send_reaches_a_node(bootstrap: str) -> None:
    from streams.platform_secure import SecurityAdmin

    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:  # SCRAM users, described through compat.admin_send: none of this name exists
        assert await SecurityAdmin(admin).describe_users([f"nobody-{uuid.uuid4().hex}"]) == {}
    finally:
        await admin.close()


# ---- Faust ----------------------------------------------------------------------------------
def test_producer_extra_settings_hook_is_what_faust_reads() -> None:
    original = faust_aiokafka.Producer._settings_extra
    try:
        compat.set_producer_extra_settings(faust_aiokafka.Producer, lambda self: {"x": 1})
        assert faust_aiokafka.Producer._settings_extra(None) == {"x": 1}
        # Faust builds its producer's keyword arguments from this hook.
        assert "_settings_extra" in inspect.getsource(faust_aiokafka.Producer._new_producer)
    finally:
        faust_aiokafka.Producer._settings_extra = original


async def test_faust_aiokafka_producer_is_faust_s_own(tmp_path: Path) -> None:
    from faust.exceptions import NotReady

    app = _app(tmp_path)
    with pytest.raises(NotReady):  # before the worker starts its producer
        compat.faust_aiokafka_producer(app)
    sentinel = AIOKafkaProducer(bootstrap_servers="127.0.0.1:1")
    app.producer._producer = sentinel
    assert compat.faust_aiokafka_producer(app) is sentinel


async def test_flush_before_commit_runs_ahead_of_faust_s_commit(tmp_path: Path) -> None:
    # Faust flushes the producer right before committing (the gate relies on it) ...
    source = inspect.getsource(faust_consumer.Consumer._commit_offsets)
    flush_at, commit_at = source.index("self.app.producer.flush()"), source.index("self._commit(")
    assert flush_at < commit_at
    # ... and the wrapped flush runs ``before`` first, then Faust's own.
    app = _app(tmp_path)
    calls: list[str] = []

    async def before() -> None:
        calls.append("before")

    async def original() -> None:
        calls.append("flush")

    app.producer.flush = original
    compat.flush_before_commit(app, before)
    await app.producer.flush()
    assert calls == ["before", "flush"]


async def test_conductor_names(tmp_path: Path) -> None:
    conductor = _app(tmp_path).topics
    compat.set_resubscribe_delay(conductor, 0.25)
    assert conductor._resubscribe_sleep_lock_seconds == 0.25
    assert hasattr(compat.conductor_subscribed(conductor), "__contains__")
    compat.conductor_flag_changes(conductor)  # must not raise outside a running worker


async def test_leader_topic_name_is_the_one_faust_s_leader_assignor_declares(
    tmp_path: Path,
) -> None:
    app = _app(tmp_path)
    assert compat.leader_topic_name(app) == app._leader_assignor._leader_topic_name
    assert app._leader_assignor._leader_topic.partitions == 1
    app.conf.topic_disable_leader = True
    assert compat.leader_topic_name(app) is None


async def test_consumer_offsets(tmp_path: Path) -> None:
    consumer = _app(tmp_path).consumer
    assert hasattr(compat.read_offsets(consumer), "get")
    assert hasattr(compat.committed_offsets(consumer), "get")


def test_store_names_on_the_rocksdb_store() -> None:
    for name in ("_db_for_partition", "_iteritems", "_get"):
        assert callable(getattr(rocksdb.Store, name)), name
    assert "_key_index" in inspect.getsource(rocksdb.Store.__init__)

    class FakeStore:
        def __init__(self) -> None:
            self._key_index: dict[bytes, int] = {}

        def _db_for_partition(self, partition: int) -> str:
            return f"db{partition}"

        def _get(self, key: bytes) -> bytes:
            return key

        def _iteritems(self) -> list[tuple[bytes, bytes]]:
            return [(b"k", b"v")]

    store = FakeStore()
    assert compat.store_is_partitioned(store)
    assert compat.store_db_for_partition(store, 2) == "db2"
    assert compat.store_get(store, b"k") == b"k"
    assert list(compat.store_items(store)) == [(b"k", b"v")]
    compat.store_note_key(store, b"k", 3)
    assert store._key_index == {b"k": 3}


@pytest.mark.parametrize("store_class", [memory.Store])
def test_store_names_on_the_memory_store(store_class: Any) -> None:
    assert not hasattr(store_class, "_db_for_partition")
    assert "_key_partition" in inspect.getsource(store_class)
