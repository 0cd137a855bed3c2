"""The worker's HTTP API for regulators: cases, scorecards, alerts (JSON and SSE), health,
metrics, and its OpenAPI 3 document at ``GET /openapi.json``.

``attach(app, settings, catalogue, parts)`` is called by :mod:`agents.app` when the API is
on; the regulator agents (:mod:`agents.regulator`) are attached there whether or not it is,
so the scorecards run either way. Views run on Faust's web server (aiohttp) in the
worker's event loop; each one only reads in-memory state, so none blocks the agents.

Keyed views (``/cases/{id}``, ``/platforms/{id}/scorecard``, ``/categories/{id}/scorecard``)
go through Faust's table router: a worker that does not own the key's partition forwards the
request to the one that does (its ``canonical_url``), so any worker answers for any key.
``/alerts`` and ``/alerts/stream`` read a bounded ring of recent alerts that every worker
fills from the whole alerts topic with its own consumer (no group), so each worker answers
them alone. Errors are JSON ``{"error": ...}``: 400 for a bad parameter, 401 without a
token, 403 for a platform token outside its platform, 404 for an unknown id or path, 503
while the partition owning a key is not assigned. Authentication: :mod:`agents.api_auth`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson

from agents.alert_ring import AlertRing, RingEntry, fill_ring
from agents.api_auth import Principal, Role, TokenStore, authenticate
from agents.core import dump_state, load_state
from agents.enforcement import RECORDS_TABLE, summary_of
from agents.regulator import Regulator, TableIO
from agents.rule_changes import OPENAPI_PATH as RULES_PATH
from agents.scorecard import (
    CATEGORY_PREFIX,
    METRICS,
    Window,
    local_day,
    range_scorecard,
    scorecard,
)
from schemas.families import CaseFamily
from schemas.instants import InstantError, from_ms, parse_instant
from schemas.models import Category, Level, PersonalDataViewed, Severity
from streams import compat
from streams.alert_feed import AlertFilter
from streams.codec import EventCodec
from streams.topics import Catalogue

if TYPE_CHECKING:
    from agents.parts import WorkerParts

log = logging.getLogger(__name__)

MAX_LIMIT = 1000
SSE_KEEPALIVE = 15.0
JSON = "application/json"


class BadRequest(ValueError):
    """A parameter the API cannot use; becomes a 400 with the message."""


# ---- parameters ------------------------------------------------------------------------------
def _one(request: Any, name: str) -> str | None:
    values = request.query.getall(name, [])
    if len(values) > 1:
        raise BadRequest(f"give {name} once")
    return values[0] if values else None


def _many(request: Any, name: str) -> list[str]:
    return [v for raw in request.query.getall(name, []) for v in raw.split(",") if v]


def _alert_filter(request: Any) -> AlertFilter:
    try:
        return AlertFilter.of(
            level=[v.upper() for v in _many(request, "level")] or None,
            office=_many(request, "office") or None,
            platform=_many(request, "platform") or None,
            rules=_many(request, "rule") or None,
        )
    except ValueError as exc:
        raise BadRequest(str(exc)) from None


def _since(request: Any) -> datetime | None:
    raw = _one(request, "since")
    if raw is None:
        return None
    text = raw if "T" not in raw else raw.replace(" ", "+")  # a '+' arrives as a space
    try:
        return parse_instant(text)
    except InstantError as exc:
        raise BadRequest(f"since={exc}") from None


def _limit(request: Any, default: int = 100) -> int:
    raw = _one(request, "limit")
    if raw is None:
        return default
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_LIMIT:
        raise BadRequest(f"limit must be an integer from 1 to {MAX_LIMIT}")
    return int(raw)


@dataclass(frozen=True, slots=True)
class Period:
    """What a scorecard request asks for: a window ending on ``at``, or ``from``..``to``."""

    window: Window
    at: date | None = None
    start: date | None = None
    end: date | None = None


def _date(request: Any, name: str) -> date | None:
    raw = _one(request, name)
    if raw is None:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise BadRequest(f"{name}={raw!r} is not a date (YYYY-MM-DD)") from None


def _period(request: Any) -> Period:
    start, end = _date(request, "from"), _date(request, "to")
    raw = _one(request, "window")
    if start is not None or end is not None:
        if start is None or end is None:
            raise BadRequest("from and to go together (YYYY-MM-DD, both inclusive)")
        if raw not in (None, Window.RANGE.value) or _one(request, "at") is not None:
            raise BadRequest("from/to replace window and at; give one or the other")
        if end < start:
            raise BadRequest(f"to={end} is before from={start}")
        return Period(Window.RANGE, start=start, end=end)
    raw = raw or Window.D30.value
    try:
        window = Window(raw)
    except ValueError:
        raise BadRequest(f"window must be one of {', '.join(w.value for w in Window)}") from None
    if window is Window.RANGE:
        raise BadRequest("window=range needs from and to (YYYY-MM-DD)")
    return Period(window, at=_date(request, "at"))


# ---- responses -------------------------------------------------------------------------------
def _iso_ms(ms: int) -> str:
    return from_ms(ms).isoformat(timespec="milliseconds")


def case_view(case_id: str, envelopes: dict[str, bytes], regulator: Regulator) -> Any:
    """The case's state, clocks and timeline (None if nothing is known about it)."""
    state = None
    for raw in envelopes.values():
        state = load_state(orjson.loads(raw)["s"])
        if state is not None:
            break
    facts = regulator.case(case_id)
    timeline = sorted(
        (
            {"at": _iso_ms(at), "type": kind, "id": ident, "note": note}
            for at, kind, ident, note in (facts or {}).get("timeline", [])
        ),
        key=lambda e: (e["at"], e["type"]),
    )
    if state is None and not timeline:
        return None
    body: dict[str, Any] = {"case_id": case_id, "timeline": timeline}
    if state is None:
        body.update(kind=None, state=None, clocks=[])
        return body
    body.update(
        kind=state.kind,
        platform_id=state.platform_id,
        office=state.office,
        status=getattr(state, "status", None),
        policy_version=state.policy_version,
        opened_at=state.opened_at.isoformat(),
        last_event_at=state.last_event_at.isoformat(),
        next_due_at=state.next_due_at.isoformat() if state.next_due_at else None,
        clocks=[
            {
                "rule_id": c.rule_id,
                "clock_id": c.clock_id,
                "status": c.status.value,
                "started_at": c.started_at.isoformat(),
                "due_at": c.due_at.isoformat(),
                "paused_ms": c.paused_ms,
                "warned_pct": list(c.warned),
                "breached": c.breached,
                "escalated": c.escalated,
                "provisional": c.provisional,
            }
            for c in state.clocks
        ],
        violations=[
            {
                "code": v.code.value,
                "event_id": v.event_id,
                "at": v.at.isoformat(),
                "detail": v.detail,
            }
            for v in state.violations
        ],
        state=dump_state(state),
    )
    return body


