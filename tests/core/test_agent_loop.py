"""The loop the stream agent runs (docs/policy.md) gives the same facts as brute force.

Index-driven: events through ``handle``, ticks through ``pop_due_cases`` + ``on_tick``, with
``DeadlineIndex.sync`` after every decision and a storage round trip of states and index in the
middle. Brute force: every case ticked at every tick. Both must emit the same outputs.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from agents.core import (
    DeadlineIndex,
    dump_state,
    handle,
    load_state,
    on_tick,
)
from agents.core.context import Context
from agents.core.engine import CaseState, due_entries
from schemas.models import Event, ReviewDecision, SuspendReason

from . import builders as b
from .builders import sh

START = sh(2026, 2, 2, 9)


def _history(rng: random.Random, n: int) -> list[Event]:
    events: list[Event] = []
    for i in range(n):
        at = START + timedelta(hours=rng.randrange(24 * 20))
        c = f"loop-{i}"
        if i % 3 == 0:
            steps = [b.filed(c, at, intake_at=at - timedelta(hours=rng.randrange(30)))]
            names = ["forwarded", "acknowledged", "suspend", "resumed", "resolved"]
            makers = [b.forwarded, b.acknowledged, None, b.resumed, b.resolved]
            for k in range(rng.randrange(len(names) + 1)):
                at += timedelta(hours=rng.randrange(1, 120))
                maker = makers[k]
                steps.append(
                    b.suspended(c, at, SuspendReason.TESTING) if maker is None else maker(c, at)
                )
        elif i % 3 == 1:
            steps = [b.requested(c, at, goods_received_at=at - timedelta(days=rng.randrange(3)))]
            if rng.random() < 0.6:
                at += timedelta(hours=rng.randrange(1, 200))
                steps.append(b.reviewed(c, at, ReviewDecision.APPROVED))
            if rng.random() < 0.5:
                at += timedelta(hours=rng.randrange(1, 400))
                steps.append(b.paid(c, at))
        else:
            steps = [b.finding(c, at), b.ordered(c, at, at + timedelta(days=rng.randrange(1, 10)))]
            if rng.random() < 0.5:
                at += timedelta(hours=rng.randrange(1, 300))
                steps += [b.submitted(c, at), b.verified(c, at + timedelta(hours=5))]
        events += steps
    return sorted(events, key=lambda e: e.occurred_at)


def _ticks() -> list[datetime]:
    return [START + timedelta(hours=h) for h in range(24 * 45)]


def _merge(events: list[Event]) -> list[Event | datetime]:
    timeline: list[tuple[datetime, int, Event | datetime]] = [(e.occurred_at, 1, e) for e in events]
    timeline += [(t, 0, t) for t in _ticks()]
    return [item for _, _, item in sorted(timeline, key=lambda x: (x[0], x[1]))]


def _ids(outputs: list[Event]) -> list[str]:
    return sorted(e.event_id for e in outputs)


def test_index_driven_loop_matches_brute_force(ctx: Context) -> None:
    timeline = _merge(_history(random.Random(11), 90))

    brute_states: dict[str, CaseState | None] = {}
    brute_out: list[Event] = []
    for item in timeline:
        if isinstance(item, datetime):
            for case_id, state in list(brute_states.items()):
                if state is not None:
                    d = on_tick(state, item, ctx)
                    brute_states[case_id] = d.state
                    brute_out += d.outputs
        else:
            d = handle(brute_states.get(item.case_id), item, ctx)
            brute_states[item.case_id] = d.state
            brute_out += d.outputs

    stored: dict[str, object] = {}
    index = DeadlineIndex()
    loop_out: list[Event] = []
    on_ticks = 0
    for n, item in enumerate(timeline):
        if n == len(timeline) // 2:  # restart: states and index come back from storage
            index = DeadlineIndex.from_bytes(index.to_bytes())
        if isinstance(item, datetime):
            for case_id in index.pop_due_cases(item):
                state = load_state(stored[case_id])
                assert state is not None
                d = on_tick(state, item, ctx)
                on_ticks += 1
                index.sync(case_id, d.due)
                stored[case_id] = dump_state(d.state)
                loop_out += d.outputs
        else:
            d = handle(load_state(stored.get(item.case_id)), item, ctx)
            index.sync(item.case_id, d.due)
            stored[item.case_id] = dump_state(d.state)
            loop_out += d.outputs

    assert _ids(loop_out) == _ids(brute_out)
    assert len(brute_out) > 100
    assert on_ticks < len(_ticks()) * len(brute_states) / 20  # only due cases were touched
    for case_id, raw in stored.items():
        state = load_state(raw)
        assert state is not None and index.entries_for(case_id) == sorted(due_entries(state))
