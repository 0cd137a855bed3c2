"""Ingress routes campaign events to the governance topic and refuses bad negative-list codes."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from schemas.models import DeadLetterRecord, InspectionFindingRecorded, RoomCheckResult
from tests.ingest.factories import CODEC, NOW, record
from tests.ingest.test_processor import CAT, Harness

from . import builders as b

BUREAU = "/bureau/hd-ad"
AT = NOW - timedelta(hours=1)


def _finding(**over: Any) -> InspectionFindingRecorded:
    fields: dict[str, Any] = {
        "event_id": "f-1", "case_id": "rc-1", "platform_id": "acme", "occurred_at": AT,
        "spot_check_id": "SC-1", "live_room_ref": "lr-1", "evidence_refs": ["e-1"],
        "inspecting_unit": "joint-cloud-check", "office": "HD-ZGC",
    }  # fmt: skip
    fields.update(over)
    return InspectionFindingRecorded(**fields)


def _dead(result: Any) -> list[DeadLetterRecord]:
    out = []
    for o in result.out:
        if o.topic == CAT.deadletter:
            dl = CODEC.decode(o.value, o.headers)
            assert isinstance(dl, DeadLetterRecord)
            out.append(dl)
    return out


def test_a_coded_finding_is_routed() -> None:
    result = Harness().feed(
        CAT.bureau_ingress, record(_finding(negative_list_code="NL-01"), BUREAU)
    )
    assert [o.topic for o in result.out] == ["t.cases.rectifications", "t.inbox.acme"]


def test_an_unknown_code_is_dead_lettered_naming_the_field() -> None:
    result = Harness().feed(
        CAT.bureau_ingress, record(_finding(negative_list_code="NL-99"), BUREAU)
    )
    (dl,) = _dead(result)
    assert [o.topic for o in result.out] == [CAT.deadletter]
    assert dl.reason.value == "INVALID_VALUE"
    assert dl.detail.startswith("negative_list_code: 未知的负面清单编码 'NL-99'")
    assert "unknown negative-list code 'NL-99'" in dl.detail


def test_a_code_not_yet_in_force_is_dead_lettered() -> None:
    result = Harness().feed(
        CAT.bureau_ingress, record(_finding(negative_list_code="NL-07"), BUREAU)
    )
    (dl,) = _dead(result)
    assert dl.detail.startswith("negative_list_code: ") and "2026-10-01" in dl.detail


def test_a_new_finding_without_a_code_is_dead_lettered() -> None:
    finding = _finding(negative_list_item="false discount")
    (dl,) = _dead(Harness().feed(CAT.bureau_ingress, record(finding, BUREAU)))
    assert "negative_list_code" in dl.detail and "must cite" in dl.detail


def _on_acme(event: Any) -> Any:
    return event.model_copy(update={"platform_id": "acme", "occurred_at": AT})


def test_campaign_events_go_to_governance_and_no_inbox() -> None:
    room = b.the_draw()[0]
    events = [b.planned(), b.sampled(), b.checked(room, RoomCheckResult.FINDINGS, ("NL-02",))]
    h = Harness()
    for ev in events:
        result = h.feed(CAT.bureau_ingress, record(_on_acme(ev), BUREAU))
        assert [o.topic for o in result.out] == [CAT.governance], ev.EVENT_NAME


def test_a_room_check_citing_an_unknown_code_is_dead_lettered() -> None:
    room = b.the_draw()[0]
    bad = _on_acme(b.checked(room, RoomCheckResult.FINDINGS, ("NL-01", "NL-42")))
    (dl,) = _dead(Harness().feed(CAT.bureau_ingress, record(bad, BUREAU)))
    assert dl.detail.startswith("finding_codes: 未知的负面清单编码 'NL-42'")


def test_platforms_may_not_send_campaign_events() -> None:
    ev = _on_acme(b.planned())
    (dl,) = _dead(Harness().feed(CAT.ingress("acme"), record(ev)))
    assert dl.reason.value == "FORBIDDEN_TYPE"