def scorecard_view(subject: str, period: Period, regulator: Regulator) -> Any:
    env = regulator.subject(subject)
    if env is None:
        return None
    clock = regulator.scorecards.clock(env["partition"])
    floor = env["kept_from"]
    ref: date | None
    if period.window is Window.RANGE:
        assert period.start is not None and period.end is not None
        if floor is not None and period.start.isoformat() < floor:
            raise BadRequest(
                f"from={period.start} is before the oldest day kept ({floor}; "
                f"{regulator.policy.keep_days} days are kept)"
            )
        card = range_scorecard(subject, env["days"], period.start, period.end)
        ref = period.end
    else:
        ref = period.at or (local_day(clock) if clock is not None else None)
        if ref is None:  # no tick has reached the regulator yet: the newest day with data
            ref = date.fromisoformat(max(env["days"])) if env["days"] else None
        if ref is None:
            ref = date.fromisoformat(floor) if floor else date(1970, 1, 1)
        card = scorecard(subject, env["days"], period.window, ref)
    body = card.to_json()
    body["as_of"] = ref.isoformat() if ref is not None else None
    body["clock"] = clock.isoformat() if clock is not None else None
    body["kept_from"] = floor
    body["targets"] = {"settlement_rate": regulator.policy.settlement.target}
    body["settlement_low_since"] = env["low_since"]
    body["signals_raised"] = list(env["raised"])
    return body


def health(app: Any, readiness: Any = None) -> tuple[int, dict[str, Any]]:
    """200 when the worker's consumer runs, has partitions, is not rebalancing and (with
    ``readiness``, an :class:`agents.startup.Readiness`) every agent consumes every topic it
    subscribes to; else 503 saying what is missing."""
    consumer = getattr(app, "_consumer", None)
    if consumer is None or not getattr(consumer, "started", False):
        return 503, {"status": "starting", "reason": "the consumer is not running"}
    if getattr(consumer, "crashed", False) or getattr(app, "crashed", False):
        return 503, {"status": "crashed", "reason": "the worker crashed"}
    if getattr(app, "rebalancing", False):
        return 503, {"status": "rebalancing", "reason": "partitions are being reassigned"}
    try:
        assigned = consumer.assignment()
    except Exception as exc:  # the driver is not ready yet
        return 503, {"status": "starting", "reason": f"no assignment: {exc}"}
    if not assigned:
        return 503, {"status": "unassigned", "reason": "no partitions assigned"}
    agents = sorted(getattr(a, "name", str(a)) for a in getattr(app, "agents", {}).values())
    if readiness is not None and not readiness.ready:
        return 503, {
            "status": "not_ready",
            "reason": "; ".join(readiness.problems),
            "problems": list(readiness.problems),
            "assigned_partitions": len(assigned),
            "agents": agents,
        }
    return 200, {"status": "ok", "assigned_partitions": len(assigned), "agents": agents}


