"""The message catalogue covers every message the pages use, and the read model folds the same
facts to the same state whatever the order between topics and however often they arrive."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

from babel.messages.pofile import read_po

from console.auth import Throttle
from console.i18n import LOCALE_DIR, translate
from console.readmodel import Applied, SqliteReadModel
from console.rules import rule_title
from schemas.models import (
    AlertAcknowledged,
    Category,
    Channel,
    ComplaintFiled,
    Level,
    Priority,
    Severity,
    SlaBreached,
    SlaClockStarted,
)

TEMPLATES = Path(__file__).resolve().parents[2] / "console" / "templates"
T0 = datetime(2026, 11, 2, tzinfo=UTC)


def _catalogue_ids() -> set[str]:
    with (LOCALE_DIR / "zh_CN" / "LC_MESSAGES" / "messages.po").open("rb") as fh:
        return {m.id for m in read_po(fh) if m.id and m.string}


def test_every_message_a_template_uses_has_a_chinese_text() -> None:
    used = set()
    for path in TEMPLATES.glob("*.html"):
        used |= set(re.findall(r'_\("([^"]+)"\)', path.read_text(encoding="utf-8")))
    missing = sorted(used - _catalogue_ids())
    assert not missing, f"not in messages.po: {missing}"
    assert translate("Today") == "工作台" and translate("Today", "en") == "Today"


def test_enum_values_and_rule_titles_are_shown_in_chinese() -> None:
    ids = _catalogue_ids()
    for enum in (Level, Category, Channel):
        assert {e.value for e in enum} <= ids, enum
    assert rule_title("COMPLAINT_ACKNOWLEDGE", "SAMR-20") == "平台签收工单并联系消费者"
    assert "Platform signs" in rule_title("COMPLAINT_ACKNOWLEDGE", "SAMR-20", "en")


def test_every_dead_letter_reason_has_a_chinese_and_an_english_sentence() -> None:
    from schemas.models import DeadLetterReason
    from schemas.reason_texts import REASON_TEXTS, reason_text

    assert set(REASON_TEXTS) == set(DeadLetterReason)
    ids = _catalogue_ids()
    for reason in DeadLetterReason:
        en = reason_text(reason)
        assert en in ids and en != reason.value, reason
        assert translate(en, "en") == en and translate(en) != en
    assert translate(reason_text("PROCESSING_ERROR")) == "处理出错（监管局一侧的故障）"
    assert reason_text("NOT_A_REASON") == "NOT_A_REASON"
    from console.views import _reason_labels  # the platforms page's dead-letter chart

    rows = [{"reason": "PERSONAL_DATA", "n": 2}]
    assert _reason_labels(rows, "zh-CN")[0]["label"] == "含明文个人信息"
    assert _reason_labels(rows, "en") == [{**rows[0], "label": "Personal data in clear"}]


def _facts() -> list[Applied]:
    filed = ComplaintFiled(
        event_id="f1",
        case_id="C1",
        platform_id="p1",
        occurred_at=T0,
        channel=Channel.PLATFORM_APP,
        category=Category.OTHER,
        priority=Priority.NORMAL,
        claimed_amount_fen=1,
        insured=False,
        office="HD-ZGC",
        consumer_ref="c",
        intake_at=T0,
    )
    clock = SlaClockStarted(
        event_id="s1",
        case_id="C1",
        platform_id="p1",
        occurred_at=T0,
        clock_id="k1",
        sla_id="COMPLAINT_ACKNOWLEDGE",
        policy_version="SAMR-20",
        started_at=T0,
        due_at=T0 + timedelta(hours=24),
    )
    breach = SlaBreached(
        event_id="a1",
        case_id="C1",
        platform_id="p1",
        occurred_at=T0 + timedelta(hours=25),
        alert_id="A1",
        rule_id="COMPLAINT_ACKNOWLEDGE",
        severity=Severity.MAJOR,
        level=Level.DEPARTMENT,
        office="HD-ZGC",
        subject="C1",
        due_at=T0 + timedelta(hours=24),
        observed_at=T0 + timedelta(hours=25),
        detail="",
        policy_version="SAMR-20",
    )
    ack = AlertAcknowledged(
        event_id="x1",
        case_id="C1",
        platform_id="p1",
        occurred_at=T0 + timedelta(hours=26),
        alert_id="A1",
        actor="zgc1",
    )
    return [
        Applied("t.cases.complaints", 0, 0, filed),
        Applied("t.sla", 0, 0, clock),
        Applied("t.alerts", 0, 0, breach),
        Applied("t.alert-actions", 0, 0, ack),
    ]


def test_fold_is_idempotent_and_independent_of_topic_interleaving() -> None:
    forward, backward, twice = SqliteReadModel(), SqliteReadModel(), SqliteReadModel()
    facts = _facts()
    forward.apply(facts, {})
    for item in reversed(facts):
        backward.apply([item], {})
    twice.apply(facts, {})
    assert twice.apply(facts, {}) == 0
    assert forward.dump() == backward.dump() == twice.dump()
    case = forward.case("C1")
    assert case is not None and case["policy_version"] == "SAMR-20"
    assert case["alerts"][0]["status"] == "CONFIRMED"
    assert forward.lag()[0]["next_offset"] == 1


def test_an_undecodable_record_is_counted_not_hidden() -> None:
    model = SqliteReadModel()
    model.apply([Applied("t.alerts", 0, 7, None)], {("t.alerts", 0): 9})
    (row,) = model.lag()
    assert (row["next_offset"], row["skipped"], row["lag"]) == (8, 1, 1)


def test_login_throttle_is_per_key_and_bounded() -> None:
    throttle = Throttle(limit=3, window=60, max_keys=2)
    for _ in range(3):
        throttle.fail("zgc1", now=0)
    assert throttle.blocked("zgc1", now=1) and not throttle.blocked("other", now=1)
    assert not throttle.blocked("zgc1", now=61)
    throttle.fail("a", now=0)
    throttle.fail("b", now=0)
    throttle.fail("c", now=0)
    assert len(throttle._fails) <= 2


def test_an_overdue_span_reads_as_overdue_not_as_a_minus_sign() -> None:
    from console.timefmt import duration

    two_days = 2 * 86_400_000
    assert duration(-two_days) == "超期2天"
    assert duration(-two_days, "en") == "overdue 2d"
    assert duration(two_days + 3_600_000) == "2天1小时"
    assert duration(90_000, "en") == "1m"


def test_every_rule_title_of_every_policy_version_reads_in_chinese() -> None:
    # the platforms page counts breaches by rule under the newest version's titles
    from agents.core.policy import PolicyBook

    book = PolicyBook.load()
    untranslated = [
        (v.id, r.id, r.title)
        for v in book.versions
        for r in v.rules
        if rule_title(r.id, v.id, "zh-CN") == r.title
    ]
    assert untranslated == []
