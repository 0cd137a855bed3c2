"""The bureau's Faust application: ingress, case agents, the clock, and the web views.

Everything here is wiring. The work is done by processors that know nothing of Faust
(:mod:`agents.ingress`, :mod:`agents.cases`); see :mod:`agents.batching` for how their
results reach the tables and topics.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import faust
from faust.transport.drivers import aiokafka as faust_aiokafka

from streams import compat
from streams.security import ClientCredentials, credentials_from_env, ssl_context
from streams.settings import Settings
from streams.topics import Catalogue

if TYPE_CHECKING:
    from agents.cases import CaseProcessor
    from agents.ingress import IngressProcessor, RegistryWatcher
    from agents.regulator import Regulator
    from agents.web import AlertRing
    from schemas.families import CaseFamily

log = logging.getLogger(__name__)


def _idempotent_producer_settings(self: Any) -> dict[str, Any]:
    # Faust turns idempotence on only inside transactions (exactly_once, which we avoid:
    # open bugs). Our standard is acks=all + idempotence for every producer.
    return {"acks": "all", "enable_idempotence": True}


compat.set_producer_extra_settings(faust_aiokafka.Producer, _idempotent_producer_settings)


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
    case_partitions: int | None = None
    """None: the catalogue's default; the benchmarks spread 3 workers over more."""


@dataclass
class WorkerParts:
    """What a worker built: the Faust app and the parts the API and the tests reach."""

    app: Any
    settings: Settings
    catalogue: Catalogue
    options: WorkerOptions
    ingress: IngressProcessor | None = None
    ingress_watcher: RegistryWatcher | None = None
    case_processors: dict[CaseFamily, CaseProcessor] = field(default_factory=dict)
    regulator: Regulator | None = None
    alert_ring: AlertRing | None = None


def create_app(settings: Settings, options: WorkerOptions | None = None) -> Any:
    """The bureau's Faust app, every part attached (see :func:`build_worker`)."""
    return build_worker(settings, options).app


def build_worker(settings: Settings, options: WorkerOptions | None = None) -> WorkerParts:
    """Build the Faust app and attach ingress, the case agents, the regulator agents, the
    checkpoint timer, the wall clock and the HTTP API; return them in one typed object."""
    options = options or WorkerOptions()
    catalogue = Catalogue(settings.topic_prefix)
    if options.case_partitions is not None:
        catalogue = Catalogue(settings.topic_prefix, case_partitions=options.case_partitions)
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
    parts = _attach_parts(app, settings, catalogue, options)
    _rewind_uncommitted_after_rebalance(app, catalogue)
    return parts


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
    from agents import auditor, cases, clock, ingress, regulator, web

    parts = WorkerParts(app, settings, catalogue, options)
    parts.ingress, parts.ingress_watcher = ingress.attach(app, settings, catalogue, options)
    parts.case_processors = cases.attach(app, settings, catalogue, options)
    parts.regulator = regulator.attach(app, catalogue, options, parts.case_processors)
    auditor.attach(app, settings, catalogue, options)
    if options.clock == "wall":
        clock.attach_wall_clock(app, catalogue, options.tick_interval)
    if options.web_enabled:
        parts.alert_ring = web.attach(app, settings, catalogue, parts)
    return parts