# ---- metrics ---------------------------------------------------------------------------------
class _Metrics:
    """Prometheus collector reading the processors' counters at scrape time."""

    def __init__(self, parts: WorkerParts, ring: AlertRing) -> None:
        assert parts.regulator is not None
        self.app = parts.app
        self.parts = parts
        self.regulator = parts.regulator
        self.ring = ring

    def collect(self) -> Iterable[Any]:
        from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

        events = CounterMetricFamily(
            "regbus_events_processed",
            "Records processed, per agent and kind",
            labels=["agent", "kind"],
        )
        dead = CounterMetricFamily(
            "regbus_deadletter",
            "Records dead-lettered, per agent and reason",
            labels=["agent", "reason"],
        )
        for family, proc in self.parts.case_processors.items():
            agent = f"cases_{CaseFamily(family).value}"
            for kind in ("events", "ticks", "alerts"):
                events.add_metric([agent, kind], proc.counters.get(kind, 0))
            # The case agents count dead letters without a reason breakdown.
            dead.add_metric([agent, "UNSPECIFIED"], proc.counters.get("deadletter", 0))
        ingress = self.parts.ingress
        metrics = None if ingress is None else ingress.metrics
        if metrics is not None:
            for kind in ("received", "routed", "duplicates", "redelivered"):
                events.add_metric(["ingress", kind], getattr(metrics, kind, 0))
            for reason, n in getattr(metrics, "dead_lettered", {}).items():
                dead.add_metric(["ingress", getattr(reason, "value", str(reason))], n)
        processors: tuple[tuple[str, Any], ...] = (
            ("regulator_cases", self.regulator.facts),
            ("regulator_scorecards", self.regulator.scorecards),
        )
        for agent, proc in processors:
            for kind, n in sorted(proc.counters.items()):
                events.add_metric([agent, kind], n)
        alerts = CounterMetricFamily(
            "regbus_alerts_published", "Alerts this worker published, by rule and level",
            labels=["rule", "level"],
        )  # fmt: skip
        for (rule, level), n in sorted(self.regulator.alerts_published.items()):
            alerts.add_metric([rule, level], n)
        lag = GaugeMetricFamily(
            "regbus_consumer_lag", "Records behind the end of each assigned partition",
            labels=["topic", "partition"],
        )  # fmt: skip
        consumer = getattr(self.app, "_consumer", None)
        if consumer is not None and getattr(consumer, "started", False):
            try:
                assigned = sorted(consumer.assignment())
            except Exception:  # not ready
                assigned = []
            for tp in assigned:
                if tp.topic.endswith("-changelog"):
                    continue  # tables' own changelogs: read only during recovery
                try:
                    end = consumer.highwater(tp)
                except Exception:
                    continue
                if end is None:
                    continue
                read = compat.read_offsets(consumer).get(tp)
                done = (
                    read + 1
                    if read is not None
                    else compat.committed_offsets(consumer).get(tp) or 0
                )
                lag.add_metric([tp.topic, str(tp.partition)], max(0, end - done))
        ring = GaugeMetricFamily("regbus_alert_ring_size", "Recent alerts held for the API")
        ring.add_metric([], len(self.ring.entries))
        clients = GaugeMetricFamily("regbus_sse_clients", "Open /alerts/stream connections")
        clients.add_metric([], len(self.ring.listeners))
        readiness = self.parts.readiness
        ready = GaugeMetricFamily(
            "regbus_worker_ready", "1 when every agent consumes every topic it subscribes to"
        )
        ready.add_metric([], 1 if readiness.ready else 0)
        problems = GaugeMetricFamily(
            "regbus_worker_readiness_problems", "Agents/topics not consumed (see /health)"
        )
        problems.add_metric([], len(readiness.problems))
        return [events, dead, alerts, lag, ring, clients, ready, problems]


# ---- the views -------------------------------------------------------------------------------
def attach(app: Any, settings: Any, catalogue: Catalogue, parts: WorkerParts) -> AlertRing:
    """Register the HTTP API's views and the task that fills its ring of recent alerts."""
    assert parts.regulator is not None
    ring = AlertRing()
    _register_views(app, parts, ring)
    _guard(app, TokenStore(settings.state_dir), catalogue)

    @app.task
    async def regulator_alert_ring() -> None:
        await fill_ring(ring, settings, catalogue)

    @app.on_before_shutdown.connect
    async def _close_streams(sender: Any, **_: Any) -> None:
        ring.close()  # lets open SSE responses finish so the server can stop

    return ring


