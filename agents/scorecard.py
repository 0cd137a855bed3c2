"""Scorecards and risk signals, the pure part: window math, rates, the surge and settlement
tests, the per-complaint facts fold and the signal alerts. No Faust, Kafka or wall clock here.

A platform's (or a category's) numbers are kept as **day buckets**: one counter vector per
Asia/Shanghai date. Each complaint counts once, in the bucket of its *intake date* (cohort
attribution): its response, resolution, settlement and satisfaction are facts about that
complaint, so every rate of a window is a share of the same complaints and stays within 0–1
however late the outcome arrives. Overdue steps count on the local date of the deadline they
missed, lifecycle violations on the date of the offending event.

Windows (``Window``) end on a reference date: ``day`` is that date, ``week`` its ISO week
(Monday–Sunday), ``30d`` the 30 dates ending on it; ``range`` is any span of retained dates
(``from``..``to``), e.g. one reporting period or a simulated month. Signals are decided when
time moves (ticks), never from the wall clock, and their ids come from rule + subject +
window.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from agents.core import rates as core_rates
from agents.core.calendar import SHANGHAI
from agents.core.complaint import ComplaintStatus, transition
from agents.core.early_signal import RefundRejectionPolicy
from agents.core.errors import IllegalTransitionError
from agents.core.ids import derive_id
from schemas.models import (
    COMPLAINT_TYPES,
    Channel,
    Level,
    RiskSignalRaised,
    Severity,
)

SIGNALS_FORMAT = "regbus.signals/1"
DEFAULT_SIGNALS_PATH = Path(__file__).resolve().parent / "policy" / "signals.yaml"

METRICS: tuple[str, ...] = (
    "complaints",
    "forwarded",
    "responded_in_time",
    "resolved",
    "settled",
    "feedback",
    "satisfied",
    "resolved_at_visit",
    "breaches",
    "refund_steps_overdue",
    "rectifications_overdue",
    "lifecycle_violations",
)
"""The counters of a day bucket, in vector order (see docs/regulator.md for definitions)."""
(
    COMPLAINTS,
    FORWARDED,
    RESPONDED_IN_TIME,
    RESOLVED,
    SETTLED,
    FEEDBACK,
    SATISFIED,
    RESOLVED_AT_VISIT,
    BREACHES,
    REFUND_OVERDUE,
    RECTIFICATION_OVERDUE,
    VIOLATIONS,
) = range(len(METRICS))
WIDTH = len(METRICS)

Vector = list[int]
Days = dict[str, Vector]
"""ISO date → counter vector."""


class Window(StrEnum):
    DAY = "day"
    WEEK = "week"
    D30 = "30d"
    RANGE = "range"
    """Explicit first and last date (:func:`range_scorecard`); not relative to a date."""


class SubjectKind(StrEnum):
    PLATFORM = "platform"
    CATEGORY = "category"


CATEGORY_PREFIX = "category:"


def category_subject(category: str) -> str:
    """Subject key of a category (platform ids are lowercase and never contain ':')."""
    return f"{CATEGORY_PREFIX}{category}"


def subject_kind(subject: str) -> SubjectKind:
    return SubjectKind.CATEGORY if subject.startswith(CATEGORY_PREFIX) else SubjectKind.PLATFORM


# ---- days and windows ------------------------------------------------------------------
def local_day(instant: datetime) -> date:
    """The Asia/Shanghai date of an instant (the day every bucket is keyed by)."""
    return instant.astimezone(SHANGHAI).date()


def day_start(day: date) -> datetime:
    """00:00 Asia/Shanghai of ``day`` as a UTC instant."""
    return datetime(day.year, day.month, day.day, tzinfo=SHANGHAI).astimezone(UTC)


def week_start(day: date) -> date:
    """The Monday of ``day``'s ISO week."""
    return day - timedelta(days=day.weekday())


