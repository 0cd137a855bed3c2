"""The SLA rules as docs/policy.md states them (version SAMR-20), written down a second time.

The simulator predicts alerts from this table and its own clock model (:mod:`.oracle`), never
from ``agents.core`` or by executing ``sla_policy.yaml``: a test then compares two independent
computations. ``tests/sim`` checks that the rule ids here are exactly the policy file's, so a
rule added there cannot silently escape the simulator's coverage.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from schemas.models import Category, Channel, Level, Priority, Severity, SuspendReason


class Unit(StrEnum):
    HOURS = "hours"
    CALENDAR_DAYS = "calendar_days"
    WORKING_DAYS = "working_days"
    FIXED = "fixed"


BUREAU_CHANNELS = frozenset({Channel.HOTLINE_12345, Channel.HOTLINE_12315, Channel.BUREAU_REFERRAL})
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
        return not self.bureau_only or channel in BUREAU_CHANNELS


def _on(*names: str) -> frozenset[str]:
    return frozenset(names)


RULES: tuple[RuleSpec, ...] = (
    RuleSpec(
        "COMPLAINT_ACKNOWLEDGE",
        "complaint",
        Unit.HOURS,
        by_priority={Priority.URGENT: 2, Priority.NORMAL: 24},
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
RULE_IDS: tuple[str, ...] = tuple(r.id for r in RULES)
RULES_BY_CASE: dict[str, tuple[RuleSpec, ...]] = {
    kind: tuple(r for r in RULES if r.case_type == kind)
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