def _json(view: Any, body: Any, status: int = 200) -> Any:
    return view.bytes(orjson.dumps(body), content_type=JSON, status=status)


def _error(view: Any, status: int, message: str) -> Any:
    return _json(view, {"error": message}, status)


async def _guarded(view: Any, handler: Callable[[], Awaitable[Any]]) -> Any:
    try:
        return await handler()
    except BadRequest as exc:
        return _error(view, 400, str(exc))


async def _routed(
    view: Any, request: Any, table: str, key: str, handler: Callable[[], Awaitable[Any]]
) -> Any:
    """Answer here if this worker owns ``key`` in ``table``, else forward to the owner."""
    from faust.exceptions import SameNode
    from faust.web.exceptions import ServiceUnavailable

    try:
        return await view.app.router.route_req(table, key, view.web, request)
    except SameNode:
        return await _guarded(view, handler)
    except (ServiceUnavailable, KeyError):
        return _error(view, 503, "the partition holding this key is not assigned yet; retry")


def _register_views(app: Any, parts: WorkerParts, ring: AlertRing) -> None:
    from aiohttp import web as aioweb
    from faust.web import View
    from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Metrics(parts, ring))
    assert parts.regulator is not None
    regulator: Regulator = parts.regulator
    case_tables = {
        f: TableIO(app.tables[f"cases-{f.value}"])
        for f in CaseFamily
        if f"cases-{f.value}" in app.tables
    }
    route_table = f"cases-{CaseFamily.COMPLAINTS.value}"
    categories = {c.value for c in Category}
    if parts.campaigns is not None:
        from agents.campaigns import register_views

        register_views(app, parts.campaigns, _json, _error, _routed)

    @app.page("/openapi.json")
    class OpenApiView(View):
        async def get(self, request: Any) -> Any:
            return _json(self, OPENAPI)

    @app.page("/healthz")
    class HealthView(View):
        async def get(self, request: Any) -> Any:
            status, body = health(self.app, parts.readiness)
            return _json(self, body, status)

    @app.page("/health")
    class HealthAliasView(View):
        async def get(self, request: Any) -> Any:
            status, body = health(self.app, parts.readiness)
            return _json(self, body, status)

    @app.page("/metrics")
    class MetricsView(View):
        async def get(self, request: Any) -> Any:
            return self.bytes(
                generate_latest(registry), content_type=CONTENT_TYPE_LATEST.split(";")[0]
            )

    @app.page("/cases/{id}")
    class CaseView(View):
        async def get(self, request: Any, id: str) -> Any:
            async def answer() -> Any:
                envelopes = {
                    f.value: raw for f, io in case_tables.items() if (raw := io.get(id.encode()))
                }
                body = case_view(id, envelopes, regulator)
                if body is None:
                    return _error(self, 404, f"no case {id!r}")
                who: Principal | None = request.get(PRINCIPAL)
                if who is not None and not who.may_read_platform(body.get("platform_id")):
                    return _error(self, 403, f"{who.label} may read its own platform's cases only")
                await _log_case_view(self.app, who, id, body.get("platform_id") or "")
                return _json(self, body)

            return await _routed(self, request, route_table, id, answer)

    @app.page("/platforms/{id}/scorecard")
    class PlatformScorecardView(View):
        async def get(self, request: Any, id: str) -> Any:
            async def answer() -> Any:
                body = scorecard_view(id, _period(request), regulator)
                if body is None:
                    return _error(self, 404, f"no scorecard for platform {id!r}")
                body["enforcement"] = enforcement_view(id)
                return _json(self, body)

            if id.startswith(CATEGORY_PREFIX) or not id:
                return _error(self, 404, f"no platform {id!r}")
            return await _routed(self, request, "regulator-scorecards", id, answer)

    enforcement_table = TableIO(app.tables[RECORDS_TABLE]) if RECORDS_TABLE in app.tables else None

    def enforcement_view(platform_id: str) -> Any:
        return None if enforcement_table is None else summary_of(enforcement_table, platform_id)

    @app.page("/platforms/{id}/enforcement")
    class PlatformEnforcementView(View):
        async def get(self, request: Any, id: str) -> Any:
            async def answer() -> Any:
                body = enforcement_view(id)
                if body is None:
                    return _error(self, 404, f"no enforcement record for platform {id!r}")
                return _json(self, body)

            if id.startswith(CATEGORY_PREFIX) or not id:
                return _error(self, 404, f"no platform {id!r}")
            return await _routed(self, request, RECORDS_TABLE, id, answer)

    @app.page("/categories/{id}/scorecard")
    class CategoryScorecardView(View):
        async def get(self, request: Any, id: str) -> Any:
            subject = f"{CATEGORY_PREFIX}{id}"

            async def answer() -> Any:
                body = scorecard_view(subject, _period(request), regulator)
                if body is None:
                    return _error(self, 404, f"no complaints seen in category {id!r}")
                return _json(self, body)

            if id not in categories:
                return _error(self, 404, f"unknown category {id!r}; one of {sorted(categories)}")
            return await _routed(self, request, "regulator-scorecards", subject, answer)

    @app.page("/alerts")
    class AlertsView(View):
        async def get(self, request: Any) -> Any:
            async def answer() -> Any:
                flt, since, limit = _alert_filter(request), _since(request), _limit(request)
                found = ring.query(flt, since)[-limit:]
                alerts = [e.alert for e in reversed(found)]
                return _json(self, {"alerts": alerts, "count": len(alerts), "ready": ring.ready})

            return await _guarded(self, answer)

    @app.page("/alerts/stream")
    class AlertStreamView(View):
        async def get(self, request: Any) -> Any:
            try:
                flt, since = _alert_filter(request), _since(request)
                limit = _limit(request, default=0) if _one(request, "limit") else None
            except BadRequest as exc:
                return _error(self, 400, str(exc))
            last_id = request.headers.get("Last-Event-ID")
            listener = ring.listen()
            backlog = ring.query(flt, since, last_id) if (since or last_id) else []
            resp = aioweb.StreamResponse(
                status=200,
                headers={
                    "Content-Type": "text/event-stream",
                    "Cache-Control": "no-cache",
                    "X-Accel-Buffering": "no",
                },
            )
            await resp.prepare(request)
            sent = 0
            try:
                await resp.write(b": regbus alerts\n\n")
                for entry in backlog:
                    await resp.write(_sse(entry))
                    sent += 1
                    if limit is not None and sent >= limit:
                        return resp
                while not listener.overflowed:  # a client too slow to read is cut off
                    try:
                        async with asyncio.timeout(SSE_KEEPALIVE):
                            live = await listener.queue.get()
                    except TimeoutError:
                        await resp.write(b": keepalive\n\n")
                        continue
                    if live is None:
                        break
                    if flt.matches(live.alert):
                        await resp.write(_sse(live))
                        sent += 1
                        if limit is not None and sent >= limit:
                            break
                if listener.overflowed:
                    await resp.write(b"event: overflow\ndata: {}\n\n")
            except (ConnectionResetError, asyncio.CancelledError):
                pass
            finally:
                ring.listeners.discard(listener)
            return resp

    @aioweb.middleware
    async def json_not_found(request: Any, handler: Any) -> Any:
        try:
            return await handler(request)
        except aioweb.HTTPNotFound:
            body = orjson.dumps({"error": f"no such path {request.path}; see /openapi.json"})
            return aioweb.Response(body=body, status=404, content_type=JSON)
        except aioweb.HTTPMethodNotAllowed as exc:
            body = orjson.dumps({"error": f"{request.method} is not allowed on {request.path}"})
            return aioweb.Response(body=body, status=exc.status, content_type=JSON)
        except aioweb.HTTPException as exc:
            if exc.status < 400:
                raise  # redirects and the like pass through
            return _json_error(exc.status, exc.reason or "error")
        except (asyncio.CancelledError, ConnectionResetError):
            raise
        except Exception as exc:  # never aiohttp's plain-text "500 Server got itself in trouble"
            status, state = health(app, parts.readiness)
            if status != 200:
                log.warning("%s %s while not ready: %r", request.method, request.path, exc)
                return _json_error(503, f"the worker is not ready ({state['reason']}); retry")
            log.exception("%s %s failed", request.method, request.path)
            return _json_error(500, f"internal error: {type(exc).__name__}")

    def _json_error(status: int, message: str) -> Any:
        return aioweb.Response(
            body=orjson.dumps({"error": message}), status=status, content_type=JSON
        )

    app.web.web_app.middlewares.append(json_not_found)
    _register_docs(app.web.web_app)


