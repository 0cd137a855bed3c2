"""Complaint case events (topic ``cases.complaints``, key case id)."""

from __future__ import annotations

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
from schemas.pii import KIND_TEXT, PersonalDataError, find


def check_pseudonymous(value: str) -> str:
    """Refuse a consumer reference that carries personal data (:mod:`schemas.pii`).

    The bureau shares case data with platforms and regulators; the consumer is identified
    only by a pseudonym the originating system can map back (no personal data in what is
    shared): no phone or ID number, e-mail, bank card, address, nor a bare personal name.
    """
    found = find(value, pseudonym=True)
    if found:
        zh, en = KIND_TEXT[found[0].kind]
        raise PersonalDataError(
            f"consumer_ref looks like a plaintext {en} ({found[0].masked}): personal data; "
            "send a pseudonymous reference (e.g. a keyed hash) instead / "
            f"consumer_ref 含有个人信息({zh}),请改用化名"
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
    complainant_sealed: bytes | None = None
    """Added in schema v3: the complainant's name, phone and address, AES-GCM sealed under the
    consumer's own key (schemas/sealed.py); erasing the key erases them. v1/v2 read as None."""

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
