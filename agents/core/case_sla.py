"""A case's SLA clocks: apply lifecycle triggers through the policy, fire due thresholds.

Generic over the case type: the state machines say *what happened* as :class:`Trigger`s, the
case's pinned policy version says *which clocks* that starts, stops, pauses, resumes, restarts
or cancels, and :mod:`agents.core.sla_clock` does the arithmetic. Every change appends its
clock event or alert to ``out``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar

from agents.core import sla_clock
from agents.core.alerts import calendar_year_alert, threshold_alert
from agents.core.context import Context
from agents.core.deadlines import DueEntry
from agents.core.policy import Action, CaseType, PolicyVersion, Rule
from agents.core.sla_clock import RECHECK, ClockStatus, SlaClock
from agents.core.state import CaseBase
from schemas.models import Event, SuspendReason

S = TypeVar("S", bound=CaseBase)


@dataclass(frozen=True, slots=True)
class Trigger:
    """Something happened to the case at ``at`` (a name from ``policy.TRIGGERS``)."""

    name: str
    at: datetime
    reason: SuspendReason | None = None
    deadline: datetime | None = None


@dataclass(frozen=True, slots=True)
class Facts:
    """What decides whether a rule applies to a case and which target it gets."""

    case_type: CaseType
    channel: str | None = None
    priority: str | None = None
    category: str | None = None
    reason_kinds: tuple[str, ...] = ()
    """Refund reason kinds (e.g. ``no_reason_return``) for rules scoped to them."""


def _next_due(clocks: tuple[SlaClock, ...]) -> datetime | None:
    best: datetime | None = None
    for c in clocks:
        for at in (c.next_at, c.recheck_at):
            if at is not None and (best is None or at < best):
                best = at
    return best


def _calendar_signals(
    state: S,
    clock: SlaClock,
    version: PolicyVersion,
    ctx: Context,
    at: datetime,
    out: list[Event],
) -> S:
    fresh = [y for y in clock.unknown_years if y not in state.calendar_alerted]
    if not fresh:
        return state
    last_known = max(ctx.calendar.known_years, default=0)
    out.extend(calendar_year_alert(y, version, at, last_known) for y in fresh)
    return state.model_copy(update={"calendar_alerted": (*state.calendar_alerted, *fresh)})


def _start(
    state: S,
    rule: Rule,
    trig: Trigger,
    facts: Facts,
    version: PolicyVersion,
    ctx: Context,
    cycles: dict[str, int],
) -> SlaClock:
    n = cycles.get(rule.id, 0)
    cycles[rule.id] = n + 1
    ref = f"{rule.id}#{n}"
    escalate = version.ladder.leadership_after_breach_working_days if rule.escalate else 0
    return sla_clock.start(
        clock_id=f"{state.case_id}/{ref}",
        ref=ref,
        rule_id=rule.id,
        policy_version=version.id,
        unit=rule.unit,
        target=rule.target(facts.priority, facts.category),
        warnings=version.warnings_of(rule),
        escalate_days=escalate,
        at=trig.at,
        cal=ctx.calendar,
        deadline=trig.deadline,
    )


def apply_triggers(
    state: S,
    triggers: list[Trigger],
    facts: Facts,
    ctx: Context,
    out: list[Event],
    extra: dict[str, object] | None = None,
) -> S:
    """Run each trigger through the case's policy version, in order. ``extra`` fields are
    set in the same copy (one copy of the state per event, not one per concern)."""
    if not triggers:
        return state.model_copy(update=extra) if extra else state
    version = ctx.policy.version(state.policy_version)
    cal = ctx.calendar
    started = cal.local_date(state.opened_at)
    clocks = list(state.clocks)
    cycles = dict(state.cycles)
    started_cycles = False
    case_id, platform_id = state.case_id, state.platform_id
    for trig in triggers:
        for rule, action in ctx.policy.actions(version.id, facts.case_type, trig.name):
            if not ctx.policy.rule_applies(
                rule, channel=facts.channel, started=started, reason_kinds=facts.reason_kinds
            ):
                continue
            idx = next((i for i, c in enumerate(clocks) if c.rule_id == rule.id), None)
            if action is Action.STOP and idx is not None:
                done = sla_clock.stop(clocks.pop(idx), trig.at)
                out.append(sla_clock.met_event(done, case_id, platform_id))
            elif action is Action.CANCEL and idx is not None:
                done = sla_clock.cancel(clocks.pop(idx), trig.at)
                out.append(sla_clock.cancelled_event(done, case_id, platform_id, trig.name))
            elif action is Action.PAUSE and idx is not None:
                if clocks[idx].status is ClockStatus.RUNNING:
                    why = trig.reason or SuspendReason.OTHER
                    clocks[idx] = sla_clock.pause(clocks[idx], trig.at, why, cal)
                    out.append(sla_clock.paused_event(clocks[idx], case_id, platform_id))
            elif action is Action.RESUME and idx is not None:
                if clocks[idx].status is ClockStatus.PAUSED:
                    clocks[idx] = sla_clock.resume(clocks[idx], trig.at, cal)
                    out.append(sla_clock.resumed_event(clocks[idx], case_id, platform_id))
                    state = _calendar_signals(state, clocks[idx], version, ctx, trig.at, out)
            elif action is Action.RESTART or (action is Action.START and idx is None):
                if idx is not None:
                    done = sla_clock.cancel(clocks.pop(idx), trig.at)
                    note = f"reset by {trig.name}"
                    out.append(sla_clock.cancelled_event(done, case_id, platform_id, note))
                clock = _start(state, rule, trig, facts, version, ctx, cycles)
                started_cycles = True
                clocks.append(clock)
                out.append(sla_clock.started_event(clock, case_id, platform_id))
                state = _calendar_signals(state, clock, version, ctx, trig.at, out)
    new_clocks = tuple(clocks)
    update: dict[str, object] = {"clocks": new_clocks, "next_due_at": _next_due(new_clocks)}
    if extra:
        update.update(extra)
    if started_cycles:
        update["cycles"] = tuple(sorted(cycles.items()))
    return state.model_copy(update=update)


def fire(state: S, now: datetime, ctx: Context, out: list[Event]) -> S:
    """Cross every threshold due at ``now`` and recheck provisional deadlines.

    O(1) when nothing is due (the common case for an incoming event)."""
    if state.next_due_at is None or state.next_due_at > now:
        return state
    cal = ctx.calendar
    version = ctx.policy.version(state.policy_version)
    clocks = list(state.clocks)
    for i, clock in enumerate(clocks):
        touched = False
        recheck_due = clock.recheck_at is not None and clock.recheck_at <= now
        threshold_due = clock.next_at is not None and clock.next_at <= now
        if clock.unknown_years and (recheck_due or threshold_due):
            # recount before anything fires, so a threshold never uses stale guesses
            clock, changed = sla_clock.recompute(clock, now, cal)
            touched = True
            if changed:
                out.append(sla_clock.restated_event(clock, state.case_id, state.platform_id, now))
        if clock.next_at is not None and clock.next_at <= now:
            clock, firings = sla_clock.fire_due(clock, now, cal)
            touched = True
            rule = ctx.policy.rule(clock.policy_version, clock.rule_id)
            out.extend(
                threshold_alert(state, clock, f, rule, version, now)
                for f in firings
                if f.raise_alert
            )
        if touched:
            state = _calendar_signals(state, clock, version, ctx, now, out)
        clocks[i] = clock
    new_clocks = tuple(clocks)
    return state.model_copy(update={"clocks": new_clocks, "next_due_at": _next_due(new_clocks)})


def restate(state: S, now: datetime, ctx: Context, out: list[Event]) -> S:
    """Recount every provisional clock whose unknown years ``ctx.calendar`` now knows, at once
    (not at its next daily recheck): a calendar year was just published."""
    cal = ctx.calendar
    clocks = list(state.clocks)
    touched = False
    for i, clock in enumerate(clocks):
        if not clock.unknown_years or not all(cal.knows_year(y) for y in clock.unknown_years):
            continue
        clock, changed = sla_clock.recompute(clock, now, cal)
        clocks[i], touched = clock, True
        if changed:
            out.append(sla_clock.restated_event(clock, state.case_id, state.platform_id, now))
    if not touched:
        return state
    new_clocks = tuple(clocks)
    return state.model_copy(update={"clocks": new_clocks, "next_due_at": _next_due(new_clocks)})


def due_entries(state: CaseBase) -> tuple[DueEntry, ...]:
    """Every pending deadline-index entry of the case: one per clock and kind."""
    entries: list[DueEntry] = []
    for c in state.clocks:
        if c.next_at is not None and c.next_kind is not None:
            entries.append(DueEntry(c.next_at, state.case_id, c.ref, c.next_kind))
        if c.recheck_at is not None:
            entries.append(DueEntry(c.recheck_at, state.case_id, c.ref, RECHECK))
    return tuple(entries)
