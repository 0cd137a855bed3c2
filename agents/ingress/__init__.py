"""Ingress: every record platforms and bureau units write passes here before it is a fact.

For each record on ``<prefix>.ingress.<owner>`` (owner = a platform id, or ``bureau``) the
:class:`IngressProcessor` decides, in this order:

1. decode (Confluent framing, Avro, pydantic, CloudEvents headers) → the codec's reason;
2. identity: ``ce_source`` and ``platform_id`` must name the topic's owner → SPOOFED_SOURCE;
   a platform must be registered and not revoked (the bureau's events must name a registered
   platform) → UNKNOWN_PLATFORM;
3. who may send what (:data:`SEND_RULES`) → FORBIDDEN_TYPE;
4. envelope consistency (non-empty case id, record key = case id, ``ce_id`` = event id,
   ``ce_subject`` = case id) → INVALID_VALUE;
5. ``occurred_at`` more than the tolerance ahead of the clock → FUTURE_TIMESTAMP;
6. dedup by (``ce_source``, ``ce_id``): a resend is counted, not routed;
7. route the *original* key/value/headers to the canonical case topic, and for the
   bureau's messages to a platform (:attr:`SendRule.inbox`) also to that platform's inbox.

Illegal lifecycle transitions are not checked here: the case agents own the lifecycles.
The processor is pure (no Faust, no Kafka, no wall clock except the injected ``clock`` for
the future check) and never raises on input: anything unexpected is dead-lettered as
INVALID_VALUE with the exception in the detail.

Modules: :mod:`.rules` (who may send what), :mod:`.processor` (the checks, pure),
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
