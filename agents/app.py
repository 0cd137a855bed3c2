"""The bureau's Faust application: ingress, case agents, the clock, and the web views.

Everything here is wiring. The work is done by processors that know nothing of Faust
(:mod:`agents.ingress`, :mod:`agents.cases`); see :mod:`agents.batching` for how their
results reach the tables and topics.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import Any

import faust
from faust.transport.drivers import aiokafka as faust_aiokafka

from regbus.config import Settings
from streams.security import faust_kwargs
from streams.topics import Catalogue

log = logging.getLogger(__name__)


def _idempotent_producer_settings(self: Any) -> dict[str, Any]:
    # Faust turns idempotence on only inside transactions (exactly_once, which we avoid:
    # open bugs). Our standard is acks=all + idempotence for every producer.
    return {"acks": "all", "enable_idempotence": True}


faust_aiokafka.Producer._settings_extra = _idempotent_producer_settings


@dataclass(frozen=True)
class WorkerOptions:
    """How a worker runs; the defaults are production's."""

    clock: str = "wall"  # "wall": the leader publishes ticks; "external": ticks come from outside
    tick_interval: float = 5.0
    store: str = "rocksdb://"
    web_enabled: bool = True
    web_port: int = 6066
    max_batch: int = 1000
    batch_within: float = 0.01
    ingress_future_minutes: float | None = None
    """None: REGBUS_INGRESS_FUTURE_MINUTES, else 10."""
    ingress_dedup_days: float | None = None
    """None: REGBUS_INGRESS_DEDUP_DAYS, else 30."""


def create_app(settings: Settings | None = None, options: WorkerOptions | None = None) -> Any:
    settings = settings or Settings()
    options = options or WorkerOptions()
    catalogue = Catalogue(settings.topic_prefix)
    (settings.state_dir / "faust").mkdir(parents=True, exist_ok=True)
    app = faust.App(
        f"{settings.topic_prefix}-bureau",
        broker=f"kafka://{settings.bootstrap}",
        store=options.store,
        datadir=str(settings.state_dir / "faust"),
        topic_partitions=catalogue.case_partitions,
        topic_replication_factor=1,
        topic_allow_declare=True,
        producer_acks=-1,
        producer_linger_ms=5,
        producer_max_batch_size=512 * 1024,
        broker_commit_interval=1.0,
        # Notice a dead worker in seconds, not Faust's default minute: its partitions (and
        # their deadlines) move to a live worker that much sooner.
        broker_session_timeout=10.0,
        broker_heartbeat_interval=2.0,
        stream_wait_empty=False,
        table_standby_replicas=0,
        web_enabled=options.web_enabled,
        web_port=options.web_port,
        web_bind="127.0.0.1",
        web_in_thread=False,
        consumer_auto_offset_reset="earliest",
        broker_max_poll_records=2000,
        **faust_kwargs(settings),
    )
    app.regbus_settings = settings
    app.regbus_catalogue = catalogue
    app.regbus_options = options
    _attach_parts(app, settings, catalogue, options)
    _rewind_uncommitted_after_rebalance(app, catalogue)
    return app


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
) -> None:
    """Attach every part that exists; parts are added as their issues land."""
    from agents import auditor, cases, clock, ingress

    ingress.attach(app, settings, catalogue, options)
    cases.attach(app, settings, catalogue, options)
    auditor.attach(app, settings, catalogue, options)
    if options.clock == "wall":
        clock.attach_wall_clock(app, catalogue, options.tick_interval)
    import importlib.util

    if importlib.util.find_spec("agents.web") is not None:  # the HTTP API, once it exists
        from agents import web  # type: ignore[attr-defined]

        web.attach(app, settings, catalogue, options)
