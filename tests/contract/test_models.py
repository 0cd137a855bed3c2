"""The pydantic models: validation rules and the catalogue of event types."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from pydantic import ValidationError

from schemas import ALERT_TYPES, CLOCK_TYPES, EVENT_TYPES, ComplaintFiled, Event
from schemas.models import AlertEvent, DeadLetterHeader, RiskSignalRaised, SlaClockEvent
from streams.topics import Catalogue

from .examples import complaint_filed

# Catalogue value types that are deliberately outside the Avro contract (JSON documents).
NON_AVRO_VALUES = {"PlatformRegistration", "SubjectKey"}


def test_every_catalogue_value_type_is_an_event_type() -> None:
    names = {n for spec in Catalogue(platforms=("p1",)) for n in spec.value_schemas}
    assert names - NON_AVRO_VALUES <= set(EVENT_TYPES)


def test_event_types_are_named_by_class_and_ce_type() -> None:
    for name, cls in EVENT_TYPES.items():
        assert cls.__name__ == name == cls.EVENT_NAME
        assert cls.CE_TYPE == f"regbus.{name}.v1"
        assert issubclass(cls, Event)
    assert ComplaintFiled.CE_TYPE == "regbus.ComplaintFiled.v1"


def test_family_tuples() -> None:
    assert {c.__name__ for c in ALERT_TYPES} == {
        "SlaWarningRaised",
        "SlaBreached",
        "EscalationRaised",
        "InterviewRecommended",
        "LifecycleViolationDetected",
        "RiskSignalRaised",
    }
    assert all(issubclass(c, AlertEvent) for c in ALERT_TYPES)
    assert all(issubclass(c, SlaClockEvent) for c in CLOCK_TYPES)
    assert len(CLOCK_TYPES) == 5


def test_common_fields_come_first_in_spec_order() -> None:
    for cls in EVENT_TYPES.values():
        assert list(cls.model_fields)[:4] == ["event_id", "case_id", "platform_id", "occurred_at"]


def test_naive_datetime_is_rejected_with_a_clear_message() -> None:
    with pytest.raises(ValidationError, match="naive datetime: give an explicit timezone"):
        complaint_filed(occurred_at=datetime(2025, 3, 1, 8, 0))
    with pytest.raises(ValidationError, match="naive datetime"):
        complaint_filed(intake_at="2025-03-01T08:00:00")


def test_datetimes_are_normalised_to_utc_millis() -> None:
    beijing = timezone(timedelta(hours=8))
    event = complaint_filed(occurred_at=datetime(2025, 3, 1, 16, 0, 0, 123456, tzinfo=beijing))
    assert event.occurred_at == datetime(2025, 3, 1, 8, 0, 0, 123000, tzinfo=UTC)
    assert event.occurred_at.tzinfo is UTC
    assert complaint_filed(intake_at="2025-03-01T16:00:00+08:00").intake_at.hour == 8


@pytest.mark.parametrize(
    ("value", "kind"),
    [
        ("13812345678", "phone"),
        ("+86 138-1234-5678", "phone"),
        ("tel:8613912345678", "phone"),
        ("11010519491231002X", "ID"),
        ("id 110105 19491231 002X", "ID"),
        ("zhang.san@example.com", "e-mail"),
        ("北京市海淀区中关村大街27号", "address"),
        ("张三", "name"),
    ],
)
def test_consumer_ref_refuses_personal_data(value: str, kind: str) -> None:
    with pytest.raises(ValidationError, match=f"consumer_ref looks like a .*{kind}"):
        complaint_filed(consumer_ref=value)


@pytest.mark.parametrize("value", ["c-7f3a", "hash:9b1c0e2d", "12345", "1381234567", "u_2024"])
def test_consumer_ref_accepts_pseudonyms(value: str) -> None:
    assert complaint_filed(consumer_ref=value).consumer_ref == value


@pytest.mark.parametrize("field", ["claimed_amount_fen", "declared_value_fen"])
def test_amounts_are_never_negative(field: str) -> None:
    with pytest.raises(ValidationError, match="greater than or equal to 0"):
        complaint_filed(**{field: -1})


def test_amounts_are_strict_integers_within_avro_long() -> None:
    for bad in ("100", 1.5, True, 2**63):
        with pytest.raises(ValidationError):
            complaint_filed(claimed_amount_fen=bad)


def test_events_are_frozen_and_reject_unknown_fields() -> None:
    event = complaint_filed()
    with pytest.raises(ValidationError):
        event.case_id = "other"
    with pytest.raises(ValidationError, match="Extra inputs are not permitted"):
        complaint_filed(surprise=1)


def test_enums_accept_their_symbol_strings_only() -> None:
    assert complaint_filed(category="OTHER").category == "OTHER"
    with pytest.raises(ValidationError):
        complaint_filed(category="other")


def test_floats_must_be_finite() -> None:
    with pytest.raises(ValidationError):
        RiskSignalRaised.model_validate(
            {
                "event_id": "e",
                "case_id": "p",
                "platform_id": "p",
                "occurred_at": "2025-01-01T00:00:00Z",
                "alert_id": "a",
                "rule_id": "r",
                "severity": "INFO",
                "level": "OFFICE",
                "office": "o",
                "subject": "p",
                "observed_at": "2025-01-01T00:00:00Z",
                "detail": "d",
                "policy_version": "v",
                "signal": "SURGE",
                "metric": float("nan"),
                "threshold": 1.0,
            }
        )


def test_dead_letter_headers_accept_kafka_pairs() -> None:
    assert DeadLetterHeader.model_validate(("ce_id", b"x")) == DeadLetterHeader(
        key="ce_id", value=b"x"
    )
