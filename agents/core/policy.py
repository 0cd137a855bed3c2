"""The SLA policy as versioned data: ``agents/policy/sla_policy.yaml`` loaded into frozen models.

A policy *version* is the whole rule book in force from its ``effective_from`` to its
``effective_to`` date (Order 20 until 2026-04-14, Order 121 from 2026-04-15). A case is pinned to
the version in force at its start (or the one a ComplaintFiled v2 names in
``policy_rule_version``) and keeps it to the end. Every rule cites its source (an instrument
with number and dates, plus the article) as a :class:`Citation`; a rule whose instrument was
not yet in force when a case started does not apply to it, and unconfirmed values are
``provisional``. Each rule says which lifecycle *triggers* start, stop, pause, resume,
restart or cancel its clock; the triggers are the fixed vocabulary below, emitted by the
state machines, so a new version can add, drop or retune clocks without code changes.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, timedelta
from enum import StrEnum
from itertools import pairwise
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from agents.core.errors import PolicyError
from schemas.models import Channel, Level, Severity, ViolationCode

DEFAULT_POLICY_PATH = Path(__file__).resolve().parent.parent / "policy" / "sla_policy.yaml"
POLICY_FORMAT = "regbus.sla-policy/1"


class Unit(StrEnum):
    HOURS = "hours"
    CALENDAR_DAYS = "calendar_days"
    WORKING_DAYS = "working_days"
    FIXED = "fixed"
    """The deadline is given by the triggering event itself (a rectification order)."""


class CaseType(StrEnum):
    COMPLAINT = "complaint"
    REFUND = "refund"
    RECTIFICATION = "rectification"


class Action(StrEnum):
    """What a trigger does to a rule's clock, applied in this order for one trigger."""

    STOP = "stop"
    CANCEL = "cancel"
    PAUSE = "pause"
    RESUME = "resume"
    RESTART = "restart"
    START = "start"


TRIGGERS: Mapping[CaseType, frozenset[str]] = {
    CaseType.COMPLAINT: frozenset(
        {
            "filed",
            "forwarded",
            "acknowledged",
            "suspended:TESTING",
            "suspended:APPRAISAL",
            "suspended:ODR_NEGOTIATION",
            "suspended:OTHER",
            "resumed",
            "escalated",
            "resolved",
            "feedback",
            "reopened",
        }
    ),
    CaseType.REFUND: frozenset(
        {
            "requested",
            "goods_received",
            "reviewed",
            "approved",
            "approved_without_goods",
            "rejected",
            "paid",
        }
    ),
    CaseType.RECTIFICATION: frozenset(
        {"finding", "ordered", "submitted", "verified", "rejected", "deadline_reset"}
    ),
}
"""Every trigger name each state machine emits (see docs/policy.md for when)."""

_TARGET_KEYS = frozenset({"URGENT", "NORMAL", "default"})


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class AlertStyle(_Frozen):
    level: Level
    severity: Severity


class InstrumentKind(StrEnum):
    STATUTE = "statute"
    REGULATION = "regulation"
    PRACTICE = "practice"
    ORDER = "order"


class Instrument(_Frozen):
    """A law, department order or practice a rule cites, with its dates."""

    title: str
    number: str
    kind: InstrumentKind
    promulgated: date
    effective: date
    repealed: date | None = None
    dates_provisional: bool = False

    @model_validator(mode="after")
    def _dates(self) -> Instrument:
        if self.effective < self.promulgated:
            raise ValueError(f"{self.title}: effective before promulgated")
        if self.repealed is not None and self.repealed <= self.effective:
            raise ValueError(f"{self.title}: repealed before it took effect")
        return self


class Citation(_Frozen):
    """A rule's source: the instrument (resolved from the file's ``instruments``) and article.

    ``provisional``: the value or the article is not confirmed against the official text."""

    instrument: str
    article: str | None = None
    provisional: bool = False
    resolved: Instrument | None = None
    """Filled in by the loader from the ``instruments`` table."""

    @property
    def doc(self) -> Instrument:
        assert self.resolved is not None, "citation not resolved"
        return self.resolved

    @property
    def is_provisional(self) -> bool:
        """The value or article is unconfirmed (the instrument's own dates aside)."""
        return self.provisional

    def in_force_on(self, day: date) -> bool:
        """Whether the instrument had taken effect on ``day`` (its repeal is handled by the
        version's ``effective_to``: a case started before a repeal finishes under it)."""
        return self.doc.effective <= day

    def text(self) -> str:
        """One line for alert details and reports: 文件名 (文号) 条款, dates, 暂定."""
        d = self.doc
        parts = [f"{d.title} ({d.number})"]
        if self.article:
            parts.append(self.article)
        dates = f"公布 {d.promulgated.isoformat()}, 施行 {d.effective.isoformat()}"
        if d.repealed is not None:
            dates += f", 废止 {d.repealed.isoformat()}"
        if d.dates_provisional:
            dates += " (日期待核/dates unconfirmed)"
        parts.append(dates)
        if d.kind is InstrumentKind.PRACTICE:
            parts.append("工作惯例/practice")
        if self.is_provisional:
            parts.append("暂定/provisional")
        return " · ".join(parts)


