"""The console's read model: the topics folded into SQLite, behind one small interface.

:class:`ReadModel` is what the pages ask; :class:`SqliteReadModel` answers it from a WAL-mode
SQLite file (or ``:memory:``). The feed (:mod:`console.feed`) hands it one poll's records as
one batch: every effect and the next offset of each topic-partition commit in one
transaction, so the model is always a prefix of the log and a restart resumes exactly there.

Every effect is idempotent by event id, and nothing depends on the order *between* topics
(alert status is derived from its actions when asked, a complaint's late acknowledgement from
the breach alert when asked), so a rebuild that interleaves the topics differently ends equal.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

from agents.scorecard import ComplaintFacts, fold_complaint, rates
from console.timefmt import from_utc_text, to_utc_text
from schemas.mapping import to_avro
from schemas.models import (
    AccountCreated,
    AccountPasswordSet,
    AccountRoleChanged,
    AlertActionEvent,
    AlertEvent,
    CaseViewed,
    ClockTicked,
    ComplaintFiled,
    DeadLetterRecord,
    Event,
    InspectionFindingRecorded,
    ListExported,
    RosterAssigned,
    SlaClockCancelled,
    SlaClockEvent,
    SlaClockMet,
    SlaClockPaused,
    SlaClockResumed,
    SlaClockStarted,
)

__all__ = ["AlertFilter", "Applied", "CaseFilter", "ReadModel", "SqliteReadModel"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS offsets (topic TEXT, partition INTEGER, next_offset INTEGER,
    end_offset INTEGER, skipped INTEGER DEFAULT 0, PRIMARY KEY (topic, partition));
CREATE TABLE IF NOT EXISTS seen (event_id TEXT PRIMARY KEY);
CREATE TABLE IF NOT EXISTS cases (case_id TEXT PRIMARY KEY, family TEXT, platform_id TEXT,
    category TEXT, channel TEXT, priority TEXT, office TEXT, status TEXT, opened_at TEXT,
    updated_at TEXT, policy_version TEXT, facts TEXT, is_open INTEGER);
CREATE INDEX IF NOT EXISTS cases_platform ON cases (platform_id, opened_at);
CREATE INDEX IF NOT EXISTS cases_opened ON cases (opened_at);
CREATE TABLE IF NOT EXISTS events (event_id TEXT PRIMARY KEY, case_id TEXT, platform_id TEXT,
    topic TEXT, part INTEGER, pos INTEGER, type TEXT, occurred_at TEXT, body TEXT);
CREATE INDEX IF NOT EXISTS events_case ON events (case_id, occurred_at);
CREATE TABLE IF NOT EXISTS clocks (clock_id TEXT PRIMARY KEY, case_id TEXT, platform_id TEXT,
    rule_id TEXT, policy_version TEXT, state TEXT, started_at TEXT, due_at TEXT,
    paused_at TEXT, paused_ms INTEGER, ended_at TEXT);
CREATE INDEX IF NOT EXISTS clocks_state ON clocks (state, due_at);
CREATE TABLE IF NOT EXISTS pauses (clock_id TEXT, paused_at TEXT, reason TEXT,
    resumed_at TEXT, PRIMARY KEY (clock_id, paused_at));
CREATE TABLE IF NOT EXISTS alerts (event_id TEXT PRIMARY KEY, alert_id TEXT, type TEXT,
    rule_id TEXT, severity TEXT, level TEXT, office TEXT, department TEXT, subject TEXT,
    case_id TEXT, platform_id TEXT, due_at TEXT, observed_at TEXT, detail TEXT,
    policy_version TEXT);
CREATE INDEX IF NOT EXISTS alerts_alert ON alerts (alert_id);
CREATE INDEX IF NOT EXISTS alerts_case ON alerts (case_id);
CREATE TABLE IF NOT EXISTS actions (event_id TEXT PRIMARY KEY, alert_id TEXT, type TEXT,
    actor TEXT, detail TEXT, occurred_at TEXT);
CREATE INDEX IF NOT EXISTS actions_alert ON actions (alert_id, occurred_at);
CREATE TABLE IF NOT EXISTS deadletters (event_id TEXT PRIMARY KEY, platform_id TEXT,
    original_topic TEXT, reason TEXT, detail TEXT, occurred_at TEXT);
CREATE TABLE IF NOT EXISTS roster (event_id TEXT PRIMARY KEY, platform_id TEXT, office TEXT,
    department TEXT, leader TEXT, effective_from TEXT, occurred_at TEXT);
CREATE TABLE IF NOT EXISTS accounts (username TEXT PRIMARY KEY, display_name TEXT, role TEXT,
    office TEXT, password_hash TEXT, updated_at TEXT);
CREATE TABLE IF NOT EXISTS access (event_id TEXT PRIMARY KEY, type TEXT, actor TEXT,
    case_id TEXT, detail TEXT, occurred_at TEXT);
"""

