"""Start-up order and readiness: every topic exists before any agent subscribes, and the
worker says it is not ready while any agent is not consuming.

Faust declares its internal topics and table changelogs while it starts, and subscribes a
moment later; on a loaded machine the group leader's metadata did not show the new topic
yet, Faust's assignor logged "Ignoring missing topic" and the regulator's subject agent never
got a partition (aiokafka rejoins on a metadata change, but refreshes metadata only every
five minutes by default). So, before the app starts (:meth:`BureauApp.on_first_start`
calls :func:`create_worker_topics`), every catalogue topic, internal topic and changelog is
created and awaited in the broker's metadata; ``consumer_metadata_max_age_ms`` is short
(agents.app), so a topic that still slips through makes the group rejoin within seconds; and
:class:`Readiness` checks every few seconds that each agent's source topics exist and are
assigned (Faust co-assigns topics with the same partition count, so a worker holding
partition *p* of one source holds *p* of all of them), resubscribes when they are not, and
feeds ``/health`` and the ``regbus_worker_ready`` metric.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError
from mode.utils.times import want_seconds

from streams import compat
from streams.limits import MAX_MESSAGE_BYTES
from streams.security import client_kwargs
from streams.topics import Catalogue

log = logging.getLogger(__name__)

CHECK_INTERVAL = 2.0
"""Seconds between readiness checks."""
RESUBSCRIBE_AFTER = 2
"""Failed checks in a row before the worker resubscribes (forcing a group rejoin)."""
METADATA_WAIT = 60.0
"""Seconds the start waits for created topics to show in the broker's metadata."""


@dataclass(frozen=True)
class InternalTopic:
    name: str
    partitions: int
    config: dict[str, str]


def internal_topics(app: Any) -> list[InternalTopic]:
    """The topics Faust would declare for this app: internal agent topics and changelogs."""
    default = int(app.conf.topic_partitions)
    found: dict[str, InternalTopic] = {}
    for agent in app.agents.values():
        channel = agent.channel
        if not getattr(channel, "internal", False):
            continue
        retention = getattr(channel, "retention", None)
        config = {"cleanup.policy": "delete", "max.message.bytes": str(MAX_MESSAGE_BYTES)}
        if retention is not None:
            seconds = want_seconds(retention)
            config["retention.ms"] = str(int(seconds * 1000))
        for name in channel.topics:
            found[name] = InternalTopic(name, channel.partitions or default, config)
    for table in app.tables.values():
        name = table.changelog_topic.get_topic_name()
        config = {"cleanup.policy": "compact", "max.message.bytes": str(MAX_MESSAGE_BYTES)}
        found[name] = InternalTopic(name, table.partitions or default, config)
    # Faust's leader assignor subscribes to its own one-partition topic; declared only when
    # the app starts, it was missing from the first assignment ("Ignoring missing topic"),
    # and its arrival a few seconds later made the group rebalance mid-way through the
    # first records.
    leader = compat.leader_topic_name(app)
    if leader is not None:
        config = {"cleanup.policy": "delete", "max.message.bytes": str(MAX_MESSAGE_BYTES)}
        found[leader] = InternalTopic(leader, 1, config)
    return sorted(found.values(), key=lambda t: t.name)


async def create_worker_topics(
    bootstrap: str, catalogue: Catalogue, app: Any, *, wait: float = METADATA_WAIT
) -> list[str]:
    """Create every missing catalogue, internal and changelog topic of ``app`` and wait
    until the broker's metadata lists them all with their partitions; the names created."""
    from streams.admin import ensure_topics

    created = await ensure_topics(bootstrap, catalogue.specs())
    wanted = internal_topics(app)
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, **client_kwargs())
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [t for t in wanted if t.name not in existing]
        if missing:
            # Replicated like the catalogue (3 and 2 on a cluster): an internal topic or a
            # changelog with one replica goes offline with its broker, and the agents that
            # write to it wait for it to come back (the stalled broker-kill runs of issue 14).
            rf, isr = catalogue.replication_factor, str(catalogue.min_insync_replicas)
            resp = await admin.create_topics(
                [
                    NewTopic(t.name, t.partitions, rf,
                             topic_configs={**t.config, "min.insync.replicas": isr})
                    for t in missing
                ],
                timeout_ms=30000,
            )  # fmt: skip
            for name, code, message in resp.topic_errors:
                if code == 0:
                    created.append(name)
                elif code != TopicAlreadyExistsError.errno:
                    raise RuntimeError(f"creating topic {name} failed: Kafka error {code}: "
                                       f"{message}")  # fmt: skip
        names = [s.name for s in catalogue.specs()] + [t.name for t in wanted]
        await _until_listed(admin, names, wait)
    finally:
        await admin.close()
    if created:
        log.info("start-up: created %d topics: %s", len(created), ", ".join(sorted(created)))
    return sorted(created)