def window_bounds(window: Window, ref: date) -> tuple[date, date]:
    """First and last date (inclusive) of ``window`` as of ``ref``."""
    if window is Window.DAY:
        return ref, ref
    if window is Window.WEEK:
        start = week_start(ref)
        return start, start + timedelta(days=6)
    if window is Window.RANGE:
        raise ValueError("a range window has explicit bounds: use range_scorecard")
    return ref - timedelta(days=29), ref


def total(days: Mapping[str, Vector], start: date, end: date) -> Vector:
    """Sum of the buckets from ``start`` to ``end`` inclusive."""
    out = [0] * WIDTH
    lo, hi = start.isoformat(), end.isoformat()
    for day, vec in days.items():
        if lo <= day <= hi:  # ISO dates sort as strings
            for i, n in enumerate(vec):
                out[i] += n
    return out


def add_into(days: Days, day: str, vec: Vector, sign: int) -> None:
    """``days[day] += sign * vec``; an all-zero bucket is dropped."""
    bucket = days.get(day) or [0] * WIDTH
    merged = [a + sign * b for a, b in zip(bucket, vec, strict=True)]
    if any(merged):
        days[day] = merged
    else:
        days.pop(day, None)


def prune(days: Days, keep_from: date) -> None:
    cutoff = keep_from.isoformat()
    for day in [d for d in days if d < cutoff]:
        del days[day]


def rates(v: Vector) -> dict[str, float | None]:
    """The bureau's rates of a counter vector (the one definition: :mod:`agents.core.rates`)."""
    return core_rates.rates(dict(zip(METRICS, v, strict=True)))


@dataclass(frozen=True, slots=True)
class Scorecard:
    subject: str
    window: Window
    start: date
    end: date
    counts: dict[str, int]
    rates: dict[str, float | None]

    def to_json(self) -> dict[str, Any]:
        kind = subject_kind(self.subject)
        name = self.subject.removeprefix(CATEGORY_PREFIX)
        return {
            "subject": name,
            "kind": kind.value,
            "window": self.window.value,
            "from": self.start.isoformat(),
            "to": self.end.isoformat(),
            "counts": self.counts,
            "rates": self.rates,
        }


def scorecard(subject: str, days: Mapping[str, Vector], window: Window, ref: date) -> Scorecard:
    start, end = window_bounds(window, ref)
    return range_scorecard(subject, days, start, end, window)


def range_scorecard(
    subject: str,
    days: Mapping[str, Vector],
    start: date,
    end: date,
    window: Window = Window.RANGE,
) -> Scorecard:
    """The counters and rates of the dates ``start``..``end`` inclusive."""
    if end < start:
        raise ValueError(f"the range ends ({end}) before it starts ({start})")
    v = total(days, start, end)
    return Scorecard(subject, window, start, end, dict(zip(METRICS, v, strict=True)), rates(v))


# ---- the signals policy -----------------------------------------------------------------
class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class SignalStyle(_Frozen):
    level: Level
    severity: Severity


class SurgePolicy(_Frozen):
    rule_id: str
    factor: float = Field(gt=1.0)
    baseline_weeks: int = Field(gt=0)
    baseline_floor: float = Field(ge=0.0)
    min_count: int = Field(gt=0)
    subjects: tuple[SubjectKind, ...]
    style: SignalStyle


class SettlementPolicy(_Frozen):
    rule_id: str
    target: float = Field(gt=0.0, le=1.0)
    window_days: int = Field(gt=0)
    min_resolved: int = Field(gt=0)
    subjects: tuple[SubjectKind, ...]
    style: SignalStyle


