"""The enforcement events in the contract: pinned ids 180-185, exact round trips, the
governance channel, who may send them, and the models' own rules (fields named)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from pydantic import ValidationError

from schemas.families import ENFORCEMENT_EVENTS
from schemas.lock import read_lock
from schemas.models import (
    Attendee,
    AttendeeSide,
    CorrectionVerified,
    InterviewHeld,
    InterviewOutcome,
    InterviewOutcomeRecorded,
    Verdict,
)
from schemas.pii import scan_event
from schemas.send_rules import SEND_RULES, Sender, refusal
from streams.asyncapi import asyncapi_document
from streams.codec import EventCodec
from streams.topics import Catalogue
from tests import enforcement_events as ev

from .examples import T0, enforcement_examples

CODEC = EventCodec()
PINNED = {
    "InterviewHeld": 180,
    "InterviewOutcomeRecorded": 181,
    "CorrectionOrdered": 182,
    "CorrectionSubmitted": 183,
    "CorrectionVerified": 184,
    "PenaltyDecided": 185,
}


def test_each_event_has_its_pinned_id_and_round_trips_exactly() -> None:
    lock = read_lock()
    examples = enforcement_examples()
    assert [type(e).__name__ for e in examples] == list(ENFORCEMENT_EVENTS)
    for event in examples:
        name = type(event).__name__
        assert lock[(name, 1)].id == PINNED[name]
        value = CODEC.encode_value(event)
        assert value[:5] == b"\x00" + PINNED[name].to_bytes(4, "big")
        assert CODEC.decode(value) == event


def test_the_governance_channel_carries_them_keyed_by_platform() -> None:
    cat = Catalogue("x")
    spec = cat.by_name(cat.governance)
    assert spec.key.startswith("platform id") and set(ENFORCEMENT_EVENTS) <= set(spec.value_schemas)
    doc = asyncapi_document(cat)
    channel = next(c for c in doc["channels"].values() if c["address"] == cat.governance)
    assert set(ENFORCEMENT_EVENTS) <= set(channel["messages"])


@pytest.mark.parametrize("event", enforcement_examples(), ids=list(ENFORCEMENT_EVENTS))
def test_only_the_bureau_sends_them(event: object) -> None:
    assert SEND_RULES[type(event).__name__].family is None  # the governance topic
    assert refusal(event, Sender.BUREAU) is None  # type: ignore[arg-type]
    field, why = refusal(event, Sender.PLATFORM)  # type: ignore[arg-type,misc]
    assert field == "type" and "platforms may not send" in why


def _fails(field: str, build: object) -> None:
    with pytest.raises(ValidationError) as err:
        build()  # type: ignore[operator]
    assert field in str(err.value)


def test_the_models_refuse_what_makes_no_sense() -> None:
    held = ev.held("YT-1", T0)
    bureau_only = [a for a in held.attendees if a.side is AttendeeSide.BUREAU]
    _fails(
        "attendees", lambda: held.model_validate({**held.model_dump(), "attendees": bureau_only})
    )
    _fails("order_id", lambda: InterviewOutcomeRecorded(
        event_id="e", case_id="YT-1", platform_id="p", occurred_at=T0,
        outcome=InterviewOutcome.COMMITMENTS_ACCEPTED, order_id="ZL-1"))  # fmt: skip
    _fails("deadline", lambda: ev.ordered("ZL-1", T0, T0 - timedelta(days=1)))
    base = {"event_id": "e", "case_id": "ZL-1", "platform_id": "p", "occurred_at": T0,
            "verified_by": "u"}  # fmt: skip
    _fails("new_deadline", lambda: CorrectionVerified(**base, verdict=Verdict.REJECTED))
    _fails("new_deadline", lambda: CorrectionVerified(
        **base, verdict=Verdict.PASSED, new_deadline=T0 + timedelta(days=1)))  # fmt: skip
    _fails("amount_fen", lambda: ev.penalty("CF-1", T0, -1))


def test_no_phone_number_among_the_attendees() -> None:
    held = ev.held("YT-1", T0)
    leaky = InterviewHeld.model_validate({
        **held.model_dump(),
        "attendees": [Attendee(side=AttendeeSide.BUREAU, name="王科长", role="科长 13812345678"),
                      held.attendees[1]],
    })  # fmt: skip
    (finding,) = scan_event(leaky)
    assert finding.field == "attendees.0.role"
    assert scan_event(held) == []
