"""The scorecards the regulator agent must show after a run, from the simulator's bookkeeping.

The regulator's rules (docs/regulator.md, "Scorecards") are written here again, not imported
from ``agents.scorecard``: a complaint counts once, on its intake date (Beijing time), with
what finally happened to it — forwarded (or filed in the platform's app), acknowledged with
no acknowledgement breach, resolved, settled, feedback, satisfied, a return visit of a
settled complaint; only the rate formulas come from the bureau's one definition
(:mod:`agents.core.rates`, pure); a breach counts on the date
of the deadline it missed, a lifecycle violation on the date of the offending event. Category
subjects carry the complaint counters only.

:class:`CohortCards` keeps one counter vector per subject and day (constant in the number of
events); :func:`fetch_system` reads the same range from a worker's HTTP API, and
:func:`differences` names every counter that disagrees.
"""

from __future__ import annotations

import asyncio
import urllib.error
import urllib.parse
import urllib.request
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import orjson

from agents.core.rates import rates
from devtools.simulator.model import ExpectedAlert
from devtools.simulator.rules import RULES
from devtools.simulator.workcal import local_day
from schemas.models import Channel, Outcome, Satisfaction

COUNTERS: tuple[str, ...] = (
    "complaints",
    "forwarded",
    "responded_in_time",
    "resolved",
    "settled",
    "feedback",
    "satisfied",
    "resolved_at_visit",
    "breaches",
    "refund_steps_overdue",
    "rectifications_overdue",
    "lifecycle_violations",
)
"""The scorecard counters, named as the HTTP API names them."""
CATEGORY = "category:"
ACK_RULE = "COMPLAINT_ACKNOWLEDGE"
KEPT_DAYS = 60
"""Compare at most this many days back from the run's last day: the regulator keeps 70
(``keep_days`` in agents/policy/signals.yaml) and refuses a range that starts earlier."""
_CASE_TYPE = {r.id: r.case_type for r in RULES}
_SATISFIED = frozenset({Satisfaction.SATISFIED, Satisfaction.BASICALLY_SATISFIED})

Counts = dict[str, int]


@dataclass(slots=True)
class ComplaintFacts:
    """What the scorecard needs of one complaint; the oracle updates it as steps apply."""

    platform_id: str
    category: str
    intake: date
    forwarded: bool
    acknowledged: bool = False
    ack_breached: bool = False
    outcome: Outcome | None = None
    satisfaction: Satisfaction | None = None
    changes: list[tuple[datetime, int, int, int]] = field(default_factory=list)
    """(sent at, Δcomplaints, Δresolved, Δsettled): what the risk signals see, and when."""

    def signal_counters(self) -> tuple[int, int, int]:
        return 1, int(self.outcome is not None), int(self.outcome is Outcome.SETTLED)

    def changed(self, sent_at: datetime, before: tuple[int, int, int]) -> None:
        """Note the change of the signal counters made by the record sent at ``sent_at``."""
        delta = tuple(a - b for a, b in zip(self.signal_counters(), before, strict=True))
        if any(delta):
            self.changes.append((sent_at, *delta))  # type: ignore[arg-type]

    @classmethod
    def opened(
        cls, platform_id: str, category: str, channel: Channel, intake: date
    ) -> ComplaintFacts:
        # Filed in the platform's own app: with the platform from the start.
        return cls(platform_id, category, intake, forwarded=channel is Channel.PLATFORM_APP)

    def counts(self) -> Counter[str]:
        return Counter(
            complaints=1,
            forwarded=int(self.forwarded),
            responded_in_time=int(self.acknowledged and not self.ack_breached),
            resolved=int(self.outcome is not None),
            settled=int(self.outcome is Outcome.SETTLED),
            feedback=int(self.satisfaction is not None),
            satisfied=int(self.satisfaction in _SATISFIED),
            # the return visit found it solved: a visit of a settled complaint
            resolved_at_visit=int(
                self.satisfaction is not None and self.outcome is Outcome.SETTLED
            ),
        )