SWAGGER_DIR = Path(__file__).resolve().parent / "static" / "swagger"
_DOCS_PAGE = """<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>regbus worker API</title>
<link rel="stylesheet" href="/docs/static/swagger-ui.css"></head>
<body><div id="swagger-ui"></div>
<script src="/docs/static/swagger-ui-bundle.js"></script>
<script>SwaggerUIBundle({url: "/openapi.json", dom_id: "#swagger-ui"});</script>
</body></html>"""


def _register_docs(web_app: Any) -> None:
    """Swagger UI at ``/docs`` over ``/openapi.json``, from the packaged swagger-ui-dist files
    (``make setup`` fetches them from npm; no CDN). Without them ``/docs`` says how to get them."""
    from aiohttp import web as aioweb

    async def docs(request: Any) -> Any:
        if not (SWAGGER_DIR / "swagger-ui-bundle.js").exists():
            return aioweb.Response(
                text="Swagger UI files missing: run `make setup` (.ci/console_assets.sh)",
                status=503,
            )
        return aioweb.Response(text=_DOCS_PAGE, content_type="text/html")

    web_app.router.add_get("/docs", docs)
    if SWAGGER_DIR.is_dir():
        web_app.router.add_static("/docs/static/", SWAGGER_DIR)


PRINCIPAL = "regbus.principal"
OPEN_ON_LOOPBACK = frozenset({"/health", "/healthz", "/metrics"})
OPEN_PATHS = frozenset({"/openapi.json", "/docs"})
_LOOPBACK = frozenset({"127.0.0.1", "::1", "localhost"})
_BUREAU_ONLY = ("/alerts", "/categories/", "/campaigns")
_VIEWS_SOURCE = "/bureau/worker-api"
_privacy_topic: dict[int, Any] = {}


