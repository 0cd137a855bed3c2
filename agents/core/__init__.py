"""The pure domain core of the regbus SLA engine (no Faust, Kafka or wall clock here).

The Faust case agents and the audit replay call :func:`handle` and :func:`on_tick` with a
:class:`Context` (policy book + working calendar) and keep a :class:`DeadlineIndex` per
partition; see docs/policy.md for the rules and their data files.
"""

from __future__ import annotations

from agents.core.calendar import Period, WorkingCalendar, YearData
from agents.core.case_sla import Trigger
from agents.core.complaint import ComplaintState, ComplaintStatus
from agents.core.context import Context
from agents.core.deadlines import DeadlineIndex, DueEntry
from agents.core.engine import (
    CaseState,
    Decision,
    UnsupportedEventError,
    default_context,
    due_entries,
    dump_state,
    handle,
    load_state,
    on_tick,
    state_from_json,
    state_to_json,
)
from agents.core.errors import (
    CalendarDataError,
    CaseMismatchError,
    DeadlineIndexError,
    DomainError,
    IllegalTransitionError,
    LifecycleError,
    PolicyError,
)
from agents.core.platform import PlatformRecord, record_breach
from agents.core.policy import CaseType, PolicyBook, PolicyVersion, Rule, Unit
from agents.core.rectification import RectificationState, RectificationStatus
from agents.core.refund import RefundState, RefundStatus
from agents.core.sla_clock import ClockStatus, SlaClock
from agents.core.state import Violation

__all__ = [
    "CalendarDataError",
    "CaseMismatchError",
    "CaseState",
    "CaseType",
    "ClockStatus",
    "ComplaintState",
    "ComplaintStatus",
    "Context",
    "DeadlineIndex",
    "DeadlineIndexError",
    "Decision",
    "DomainError",
    "DueEntry",
    "IllegalTransitionError",
    "LifecycleError",
    "Period",
    "PlatformRecord",
    "PolicyBook",
    "PolicyError",
    "PolicyVersion",
    "RectificationState",
    "RectificationStatus",
    "RefundState",
    "RefundStatus",
    "Rule",
    "SlaClock",
    "Trigger",
    "Unit",
    "UnsupportedEventError",
    "Violation",
    "WorkingCalendar",
    "YearData",
    "default_context",
    "due_entries",
    "dump_state",
    "handle",
    "load_state",
    "on_tick",
    "record_breach",
    "state_from_json",
    "state_to_json",
]
