"""The bureau's enforcement of a platform (topic ``governance``, key = platform id).

Regulatory interviews (约谈) and their outcome, orders to correct (责令改正) with their
deadline, submission and verification, and penalty decisions (行政处罚). Only the bureau sends
them. ``case_id`` is the enforcement item: the interview id, the order id or the decision
number; ``platform_id`` is the platform the bureau acts on (and the record key).
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, model_validator

from schemas.models._base import Event, Fen, NonEmptyStr, UtcDatetime


class AttendeeSide(StrEnum):
    BUREAU = "BUREAU"
    PLATFORM = "PLATFORM"


class InterviewOutcome(StrEnum):
    COMMITMENTS_ACCEPTED = "COMMITMENTS_ACCEPTED"
    """The bureau accepts the platform's commitments; the interview is closed."""
    FOLLOW_UP_REQUIRED = "FOLLOW_UP_REQUIRED"
    """The commitments need a follow-up visit or report."""
    ESCALATED_TO_ORDER = "ESCALATED_TO_ORDER"
    """The interview ends in an order to correct (责令改正)."""


class Verdict(StrEnum):
    PASSED = "PASSED"
    REJECTED = "REJECTED"


class Attendee(BaseModel):
    """One person at an interview: side, name and role (never a phone number)."""

    model_config = ConfigDict(frozen=True, extra="forbid", use_attribute_docstrings=True)

    side: AttendeeSide
    name: NonEmptyStr
    role: NonEmptyStr
    """E.g. 网络交易监管科科长, 平台合规负责人."""


class LegalBasis(BaseModel):
    """A cited provision, structured like the SLA policy's citations: the instrument's key in
    ``sla_policy.yaml`` (``instruments``, e.g. ECL, SAIC-ORDER-73) and the article."""

    model_config = ConfigDict(frozen=True, extra="forbid", use_attribute_docstrings=True)

    instrument: NonEmptyStr
    """The key of an instrument in the policy file; an unknown key is refused (field named)."""
    article: NonEmptyStr
    """E.g. 第八十条, Art. 9."""


class InterviewHeld(Event):
    """A regulatory interview (约谈) of the platform was held."""

    recommendation_id: str | None = None
    """The InterviewRecommended alert id it answers; null when the bureau acted on its own."""
    held_at: UtcDatetime
    office: NonEmptyStr
    """The unit that held it (office or department code)."""
    attendees: list[Attendee] = Field(min_length=1)
    commitments: list[str]
    """What the platform committed to do."""

    @model_validator(mode="after")
    def _both_sides(self) -> InterviewHeld:
        sides = {a.side for a in self.attendees}
        if sides != set(AttendeeSide):
            raise ValueError(
                "attendees: name at least one person of the bureau and one of the platform"
            )
        return self


class InterviewOutcomeRecorded(Event):
    """The bureau recorded what came of an interview."""

    outcome: InterviewOutcome
    order_id: str | None = None
    """The order to correct it led to (ESCALATED_TO_ORDER only)."""
    note: str | None = None

    @model_validator(mode="after")
    def _order_only_when_escalated(self) -> InterviewOutcomeRecorded:
        escalated = self.outcome is InterviewOutcome.ESCALATED_TO_ORDER
        if self.order_id is not None and not escalated:
            raise ValueError("order_id: only an outcome ESCALATED_TO_ORDER names an order")
        return self


class CorrectionOrdered(Event):
    """The bureau ordered the platform to correct (责令改正) by a deadline."""

    legal_basis: LegalBasis
    deadline: UtcDatetime
    required_actions: list[str] = Field(min_length=1)
    ordering_unit: NonEmptyStr
    office: NonEmptyStr
    """The office whose alerts the order's deadline raises."""
    interview_id: str | None = None
    """The interview that led to the order, if any."""

    @model_validator(mode="after")
    def _deadline_after_order(self) -> CorrectionOrdered:
        if self.deadline <= self.occurred_at:
            raise ValueError("deadline: must be after occurred_at")
        return self


class CorrectionSubmitted(Event):
    """The platform's correction reached the bureau (recorded by the bureau)."""

    evidence_refs: list[str] = Field(min_length=1)
    note: str | None = None


class CorrectionVerified(Event):
    """The bureau checked the correction: passed, or rejected with a new deadline."""

    verdict: Verdict
    verified_by: NonEmptyStr
    reason: str | None = None
    new_deadline: UtcDatetime | None = None
    """Required when REJECTED (the order stays open until then); absent when PASSED."""

    @model_validator(mode="after")
    def _deadline_with_rejection(self) -> CorrectionVerified:
        if self.verdict is Verdict.REJECTED:
            if self.new_deadline is None:
                raise ValueError("new_deadline: a REJECTED verdict sets a new deadline")
            if self.new_deadline <= self.occurred_at:
                raise ValueError("new_deadline: must be after occurred_at")
        elif self.new_deadline is not None:
            raise ValueError("new_deadline: a PASSED verdict sets no deadline")
        return self


class PenaltyDecided(Event):
    """An administrative penalty decision (行政处罚决定书) on the platform."""

    decision_no: NonEmptyStr
    """The decision's document number, e.g. 京海市监处罚〔2026〕123号."""
    legal_basis: LegalBasis
    amount_fen: Fen
    decided_at: UtcDatetime
    deciding_unit: NonEmptyStr
    order_id: str | None = None
    """The order to correct the penalty follows, if any."""