# Tables whose content is the model (``offsets`` is bookkeeping about the log).
CONTENT_TABLES = (
    "cases",
    "events",
    "clocks",
    "pauses",
    "alerts",
    "actions",
    "deadletters",
    "roster",
    "accounts",
    "access",
)

_CLOSED_STATUSES = frozenset({"RESOLVED", "CLOSED", "PAID", "VERIFIED", "REJECTED_REFUND"})
_REFUND_STATUS = {
    "RefundRequested": "REQUESTED",
    "RefundReviewed": "REVIEWED",
    "RefundPaid": "PAID",
}
_RECT_STATUS = {
    "InspectionFindingRecorded": "FINDING",
    "RectificationOrdered": "ORDERED",
    "RectificationSubmitted": "SUBMITTED",
    "RectificationVerified": "VERIFIED",
    "RectificationRejected": "REJECTED",
}


@dataclass(frozen=True, slots=True)
class Applied:
    """One record of a poll: where it was in the log and what it decoded to (None: could
    not be decoded; it is counted as skipped on its partition, never silently)."""

    topic: str
    partition: int
    offset: int
    event: Event | None


@dataclass(frozen=True, slots=True)
class CaseFilter:
    case_id: str = ""
    platform: str = ""
    category: str = ""
    channel: str = ""
    status: str = ""
    opened_from: datetime | None = None
    opened_to: datetime | None = None
    open_only: bool = False


@dataclass(frozen=True, slots=True)
class AlertFilter:
    level: str = ""
    office: str = ""
    platform: str = ""
    rule: str = ""
    since: datetime | None = None
    until: datetime | None = None


Scope = frozenset[str] | None
"""The platforms a viewer may see; None = every platform."""


class ReadModel(Protocol):
    """What the console's pages ask of the folded topics."""

    def apply(self, batch: Sequence[Applied], end_offsets: dict[tuple[str, int], int]) -> int:
        """Fold one poll's records; returns how many new events were applied."""
        ...

    def positions(self) -> dict[tuple[str, int], int]: ...
    def lag(self) -> list[dict[str, Any]]: ...
    def summary(self, scope: Scope, now: datetime, day_end: datetime) -> dict[str, Any]: ...
    def cases(
        self, f: CaseFilter, scope: Scope, limit: int, offset: int = 0
    ) -> tuple[list[dict[str, Any]], int]: ...
    def case(self, case_id: str) -> dict[str, Any] | None: ...
    def running_clocks(self, scope: Scope, limit: int) -> tuple[list[dict[str, Any]], int]: ...
    def alerts(
        self, f: AlertFilter, scope: Scope, limit: int
    ) -> tuple[list[dict[str, Any]], int]: ...
    def alert(self, alert_id: str) -> dict[str, Any] | None: ...
    def platform_weeks(self, scope: Scope) -> dict[str, list[dict[str, Any]]]: ...
    def breaches_by_rule(self, scope: Scope) -> list[dict[str, Any]]: ...
    def deadletters_by_reason(self) -> list[dict[str, Any]]: ...
    def alerts_of_type(self, type_: str, scope: Scope, limit: int) -> list[dict[str, Any]]: ...
    def account(self, username: str) -> dict[str, Any] | None: ...
    def account_count(self) -> int: ...
    def roster_events(self) -> list[dict[str, Any]]: ...
    def access_log(self, limit: int) -> list[dict[str, Any]]: ...
    def dump(self) -> dict[str, list[tuple[Any, ...]]]: ...


