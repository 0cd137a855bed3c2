"""How each profile behaves: delays, settlement, suspensions and misconduct, as numbers.

Delays are in hours unless named ``_days``; a draw is uniform in ``(low, high)`` with a share
of long-tail draws in ``(high, high * tail)``, which is where most SLA breaches come from.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from devtools.simulator.platforms import Profile
from devtools.simulator.workcal import is_working, local_day


@dataclass(frozen=True)
class Delay:
    low: float
    high: float
    tail_share: float = 0.0
    tail: float = 3.0

    def draw(self, rng: random.Random, factor: float = 1.0) -> timedelta:
        if rng.random() < self.tail_share:
            hours = rng.uniform(self.high, self.high * self.tail)
        else:
            hours = rng.uniform(self.low, self.high)
        return timedelta(hours=hours * factor)


@dataclass(frozen=True)
class Behaviour:
    ack: Delay
    ack_urgent: Delay
    resolve: Delay
    review: Delay
    pay: Delay
    submit_share: tuple[float, float]
    """Share of a rectification's allowed time used before submitting (>1 = late)."""
    settle_rate: float
    odr_days: tuple[float, float]
    odr_share: float
    """Share of 12315 complaints negotiated in the ODR channel."""
    testing_days: tuple[float, float]
    violation_share: float = 0.0
    """Share of refunds breaking the three-step flow (NON_COMPLIANT)."""
    illegal_share: float = 0.0
    """Share of forwarded complaints answered out of order."""
    unknown_version_share: float = 0.0
    peak_factor: float = 1.0
    """Delay multiplier on weekends and holidays (PEAK_OVERLOADED)."""
    peak_volume: float = 1.0
    resend_share: float = 0.0


_DILIGENT = Behaviour(
    ack=Delay(0.3, 6, 0.02, 5),
    ack_urgent=Delay(0.05, 0.7, 0.03, 2.5),
    resolve=Delay(12, 96, 0.03, 2.5),
    review=Delay(6, 60, 0.02, 3),
    pay=Delay(4, 72, 0.02, 3),
    submit_share=(0.3, 0.8),
    settle_rate=0.90,
    odr_days=(2, 9),
    odr_share=0.3,
    testing_days=(1, 5),
)
BEHAVIOURS: dict[Profile, Behaviour] = {
    Profile.DILIGENT: _DILIGENT,
    Profile.SLOW: Behaviour(
        ack=Delay(6, 30, 0.25, 3),
        ack_urgent=Delay(1, 4, 0.3, 2),
        resolve=Delay(72, 200, 0.3, 1.8),
        review=Delay(48, 170, 0.3, 2),
        pay=Delay(72, 200, 0.35, 2.5),
        submit_share=(0.6, 1.35),
        settle_rate=0.78,
        odr_days=(6, 22),
        odr_share=0.4,
        testing_days=(3, 10),
    ),
    Profile.PEAK_OVERLOADED: Behaviour(
        ack=Delay(0.5, 8, 0.05, 4),
        ack_urgent=Delay(0.1, 0.8, 0.08, 2),
        resolve=Delay(24, 110, 0.08, 2),
        review=Delay(12, 72, 0.05, 3),
        pay=Delay(6, 80, 0.05, 3),
        submit_share=(0.4, 0.9),
        settle_rate=0.86,
        odr_days=(3, 12),
        odr_share=0.3,
        testing_days=(2, 6),
        peak_factor=2.5,
        peak_volume=1.6,
    ),
    Profile.NON_COMPLIANT: Behaviour(
        ack=Delay(2, 20, 0.15, 3),
        ack_urgent=Delay(0.5, 2.5, 0.2, 2),
        resolve=Delay(48, 150, 0.15, 2),
        review=Delay(24, 120, 0.15, 2),
        pay=Delay(24, 140, 0.2, 2.5),
        submit_share=(0.5, 1.1),
        settle_rate=0.80,
        odr_days=(4, 16),
        odr_share=0.35,
        testing_days=(2, 12),
        violation_share=0.3,
        illegal_share=0.08,
        unknown_version_share=0.3,
    ),
    Profile.MALFORMED: Behaviour(
        ack=Delay(1, 12, 0.1, 3),
        ack_urgent=Delay(0.3, 2, 0.1, 2),
        resolve=Delay(24, 120, 0.1, 2),
        review=Delay(12, 96, 0.1, 2),
        pay=Delay(12, 96, 0.1, 2),
        submit_share=(0.4, 1.1),
        settle_rate=0.84,
        odr_days=(3, 14),
        odr_share=0.3,
        testing_days=(2, 7),
        resend_share=0.08,
    ),
}


def load_factor(behaviour: Behaviour, at: datetime) -> float:
    """How much slower the platform is at ``at`` (rest days are the peaks)."""
    if behaviour.peak_factor == 1.0:
        return 1.0
    return 1.0 if is_working(local_day(at)) else behaviour.peak_factor
