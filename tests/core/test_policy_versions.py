"""Replays of complaints from both sides of Order 121's start: the right version, cited alerts.

A 2026-03 complaint is on SAMR-20 (Order 20), a 2026-05 one on SAMR-121 (Order 121); every alert
cites the instrument, article and dates of its rule's source, flags provisional values, and
keeps them through the v2 wire format.
"""

from __future__ import annotations

from datetime import timedelta

from agents.core.context import Context
from schemas.models import AlertEvent, Channel, RefundRequested, SlaBreached, SlaClockStarted
from streams.codec import EventCodec
from tests.core.builders import common, filed, fold, forwarded, requested, sh, tick


def _replay(case: str, at, ctx: Context) -> tuple[str, list[AlertEvent]]:
    """Filed and forwarded at ``at``, then nothing for 70 days: every clock breaches."""
    events = [filed(case, at), forwarded(case, at + timedelta(hours=1))]
    events += [tick(at + timedelta(days=d)) for d in range(1, 71)]
    state, out = fold(events, ctx)
    assert state is not None
    return state.policy_version, [e for e in out if isinstance(e, AlertEvent)]


def _breach(alerts: list[AlertEvent], rule_id: str) -> AlertEvent:
    found = [a for a in alerts if isinstance(a, SlaBreached) and a.rule_id == rule_id]
    assert len(found) == 1, (rule_id, [a.rule_id for a in alerts])
    return found[0]


def test_a_march_complaint_replays_under_order_20(ctx: Context) -> None:
    version, alerts = _replay("c-2026-03", sh(2026, 3, 2, 9), ctx)
    assert version == "SAMR-20"
    assert {a.policy_version for a in alerts} == {"SAMR-20"}
    mediation = _breach(alerts, "COMPLAINT_MEDIATION")
    assert (
        mediation.source_instrument
        == "市场监督管理投诉举报处理暂行办法 (国家市场监督管理总局令第20号)"
    )
    assert mediation.source_article == "Art. 20–21"
    assert (mediation.source_promulgated, mediation.source_effective) == (
        "2019-11-30",
        "2020-01-01",
    )
    assert mediation.source_repealed == "2026-04-15"
    assert mediation.source_kind == "regulation" and mediation.provisional is False
    assert (
        "暂定" not in mediation.detail
        and "依据/source: 市场监督管理投诉举报处理暂行办法" in mediation.detail
    )
    statute = _breach(alerts, "CPL_HANDLE_NOTIFY")
    assert statute.source_instrument is not None and "消费者权益保护法" in statute.source_instrument
    assert (statute.source_article, statute.source_kind) == ("Art. 46", "statute")
    ack = _breach(alerts, "COMPLAINT_ACKNOWLEDGE")
    assert ack.source_kind == "practice"


def test_a_may_complaint_replays_under_order_121_with_provisional_flags(ctx: Context) -> None:
    version, alerts = _replay("c-2026-05", sh(2026, 5, 11, 9), ctx)
    assert version == "SAMR-121"
    assert {a.policy_version for a in alerts} == {"SAMR-121"}
    mediation = _breach(alerts, "COMPLAINT_MEDIATION")
    assert (
        mediation.source_instrument
        == "市场监督管理投诉举报处理办法 (国家市场监督管理总局令第121号)"
    )
    assert mediation.source_article == "Art. 23(1)(五)"
    assert (mediation.source_promulgated, mediation.source_effective) == (
        "2025-12-30",
        "2026-04-15",
    )
    assert mediation.source_repealed is None
    assert mediation.provisional is True and mediation.detail.endswith("暂定/provisional")
    # 60 plain days from the day after forwarding (05-12 … 07-10, a Friday)
    assert mediation.due_at == sh(2026, 7, 11)
    statute = _breach(alerts, "CPL_HANDLE_NOTIFY")
    assert statute.provisional is False  # the Consumer Protection Law is confirmed
    codec = EventCodec()  # the citation survives the v2 wire format
    for alert in (mediation, statute):
        _key, value, headers = codec.encode(alert, "/bureau/sla")
        assert codec.decode(value, headers) == alert


def test_platform_app_complaints_get_no_12345_clock_under_order_121(ctx: Context) -> None:
    at = sh(2026, 5, 11, 9)
    _state, out = fold([filed("c-app", at, channel=Channel.PLATFORM_APP)], ctx)
    started = {e.sla_id for e in out if isinstance(e, SlaClockStarted)}
    assert started == set()  # 12345 practice is for hotline work orders only
    _state, out = fold([filed("c-app-old", sh(2026, 3, 2, 9), channel=Channel.PLATFORM_APP)], ctx)
    started = {e.sla_id for e in out if isinstance(e, SlaClockStarted)}
    assert started == {"COMPLAINT_ACKNOWLEDGE", "COMPLAINT_RESOLVE"}  # as SAMR-20 applied it


def test_a_2020_replay_does_not_apply_the_2021_practice(ctx: Context) -> None:
    _state, out = fold([filed("c-2020", sh(2020, 6, 1, 9))], ctx)
    started = {e.sla_id for e in out if isinstance(e, SlaClockStarted)}
    assert started == {"COMPLAINT_ACCEPT_DECISION", "CPL_HANDLE_NOTIFY"}


def test_order_73_clocks_time_no_reason_returns_only(ctx: Context) -> None:
    at = sh(2026, 5, 11, 9)
    damaged = requested("r-damaged", at, goods_received_at=at)
    _, out = fold([damaged], ctx)
    assert [e for e in out if isinstance(e, SlaClockStarted)] == []
    no_reason = RefundRequested(
        **common("r-no-reason", at), order_ref="o-1", amount_fen=100,
        reason="七天无理由退货", goods_received_at=at,
    )  # fmt: skip
    _, out = fold([no_reason], ctx)
    starts = {e.sla_id: e for e in out if isinstance(e, SlaClockStarted)}
    assert set(starts) == {"REFUND_REVIEW", "REFUND_PAYMENT", "REFUND_DELIBERATE_DELAY"}
    assert starts["REFUND_REVIEW"].due_at == sh(2026, 5, 27)  # 15 days from the request


def test_the_audit_report_shows_the_citation_and_the_provisional_mark(ctx: Context) -> None:
    from audit.html import _source_cell

    _, alerts = _replay("c-report", sh(2026, 5, 11, 9), ctx)
    cell = _source_cell(_breach(alerts, "COMPLAINT_MEDIATION").detail)
    assert "国家市场监督管理总局令第121号" in cell and "Art. 23(1)(五)" in cell
    assert "施行 2026-04-15" in cell and cell.endswith(
        '<b class="provisional">暂定/provisional</b>'
    )
    plain = _source_cell(_breach(alerts, "CPL_HANDLE_NOTIFY").detail)
    assert "Art. 46" in plain and "暂定" not in plain