def _t(value: datetime | None) -> str | None:
    return None if value is None else to_utc_text(value)


def _body(event: Event) -> str:
    data = event.model_dump(mode="json")
    if isinstance(event, DeadLetterRecord):  # the original bytes may carry personal data
        for name in ("original_key", "original_value", "original_headers"):
            data.pop(name, None)
    return json.dumps(data, ensure_ascii=False, sort_keys=True)


def _scope_sql(column: str, scope: Scope) -> tuple[str, list[Any]]:
    if scope is None:
        return "", []
    if not scope:
        return " AND 0", []
    marks = ",".join("?" * len(scope))
    return f" AND {column} IN ({marks})", sorted(scope)


class SqliteReadModel:
    """The default :class:`ReadModel`: one SQLite file in WAL mode."""

    def __init__(self, path: Path | str = ":memory:") -> None:
        self.path = str(path)
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self._db.row_factory = sqlite3.Row
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(_SCHEMA)

    def close(self) -> None:
        self._db.close()

    # writing ---------------------------------------------------------------------------
    def apply(self, batch: Sequence[Applied], end_offsets: dict[tuple[str, int], int]) -> int:
        db = self._db
        applied = 0
        db.execute("BEGIN IMMEDIATE")
        try:
            skipped: dict[tuple[str, int], int] = {}
            nexts: dict[tuple[str, int], int] = {}
            for item in batch:
                tp = (item.topic, item.partition)
                nexts[tp] = max(nexts.get(tp, 0), item.offset + 1)
                if item.event is None:
                    skipped[tp] = skipped.get(tp, 0) + 1
                    continue
                if isinstance(item.event, ClockTicked):
                    continue
                cur = db.execute(
                    "INSERT OR IGNORE INTO seen (event_id) VALUES (?)", (item.event.event_id,)
                )
                if cur.rowcount == 0:
                    continue  # a duplicate: the same fact again
                self._fold(item)
                applied += 1
            for tp in set(nexts) | set(end_offsets):
                db.execute(
                    "INSERT INTO offsets (topic, partition, next_offset, end_offset, skipped) "
                    "VALUES (?, ?, ?, ?, ?) ON CONFLICT (topic, partition) DO UPDATE SET "
                    "next_offset = MAX(next_offset, excluded.next_offset), "
                    "end_offset = MAX(end_offset, excluded.end_offset), "
                    "skipped = skipped + excluded.skipped",
                    (tp[0], tp[1], nexts.get(tp, 0), end_offsets.get(tp, 0), skipped.get(tp, 0)),
                )
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        return applied

    def _fold(self, item: Applied) -> None:
        event = item.event
        assert event is not None
        db = self._db
        name = type(event).__name__
        if isinstance(event, AlertEvent):
            case_id = event.case_id or (event.subject if event.subject != event.platform_id else "")
            db.execute(
                "INSERT INTO alerts VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                (
                    event.event_id,
                    event.alert_id,
                    name,
                    event.rule_id,
                    event.severity.value,
                    event.level.value,
                    event.office,
                    event.department,
                    event.subject,
                    case_id,
                    event.platform_id,
                    _t(event.due_at),
                    _t(event.observed_at),
                    event.detail,
                    event.policy_version,
                ),
            )
            return
        if isinstance(event, SlaClockEvent):
            self._fold_clock(event)
            self._event_row(item)
            return
        if isinstance(event, AlertActionEvent):
            detail = getattr(event, "assignee", None) or getattr(event, "note", None)
            detail = detail if detail is not None else getattr(event, "reason", "")
            db.execute(
                "INSERT INTO actions VALUES (?,?,?,?,?,?)",
                (event.event_id, event.alert_id, name, event.actor, detail, _t(event.occurred_at)),
            )
            return
        if isinstance(event, DeadLetterRecord):
            db.execute(
                "INSERT INTO deadletters VALUES (?,?,?,?,?,?)",
                (
                    event.event_id,
                    event.platform_id,
                    event.original_topic,
                    event.reason.value,
                    event.detail,
                    _t(event.occurred_at),
                ),
            )
            return
        if isinstance(event, RosterAssigned):
            db.execute(
                "INSERT INTO roster VALUES (?,?,?,?,?,?,?)",
                (
                    event.event_id,
                    event.platform_id,
                    event.office,
                    event.department,
                    event.leader,
                    _t(event.effective_from),
                    _t(event.occurred_at),
                ),
            )
            return
        if isinstance(event, AccountCreated | AccountRoleChanged | AccountPasswordSet):
            self._fold_account(event)
            return
        if isinstance(event, CaseViewed | ListExported):
            detail = (
                event.view
                if isinstance(event, CaseViewed)
                else f"{event.list_name}.{event.export_format} {event.query} ({event.rows})"
            )
            db.execute(
                "INSERT INTO access VALUES (?,?,?,?,?,?)",
                (event.event_id, name, event.actor, event.case_id, detail, _t(event.occurred_at)),
            )
            return
        if event.case_id:
            self._fold_case(item)

    def _event_row(self, item: Applied) -> None:
        event = item.event
        assert event is not None
        self._db.execute(
            "INSERT OR IGNORE INTO events VALUES (?,?,?,?,?,?,?,?,?)",
            (
                event.event_id,
                event.case_id,
                event.platform_id,
                item.topic,
                item.partition,
                item.offset,
                type(event).__name__,
                _t(event.occurred_at),
                _body(event),
            ),
        )

    def _fold_case(self, item: Applied) -> None:
        event = item.event
        assert event is not None
        db = self._db
        name = type(event).__name__
        self._event_row(item)
        row = db.execute("SELECT * FROM cases WHERE case_id = ?", (event.case_id,)).fetchone()
        family = item.topic.rsplit(".", 1)[-1]
        stored: dict[str, Any] = json.loads(row["facts"]) if row and row["facts"] else {}
        facts: dict[str, Any] = stored
        status = row["status"] if row else None
        if family == "complaints":
            folded = fold_complaint(
                ComplaintFacts.from_json(stored) if stored else None, name, to_avro(event)
            )
            if folded is not None:
                facts = folded.to_json()
                status = folded.status.value
        elif family == "refunds":
            status = _REFUND_STATUS.get(name, status)
            decision = getattr(event, "decision", None)
            if decision is not None and decision.value == "REJECTED":
                status = "REJECTED_REFUND"
        else:
            status = _RECT_STATUS.get(name, status)
        is_open = 0 if status in _CLOSED_STATUSES else 1
        at = _t(event.occurred_at)
        if row is None:
            opened = event.intake_at if isinstance(event, ComplaintFiled) else event.occurred_at
            office = (
                event.office
                if isinstance(event, ComplaintFiled | InspectionFindingRecorded)
                else ""
            )
            db.execute(
                "INSERT INTO cases VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
                (
                    event.case_id,
                    family,
                    event.platform_id,
                    getattr(getattr(event, "category", None), "value", ""),
                    getattr(getattr(event, "channel", None), "value", ""),
                    getattr(getattr(event, "priority", None), "value", ""),
                    office,
                    status or "",
                    _t(opened),
                    at,
                    getattr(event, "policy_rule_version", None)
                    or self._clock_version(event.case_id),
                    json.dumps(facts, sort_keys=True),
                    is_open,
                ),
            )
        else:
            db.execute(
                "UPDATE cases SET status = ?, updated_at = MAX(updated_at, ?), facts = ?, "
                "is_open = ? WHERE case_id = ?",
                (status or "", at, json.dumps(facts, sort_keys=True), is_open, event.case_id),
            )

    def _clock_version(self, case_id: str) -> str:
        """The policy version of a case whose clocks were folded before the case itself (the
        topics interleave differently in a rebuild)."""
        row = self._db.execute(
            "SELECT policy_version FROM clocks WHERE case_id = ? ORDER BY started_at LIMIT 1",
            (case_id,),
        ).fetchone()
        return str(row[0]) if row else ""

    def _fold_clock(self, event: SlaClockEvent) -> None:
        db = self._db
        if isinstance(event, SlaClockStarted):
            db.execute(
                "INSERT INTO clocks VALUES (?,?,?,?,?,?,?,?,?,?,?) ON CONFLICT (clock_id) DO "
                "UPDATE SET started_at = excluded.started_at, due_at = excluded.due_at",
                (
                    event.clock_id,
                    event.case_id,
                    event.platform_id,
                    event.sla_id,
                    event.policy_version,
                    "RUNNING",
                    _t(event.started_at),
                    _t(event.due_at),
                    None,
                    0,
                    None,
                ),
            )
            db.execute(
                "UPDATE cases SET policy_version = ? WHERE case_id = ? AND policy_version = ''",
                (event.policy_version, event.case_id),
            )
        elif isinstance(event, SlaClockPaused):
            db.execute(
                "UPDATE clocks SET state = 'PAUSED', paused_at = ? WHERE clock_id = ?",
                (_t(event.paused_at), event.clock_id),
            )
            db.execute(
                "INSERT OR IGNORE INTO pauses VALUES (?,?,?,?)",
                (event.clock_id, _t(event.paused_at), event.reason.value, None),
            )
        elif isinstance(event, SlaClockResumed):
            row = db.execute(
                "SELECT paused_at FROM pauses WHERE clock_id = ? AND resumed_at IS NULL "
                "ORDER BY paused_at DESC LIMIT 1",
                (event.clock_id,),
            ).fetchone()
            extra = 0
            if row is not None:
                extra = int(
                    (event.resumed_at - from_utc_text(row["paused_at"])).total_seconds() * 1000
                )
                db.execute(
                    "UPDATE pauses SET resumed_at = ? WHERE clock_id = ? AND paused_at = ?",
                    (_t(event.resumed_at), event.clock_id, row["paused_at"]),
                )
            db.execute(
                "UPDATE clocks SET state = 'RUNNING', paused_at = NULL, due_at = ?, "
                "paused_ms = paused_ms + ? WHERE clock_id = ?",
                (_t(event.due_at), max(extra, 0), event.clock_id),
            )
        elif isinstance(event, SlaClockMet):
            db.execute(
                "UPDATE clocks SET state = 'MET', ended_at = ?, paused_ms = ? WHERE clock_id = ?",
                (_t(event.met_at), event.paused_ms, event.clock_id),
            )
        elif isinstance(event, SlaClockCancelled):
            db.execute(
                "UPDATE clocks SET state = 'CANCELLED', ended_at = ? WHERE clock_id = ?",
                (_t(event.cancelled_at), event.clock_id),
            )

    def _fold_account(
        self, event: AccountCreated | AccountRoleChanged | AccountPasswordSet
    ) -> None:
        db = self._db
        at = _t(event.occurred_at)
        if isinstance(event, AccountCreated):
            db.execute(
                "INSERT INTO accounts VALUES (?,?,?,?,?,?) ON CONFLICT (username) DO NOTHING",
                (
                    event.username,
                    event.display_name,
                    event.role.value,
                    event.office,
                    event.password_hash,
                    at,
                ),
            )
        elif isinstance(event, AccountRoleChanged):
            db.execute(
                "UPDATE accounts SET role = ?, office = ?, updated_at = ? WHERE username = ?",
                (event.role.value, event.office, at, event.username),
            )
        else:
            db.execute(
                "UPDATE accounts SET password_hash = ?, updated_at = ? WHERE username = ?",
                (event.password_hash, at, event.username),
            )

    # reading ---------------------------------------------------------------------------
    def _rows(self, sql: str, args: Iterable[Any] = ()) -> list[dict[str, Any]]:
        return [dict(r) for r in self._db.execute(sql, tuple(args)).fetchall()]

    def positions(self) -> dict[tuple[str, int], int]:
        return {
            (r["topic"], r["partition"]): r["next_offset"]
            for r in self._rows("SELECT topic, partition, next_offset FROM offsets")
        }

    def lag(self) -> list[dict[str, Any]]:
        rows = self._rows("SELECT * FROM offsets ORDER BY topic, partition")
        for r in rows:
            r["lag"] = max(r["end_offset"] - r["next_offset"], 0)
        return rows

    def summary(self, scope: Scope, now: datetime, day_end: datetime) -> dict[str, Any]:
        where, args = _scope_sql("platform_id", scope)
        open_cases = self._rows(
            f"SELECT platform_id, COUNT(*) AS n FROM cases WHERE is_open = 1{where} "
            "GROUP BY platform_id",
            args,
        )
        clocks = self._rows(
            "SELECT platform_id, "
            "SUM(CASE WHEN due_at < ? THEN 1 ELSE 0 END) AS overdue, "
            "SUM(CASE WHEN due_at >= ? AND due_at < ? THEN 1 ELSE 0 END) AS at_risk "
            f"FROM clocks WHERE state = 'RUNNING'{where} GROUP BY platform_id",
            [to_utc_text(now), to_utc_text(now), to_utc_text(day_end), *args],
        )
        by: dict[str, dict[str, int]] = {}
        for r in open_cases:
            by.setdefault(r["platform_id"], {"open": 0, "at_risk": 0, "overdue": 0})["open"] = r[
                "n"
            ]
        for r in clocks:
            entry = by.setdefault(r["platform_id"], {"open": 0, "at_risk": 0, "overdue": 0})
            entry["at_risk"], entry["overdue"] = r["at_risk"] or 0, r["overdue"] or 0
        platforms = [{"platform_id": p, **v} for p, v in sorted(by.items())]
        return {
            "open": sum(p["open"] for p in platforms),
            "at_risk": sum(p["at_risk"] for p in platforms),
            "overdue": sum(p["overdue"] for p in platforms),
            "by_platform": platforms,
        }

    def cases(
        self, f: CaseFilter, scope: Scope, limit: int, offset: int = 0
    ) -> tuple[list[dict[str, Any]], int]:
        where, args = _scope_sql("platform_id", scope)
        conds: list[str] = []
        for column, value in (
            ("platform_id", f.platform),
            ("category", f.category),
            ("channel", f.channel),
            ("status", f.status),
        ):
            if value:
                conds.append(f"{column} = ?")
                args.append(value)
        if f.case_id:
            conds.append("case_id LIKE ?")
            args.append(f"%{f.case_id}%")
        if f.opened_from is not None:
            conds.append("opened_at >= ?")
            args.append(to_utc_text(f.opened_from))
        if f.opened_to is not None:
            conds.append("opened_at < ?")
            args.append(to_utc_text(f.opened_to))
        if f.open_only:
            conds.append("is_open = 1")
        sql_where = "WHERE 1" + where + "".join(f" AND {c}" for c in conds)
        total = self._db.execute(f"SELECT COUNT(*) FROM cases {sql_where}", args).fetchone()[0]
        rows = self._rows(
            f"SELECT case_id, family, platform_id, category, channel, priority, office, status, "
            f"opened_at, updated_at, policy_version, is_open FROM cases {sql_where} "
            "ORDER BY opened_at DESC, case_id LIMIT ? OFFSET ?",
            [*args, limit, offset],
        )
        return rows, total

    def case(self, case_id: str) -> dict[str, Any] | None:
        rows = self._rows("SELECT * FROM cases WHERE case_id = ?", (case_id,))
        if not rows:
            return None
        case = rows[0]
        case.pop("facts", None)
        case["events"] = self._rows(
            "SELECT event_id, type, occurred_at, topic, part, pos, body FROM events "
            "WHERE case_id = ? ORDER BY occurred_at, topic, pos",
            (case_id,),
        )
        for e in case["events"]:
            e["body"] = json.loads(e["body"])
        case["clocks"] = self._rows(
            "SELECT * FROM clocks WHERE case_id = ? ORDER BY started_at, rule_id", (case_id,)
        )
        for c in case["clocks"]:
            c["pauses"] = self._rows(
                "SELECT paused_at, resumed_at, reason FROM pauses WHERE clock_id = ? "
                "ORDER BY paused_at",
                (c["clock_id"],),
            )
        case["alerts"] = self._with_actions(
            self._rows("SELECT * FROM alerts WHERE case_id = ? ORDER BY observed_at", (case_id,))
        )
        return case

    def _with_actions(self, alerts: list[dict[str, Any]]) -> list[dict[str, Any]]:
        if not alerts:
            return alerts
        ids = sorted({a["alert_id"] for a in alerts})
        marks = ",".join("?" * len(ids))
        actions = self._rows(
            f"SELECT * FROM actions WHERE alert_id IN ({marks}) ORDER BY occurred_at, event_id",
            ids,
        )
        by: dict[str, list[dict[str, Any]]] = {}
        for a in actions:
            by.setdefault(a["alert_id"], []).append(a)
        for alert in alerts:
            acts = by.get(alert["alert_id"], [])
            alert["actions"] = acts
            alert["status"] = _alert_status(acts)
            assigned = [a["detail"] for a in acts if a["type"] == "AlertAssigned"]
            alert["assignee"] = assigned[-1] if assigned else ""
        return alerts

    def running_clocks(self, scope: Scope, limit: int) -> tuple[list[dict[str, Any]], int]:
        where, args = _scope_sql("k.platform_id", scope)
        base = f"FROM clocks k WHERE k.state IN ('RUNNING', 'PAUSED'){where}"
        total = self._db.execute(f"SELECT COUNT(*) {base}", args).fetchone()[0]
        rows = self._rows(
            "SELECT k.*, (SELECT category FROM cases c WHERE c.case_id = k.case_id) AS category "
            f"{base} ORDER BY k.state = 'PAUSED', k.due_at, k.clock_id LIMIT ?",
            [*args, limit],
        )
        return rows, total

    def alerts(self, f: AlertFilter, scope: Scope, limit: int) -> tuple[list[dict[str, Any]], int]:
        where, args = _scope_sql("platform_id", scope)
        conds: list[str] = []
        for column, value in (
            ("level", f.level),
            ("office", f.office),
            ("platform_id", f.platform),
            ("rule_id", f.rule),
        ):
            if value:
                conds.append(f"{column} = ?")
                args.append(value)
        if f.since is not None:
            conds.append("observed_at >= ?")
            args.append(to_utc_text(f.since))
        if f.until is not None:
            conds.append("observed_at < ?")
            args.append(to_utc_text(f.until))
        sql_where = "WHERE 1" + where + "".join(f" AND {c}" for c in conds)
        total = self._db.execute(f"SELECT COUNT(*) FROM alerts {sql_where}", args).fetchone()[0]
        rows = self._rows(
            f"SELECT * FROM alerts {sql_where} ORDER BY observed_at DESC, event_id LIMIT ?",
            [*args, limit],
        )
        return self._with_actions(rows), total

    def alert(self, alert_id: str) -> dict[str, Any] | None:
        rows = self._rows(
            "SELECT * FROM alerts WHERE alert_id = ? ORDER BY observed_at", (alert_id,)
        )
        return self._with_actions(rows)[-1] if rows else None

    def platform_weeks(self, scope: Scope) -> dict[str, list[dict[str, Any]]]:
        """Per platform and ISO week of intake: counts and the bureau's rates, folded with
        the worker's own scorecard functions (one definition of each rate)."""
        from agents.scorecard import week_start

        where, args = _scope_sql("c.platform_id", scope)
        late = {
            r["case_id"]
            for r in self._rows(
                "SELECT case_id FROM alerts WHERE type = 'SlaBreached' "
                "AND rule_id = 'COMPLAINT_ACKNOWLEDGE'"
            )
        }
        out: dict[str, dict[str, list[int]]] = {}
        for r in self._rows(
            f"SELECT c.case_id, c.platform_id, c.facts FROM cases c "
            f"WHERE c.family = 'complaints'{where}",
            args,
        ):
            stored = json.loads(r["facts"]) if r["facts"] else {}
            if not stored:
                continue  # its filing has not been seen yet
            facts = ComplaintFacts.from_json(stored)
            if r["case_id"] in late:
                facts.mark_ack_breached()
            day, vec = facts.contribution()
            week = week_start(datetime.fromisoformat(day).date()).isoformat()
            acc = out.setdefault(r["platform_id"], {}).setdefault(week, [0] * len(vec))
            for i, v in enumerate(vec):
                acc[i] += v
        result: dict[str, list[dict[str, Any]]] = {}
        for platform, weeks in sorted(out.items()):
            result[platform] = [
                {"week": w, "complaints": v[0], **rates(v)} for w, v in sorted(weeks.items())
            ]
        return result

    def breaches_by_rule(self, scope: Scope) -> list[dict[str, Any]]:
        where, args = _scope_sql("platform_id", scope)
        return self._rows(
            f"SELECT rule_id, COUNT(*) AS n FROM alerts WHERE type = 'SlaBreached'{where} "
            "GROUP BY rule_id ORDER BY n DESC, rule_id",
            args,
        )

    def deadletters_by_reason(self) -> list[dict[str, Any]]:
        return self._rows(
            "SELECT reason, COUNT(*) AS n FROM deadletters GROUP BY reason ORDER BY n DESC, reason"
        )

    def alerts_of_type(self, type_: str, scope: Scope, limit: int) -> list[dict[str, Any]]:
        where, args = _scope_sql("platform_id", scope)
        return self._rows(
            f"SELECT * FROM alerts WHERE type = ?{where} ORDER BY observed_at DESC LIMIT ?",
            [type_, *args, limit],
        )

    def rectifications(self, scope: Scope, limit: int) -> list[dict[str, Any]]:
        where, args = _scope_sql("platform_id", scope)
        return self._rows(
            f"SELECT case_id, platform_id, status, opened_at, updated_at FROM cases "
            f"WHERE family = 'rectifications'{where} ORDER BY opened_at DESC LIMIT ?",
            [*args, limit],
        )

    def account(self, username: str) -> dict[str, Any] | None:
        rows = self._rows("SELECT * FROM accounts WHERE username = ?", (username,))
        return rows[0] if rows else None

    def account_count(self) -> int:
        return int(self._db.execute("SELECT COUNT(*) FROM accounts").fetchone()[0])

    def roster_events(self) -> list[dict[str, Any]]:
        return self._rows("SELECT * FROM roster ORDER BY platform_id, effective_from")

    def access_log(self, limit: int) -> list[dict[str, Any]]:
        return self._rows("SELECT * FROM access ORDER BY occurred_at DESC LIMIT ?", (limit,))

    def dump(self) -> dict[str, list[tuple[Any, ...]]]:
        """Every content table, rows sorted: two models are equal when their dumps are."""
        out: dict[str, list[tuple[Any, ...]]] = {}
        for table in CONTENT_TABLES:
            rows = self._db.execute(f"SELECT * FROM {table}").fetchall()
            out[table] = sorted((tuple(r) for r in rows), key=repr)
        return out


def _alert_status(actions: list[dict[str, Any]]) -> str:
    types = {a["type"] for a in actions}
    if "AlertClosed" in types:
        return "CLOSED"
    if "AlertAssigned" in types:
        return "ASSIGNED"
    if "AlertAcknowledged" in types:
        return "CONFIRMED"
    return "OPEN"
