"""The SLA rules as docs/policy.md states them (SAMR-20 and SAMR-121), written down a second time.

The simulator predicts alerts from this table and its own clock model (:mod:`.oracle`), never
from ``agents.core`` or by executing ``sla_policy.yaml``: a test then compares two independent
computations. ``tests/sim`` checks that the rule ids here are exactly the policy file's, so a
rule added there cannot silently escape the simulator's coverage.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date
from enum import StrEnum

from schemas.models import Category, Channel, Level, Priority, Severity, SuspendReason


class Unit(StrEnum):
    HOURS = "hours"
    CALENDAR_DAYS = "calendar_days"
    WORKING_DAYS = "working_days"
    FIXED = "fixed"


BUREAU_CHANNELS = frozenset({Channel.HOTLINE_12345, Channel.HOTLINE_12315, Channel.BUREAU_REFERRAL})
HOTLINE_ONLY = frozenset({Channel.HOTLINE_12345})
NO_REASON_MARKERS = ("无理由", "no-reason", "no reason")
"""A refund reason naming a no-reason return (七天无理由退货), as docs/policy.md lists them."""
RETROACTIVE_CHANNELS = frozenset({Channel.HOTLINE_12345})
PAUSING_REASONS = frozenset(
    {SuspendReason.TESTING, SuspendReason.APPRAISAL, SuspendReason.ODR_NEGOTIATION}
)


@dataclass(frozen=True)
class RuleSpec:
    """One SLA rule: its limit, and the lifecycle triggers that drive its clock."""

    id: str
    case_type: str
    unit: Unit
    default: int = 0
    by_priority: dict[Priority, int] = field(default_factory=dict)
    by_category: dict[Category, int] = field(default_factory=dict)
    bureau_only: bool = False
    channels: frozenset[Channel] | None = None
    """Only these complaint channels (None = all; ``bureau_only`` = BUREAU_CHANNELS)."""
    since: date = date(2020, 1, 1)
    """The day the rule's source took effect: cases started earlier do not get the clock."""
    no_reason_only: bool = False
    """Refund rules of Order 73 Art. 9 / CPL Art. 25: no-reason returns only."""
    warnings: tuple[int, ...] = (50, 75)
    breach_severity: Severity = Severity.MAJOR
    start_on: frozenset[str] = frozenset()
    stop_on: frozenset[str] = frozenset()
    cancel_on: frozenset[str] = frozenset()
    restart_on: frozenset[str] = frozenset()
    pauses: bool = False
    """Paused by a TESTING / APPRAISAL / ODR_NEGOTIATION suspension, resumed by ``resumed``."""

    def target(self, priority: Priority | None, category: Category | None) -> int:
        if category is not None and category in self.by_category:
            return self.by_category[category]
        if priority is not None and priority in self.by_priority:
            return self.by_priority[priority]
        return self.default

    def applies(self, channel: Channel | None) -> bool:
        if self.channels is not None:
            return channel is None or channel in self.channels
        return not self.bureau_only or channel in BUREAU_CHANNELS

    def applies_to_case(
        self, channel: Channel | None, started: date, refund_reason: str | None
    ) -> bool:
        if not self.applies(channel) or started < self.since:
            return False
        if not self.no_reason_only:
            return True
        text = (refund_reason or "").casefold()
        return any(m.casefold() in text for m in NO_REASON_MARKERS)


def _on(*names: str) -> frozenset[str]:
    return frozenset(names)


_PRACTICE_12345 = date(2021, 1, 1)
"""The Beijing 12345 draft standard (2021) is applied from 2021 (docs/policy.md)."""

