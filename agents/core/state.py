"""Fields and bookkeeping shared by every case state (complaint, refund, rectification)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict

from agents.core.sla_clock import SlaClock
from schemas.models import Event, ViolationCode

MAX_APPLIED_IDS = 64
"""Recent event ids kept per case for duplicate detection (cases see a handful of events)."""
MAX_VIOLATIONS = 32
"""Violations kept in full per case; ``violation_count`` counts them all."""


class Violation(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    code: ViolationCode
    event_id: str
    event_type: str
    at: datetime
    detail: str


class CaseBase(BaseModel):
    """Frozen; changed only with ``model_copy(update=...)`` (no re-validation per event)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    case_id: str
    platform_id: str
    office: str
    policy_version: str
    opened_at: datetime
    last_event_at: datetime
    seq: int = 0
    """Events applied to the case (duplicates excluded, violations included)."""
    clocks: tuple[SlaClock, ...] = ()
    """Active (running or paused) clocks only; finished ones live on as clock events."""
    cycles: tuple[tuple[str, int], ...] = ()
    """Clocks started so far per rule id (the next cycle number)."""
    violations: tuple[Violation, ...] = ()
    violation_count: int = 0
    violation_codes: tuple[ViolationCode, ...] = ()
    """Every code ever recorded on the case (``violations`` keeps only the latest)."""
    applied_ids: tuple[str, ...] = ()
    calendar_alerted: tuple[int, ...] = ()
    """Unknown calendar years this case has already signalled."""
    next_due_at: datetime | None = None

    def has_violation(self, code: ViolationCode) -> bool:
        return code in self.violation_codes


def opening_fields(
    event: Event, office: str, policy_version: str, opened_at: datetime
) -> dict[str, Any]:
    """The :class:`CaseBase` fields of a case its first event opens (for ``model_construct``,
    which skips validation and defaults, so every field is spelled out once, here)."""
    return {
        "case_id": event.case_id,
        "platform_id": event.platform_id,
        "office": office,
        "policy_version": policy_version,
        "opened_at": opened_at,
        "last_event_at": event.occurred_at,
        "seq": 1,
        "clocks": (),
        "cycles": (),
        "violations": (),
        "violation_count": 0,
        "violation_codes": (),
        "applied_ids": (),
        "calendar_alerted": (),
        "next_due_at": None,
    }
