"""Issue 18 in the simulation: a 保价 rule change mid-run, and the 未诉先办 refund pattern.

* **The rule change.** The first instant-delivery platform changes its 保价 (insured value)
  rule in answer to the local office's advice, effective 00:00 Beijing time of the run's middle
  day (:func:`rule_change`); from then on its complaints are insured with
  :data:`INSURED_AFTER` instead of its line's share (:func:`insured_share`). The bureau records
  it on the governance topic at setup (``devtools/simulator/publish.py``). The prediction of its
  before/after figures is :func:`predicted_rule_effect` (the simulator's own complaint points,
  through the one definition in ``agents/core/rule_effect.py``); :func:`check_rule_effect`
  compares it with the worker's ``/platforms/{id}/rules``.
* **The refund pattern.** In the first full ISO week that starts at least a week into the run,
  the first second-hand platform rejects a burst of refunds no complaint is linked to
  (:func:`injected_refunds`), reviewed two hours after the request: the week's rejected share
  jumps well past the thresholds of ``agents/policy/signals.yaml`` (``refund_rejections``) and
  falls back the week after, so REFUND_REJECTIONS_RISING fires once for it.
* **The prediction** (:class:`EarlySignalFold`) re-states the rule of
  ``agents/core/early_signal.py`` over every routed refund send of the run (the base traffic
  included): a review counts for its week unless a tick at or after the week's end came before
  it; a week is judged at the first tick at or after its end (Monday 00:00 Beijing).
"""

from __future__ import annotations

import heapq
import math
import random
from collections.abc import Callable, Iterable
from datetime import date, datetime, timedelta
from typing import Any

from agents.core.rule_effect import DEFAULT_WINDOW_DAYS, ComplaintPoint, rule_effect
from agents.scorecard import SignalsPolicy
from devtools.simulator.clock import TickGrid
from devtools.simulator.config import SimConfig
from devtools.simulator.model import ExpectedAlert, Send
from devtools.simulator.platforms import LINES, Line, Profile, SimPlatform
from devtools.simulator.scripts import CaseScript
from devtools.simulator.workcal import SHANGHAI, local_day
from schemas.models import (
    Category,
    ComplaintFiled,
    PlatformRuleChanged,
    RefundRequested,
    RefundReviewed,
    ReviewDecision,
)

__all__ = [
    "INSURED_AFTER",
    "EarlySignalFold",
    "FilingPoints",
    "check_rule_effect",
    "compare_rule_effect",
    "injected_refunds",
    "insured_share",
    "predicted_rule_effect",
    "rule_change",
]

INSURED_AFTER = 0.7
"""The insured share of the platform's delivery complaints once the new rule applies."""
RULE_ID = "insured-delivery"
_POLICY = SignalsPolicy.load().refund_rejections


def _day_start(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=SHANGHAI)


def _platform(cfg: SimConfig, line: Line) -> SimPlatform | None:
    return next(
        (p for p in cfg.roster if p.line is line and p.profile is not Profile.MALFORMED), None
    )


