"""What a worker is told (:class:`WorkerOptions`) and what it built (:class:`WorkerParts`):
one typed object the HTTP API, the CLI and the tests reach the worker's parts through."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from agents.startup import Readiness
from streams.settings import Settings
from streams.topics import Catalogue

if TYPE_CHECKING:
    from agents.alert_ring import AlertRing
    from agents.campaigns import Campaigns
    from agents.cases import CaseProcessor
    from agents.core.routing import AlertRouter
    from agents.enforcement import EnforcementProcessor
    from agents.ingress import IngressProcessor, RegistryWatcher
    from agents.notifier import Notifier, NotifierSettings
    from agents.regulator import Regulator
    from schemas.families import CaseFamily

__all__ = ["WorkerOptions", "WorkerParts"]


@dataclass(frozen=True)
class WorkerOptions:
    """How a worker runs; the defaults are production's."""

    clock: str = "wall"  # "wall": the leader publishes ticks; "external": ticks come from outside
    tick_interval: float = 5.0
    store: str = "rocksdb://"
    web_enabled: bool = True
    web_port: int = 6066
    web_bind: str = "127.0.0.1"
    """Loopback by default; a container publishing the API binds 0.0.0.0 inside it."""
    max_batch: int = 1000
    batch_within: float = 0.01
    ingress_future_minutes: float | None = None
    """None: REGBUS_INGRESS_FUTURE_MINUTES, else 10."""
    ingress_dedup_days: float | None = None
    """None: REGBUS_INGRESS_DEDUP_DAYS, else 30."""
    notify: NotifierSettings | None = None
    """Webhook and SMTP endpoints of the notifier; None: no notifier."""
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
    roster_router: AlertRouter | None = None
    notifier: Notifier | None = None
    campaigns: Campaigns | None = None
    early_signals: Any = None
    """agents.early_signals.EarlySignalProcessor (the 未诉先办 refund signal)."""
    rule_changes: Any = None
    """agents.rule_changes.RuleChangesProcessor (``/platforms/{id}/rules``)."""
    readiness: Readiness = field(default_factory=Readiness)
    enforcement: EnforcementProcessor | None = None
    """The enforcement records (interviews, orders to correct, penalties; issue 18)."""
