"""Rectification case: finding → ordered(deadline) → submitted → verified | rejected →
resubmitted … The order's deadline is the SLA (a ``fixed`` clock); a rejection with a new
deadline resets it. Overdue without verification → breach; still overdue after the ladder's
working days → LEADERSHIP escalation.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Literal

from agents.core.case_sla import Facts, Trigger
from agents.core.errors import IllegalTransitionError
from agents.core.policy import CaseType, PolicyVersion
from agents.core.state import CaseBase, opening_fields
from schemas.models import (
    Event,
    InspectionFindingRecorded,
    RectificationOrdered,
    RectificationRejected,
    RectificationSubmitted,
    RectificationVerified,
)

FACTS = Facts(CaseType.RECTIFICATION)


class RectificationStatus(StrEnum):
    FINDING = "FINDING"
    ORDERED = "ORDERED"
    SUBMITTED = "SUBMITTED"
    REJECTED = "REJECTED"
    VERIFIED = "VERIFIED"


ALLOWED_FROM: dict[type[Event], frozenset[RectificationStatus]] = {
    RectificationOrdered: frozenset({RectificationStatus.FINDING}),
    RectificationSubmitted: frozenset({RectificationStatus.ORDERED, RectificationStatus.REJECTED}),
    RectificationVerified: frozenset({RectificationStatus.SUBMITTED}),
    RectificationRejected: frozenset({RectificationStatus.SUBMITTED}),
}
EVENTS: tuple[type[Event], ...] = (InspectionFindingRecorded, *ALLOWED_FROM)


class RectificationState(CaseBase):
    kind: Literal["rectification"] = "rectification"
    status: RectificationStatus
    spot_check_id: str
    live_room_ref: str
    negative_list_item: str
    """The code cited (v2), or a v1 record's free text."""
    deadline: datetime | None = None
    submissions: int = 0
    rejections: int = 0


def facts(state: RectificationState) -> Facts:
    return FACTS


def open_case(
    event: InspectionFindingRecorded, version: PolicyVersion
) -> tuple[RectificationState, list[Trigger]]:
    state = RectificationState.model_construct(
        **opening_fields(event, event.office, version.id, event.occurred_at),
        kind="rectification",
        status=RectificationStatus.FINDING,
        spot_check_id=event.spot_check_id,
        live_room_ref=event.live_room_ref,
        negative_list_item=event.negative_list_code or event.negative_list_item or "",
        deadline=None,
        submissions=0,
        rejections=0,
    )
    return state, [Trigger("finding", event.occurred_at)]


def guard(state: RectificationState, event: Event) -> None:
    allowed = ALLOWED_FROM.get(type(event))
    if allowed is None:
        raise IllegalTransitionError(
            f"{type(event).__name__} cannot happen to an existing rectification case"
        )
    if state.status not in allowed:
        raise IllegalTransitionError(
            f"{type(event).__name__} is not allowed while the rectification is {state.status.value}"
        )


def step(state: RectificationState, event: Event) -> tuple[RectificationState, list[Trigger]]:
    guard(state, event)
    at = event.occurred_at
    update: dict[str, object] = {"last_event_at": at, "seq": state.seq + 1}
    triggers: list[Trigger]
    if isinstance(event, RectificationOrdered):
        update["status"] = RectificationStatus.ORDERED
        update["deadline"] = event.deadline
        triggers = [Trigger("ordered", at, deadline=event.deadline)]
    elif isinstance(event, RectificationSubmitted):
        update["status"] = RectificationStatus.SUBMITTED
        update["submissions"] = state.submissions + 1
        triggers = [Trigger("submitted", at)]
    elif isinstance(event, RectificationVerified):
        update["status"] = RectificationStatus.VERIFIED
        triggers = [Trigger("verified", at)]
    elif isinstance(event, RectificationRejected):
        update["status"] = RectificationStatus.REJECTED
        update["rejections"] = state.rejections + 1
        triggers = [Trigger("rejected", at)]
        if event.new_deadline is not None:
            update["deadline"] = event.new_deadline
            triggers.append(Trigger("deadline_reset", at, deadline=event.new_deadline))
    else:  # pragma: no cover - guard() admits only the types above
        raise IllegalTransitionError(f"unhandled {type(event).__name__}")
    return state.model_copy(update=update), triggers
