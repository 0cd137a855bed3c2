"""The spot-check campaign agent: the governance topic folded into campaign state.

``<prefix>.governance`` (keyed by campaign id) ─▶ agent ``governance_campaigns``
(concurrency 1, table ``governance-campaigns``: one JSON envelope per campaign with the state
of :mod:`agents.core.campaign` and the events it refused). The processor decodes a batch,
calls the core, and writes the touched keys; it imports nothing from Faust (as
:mod:`agents.cases`), :func:`attach` wires it. Events of other types on the topic (another
governance loop's) are skipped here.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson

from agents.core.campaign import (
    CAMPAIGN_EVENT_TYPES,
    CampaignState,
    from_dict,
    handle,
    to_dict,
    view,
)
from schemas.families import CAMPAIGN_EVENTS
from streams.codec import DecodeError, EventCodec
from streams.records import BatchResult, InRecord, StateReader, StateWrite
from streams.topics import Catalogue

log = logging.getLogger(__name__)

CAMPAIGNS_TABLE = "governance-campaigns"
_CAMPAIGN_TYPES = frozenset(CAMPAIGN_EVENTS)
assert {t.__name__ for t in CAMPAIGN_EVENT_TYPES} == _CAMPAIGN_TYPES


@dataclass
class CampaignMetrics:
    applied: int = 0
    refused: int = 0
    duplicates: int = 0
    undecodable: int = 0


@dataclass
class CampaignProcessor:
    """Governance records → campaign envelopes (a :class:`streams.records.BatchProcessor`)."""

    codec: EventCodec = field(default_factory=EventCodec)
    metrics: CampaignMetrics = field(default_factory=CampaignMetrics)

    def process(self, batch: Sequence[InRecord], tables: Mapping[str, StateReader]) -> BatchResult:
        table = tables[CAMPAIGNS_TABLE]
        touched: dict[bytes, tuple[int, dict[str, Any]]] = {}
        for rec in batch:
            try:
                event = self.codec.decode(rec.value, rec.headers)  # type: ignore[arg-type]
            except DecodeError as exc:  # ingress checked it; a bad record here is a bug
                self.metrics.undecodable += 1
                log.error("governance: %s@%d undecodable: %s", rec.topic, rec.offset, exc)
                continue
            if event.EVENT_NAME not in _CAMPAIGN_TYPES:
                continue
            key = event.case_id.encode()
            if key in touched:
                envelope = touched[key][1]
            else:
                envelope = read_envelope(table.get(key))
            raw_state = envelope.get("state")
            state = from_dict(raw_state) if raw_state else None
            d = handle(state, event)
            if d.duplicate:
                self.metrics.duplicates += 1
                continue
            if d.refused is not None:
                self.metrics.refused += 1
                envelope.setdefault("refused", []).append(
                    {
                        "event_id": event.event_id,
                        "type": event.EVENT_NAME,
                        "occurred_at": event.occurred_at.isoformat(),
                        "reason": d.refused,
                    }
                )
                log.warning("governance: %s %s refused: %s", event.EVENT_NAME, event.case_id,
                            d.refused)  # fmt: skip
            else:
                assert d.state is not None
                self.metrics.applied += 1
                envelope["state"] = to_dict(d.state)
            touched[key] = (rec.partition, envelope)
        result = BatchResult()
        for key, (partition, envelope) in touched.items():
            result.writes.append(
                StateWrite(CAMPAIGNS_TABLE, partition, key, orjson.dumps(envelope))
            )
        return result


def read_envelope(raw: bytes | None) -> dict[str, Any]:
    if raw is None:
        return {"state": None, "refused": []}
    data = orjson.loads(raw)
    assert isinstance(data, dict)
    return data


def campaign_json(raw: bytes | None) -> dict[str, Any] | None:
    """A stored envelope as the API shows it: the campaign view and its refused events."""
    if raw is None:
        return None
    envelope = read_envelope(raw)
    state: CampaignState | None = from_dict(envelope["state"]) if envelope["state"] else None
    if state is None:
        return {"campaign_id": None, "status": None, "refused": envelope.get("refused", [])}
    body = view(state)
    body["refused"] = envelope.get("refused", [])
    return body


@dataclass
class Campaigns:
    """What :func:`attach` registered (the web API reads it through the worker's parts)."""

    processor: CampaignProcessor
    table: Any

    def get(self, campaign_id: str) -> dict[str, Any] | None:
        body = campaign_json(self.table.get(campaign_id.encode()))
        if body is not None and body.get("campaign_id") is None:
            body["campaign_id"] = campaign_id
        return body

    def list(self) -> list[dict[str, Any]]:
        """Every campaign this worker holds (all of them on a single worker), by month."""
        out = []
        for key, raw in self.table.items():
            body = campaign_json(raw)
            if body is None or body.get("status") is None:
                continue
            out.append({k: body[k] for k in _SUMMARY})
            out[-1]["campaign_id"] = key.decode()
        return sorted(out, key=lambda c: (c["month"], c["campaign_id"]))


_SUMMARY = ("campaign_id", "platform_id", "status", "month", "departments", "figures")


def attach(app: Any, catalogue: Catalogue, options: Any) -> Campaigns:
    """Register the campaign agent on the governance topic and its table."""
    from agents.batching import TableIO, attach_batch_agent

    table = app.Table(
        CAMPAIGNS_TABLE, key_type=bytes, value_type=bytes,
        partitions=catalogue.case_partitions, help="per spot-check campaign: state, refusals",
    )  # fmt: skip
    processor = CampaignProcessor()
    source = app.topic(catalogue.governance, key_serializer="raw", value_serializer="raw")
    attach_batch_agent(
        app, "governance_campaigns", source, processor, {CAMPAIGNS_TABLE: table},
        getattr(options, "max_batch", 1000), getattr(options, "batch_within", 0.01),
    )  # fmt: skip
    return Campaigns(processor, TableIO(table))


OPENAPI_PATHS: dict[str, Any] = {
    "/campaigns": {"get": {
        "summary": "Spot-check campaigns (双随机抽查) this worker holds, by month, with figures",
        "responses": {"200": {"description": "the campaigns", "content": {"application/json": {
            "schema": {"type": "object", "required": ["campaigns", "count"]}}}}},
    }},
    "/campaigns/{id}": {"get": {
        "summary": "A campaign: plan (departments, rule, seed), sample (rooms and inspectors), "
                   "rooms checked with their negative-list codes, figures, refused events",
        "parameters": [{"name": "id", "in": "path", "required": True,
                        "description": "campaign id", "schema": {"type": "string"}}],
        "responses": {
            "200": {"description": "the campaign",
                    "content": {"application/json": {"schema": {"type": "object"}}}},
            "404": {"description": "no such campaign",
                           "content": {"application/json": {"schema": {
                               "$ref": "#/components/schemas/Error"}}}},
            "503": {"description": "the partition is not assigned yet",
                    "content": {"application/json": {"schema": {
                        "$ref": "#/components/schemas/Error"}}}},
        },
    }},
}  # fmt: skip


def register_views(app: Any, campaigns: Campaigns, json: Any, error: Any, routed: Any) -> None:
    """``GET /campaigns`` and ``GET /campaigns/{id}`` (bureau tokens; JSON errors)."""
    from faust.web import View

    @app.page("/campaigns")
    class CampaignListView(View):
        async def get(self, request: Any) -> Any:
            found = campaigns.list()
            return json(self, {"campaigns": found, "count": len(found)})

    @app.page("/campaigns/{id}")
    class CampaignView(View):
        async def get(self, request: Any, id: str) -> Any:
            async def answer() -> Any:
                body = campaigns.get(id)
                if body is None:
                    return error(self, 404, f"没有抽查活动 {id!r} / no campaign {id!r}")
                return json(self, body)

            return await routed(self, request, CAMPAIGNS_TABLE, id, answer)
