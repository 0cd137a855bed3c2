"""The regulator's typed state and internal-topic records, each with one encode / decode.

Three table values and two records of the internal subject topic
(``<app-id>-regulator-by-subject``); every one is a slots dataclass with readable names and
is stored as JSON through its own ``to_json`` / ``from_json`` (``encode`` / ``decode`` give
the bytes). Nothing else reads or writes these shapes. Pure: no Faust, Kafka or clock.

* :class:`CaseEntry` — regulator-cases, per case id: timeline, complaint facts, the
  contribution last sent.
* :class:`SubjectState` — regulator-scorecards, per platform / ``category:<C>``: the
  scorecard's day buckets, the signal buckets and their deferred changes, the signals raised.
* :class:`SubjectClock` — regulator-scorecards, one per subject partition: the watermark of
  every complaint partition and the last day judged.
* :class:`Contributions` / :class:`Watermark` — the subject topic's two record kinds.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import orjson

from agents.scorecard import ComplaintFacts, Days, Vector

TimelineEntry = tuple[int, str, str, str]
"""(epoch ms, event or alert type, event / alert id, note)."""


def _dumps(value: Mapping[str, Any]) -> bytes:
    return orjson.dumps(value)


# ---- regulator-cases -------------------------------------------------------------------------
@dataclass(slots=True)
class CaseEntry:
    partition: int
    """The partition of the record last applied (where the entry is stored)."""
    timeline: list[TimelineEntry] = field(default_factory=list)
    recent_ids: list[str] = field(default_factory=list)
    """Event / alert ids applied lately: a redelivery is recognised and not applied again."""
    facts: ComplaintFacts | None = None
    contribution: tuple[str, Vector] | None = None
    """(intake day, counters) last sent to the subjects."""
    complaint_partition: int | None = None
    """The complaints partition of the case (whose last forwarded tick tags contributions)."""
    ack_breached_before_filing: bool = False
    """The acknowledgement breach was read before the filing (the alerts topic ran ahead)."""

    def to_json(self) -> dict[str, Any]:
        return {
            "partition": self.partition,
            "timeline": [list(e) for e in self.timeline],
            "recent_ids": self.recent_ids,
            "facts": None if self.facts is None else self.facts.to_json(),
            "contribution": None if self.contribution is None else list(self.contribution),
            "complaint_partition": self.complaint_partition,
            "ack_breached_before_filing": self.ack_breached_before_filing,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> CaseEntry:
        facts = data.get("facts")
        contribution = data.get("contribution")
        return cls(
            partition=int(data["partition"]),
            timeline=[(int(a), str(b), str(c), str(d)) for a, b, c, d in data["timeline"]],
            recent_ids=list(data["recent_ids"]),
            facts=None if facts is None else ComplaintFacts.from_json(facts),
            contribution=None if contribution is None else (contribution[0], contribution[1]),
            complaint_partition=data.get("complaint_partition"),
            ack_breached_before_filing=bool(data.get("ack_breached_before_filing", False)),
        )

    def encode(self) -> bytes:
        return _dumps(self.to_json())

    @classmethod
    def decode(cls, raw: bytes) -> CaseEntry:
        return cls.from_json(orjson.loads(raw))


# ---- regulator-scorecards --------------------------------------------------------------------
@dataclass(slots=True)
class SubjectState:
    partition: int
    days: Days = field(default_factory=dict)
    """The scorecard's day buckets (the latest facts; what the API shows)."""
    kept_from: str | None = None
    """The oldest day kept (older buckets are pruned)."""
    low_since: str | None = None
    """The closed day that opened the current low-settlement episode, if one is open."""
    raised: list[str] = field(default_factory=list)
    """Signal ids raised lately (newest last)."""
    signal_days: Days = field(default_factory=dict)
    """The buckets the signals read: changes applied once the clock passed their tag."""
    signal_first_day: str | None = None
    dirty_weeks: list[str] = field(default_factory=list)
    """Mondays of the weeks whose signal buckets changed since they were last judged."""
    deferred: dict[str, Vector] = field(default_factory=dict)
    """Signal-counter changes waiting for the clock, keyed :func:`deferred_slot`."""

    def to_json(self) -> dict[str, Any]:
        return {
            "partition": self.partition,
            "days": self.days,
            "kept_from": self.kept_from,
            "low_since": self.low_since,
            "raised": self.raised,
            "signal_days": self.signal_days,
            "signal_first_day": self.signal_first_day,
            "dirty_weeks": self.dirty_weeks,
            "deferred": self.deferred,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> SubjectState:
        return cls(
            partition=int(data["partition"]),
            days=dict(data["days"]),
            kept_from=data.get("kept_from"),
            low_since=data.get("low_since"),
            raised=list(data.get("raised", [])),
            signal_days=dict(data.get("signal_days", {})),
            signal_first_day=data.get("signal_first_day"),
            dirty_weeks=list(data.get("dirty_weeks", [])),
            deferred=dict(data.get("deferred", {})),
        )

    def encode(self) -> bytes:
        return _dumps(self.to_json())

    @classmethod
    def decode(cls, raw: bytes) -> SubjectState:
        return cls.from_json(orjson.loads(raw))


_SLOT_SEP = "\x1f"


def deferred_slot(tag_ms: int, day: str) -> str:
    return f"{tag_ms}{_SLOT_SEP}{day}"


def parse_slot(slot: str) -> tuple[int, str]:
    tag, day = slot.split(_SLOT_SEP)
    return int(tag), day


@dataclass(slots=True)
class SubjectClock:
    """One subject partition's time: the last watermark of every complaint partition."""

    partition: int
    watermarks: dict[int, int] = field(default_factory=dict)
    """Complaint partition → its last forwarded tick (epoch ms)."""
    closed_day: str | None = None
    """The last closed day judged (settlement is judged once per closed day)."""

    def to_json(self) -> dict[str, Any]:
        return {
            "partition": self.partition,
            "watermarks": {str(k): v for k, v in self.watermarks.items()},
            "closed_day": self.closed_day,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> SubjectClock:
        return cls(
            partition=int(data["partition"]),
            watermarks={int(k): int(v) for k, v in data["watermarks"].items()},
            closed_day=data.get("closed_day"),
        )

    def encode(self) -> bytes:
        return _dumps(self.to_json())

    @classmethod
    def decode(cls, raw: bytes) -> SubjectClock:
        return cls.from_json(orjson.loads(raw))


# ---- the subject topic -----------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Contribution:
    """A fact's latest (day, counters) for one subject. A complaint's carries the tag (the
    last tick its partition forwarded before it); a breach's carries the alert (JSON), which
    the interview fold needs."""

    fact: str
    """``case:<case id>`` or ``alert:<alert id>``."""
    day: str
    counters: Vector
    tag_ms: int | None = None
    breach: dict[str, Any] | None = None

    @property
    def is_case(self) -> bool:
        return self.fact.startswith("case:")

    def stored(self) -> list[Any]:
        """What regulator-contrib keeps of it: [day, counters]."""
        return [self.day, self.counters]

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"fact": self.fact, "day": self.day, "counters": self.counters}
        if self.tag_ms is not None:
            out["tag_ms"] = self.tag_ms
        if self.breach is not None:
            out["breach"] = self.breach
        return out

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Contribution:
        return cls(
            fact=str(data["fact"]),
            day=str(data["day"]),
            counters=[int(n) for n in data["counters"]],
            tag_ms=data.get("tag_ms"),
            breach=data.get("breach"),
        )


@dataclass(frozen=True, slots=True)
class Contributions:
    """One subject's contributions of one batch (the record's key is the subject)."""

    items: tuple[Contribution, ...]


@dataclass(frozen=True, slots=True)
class Watermark:
    """A complaint partition's clock, sent to every subject partition."""

    source: int
    at_ms: int


SubjectRecord = Contributions | Watermark


def encode_subject_record(record: SubjectRecord) -> bytes:
    if isinstance(record, Watermark):
        return _dumps({"kind": "watermark", "source": record.source, "at_ms": record.at_ms})
    return _dumps({"kind": "contributions", "items": [c.to_json() for c in record.items]})


def decode_subject_record(raw: bytes) -> SubjectRecord:
    """Raises ValueError (or KeyError / TypeError) on a malformed record."""
    data = orjson.loads(raw)
    kind = data["kind"]
    if kind == "watermark":
        return Watermark(int(data["source"]), int(data["at_ms"]))
    if kind == "contributions":
        return Contributions(tuple(Contribution.from_json(c) for c in data["items"]))
    raise ValueError(f"unknown subject record kind {kind!r}")


__all__ = [
    "CaseEntry",
    "Contribution",
    "Contributions",
    "SubjectClock",
    "SubjectRecord",
    "SubjectState",
    "TimelineEntry",
    "Watermark",
    "decode_subject_record",
    "deferred_slot",
    "encode_subject_record",
    "parse_slot",
]