class Limit(_Frozen):
    """A numbered rule of a version that no clock enforces (shown and cited, not timed)."""

    id: str = Field(pattern=r"^[A-Z][A-Z0-9_]*$")
    title: str
    value: int | None = None
    unit: str | None = None
    source: Citation


class Rule(_Frozen):
    id: str = Field(pattern=r"^[A-Z][A-Z0-9_]*$")
    case_type: CaseType
    title: str
    source: Citation
    unit: Unit
    targets: dict[str, int] = Field(default_factory=dict)
    """Allowed time in ``unit`` per priority (URGENT / NORMAL) or ``default``."""
    category_targets: dict[str, int] = Field(default_factory=dict)
    """Overrides per complaint category (e.g. complex categories get 15 days)."""
    channels: tuple[Channel, ...] | None = None
    """Complaint channels the rule applies to; absent = every case of the type."""
    warnings: tuple[int, ...] | None = None
    """Warning thresholds in percent; absent = the version's ``warnings``."""
    start_on: tuple[str, ...]
    stop_on: tuple[str, ...] = ()
    pause_on: tuple[str, ...] = ()
    resume_on: tuple[str, ...] = ()
    restart_on: tuple[str, ...] = ()
    cancel_on: tuple[str, ...] = ()
    refund_reasons: str | None = None
    """A key of the file's ``refund_reason_markers``: the rule applies only to refunds whose
    reason contains one of those markers (e.g. no-reason returns); absent = every refund."""
    department: str | None = None
    breach: AlertStyle | None = None
    """Overrides the ladder's breach level/severity for this rule."""
    escalate: bool = True
    """Whether a breach still open after the ladder's working days goes to LEADERSHIP."""
    note: str = ""

    @model_validator(mode="after")
    def _consistent(self) -> Rule:
        valid = TRIGGERS[self.case_type]
        for field in ("start_on", "stop_on", "pause_on", "resume_on", "restart_on", "cancel_on"):
            bad = [t for t in getattr(self, field) if t not in valid]
            if bad:
                raise ValueError(f"rule {self.id}: unknown {self.case_type} triggers {bad}")
        if not self.start_on:
            raise ValueError(f"rule {self.id}: start_on is empty")
        if self.unit is Unit.FIXED:
            if self.targets or self.category_targets:
                raise ValueError(f"rule {self.id}: a fixed deadline takes no targets")
        else:
            if "default" not in self.targets and not {"URGENT", "NORMAL"} <= set(self.targets):
                raise ValueError(f"rule {self.id}: targets need 'default' or URGENT and NORMAL")
            bad_keys = set(self.targets) - _TARGET_KEYS
            if bad_keys:
                raise ValueError(f"rule {self.id}: unknown target keys {sorted(bad_keys)}")
            values = [*self.targets.values(), *self.category_targets.values()]
            if any(v <= 0 for v in values):
                raise ValueError(f"rule {self.id}: targets must be positive")
        if self.warnings is not None and any(not 0 < w < 100 for w in self.warnings):
            raise ValueError(f"rule {self.id}: warnings must be between 1 and 99 percent")
        return self

    def target(self, priority: str | None = None, category: str | None = None) -> int:
        """Allowed time in ``unit`` for a case (0 for ``fixed``)."""
        if category is not None and category in self.category_targets:
            return self.category_targets[category]
        if priority is not None and priority in self.targets:
            return self.targets[priority]
        return self.targets.get("default", 0) or max(self.targets.values(), default=0)

    def applies_to(self, channel: str | None) -> bool:
        return self.channels is None or channel is None or channel in self.channels

    @property
    def provisional(self) -> bool:
        return self.source.is_provisional


class Ladder(_Frozen):
    """三级包片 routing: warnings → OFFICE, breach → DEPARTMENT, still open → LEADERSHIP."""

    warning: dict[int, AlertStyle]
    breach: AlertStyle
    leadership: AlertStyle
    leadership_after_breach_working_days: int = Field(gt=0)


class InterviewPolicy(_Frozen):
    """A platform with ``breaches`` SLA breaches within ``window_days`` → interview (约谈)."""

    breaches: int = Field(gt=0)
    window_days: int = Field(gt=0)
    style: AlertStyle


class SignalPolicy(_Frozen):
    """Routing of bureau-wide risk signals (e.g. CALENDAR_YEAR_UNKNOWN)."""

    office: str
    department: str | None = None
    style: AlertStyle


