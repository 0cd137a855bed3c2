"""The simulation: arrivals hour by hour, case stories merged in time order, clock ticks.

Memory is bounded by the open cases, not by the length of the run: arrivals are drawn one
simulated hour at a time, each case's story is written at its birth (its expected alerts are
computed right then and handed to the sink), its remaining sends wait in a heap, and the case
is forgotten once its last send leaves. Iterating a :class:`Simulation` yields
:class:`~devtools.simulator.model.Send` and :class:`~devtools.simulator.model.Tick` items in the
order they must be published: every send at or before a tick's instant comes before it.
"""

from __future__ import annotations

import heapq
import math
import random
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import date, datetime, timedelta

from devtools.simulator import enforcement
from devtools.simulator.backlog import carried_over
from devtools.simulator.behaviour import BEHAVIOURS
from devtools.simulator.campaigns import plan_campaign
from devtools.simulator.config import SimConfig
from devtools.simulator.malformed import MalformedFactory
from devtools.simulator.model import ExpectedAlert, Send, SimItem, Tick
from devtools.simulator.oracle import CaseOracle
from devtools.simulator.outcome import ExpectedOutcome
from devtools.simulator.platforms import LINES, Profile, SimPlatform
from devtools.simulator.rule_changes import injected_refunds, insured_share
from devtools.simulator.scripts import (
    VIOLATION_CYCLE,
    CaseScript,
    complaint,
    rectification,
    refund,
)
from devtools.simulator.workcal import SHANGHAI, is_working, local_day
from schemas.models import Category, Channel
from streams.codec import EventCodec

HOUR = timedelta(hours=1)
_DIURNAL_RAW = (
    0.2,
    0.15,
    0.1,
    0.1,
    0.1,
    0.2,
    0.4,
    0.8,
    1.2,
    1.5,
    1.6,
    1.6,
    1.4,
    1.4,
    1.5,
    1.5,
    1.4,
    1.3,
    1.3,
    1.4,
    1.4,
    1.2,
    0.8,
    0.4,
)
DIURNAL = tuple(w * 24 / sum(_DIURNAL_RAW) for w in _DIURNAL_RAW)
"""Share of a day's complaints per Beijing hour (hotlines are busiest in office hours)."""
FINDINGS_PER_CHECK = 5.0
RAMP_WEEKS = 4
FAMILY = {"C": "complaint", "R": "refund", "X": "rectification", "Z": "malformed"}

Birth = tuple[datetime, str, SimPlatform, Category | None]
"""(instant, what is born: complaint / refund / finding / malformed, platform, category)."""


def poisson(rng: random.Random, lam: float) -> int:
    if lam <= 0:
        return 0
    if lam > 30:  # normal approximation: exact enough for volumes, and O(1)
        return max(0, round(rng.gauss(lam, math.sqrt(lam))))
    limit, k, p = math.exp(-lam), 0, rng.random()
    while p > limit:
        k += 1
        p *= rng.random()
    return k


def spot_check_days(cfg: SimConfig) -> set[date]:
    """Monthly double-random cloud spot checks: the first working day on or after the 20th."""
    out: set[date] = set()
    month = cfg.start.replace(day=1)
    while month <= cfg.end_date:
        day = month.replace(day=20)
        while not is_working(day):
            day += timedelta(days=1)
        if cfg.start <= day < cfg.end_date:
            out.add(day)
        month = (month + timedelta(days=32)).replace(day=1)
    return out


