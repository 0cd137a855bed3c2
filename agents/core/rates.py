"""The bureau's complaint rates: 三率 (response, resolution, satisfaction) and 和解率.

One definition of each, used by the live scorecard (:mod:`agents.scorecard`), the worker's
HTTP API, the audit report (:mod:`audit.metrics`) and the simulator's oracle
(:mod:`devtools.simulator.scorecards`, which keeps its own counts and only borrows these
formulas). Each rate is a share of the same complaints; the counters come from one fold of
each complaint's facts (see docs/regulator.md, "Scorecards"):

* **response rate** (响应率) — complaints acknowledged with no acknowledgement breach /
  complaints forwarded to the platform (or filed in its own app).
* **resolution rate** (解决率) — return visits that found the complaint solved / return
  visits. In Beijing 12345 practice resolution and satisfaction come from the return visit
  (回访, here ``ComplaintFeedbackRecorded``), not from the case status: a complaint the
  platform marked resolved but no return visit confirmed does not count. The return visit
  records satisfaction only, so "found solved" is read from the outcome it confirmed: a
  return visit of a SETTLED complaint.
* **satisfaction rate** (满意率) — return visits SATISFIED or BASICALLY_SATISFIED / return
  visits.
* **settlement rate** (和解率) — complaints SETTLED / complaints resolved with any outcome
  (settled, not settled, withdrawn, out of scope), against the 85 % target. Withdrawn and
  out-of-scope complaints stay in the denominator: they are complaints the platform closed
  without a settlement, and leaving them out would let a platform raise its rate by having
  consumers withdraw.

A rate is ``None`` when its denominator is zero (nothing to judge), never 0.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from schemas.models import Outcome, Satisfaction

SETTLEMENT_TARGET: Final = 0.85
"""The 和解率 target (the seed article's ~85 % average), the default of the signals policy."""

RATE_NAMES: Final = ("response_rate", "resolution_rate", "satisfaction_rate", "settlement_rate")

RATE_COUNTERS: Final[dict[str, tuple[str, str]]] = {
    "response_rate": ("responded_in_time", "forwarded"),
    "resolution_rate": ("resolved_at_visit", "feedback"),
    "satisfaction_rate": ("satisfied", "feedback"),
    "settlement_rate": ("settled", "resolved"),
}
"""Each rate as (numerator counter, denominator counter)."""

SATISFIED: Final = frozenset({Satisfaction.SATISFIED, Satisfaction.BASICALLY_SATISFIED})


def ratio(numerator: int, denominator: int) -> float | None:
    """``numerator / denominator``; ``None`` when the denominator is zero."""
    return None if denominator <= 0 else numerator / denominator


def rates(counts: Mapping[str, int]) -> dict[str, float | None]:
    """The four rates of a set of counters (names as in :data:`RATE_COUNTERS`)."""
    return {
        name: ratio(counts.get(num, 0), counts.get(den, 0))
        for name, (num, den) in RATE_COUNTERS.items()
    }


def is_satisfied(satisfaction: Satisfaction | str | None) -> bool:
    return satisfaction is not None and Satisfaction(satisfaction) in SATISFIED


def is_settled(outcome: Outcome | str | None) -> bool:
    return outcome is not None and Outcome(outcome) is Outcome.SETTLED


def resolved_at_visit(
    outcome: Outcome | str | None, satisfaction: Satisfaction | str | None
) -> bool:
    """The return visit found the complaint solved: it took place, on a settled complaint."""
    return satisfaction is not None and is_settled(outcome)


def below_target(rate: float | None, target: float = SETTLEMENT_TARGET) -> bool | None:
    """Whether a settlement rate is below the target; ``None`` for no rate."""
    return None if rate is None else rate < target


__all__ = [
    "RATE_COUNTERS",
    "RATE_NAMES",
    "SATISFIED",
    "SETTLEMENT_TARGET",
    "below_target",
    "is_satisfied",
    "is_settled",
    "rates",
    "ratio",
    "resolved_at_visit",
]
