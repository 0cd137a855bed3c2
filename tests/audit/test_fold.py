"""The replay folder against the live case processor, without a broker.

The oracle is :class:`agents.cases.CaseProcessor` run the way the worker runs it (batches of
1000 per partition) over the part of the log the live agents had seen at T; the replay must
hold byte-identical table envelopes and raise the same alerts.
"""

from __future__ import annotations

import uuid
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest
import yaml

from agents.core import engine
from agents.core.context import Context
from agents.core.policy import DEFAULT_POLICY_PATH
from audit import fold as fold_module
from audit.collect import Collector
from audit.fold import AsOf, Mode, ReplayFolder
from schemas.families import CaseFamily
from schemas.models import AlertEvent, ClockTicked, ComplaintAcknowledged
from streams.codec import EventCodec
from streams.topics import Catalogue
from tests.cases.scenario import HOURS, START, Step, build

from .helpers import FakeRecord, build_log, live_run, steps_until

CAT = Catalogue("fold", case_partitions=2)


@pytest.fixture(scope="module")
def ctx() -> Context:
    return engine.default_context()


@pytest.fixture(scope="module")
def scenario() -> tuple[list[Step], set[tuple[str, str, str]]]:
    return build(seed=11, complaints=40)


def _replay(log, as_of: AsOf, ctx: Context, chunk: int = 7) -> tuple[ReplayFolder, Collector]:
    collector = Collector()
    folder = ReplayFolder(CAT, as_of, collector, ctx=ctx)
    for (topic, p), records in sorted(log.items()):
        for i in range(0, len(records), chunk):  # odd chunks: state must carry across feeds
            if folder.feed(topic, p, records[i : i + chunk]):
                break
    folder.finish()
    return folder, collector


def _alert_ids(events) -> set[str]:
    return {e.alert_id for e in events if isinstance(e, AlertEvent)}


@pytest.mark.parametrize("hours", [10, 19, 30, 47, HOURS])
def test_state_as_of_t_equals_the_live_tables_at_t(scenario, ctx, hours) -> None:
    steps, _ = scenario
    until = START + timedelta(hours=hours)
    codec = EventCodec()
    seen_live = build_log(CAT, steps_until(steps, until), codec)
    live, outputs = live_run(CAT, seen_live, ctx)
    whole_log = build_log(CAT, steps, codec)  # replay reads the whole log, later records too
    folder, collector = _replay(whole_log, AsOf.at(until), ctx)
    for family in CaseFamily:
        assert folder.raw_store(family) == live[family], family
    assert set(collector.alerts) == _alert_ids(outputs)
    assert folder.stats.events_applied == sum(1 for s in steps_until(steps, until) if s.event)


def test_replay_raises_the_scenario_oracles_alerts(scenario, ctx) -> None:
    """tests/cases/scenario.py predicts the alerts with arithmetic alone (no core)."""
    steps, expected = scenario
    folder, collector = _replay(build_log(CAT, steps, EventCodec()), AsOf.at(steps[-1].at), ctx)
    got = Counter((a.event_type, a.case_id) for a in collector.alerts.values())
    # Interview recommendations come from the regulator side's platform fold, not the cases.
    case_level = [(kind, case) for kind, _what, case in expected if kind != "InterviewRecommended"]
    assert got == Counter(case_level)
    assert folder.stats.ticks_skipped > 0  # the fast path was used …
    assert folder.stats.ticks_applied > 0  # … and due ticks still reached the processor


def test_fast_path_changes_nothing_but_time(scenario, ctx, monkeypatch) -> None:
    steps, _ = scenario
    log = build_log(CAT, steps, EventCodec())
    fast, fast_col = _replay(log, AsOf.at(steps[-1].at), ctx)
    monkeypatch.setattr(fold_module, "_next_due_ms", lambda proc, partition: 0)
    slow, slow_col = _replay(log, AsOf.at(steps[-1].at), ctx)
    assert slow.stats.ticks_applied > fast.stats.ticks_applied
    for family in CaseFamily:
        assert fast.raw_store(family) == slow.raw_store(family)
    assert set(fast_col.alerts) == set(slow_col.alerts)


