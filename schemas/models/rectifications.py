"""Inspection and rectification events (topic ``cases.rectifications``)."""

from __future__ import annotations

from schemas.models._base import Event, UtcDatetime


class InspectionFindingRecorded(Event):
    """A spot check (双随机云抽查) found a live room citing a negative-list item."""

    spot_check_id: str
    live_room_ref: str
    anchor_ref: str | None = None
    negative_list_item: str | None = None
    """v1's free text; kept so that old records read. New findings cite a code instead."""
    evidence_refs: list[str]
    inspecting_unit: str
    office: str
    negative_list_code: str | None = None
    """v2: the negative-list code cited (agents/policy/negative_list.yaml), e.g. ``NL-03``;
    required at ingress for findings since the first coded version took effect."""


class RectificationOrdered(Event):
    """The bureau ordered a rectification (整改) with a deadline."""

    deadline: UtcDatetime
    required_actions: list[str]
    ordering_unit: str


class RectificationSubmitted(Event):
    """The platform submitted its rectification with evidence."""

    evidence_refs: list[str]
    note: str | None = None


class RectificationVerified(Event):
    """The bureau verified the rectification."""

    verified_by: str


class RectificationRejected(Event):
    """The bureau rejected the rectification, possibly with a new deadline."""

    reason: str
    new_deadline: UtcDatetime | None = None