class CohortCards:
    """The counters of the compared range per subject (platform id, or
    ``category:<CATEGORY>``): one vector each, so memory does not grow with the run."""

    def __init__(self, first: date, last: date) -> None:
        self.first, self.last = first, last
        self.totals: defaultdict[str, list[int]] = defaultdict(lambda: [0] * len(COUNTERS))

    def _add(self, subject: str, day: date, counts: Mapping[str, int]) -> None:
        if self.first <= day <= self.last:
            vec = self.totals[subject]
            for i, name in enumerate(COUNTERS):
                vec[i] += counts.get(name, 0)

    def complaint(self, facts: ComplaintFacts) -> None:
        counts = facts.counts()
        for subject in (facts.platform_id, f"{CATEGORY}{facts.category}"):
            self._add(subject, facts.intake, counts)

    def alert(self, a: ExpectedAlert) -> None:
        if a.kind == "SlaBreached":
            case_type = _CASE_TYPE.get(a.rule_id)
            self._add(a.platform_id, local_day(a.due_at or a.observed_at), {
                "breaches": 1,
                "refund_steps_overdue": int(case_type == "refund"),
                "rectifications_overdue": int(case_type == "rectification"),
            })  # fmt: skip
        elif a.kind == "LifecycleViolationDetected":
            self._add(a.platform_id, local_day(a.observed_at), {"lifecycle_violations": 1})

    def of(self, subjects: Iterable[str]) -> dict[str, Counts]:
        """Each subject's counters (zero for a subject with nothing in the range)."""
        return {s: dict(zip(COUNTERS, self.totals.get(s, [0] * len(COUNTERS)), strict=True))
                for s in subjects}  # fmt: skip


def predicted_rates(counts: Mapping[str, int]) -> dict[str, float | None]:
    """The rates the API must show for these counts: the counts are the simulator's own, the
    formulas the bureau's one definition (:mod:`agents.core.rates`)."""
    return rates(counts)


def compared_range(start: date, days: int) -> tuple[date, date]:
    """The simulated days (``start`` .. the last one), cut to the days the regulator keeps."""
    last = start + timedelta(days=days - 1)
    return max(start, last - timedelta(days=KEPT_DAYS - 1)), last


def subjects_of(platforms: Iterable[str], categories: Iterable[str]) -> list[str]:
    return [*platforms, *(f"{CATEGORY}{c}" for c in categories)]


def _path(subject: str) -> str:
    if subject.startswith(CATEGORY):
        return f"/categories/{urllib.parse.quote(subject.removeprefix(CATEGORY))}/scorecard"
    return f"/platforms/{urllib.parse.quote(subject)}/scorecard"


def _get(url: str, token: str | None = None) -> Counts | None:
    """One scorecard's counts; None when the worker has seen nothing of the subject (404)."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    try:
        with urllib.request.urlopen(
            urllib.request.Request(url, headers=headers), timeout=10
        ) as resp:
            body = orjson.loads(resp.read())
    except urllib.error.HTTPError as exc:
        if exc.code == 404:
            return None
        raise
    counts: Counts = body["counts"]
    return counts


async def fetch_system(
    base_url: str, subjects: Iterable[str], first: date, last: date, token: str | None = None
) -> dict[str, Counts]:
    """The worker's scorecards of ``first``..``last``; a subject it never saw counts zero.

    ``token``: an API bearer token (the worker's API requires one; docs/security.md)."""
    query = urllib.parse.urlencode({"from": first.isoformat(), "to": last.isoformat()})
    out: dict[str, Counts] = {}
    for subject in subjects:
        url = f"{base_url.rstrip('/')}{_path(subject)}?{query}"
        got = await asyncio.to_thread(_get, url, token)
        out[subject] = got if got is not None else dict.fromkeys(COUNTERS, 0)
    return out


def differences(expected: Mapping[str, Counts], actual: Mapping[str, Counts]) -> list[str]:
    """``subject counter: expected → system`` for every counter that disagrees."""
    out = []
    for subject in sorted(set(expected) | set(actual)):
        want, got = expected.get(subject, {}), actual.get(subject, {})
        for name in COUNTERS:
            w, g = want.get(name, 0), got.get(name, 0)
            if w != g:
                out.append(f"{subject} {name}: expected {w}, system {g}")
        for name in sorted(set(got) - set(COUNTERS)):
            out.append(f"{subject} {name}: not a counter the simulator knows")
    return out


async def wait_for_match(
    base_url: str,
    expected: Mapping[str, Counts],
    first: date,
    last: date,
    timeout: float,
    poll: float = 0.5,
    token: str | None = None,
) -> tuple[dict[str, Counts], list[str]]:
    """Poll the worker until its scorecards equal ``expected`` or ``timeout`` seconds pass
    (the regulator agents trail the alerts by a batch or two). Returns the last reading and
    its differences (empty on a match)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        try:
            actual = await fetch_system(base_url, expected, first, last, token)
            diff = differences(expected, actual)
        except (urllib.error.URLError, OSError, KeyError, ValueError) as exc:
            actual, diff = {}, [f"cannot read the worker's scorecards: {exc}"]
        if not diff or loop.time() >= deadline:
            return actual, diff
        await asyncio.sleep(poll)


__all__ = [
    "COUNTERS",
    "CohortCards",
    "ComplaintFacts",
    "compared_range",
    "differences",
    "fetch_system",
    "predicted_rates",
    "subjects_of",
    "wait_for_match",
]
