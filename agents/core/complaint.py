"""Complaint case: filed → forwarded → acknowledged → (suspended ⇄ resumed) → resolved →
feedback, with escalation while open and reopening after resolution.

``open_case`` builds the state from ComplaintFiled; ``step`` applies any later event and says
which clock triggers it fires; illegal events raise :class:`IllegalTransitionError` from the
guard (the engine records them as violations).
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Literal

from agents.core.calendar import WorkingCalendar
from agents.core.case_sla import Facts, Trigger
from agents.core.errors import IllegalTransitionError
from agents.core.policy import CaseType, PolicyBook, PolicyVersion
from agents.core.state import CaseBase, opening_fields
from schemas.models import (
    Category,
    Channel,
    ComplaintAcknowledged,
    ComplaintEscalated,
    ComplaintFeedbackRecorded,
    ComplaintFiled,
    ComplaintForwarded,
    ComplaintReopened,
    ComplaintResolved,
    ComplaintResumed,
    ComplaintSuspended,
    Event,
    Level,
    Outcome,
    Priority,
    Satisfaction,
    SuspendReason,
)


class ComplaintStatus(StrEnum):
    FILED = "FILED"
    FORWARDED = "FORWARDED"
    ACKNOWLEDGED = "ACKNOWLEDGED"
    SUSPENDED = "SUSPENDED"
    RESOLVED = "RESOLVED"
    CLOSED = "CLOSED"
    """Resolved and the consumer's feedback recorded."""


OPEN = frozenset(
    {
        ComplaintStatus.FILED,
        ComplaintStatus.FORWARDED,
        ComplaintStatus.ACKNOWLEDGED,
        ComplaintStatus.SUSPENDED,
    }
)
_LEVEL_RANK = {Level.OFFICE: 0, Level.DEPARTMENT: 1, Level.LEADERSHIP: 2}

ALLOWED_FROM: dict[type[Event], frozenset[ComplaintStatus]] = {
    ComplaintForwarded: frozenset({ComplaintStatus.FILED}),
    ComplaintAcknowledged: frozenset({ComplaintStatus.FORWARDED}),
    ComplaintSuspended: frozenset({ComplaintStatus.ACKNOWLEDGED}),
    ComplaintResumed: frozenset({ComplaintStatus.SUSPENDED}),
    ComplaintEscalated: OPEN,
    ComplaintResolved: frozenset({ComplaintStatus.ACKNOWLEDGED, ComplaintStatus.SUSPENDED}),
    ComplaintFeedbackRecorded: frozenset({ComplaintStatus.RESOLVED}),
    ComplaintReopened: frozenset({ComplaintStatus.RESOLVED, ComplaintStatus.CLOSED}),
}
"""Legal source statuses per event. A PLATFORM_APP complaint is born at the platform, so it may
also be acknowledged straight from FILED (nothing to forward)."""

EVENTS: tuple[type[Event], ...] = (ComplaintFiled, *ALLOWED_FROM)

STATUS_AFTER: dict[type[Event], ComplaintStatus | None] = {
    ComplaintForwarded: ComplaintStatus.FORWARDED,
    ComplaintAcknowledged: ComplaintStatus.ACKNOWLEDGED,
    ComplaintSuspended: ComplaintStatus.SUSPENDED,
    ComplaintResumed: ComplaintStatus.ACKNOWLEDGED,
    ComplaintEscalated: None,
    ComplaintResolved: ComplaintStatus.RESOLVED,
    ComplaintFeedbackRecorded: ComplaintStatus.CLOSED,
    ComplaintReopened: ComplaintStatus.ACKNOWLEDGED,
}
"""The status a legal event leads to (None: unchanged). :func:`step` and :func:`transition`
both read it, so the case agent and the regulator's fold share one state machine."""


class ComplaintState(CaseBase):
    kind: Literal["complaint"] = "complaint"
    status: ComplaintStatus
    channel: Channel
    category: Category
    priority: Priority
    intake_at: datetime
    suspend_reason: SuspendReason | None = None
    escalation_level: Level | None = None
    outcome: Outcome | None = None
    compensation_fen: int = 0
    satisfaction: Satisfaction | None = None
    reopen_count: int = 0


def facts(state: ComplaintState) -> Facts:
    return Facts(CaseType.COMPLAINT, state.channel, state.priority, state.category)