class Simulation:
    """One seeded run. Iterate it once; ``outcome`` is complete when iteration ends."""

    def __init__(
        self,
        cfg: SimConfig,
        sink: Callable[[ExpectedAlert], None] | None = None,
        codec: EventCodec | None = None,
    ) -> None:
        self.cfg = cfg
        self.codec = codec or EventCodec()
        self.outcome = ExpectedOutcome(cfg, sink or (lambda _a: None))
        self.finished = False
        self._started = False
        self._arrivals = random.Random(f"{cfg.seed}/arrivals")
        self._serial: Counter[str] = Counter()
        self._nth: Counter[tuple[str, str]] = Counter()
        self._heap: list[tuple[datetime, int, Send]] = []
        self._seq = 0
        self._checks = spot_check_days(cfg)
        roster = cfg.roster
        spoof_as = next(
            (p.platform_id for p in roster if p.profile is not Profile.MALFORMED), "someone-else"
        )
        self._malformed = MalformedFactory(self.codec, spoof_as)
        self.enforcement = enforcement.plan(cfg)
        """The month's interview, order to correct and penalty (issue 18)."""
        self.campaign = plan_campaign(cfg, min(self._checks, default=None))
        """The month's spot-check campaign (:mod:`devtools.simulator.campaigns`), if any."""

    # ---- the run ------------------------------------------------------------------------
    def __iter__(self) -> Iterator[SimItem]:
        if self._started:
            raise RuntimeError("a Simulation runs once; make a new one to run again")
        self._started = True
        return self._run()

    def _run(self) -> Iterator[SimItem]:
        cfg = self.cfg
        for platform in cfg.roster:
            for script in carried_over(cfg, platform, self._new_script, self.codec):
                self._admit(script)
        for s in (*self.enforcement.sends, *(self.campaign.sends if self.campaign else ())):
            self.outcome.send(s)
            self._seq += 1
            heapq.heappush(self._heap, (s.at, self._seq, s))
        for script in injected_refunds(cfg):  # issue 18: the 未诉先办 refund pattern
            self._admit(script)
        next_hour = cfg.start_at
        for tick in cfg.grid:
            while next_hour <= tick and next_hour < cfg.end_at:
                for birth in self._births(next_hour):
                    self._born(birth)
                next_hour += HOUR
            while self._heap and self._heap[0][0] <= tick:
                yield heapq.heappop(self._heap)[2]
            yield Tick(tick)
            self.outcome.interviews.release(tick)
            self.outcome.signals.release(tick)
            self.outcome.early.release(tick)
        self.outcome.interviews.release(None)
        self._heap.clear()
        self.finished = True

    # ---- cases --------------------------------------------------------------------------
    def _new_script(self, platform: SimPlatform, letter: str) -> CaseScript:
        self._serial[letter] += 1
        case_id = f"HD-{letter}-{self._serial[letter]:07d}"
        return CaseScript(platform, case_id, random.Random(f"{self.cfg.seed}/{case_id}"))

    def _admit(self, script: CaseScript) -> None:
        """Predict the case's alerts now, then queue its sends (those inside the window)."""
        end = self.cfg.end_at
        sends = sorted((s for s in script.sends if s.at <= end), key=lambda s: s.at)
        family = FAMILY[script.case_id.split("-")[1]]
        oracle = CaseOracle(self.cfg.grid, self.outcome.alert)
        if family != "malformed":
            for s in sends:
                if s.routed and s.event is not None:
                    oracle.feed(s.event, s.at)
            oracle.finish()
        self.outcome.case(family, script.platform.platform_id, sends, oracle)
        for s in sends:
            self.outcome.send(s)
            self._seq += 1
            heapq.heappush(self._heap, (s.at, self._seq, s))

    def _births(self, hour: datetime) -> list[Birth]:
        cfg, rng = self.cfg, self._arrivals
        local = hour.astimezone(SHANGHAI)
        day = local.date()
        rest = not is_working(day)
        # The article's rising trend, as a four-week ramp: long runs stay stationary after it.
        week = min(RAMP_WEEKS, (hour - cfg.start_at).days // 7)
        out: list[Birth] = []

        def at_random(span: timedelta) -> datetime:
            return hour + timedelta(seconds=rng.uniform(0, span.total_seconds()))

        for p in cfg.roster:
            traits, b = LINES[p.line], BEHAVIOURS[p.profile]
            volume = cfg.scale * DIURNAL[local.hour] * (b.peak_volume if rest else 1.0)
            for category, weight in traits.categories:
                growth = (1 + traits.weekly_growth.get(category, 0.0)) ** week
                lam = traits.complaints_per_day / 24 * weight * growth * volume
                out += [
                    (at_random(HOUR), "complaint", p, category) for _ in range(poisson(rng, lam))
                ]
            lam = traits.refunds_per_day / 24 * volume
            out += [(at_random(HOUR), "refund", p, None) for _ in range(poisson(rng, lam))]
            if traits.spot_checks and day in self._checks and local.hour == 10:
                n = max(1, poisson(rng, FINDINGS_PER_CHECK * cfg.scale))
                out += [(at_random(5 * HOUR), "finding", p, None) for _ in range(n)]
            if p.profile is Profile.MALFORMED and local.hour == 0:
                n = int(cfg.malformed_per_day) + (rng.random() < cfg.malformed_per_day % 1)
                out += [(at_random(24 * HOUR), "malformed", p, None) for _ in range(n)]
        out.sort(key=lambda birth: birth[0])
        return out

    def _born(self, birth: Birth) -> None:
        at, what, p, category = birth
        b = BEHAVIOURS[p.profile]
        if what == "malformed":
            s = self._new_script(p, "Z")
            k = self._count(p, "malformed")
            s.sends.append(self._malformed.build(k, s.rng, p.platform_id, s.case_id, at))
        elif what == "refund":
            s = self._new_script(p, "R")
            refund(s, b, at, self._refund_violation(p, s.rng))
        elif what == "finding":
            s = self._new_script(p, "X")
            rectification(s, b, at, f"SC-{local_day(at):%Y%m}")
        else:
            assert category is not None
            s = self._new_script(p, "C")
            self._complaint(s, p, at, category)
        self._admit(s)

    def _complaint(self, s: CaseScript, p: SimPlatform, at: datetime, category: Category) -> None:
        traits, b = LINES[p.line], BEHAVIOURS[p.profile]
        channels, weights = zip(*traits.channels, strict=True)
        channel: Channel = s.rng.choices(channels, weights)[0]
        app = channel is Channel.PLATFORM_APP
        # The first of each kind is certain, so every violation occurs in a short run too.
        first_app = app and self._count(p, "app") == 0
        first_hotline = not app and self._count(p, "hotline") == 0
        out_of_order = (
            not app and b.illegal_share > 0 and (first_hotline or s.rng.random() < b.illegal_share)
        )
        unknown = (
            app
            and b.unknown_version_share > 0
            and (first_app or s.rng.random() < b.unknown_version_share)
        )
        complaint(
            s,
            b,
            at,
            channel=channel,
            category=category,
            insured_share=insured_share(self.cfg, p.platform_id, at, traits.insured_share),
            codec=self.codec,
            out_of_order=out_of_order,
            unknown_version=unknown,
        )

    def _refund_violation(self, p: SimPlatform, rng: random.Random) -> str | None:
        b = BEHAVIOURS[p.profile]
        if not b.violation_share:
            return None
        k = self._count(p, "refund")
        if k < len(VIOLATION_CYCLE):
            return VIOLATION_CYCLE[k]
        if rng.random() < b.violation_share:
            return VIOLATION_CYCLE[self._count(p, "violation") % len(VIOLATION_CYCLE)]
        return None

    def _count(self, p: SimPlatform, what: str) -> int:
        """How many ``what`` the platform had before this one (then counts this one)."""
        key = (p.platform_id, what)
        n = self._nth[key]
        self._nth[key] = n + 1
        return n
