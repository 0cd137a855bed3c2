"""Roster files (CSV or YAML) into :class:`RosterAssigned` events, every row checked first.

Columns / keys: ``platform_id, office, department, leader, effective_from`` (required),
``office_contacts, department_contacts, leader_contacts`` (``;``-separated in CSV, lists in
YAML), ``assigned_by`` (optional). ``effective_from`` is a day (``2026-03-01``: 00:00 Beijing
time) or an instant with its offset. The platform ``bureau`` is the bureau-wide entry
(category signals, calendar gaps). An error names ``file:line:field``.

Event ids are uuid5 of the row's content (platform, day, units, contacts), so loading the
same file again yields the same events, which the roster ignores; a changed row is a new
assignment and, for the same day, the later one wins.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import Path
from zoneinfo import ZoneInfo

import yaml
from pydantic import ValidationError

from agents.core.ids import derive_id
from schemas.models import RosterAssigned
from streams.topics import RegistryError, validate_platform_id

BEIJING = ZoneInfo("Asia/Shanghai")
BUREAU_WIDE = "bureau"
REQUIRED = ("platform_id", "office", "department", "leader", "effective_from")
CONTACTS = ("office_contacts", "department_contacts", "leader_contacts")
KNOWN = frozenset((*REQUIRED, *CONTACTS, "assigned_by"))

__all__ = ["RosterFileError", "RowError", "assignment", "parse_day", "read_roster_file"]


@dataclass(frozen=True)
class RowError:
    path: str
    line: int
    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}:{self.field}: {self.message}"


class RosterFileError(ValueError):
    def __init__(self, errors: list[RowError]) -> None:
        self.errors = errors
        super().__init__("; ".join(str(e) for e in errors))


def parse_day(text: str) -> datetime:
    """``2026-03-01`` → 00:00 Beijing time; an ISO instant must carry its offset."""
    text = text.strip()
    try:
        return datetime.combine(date.fromisoformat(text), time(0), BEIJING)
    except ValueError:
        pass
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        raise ValueError("give a day (2026-03-01) or an instant with its offset (+08:00)")
    return moment


def assignment(
    platform_id: str,
    office: str,
    department: str,
    leader: str,
    effective_from: datetime,
    *,
    office_contacts: Iterable[str] = (),
    department_contacts: Iterable[str] = (),
    leader_contacts: Iterable[str] = (),
    assigned_by: str = "regbus-roster",
    issued_at: datetime | None = None,
) -> RosterAssigned:
    """One assignment with its id from its content (see the module docstring)."""
    if platform_id != BUREAU_WIDE:
        validate_platform_id(platform_id)
    contacts = [list(office_contacts), list(department_contacts), list(leader_contacts)]
    ident = derive_id(
        "roster", platform_id, effective_from.isoformat(), office, department, leader,
        *(",".join(c) for c in contacts),
    )  # fmt: skip
    return RosterAssigned(
        event_id=ident,
        case_id="",
        platform_id=platform_id,
        occurred_at=issued_at or effective_from,
        office=office,
        department=department,
        leader=leader,
        office_contacts=contacts[0],
        department_contacts=contacts[1],
        leader_contacts=contacts[2],
        effective_from=effective_from,
        assigned_by=assigned_by,
    )


def _split(value: object) -> list[str]:
    if value is None:
        return []
    if isinstance(value, list):
        return [str(v).strip() for v in value if str(v).strip()]
    return [p.strip() for p in str(value).split(";") if p.strip()]


def _row(
    path: str,
    line: int,
    lines: Mapping[str, int],
    row: Mapping[str, object],
    errors: list[RowError],
) -> RosterAssigned | None:
    def err(field: str, message: str) -> None:
        errors.append(RowError(path, lines.get(field, line), field, message))

    before = len(errors)
    for key in row:
        if key not in KNOWN:
            err(key, f"unknown column (expected {', '.join(sorted(KNOWN))})")
    values: dict[str, str] = {}
    for key in REQUIRED:
        raw = row.get(key)
        text = "" if raw is None else str(raw).strip()
        if not text:
            err(key, "missing")
        values[key] = text
    day: datetime | None = None
    if values["effective_from"]:
        try:
            day = parse_day(values["effective_from"])
        except ValueError as exc:
            err("effective_from", f"{values['effective_from']!r}: {exc}")
    if values["platform_id"] and values["platform_id"] != BUREAU_WIDE:
        try:
            validate_platform_id(values["platform_id"])
        except RegistryError as exc:
            err("platform_id", str(exc))
    if len(errors) > before or day is None:
        return None
    try:
        return assignment(
            values["platform_id"], values["office"], values["department"], values["leader"], day,
            office_contacts=_split(row.get("office_contacts")),
            department_contacts=_split(row.get("department_contacts")),
            leader_contacts=_split(row.get("leader_contacts")),
            assigned_by=str(row.get("assigned_by") or "regbus-roster"),
        )  # fmt: skip
    except ValidationError as exc:
        for e in exc.errors():
            err(".".join(str(p) for p in e["loc"]) or "row", e["msg"])
    return None


def _csv_rows(path: Path) -> Iterable[tuple[int, dict[str, int], dict[str, object]]]:
    with path.open(encoding="utf-8-sig", newline="") as fh:
        reader = csv.DictReader(fh)
        for row in reader:
            clean = {str(k).strip(): v for k, v in row.items() if k is not None}
            yield reader.line_num, {}, clean


def _yaml_rows(path: Path) -> Iterable[tuple[int, dict[str, int], dict[str, object]]]:
    root = yaml.compose(path.read_text(encoding="utf-8"))
    if isinstance(root, yaml.MappingNode):  # {roster: [...]}
        root = next((v for k, v in root.value if k.value == "roster"), None)
    if not isinstance(root, yaml.SequenceNode):
        raise RosterFileError([RowError(str(path), 1, "roster", "expected a list of rows")])
    for item in root.value:
        line = item.start_mark.line + 1
        if not isinstance(item, yaml.MappingNode):
            yield line, {}, {"": None}
            continue
        lines: dict[str, int] = {}
        row: dict[str, object] = {}
        for k, v in item.value:
            lines[k.value] = v.start_mark.line + 1
            if isinstance(v, yaml.SequenceNode):
                row[k.value] = [x.value for x in v.value]
            else:
                row[k.value] = None if v.tag.endswith(":null") else v.value
        yield line, lines, row


def read_roster_file(path: Path) -> list[RosterAssigned]:
    """Every row as an event; :class:`RosterFileError` listing every bad field otherwise."""
    suffix = path.suffix.lower()
    if suffix == ".csv":
        rows = _csv_rows(path)
    elif suffix in (".yaml", ".yml"):
        rows = _yaml_rows(path)
    else:
        raise RosterFileError([RowError(str(path), 0, "file", "use a .csv, .yaml or .yml file")])
    errors: list[RowError] = []
    events: list[RosterAssigned] = []
    try:
        for line, lines, row in rows:
            event = _row(str(path), line, lines, row, errors)
            if event is not None:
                events.append(event)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else 0
        raise RosterFileError([RowError(str(path), line, "yaml", str(exc))]) from None
    if errors:
        raise RosterFileError(errors)
    return events
