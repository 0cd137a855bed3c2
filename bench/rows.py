"""One row of the benchmark table (every benchmark module returns a list of them)."""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["Row"]


@dataclass
class Row:
    name: str
    value: str
    ratio: str = ""
    target: str = ""
    note: str = ""
    extra: dict[str, str] = field(default_factory=dict)
