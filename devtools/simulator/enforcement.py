"""The month's enforcement (issue 18): one interview (约谈) held and its outcome, one order to
correct (责令改正) submitted and verified in time, one penalty (行政处罚) — and the record the
worker must then show for the platform.

The acts concern a fixed platform, the roster's first (instant delivery, the 保价 story of
the article); the interview is held on the bureau's initiative, so every
``InterviewRecommended`` the regulator raises for that platform stays open in its record.
Times are fractions of the window, so a short run holds every act too; the order is
verified at 20 % of its time, before any warning (the simulator predicts no alert from it).
The prediction is written from the acts themselves, not from ``agents.core``.
"""

from __future__ import annotations

import asyncio
import random
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import orjson

from devtools.simulator.config import SimConfig
from devtools.simulator.model import Send
from devtools.simulator.scripts import CaseScript
from schemas.models import (
    Attendee,
    AttendeeSide,
    CorrectionOrdered,
    CorrectionSubmitted,
    CorrectionVerified,
    InterviewHeld,
    InterviewOutcome,
    InterviewOutcomeRecorded,
    LegalBasis,
    PenaltyDecided,
    Verdict,
)

__all__ = ["COUNTED", "MonthEnforcement", "differences", "plan", "wait_for_record"]

UNIT = "hd-wljg"
"""The bureau unit (ce_source ``/bureau/<unit>``) that sends the acts: 网络交易监管科."""
OFFICE = "HD-WLJG"
PENALTY_FEN = 5_000_000
"""Fifty thousand yuan, in fen."""
COUNTED = (
    "interviews_recommended_open",
    "interviews_held",
    "interviews_concluded",
    "orders_open",
    "orders_closed",
    "orders_overdue",
    "penalties",
    "penalty_total_fen",
    "refused_events",
)
"""The record's counters the demo compares with the worker's."""


@dataclass
class MonthEnforcement:
    platform_id: str
    sends: list[Send] = field(default_factory=list)
    interview_id: str = ""
    order_id: str = ""
    penalty_id: str = ""

    def expected(self, recommendations: int) -> dict[str, int]:
        """The record's counters once every act is in, with ``recommendations`` interview
        recommendations raised for the platform (none of them answered)."""
        return {
            "interviews_recommended_open": recommendations,
            "interviews_held": 1,
            "interviews_concluded": 1,
            "orders_open": 0,
            "orders_closed": 1,
            "orders_overdue": 0,
            "penalties": 1,
            "penalty_total_fen": PENALTY_FEN,
            "refused_events": 0,
        }


def _at(cfg: SimConfig, share: float) -> datetime:
    span = cfg.end_at - cfg.start_at
    at = cfg.start_at + span * share
    return at.replace(second=0, microsecond=0)


def plan(cfg: SimConfig) -> MonthEnforcement:
    """The acts of the run (deterministic for the seed) as bureau sends."""
    platform = cfg.roster[0]
    month = f"{cfg.start:%Y%m}"
    out = MonthEnforcement(
        platform.platform_id,
        interview_id=f"HD-YT-{month}-01",
        order_id=f"HD-ZL-{month}-01",
        penalty_id=f"HD-CF-{month}-01",
    )

    def script(case_id: str) -> CaseScript:
        return CaseScript(platform, case_id, random.Random(f"{cfg.seed}/{case_id}"))

    held_at, ordered_at, verified_at = _at(cfg, 0.2), _at(cfg, 0.3), _at(cfg, 0.5)
    interview = script(out.interview_id)
    interview.by_bureau(
        held_at, UNIT, InterviewHeld,
        held_at=held_at, office=OFFICE,
        attendees=[
            Attendee(side=AttendeeSide.BUREAU, name="网络交易监管科", role="科长"),
            Attendee(side=AttendeeSide.PLATFORM, name=platform.name, role="合规负责人"),
        ],
        commitments=["上线保价提示并默认勾选高价值物品保价", "每周报送货损投诉处理台账"],
    )  # fmt: skip
    interview.by_bureau(
        _at(cfg, 0.25), UNIT, InterviewOutcomeRecorded,
        outcome=InterviewOutcome.ESCALATED_TO_ORDER, order_id=out.order_id,
    )  # fmt: skip
    order = script(out.order_id)
    deadline = ordered_at + (verified_at - ordered_at) * 5  # verified at 20 % of its time
    order.by_bureau(
        ordered_at, UNIT, CorrectionOrdered,
        legal_basis=LegalBasis(instrument="ECL", article="第八十条"), deadline=deadline,
        required_actions=["整改同城配送保价规则", "处理积压货损投诉"],
        ordering_unit="网络交易监管科", office=OFFICE, interview_id=out.interview_id,
    )  # fmt: skip
    order.by_bureau(_at(cfg, 0.4), UNIT, CorrectionSubmitted, evidence_refs=["rule-v2.pdf"])
    order.by_bureau(verified_at, UNIT, CorrectionVerified, verdict=Verdict.PASSED,
                    verified_by=OFFICE)  # fmt: skip
    penalty = script(out.penalty_id)
    decided_at = _at(cfg, 0.6)
    penalty.by_bureau(
        decided_at, UNIT, PenaltyDecided,
        decision_no=f"京海市监处罚〔{cfg.start:%Y}〕{cfg.seed:03d}号",
        legal_basis=LegalBasis(instrument="SAIC-ORDER-73", article="第九条"),
        amount_fen=PENALTY_FEN, decided_at=decided_at, deciding_unit="海淀区市场监督管理局",
        order_id=out.order_id,
    )  # fmt: skip
    out.sends = [*interview.sends, *order.sends, *penalty.sends]
    return out


def differences(expected: Mapping[str, int], actual: Mapping[str, Any] | None) -> list[str]:
    if actual is None:
        return ["the worker shows no enforcement record"]
    return [
        f"enforcement {name}: expected {expected[name]}, system {actual.get(name)}"
        for name in COUNTED
        if actual.get(name) != expected[name]
    ]


def _get(url: str, token: str | None) -> dict[str, Any] | None:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    try:
        with urllib.request.urlopen(
            urllib.request.Request(url, headers=headers), timeout=10
        ) as resp:
            body: dict[str, Any] = orjson.loads(resp.read())
    except urllib.error.HTTPError as exc:
        if exc.code == 404:
            return None
        raise
    return body


async def wait_for_record(
    base_url: str,
    platform_id: str,
    expected: Mapping[str, int],
    timeout: float,
    token: str | None = None,
    poll: float = 0.5,
) -> tuple[dict[str, Any] | None, list[str]]:
    """Poll ``GET /platforms/<id>/enforcement`` until it shows ``expected`` (or time runs
    out); the last reading and its differences (empty on a match)."""
    url = f"{base_url.rstrip('/')}/platforms/{platform_id}/enforcement"
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        try:
            actual = await asyncio.to_thread(_get, url, token)
            diff = differences(expected, actual)
        except (urllib.error.URLError, OSError, ValueError) as exc:
            actual, diff = None, [f"cannot read the worker's enforcement record: {exc}"]
        if not diff or loop.time() >= deadline:
            return actual, diff
        await asyncio.sleep(poll)
