"""A platform hears, through the SDK's inbox reader, every decision the bureau takes on its
cases, a warning (with the time left) before each breach, its refused records — and nothing
about another platform's cases. The same worker run routes every alert by the roster, and a
platform with no roster entry raises ROSTER_MISSING.

The scenario is published as it would happen: each run of records on one ingress topic only
once the previous run is on the case topics (a platform answers what its inbox told it, and
ingress writes the case topic and the inbox copy in one batch), so no case sees an illegal
transition; the ticks follow, and the inbox is read past everything the worker wrote."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from clients.inbox import PlatformInbox
from clients.notices import (
    CaseDecision,
    DeadlineBreached,
    DeadlineWarning,
    Notice,
    RefusedRecord,
    ViolationNotice,
)
from schemas.families import CaseFamily
from schemas.models import (
    AlertEvent,
    Category,
    Channel,
    ComplaintAcknowledged,
    ComplaintEscalated,
    ComplaintFiled,
    ComplaintForwarded,
    ComplaintReopened,
    ComplaintResolved,
    DeadLetterReason,
    Event,
    InspectionFindingRecorded,
    Level,
    Outcome,
    Priority,
    RectificationOrdered,
    RectificationRejected,
    RectificationSubmitted,
    RectificationVerified,
    RiskSignalRaised,
)
from streams.cloudevents_headers import CE_ID
from streams.codec import EventCodec
from streams.registry import add_platform
from streams.roster_log import publish_roster
from streams.ticks import publish_ticks
from streams.topics import Catalogue
from tests.audit.helpers import end_offsets, wait_processed
from tests.kafka_helpers import TopicReader, produce, wait_until
from tests.notify.helpers import assignment

pytestmark = pytest.mark.broker
CODEC = EventCodec()
BUREAU = "/bureau/hd-zgc"


def _id() -> str:
    return str(uuid.uuid4())


def _filed(case_id: str, platform: str, at: datetime, channel: Channel) -> ComplaintFiled:
    return ComplaintFiled(
        event_id=_id(),
        case_id=case_id,
        platform_id=platform,
        occurred_at=at,
        channel=channel,
        category=Category.DELIVERY_GOODS_DAMAGE,
        priority=Priority.NORMAL,
        claimed_amount_fen=9_900,
        insured=False,
        office="HD-ZGC",
        consumer_ref="c-7f3a",
        intake_at=at,
    )


def _base(case_id: str, platform: str, at: datetime) -> dict[str, Any]:
    return {"event_id": _id(), "case_id": case_id, "platform_id": platform, "occurred_at": at}


class _Routed:
    """The event ids ingress has written to the case topics so far."""

    def __init__(self, bootstrap: str, catalogue: Catalogue) -> None:
        self.reader = TopicReader(bootstrap, *(catalogue.cases(f) for f in CaseFamily))
        self.ids: set[str] = set()
        self._seen = 0

    async def __aenter__(self) -> _Routed:
        await self.reader.__aenter__()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.reader.__aexit__(*exc)

    async def wait_for(self, ids: set[str], timeout: float, why: Callable[[], str]) -> None:
        def routed(records: list[Any]) -> bool:
            for r in records[self._seen :]:
                self.ids.update(v.decode() for k, v in r.headers or () if k == CE_ID)
            self._seen = len(records)
            return ids <= self.ids

        await self.reader.read_until(routed, timeout, why)


async def _read_to_end(bootstrap: str, topic: str, group: str, timeout: float) -> None:
    """Until ``group`` has committed past every record ``topic`` holds now."""
    from aiokafka.admin import AIOKafkaAdminClient

    ends = {tp: end for tp, end in (await end_offsets(bootstrap, [topic])).items() if end}
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        deadline = time.monotonic() + timeout
        while True:
            done = await admin.list_consumer_group_offsets(group)
            behind = {tp: e for tp, e in ends.items() if tp not in done or done[tp].offset < e}
            if not behind:
                return
            assert time.monotonic() < deadline, f"inbox reader still behind on {behind}"
            await asyncio.sleep(0.1)
    finally:
        await admin.close()


async def test_the_platform_hears_every_decision_and_each_warning_before_its_breach(
    settings: Any, catalogue: Any, worker_factory: Any
) -> None:
    for p in ("acme", "other", "loner"):
        await add_platform(settings, p)
    await publish_roster(
        settings,
        [
            assignment("acme", office="HD-ZGC", leader="WANG-JU"),
            assignment("other", office="HD-XSQ", leader="LI-JU"),
            assignment("bureau", office="HD-JG", department="INFORMATION_TECHNOLOGY"),
        ],
    )
    t0 = datetime.now(UTC).replace(microsecond=0) - timedelta(days=3)
    late, hot, rect, theirs, lonely = (f"{k}-{uuid.uuid4().hex[:6]}" for k in "LHRTN")
    mine: list[Event] = [  # what acme itself sends
        ComplaintAcknowledged(**_base(hot, "acme", t0 + timedelta(minutes=90))),
        ComplaintResolved(
            **_base(hot, "acme", t0 + timedelta(hours=3)),
            outcome=Outcome.SETTLED,
            compensation_fen=0,
        ),
    ]
    decisions: list[Event] = [
        # a hotline work order acme never signs for (签收): warned at 50 % and 75 %, then breached
        ComplaintForwarded(**_base(late, "acme", t0 + timedelta(minutes=30)), forwarded_by="12345"),
        ComplaintForwarded(**_base(hot, "acme", t0 + timedelta(hours=1)), forwarded_by="12345"),
        ComplaintEscalated(
            **_base(hot, "acme", t0 + timedelta(hours=2)),
            level=Level.DEPARTMENT,
            reason="repeat complaint",
        ),
        ComplaintReopened(**_base(hot, "acme", t0 + timedelta(hours=4)), reason="not settled"),
        InspectionFindingRecorded(
            **_base(rect, "acme", t0),
            spot_check_id="sc-1",
            live_room_ref="lr-1",
            negative_list_code="NL-06",
            evidence_refs=["ev-1"],
            inspecting_unit="HD-ZGC",
            office="HD-ZGC",
        ),
        RectificationOrdered(
            **_base(rect, "acme", t0 + timedelta(hours=1)),
            deadline=t0 + timedelta(days=10),
            required_actions=["take down"],
            ordering_unit="HD-ZGC",
        ),
        RectificationRejected(
            **_base(rect, "acme", t0 + timedelta(hours=6)),
            reason="evidence incomplete",
            new_deadline=t0 + timedelta(days=12),
        ),
        RectificationVerified(**_base(rect, "acme", t0 + timedelta(hours=9)), verified_by="HD-ZGC"),
    ]
    submitted = [
        RectificationSubmitted(**_base(rect, "acme", t0 + timedelta(hours=5)), evidence_refs=["a"]),
        RectificationSubmitted(**_base(rect, "acme", t0 + timedelta(hours=8)), evidence_refs=["b"]),
    ]
    intake = [_filed(hot, "acme", t0, Channel.HOTLINE_12345)]
    intake.append(_filed(late, "acme", t0, Channel.HOTLINE_12345))
    bureau = [
        *intake,
        *decisions,
        _filed(theirs, "other", t0, Channel.HOTLINE_12345),
        ComplaintForwarded(**_base(theirs, "other", t0 + timedelta(hours=1)), forwarded_by="12345"),
        _filed(lonely, "loner", t0, Channel.HOTLINE_12345),  # a platform with no roster entry
        ComplaintForwarded(**_base(lonely, "loner", t0 + timedelta(hours=1)), forwarded_by="12345"),
    ]
    refused = _filed(
        f"F-{uuid.uuid4().hex[:6]}",
        "acme",
        datetime.now(UTC) + timedelta(hours=2),
        Channel.PLATFORM_APP,
    )
    # One timeline over four ingress topics, as it happened (ties keep the list's order).
    timeline: list[tuple[str, str, Event]] = sorted(
        [(catalogue.bureau_ingress, BUREAU, e) for e in bureau]
        + [(catalogue.ingress("acme"), "/platforms/acme", e) for e in mine + submitted]
        + [
            (
                catalogue.ingress("other"),
                "/platforms/other",
                _filed(f"O-{uuid.uuid4().hex[:6]}", "other", t0, Channel.PLATFORM_APP),
            ),
        ],
        key=lambda step: step[2].occurred_at,
    )

    worker = worker_factory("--no-web")
    async with _Routed(settings.bootstrap, catalogue) as routed:
        # Ingress reads its topics independently, so the case topic keeps a case's order
        # only within one ingress topic: each run of one topic is published once the
        # previous run is on the case topics.
        for topic, run in itertools.groupby(timeline, key=lambda step: step[0]):
            steps = list(run)
            await produce(settings.bootstrap, topic, [CODEC.encode(e, src) for _t, src, e in steps])
            await routed.wait_for(
                {e.event_id for _t, _s, e in steps},
                90,
                lambda topic=topic: f"ingress did not route {topic}:\n{worker.log_tail()}",
            )
    await produce(
        settings.bootstrap, catalogue.ingress("acme"), [CODEC.encode(refused, "/platforms/acme")]
    )
    async with TopicReader(settings.bootstrap, catalogue.deadletter) as dead:
        await dead.read_until(
            lambda r: len(r) >= 1, 60, lambda: f"no dead letter:\n{worker.log_tail()}"
        )
    # every case event is on its partition before the clock moves on
    for hours in (13, 19, 25):  # 50 %, 75 % of the 24 h acknowledgement, then past it
        await publish_ticks(settings.bootstrap, catalogue, t0 + timedelta(hours=hours))
    await wait_processed(settings.bootstrap, catalogue, 90, worker.log_tail())

    got: list[Notice] = []
    group = f"{settings.topic_prefix}.platform-acme.t"

    async def read() -> None:
        async with PlatformInbox(
            "acme",
            settings.bootstrap,
            prefix=settings.topic_prefix,
            group_id=group,
        ) as inbox:
            async for notice in inbox.notices():
                got.append(notice)

    reader = asyncio.create_task(read())

    def breached() -> bool:
        return any(isinstance(n, DeadlineBreached) and n.case_id == late for n in got)

    def decided() -> bool:
        seen = {n.event.event_id for n in got if isinstance(n, CaseDecision)}
        return {e.event_id for e in decisions} <= seen

    try:
        await wait_until(
            lambda: breached() and decided() and any(isinstance(n, RefusedRecord) for n in got),
            90,
            lambda: f"inbox: {[type(n).__name__ for n in got]}\n{worker.log_tail()}",
        )
        # everything the worker wrote to the inbox by now has been read
        await _read_to_end(settings.bootstrap, catalogue.inbox("acme"), group, 30)
    finally:
        reader.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await reader
    assert worker.alive(), worker.log_tail()

    # every decision on its cases, each case's in the order taken, with the new deadline
    case_decisions = [n for n in got if isinstance(n, CaseDecision)]
    for case in (hot, rect):
        assert [n.event.event_id for n in case_decisions if n.case_id == case] == [
            e.event_id for e in decisions if e.case_id == case
        ]
    assert len(case_decisions) == len(decisions)
    rejected = next(n for n in case_decisions if n.decision == "RectificationRejected")
    assert rejected.deadline == t0 + timedelta(days=12)
    # nothing about another platform, nothing the platform sent itself, no hotline intake
    assert {n.event.platform_id for n in got} == {"acme"}
    assert theirs not in {getattr(n, "case_id", "") for n in got}
    assert not {e.event_id for e in intake} & {n.event.event_id for n in got}
    # each case's events reached its agent in the order they happened: no illegal transition
    assert not [n for n in got if isinstance(n, ViolationNotice)], got
    # a warning, with the time left, ahead of each breach of its own cases
    for n, breach in enumerate(got):
        if isinstance(breach, DeadlineBreached):
            warned = [
                w
                for w in got[:n]
                if isinstance(w, DeadlineWarning)
                and w.case_id == breach.case_id
                and w.rule_id == breach.rule_id
            ]
            assert {w.threshold_pct for w in warned} == {50, 75}, (breach, got)
            assert all(w.time_left > timedelta(0) for w in warned)
            assert breach.office == "HD-ZGC" and breach.event.leader == "WANG-JU"
    ack = [
        w
        for w in got
        if isinstance(w, DeadlineWarning)
        and w.case_id == late
        and w.rule_id == "COMPLAINT_ACKNOWLEDGE"
    ]
    assert sorted(w.time_left for w in ack) == [timedelta(hours=5), timedelta(hours=11)]
    [refusal] = [n for n in got if isinstance(n, RefusedRecord)]
    assert refusal.reason is DeadLetterReason.FUTURE_TIMESTAMP
    assert refusal.your_event_id == refused.event_id and refusal.topic == catalogue.ingress("acme")

    # every alert is routed by the roster; the unrostered platform raised ROSTER_MISSING
    async with TopicReader(settings.bootstrap, catalogue.alerts) as alerts:
        await alerts.read_until(
            lambda r: any(b"ROSTER_MISSING" in (x.value or b"") for x in r),
            30,
            lambda: f"no ROSTER_MISSING:\n{worker.log_tail()}",
        )
        await alerts.settle(quiet=1.0)
        raised = [CODEC.decode(r.value, r.headers) for r in alerts.records]
    owners = {(a.platform_id, a.office, a.leader) for a in raised if isinstance(a, AlertEvent)}
    assert ("acme", "HD-ZGC", "WANG-JU") in owners and ("other", "HD-XSQ", "LI-JU") in owners
    assert all(office not in ("UNASSIGNED", "BUREAU") for _p, office, _l in owners), owners
    [missing] = [
        a for a in raised if isinstance(a, RiskSignalRaised) and a.rule_id == "ROSTER_MISSING"
    ]
    assert missing.subject == "loner" and missing.office == "HD-JG"
    assert {a.office for a in raised if isinstance(a, AlertEvent) and a.platform_id == "loner"} == {
        "HD-JG"
    }