# ---- the rule change -------------------------------------------------------------------------
def rule_change(cfg: SimConfig) -> PlatformRuleChanged | None:
    p = _platform(cfg, Line.INSTANT_DELIVERY)
    if p is None or cfg.days < 4:
        return None
    effective = _day_start(cfg.start + timedelta(days=cfg.days // 2))
    return PlatformRuleChanged(
        event_id=f"rule-{p.platform_id}-{RULE_ID}-{effective.date():%Y%m%d}",
        case_id="",
        platform_id=p.platform_id,
        occurred_at=effective - timedelta(hours=14),  # recorded the day before, 10:00
        rule_id=RULE_ID,
        title="同城即时配送保价规则 (insured-value rule for instant delivery)",
        old_text="保价为可选服务，未保价物品损坏按公平原则赔付。",
        new_text="下单点选运送服务时弹窗说明保价的权、责、利，引导消费者自愿保价。",
        effective_from=effective,
        categories=[Category.DELIVERY_GOODS_DAMAGE],
        advice_ref="东升镇市场监管所建议：阐释服务规则，明确保价说明",
        recorded_by="HD-DS",
    )


def insured_share(cfg: SimConfig, platform_id: str, at: datetime, base: float) -> float:
    """The insured share of a complaint the platform receives at ``at``."""
    change = _CHANGES.get(cfg)
    if change is None:
        change = _CHANGES[cfg] = (rule_change(cfg),)
    rc = change[0]
    if rc is None or rc.platform_id != platform_id or at < rc.effective_from:
        return base
    return INSURED_AFTER


_CHANGES: dict[SimConfig, tuple[PlatformRuleChanged | None]] = {}


def predicted_rule_effect(cfg: SimConfig, sends: Iterable[Send], as_of: date) -> dict[str, Any]:
    """The rule change's figures the worker must show, from the run's routed filings."""
    rc = rule_change(cfg)
    if rc is None:
        return {}
    points = [_point(e) for s in sends if s.routed and isinstance((e := s.event), ComplaintFiled)]
    return rule_effect(rc, points, as_of).to_json()


def _point(e: ComplaintFiled) -> ComplaintPoint:
    return ComplaintPoint.of(
        e.case_id, e.platform_id, e.category, e.intake_at, e.insured, e.declared_value_fen
    )


class FilingPoints:
    """The routed ComplaintFiled of the rule's platform inside the rule's two windows (what
    :func:`predicted_rule_effect` needs), kept as small points as the run admits its cases:
    memory bounded by the windows, not by the length of the run."""

    def __init__(self, cfg: SimConfig) -> None:
        rc = rule_change(cfg)
        self.cfg = cfg
        self.change = rc
        self.platform = None if rc is None else rc.platform_id
        self.points: list[ComplaintPoint] = []
        if rc is not None:
            effective = rc.effective_from.astimezone(SHANGHAI).date()
            self._first = effective - timedelta(days=DEFAULT_WINDOW_DAYS)
            self._last = effective + timedelta(days=DEFAULT_WINDOW_DAYS - 1)

    def add(self, sends: Iterable[Send]) -> None:
        for s in sends:
            if s.routed and isinstance(e := s.event, ComplaintFiled):
                if e.platform_id == self.platform:
                    point = _point(e)
                    if self._first <= point.intake_day <= self._last:
                        self.points.append(point)

    @property
    def as_of(self) -> date:
        """The worker's day at the end of the run: the Beijing day of the last tick."""
        grid = self.cfg.grid
        return local_day(grid.start + grid.step * (grid.count - 1))

    def predicted(self) -> dict[str, Any]:
        if self.change is None:
            return {}
        return rule_effect(self.change, self.points, self.as_of).to_json()


def compare_rule_effect(predicted: dict[str, Any], shown: dict[str, Any] | None) -> list[str]:
    """The fields in which the worker's rule change differs from the prediction."""
    if not predicted:
        return []
    if shown is None:
        return [f"rule {predicted['rule_id']}: not shown by the worker"]
    keys = ("effective_day", "categories", "before", "after")
    return [f"rule {predicted['rule_id']}: {k} {shown.get(k)!r} != predicted {predicted[k]!r}"
            for k in keys if shown.get(k) != predicted[k]]  # fmt: skip


async def check_rule_effect(api: str, token: str, predicted: dict[str, Any], as_of: date,
                            timeout: float = 60.0) -> list[str]:  # fmt: skip
    """Poll the worker's ``/platforms/{id}/rules`` until it shows the predicted figures."""
    import asyncio
    import time

    import httpx

    if not predicted:
        return []
    deadline = time.monotonic() + timeout
    diff: list[str] = ["not asked yet"]
    auth = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=api, timeout=10, headers=auth) as client:
        while True:
            shown = None
            try:
                r = await client.get(f"/platforms/{predicted['platform_id']}/rules",
                                     params={"at": as_of.isoformat()})  # fmt: skip
                if r.status_code == 200:
                    shown = next((x for x in r.json()["rules"]
                                  if x["event_id"] == predicted["event_id"]), None)  # fmt: skip
            except httpx.HTTPError:
                pass
            diff = compare_rule_effect(predicted, shown)
            if not diff or time.monotonic() > deadline:
                return diff
            await asyncio.sleep(1.0)


# ---- the refund pattern ----------------------------------------------------------------------
def signal_week(cfg: SimConfig) -> date | None:
    """The Monday of the week the burst falls in (None: the run is too short)."""
    first = cfg.start + timedelta(days=7)
    monday = first + timedelta(days=(7 - first.weekday()) % 7)
    closes = monday + timedelta(days=7)
    return monday if closes < cfg.end_date else None


def injected_refunds(cfg: SimConfig) -> list[CaseScript]:
    p = _platform(cfg, Line.SECONDHAND)
    monday = signal_week(cfg)
    if p is None or monday is None:
        return []
    base_weekly = LINES[p.line].refunds_per_day * cfg.scale * 7
    n = max(_POLICY.min_reviews + 2, math.ceil(1.5 * base_weekly))
    rng = random.Random(f"{cfg.seed}/early-signal")
    out = []
    for i in range(n):
        case_id = f"HD-R-E{i:06d}"
        s = CaseScript(p, case_id, random.Random(f"{cfg.seed}/{case_id}"))
        day = monday + timedelta(days=i % 5)  # Monday to Friday
        at = _day_start(day) + timedelta(hours=9 + rng.uniform(0, 8))
        fen = rng.randint(50, 3000) * 100
        s.by_platform(at, RefundRequested, order_ref=f"o-e{i:06d}", amount_fen=fen,
                      reason="估值分歧 (valuation)")  # fmt: skip
        s.by_platform(at + timedelta(hours=2), RefundReviewed, decision=ReviewDecision.REJECTED,
                      approved_amount_fen=0, reason="与检测报告不符")  # fmt: skip
        out.append(s)
    return out


class EarlySignalFold:
    """Predicts REFUND_REJECTIONS_RISING from the run's routed refund sends, tick by tick."""

    def __init__(self, grid: TickGrid, sink: Callable[[ExpectedAlert], None]) -> None:
        self.grid = grid
        self.sink = sink
        self._due: list[tuple[datetime, int, Send]] = []
        self._seq = 0
        self._cases: dict[str, list[Any]] = {}  # case → [platform, linked, counted]
        self._weeks: dict[tuple[str, date], list[int]] = {}
        self._last_tick: datetime | None = None
        self._judged: date | None = None
        self._raised: set[tuple[str, date]] = set()

    def add(self, sends: Iterable[Send]) -> None:
        for s in sends:
            if s.routed and isinstance(s.event, RefundRequested | RefundReviewed):
                self._seq += 1
                heapq.heappush(self._due, (s.at, self._seq, s))

    def release(self, tick: datetime) -> None:
        while self._due and self._due[0][0] <= tick:
            self._apply(heapq.heappop(self._due)[2])
        self._last_tick = tick
        last_closed = _monday(tick) - timedelta(days=7)
        if self._judged is not None and self._judged >= last_closed:
            return
        for (platform, week), _counts in sorted(self._weeks.items()):
            if week > last_closed or (self._judged is not None and week <= self._judged):
                continue
            if self._fires(platform, week) and (platform, week) not in self._raised:
                self._raised.add((platform, week))
                self._emit(platform, tick)
        self._judged = last_closed

    def _emit(self, platform: str, tick: datetime) -> None:
        r = _POLICY
        alert = ExpectedAlert("RiskSignalRaised", r.rule_id, "SIGNAL", platform, platform,
                              r.level, r.severity, None, tick)  # fmt: skip
        self.sink(alert)

    def _fires(self, platform: str, week: date) -> bool:
        reviewed, rejected = self._weeks.get((platform, week), [0, 0])
        before_r, before_x = self._weeks.get((platform, week - timedelta(days=7)), [0, 0])
        if reviewed < _POLICY.min_reviews:
            return False
        share, before = rejected / reviewed, (before_x / before_r if before_r else 0.0)
        return share >= _POLICY.min_share and share - before >= _POLICY.min_rise - 1e-9

    def _apply(self, s: Send) -> None:
        e = s.event
        if isinstance(e, RefundRequested):
            entry = self._cases.get(e.case_id)
            linked = e.complaint_case_id is not None
            if entry is None:
                self._cases[e.case_id] = [e.platform_id, linked, None]
            else:
                entry[1] = entry[1] or linked
            return
        assert isinstance(e, RefundReviewed)
        entry = self._cases.get(e.case_id)
        if entry is None or entry[1] or entry[2] is not None:
            return
        week = _monday(e.occurred_at)
        closes = _day_start(week + timedelta(days=7))
        if self._last_tick is not None and self._last_tick >= closes:
            return  # late: its partition had passed the week's end
        counts = self._weeks.setdefault((entry[0], week), [0, 0])
        counts[0] += 1
        counts[1] += 1 if e.decision is ReviewDecision.REJECTED else 0
        entry[2] = week


def _monday(instant: datetime) -> date:
    day = local_day(instant)
    return day - timedelta(days=day.weekday())


async def publish_rule_change(settings: Any, cfg: SimConfig) -> None:
    """Record the run's rule change on the governance topic (once per prefix)."""
    from streams.rule_log import publish_rule_changes, read_rule_changes

    rc = rule_change(cfg)
    if rc is None:
        return
    if any(c.event_id == rc.event_id for c in await read_rule_changes(settings)):
        return
    await publish_rule_changes(settings, [rc], source="/bureau/hd-ds")
