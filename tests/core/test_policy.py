"""The policy file: defaults from the law, validation, versions, and the docs table."""

from __future__ import annotations

import copy
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import yaml

from agents.core.context import Context
from agents.core.errors import PolicyError
from agents.core.policy import DEFAULT_POLICY_PATH, Action, CaseType, PolicyBook, Rule, Unit

DOCS = Path(__file__).resolve().parents[2] / "docs" / "policy.md"


def raw_policy() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(DEFAULT_POLICY_PATH.read_text(encoding="utf-8"))
    return data


def test_packaged_policy_carries_the_legal_defaults() -> None:
    book = PolicyBook.load()
    v = book.version_at(date(2026, 3, 1))
    assert v.id == "SAMR-20" and v.effective_from == date(2020, 1, 1)
    expected = {
        "COMPLAINT_ACKNOWLEDGE": (Unit.HOURS, {"URGENT": 2, "NORMAL": 24}),
        "COMPLAINT_ACCEPT_DECISION": (Unit.WORKING_DAYS, {"default": 7}),
        "CPL_HANDLE_NOTIFY": (Unit.WORKING_DAYS, {"default": 7}),
        "COMPLAINT_RESOLVE": (Unit.CALENDAR_DAYS, {"default": 7}),
        "COMPLAINT_MEDIATION": (Unit.WORKING_DAYS, {"default": 45}),
        "ODR_NEGOTIATION": (Unit.WORKING_DAYS, {"default": 10}),
        "REFUND_REVIEW": (Unit.CALENDAR_DAYS, {"default": 7}),
        "REFUND_PAYMENT": (Unit.CALENDAR_DAYS, {"default": 7}),
        "REFUND_DELIBERATE_DELAY": (Unit.CALENDAR_DAYS, {"default": 15}),
        "RECTIFICATION_DEADLINE": (Unit.FIXED, {}),
    }
    assert {r.id: (r.unit, r.targets) for r in v.rules} == expected
    assert v.rule("COMPLAINT_RESOLVE").target("NORMAL", "FOOD_SAFETY") == 15
    assert v.rule("COMPLAINT_RESOLVE").target("URGENT", "OTHER") == 7
    assert v.warnings == (50, 75)
    assert v.ladder.leadership_after_breach_working_days == 5
    assert (v.interview.breaches, v.interview.window_days) == (3, 30)
    assert set(book.pause_rules) == set(Unit)
    pairs = book.actions("SAMR-20", CaseType.COMPLAINT, "resolved")
    assert [(r.id, a) for r, a in pairs][:2] == [
        ("COMPLAINT_RESOLVE", Action.STOP),
        ("COMPLAINT_MEDIATION", Action.STOP),
    ]


def test_order_121_is_a_data_change(tmp_path: Path) -> None:
    raw = raw_policy()
    newer = copy.deepcopy(raw["versions"][0])
    newer.update(id="SAMR-121", effective_from="2026-04-15")
    newer["rules"] = [r for r in newer["rules"] if r["id"] != "ODR_NEGOTIATION"]
    raw["versions"].append(newer)
    path = tmp_path / "policy.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True))
    ctx = Context.load(policy_path=path, calendar_dir=None)
    assert ctx.policy.version_at(date(2026, 4, 14)).id == "SAMR-20"
    assert ctx.policy.version_at(date(2026, 4, 15)).id == "SAMR-121"
    assert ctx.policy.version_at(date(2019, 1, 1)).id == "SAMR-20"
    assert ctx.policy.actions("SAMR-121", CaseType.COMPLAINT, "suspended:ODR_NEGOTIATION") != ()
    assert not any(
        r.id == "ODR_NEGOTIATION"
        for r, _ in ctx.policy.actions("SAMR-121", CaseType.COMPLAINT, "suspended:ODR_NEGOTIATION")
    )


def _break(path: list[Any], value: Any) -> dict[str, Any]:
    raw = raw_policy()
    node: Any = raw
    for key in path[:-1]:
        node = node[key]
    if value is KeyError:
        del node[path[-1]]
    else:
        node[path[-1]] = value
    return raw


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        (["versions", 0, "rules", 0, "start_on"], ["delivered"], "unknown complaint triggers"),
        (["versions", 0, "rules", 6, "stop_on"], ["acknowledged"], "unknown refund triggers"),
        (["versions", 0, "rules", 1, "id"], "COMPLAINT_ACKNOWLEDGE", "duplicate rule ids"),
        (["versions", 0, "rules", 0, "targets"], {"URGENT": 2}, "targets need"),
        (["versions", 0, "rules", 1, "targets"], {"default": 0}, "positive"),
        (["versions", 0, "rules", 9, "targets"], {"default": 3}, "fixed deadline"),
        (["versions", 0, "rules", 0, "warnings"], [50, 90], "no style for 90"),
        (["versions", 0, "rules", 0, "unit"], "weeks", "unit"),
        (["versions", 0, "violations", "default"], KeyError, "default"),
        (["pause_rules", "fixed"], KeyError, "missing"),
        (["format"], "v0", "format"),
    ],
)
def test_invalid_policy_is_refused(path: list[Any], value: Any, message: str) -> None:
    with pytest.raises(PolicyError, match=message):
        PolicyBook.from_dict(_break(path, value))


def test_two_versions_on_one_date_are_refused() -> None:
    raw = raw_policy()
    twin = copy.deepcopy(raw["versions"][0])
    twin["id"] = "OTHER"
    raw["versions"].append(twin)
    with pytest.raises(PolicyError, match="same date"):
        PolicyBook.from_dict(raw)


def test_unreadable_policy_file_is_a_policy_error(tmp_path: Path) -> None:
    with pytest.raises(PolicyError):
        PolicyBook.load(tmp_path / "missing.yaml")
    with pytest.raises(PolicyError, match="no policy version"):
        PolicyBook.load().version("SAMR-999")


def _limit(rule: Rule) -> str:
    if rule.unit is Unit.FIXED:
        return "from the order"
    if "default" in rule.targets:
        text = str(rule.targets["default"])
    else:
        text = f"URGENT {rule.targets['URGENT']} / NORMAL {rule.targets['NORMAL']}"
    extra = [f"{k} {v}" for k, v in sorted(rule.category_targets.items())]
    return "; ".join([text, *extra])


def test_docs_table_matches_the_policy_file() -> None:
    rows = {}
    for line in DOCS.read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 7:
            rows[cells[0]] = cells
    book = PolicyBook.load()
    for version in book.versions:
        for rule in version.rules:
            assert rule.id in rows, f"{rule.id} missing from docs/policy.md"
            _, case, limit, unit, _, _, ver = rows[rule.id]
            assert (case, limit, unit, ver) == (
                rule.case_type.value,
                _limit(rule),
                rule.unit.value,
                version.id,
            ), rule.id


def test_packaged_calendar_directory_loads() -> None:
    ctx = Context.load()
    assert ctx.calendar.knows_year(2026)
