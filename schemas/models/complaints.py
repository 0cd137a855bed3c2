"""Complaint case events (topic ``cases.complaints``, key case id)."""

from __future__ import annotations

import re

from pydantic import field_validator

from schemas.models._base import Event, Fen, StrictBool, UtcDatetime
from schemas.models.enums import (
    Category,
    Channel,
    Level,
    Outcome,
    Priority,
    Satisfaction,
    SuspendReason,
)

# Separators people type inside numbers; removed before matching so "138 1234 5678" and
# "+86-138-1234-5678" are caught as well as the bare digits.
_SEPARATORS = re.compile(r"[\s\-().+]")
# Mainland mobile numbers: 11 digits starting 13-19, not part of a longer digit run.
_PHONE = re.compile(r"(?<!\d)(?:86)?1[3-9]\d{9}(?!\d)")
# Resident identity card numbers: 17 digits and a digit or X check character.
_PRC_ID = re.compile(r"(?<!\d)\d{17}[\dXx](?![\dXx])")


def check_pseudonymous(value: str) -> str:
    """Refuse a consumer reference that carries a phone number or an ID card number.

    The bureau shares case data with platforms and regulators; the consumer is identified
    only by a pseudonym the originating system can map back (no personal data in what is
    shared).
    """
    compact = _SEPARATORS.sub("", value)
    if _PHONE.search(compact):
        raise ValueError(
            "consumer_ref looks like a plaintext mobile phone number; send a pseudonymous "
            "reference (e.g. a keyed hash) instead"
        )
    if _PRC_ID.search(compact):
        raise ValueError(
            "consumer_ref looks like a PRC resident ID number; send a pseudonymous "
            "reference (e.g. a keyed hash) instead"
        )
    return value


class ComplaintFiled(Event):
    """A complaint entered the system (hotline intake, platform app or bureau referral)."""

    channel: Channel
    category: Category
    priority: Priority
    merchant_ref: str | None = None
    live_room_ref: str | None = None
    claimed_amount_fen: Fen
    insured: StrictBool
    declared_value_fen: Fen | None = None
    office: str
    consumer_ref: str
    intake_at: UtcDatetime
    """Hotline intake time: SLA clocks start retroactively from here."""
    policy_rule_version: str | None = None
    """Added in schema v2, e.g. "SAMR-121"; v1 records read as None."""

    @field_validator("consumer_ref")
    @classmethod
    def _pseudonymous(cls, value: str) -> str:
        return check_pseudonymous(value)


class ComplaintForwarded(Event):
    """The bureau forwarded the complaint to the platform (热线转接)."""

    forwarded_by: str
    note: str | None = None


class ComplaintAcknowledged(Event):
    """The platform signed for the forwarded complaint."""

    handler_ref: str | None = None


class ComplaintSuspended(Event):
    """Handling paused (testing, appraisal, ODR negotiation): SLA clocks pause."""

    reason: SuspendReason
    note: str | None = None


class ComplaintResumed(Event):
    """Handling resumed after a suspension: SLA clocks run again."""

    note: str | None = None


class ComplaintEscalated(Event):
    """The complaint was escalated to a higher supervision level."""

    level: Level
    reason: str


class ComplaintResolved(Event):
    """The complaint was closed with an outcome (settled or not) and any compensation."""

    outcome: Outcome
    compensation_fen: Fen


class ComplaintFeedbackRecorded(Event):
    """The consumer's satisfaction from the return visit (回访)."""

    satisfaction: Satisfaction


class ComplaintReopened(Event):
    """A resolved complaint was reopened."""

    reason: str
