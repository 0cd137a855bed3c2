"""The one door to Faust's and aiokafka's private names.

Everything in this project that touches a name those libraries do not publish goes through a
function here, and ``tests/compat/test_compat.py`` checks each one against the installed
versions (faust-streaming 0.15.3, aiokafka 0.14.0), so an upgrade that renames one fails
there, loudly, and is one file's work. The functions take the library objects as arguments:
this module imports neither Faust nor aiokafka, so the platform SDK can use it without
loading the bureau's worker.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

__all__ = [
    "admin_send",
    "committed_offsets",
    "conductor_flag_changes",
    "conductor_subscribed",
    "faust_aiokafka_producer",
    "flush_before_commit",
    "leader_topic_name",
    "max_request_size",
    "partitions_of",
    "read_offsets",
    "set_producer_extra_settings",
    "set_resubscribe_delay",
    "store_db_for_partition",
    "store_get",
    "store_is_partitioned",
    "store_items",
    "store_note_key",
]


# ---- aiokafka -------------------------------------------------------------------------------
async def partitions_of(consumer: Any, topic: str) -> list[int]:
    """The partitions of ``topic`` as the cluster knows them. The consumer's own metadata
    cache holds only topics it is assigned, so this asks the cluster (aiokafka's client
    ``fetch_all_metadata``; a reader sees only the topics its ACLs let it describe)."""
    cluster = await consumer._client.fetch_all_metadata()
    return sorted(cluster.partitions_for_topic(topic) or ())


def max_request_size(producer: Any) -> int:
    """The largest request the started producer will send (its ``max_request_size``)."""
    return int(producer._max_request_size)


async def admin_send(admin: Any, request: Any) -> Any:
    """Send a raw protocol request (SCRAM, ACLs) through an admin client to any node."""
    node = admin._client.get_random_node()
    return await admin._send_request_to_node(node, request)


# ---- Faust ----------------------------------------------------------------------------------
def set_producer_extra_settings(
    producer_class: Any, settings: Callable[[Any], dict[str, Any]]
) -> None:
    """Faust's aiokafka ``Producer`` turns idempotence on only inside transactions
    (``exactly_once``, which we avoid); its ``_settings_extra`` hook is where the producer's
    extra keyword arguments come from."""
    producer_class._settings_extra = settings


def faust_aiokafka_producer(app: Any) -> Any:
    """The started aiokafka producer under Faust's producer (created on first use)."""
    return app.producer._ensure_producer()


def flush_before_commit(app: Any, before: Callable[[], Any]) -> None:
    """Run ``await before()`` first whenever Faust flushes its producer. Faust's consumer
    flushes the producer right before it commits offsets (``Consumer._commit_offsets``, outside
    transactions) and when partitions are revoked, so ``before`` runs ahead of every commit."""
    producer = app.producer
    flush = producer.flush

    async def flush_after(*args: Any, **kwargs: Any) -> None:
        await before()
        await flush(*args, **kwargs)

    producer.flush = flush_after


def leader_topic_name(app: Any) -> str | None:
    """The topic Faust's leader assignor declares and subscribes to when the worker starts
    (one partition; the worker holding it is the leader), or None when it is disabled
    (``topic_disable_leader``). Faust names it in ``LeaderAssignor._leader_topic_name``."""
    if app.conf.topic_disable_leader:
        return None
    return f"{app.conf.id}-__assignor-__leader"


def set_resubscribe_delay(conductor: Any, seconds: float) -> None:
    """How long Faust's topic conductor waits before it resubscribes after a change."""
    conductor._resubscribe_sleep_lock_seconds = seconds


def conductor_flag_changes(conductor: Any) -> None:
    """Ask the conductor to resubscribe (its topic set changed)."""
    conductor._flag_changes()


def conductor_subscribed(conductor: Any) -> Mapping[str, Any]:
    """The topic names the conductor's current subscription covers."""
    return conductor._topic_name_index  # type: ignore[no-any-return]


def read_offsets(consumer: Any) -> Mapping[Any, int | None]:
    """Faust's consumer: the last offset read per partition."""
    return consumer._read_offset  # type: ignore[no-any-return]


def committed_offsets(consumer: Any) -> Mapping[Any, int | None]:
    """Faust's consumer: the last offset committed per partition."""
    return consumer._committed_offset  # type: ignore[no-any-return]


def store_is_partitioned(store: Any) -> bool:
    """A store with one database per partition (RocksDB), not one dict (memory)."""
    return hasattr(store, "_db_for_partition")


def store_get(store: Any, key: bytes) -> bytes | None:
    """A table store's raw value for ``key`` across its active partitions."""
    return store._get(key)  # type: ignore[no-any-return]


def store_items(store: Any) -> Iterable[tuple[bytes, bytes]]:
    """Every raw (key, value) in a table store's active partitions."""
    return store._iteritems()  # type: ignore[no-any-return]


def store_db_for_partition(store: Any, partition: int) -> Any:
    """A RocksDB table store's database for one partition."""
    return store._db_for_partition(partition)


def store_note_key(store: Any, key: bytes, partition: int) -> None:
    """Tell a store which partition holds ``key`` (RocksDB keeps a key index; the memory
    store a key→partition map), as Faust's own ``_set`` would."""
    index = getattr(store, "_key_index", None)
    if index is not None:
        index[key] = partition
    mapping = getattr(store, "_key_partition", None)
    if mapping is not None:
        mapping[key] = partition
