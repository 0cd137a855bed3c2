"""The single entry point the Faust case agents and the audit replay both call.

``handle(state, event, ctx)`` applies one case event (or a ClockTicked) and ``on_tick(state,
now, ctx)`` fires what is due; both return a :class:`Decision`: the new state, the events to
publish (SLA clock events → topic ``sla``, alerts → topic ``alerts``) and the case's pending
deadline entries (feed them to ``DeadlineIndex.sync(case_id, decision.due)``).

Nothing raises for a wrong event order: illegal transitions, events for unknown cases and
payment violations become recorded violations plus ``LifecycleViolationDetected`` alerts.
Duplicates (an event id the case already applied) are no-ops. Domain errors that do escape
are plumbing mistakes: an event routed to another case's state (:class:`CaseMismatchError`),
or a non-case event such as an alert (:class:`UnsupportedEventError`).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, TypeAlias

from pydantic import Field, TypeAdapter

from agents.core import complaint, rectification, refund
from agents.core.alerts import policy_version_alert, violation_alert
from agents.core.calendar import WorkingCalendar
from agents.core.case_sla import Facts, Trigger, apply_triggers, due_entries, fire, restate
from agents.core.complaint import ComplaintState
from agents.core.context import Context
from agents.core.deadlines import DueEntry
from agents.core.errors import CaseMismatchError, DomainError, LifecycleError
from agents.core.policy import PolicyVersion
from agents.core.rectification import RectificationState
from agents.core.refund import RefundState
from agents.core.state import MAX_APPLIED_IDS, MAX_VIOLATIONS, CaseBase, Violation
from schemas.models import (
    AlertEvent,
    ClockTicked,
    ComplaintFiled,
    Event,
    InspectionFindingRecorded,
    RefundRequested,
    SlaClockEvent,
    ViolationCode,
)

CaseState: TypeAlias = ComplaintState | RefundState | RectificationState
_STATE_ADAPTER: TypeAdapter[Any] = TypeAdapter(
    Annotated[ComplaintState | RefundState | RectificationState, Field(discriminator="kind")]
)


class UnsupportedEventError(DomainError):
    """An event that is not a case event (an alert, a clock event, a dead letter …)."""


@dataclass(frozen=True, slots=True)
class Decision:
    state: CaseState | None
    outputs: list[Event]
    due: tuple[DueEntry, ...] = ()

    @property
    def next_due(self) -> datetime | None:
        return min((e.due_at for e in self.due), default=None)

    @property
    def alerts(self) -> list[AlertEvent]:
        return [e for e in self.outputs if isinstance(e, AlertEvent)]

    @property
    def clock_events(self) -> list[SlaClockEvent]:
        return [e for e in self.outputs if isinstance(e, SlaClockEvent)]


Step = tuple[CaseBase, list[Trigger], list[tuple[ViolationCode, str]]]


@dataclass(frozen=True, slots=True)
class _Machine:
    kind: str
    opener: type[Event]
    open_case: Callable[[Any, PolicyVersion], tuple[CaseBase, list[Trigger]]]
    step: Callable[[Any, Event], Step]
    facts: Callable[[Any], Facts]


def _no_findings(
    fn: Callable[[Any, Event], tuple[Any, list[Trigger]]],
) -> Callable[[Any, Event], Step]:
    def wrapped(state: Any, event: Event) -> Step:
        new, triggers = fn(state, event)
        return new, triggers, []

    return wrapped


_COMPLAINT = _Machine(
    "complaint",
    ComplaintFiled,
    complaint.open_case,
    _no_findings(complaint.step),
    complaint.facts,
)
_REFUND = _Machine("refund", RefundRequested, refund.open_case, refund.step, refund.facts)
_RECTIFICATION = _Machine(
    "rectification",
    InspectionFindingRecorded,
    rectification.open_case,
    _no_findings(rectification.step),
    rectification.facts,
)
_MACHINES: dict[type[Event], _Machine] = {
    **{t: _COMPLAINT for t in complaint.EVENTS},
    **{t: _REFUND for t in refund.EVENTS},
    **{t: _RECTIFICATION for t in rectification.EVENTS},
}


def _record(
    state: CaseBase,
    code: ViolationCode,
    event: Event,
    detail: str,
    ctx: Context,
    out: list[Event],
) -> CaseBase:
    version = ctx.policy.version(state.policy_version)
    out.append(
        violation_alert(
            case_id=state.case_id,
            platform_id=state.platform_id,
            office=state.office,
            code=code,
            offending=event,
            detail=f"{type(event).__name__}: {detail}",
            version=version,
        )
    )
    entry = Violation.model_construct(
        code=code,
        event_id=event.event_id,
        event_type=type(event).__name__,
        at=event.occurred_at,
        detail=detail,
    )
    return state.model_copy(
        update={
            "violations": (*state.violations, entry)[-MAX_VIOLATIONS:],
            "violation_count": state.violation_count + 1,
            "violation_codes": state.violation_codes
            if code in state.violation_codes
            else (*state.violation_codes, code),
        }
    )


def _finish(state: CaseBase, event: Event, out: list[Event]) -> Decision:
    applied = (*state.applied_ids, event.event_id)[-MAX_APPLIED_IDS:]
    done = state.model_copy(update={"applied_ids": applied})
    return Decision(done, out, due_entries(done))  # type: ignore[arg-type]


def _unknown_case(event: Event, ctx: Context) -> Decision:
    version = ctx.policy.version_at(WorkingCalendar.local_date(event.occurred_at))
    alert = violation_alert(
        case_id=event.case_id,
        platform_id=event.platform_id,
        office=version.default_office,
        code=ViolationCode.UNKNOWN_CASE,
        offending=event,
        detail=f"{type(event).__name__} for a case that was never opened",
        version=version,
    )
    return Decision(None, [alert], ())


def _open(machine: _Machine, event: Event, ctx: Context) -> Decision:
    out: list[Event] = []
    if isinstance(event, ComplaintFiled):
        version, unknown = complaint.choose_version(event, ctx.policy)
        if unknown:
            out.append(
                policy_version_alert(
                    event.case_id,
                    event.platform_id,
                    event.office,
                    event.policy_rule_version or "",
                    version,
                    event.occurred_at,
                )
            )
    else:
        version = ctx.policy.version_at(WorkingCalendar.local_date(event.occurred_at))
    state, triggers = machine.open_case(event, version)
    state = apply_triggers(state, triggers, machine.facts(state), ctx, out)
    state = fire(state, event.occurred_at, ctx, out)
    return _finish(state, event, out)


def handle(state: CaseState | None, event: Event, ctx: Context) -> Decision:
    """Apply one event of the case's topic to its state (``None`` for a new case)."""
    if isinstance(event, ClockTicked):
        if state is None:
            return Decision(None, [], ())
        return on_tick(state, event.tick_at, ctx)
    machine = _MACHINES.get(type(event))
    if machine is None:
        raise UnsupportedEventError(f"{type(event).__name__} is not a case event")
    if state is None:
        if isinstance(event, machine.opener):
            return _open(machine, event, ctx)
        return _unknown_case(event, ctx)
    if event.case_id != state.case_id:
        raise CaseMismatchError(f"event for case {event.case_id!r} sent to {state.case_id!r}")
    if event.event_id in state.applied_ids:
        return Decision(state, [], due_entries(state))
    out: list[Event] = []
    at = event.occurred_at
    current: CaseBase = fire(state, at, ctx, out)
    if machine.kind != state.kind:
        detail = f"a {machine.kind} event cannot happen to a {state.kind} case"
        current = _record(current, ViolationCode.ILLEGAL_TRANSITION, event, detail, ctx, out)
        current = current.model_copy(update={"seq": current.seq + 1, "last_event_at": at})
        return _finish(current, event, out)
    try:
        current, triggers, findings = machine.step(current, event)
    except LifecycleError as err:
        current = _record(current, err.code, event, err.detail, ctx, out)
        current = current.model_copy(update={"seq": current.seq + 1, "last_event_at": at})
        return _finish(current, event, out)
    for code, detail in findings:
        current = _record(current, code, event, detail, ctx, out)
    applied: dict[str, object] = {
        "applied_ids": (*current.applied_ids, event.event_id)[-MAX_APPLIED_IDS:]
    }
    current = apply_triggers(current, triggers, machine.facts(current), ctx, out, applied)
    current = fire(current, at, ctx, out)
    return Decision(current, out, due_entries(current))  # type: ignore[arg-type]


