"""Platform rule changes and their effect on complaints (``GET /platforms/{id}/rules``).

One batch agent (:class:`RuleChangesProcessor`, pure: no Faust, Kafka or wall clock;
:func:`attach` wires it) reads the governance topic (``PlatformRuleChanged``) and the
complaints topic (``ComplaintFiled``, and its ticks for "today"). Its table keeps

* ``r<SEP><platform><SEP><rule id><SEP><event id>`` — each rule change (partition 0, the
  governance topic's one partition);
* ``p<SEP><case id>`` — each complaint's :class:`~agents.core.rule_effect.ComplaintPoint`
  (platform, category, intake day, 保价), on the complaint's partition (a redelivered filing
  writes the same value again);
* ``\\x00day`` — the newest Beijing day a complaints tick has reached.

The view computes :func:`agents.core.rule_effect.rule_effect` for each change of the platform
as of that day — the very function the audit report uses. It reads the points of every
complaint partition this worker holds (one worker holds them all; with several, the view
answers from the partitions it owns, which ``partitions_complete`` says).
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Any

import orjson

from agents.core.calendar import SHANGHAI
from agents.core.rule_effect import DEFAULT_WINDOW_DAYS, ComplaintPoint, rule_effect
from schemas.families import CaseFamily
from schemas.models import PlatformRuleChanged
from streams.codec import DecodeError, EventCodec
from streams.records import BatchResult, InRecord, StateReader, StateWrite
from streams.topics import Catalogue

log = logging.getLogger(__name__)

__all__ = ["OPENAPI_PATH", "RULES_TABLE", "RuleChangesProcessor", "attach", "platform_rules"]

RULES_TABLE = "rule-changes"
_SEP = "\x1f"
_DAY = b"\x00day"


class RuleChangesProcessor:
    def __init__(self, catalogue: Catalogue, codec: EventCodec | None = None) -> None:
        self.catalogue = catalogue
        self.codec = codec or EventCodec()
        self.counters: Counter[str] = Counter()
        self._complaints = catalogue.cases(CaseFamily.COMPLAINTS)
        self._governance = catalogue.governance
        self.day: date | None = None

    def process(self, batch: Sequence[InRecord], tables: Mapping[str, StateReader]) -> BatchResult:
        result = BatchResult()
        store = tables[RULES_TABLE]
        if self.day is None and (raw := store.get(_DAY)) is not None:
            self.day = date.fromisoformat(raw.decode())
        day_before = self.day
        for rec in batch:
            if rec.topic not in (self._complaints, self._governance):
                continue
            try:
                name, record = self.codec.decode_raw(rec.value or b"")
            except DecodeError:
                self.counters["undecodable"] += 1
                continue
            except Exception:
                log.exception("rule changes: cannot read %s@%s", rec.topic, rec.offset)
                self.counters["undecodable"] += 1
                continue
            if name == "PlatformRuleChanged" and rec.topic == self._governance:
                event = self.codec.decode(rec.value or b"", rec.headers)
                assert isinstance(event, PlatformRuleChanged)
                ident = _SEP.join(("r", event.platform_id, event.rule_id, event.event_id))
                body = orjson.dumps(event.model_dump(mode="json"))
                result.writes.append(StateWrite(RULES_TABLE, rec.partition, ident.encode(), body))
                self.counters["rule_changes"] += 1
            elif name == "ComplaintFiled" and rec.topic == self._complaints:
                point = ComplaintPoint.of(
                    record["case_id"], record["platform_id"], record["category"],
                    record["intake_at"], bool(record["insured"]), record.get("declared_value_fen"),
                )  # fmt: skip
                key = f"p{_SEP}{point.case_id}".encode()
                body = orjson.dumps(point.to_json())
                result.writes.append(StateWrite(RULES_TABLE, rec.partition, key, body))
                self.counters["complaints"] += 1
            elif name == "ClockTicked" and rec.topic == self._complaints:
                tick: datetime = record["tick_at"]
                day = tick.astimezone(SHANGHAI).date()
                if self.day is None or day > self.day:
                    self.day = day
        if self.day is not None and self.day != day_before:
            value = self.day.isoformat().encode()
            result.writes.append(StateWrite(RULES_TABLE, 0, _DAY, value))
        return result


def platform_rules(
    platform_id: str,
    store: StateReader,
    as_of: date | None,
    window_days: int = DEFAULT_WINDOW_DAYS,
) -> dict[str, Any]:
    """The platform's rule changes with their before/after effect, newest effective first."""
    changes: list[PlatformRuleChanged] = []
    points: list[ComplaintPoint] = []
    prefix = f"r{_SEP}{platform_id}{_SEP}".encode()
    for key, raw in store.items():
        if key.startswith(prefix):
            changes.append(PlatformRuleChanged.model_validate(orjson.loads(raw)))
        elif key.startswith(b"p" + _SEP.encode()):
            point = ComplaintPoint.from_json(orjson.loads(raw))
            if point.platform_id == platform_id:
                points.append(point)
    if as_of is None:
        as_of = max((p.intake_day for p in points), default=None) or max(
            (c.effective_from.astimezone(SHANGHAI).date() for c in changes),
            default=date(1970, 1, 1),
        )
    changes.sort(key=lambda c: (c.effective_from, c.rule_id, c.event_id), reverse=True)
    return {
        "platform_id": platform_id,
        "as_of": as_of.isoformat(),
        "window_days": window_days,
        "rate_unit": "complaints per day (no order volume in the log)",
        "rules": [rule_effect(c, points, as_of, window_days).to_json() for c in changes],
    }