def _guard(app: Any, tokens: TokenStore, catalogue: Catalogue) -> None:
    """Every view needs a bearer token (or a console session) except health and metrics
    from loopback and the API's own documents; a platform token sees only its platform."""
    from aiohttp import web as aioweb

    _privacy_topic[id(app)] = app.topic(
        catalogue.privacy, key_type=bytes, value_type=bytes,
        key_serializer="raw", value_serializer="raw",
    )  # fmt: skip

    def refuse(status: int, message: str) -> Any:
        headers = {"WWW-Authenticate": 'Bearer realm="regbus"'} if status == 401 else {}
        body = orjson.dumps({"error": message})
        return aioweb.Response(body=body, status=status, content_type=JSON, headers=headers)

    @aioweb.middleware
    async def require_auth(request: Any, handler: Any) -> Any:
        path = request.path
        if path in OPEN_PATHS or (path in OPEN_ON_LOOPBACK and request.remote in _LOOPBACK):
            return await handler(request)
        who = authenticate(tokens, request.headers, request.cookies)
        if who is None:
            return refuse(401, "需要登录 / authentication required: send Authorization: Bearer "
                               "<token> (regbus api token create)")  # fmt: skip
        if who.role is Role.PLATFORM:
            parts = path.split("/")
            if path.startswith(_BUREAU_ONLY) or path in OPEN_ON_LOOPBACK:
                return refuse(403, f"{who.label} may not read {path}")
            if len(parts) > 2 and parts[1] == "platforms":
                from urllib.parse import unquote

                if unquote(parts[2]) != who.platform:
                    return refuse(403, f"{who.label} may read its own scorecard only")
        request[PRINCIPAL] = who
        return await handler(request)

    app.web.web_app.middlewares.insert(0, require_auth)


async def _log_case_view(app: Any, who: Principal | None, case_id: str, platform_id: str) -> None:
    """Who viewed whose case, on the privacy topic (PIPL); a failure to log is logged."""
    import uuid

    event = PersonalDataViewed(
        event_id=str(uuid.uuid4()), case_id=case_id, platform_id=platform_id,
        occurred_at=datetime.now(UTC), viewer=who.name if who else "(unknown)",
        role=who.label if who else "", via="worker-api",
    )  # fmt: skip
    codec = EventCodec()
    key, value, headers = codec.encode(event, _VIEWS_SOURCE)
    try:
        await _privacy_topic[id(app)].send(key=key, value=value, headers=headers)
    except Exception:  # the view is answered; the gap in the trail is visible in the log
        log.exception("cannot log the view of case %s by %s", case_id, event.viewer)


def _sse(entry: RingEntry) -> bytes:
    alert = entry.alert
    return b"id: %s\nevent: alert\ndata: %s\n\n" % (alert["alert_id"].encode(), orjson.dumps(alert))


# ---- the OpenAPI document ----------------------------------------------------------------------
def _param(
    name: str, where: str, description: str, schema: dict[str, Any], required: bool = False
) -> dict[str, Any]:
    return {
        "name": name,
        "in": where,
        "required": required,
        "description": description,
        "schema": schema,
    }


