"""The simulator's prediction of inbox notices and notifications (devtools/simulator/
inbox_predict.py) against the policy file and, without a broker, the core and the notifier's
own planning: every case of a short run is folded through the core, its alerts routed by the
roster and planned by :class:`agents.notifier.Notifier` — the (alert id, recipient, channel)
triples must be the predicted ones."""

from __future__ import annotations

import bisect
from collections import Counter, defaultdict
from datetime import date, datetime, timedelta

import pytest

from agents.core import default_context, handle
from agents.core.roster import Roster
from agents.core.routing import AlertRouter, RoutingPolicy
from agents.notifier import Notifier
from devtools.simulator import SimConfig, Simulation, Tick
from devtools.simulator.inbox_predict import (
    NOTICE_OF_ALERT,
    NOTIFIED_BREACH_LEVELS,
    NOTIFIED_EVENTS,
    OFFICE_TOO_FOR,
    UNITS_BY_LEVEL,
    DeliveryPrediction,
    notice_kind,
    predicted_notifications,
)
from devtools.simulator.model import ExpectedAlert
from devtools.simulator.platforms import coverage
from schemas.families import INBOX_ALERTS
from schemas.families import PLATFORM_EVENTS as CASE_NAMES  # not the governance events
from schemas.models import AlertEvent, ClockTicked, Event, InterviewRecommended, NotifyChannel


def test_the_notification_rules_are_the_policy_files() -> None:
    notify = RoutingPolicy.load().notify
    assert set(notify.events) == NOTIFIED_EVENTS
    assert set(notify.breach_levels) == NOTIFIED_BREACH_LEVELS
    assert {lvl: tuple(units) for lvl, units in notify.recipients.items()} == UNITS_BY_LEVEL
    assert set(notify.office_too_for) == OFFICE_TOO_FOR
    assert set(NOTICE_OF_ALERT) == set(INBOX_ALERTS)


def test_notice_kinds_follow_the_sdk() -> None:
    from clients import notices

    for name in (*NOTICE_OF_ALERT.values(), "CaseDecision", "RefusedRecord"):
        assert hasattr(notices, name), name
    assert notice_kind("ComplaintForwarded", sender_is_bureau=True) == "CaseDecision"
    assert notice_kind("ComplaintFiled", sender_is_bureau=True) is None  # hotline intake
    assert notice_kind("RectificationSubmitted", sender_is_bureau=False) is None
    assert notice_kind("DeadLetterNotice", sender_is_bureau=False) == "RefusedRecord"


def _tick(at: datetime) -> ClockTicked:
    return ClockTicked(event_id="t", case_id="", platform_id="bureau", occurred_at=at, tick_at=at)


def _core_alerts(
    events: list[Event], ticks: list[datetime], router: AlertRouter
) -> list[AlertEvent]:
    state = None
    out: list[AlertEvent] = []
    ti = bisect.bisect_left(ticks, events[0].occurred_at)
    stream: list[Event] = []
    for event in events:
        while ti < len(ticks) and ticks[ti] < event.occurred_at:
            stream.append(_tick(ticks[ti]))
            ti += 1
        stream.append(event)
    stream += [_tick(t) for t in ticks[ti:]]
    ctx = default_context()
    for event in stream:
        decision = handle(state, event, ctx)
        state = decision.state
        out += [r for a in decision.alerts for r in router.route(a)]
    return out


@pytest.mark.parametrize(
    "cfg",
    [SimConfig(days=3), SimConfig(seed=5, tick_minutes=60, days=4, start=date(2026, 4, 13))],
    ids=["short", "order-20-to-121"],
)
def test_predicted_notifications_are_what_the_notifier_plans(cfg: SimConfig) -> None:
    alerts: list[ExpectedAlert] = []
    sim = Simulation(cfg, sink=alerts.append)
    events: defaultdict[tuple[str, str], list[Event]] = defaultdict(list)
    ticks: list[datetime] = []
    for item in sim:
        if isinstance(item, Tick):
            ticks.append(item.at)
        elif item.routed and item.event is not None and item.event.EVENT_NAME in CASE_NAMES:
            events[(type(item.event).__module__, item.case_id)].append(item.event)
    roster = Roster(tuple(coverage(cfg.roster, cfg.start_at - timedelta(days=400))))
    router = AlertRouter(roster)

    async def no_log(_event: Event) -> None:
        return None

    channels = {c: object() for c in NotifyChannel}
    notifier = Notifier(roster, router.policy, channels, no_log)  # type: ignore[arg-type]
    planned: set[tuple[str, str, str]] = set()
    delivery_ids: set[str] = set()
    for case_events in events.values():
        for alert in _core_alerts(case_events, ticks, router):
            for d in notifier.plan(alert):
                planned.add((d.alert.alert_id, d.recipient.contact, d.channel.value))
                delivery_ids.add(d.delivery_id)
    prediction = sim.outcome.deliveries
    every = predicted_notifications(alerts, prediction.platforms)
    predicted = [n for n in every if n.kind != InterviewRecommended.EVENT_NAME]
    assert {n.key() for n in predicted} == planned
    assert {n.delivery_id for n in predicted} == delivery_ids
    assert len(predicted) == len(planned), "one delivery per alert, recipient and channel"
    kinds = {n.kind for n in predicted}
    assert kinds == {"SlaBreached", "EscalationRaised"}, kinds
    assert {n.channel for n in predicted} == set(NotifyChannel)
    # the outcome's counters are those deliveries; with only a webhook, nobody by e-mail
    counted = prediction.to_json()["notifications"]
    assert counted["planned"] == counted["delivered"] == len(every)
    assert counted["by_channel"] == dict(sorted(Counter(n.channel.value for n in every).items()))
    only_hook = predicted_notifications(alerts, prediction.platforms, {NotifyChannel.WEBHOOK})
    assert only_hook and {n.channel for n in only_hook} == {NotifyChannel.WEBHOOK}
    hooked = prediction.to_json({NotifyChannel.WEBHOOK})["notifications"]
    assert hooked["delivered"] == len(only_hook) < hooked["planned"] and hooked["unreachable"]


def test_inbox_notices_add_up_to_the_outcomes_inbox_counts() -> None:
    alerts: list[ExpectedAlert] = []
    sim = Simulation(SimConfig(days=3), sink=alerts.append)
    for _ in sim:
        pass
    prediction: DeliveryPrediction = sim.outcome.deliveries
    registered = {p.platform_id for p in SimConfig(days=3).roster}
    assert prediction.inbox_totals() == {
        p: n for p, n in sim.outcome.inbox.items() if p in registered and n
    }
    kinds = {k for c in prediction.inbox.values() for k in c}
    assert {"CaseDecision", "DeadlineWarning", "DeadlineBreached", "RefusedRecord"} <= kinds
    # interview notices: one per predicted recommendation of the platform
    interviews = defaultdict(int)
    for a in alerts:
        if a.kind == "InterviewRecommended":
            interviews[a.platform_id] += 1
    assert {
        p: c["InterviewNotice"] for p, c in prediction.inbox.items() if c["InterviewNotice"]
    } == (dict(interviews))