# ---- Faust wiring ------------------------------------------------------------------------
OPENAPI_PATH: dict[str, Any] = {
    "get": {
        "summary": "A platform's rule changes (协议规则) with complaint rates before and after",
        "description": "Complaints per day in the `window` days before the effective day and "
        "from it on (cut at `at`), by category the rule touches; the insured (保价) share of "
        "delivery complaints. agents/core/rule_effect.py.",
        "parameters": [
            {"name": "id", "in": "path", "required": True, "schema": {"type": "string"}},
            {
                "name": "at",
                "in": "query",
                "schema": {"type": "string", "format": "date"},
                "description": "as of this Beijing day (default: the worker's clock day)",
            },
            {
                "name": "window",
                "in": "query",
                "schema": {"type": "integer", "minimum": 1, "maximum": 366, "default": 14},
            },
        ],
        "responses": {
            "200": {"description": "the rule changes"},
            "400": {"description": "bad"},
            "404": {"description": "no rule change recorded"},
        },
    }
}


def attach(app: Any, catalogue: Catalogue, options: Any, parts: Any) -> RuleChangesProcessor:
    """Register the rule-changes agent and its table, and the view (when the web API runs)."""
    from agents.batching import TableIO, apply_result, to_in_record

    proc = RuleChangesProcessor(catalogue)
    table = app.Table(
        RULES_TABLE, key_type=bytes, value_type=bytes, partitions=catalogue.case_partitions,
        help="platform rule changes and the complaints they are judged on",
    )  # fmt: skip
    tables = {RULES_TABLE: TableIO(table)}
    max_batch = getattr(options, "max_batch", 1000)
    within = getattr(options, "batch_within", 0.01)
    source = app.topic(catalogue.governance, catalogue.cases(CaseFamily.COMPLAINTS),
                       key_serializer="raw", value_serializer="raw")  # fmt: skip

    async def rule_changes(stream: Any) -> None:
        async for events in stream.take_events(max_batch, within=within):
            apply_result(app, tables, proc.process([to_in_record(e) for e in events], tables))

    app.agent(source, name="rule_changes", concurrency=1)(rule_changes)
    if getattr(options, "web_enabled", True):
        _register_view(app, proc, tables[RULES_TABLE])
    return proc


def _register_view(app: Any, proc: RuleChangesProcessor, store: Any) -> None:
    from faust.web import View

    from agents import web

    @app.page("/platforms/{id}/rules")
    class PlatformRulesView(View):
        async def get(self, request: Any, id: str) -> Any:
            q = request.query
            try:
                at = date.fromisoformat(q["at"]) if "at" in q else proc.day
            except ValueError:
                return web._error(self, 400, f"at: not a date (YYYY-MM-DD): {q['at']!r}")
            try:
                window = int(q.get("window", DEFAULT_WINDOW_DAYS))
                if not 1 <= window <= 366:
                    raise ValueError
            except ValueError:
                return web._error(self, 400, f"window: a whole number of days 1–366, "
                                             f"not {q.get('window')!r}")  # fmt: skip
            body = platform_rules(id, store, at, window)
            if not body["rules"]:
                return web._error(self, 404, f"no rule change recorded for platform {id!r}")
            return web._json(self, body)