_ERROR = {
    "description": "error",
    "content": {JSON: {"schema": {"$ref": "#/components/schemas/Error"}}},
}
_FILTERS = [
    _param("level", "query", "OFFICE, DEPARTMENT or LEADERSHIP (repeat or comma-separate)",
           {"type": "string"}),
    _param("office", "query", "office code, e.g. HD-ZGC", {"type": "string"}),
    _param("platform", "query", "platform id", {"type": "string"}),
    _param("rule", "query", "rule id, e.g. COMPLAINT_ACKNOWLEDGE", {"type": "string"}),
    _param("since", "query", "only alerts published at or after this ISO 8601 time (with zone)",
           {"type": "string", "format": "date-time"}),
]  # fmt: skip
_SCORECARD_PARAMS = [
    _param("window", "query", "day, week (ISO week) or 30d (30 days ending on `at`); "
           "range when from/to are given",
           {"type": "string", "enum": [w.value for w in Window], "default": "30d"}),
    _param("at", "query", "reference date (Asia/Shanghai); default: the regulator's clock",
           {"type": "string", "format": "date"}),
    _param("from", "query", "first date of an explicit range (with `to`; within the days "
           "kept)", {"type": "string", "format": "date"}),
    _param("to", "query", "last date of an explicit range, inclusive (with `from`)",
           {"type": "string", "format": "date"}),
]  # fmt: skip


_CATEGORIES = sorted(c.value for c in Category)


def _ok(schema: str, description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {JSON: {"schema": {"$ref": f"#/components/schemas/{schema}"}}},
    }


