"""Drift: each model's fields, types, enums, defaults and optional-ness equal its newest .avsc."""

from __future__ import annotations

from typing import Any

import pytest

from schemas.derive import avro_schema_for, without_docs
from schemas.models import EVENT_TYPES, ComplaintFiled, Event
from schemas.repository import histories


def test_every_event_has_a_schema_and_every_schema_a_model() -> None:
    assert set(histories()) == set(EVENT_TYPES)


@pytest.mark.parametrize("name", list(EVENT_TYPES))
def test_model_matches_newest_schema(name: str) -> None:
    implied = without_docs(avro_schema_for(EVENT_TYPES[name]))
    committed = without_docs(histories()[name][-1].schema)
    assert implied == committed, f"{name}: model and newest .avsc differ"


def _field_summary(schema: dict[str, Any]) -> list[tuple[str, Any, bool, Any]]:
    return [
        (f["name"], without_docs(f["type"]), "default" in f, f.get("default"))
        for f in schema["fields"]
    ]


def test_drift_is_detected() -> None:
    """A field added to a model but not to the .avsc (and an enum symbol change) both show."""

    class ComplaintFiledPlus(ComplaintFiled):
        extra_flag: bool = False

    ComplaintFiledPlus.__name__ = "ComplaintFiled"
    committed = without_docs(histories()["ComplaintFiled"][-1].schema)
    assert without_docs(avro_schema_for(ComplaintFiledPlus)) != committed
    assert (
        len(_field_summary(avro_schema_for(ComplaintFiledPlus)))
        == len(_field_summary(committed)) + 1
    )


def test_optional_fields_are_null_first_unions_with_null_default() -> None:
    for name, versions in histories().items():
        for field in versions[-1].schema["fields"]:
            if isinstance(field["type"], list):
                assert field["type"][0] == "null" and field["default"] is None, (name, field)
                assert EVENT_TYPES[name].model_fields[field["name"]].default is None


def test_base_event_is_not_an_event_type() -> None:
    assert Event.__name__ not in EVENT_TYPES
