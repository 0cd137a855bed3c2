"""The bureau's Faust application: ingress, case agents, the clock, and the web views.

Everything here is wiring. The work is done by processors that know nothing of Faust
(:mod:`agents.ingress`, :mod:`agents.cases`); see :mod:`agents.batching` for how their
results reach the tables and topics.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import Any

import faust
from faust.transport.drivers import aiokafka as faust_aiokafka

from agents.parts import WorkerOptions, WorkerParts
from streams import compat
from streams.limits import PRODUCER_MAX_REQUEST_BYTES
from streams.security import ClientCredentials, credentials_from_env, ssl_context
from streams.settings import Settings
from streams.topics import Catalogue

__all__ = [
    "BureauApp",
    "WorkerOptions",
    "WorkerParts",
    "build_worker",
    "create_app",
    "faust_kwargs",
]

log = logging.getLogger(__name__)

METADATA_REFRESH_MS = 5000


def _idempotent_producer_settings(self: Any) -> dict[str, Any]:
    # Faust turns idempotence on only inside transactions (exactly_once, which we avoid:
    # open bugs). Our standard is acks=all + idempotence for every producer.
    return {"acks": "all", "enable_idempotence": True}


compat.set_producer_extra_settings(faust_aiokafka.Producer, _idempotent_producer_settings)


class BureauApp(faust.App):
    """``faust.App`` that runs :attr:`before_start` (create every topic, see
    :mod:`agents.startup`) before any of its services, the consumer among them, start."""

    before_start: Callable[[], Awaitable[object]] | None = None

    async def on_first_start(self) -> None:
        if self.before_start is not None:
            await self.before_start()
        from agents.batching import install_changelog_gate

        install_changelog_gate(self)
        await super().on_first_start()


def faust_kwargs(
    settings: object | None = None, *, credentials: ClientCredentials | None = None
) -> dict[str, Any]:
    """``faust.App`` keyword arguments (``broker_credentials``); ``{}`` for PLAINTEXT."""
    del settings
    creds = credentials if credentials is not None else credentials_from_env()
    if not creds.secure:
        return {}
    return {
        "broker_credentials": faust.SASLCredentials(
            username=creds.username,
            password=creds.password,
            ssl_context=ssl_context(creds) if creds.security_protocol == "SASL_SSL" else None,
            mechanism=creds.mechanism,
        )
    }


def create_app(settings: Settings, options: WorkerOptions | None = None) -> Any:
    """The bureau's Faust app, every part attached (see :func:`build_worker`)."""
    return build_worker(settings, options).app


def build_worker(settings: Settings, options: WorkerOptions | None = None) -> WorkerParts:
    """Build the Faust app and attach ingress, the case agents, the regulator agents, the
    checkpoint timer, the wall clock and the HTTP API; return them in one typed object."""
    options = options or WorkerOptions()
    catalogue = Catalogue.from_settings(settings)
    if options.case_partitions is not None:
        catalogue = replace(catalogue, case_partitions=options.case_partitions)
    # One Faust data directory per topic prefix: two prefixes on one state directory are two
    # bureaus, and Faust refuses a directory whose tables belong to another app's topics.
    datadir = settings.state_dir / "faust" / settings.topic_prefix
    datadir.mkdir(parents=True, exist_ok=True)
    app = BureauApp(
        f"{settings.topic_prefix}-bureau",
        broker=f"kafka://{settings.bootstrap}",
        store=options.store,
        datadir=str(datadir),
        topic_partitions=catalogue.case_partitions,
        topic_replication_factor=settings.replication_factor,
        topic_allow_declare=True,
        producer_acks=-1,
        producer_linger_ms=5,
        producer_max_batch_size=512 * 1024,
        # The one size limit (streams.limits): Faust's default, 1,000,000, is below what the
        # topics and the SDK accept, and a record between the two crashed the sender.
        producer_max_request_size=PRODUCER_MAX_REQUEST_BYTES,
        # A topic missing from the consumer's metadata when the group was assigned (created a
        # moment before) is ignored by the assignor; a fresh metadata snapshot that shows it
        # makes aiokafka rejoin. Faust's default refresh is 5 minutes; 5 s retries soon.
        consumer_metadata_max_age_ms=METADATA_REFRESH_MS,
        broker_commit_interval=1.0,
        # Notice a dead worker in seconds, not Faust's default minute: its partitions (and
        # their deadlines) move to a live worker that much sooner.
        broker_session_timeout=10.0,
        broker_heartbeat_interval=2.0,
        stream_wait_empty=False,
        table_standby_replicas=0,
        web_enabled=options.web_enabled,
        web_port=options.web_port,
        web_bind=options.web_bind,
        web_in_thread=False,
        consumer_auto_offset_reset="earliest",
        broker_max_poll_records=2000,
        **faust_kwargs(settings),
    )
    from agents.batching import attach_changelog_gate

    attach_changelog_gate(app)  # a batch's changelog records only after its outputs are durable
    parts = _attach_parts(app, settings, catalogue, options)
    _rewind_uncommitted_after_rebalance(app, catalogue)
    _create_topics_before_start(app, settings, catalogue, parts)
    return parts


