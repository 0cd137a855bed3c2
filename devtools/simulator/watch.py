"""Watch what the system raised (alerts, dead letters) and compare it with the prediction."""

from __future__ import annotations

import asyncio
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

from aiokafka import AIOKafkaConsumer

from devtools.simulator.model import ExpectedAlert
from schemas.models import AlertEvent, DeadLetterRecord
from streams.codec import DecodeError, EventCodec
from streams.topics import Catalogue

INTERVIEW = "InterviewRecommended"
"""Compared as a count per platform, within one: the regulator folds a platform's breaches in
the order they arrive from the alert partitions, so which breach completes the "3 within 30
days" — and with it the instant, and near the 30-day horizon even the count — can vary from
run to run (seen with daily ticks and breaches observed weeks apart arriving together)."""


@dataclass
class SystemWatch:
    """Reads the alerts and dead-letter topics from the beginning, as they fill."""

    bootstrap: str
    catalogue: Catalogue
    on_alert: Callable[[ExpectedAlert], None] | None = None
    on_dead_letter: Callable[[DeadLetterRecord], None] | None = None
    keep: bool = True
    """Keep every alert (for an exact comparison); False keeps counters only."""
    codec: EventCodec = field(default_factory=EventCodec)
    alerts: list[ExpectedAlert] = field(default_factory=list)
    by_rule: Counter[str] = field(default_factory=Counter)
    by_level: Counter[str] = field(default_factory=Counter)
    by_platform: defaultdict[str, Counter[str]] = field(
        default_factory=lambda: defaultdict(Counter)
    )
    dead_letters: Counter[str] = field(default_factory=Counter)
    interviews: Counter[str] = field(default_factory=Counter)
    """Distinct InterviewRecommended alerts (by alert id) per platform."""
    _interview_ids: set[str] = field(default_factory=set)
    undecodable: int = 0
    last_record: float = field(default_factory=time.monotonic)

    @property
    def alert_count(self) -> int:
        return sum(self.by_level.values())

    async def run(self) -> None:
        """Consume until cancelled."""
        consumer = AIOKafkaConsumer(
            self.catalogue.alerts,
            self.catalogue.deadletter,
            bootstrap_servers=self.bootstrap,
            group_id=None,
            auto_offset_reset="earliest",
            enable_auto_commit=False,
        )
        await consumer.start()
        try:
            while True:
                batch = await consumer.getmany(timeout_ms=200, max_records=2000)
                for records in batch.values():
                    for rec in records:
                        self._one(rec.value, rec.headers)
        finally:
            await consumer.stop()

    def _one(self, value: bytes | None, headers: Iterable[tuple[str, bytes]]) -> None:
        self.last_record = time.monotonic()
        try:
            event = self.codec.decode(value or b"", list(headers))
        except DecodeError:
            self.undecodable += 1
            return
        if isinstance(event, DeadLetterRecord):
            self.dead_letters[event.reason.value] += 1
            if event.platform_id:
                self.by_platform[event.platform_id]["DEAD_LETTER"] += 1
            if self.on_dead_letter is not None:
                self.on_dead_letter(event)
        elif isinstance(event, AlertEvent):
            alert = ExpectedAlert.from_alert(event)
            self.by_rule[f"{alert.rule_id}/{alert.mark}"] += 1
            self.by_level[alert.level.value] += 1
            self.by_platform[alert.platform_id][alert.mark] += 1
            if alert.kind == INTERVIEW and event.alert_id not in self._interview_ids:
                self._interview_ids.add(event.alert_id)
                self.interviews[alert.platform_id] += 1
            if self.keep:
                self.alerts.append(alert)
            if self.on_alert is not None:
                self.on_alert(alert)

    async def wait_for(
        self, alerts: int, dead_letters: int, timeout: float, quiet: float = 1.5
    ) -> bool:
        """Wait until at least the given counts arrived and the topics went quiet."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            enough = self.alert_count >= alerts and sum(self.dead_letters.values()) >= dead_letters
            if enough and time.monotonic() - self.last_record >= quiet:
                return True
            await asyncio.sleep(0.1)
        return False


@dataclass
class Comparison:
    """Prediction against the system: alerts by (identity, routing, observed instant)."""

    missing: list[tuple[object, ...]]
    unexpected: list[tuple[object, ...]]
    dead_letters_expected: dict[str, int]
    dead_letters_actual: dict[str, int]
    interviews_expected: dict[str, int]
    interviews_actual: dict[str, int]

    @property
    def ok(self) -> bool:
        return (
            not self.missing
            and not self.unexpected
            and self.dead_letters_expected == self.dead_letters_actual
            and self.interviews_close
        )

    @property
    def interviews_close(self) -> bool:
        platforms = set(self.interviews_expected) | set(self.interviews_actual)
        return all(
            abs(self.interviews_expected.get(p, 0) - self.interviews_actual.get(p, 0)) <= 1
            for p in platforms
        )

    def describe(self, limit: int = 10) -> str:
        lines = [f"missing {len(self.missing)}, unexpected {len(self.unexpected)} alerts"]
        lines += [f"  missing    {m}" for m in self.missing[:limit]]
        lines += [f"  unexpected {u}" for u in self.unexpected[:limit]]
        if not self.interviews_close:
            lines.append(
                f"  interviews expected {self.interviews_expected} actual {self.interviews_actual}"
            )
        if self.dead_letters_expected != self.dead_letters_actual:
            lines.append(
                f"  dead letters expected {self.dead_letters_expected} "
                f"actual {self.dead_letters_actual}"
            )
        return "\n".join(lines)


def compare(
    expected: Iterable[ExpectedAlert],
    actual: Iterable[ExpectedAlert],
    dead_expected: dict[str, int],
    dead_actual: dict[str, int],
    interviews_expected: Mapping[str, int] | None = None,
    interviews_actual: Mapping[str, int] | None = None,
) -> Comparison:
    """Case-level alerts by identity, routing and instant (one the system re-raised, e.g.
    after a retry, counts once); interviews per platform; dead letters per reason.

    Interview counts are best given (the simulator's count, and the system's distinct alert
    ids): two recommendations of one platform completed at the same tick look alike here,
    and without the counts they are counted once."""
    expected, actual = list(expected), list(actual)
    want = {a.full() for a in expected if a.kind != INTERVIEW}
    got = {a.full() for a in actual if a.kind != INTERVIEW}

    def interviews(alerts: list[ExpectedAlert]) -> dict[str, int]:
        seen = {a.full() for a in alerts if a.kind == INTERVIEW}
        return dict(sorted(Counter(key[3] for key in seen).items()))

    return Comparison(
        sorted(want - got, key=str),
        sorted(got - want, key=str),
        dict(sorted(dead_expected.items())),
        dict(sorted(dead_actual.items())),
        dict(sorted((interviews_expected or interviews(expected)).items())),
        dict(sorted((interviews_actual or interviews(actual)).items())),
    )
