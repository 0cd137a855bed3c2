"""No consumer personal data where regulators read: alert models and schemas carry none, and the
one consumer field in the contract (``ComplaintFiled.consumer_ref``) refuses plaintext."""

from __future__ import annotations

import json
import re
import uuid
from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from schemas.families import ALERT_EVENTS, CLOCK_EVENTS
from schemas.models import EVENT_TYPES, ComplaintFiled
from streams.settings import PROJECT_ROOT

# Field names that would carry a consumer's identity or contact data.
PERSONAL = re.compile(
    r"consumer|customer|buyer|phone|mobile|tel(ephone)?\b|id_?card|identity|passport|"
    r"e_?mail|address|person|real_?name|full_?name|birth",
    re.IGNORECASE,
)


def _avro_field_names(name: str) -> set[str]:
    names: set[str] = set()
    for path in sorted((PROJECT_ROOT / "schemas" / "avro" / name).glob("v*.avsc")):

        def walk(node: object) -> None:
            if isinstance(node, dict):
                if isinstance(node.get("fields"), list):
                    names.update(f["name"] for f in node["fields"])
                for value in node.values():
                    walk(value)
            elif isinstance(node, list):
                for value in node:
                    walk(value)

        walk(json.loads(path.read_text()))
    return names


@pytest.mark.parametrize("name", ALERT_EVENTS + CLOCK_EVENTS)
def test_alert_and_sla_events_have_no_consumer_field(name: str) -> None:
    model_fields = set(EVENT_TYPES[name].model_fields)
    avro_fields = _avro_field_names(name)
    assert avro_fields, f"no Avro schema found for {name}"
    leaks = sorted(f for f in model_fields | avro_fields if PERSONAL.search(f))
    assert not leaks, f"{name} carries consumer-like fields {leaks}"


def test_the_scan_would_catch_the_one_consumer_field_the_contract_has() -> None:
    assert PERSONAL.search("consumer_ref")
    assert any(PERSONAL.search(f) for f in ComplaintFiled.model_fields)


@pytest.mark.parametrize(
    "plaintext", ["13812345678", "+86 138-1234-5678", "11010519491231002X", "c-13812345678"]
)
def test_consumer_ref_refuses_phone_and_id_numbers(plaintext: str) -> None:
    now = datetime(2025, 3, 3, 8, 0, tzinfo=UTC)
    with pytest.raises(ValidationError, match="consumer_ref"):
        ComplaintFiled(
            event_id=str(uuid.uuid4()),
            case_id="case-1",
            platform_id="acme",
            occurred_at=now,
            channel="PLATFORM_APP",
            category="OTHER",
            priority="NORMAL",
            claimed_amount_fen=1,
            insured=False,
            office="HD-01",
            consumer_ref=plaintext,
            intake_at=now,
        )
