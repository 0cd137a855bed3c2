"""Typed notices for a platform's inbox: one class per kind of thing the bureau tells it.

:func:`notice_of` turns an inbox event into its notice; :meth:`PlatformInbox.notices` yields
them. Every notice keeps the original ``event`` (its ``event_id`` is the idempotency key).

========================  ======================================================
notice                    from
========================  ======================================================
:class:`CaseDecision`     a bureau event on one of the platform's cases
                          (forwarded, escalated, reopened, ordered, verified,
                          rejected with ``new_deadline`` …)
:class:`DeadlineWarning`  SlaWarningRaised: ahead of the deadline, ``time_left``
:class:`DeadlineBreached` SlaBreached
:class:`CaseEscalated`    EscalationRaised (still open after the deadline)
:class:`ViolationNotice`  LifecycleViolationDetected (an illegal transition)
:class:`InterviewNotice`  InterviewRecommended (约谈)
:class:`RefusedRecord`    DeadLetterNotice: one of the platform's records refused
========================  ======================================================
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from schemas.models import (
    AlertEvent,
    CorrectionOrdered,
    CorrectionVerified,
    DeadLetterNotice,
    DeadLetterReason,
    EscalationRaised,
    Event,
    InterviewRecommended,
    LifecycleViolationDetected,
    RectificationOrdered,
    RectificationRejected,
    SlaBreached,
    SlaWarningRaised,
)

__all__ = [
    "CaseDecision",
    "CaseEscalated",
    "DeadlineBreached",
    "DeadlineWarning",
    "InterviewNotice",
    "Notice",
    "RefusedRecord",
    "ViolationNotice",
    "notice_of",
]


@dataclass(frozen=True, slots=True)
class CaseDecision:
    event: Event
    case_id: str
    decision: str
    """The event's name, e.g. ``RectificationRejected``."""
    deadline: datetime | None
    """A new or first deadline the decision sets (rectification order / rejection)."""


@dataclass(frozen=True, slots=True)
class _AlertNotice:
    event: AlertEvent
    case_id: str
    rule_id: str
    due_at: datetime | None
    detail: str
    office: str
    """The local office (市场监管所) that covers the platform."""


@dataclass(frozen=True, slots=True)
class DeadlineWarning(_AlertNotice):
    threshold_pct: int
    time_left: timedelta
    """From the warning to the deadline."""


@dataclass(frozen=True, slots=True)
class DeadlineBreached(_AlertNotice):
    pass


@dataclass(frozen=True, slots=True)
class CaseEscalated(_AlertNotice):
    level: str


@dataclass(frozen=True, slots=True)
class ViolationNotice(_AlertNotice):
    violation: str
    offending_event_id: str


@dataclass(frozen=True, slots=True)
class InterviewNotice(_AlertNotice):
    breach_count: int


@dataclass(frozen=True, slots=True)
class RefusedRecord:
    event: DeadLetterNotice
    reason: DeadLetterReason
    topic: str
    partition: int
    offset: int
    event_type: str | None
    your_event_id: str | None


Notice = (
    CaseDecision
    | DeadlineWarning
    | DeadlineBreached
    | CaseEscalated
    | ViolationNotice
    | InterviewNotice
    | RefusedRecord
)


def _common(a: AlertEvent) -> dict[str, object]:
    return {"event": a, "case_id": a.case_id, "rule_id": a.rule_id, "due_at": a.due_at,
            "detail": a.detail, "office": a.office}  # fmt: skip


def notice_of(event: Event) -> Notice:
    """The typed notice of one inbox event."""
    if isinstance(event, DeadLetterNotice):
        return RefusedRecord(event, event.reason, event.original_topic, event.original_partition,
                             event.original_offset, event.ce_type, event.ce_id)  # fmt: skip
    if isinstance(event, SlaWarningRaised):
        left = (event.due_at - event.observed_at) if event.due_at else timedelta(0)
        return DeadlineWarning(**_common(event), threshold_pct=event.threshold_pct, time_left=left)  # type: ignore[arg-type]
    if isinstance(event, SlaBreached):
        return DeadlineBreached(**_common(event))  # type: ignore[arg-type]
    if isinstance(event, EscalationRaised):
        return CaseEscalated(**_common(event), level=event.level.value)  # type: ignore[arg-type]
    if isinstance(event, LifecycleViolationDetected):
        return ViolationNotice(**_common(event), violation=event.violation.value,  # type: ignore[arg-type]
                               offending_event_id=event.offending_event_id)  # fmt: skip
    if isinstance(event, InterviewRecommended):
        return InterviewNotice(**_common(event), breach_count=event.breach_count)  # type: ignore[arg-type]
    deadline = None
    if isinstance(event, RectificationRejected):
        deadline = event.new_deadline
    elif isinstance(event, RectificationOrdered | CorrectionOrdered):
        deadline = event.deadline
    elif isinstance(event, CorrectionVerified):  # a rejection's new deadline
        deadline = event.new_deadline
    return CaseDecision(event, event.case_id, event.EVENT_NAME, deadline)
