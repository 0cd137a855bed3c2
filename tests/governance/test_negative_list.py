"""The coded negative list: versions, effective dates, and the refusal naming the field."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest

from agents.core.errors import PolicyError
from agents.core.negative_list import NegativeList, finding_refusal
from schemas.models import InspectionFindingRecorded, RoomCheckResult

from . import builders as b

NL = NegativeList.load()


def _finding(at: datetime, **over: Any) -> InspectionFindingRecorded:
    fields: dict[str, Any] = {
        "event_id": "f-1", "case_id": "rc-1", "platform_id": "p1", "occurred_at": at,
        "spot_check_id": "SC-1", "live_room_ref": "lr-1", "evidence_refs": ["e-1"],
        "inspecting_unit": "joint-cloud-check", "office": "HD-ZGC",
    }  # fmt: skip
    fields.update(over)
    return InspectionFindingRecorded(**fields)


SEPT = datetime(2026, 9, 20, 4, tzinfo=UTC)
OCT = datetime(2026, 10, 2, 4, tzinfo=UTC)


def test_the_list_has_two_versions_and_seven_codes() -> None:
    assert [v.id for v in NL.versions] == ["NL-2024", "NL-2026-10"]
    assert sorted(NL.items) == [f"NL-0{i}" for i in range(1, 8)]
    item = NL.items["NL-02"]
    assert item.instrument.title == "网络直播营销管理办法（试行）"
    assert "第十八条" in item.source()
    assert NL.version_on(date(2026, 9, 30)).id == "NL-2024"  # type: ignore[union-attr]
    assert NL.version_on(date(2026, 10, 1)).id == "NL-2026-10"  # type: ignore[union-attr]
    assert NL.version_on(date(2023, 12, 31)) is None


def test_a_known_code_in_force_is_accepted() -> None:
    assert finding_refusal(_finding(SEPT, negative_list_code="NL-03"), NL) is None
    assert finding_refusal(_finding(OCT, negative_list_code="NL-07"), NL) is None


def test_an_unknown_code_is_refused_naming_the_field() -> None:
    field, why = finding_refusal(_finding(SEPT, negative_list_code="NL-99"), NL) or ("", "")
    assert field == "negative_list_code"
    assert "未知的负面清单编码 'NL-99'" in why and "unknown negative-list code 'NL-99'" in why


def test_a_code_not_yet_in_force_is_refused() -> None:
    field, why = finding_refusal(_finding(SEPT, negative_list_code="NL-07"), NL) or ("", "")
    assert field == "negative_list_code"
    assert "takes effect on 2026-10-01" in why and "2026-09-20" in why


def test_the_day_is_beijing_time() -> None:
    # 2026-09-30T16:00Z is 2026-10-01 00:00 in Beijing: NL-07 is in force.
    at = datetime(2026, 9, 30, 16, tzinfo=UTC)
    assert finding_refusal(_finding(at, negative_list_code="NL-07"), NL) is None
    assert finding_refusal(_finding(at.replace(hour=15), negative_list_code="NL-07"), NL)


def test_a_finding_must_cite_a_code_once_the_list_exists() -> None:
    f = _finding(SEPT, negative_list_item="NL-01 false price comparison")
    assert finding_refusal(f, NL) == (
        "negative_list_code",
        "检查发现须引用负面清单编码 / a finding must cite a negative-list code",
    )


def test_an_old_free_text_finding_reads_before_the_list() -> None:
    old = datetime(2023, 6, 1, tzinfo=UTC)
    assert finding_refusal(_finding(old, negative_list_item="false discount"), NL) is None
    field, why = finding_refusal(_finding(old, negative_list_code="NL-01"), NL) or ("", "")
    assert field == "negative_list_code" and "no coded negative list" in why


def test_room_check_codes_are_checked_too() -> None:
    room = b.the_draw()[0]
    ok = b.checked(room, RoomCheckResult.FINDINGS, ("NL-01", "NL-05"))
    assert finding_refusal(ok, NL) is None
    bad = b.checked(room, RoomCheckResult.FINDINGS, ("NL-01", "XX"))
    field, why = finding_refusal(bad, NL) or ("", "")
    assert field == "finding_codes" and "'XX'" in why


@pytest.mark.parametrize(
    "mutate",
    [
        lambda raw: raw.update(format="other/1"),
        lambda raw: raw["versions"][0]["items"].append("NL-42"),
        lambda raw: raw["versions"].append(dict(raw["versions"][0])),
        lambda raw: raw["items"]["NL-01"].update(instrument="NOPE"),
    ],
)
def test_a_broken_list_is_a_policy_error(mutate: Any) -> None:
    import yaml

    from agents.core.negative_list import DEFAULT_NEGATIVE_LIST_PATH

    raw = yaml.safe_load(DEFAULT_NEGATIVE_LIST_PATH.read_text(encoding="utf-8"))
    raw["versions"][0]["items"] = list(raw["versions"][0]["items"])
    mutate(raw)
    with pytest.raises(PolicyError, match="negative list"):
        NegativeList.from_dict(raw)