class PolicyVersion(_Frozen):
    id: str
    title: str
    effective_from: date
    effective_to: date | None = None
    """Last day (inclusive) the version applies to new cases; ``None`` = still in force."""
    warnings: tuple[int, ...] = (50, 75)
    retroactive_start_channels: tuple[Channel, ...] = ()
    """Complaints from these channels start their clocks at ``intake_at`` (hotline intake)."""
    default_office: str
    """Office for alerts on cases whose events name none (refunds, unknown cases)."""
    rules: tuple[Rule, ...]
    ladder: Ladder
    interview: InterviewPolicy
    violations: dict[str, AlertStyle]
    """Per ViolationCode, plus ``default``."""
    signals: SignalPolicy
    limits: tuple[Limit, ...] = ()
    refund_reason_markers: dict[str, tuple[str, ...]] = Field(default_factory=dict)
    """Reason kinds (e.g. ``no_reason_return``) and the markers a free-text refund reason
    contains to be of that kind (case-insensitive)."""

    @model_validator(mode="after")
    def _consistent(self) -> PolicyVersion:
        if self.effective_to is not None and self.effective_to < self.effective_from:
            raise ValueError(f"version {self.id}: effective_to before effective_from")
        ids = [r.id for r in self.rules]
        dupes = sorted({i for i in ids if ids.count(i) > 1})
        if dupes:
            raise ValueError(f"version {self.id}: duplicate rule ids {dupes}")
        for pct in {*self.warnings, *(w for r in self.rules for w in r.warnings or ())}:
            if pct not in self.ladder.warning:
                raise ValueError(f"version {self.id}: ladder has no style for {pct}% warnings")
        for r in self.rules:
            if r.refund_reasons is not None and r.refund_reasons not in (
                self.refund_reason_markers
            ):
                raise ValueError(
                    f"version {self.id}: {r.id} names refund_reasons {r.refund_reasons!r}, "
                    "which refund_reason_markers does not define"
                )
        if "default" not in self.violations:
            raise ValueError(f"version {self.id}: violations need a 'default' style")
        codes = {c.value for c in ViolationCode} | {"default"}
        bad = sorted(set(self.violations) - codes)
        if bad:
            raise ValueError(f"version {self.id}: unknown violation codes {bad}")
        return self

    def rule(self, rule_id: str) -> Rule:
        for r in self.rules:
            if r.id == rule_id:
                return r
        raise PolicyError(f"version {self.id} has no rule {rule_id}")

    def violation_style(self, code: str) -> AlertStyle:
        return self.violations.get(code) or self.violations["default"]

    def warnings_of(self, rule: Rule) -> tuple[int, ...]:
        return tuple(sorted(self.warnings if rule.warnings is None else rule.warnings))

    def reason_kinds(self, reason: str | None) -> tuple[str, ...]:
        """The reason kinds a free-text refund reason falls under."""
        text = (reason or "").casefold()
        return tuple(
            kind
            for kind, markers in sorted(self.refund_reason_markers.items())
            if any(m.casefold() in text for m in markers)
        )

    def in_force_on(self, day: date) -> bool:
        return self.effective_from <= day and (
            self.effective_to is None or day <= self.effective_to
        )


def _resolve_citations(raw: Any) -> Any:
    """Put each cited instrument's data into its citation (``resolved``), raising for an
    instrument the table lacks; the raw YAML only names the instrument."""
    if not isinstance(raw, dict):
        return raw
    table = raw.get("instruments")
    if not isinstance(table, dict):
        return raw
    out = dict(raw)
    versions = []
    for v in raw.get("versions") or ():
        if not isinstance(v, dict):
            versions.append(v)
            continue
        v = dict(v)
        for key in ("rules", "limits"):
            items = []
            for item in v.get(key) or ():
                if isinstance(item, dict) and isinstance(item.get("source"), dict):
                    src = dict(item["source"])
                    name = src.get("instrument")
                    if name not in table:
                        raise ValueError(
                            f"version {v.get('id')}: {item.get('id')} cites unknown "
                            f"instrument {name!r} (add it to 'instruments')"
                        )
                    src["resolved"] = table[name]
                    item = {**item, "source": src}
                items.append(item)
            if key in v:
                v[key] = items
        versions.append(v)
    out["versions"] = versions
    return out