class SignalsPolicy(_Frozen):
    format: str
    office: str
    department: str | None = None
    keep_days: int = Field(gt=0)
    surge: SurgePolicy
    settlement: SettlementPolicy
    refund_rejections: RefundRejectionPolicy = RefundRejectionPolicy()
    """未诉先办: the early signal from refunds (agents/core/early_signal.py)."""

    @model_validator(mode="after")
    def _consistent(self) -> SignalsPolicy:
        if self.format != SIGNALS_FORMAT:
            raise ValueError(f"format must be {SIGNALS_FORMAT!r}")
        needed = max(self.settlement.window_days, 7 * (self.surge.baseline_weeks + 1))
        if self.keep_days < needed:
            raise ValueError(f"keep_days must be at least {needed} (longest window)")
        return self

    @classmethod
    def load(cls, path: Path | None = None) -> SignalsPolicy:
        source = path or DEFAULT_SIGNALS_PATH
        try:
            return cls.model_validate(yaml.safe_load(source.read_text(encoding="utf-8")))
        except (OSError, yaml.YAMLError, ValidationError, ValueError) as exc:
            raise ValueError(f"{source}: invalid signals policy: {exc}") from exc


# ---- the surge and settlement tests ------------------------------------------------------
@dataclass(frozen=True, slots=True)
class SurgeCheck:
    week: date
    count: int
    baseline: float
    threshold: float
    evaluable: bool
    """The subject has data in (or before) the first baseline week: a new platform's first
    weeks are not compared with weeks it did not exist in."""

    @property
    def triggered(self) -> bool:
        return self.evaluable and self.count >= self.threshold


def surge_check(
    days: Mapping[str, Vector], first_day: date | None, week: date, policy: SurgePolicy
) -> SurgeCheck:
    """Week ``week`` (a Monday) against the mean of the ``baseline_weeks`` weeks before it."""
    count = total(days, week, week + timedelta(days=6))[COMPLAINTS]
    earliest = week - timedelta(days=7 * policy.baseline_weeks)
    baseline = total(days, earliest, week - timedelta(days=1))[COMPLAINTS] / policy.baseline_weeks
    threshold = max(float(policy.min_count), policy.factor * max(baseline, policy.baseline_floor))
    evaluable = first_day is not None and first_day <= earliest + timedelta(days=6)
    return SurgeCheck(week, count, baseline, threshold, evaluable)


@dataclass(frozen=True, slots=True)
class SettlementCheck:
    start: date
    end: date
    resolved: int
    settled: int
    policy: SettlementPolicy

    @property
    def rate(self) -> float | None:
        return core_rates.ratio(self.settled, self.resolved)

    @property
    def low(self) -> bool:
        rate = self.rate
        return (
            self.resolved >= self.policy.min_resolved
            and rate is not None
            and rate < self.policy.target
        )


def settlement_check(
    days: Mapping[str, Vector], end: date, policy: SettlementPolicy
) -> SettlementCheck:
    start = end - timedelta(days=policy.window_days - 1)
    v = total(days, start, end)
    return SettlementCheck(start, end, v[RESOLVED], v[SETTLED], policy)


# ---- signal alerts -----------------------------------------------------------------------
def _signal(
    *,
    rule_id: str,
    signal: str,
    subject: str,
    window: tuple[str, ...],
    style: SignalStyle,
    policy: SignalsPolicy,
    policy_version: str,
    observed_at: datetime,
    detail: str,
    metric: float,
    threshold: float,
) -> RiskSignalRaised:
    ident = derive_id("alert", rule_id, "SIGNAL", subject, *window)
    platform_id = "bureau" if subject_kind(subject) is SubjectKind.CATEGORY else subject
    return RiskSignalRaised(
        event_id=ident,
        case_id=subject,
        platform_id=platform_id,
        occurred_at=observed_at,
        alert_id=ident,
        rule_id=rule_id,
        severity=style.severity,
        level=style.level,
        office=policy.office,
        department=policy.department,
        subject=subject,
        due_at=None,
        observed_at=observed_at,
        detail=detail,
        policy_version=policy_version,
        signal=signal,
        metric=float(metric),
        threshold=float(threshold),
    )


