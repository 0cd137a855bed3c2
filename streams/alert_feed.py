"""The alerts topic as a reader sees it: which alerts a reader wants, their JSON form, and
one alert as received. Shared by the regulator's subscriber (:mod:`clients.subscriber`) and the
worker's HTTP API (:mod:`agents.web`)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from typing import Any

from schemas.models import AlertEvent, Level

__all__ = ["AlertFilter", "InvalidFilter", "ReceivedAlert", "SubscriptionError", "alert_json"]


class SubscriptionError(RuntimeError):
    """The subscription cannot start (no such topic, bad arguments); the message says why."""


class InvalidFilter(SubscriptionError, ValueError):
    """A filter value that names nothing (e.g. an unknown level)."""


def _values(value: Any) -> frozenset[str]:
    if value is None:
        return frozenset()
    if isinstance(value, str | Enum):
        value = [value]
    return frozenset(v.value if isinstance(v, Enum) else str(v) for v in value if v)


@dataclass(frozen=True)
class AlertFilter:
    """Which alerts a regulator wants; an empty set means "any"."""

    levels: frozenset[str] = frozenset()
    offices: frozenset[str] = frozenset()
    platforms: frozenset[str] = frozenset()
    rules: frozenset[str] = frozenset()

    @classmethod
    def of(
        cls,
        level: str | Level | Iterable[str | Level] | None = None,
        office: str | Iterable[str] | None = None,
        platform: str | Iterable[str] | None = None,
        rules: str | Iterable[str] | None = None,
    ) -> AlertFilter:
        levels = _values(level)
        unknown = sorted(levels - {lv.value for lv in Level})
        if unknown:
            raise InvalidFilter(
                f"unknown level {', '.join(unknown)}; use {', '.join(lv.value for lv in Level)}"
            )
        return cls(levels, _values(office), _values(platform), _values(rules))

    def matches(self, alert: Mapping[str, Any]) -> bool:
        """On a decoded Avro record or an alert's JSON form (fields by name)."""
        return (
            (not self.levels or alert["level"] in self.levels)
            and (not self.offices or alert["office"] in self.offices)
            and (not self.platforms or alert["platform_id"] in self.platforms)
            and (not self.rules or alert["rule_id"] in self.rules)
        )

    def describe(self) -> dict[str, list[str]]:
        return {
            name: sorted(values)
            for name, values in (
                ("level", self.levels),
                ("office", self.offices),
                ("platform", self.platforms),
                ("rule", self.rules),
            )
            if values
        }


def alert_json(alert: AlertEvent) -> dict[str, Any]:
    """The JSON form used by the CLI, the HTTP API and the SSE stream."""
    return {"type": type(alert).EVENT_NAME, **alert.model_dump(mode="json")}


@dataclass(frozen=True, slots=True)
class ReceivedAlert:
    alert: AlertEvent
    published_at: datetime
    """The Kafka record timestamp: when the worker published the alert."""
    partition: int
    offset: int