def on_tick(state: CaseState, now: datetime, ctx: Context) -> Decision:
    """Fire every threshold of the case due at ``now`` (warnings, breach, escalation, calendar
    recheck). Call it once per case that ``DeadlineIndex.pop_due(now)`` returned."""
    out: list[Event] = []
    new = fire(state, now, ctx, out)
    return Decision(new, out, due_entries(new))


def restate_calendar(state: CaseState, now: datetime, ctx: Context) -> Decision:
    """Recount the case's provisional deadlines with ``ctx``'s calendar (a year was just
    published), restating every due instant that moved. Nothing fires here: thresholds fire
    at the next tick, on the partition's own clock (``now`` only dates the restatement)."""
    out: list[Event] = []
    new = restate(state, now, ctx, out)
    return Decision(new, out, due_entries(new))


def default_context() -> Context:
    """The packaged policy and calendar data (``Context.load()``), loaded once per worker."""
    return Context.load()


def dump_state(state: CaseState | None) -> dict[str, Any] | None:
    """JSON-ready form of a case state, for embedding in a store envelope; defaults omitted."""
    if state is None:
        return None
    data = state.model_dump(mode="json", exclude_defaults=True)
    data["kind"] = state.kind  # the discriminator has a default but must stay
    return data


def load_state(data: Any) -> CaseState | None:
    """Read what :func:`dump_state` wrote (validated; the state carries its own kind)."""
    if data is None:
        return None
    result: CaseState = _STATE_ADAPTER.validate_python(data)
    return result


def state_to_json(state: CaseState) -> bytes:
    """Durable form of a case state as compact JSON bytes."""
    return json.dumps(dump_state(state), separators=(",", ":"), ensure_ascii=False).encode()


def state_from_json(data: bytes | str) -> CaseState:
    """Read a state written by :func:`state_to_json` (validated)."""
    result: CaseState = _STATE_ADAPTER.validate_json(data)
    return result


__all__ = [
    "CaseState",
    "Context",
    "Decision",
    "UnsupportedEventError",
    "default_context",
    "due_entries",
    "dump_state",
    "handle",
    "load_state",
    "on_tick",
    "restate_calendar",
    "state_from_json",
    "state_to_json",
]