SAMR_20_RULES: tuple[RuleSpec, ...] = (
    RuleSpec(
        "COMPLAINT_ACKNOWLEDGE",
        "complaint",
        Unit.HOURS,
        by_priority={Priority.URGENT: 2, Priority.NORMAL: 24},
        since=_PRACTICE_12345,
        start_on=_on("filed"),
        stop_on=_on("acknowledged"),
    ),
    RuleSpec(
        "COMPLAINT_ACCEPT_DECISION",
        "complaint",
        Unit.WORKING_DAYS,
        7,
        bureau_only=True,
        start_on=_on("filed"),
        stop_on=_on("forwarded"),
    ),
    RuleSpec(
        "CPL_HANDLE_NOTIFY",
        "complaint",
        Unit.WORKING_DAYS,
        7,
        bureau_only=True,
        start_on=_on("filed"),
        stop_on=_on("acknowledged"),
    ),
    RuleSpec(
        "COMPLAINT_RESOLVE",
        "complaint",
        Unit.CALENDAR_DAYS,
        7,
        by_category={Category.SECONDHAND_VALUATION: 15, Category.FOOD_SAFETY: 15},
        since=_PRACTICE_12345,
        start_on=_on("filed", "reopened"),
        stop_on=_on("resolved"),
        pauses=True,
    ),
    RuleSpec(
        "COMPLAINT_MEDIATION",
        "complaint",
        Unit.WORKING_DAYS,
        45,
        bureau_only=True,
        start_on=_on("forwarded"),
        stop_on=_on("resolved"),
        pauses=True,
    ),
    RuleSpec(
        "ODR_NEGOTIATION",
        "complaint",
        Unit.WORKING_DAYS,
        10,
        start_on=_on("suspended:ODR_NEGOTIATION"),
        stop_on=_on("resumed", "resolved"),
    ),
    RuleSpec(
        "REFUND_REVIEW",
        "refund",
        Unit.CALENDAR_DAYS,
        7,
        start_on=_on("requested"),
        stop_on=_on("reviewed"),
    ),
    RuleSpec(
        "REFUND_PAYMENT",
        "refund",
        Unit.CALENDAR_DAYS,
        7,
        start_on=_on("goods_received", "approved_without_goods"),
        stop_on=_on("paid"),
        cancel_on=_on("rejected"),
    ),
    RuleSpec(
        "REFUND_DELIBERATE_DELAY",
        "refund",
        Unit.CALENDAR_DAYS,
        15,
        warnings=(),
        breach_severity=Severity.CRITICAL,
        start_on=_on("goods_received", "approved_without_goods"),
        stop_on=_on("paid"),
        cancel_on=_on("rejected"),
    ),
    RuleSpec(
        "RECTIFICATION_DEADLINE",
        "rectification",
        Unit.FIXED,
        start_on=_on("ordered"),
        restart_on=_on("deadline_reset"),
        stop_on=_on("verified"),
    ),
)
_BY_ID = {r.id: r for r in SAMR_20_RULES}
SAMR_121_RULES: tuple[RuleSpec, ...] = (
    replace(_BY_ID["COMPLAINT_ACKNOWLEDGE"], channels=HOTLINE_ONLY),
    _BY_ID["COMPLAINT_ACCEPT_DECISION"],  # 7 working days (provisional under Order 121)
    _BY_ID["CPL_HANDLE_NOTIFY"],
    replace(_BY_ID["COMPLAINT_RESOLVE"], channels=HOTLINE_ONLY),
    replace(_BY_ID["COMPLAINT_MEDIATION"], unit=Unit.CALENDAR_DAYS, default=60),
    _BY_ID["ODR_NEGOTIATION"],
    RuleSpec(
        "COMPLAINT_RETURN_VISIT",
        "complaint",
        Unit.WORKING_DAYS,
        5,
        bureau_only=True,
        start_on=_on("resolved"),
        stop_on=_on("feedback"),
        cancel_on=_on("reopened"),
    ),
    replace(_BY_ID["REFUND_REVIEW"], default=15, no_reason_only=True),
    replace(_BY_ID["REFUND_PAYMENT"], no_reason_only=True, start_on=_on("goods_received")),
    replace(_BY_ID["REFUND_DELIBERATE_DELAY"], no_reason_only=True, start_on=_on("goods_received")),
    _BY_ID["RECTIFICATION_DEADLINE"],
)
VERSIONS: tuple[tuple[str, date, tuple[RuleSpec, ...]], ...] = (
    ("SAMR-20", date(2020, 1, 1), SAMR_20_RULES),
    ("SAMR-121", date(2026, 4, 15), SAMR_121_RULES),
)
"""(version id, first day, rules): Order 20 until 2026-04-14, Order 121 from 2026-04-15."""
KNOWN_POLICY_VERSIONS = frozenset(v for v, _, _ in VERSIONS)
RULES: tuple[RuleSpec, ...] = SAMR_20_RULES + tuple(r for r in SAMR_121_RULES if r.id not in _BY_ID)
"""Every rule id of any version (one spec per id, for the case type of an id)."""
RULE_IDS: tuple[str, ...] = tuple(r.id for r in RULES)


def version_on(day: date) -> str:
    """The version in force on ``day`` (days before the first use the first)."""
    current = VERSIONS[0][0]
    for vid, first, _ in VERSIONS:
        if first <= day:
            current = vid
    return current


RULES_BY_VERSION: dict[tuple[str, str], tuple[RuleSpec, ...]] = {
    (vid, kind): tuple(r for r in rules if r.case_type == kind)
    for vid, _, rules in VERSIONS
    for kind in ("complaint", "refund", "rectification")
}

# The escalation ladder (三级包片) and the other alert styles, from docs/policy.md.
WARNING_STYLE: dict[int, tuple[Level, Severity]] = {
    50: (Level.OFFICE, Severity.INFO),
    75: (Level.OFFICE, Severity.WARNING),
}
BREACH_LEVEL = Level.DEPARTMENT
ESCALATION_STYLE = (Level.LEADERSHIP, Severity.CRITICAL)
ESCALATE_AFTER_WORKING_DAYS = 5
INTERVIEW_STYLE = (Level.LEADERSHIP, Severity.MAJOR)
INTERVIEW_BREACHES = 3
INTERVIEW_WINDOW_DAYS = 30
SIGNAL_STYLE = (Level.DEPARTMENT, Severity.MAJOR)
DEFAULT_OFFICE = "UNASSIGNED"
VIOLATION_STYLE: dict[str, tuple[Level, Severity]] = {
    "UNKNOWN_CASE": (Level.OFFICE, Severity.WARNING),
    "ILLEGAL_TRANSITION": (Level.OFFICE, Severity.WARNING),
    "REVIEWED_TWICE": (Level.DEPARTMENT, Severity.MAJOR),
    "PAID_BEFORE_APPROVAL": (Level.DEPARTMENT, Severity.MAJOR),
    "PAID_TWICE": (Level.DEPARTMENT, Severity.CRITICAL),
    "PAID_ABOVE_APPROVED": (Level.DEPARTMENT, Severity.CRITICAL),
    "PAID_AFTER_REJECTION": (Level.DEPARTMENT, Severity.CRITICAL),
}
