"""Ingress: every record platforms and bureau units write passes here before it is a fact.

The checks and their order are documented on :mod:`.processor`. Modules: :mod:`.rules` (who
may send what), :mod:`.processor` (the checks, pure), :mod:`.wiring` (:func:`attach`: the
Faust agent, dedup table and registry watcher).
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
from agents.ingress.rules import (
    PLATFORM_EVENT_TYPES,
    SEND_RULES,
    Sender,
    SendRule,
    refusal,
    rules_table,
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
    "PLATFORM_EVENT_TYPES",
    "SEND_RULES",
    "IngressMetrics",
    "IngressProcessor",
    "PlatformDirectory",
    "PlatformLookup",
    "PlatformStatus",
    "RegistryWatcher",
    "SendRule",
    "Sender",
    "attach",
    "future_tolerance_from",
    "refusal",
    "rules_table",
]
