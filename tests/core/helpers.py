"""Assertions shared by the state-machine tests."""

from __future__ import annotations

from collections.abc import Iterable

from agents.core.context import Context
from agents.core.engine import CaseState, Decision, handle
from schemas.models import (
    AlertEvent,
    Event,
    LifecycleViolationDetected,
    SlaClockEvent,
    ViolationCode,
)


def run(events: Iterable[Event], ctx: Context) -> tuple[CaseState | None, list[Decision]]:
    state: CaseState | None = None
    decisions = []
    for event in events:
        decision = handle(state, event, ctx)
        decisions.append(decision)
        state = decision.state
    return state, decisions


def outputs(decisions: Iterable[Decision]) -> list[Event]:
    return [o for d in decisions for o in d.outputs]


def clock_log(events: Iterable[Event]) -> list[tuple[str, str]]:
    """(event type, sla id) of every clock event, in order."""
    return [(type(e).__name__, e.sla_id) for e in events if isinstance(e, SlaClockEvent)]


def alerts_of(events: Iterable[Event], rule_id: str | None = None) -> list[AlertEvent]:
    return [
        e for e in events if isinstance(e, AlertEvent) and (rule_id is None or e.rule_id == rule_id)
    ]


def violations(events: Iterable[Event]) -> list[ViolationCode]:
    return [e.violation for e in events if isinstance(e, LifecycleViolationDetected)]


def assert_valid_events(events: Iterable[Event]) -> None:
    """Every output is a valid contract event (they may be built without validation)."""
    for e in events:
        assert type(e).model_validate(e.model_dump()) == e
