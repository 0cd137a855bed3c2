"""The AsyncAPI 3.0.0 document, derived from the topic catalogue and the Avro schemas.

Nothing here names a topic or a field by hand: channels come from
:class:`streams.topics.Catalogue`, message payloads are the newest ``.avsc`` of each event,
and the headers are the CloudEvents attributes the codec writes.
"""

from __future__ import annotations

import re
from typing import Any

from schemas.repository import Histories, histories
from streams.cloudevents_headers import (
    CE_ID,
    CE_SOURCE,
    CE_SPECVERSION,
    CE_SUBJECT,
    CE_TIME,
    CE_TYPE,
    CONTENT_TYPE,
    REQUIRED_HEADERS,
)
from streams.topics import Catalogue, Family, TopicSpec

ASYNCAPI_VERSION = "3.0.0"
AVRO_SCHEMA_FORMAT = "application/vnd.apache.avro+json;version=1.9.0"
KAFKA_BINDING_VERSION = "0.5.0"
PLATFORM_PARAMETER = "platformId"

# What the regbus application does on each family of topics (AsyncAPI describes one
# application): it receives what platforms and bureau units publish, and sends the rest
# (a family added to the catalogue later defaults to "send").
_ACTION: dict[Family, str] = {
    Family.INGRESS: "receive",
    Family.BUREAU_INGRESS: "receive",
    Family.INBOX: "send",
    Family.CASES: "send",
    Family.ALERTS: "send",
    Family.SLA: "send",
    Family.DEADLETTER: "send",
    Family.AUDIT: "send",
}


def _channel_id(spec: TopicSpec, prefix: str) -> str:
    name = spec.name.removeprefix(prefix + ".")
    return re.sub(r"[^A-Za-z0-9_\-]", "-", name.replace("{", "").replace("}", ""))


def _headers_schema() -> dict[str, Any]:
    def text(description: str, **extra: Any) -> dict[str, Any]:
        return {"type": "string", "description": description, **extra}

    return {
        "type": "object",
        "required": [*REQUIRED_HEADERS, CONTENT_TYPE],
        "properties": {
            CE_ID: text("CloudEvents id: the event_id (platform-unique submission id)."),
            CE_SOURCE: text(
                "CloudEvents source: /platforms/<id> or /bureau/<unit>.",
                pattern="^/(platforms|bureau)/[^/\\s]+$",
            ),
            CE_TYPE: text("CloudEvents type: regbus.<EventName>.v1.", pattern="^regbus\\."),
            CE_SPECVERSION: text("CloudEvents spec version.", const="1.0"),
            CE_TIME: text("occurred_at, RFC 3339 in UTC with milliseconds.", format="date-time"),
            CE_SUBJECT: text("The case id (absent when the event has none, e.g. ticks)."),
            CONTENT_TYPE: text("Content type of the value.", const="application/avro"),
        },
    }


def _message(name: str, schema: dict[str, Any], key: str) -> dict[str, Any]:
    return {
        "name": name,
        "title": name,
        "summary": schema.get("doc", name),
        "contentType": "application/avro",
        "headers": {"$ref": "#/components/schemas/CloudEventsHeaders"},
        "payload": {"schemaFormat": AVRO_SCHEMA_FORMAT, "schema": schema},
        "bindings": {
            "kafka": {
                "key": {"type": "string", "description": f"UTF-8 {key}"},
                "schemaIdLocation": "payload",
                "schemaIdPayloadEncoding": "confluent",
                "schemaLookupStrategy": "subject = event name (e.g. ComplaintFiled)",
                "bindingVersion": KAFKA_BINDING_VERSION,
            }
        },
    }


def _json_message(name: str, key: str) -> dict[str, Any]:
    # Operational topics outside the event contract (e.g. the platform registry) carry JSON.
    return {
        "name": name,
        "title": name,
        "summary": f"{name}: a JSON document (not part of the Avro event contract).",
        "contentType": "application/json",
        "payload": {"type": "object"},
        "bindings": {
            "kafka": {
                "key": {"type": "string", "description": f"UTF-8 {key}"},
                "bindingVersion": KAFKA_BINDING_VERSION,
            }
        },
    }


def _channel(spec: TopicSpec, replicas: int, templated: bool) -> dict[str, Any]:
    kafka: dict[str, Any] = {
        "partitions": spec.partitions,
        "replicas": replicas,
        "topicConfiguration": {
            "cleanup.policy": spec.cleanup_policy.split(","),
            "retention.ms": spec.retention_ms,
            "retention.bytes": int(spec.config()["retention.bytes"]),
        },
        "bindingVersion": KAFKA_BINDING_VERSION,
    }
    if not templated:
        kafka["topic"] = spec.name
    description = spec.description
    if spec.extra_config:
        extra = ", ".join(f"{k}={v}" for k, v in spec.extra_config)
        description += f" Topic config: {extra}."
    channel: dict[str, Any] = {
        "address": spec.name,
        "title": spec.name,
        "description": description,
        "messages": {
            name: {"$ref": f"#/components/messages/{name}"} for name in spec.value_schemas
        },
        "bindings": {"kafka": kafka},
    }
    if templated:
        channel["parameters"] = {
            PLATFORM_PARAMETER: {
                "description": "The platform id (平台企业 code) assigned by the bureau."
            }
        }
    return channel


def asyncapi_document(
    catalogue: Catalogue,
    *,
    replicas: int = 1,
    bootstrap: str = "127.0.0.1:19092",
    hist: Histories | None = None,
) -> dict[str, Any]:
    """The AsyncAPI 3.0.0 document (a JSON-shaped dict) for every topic in ``catalogue``.

    Per-platform topics appear once as a template (``{platformId}``) and once per platform
    the catalogue lists.
    """
    hist = hist if hist is not None else histories()
    placeholder = "{" + PLATFORM_PARAMETER + "}"
    specs = [(s, False) for s in catalogue.specs()]
    specs += [(s, True) for s in catalogue.platform_specs(placeholder)]
    channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    messages: dict[str, Any] = {}
    for spec, templated in specs:
        cid = _channel_id(spec, catalogue.prefix)
        channels[cid] = _channel(spec, replicas, templated)
        action = _ACTION.get(spec.family, "send")
        operations[f"{action}-{cid}"] = {
            "action": action,
            "channel": {"$ref": f"#/channels/{cid}"},
            "summary": f"regbus {action}s on {spec.name}",
            "messages": [
                {"$ref": f"#/channels/{cid}/messages/{name}"} for name in spec.value_schemas
            ],
        }
        for name in spec.value_schemas:
            if name in messages:
                continue
            if name in hist:
                messages[name] = _message(name, hist[name][-1].schema, spec.key)
            else:
                messages[name] = _json_message(name, spec.key)
    return {
        "asyncapi": ASYNCAPI_VERSION,
        "info": {
            "title": "regbus",
            "version": "1.0.0",
            "description": (
                "Kafka event backbone between online platforms and the market-supervision "
                "bureau. Values are Avro in the Confluent wire format (magic byte 0, 4-byte "
                "big-endian schema id, Avro binary); headers are CloudEvents 1.0 (Kafka "
                "binary binding)."
            ),
        },
        "defaultContentType": "application/avro",
        "servers": {
            "local": {
                "host": bootstrap,
                "protocol": "kafka",
                "description": "The project's local broker (regbus broker start).",
            }
        },
        "channels": channels,
        "operations": operations,
        "components": {
            "schemas": {"CloudEventsHeaders": _headers_schema()},
            "messages": dict(sorted(messages.items())),
        },
    }