def _create_topics_before_start(
    app: BureauApp, settings: Settings, catalogue: Catalogue, parts: WorkerParts
) -> None:
    """Every topic the worker reads or writes exists before it subscribes; readiness is
    checked while it runs (:mod:`agents.startup`)."""
    from agents import startup

    async def create() -> None:
        try:
            await startup.create_worker_topics(settings.bootstrap, catalogue, app)
        except Exception as exc:  # no broker yet: Faust's own declaration and the readiness
            log.warning("start-up: could not create the topics first: %s", exc)  # check go on

    app.before_start = create
    startup.attach(app, parts.readiness)


def _rewind_uncommitted_after_rebalance(app: Any, catalogue: Catalogue) -> None:
    """Faust drops the records it had fetched for a partition that was paused or reassigned
    while the fetch was in flight, and then seeks back only the partitions with a committed
    offset above 0 (aiokafka's ``seek_to_committed``). A partition without one kept the
    advanced position, and the dropped records were never processed: a new platform's first
    records, or a case partition of a worker killed before its first commit, which a
    restarted worker then missed. Before the flow resumes, every partition an agent streams
    from is put at its start; Faust's own seek right after moves the committed ones to their
    offset. The agents are idempotent, so a re-read costs time, never a duplicate effect:
    ingress skips records at or below its processed-offset mark, cases ignore applied event
    ids, and alert ids are deterministic."""
    ingress = re.compile(catalogue.ingress_pattern)

    async def rewind_uncommitted(sender: Any = None, **_: Any) -> None:
        streamed: set[str] = set()
        for agent in app.agents.values():
            streamed.update(getattr(getattr(agent, "channel", None), "topics", None) or ())
        consumer = app.consumer
        for tp in consumer.assignment():
            if tp.topic in streamed or ingress.match(tp.topic):
                await consumer.seek(tp, 0)

    app.on_rebalance_complete.connect(rewind_uncommitted)


def _attach_parts(
    app: Any, settings: Settings, catalogue: Catalogue, options: WorkerOptions
) -> WorkerParts:
    from agents import auditor, campaigns, cases, clock, ingress, notifier, regulator, roster, web

    parts = WorkerParts(app, settings, catalogue, options)
    parts.ingress, parts.ingress_watcher = ingress.attach(app, settings, catalogue, options)
    parts.case_processors = cases.attach(app, settings, catalogue, options)
    parts.regulator = regulator.attach(app, catalogue, options, parts.case_processors)
    roster.attach(app, settings, catalogue, parts)
    from agents import enforcement  # issue 18: the platforms' enforcement records

    parts.enforcement = enforcement.attach(app, settings, catalogue, parts)
    from agents import early_signals, rule_changes  # issue 18: 未诉先办 signal, rule changes

    parts.early_signals = early_signals.attach(app, catalogue, options, parts)
    parts.rule_changes = rule_changes.attach(app, catalogue, options, parts)
    parts.notifier = notifier.attach(app, settings, catalogue, options, parts)
    auditor.attach(app, settings, catalogue, options)
    parts.campaigns = campaigns.attach(app, catalogue, options)
    if options.clock == "wall":
        clock.attach_wall_clock(app, catalogue, options.tick_interval)
    if options.web_enabled:
        parts.alert_ring = web.attach(app, settings, catalogue, parts)
    return parts