def _with_late_ack(steps: list[Step]) -> tuple[list[Step], str, object]:
    """A complaint acknowledged at +30 min whose acknowledgement reaches the log after the
    +20 h tick (a late-arriving fact)."""
    filed = next(s for s in steps if s.event and type(s.event).__name__ == "ComplaintFiled")
    case = filed.event.case_id
    ack = ComplaintAcknowledged(
        event_id=str(uuid.uuid4()), case_id=case, platform_id=filed.event.platform_id,
        occurred_at=filed.at + timedelta(minutes=30),
    )  # fmt: skip
    kept = [s for s in steps if not (s.event and s.event.case_id == case and s is not filed)]
    cut = START + timedelta(hours=20)
    pos = max(i for i, s in enumerate(kept) if s.event is None and s.at <= cut + timedelta(hours=1))
    return [*kept[: pos + 1], Step(ack.occurred_at, ack), *kept[pos + 1 :]], case, cut


def test_known_and_happened_modes_differ_only_on_late_arrivals(scenario, ctx) -> None:
    steps, case, cut = _with_late_ack(scenario[0])
    log = build_log(CAT, steps, EventCodec())
    known, _ = _replay(log, AsOf.at(cut, mode=Mode.KNOWN), ctx)
    happened, _ = _replay(log, AsOf.at(cut, mode=Mode.HAPPENED), ctx)
    key = case.encode()
    known_state = engine.state_from_json(_state_bytes(known, key))
    happened_state = engine.state_from_json(_state_bytes(happened, key))
    assert known_state.status.value == "FILED"  # the bureau did not know of the ack at T
    assert happened_state.status.value == "ACKNOWLEDGED"  # but the log now says it happened
    assert known.stats.partitions[(CAT.cases(CaseFamily.COMPLAINTS), 0)].cutoff_offset is not None


def _state_bytes(folder: ReplayFolder, key: bytes) -> bytes:
    import orjson

    return orjson.dumps(orjson.loads(folder.raw_store(CaseFamily.COMPLAINTS)[key])["s"])


def test_case_and_platform_filters_keep_exactly_those_cases(scenario, ctx) -> None:
    steps, _ = scenario
    log = build_log(CAT, steps, EventCodec())
    full, _ = _replay(log, AsOf.at(steps[-1].at), ctx)
    one = next(iter(full.raw_store(CaseFamily.COMPLAINTS)))
    by_case, _ = _replay(log, AsOf.at(steps[-1].at, case=one.decode()), ctx)
    assert by_case.raw_store(CaseFamily.COMPLAINTS) == {
        one: full.raw_store(CaseFamily.COMPLAINTS)[one]
    }
    by_platform, col = _replay(log, AsOf.at(steps[-1].at, platform="shop-b"), ctx)
    for family in CaseFamily:
        want = {k: v for k, v in full.raw_store(family).items() if b'"platform_id":"shop-b"' in v}
        assert by_platform.raw_store(family) == want
    assert {a.platform_id for a in col.alerts.values()} == {"shop-b"}


def test_window_keeps_cases_opened_inside_it(scenario, ctx) -> None:
    steps, _ = scenario
    since = START + timedelta(hours=20)
    log = build_log(CAT, steps, EventCodec())
    folder, _ = _replay(log, AsOf.at(steps[-1].at, since=since), ctx)
    full, _ = _replay(log, AsOf.at(steps[-1].at), ctx)
    opened_inside = {
        s.event.case_id.encode()
        for s in steps
        if s.event and type(s.event).__name__ in fold_module.OPENING_EVENTS and s.at >= since
    }
    got = set(folder.raw_store(CaseFamily.COMPLAINTS)) | set(folder.raw_store(CaseFamily.REFUNDS))
    assert got == opened_inside
    for key in folder.raw_store(CaseFamily.COMPLAINTS):  # complete histories, same states
        assert (
            folder.raw_store(CaseFamily.COMPLAINTS)[key]
            == full.raw_store(CaseFamily.COMPLAINTS)[key]
        )
    assert folder.stats.cases_before_window > 0


