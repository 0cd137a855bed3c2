"""Ingress: every record platforms and bureau units write passes here before it is a fact.

The checks and their order are documented on :mod:`.processor`; who may send what is part
of the contract (:mod:`schemas.send_rules`). Modules: :mod:`.processor` (the checks, pure),
:mod:`.wiring` (:func:`attach`: the Faust agent, dedup table and registry watcher).
"""

from agents.ingress.processor import (
    DEDUP_TABLE,
    DEFAULT_FUTURE_TOLERANCE,
    IngressMetrics,
    IngressProcessor,
    PlatformDirectory,
    PlatformLookup,
    PlatformStatus,
)
from agents.ingress.wiring import (
    FUTURE_MINUTES_ENV,
    RegistryWatcher,
    attach,
    future_tolerance_from,
)

__all__ = [
    "DEDUP_TABLE",
    "DEFAULT_FUTURE_TOLERANCE",
    "FUTURE_MINUTES_ENV",
    "IngressMetrics",
    "IngressProcessor",
    "PlatformDirectory",
    "PlatformLookup",
    "PlatformStatus",
    "RegistryWatcher",
    "attach",
    "future_tolerance_from",
]