async def _until_listed(admin: Any, names: Iterable[str], wait: float) -> None:
    names = set(names)
    deadline = time.monotonic() + wait
    while True:
        described = await admin.describe_topics(sorted(names))
        ready = {d["topic"] for d in described if d.get("error_code") == 0 and d["partitions"]}
        if names <= ready:
            return
        if time.monotonic() > deadline:
            log.error("start-up: topics still not in the metadata after %.0fs: %s", wait,
                      ", ".join(sorted(names - ready)))  # fmt: skip
            return
        await asyncio.sleep(0.2)


@dataclass
class Readiness:
    """Whether every agent consumes every topic it subscribes to (see the module doc)."""

    problems: list[str] = field(default_factory=lambda: ["not checked yet"])
    checked_at: float | None = None
    failed_checks: int = 0
    resubscriptions: int = 0

    @property
    def ready(self) -> bool:
        return not self.problems

    async def check(self, app: Any) -> list[str]:
        unanswered = False
        try:
            problems = await _problems(app)
        except Exception as exc:  # the broker did not answer: not ready, say why
            problems = [f"readiness check failed: {type(exc).__name__}: {exc}"]
            unanswered = True
        self.problems = problems
        self.checked_at = time.time()
        if not problems:
            self.failed_checks = 0
        elif not unanswered:
            # (a resubscription cannot help while the cluster does not answer, a broker lost:
            # it would only restart the group's rebalance; aiokafka recovers by itself)
            self.failed_checks += 1
            if self.failed_checks >= RESUBSCRIBE_AFTER and not app.rebalancing:
                log.warning("not ready (%s); resubscribing", "; ".join(problems))
                self.resubscriptions += 1
                self.failed_checks = 0
                compat.conductor_flag_changes(app.topics)
        return problems


async def _problems(app: Any) -> list[str]:
    consumer = getattr(app, "_consumer", None)
    if consumer is None or not getattr(consumer, "started", False):
        return ["the consumer is not running"]
    if app.rebalancing:
        return ["partitions are being reassigned"]
    producer = compat.faust_aiokafka_producer(app)
    cluster = await producer.client.fetch_all_metadata()
    assigned = consumer.assignment()
    sources: dict[str, list[str]] = {}
    for agent in app.agents.values():
        topics = list(getattr(agent.channel, "topics", None) or ())
        sources[_agent_name(agent)] = topics
    counts: dict[str, int] = {}
    problems: list[str] = []
    for agent, topics in sources.items():
        for topic in topics:
            parts = cluster.partitions_for_topic(topic)
            if not parts:
                problems.append(f"{agent}: topic {topic} does not exist")
            else:
                counts[topic] = len(parts)
    held: dict[str, set[int]] = defaultdict(set)
    for tp in assigned:
        held[tp.topic].add(tp.partition)
    by_count: dict[int, set[int]] = defaultdict(set)
    for topic, n in counts.items():
        by_count[n] |= held.get(topic, set())
    for agent, topics in sources.items():
        for topic in topics:
            if topic not in counts:
                continue
            missing = by_count[counts[topic]] - held.get(topic, set())
            if missing:
                problems.append(
                    f"{agent}: not consuming {topic} (partitions {sorted(missing)} not assigned)"
                )
    return problems


def _agent_name(agent: Any) -> str:
    name = str(getattr(agent, "name", agent))
    return name.rsplit(".", 1)[-1]


def attach(app: Any, readiness: Readiness) -> None:
    """Check readiness every :data:`CHECK_INTERVAL` seconds while the worker runs."""

    @app.timer(CHECK_INTERVAL, name="regbus_readiness")
    async def check_readiness() -> None:
        await readiness.check(app)
