"""Builders of the enforcement events (约谈, 责令改正, 行政处罚) the tests share."""

from __future__ import annotations

from datetime import datetime

from schemas.models import (
    Attendee,
    AttendeeSide,
    CorrectionOrdered,
    CorrectionSubmitted,
    CorrectionVerified,
    InterviewHeld,
    InterviewOutcome,
    InterviewOutcomeRecorded,
    LegalBasis,
    PenaltyDecided,
    Verdict,
)

PLATFORM = "meituan"
OFFICE = "HD-ZGC"
ECL_80 = LegalBasis(instrument="ECL", article="第八十条")
ORDER_73_9 = LegalBasis(instrument="SAIC-ORDER-73", article="第九条")
ATTENDEES = [
    Attendee(side=AttendeeSide.BUREAU, name="王科长", role="网络交易监管科科长"),
    Attendee(side=AttendeeSide.PLATFORM, name="李经理", role="平台合规负责人"),
]


def _id(kind: str, item: str, at: datetime) -> str:
    return f"{kind}-{item}-{int(at.timestamp())}"


def held(
    item: str, at: datetime, recommendation_id: str | None = None, platform: str = PLATFORM
) -> InterviewHeld:
    return InterviewHeld(
        event_id=_id("held", item, at), case_id=item, platform_id=platform, occurred_at=at,
        recommendation_id=recommendation_id, held_at=at, office=OFFICE, attendees=ATTENDEES,
        commitments=["三日内上线保价提示", "每周报送投诉处理台账"],
    )  # fmt: skip


def outcome(
    item: str,
    at: datetime,
    result: InterviewOutcome = InterviewOutcome.COMMITMENTS_ACCEPTED,
    order_id: str | None = None,
    platform: str = PLATFORM,
) -> InterviewOutcomeRecorded:
    return InterviewOutcomeRecorded(
        event_id=_id("outcome", item, at), case_id=item, platform_id=platform, occurred_at=at,
        outcome=result, order_id=order_id,
    )  # fmt: skip


def ordered(
    item: str,
    at: datetime,
    deadline: datetime,
    basis: LegalBasis = ECL_80,
    platform: str = PLATFORM,
) -> CorrectionOrdered:
    return CorrectionOrdered(
        event_id=_id("ordered", item, at), case_id=item, platform_id=platform, occurred_at=at,
        legal_basis=basis, deadline=deadline, required_actions=["下架违规直播间"],
        ordering_unit="网络交易监管科", office=OFFICE,
    )  # fmt: skip


def submitted(item: str, at: datetime, platform: str = PLATFORM) -> CorrectionSubmitted:
    return CorrectionSubmitted(
        event_id=_id("submitted", item, at), case_id=item, platform_id=platform, occurred_at=at,
        evidence_refs=["doc-1"],
    )  # fmt: skip


def verified(
    item: str, at: datetime, new_deadline: datetime | None = None, platform: str = PLATFORM
) -> CorrectionVerified:
    verdict = Verdict.PASSED if new_deadline is None else Verdict.REJECTED
    return CorrectionVerified(
        event_id=_id("verified", item, at), case_id=item, platform_id=platform, occurred_at=at,
        verdict=verdict, verified_by="HD-ZGC-01", new_deadline=new_deadline,
        reason=None if new_deadline is None else "证据不足",
    )  # fmt: skip


def penalty(
    item: str,
    at: datetime,
    amount_fen: int = 5_000_000,
    basis: LegalBasis = ORDER_73_9,
    decision_no: str | None = None,
    platform: str = PLATFORM,
) -> PenaltyDecided:
    return PenaltyDecided(
        event_id=_id("penalty", item, at), case_id=item, platform_id=platform, occurred_at=at,
        decision_no=decision_no or f"京海市监处罚〔2026〕{item}号", legal_basis=basis,
        amount_fen=amount_fen, decided_at=at, deciding_unit="海淀区市场监管局",
    )  # fmt: skip