def surge_alert(
    subject: str,
    check: SurgeCheck,
    policy: SignalsPolicy,
    policy_version: str,
    observed_at: datetime,
) -> RiskSignalRaised:
    """Id = rule + subject + week: one surge alert per subject and week, however often seen."""
    surge = policy.surge
    end = check.week + timedelta(days=6)
    return _signal(
        rule_id=surge.rule_id,
        signal="SURGE",
        subject=subject,
        window=(check.week.isoformat(), end.isoformat()),
        style=surge.style,
        policy=policy,
        policy_version=policy_version,
        observed_at=observed_at,
        detail=(
            f"{check.count} complaints received {check.week}–{end}, at least "
            f"{surge.factor:g}× the {surge.baseline_weeks}-week mean of {check.baseline:.1f} "
            f"(threshold {check.threshold:.1f}, minimum {surge.min_count})"
        ),
        metric=check.count,
        threshold=check.threshold,
    )


def settlement_alert(
    subject: str,
    check: SettlementCheck,
    policy: SignalsPolicy,
    policy_version: str,
    observed_at: datetime,
) -> RiskSignalRaised:
    """Id = rule + subject + the window that opened the low episode."""
    rate = check.rate or 0.0
    return _signal(
        rule_id=policy.settlement.rule_id,
        signal="SETTLEMENT_BELOW_TARGET",
        subject=subject,
        window=(check.start.isoformat(), check.end.isoformat()),
        style=policy.settlement.style,
        policy=policy,
        policy_version=policy_version,
        observed_at=observed_at,
        detail=(
            f"settlement rate {rate:.1%} ({check.settled} settled of {check.resolved} resolved "
            f"complaints received {check.start}–{check.end}) below the "
            f"{policy.settlement.target:.0%} target"
        ),
        metric=rate,
        threshold=policy.settlement.target,
    )


# ---- per-complaint facts (cohort attribution) --------------------------------------------
_EVENT_TYPES = {cls.__name__: cls for cls in COMPLAINT_TYPES}
COMPLAINT_EVENT_NAMES = frozenset(_EVENT_TYPES)


@dataclass(slots=True)
class ComplaintFacts:
    """What the scorecard needs of one complaint, folded from its events (and the breach of
    its acknowledgement deadline). Stored in the regulator-cases table through
    :meth:`to_json` / :meth:`from_json`."""

    platform_id: str
    category: str
    channel: Channel
    intake_day: str
    """The Asia/Shanghai date of intake (ISO): the bucket the complaint counts in."""
    status: ComplaintStatus
    forwarded: bool
    acknowledged: bool = False
    ack_breached: bool = False
    outcome: str | None = None
    satisfaction: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "platform_id": self.platform_id,
            "category": self.category,
            "channel": self.channel.value,
            "intake_day": self.intake_day,
            "status": self.status.value,
            "forwarded": self.forwarded,
            "acknowledged": self.acknowledged,
            "ack_breached": self.ack_breached,
            "outcome": self.outcome,
            "satisfaction": self.satisfaction,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ComplaintFacts:
        return cls(
            platform_id=data["platform_id"],
            category=data["category"],
            channel=Channel(data["channel"]),
            intake_day=data["intake_day"],
            status=ComplaintStatus(data["status"]),
            forwarded=bool(data["forwarded"]),
            acknowledged=bool(data["acknowledged"]),
            ack_breached=bool(data["ack_breached"]),
            outcome=data["outcome"],
            satisfaction=data["satisfaction"],
        )

    @classmethod
    def filed(cls, record: Mapping[str, Any]) -> ComplaintFacts:
        channel = Channel(record["channel"])
        return cls(
            platform_id=record["platform_id"],
            category=record["category"],
            channel=channel,
            intake_day=local_day(record["intake_at"]).isoformat(),
            status=ComplaintStatus.FILED,
            # A complaint filed in the platform's own app is with the platform from the start.
            forwarded=channel is Channel.PLATFORM_APP,
        )

    def apply(self, name: str, record: Mapping[str, Any]) -> bool:
        """Apply one later complaint event (decoded Avro record) in place.

        The lifecycle is the core's (``complaint.transition``): an event the case agent would
        record as a violation instead of applying changes nothing here either. Returns
        whether the event was applied."""
        event_type = _EVENT_TYPES.get(name)
        if event_type is None or name == "ComplaintFiled":
            return False  # a second opening event: the core records ILLEGAL_TRANSITION
        try:
            self.status = transition(self.status, self.channel, event_type)
        except IllegalTransitionError:
            return False
        if name == "ComplaintForwarded":
            self.forwarded = True
        elif name == "ComplaintAcknowledged":
            self.acknowledged = True
        elif name == "ComplaintResolved":
            self.outcome = record["outcome"]
        elif name == "ComplaintFeedbackRecorded":
            self.satisfaction = record["satisfaction"]
        elif name == "ComplaintReopened":
            self.outcome = None
            self.satisfaction = None
        return True

    def mark_ack_breached(self) -> bool:
        """The acknowledgement deadline passed unmet (an SlaBreached COMPLAINT_ACKNOWLEDGE)."""
        if self.ack_breached:
            return False
        self.ack_breached = True
        return True

    def contribution(self) -> tuple[str, Vector]:
        """(intake date, counters) of this complaint."""
        v = [0] * WIDTH
        v[COMPLAINTS] = 1
        v[FORWARDED] = int(self.forwarded)
        v[RESPONDED_IN_TIME] = int(self.acknowledged and not self.ack_breached)
        v[RESOLVED] = int(self.outcome is not None)
        v[SETTLED] = int(core_rates.is_settled(self.outcome))
        v[FEEDBACK] = int(self.satisfaction is not None)
        v[SATISFIED] = int(core_rates.is_satisfied(self.satisfaction))
        v[RESOLVED_AT_VISIT] = int(core_rates.resolved_at_visit(self.outcome, self.satisfaction))
        return self.intake_day, v


