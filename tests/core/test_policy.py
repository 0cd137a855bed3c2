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


def test_order_121_version_carries_what_is_known() -> None:
    book = PolicyBook.load()
    old, new = book.version("SAMR-20"), book.version("SAMR-121")
    assert (old.effective_from, old.effective_to) == (date(2020, 1, 1), date(2026, 4, 14))
    assert (new.effective_from, new.effective_to) == (date(2026, 4, 15), None)
    assert book.version_at(date(2026, 4, 14)).id == "SAMR-20"
    assert book.version_at(date(2026, 4, 15)).id == "SAMR-121"
    assert book.version_at(date(2019, 1, 1)).id == "SAMR-20"
    mediation = new.rule("COMPLAINT_MEDIATION")
    assert (mediation.unit, mediation.targets, mediation.provisional) == (
        Unit.CALENDAR_DAYS, {"default": 60}, True,
    )  # fmt: skip
    assert mediation.source.article == "Art. 23(1)(五)"
    assert mediation.source.doc.number == "国家市场监督管理总局令第121号"
    assert mediation.source.doc.promulgated == date(2025, 12, 30)
    accept = new.rule("COMPLAINT_ACCEPT_DECISION")
    assert accept.targets == {"default": 7} and accept.provisional and accept.source.article is None
    visit = new.rule("COMPLAINT_RETURN_VISIT")
    assert visit.start_on == ("resolved",) and visit.stop_on == ("feedback",) and visit.provisional
    window = next(x for x in new.limits if x.id == "COMPLAINT_ACCEPT_WINDOW_YEARS")
    assert (window.value, window.source.article, window.source.provisional) == (
        3,
        "Art. 16(四)",
        True,
    )
    assert not new.rule("CPL_HANDLE_NOTIFY").provisional  # a statute holds
    # 12345 practice: labelled, hotline only
    for rid in ("COMPLAINT_ACKNOWLEDGE", "COMPLAINT_RESOLVE"):
        rule = new.rule(rid)
        assert rule.source.doc.kind.value == "practice" and rule.channels == ("HOTLINE_12345",)
    # Order 73 Art. 9: no-reason returns only, from the request (9(1)) or the goods (9(2))
    review = new.rule("REFUND_REVIEW")
    assert (review.source.article, review.targets, review.refund_reasons) == (
        "Art. 9(1)", {"default": 15}, "no_reason_return",
    )  # fmt: skip
    delay = new.rule("REFUND_DELIBERATE_DELAY")
    assert delay.start_on == ("goods_received",) and delay.source.article == "Art. 9(2)"
    assert new.reason_kinds("no-reason 7-day return") == ("no_reason_return",)
    assert new.reason_kinds("七天无理由退货") == ("no_reason_return",)
    assert new.reason_kinds("goods damaged") == ()
    order20 = old.rule("COMPLAINT_ACCEPT_DECISION").source.doc
    assert (order20.effective, order20.repealed) == (date(2020, 1, 1), date(2026, 4, 15))


def test_a_rule_whose_source_was_not_yet_in_force_does_not_apply() -> None:
    """A 2020 case never gets the clocks of the 2021 12345 practice (no retroactive law)."""
    book = PolicyBook.load()
    ack = book.version("SAMR-20").rule("COMPLAINT_ACKNOWLEDGE")
    assert not book.rule_applies(ack, channel="HOTLINE_12345", started=date(2020, 6, 1))
    assert book.rule_applies(ack, channel="HOTLINE_12345", started=date(2021, 6, 1))
    accept = book.version("SAMR-20").rule("COMPLAINT_ACCEPT_DECISION")
    assert book.rule_applies(accept, channel="HOTLINE_12345", started=date(2020, 6, 1))


def test_a_new_version_is_a_data_change(tmp_path: Path) -> None:
    raw = raw_policy()
    newer = copy.deepcopy(raw["versions"][1])
    newer.update(id="SAMR-999", effective_from="2027-01-01")
    newer["rules"] = [r for r in newer["rules"] if r["id"] != "ODR_NEGOTIATION"]
    raw["versions"][1]["effective_to"] = "2026-12-31"
    raw["versions"].append(newer)
    path = tmp_path / "policy.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True))
    ctx = Context.load(policy_path=path, calendar_dir=None)
    assert ctx.policy.version_at(date(2026, 12, 31)).id == "SAMR-121"
    assert ctx.policy.version_at(date(2027, 1, 1)).id == "SAMR-999"
    assert not any(
        r.id == "ODR_NEGOTIATION"
        for r, _ in ctx.policy.actions("SAMR-999", CaseType.COMPLAINT, "suspended:ODR_NEGOTIATION")
    )


def test_versions_must_join_without_gap_or_overlap() -> None:
    raw = raw_policy()
    raw["versions"][0]["effective_to"] = "2026-04-10"
    with pytest.raises(PolicyError, match="must end"):
        PolicyBook.from_dict(raw)
    raw["versions"][0].pop("effective_to")
    with pytest.raises(PolicyError, match="must end"):
        PolicyBook.from_dict(raw)


def test_a_rule_citing_an_unknown_instrument_is_refused() -> None:
    raw = raw_policy()
    raw["versions"][1]["rules"][0]["source"]["instrument"] = "ORDER-404"
    with pytest.raises(PolicyError, match="unknown instrument 'ORDER-404'"):
        PolicyBook.from_dict(raw)


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
    twin = copy.deepcopy(raw["versions"][1])
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
            rows[(cells[0], cells[6])] = cells
    book = PolicyBook.load()
    for version in book.versions:
        for rule in version.rules:
            key = (rule.id, version.id)
            assert key in rows, f"{rule.id} ({version.id}) missing from docs/policy.md"
            _, case, limit, unit, _, _, ver = rows[key]
            assert (case, limit, unit, ver) == (
                rule.case_type.value,
                _limit(rule),
                rule.unit.value,
                version.id,
            ), rule.id


def test_packaged_calendar_directory_loads() -> None:
    ctx = Context.load()
    assert ctx.calendar.knows_year(2026)