def choose_version(event: ComplaintFiled, book: PolicyBook) -> tuple[PolicyVersion, bool]:
    """The version a new complaint is pinned to — the one named by a v2 event, else the one in
    force on the intake date — and whether a named version was unknown."""
    in_force = book.version_at(WorkingCalendar.local_date(event.intake_at))
    if event.policy_rule_version is None:
        return in_force, False
    requested = book.get(event.policy_rule_version)
    return (requested, False) if requested is not None else (in_force, True)


def open_case(
    event: ComplaintFiled, version: PolicyVersion
) -> tuple[ComplaintState, list[Trigger]]:
    """The new case and its ``filed`` trigger: retroactive to intake for hotline channels."""
    start = (
        event.intake_at
        if event.channel in version.retroactive_start_channels
        else (event.occurred_at)
    )
    state = ComplaintState.model_construct(
        **opening_fields(event, event.office, version.id, start),
        kind="complaint",
        status=ComplaintStatus.FILED,
        channel=event.channel,
        category=event.category,
        priority=event.priority,
        intake_at=event.intake_at,
        suspend_reason=None,
        escalation_level=None,
        outcome=None,
        compensation_fen=0,
        satisfaction=None,
        reopen_count=0,
    )
    return state, [Trigger("filed", start)]


def guard(state: ComplaintState, event: Event) -> None:
    """Raise :class:`IllegalTransitionError` unless ``event`` may happen in ``state``."""
    _check(state.status, state.channel, type(event))


def _check(status: ComplaintStatus, channel: Channel, event_type: type[Event]) -> None:
    allowed = ALLOWED_FROM.get(event_type)
    if allowed is None:
        raise IllegalTransitionError(
            f"{event_type.__name__} cannot happen to an existing complaint"
        )
    if status in allowed:
        return
    if (
        event_type is ComplaintAcknowledged
        and status is ComplaintStatus.FILED
        and channel is Channel.PLATFORM_APP
    ):
        return
    raise IllegalTransitionError(
        f"{event_type.__name__} is not allowed while the complaint is {status.value}"
    )


def transition(
    status: ComplaintStatus, channel: Channel, event_type: type[Event]
) -> ComplaintStatus:
    """The lifecycle alone, for folds that keep no full state (the regulator's): the status
    after a legal event of ``event_type``; raises :class:`IllegalTransitionError` as
    :func:`guard` does."""
    _check(status, channel, event_type)
    after = STATUS_AFTER[event_type]
    return status if after is None else after


def step(state: ComplaintState, event: Event) -> tuple[ComplaintState, list[Trigger]]:
    """Apply a legal event: the new state and the clock triggers it fires."""
    guard(state, event)
    at = event.occurred_at
    update: dict[str, object] = {"last_event_at": at, "seq": state.seq + 1}
    after = STATUS_AFTER[type(event)]
    if after is not None:
        update["status"] = after
    triggers: list[Trigger]
    if isinstance(event, ComplaintForwarded):
        triggers = [Trigger("forwarded", at)]
    elif isinstance(event, ComplaintAcknowledged):
        triggers = [Trigger("acknowledged", at)]
    elif isinstance(event, ComplaintSuspended):
        update["suspend_reason"] = event.reason
        triggers = [Trigger(f"suspended:{event.reason.value}", at, reason=event.reason)]
    elif isinstance(event, ComplaintResumed):
        update["suspend_reason"] = None
        triggers = [Trigger("resumed", at)]
    elif isinstance(event, ComplaintEscalated):
        current = state.escalation_level
        if current is None or _LEVEL_RANK[event.level] > _LEVEL_RANK[current]:
            update["escalation_level"] = event.level
        triggers = [Trigger("escalated", at)]
    elif isinstance(event, ComplaintResolved):
        update["suspend_reason"] = None
        update["outcome"] = event.outcome
        update["compensation_fen"] = event.compensation_fen
        triggers = [Trigger("resolved", at)]
    elif isinstance(event, ComplaintFeedbackRecorded):
        update["satisfaction"] = event.satisfaction
        triggers = [Trigger("feedback", at)]
    elif isinstance(event, ComplaintReopened):
        update["reopen_count"] = state.reopen_count + 1
        update["outcome"] = None
        update["satisfaction"] = None
        triggers = [Trigger("reopened", at)]
    else:  # pragma: no cover - guard() admits only the types above
        raise IllegalTransitionError(f"unhandled {type(event).__name__}")
    return state.model_copy(update=update), triggers
