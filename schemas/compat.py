"""Schema evolution rule: BACKWARD_TRANSITIVE.

Every version must be able to read data written with *every* older version of the same
event (not just the previous one), because the canonical topics are never compacted and a
replay reads records from the first day with today's reader.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

import avro.schema
from avro.compatibility import ReaderWriterCompatibilityChecker, SchemaCompatibilityType

from schemas.repository import Histories


def incompatibilities(reader: Mapping[str, Any], writer: Mapping[str, Any]) -> list[str]:
    """Why ``reader`` cannot read what ``writer`` wrote (empty list = compatible)."""
    checker = ReaderWriterCompatibilityChecker()  # type: ignore[no-untyped-call]
    result = checker.get_compatibility(
        avro.schema.parse(json.dumps(reader)), avro.schema.parse(json.dumps(writer))
    )
    if result.compatibility is SchemaCompatibilityType.compatible:
        return []
    kinds = ", ".join(sorted(str(i.value) for i in result.incompatibilities))
    where = ", ".join(sorted(result.locations))
    what = ", ".join(sorted(result.messages))
    return [f"{kinds} at {where} ({what})"]


def history_problems(subject: str, schemas: Sequence[Mapping[str, Any]]) -> list[str]:
    """Each newer version (reader) against every older one (writer)."""
    out: list[str] = []
    for new in range(1, len(schemas)):
        for old in range(new):
            for problem in incompatibilities(schemas[new], schemas[old]):
                out.append(f"{subject}: v{new + 1} cannot read v{old + 1}: {problem}")
    return out


def backward_transitive_problems(hist: Histories) -> list[str]:
    out: list[str] = []
    for subject, versions in hist.items():
        out.extend(history_problems(subject, [v.schema for v in versions]))
    return out