class _PolicyFile(_Frozen):
    format: str
    pause_rules: dict[Unit, str]
    instruments: dict[str, Instrument]
    versions: tuple[PolicyVersion, ...] = Field(min_length=1)
    shared: Any = Field(default=None, alias="_shared")
    """YAML anchors for blocks the versions share; not read otherwise."""

    @model_validator(mode="before")
    @classmethod
    def _resolve(cls, raw: Any) -> Any:
        return _resolve_citations(raw)

    @model_validator(mode="after")
    def _consistent(self) -> _PolicyFile:
        if self.format != POLICY_FORMAT:
            raise ValueError(f"format must be {POLICY_FORMAT!r}")
        missing = [u.value for u in Unit if u not in self.pause_rules]
        if missing:
            raise ValueError(f"pause_rules must describe every unit; missing {missing}")
        ids = [v.id for v in self.versions]
        if len(set(ids)) != len(ids):
            raise ValueError("duplicate version ids")
        dates = [v.effective_from for v in self.versions]
        if len(set(dates)) != len(dates):
            raise ValueError("two versions take effect on the same date")
        ordered = sorted(self.versions, key=lambda v: v.effective_from)
        for older, newer in pairwise(ordered):
            if older.effective_to is None or older.effective_to + timedelta(days=1) != (
                newer.effective_from
            ):
                raise ValueError(
                    f"version {older.id} must end (effective_to) the day before "
                    f"{newer.id} takes effect ({newer.effective_from})"
                )
        return self


_ACTION_FIELDS: tuple[tuple[Action, str], ...] = (
    (Action.STOP, "stop_on"),
    (Action.CANCEL, "cancel_on"),
    (Action.PAUSE, "pause_on"),
    (Action.RESUME, "resume_on"),
    (Action.RESTART, "restart_on"),
    (Action.START, "start_on"),
)

RuleActions = tuple[tuple[Rule, Action], ...]


class PolicyBook:
    """All policy versions, with the lookups the engine needs precomputed."""

    def __init__(self, spec: _PolicyFile) -> None:
        self.spec = spec
        self.pause_rules: Mapping[Unit, str] = spec.pause_rules
        self.instruments: Mapping[str, Instrument] = spec.instruments
        self.versions: tuple[PolicyVersion, ...] = tuple(
            sorted(spec.versions, key=lambda v: v.effective_from)
        )
        self._by_id = {v.id: v for v in self.versions}
        self._rules = {(v.id, r.id): r for v in self.versions for r in v.rules}
        self._actions: dict[tuple[str, CaseType, str], RuleActions] = {}
        for v in self.versions:
            for rule in v.rules:
                for action, field in _ACTION_FIELDS:
                    for trig in getattr(rule, field):
                        key = (v.id, rule.case_type, trig)
                        self._actions[key] = (*self._actions.get(key, ()), (rule, action))
        for key, pairs in self._actions.items():
            order = [a for a, _ in _ACTION_FIELDS]
            self._actions[key] = tuple(sorted(pairs, key=lambda p: order.index(p[1])))

    @classmethod
    def from_dict(cls, raw: Any) -> PolicyBook:
        try:
            return cls(_PolicyFile.model_validate(raw))
        except ValidationError as exc:
            raise PolicyError(f"invalid SLA policy: {exc}") from exc

    @classmethod
    def load(cls, path: Path | None = None) -> PolicyBook:
        source = path or DEFAULT_POLICY_PATH
        try:
            raw = yaml.safe_load(source.read_text(encoding="utf-8"))
        except (OSError, yaml.YAMLError) as exc:
            raise PolicyError(f"{source}: cannot read SLA policy: {exc}") from exc
        return cls.from_dict(raw)

    def get(self, version_id: str) -> PolicyVersion | None:
        return self._by_id.get(version_id)

    def version(self, version_id: str) -> PolicyVersion:
        found = self._by_id.get(version_id)
        if found is None:
            raise PolicyError(f"no policy version {version_id!r}")
        return found

    def version_at(self, day: date) -> PolicyVersion:
        """The version in force on ``day``. Days before the first version use the first (the
        oldest rule book the bureau applies; its rules whose sources were not yet in force
        then do not apply, see :meth:`rule_applies`)."""
        current = self.versions[0]
        for v in self.versions:
            if v.effective_from <= day:
                current = v
            else:
                break
        return current

    @staticmethod
    def rule_applies(
        rule: Rule, *, channel: str | None, started: date, reason_kinds: tuple[str, ...] = ()
    ) -> bool:
        """Whether ``rule`` times a case of this channel / refund reason kinds started on
        ``started``: its source must have been in force that day (no retroactive law)."""
        if not rule.applies_to(channel) or not rule.source.in_force_on(started):
            return False
        return rule.refund_reasons is None or rule.refund_reasons in reason_kinds

    def rule(self, version_id: str, rule_id: str) -> Rule:
        found = self._rules.get((version_id, rule_id))
        if found is None:
            raise PolicyError(f"policy version {version_id!r} has no rule {rule_id!r}")
        return found

    def actions(self, version_id: str, case_type: CaseType, trigger: str) -> RuleActions:
        """(rule, action) pairs a trigger fires in a version, in application order."""
        return self._actions.get((version_id, case_type, trigger), ())
