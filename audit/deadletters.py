"""Dead letters as the dead-letter topic has them: ingress's and the agents' alike.

The replay re-derives only the dead letters of the case agents (records of the canonical
topics they cannot apply); records ingress could not route never reach a canonical topic, so
the audit counts them from the dead-letter topic itself, by where the original record was
read: a canonical case topic (the agents) or anything else (ingress).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from schemas.families import CaseFamily
from schemas.models import DeadLetterRecord
from streams.codec import DecodeError, EventCodec
from streams.ledger.logread import LogReader
from streams.settings import Settings
from streams.topics import Catalogue


@dataclass
class DeadLetterCount:
    topic: str
    total: int = 0
    ingress: int = 0
    agents: int = 0
    undecodable: int = 0
    by_reason: Counter[str] = field(default_factory=Counter)

    def as_json(self) -> dict[str, Any]:
        return {
            "topic": self.topic,
            "total": self.total,
            "ingress": self.ingress,
            "agents": self.agents,
            "undecodable": self.undecodable,
            "by_reason": dict(sorted(self.by_reason.items())),
        }


def count_dead_letter(
    count: DeadLetterCount, record: DeadLetterRecord, case_topics: set[str]
) -> None:
    count.total += 1
    if record.original_topic in case_topics:
        count.agents += 1
    else:
        count.ingress += 1
    count.by_reason[record.reason.value] += 1


async def read_dead_letters(
    settings: Settings, catalogue: Catalogue, codec: EventCodec | None = None
) -> DeadLetterCount:
    """Every record of the dead-letter topic up to its end offsets now, counted by source."""
    codec = codec or EventCodec()
    topic = catalogue.deadletter
    count = DeadLetterCount(topic)
    case_topics = {catalogue.cases(f) for f in CaseFamily}
    async with LogReader(settings) as reader:
        bounds = await reader.bounds([topic])
        async for _tp, records in reader.read(bounds):
            for rec in records:
                try:
                    record = codec.decode(rec.value or b"", list(rec.headers))
                except DecodeError:
                    record = None
                if not isinstance(record, DeadLetterRecord):
                    count.total += 1
                    count.undecodable += 1
                    continue
                count_dead_letter(count, record, case_topics)
    return count


__all__ = ["DeadLetterCount", "count_dead_letter", "read_dead_letters"]