def fold_complaint(
    facts: ComplaintFacts | None, name: str, record: Mapping[str, Any]
) -> ComplaintFacts | None:
    """The complaint's facts after one of its events (``None`` until it is filed)."""
    if name == "ComplaintFiled":
        return ComplaintFacts.filed(record) if facts is None else facts
    if facts is not None:
        facts.apply(name, record)
    return facts


def alert_contribution(
    name: str, record: Mapping[str, Any], case_type: str | None
) -> tuple[str, Vector] | None:
    """(date, counters) of a breach or violation alert; None for other alerts.

    A breach counts on the local date of the deadline it missed (so a late tick or a replay
    files it under the same day), a violation on the date of the offending event.
    """
    v = [0] * WIDTH
    if name == "SlaBreached":
        at = record.get("due_at") or record["observed_at"]
        v[BREACHES] = 1
        if case_type == "refund":
            v[REFUND_OVERDUE] = 1
        elif case_type == "rectification":
            v[RECTIFICATION_OVERDUE] = 1
    elif name == "LifecycleViolationDetected":
        at = record["observed_at"]
        v[VIOLATIONS] = 1
    else:
        return None
    return local_day(at).isoformat(), v


def weeks_of(days: Iterable[str]) -> set[str]:
    return {week_start(date.fromisoformat(d)).isoformat() for d in days}


__all__ = [
    "METRICS",
    "WIDTH",
    "ComplaintFacts",
    "Days",
    "Scorecard",
    "SettlementCheck",
    "SettlementPolicy",
    "SignalsPolicy",
    "SubjectKind",
    "SurgeCheck",
    "SurgePolicy",
    "Window",
    "add_into",
    "alert_contribution",
    "category_subject",
    "day_start",
    "fold_complaint",
    "local_day",
    "prune",
    "range_scorecard",
    "rates",
    "scorecard",
    "settlement_alert",
    "settlement_check",
    "subject_kind",
    "surge_alert",
    "surge_check",
    "total",
    "week_start",
    "weeks_of",
    "window_bounds",
]