OPENAPI: dict[str, Any] = {
    "openapi": "3.0.3",
    "info": {
        "title": "regbus regulator API",
        "version": "1.0.0",
        "description": "Cases, scorecards and alerts for the bureau's regulators "
        "(docs/regulator.md).",
    },
    "paths": {
        "/cases/{id}": {"get": {
            "summary": "A case: state, SLA clocks and the latest timeline entries",
            "parameters": [_param("id", "path", "case id", {"type": "string"}, True)],
            "responses": {"200": _ok("Case", "the case"), "404": _ERROR, "503": _ERROR},
        }},
        "/platforms/{id}/scorecard": {"get": {
            "summary": "A platform's scorecard over a window",
            "parameters": [_param("id", "path", "platform id", {"type": "string"}, True),
                           *_SCORECARD_PARAMS],
            "responses": {"200": _ok("Scorecard", "the scorecard"), "400": _ERROR, "404": _ERROR,
                          "503": _ERROR},
        }},
        "/platforms/{id}/enforcement": {"get": {
            "summary": "A platform's enforcement record: interviews (约谈), orders to correct "
                       "(责令改正) open / closed / overdue, penalties and their total in fen",
            "parameters": [_param("id", "path", "platform id", {"type": "string"}, True)],
            "responses": {"200": _ok("Enforcement", "the record"), "404": _ERROR,
                          "503": _ERROR},
        }},
        "/platforms/{id}/rules": RULES_PATH,  # agents/rule_changes.py (issue 18)
        "/categories/{id}/scorecard": {"get": {
            "summary": "A complaint category's scorecard over a window",
            "parameters": [_param("id", "path", "category, e.g. DELIVERY_GOODS_DAMAGE",
                                  {"type": "string", "enum": _CATEGORIES}, True),
                           *_SCORECARD_PARAMS],
            "responses": {"200": _ok("Scorecard", "the scorecard"), "400": _ERROR, "404": _ERROR,
                          "503": _ERROR},
        }},
        "/alerts": {"get": {
            "summary": "Recent alerts, newest first (from this worker's ring of the last 5000)",
            "parameters": [*_FILTERS, _param("limit", "query", "at most this many (1–1000)",
                                             {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT,
                                              "default": 100})],
            "responses": {"200": _ok("AlertList", "matching alerts"), "400": _ERROR},
        }},
        "/alerts/stream": {"get": {
            "summary": "Live alerts as Server-Sent Events (event `alert`, id = alert_id)",
            "description": "With `since` or a Last-Event-ID header, matching alerts still in the "
                           "ring are sent first. A comment line is sent every 15 s.",
            "parameters": [*_FILTERS, _param("limit", "query", "close after this many alerts",
                                             {"type": "integer", "minimum": 1}),
                           _param("Last-Event-ID", "header", "resume after this alert id",
                                  {"type": "string"})],
            "responses": {"200": {"description": "an event stream",
                                  "content": {"text/event-stream": {"schema": {"type": "string"}}}},
                          "400": _ERROR},
        }},
        "/healthz": {"get": {
            "summary": "200 when the worker's consumer runs with partitions assigned, else 503",
            "responses": {"200": _ok("Health", "healthy"), "503": _ok("Health", "not serving")},
        }},
        "/health": {"get": {
            "summary": "The same as /healthz: 503 while any agent does not consume a topic it "
                       "subscribes to (`problems` says which)",
            "responses": {"200": _ok("Health", "healthy"), "503": _ok("Health", "not ready")},
        }},
        "/metrics": {"get": {
            "summary": "Prometheus metrics (text exposition format)",
            "responses": {"200": {"description": "metrics",
                                  "content": {"text/plain": {"schema": {"type": "string"}}}}},
        }},
        "/openapi.json": {"get": {
            "summary": "This document",
            "responses": {"200": {"description": "OpenAPI 3 document",
                                  "content": {JSON: {"schema": {"type": "object"}}}}},
        }},
    },
    "components": {"schemas": {
        "Error": {"type": "object", "required": ["error"],
                  "properties": {"error": {"type": "string"}}},
        "Alert": {"type": "object", "required": ["type", "alert_id", "rule_id", "severity", "level",
                                                 "office", "subject", "observed_at"],
                  "properties": {
                      "type": {"type": "string", "example": "SlaBreached"},
                      "alert_id": {"type": "string"}, "rule_id": {"type": "string"},
                      "severity": {"type": "string", "enum": [s.value for s in Severity]},
                      "level": {"type": "string", "enum": [lv.value for lv in Level]},
                      "office": {"type": "string"},
                      "department": {"type": "string", "nullable": True},
                      "subject": {"type": "string"}, "case_id": {"type": "string"},
                      "platform_id": {"type": "string"},
                      "due_at": {"type": "string", "format": "date-time", "nullable": True},
                      "observed_at": {"type": "string", "format": "date-time"},
                      "detail": {"type": "string"}},
                  "additionalProperties": True},
        "AlertList": {"type": "object", "required": ["alerts", "count"], "properties": {
            "alerts": {"type": "array", "items": {"$ref": "#/components/schemas/Alert"}},
            "count": {"type": "integer"}, "ready": {"type": "boolean"}}},
        "Scorecard": {"type": "object",
                      "required": ["subject", "kind", "window", "from", "to", "counts", "rates"],
                      "properties": {
                          "subject": {"type": "string"},
                          "kind": {"type": "string", "enum": ["platform", "category"]},
                          "window": {"type": "string", "enum": [w.value for w in Window]},
                          "from": {"type": "string", "format": "date"},
                          "to": {"type": "string", "format": "date"},
                          "as_of": {"type": "string", "format": "date"},
                          "clock": {"type": "string", "format": "date-time", "nullable": True},
                          "kept_from": {"type": "string", "format": "date", "nullable": True},
                          "counts": {"type": "object", "properties": {
                              m: {"type": "integer"} for m in METRICS}},
                          "rates": {"type": "object", "properties": {
                              r: {"type": "number", "nullable": True}
                              for r in ("response_rate", "resolution_rate", "satisfaction_rate",
                                        "settlement_rate")}},
                          "targets": {"type": "object"},
                          "settlement_low_since": {"type": "string", "nullable": True},
                          "signals_raised": {"type": "array", "items": {"type": "string"}},
                          "enforcement": {"allOf": [{"$ref": "#/components/schemas/Enforcement"}],
                                          "nullable": True}}},
        "Enforcement": {"type": "object", "required": [
            "platform_id", "interviews_held", "orders_open", "orders_closed", "orders_overdue",
            "penalties", "penalty_total_fen"], "properties": {
            "platform_id": {"type": "string"},
            **{n: {"type": "integer"} for n in (
                "interviews_recommended_open", "interviews_held", "interviews_concluded",
                "orders_open", "orders_closed", "orders_overdue", "penalties",
                "penalty_total_fen", "refused_events")},
            "interviews": {"type": "array", "items": {"type": "object"}},
            "orders": {"type": "array", "items": {"type": "object"}},
            "penalty_decisions": {"type": "array", "items": {"type": "object"}}}},
        "Case": {"type": "object", "required": ["case_id", "timeline"], "properties": {
            "case_id": {"type": "string"},
            "kind": {"type": "string", "enum": ["complaint", "refund", "rectification"],
                     "nullable": True},
            "status": {"type": "string"}, "platform_id": {"type": "string"},
            "office": {"type": "string"}, "policy_version": {"type": "string"},
            "clocks": {"type": "array", "items": {"type": "object"}},
            "violations": {"type": "array", "items": {"type": "object"}},
            "state": {"type": "object", "nullable": True},
            "timeline": {"type": "array", "items": {"type": "object", "properties": {
                "at": {"type": "string", "format": "date-time"}, "type": {"type": "string"},
                "id": {"type": "string"}, "note": {"type": "string"}}}}}},
        "Health": {"type": "object", "required": ["status"], "properties": {
            "status": {"type": "string"}, "reason": {"type": "string"},
            "assigned_partitions": {"type": "integer"},
            "problems": {"type": "array", "items": {"type": "string"}},
            "agents": {"type": "array", "items": {"type": "string"}}}},
    }},
}  # fmt: skip


def _add_campaign_paths() -> None:
    from agents.campaigns import OPENAPI_PATHS

    OPENAPI["paths"].update(OPENAPI_PATHS)


_add_campaign_paths()
