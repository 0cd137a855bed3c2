"""The audit folds the governance topic through the enforcement agent's processor: each
platform's record as of T, the alerts it raised for the reconciliation, and the report's
JSON and HTML section."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest

from audit.enforcement import EnforcementReplay, read_enforcement
from audit.enforcement_html import enforcement_section
from schemas.instants import to_ms
from schemas.models import ClockTicked, Event, InterviewOutcome
from streams.codec import EventCodec
from streams.records import InRecord
from streams.settings import Settings
from streams.topics import Catalogue
from tests import enforcement_events as ev
from tests.core.builders import sh
from tests.kafka_helpers import produce

CODEC = EventCodec()
CAT = Catalogue("audit-enf")
T0 = sh(2026, 6, 1, 10)
DEADLINE = T0 + timedelta(days=10)


def _tick(at: datetime) -> ClockTicked:
    return ClockTicked(
        event_id=f"t-{at.isoformat()}", case_id="", platform_id="bureau", occurred_at=at,
        tick_at=at,
    )  # fmt: skip


def _acts(platform: str = ev.PLATFORM) -> list[Event]:
    return [
        ev.held("iv-1", T0, platform=platform),
        ev.outcome("iv-1", T0 + timedelta(hours=1), InterviewOutcome.ESCALATED_TO_ORDER, "o-1",
                   platform=platform),
        ev.ordered("o-1", T0 + timedelta(hours=2), DEADLINE, platform=platform),
        ev.penalty("p-1", T0 + timedelta(days=1), 1_000_000, platform=platform),
        _tick(DEADLINE + timedelta(hours=1)),  # the order is overdue
        ev.submitted("o-1", DEADLINE + timedelta(days=2), platform=platform),
    ]  # fmt: skip


def _records(events: list[Event], catalogue: Catalogue = CAT) -> list[InRecord]:
    out = []
    for i, e in enumerate(events):
        key, value, headers = CODEC.encode(e, "/bureau/hd-zgc")
        out.append(InRecord(catalogue.governance, 0, i, key, value, list(headers), 0))
    return out


def _fold(until: datetime, platform: str | None = None) -> EnforcementReplay:
    fold = EnforcementReplay(CAT, to_ms(until), platform)
    fold.feed(_records(_acts() + _acts("other")))
    return fold


def test_the_record_as_of_an_instant() -> None:
    before = _fold(DEADLINE - timedelta(days=1)).as_json()
    (mine, other) = sorted(before["platforms"], key=lambda r: r["platform_id"] != ev.PLATFORM)
    assert mine["platform_id"] == ev.PLATFORM and other["platform_id"] == "other"
    assert (mine["interviews_held"], mine["orders_open"], mine["orders_overdue"]) == (1, 1, 0)
    assert before["totals"]["penalty_total_fen"] == 2_000_000
    assert before["alerts_raised"] == 0  # no tick before T: no threshold crossed yet
    after = _fold(DEADLINE + timedelta(days=3))
    data = after.as_json()
    assert data["totals"]["orders_overdue"] == 2
    assert all(r["orders"][0]["status"] == "SUBMITTED" for r in data["platforms"])
    kinds = sorted({a.event_type for a in after.expected()})
    assert kinds == ["SlaBreached"]  # the first tick is past the deadline: warnings overtaken
    breach = next(a for a in after.expected() if a.event_type == "SlaBreached")
    assert breach.case_id == "o-1" and breach.due_ms == to_ms(DEADLINE)
    assert (data["records_read"], data["records_folded"]) == (12, 12)
    assert (before["records_read"], before["records_folded"]) == (12, 8)  # later ones left out


def test_a_platform_replay_folds_that_platform_only() -> None:
    data = _fold(DEADLINE + timedelta(days=3), platform="other").as_json()
    assert [r["platform_id"] for r in data["platforms"]] == ["other"]


def test_the_html_section_shows_each_platform() -> None:
    report: dict[str, Any] = {"enforcement": _fold(DEADLINE + timedelta(days=3)).as_json()}
    html = enforcement_section(report)
    assert 'id="enforcement"' in html and ev.PLATFORM in html and "other" in html
    assert "10,000.00" in html  # the penalty in yuan
    assert "逾期/overdue" in html and "ECL 第八十条" in html
    assert "Not replayed" in enforcement_section({"enforcement": None})


@pytest.mark.broker
async def test_read_enforcement_from_the_topics(settings: Settings, catalogue: Catalogue) -> None:
    records = _records(_acts(), catalogue)
    await produce(
        settings.bootstrap, catalogue.governance, [(r.key, r.value, r.headers) for r in records],
        partition=0,
    )  # fmt: skip
    fold = await read_enforcement(settings, catalogue, to_ms(DEADLINE + timedelta(days=3)))
    assert fold is not None
    (record,) = fold.as_json()["platforms"]
    assert (record["orders_overdue"], record["penalties"]) == (1, 1)
    assert any(a.event_type == "SlaBreached" for a in fold.expected())