def _moved(filed, when):  # type: ignore[no-untyped-def]
    """The scenario's complaints name SAMR-20; these must pick the version by their date."""
    return filed.model_copy(
        update={"occurred_at": when, "intake_at": when, "policy_rule_version": None}
    )


def test_each_case_keeps_the_policy_version_it_started_under(tmp_path: Path) -> None:
    """A log spanning a policy change: SAMR-121 (12 h acknowledgement) from 2026-04-15."""
    raw = yaml.safe_load(DEFAULT_POLICY_PATH.read_text())
    newer = yaml.safe_load(yaml.safe_dump(raw["versions"][0]))
    newer["id"], newer["effective_from"] = "SAMR-121", "2026-04-15"
    newer.pop("effective_to")
    for rule in newer["rules"]:
        if rule["id"] == "COMPLAINT_ACKNOWLEDGE":
            rule["targets"] = {"URGENT": 2, "NORMAL": 12}
    raw["versions"][1] = newer  # the packaged SAMR-121, with the rules of SAMR-20
    policy = tmp_path / "policy.yaml"
    policy.write_text(yaml.safe_dump(raw, allow_unicode=True))
    ctx = Context.load(policy)
    steps, _ = build(seed=3, complaints=2)
    complaints = [s for s in steps if s.event and type(s.event).__name__ == "ComplaintFiled"]
    old_case, new_case = complaints[0].event, complaints[1].event
    before = START.replace(month=4, day=10)
    after = START.replace(month=4, day=20)
    old_ack = ComplaintAcknowledged(
        event_id="ack-old", case_id=old_case.case_id, platform_id=old_case.platform_id,
        occurred_at=before + timedelta(hours=14),
    )  # fmt: skip
    shifted = [
        Step(before, _moved(old_case, before)),
        Step(before + timedelta(hours=13), None),  # 13 h < 24 h: no breach under SAMR-20
        Step(old_ack.occurred_at, old_ack),
        Step(after, _moved(new_case, after)),
        Step(after + timedelta(hours=13), None),  # 13 h > 12 h: breach under SAMR-121
    ]
    folder, collector = _replay(build_log(CAT, shifted, EventCodec()), AsOf.at(
        after + timedelta(days=1)), ctx)  # fmt: skip
    states = {
        k.decode(): engine.state_from_json(_state_bytes(folder, k))
        for k in folder.raw_store(CaseFamily.COMPLAINTS)
    }
    assert states[old_case.case_id].policy_version == "SAMR-20"
    assert states[new_case.case_id].policy_version == "SAMR-121"
    breached = {
        a.case_id
        for a in collector.alerts.values()
        if a.event_type == "SlaBreached" and a.rule_id == "COMPLAINT_ACKNOWLEDGE"
    }
    assert breached == {new_case.case_id}  # 12 h under SAMR-121; the old case has 24 h


def test_undecodable_record_is_reported_as_the_agent_would_dead_letter_it(ctx) -> None:
    codec = EventCodec()
    tick = ClockTicked(event_id="t1", case_id="", platform_id="bureau", occurred_at=START,
                       tick_at=START)  # fmt: skip
    _k, value, headers = codec.encode(tick, "/bureau/clock")
    log = {
        (CAT.cases(CaseFamily.COMPLAINTS), 0): [
            FakeRecord(0, 1, b"x", b"\x01garbage", []),
            FakeRecord(1, 2, None, value, list(headers)),
        ]
    }
    folder, collector = _replay(log, AsOf.at(START + timedelta(hours=1)), ctx)
    assert folder.stats.dead_letters == 1
    (dead,) = collector.dead_letters
    assert (dead.original_offset, dead.reason.value) == (0, "MISSING_HEADER")
