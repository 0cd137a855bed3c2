"""The alert subscriber against the real broker: filters, once per alert, resume, since."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from aiokafka import AIOKafkaProducer

from clients.subscriber import (
    AlertSubscriber,
    InvalidFilter,
    SubscriberBusy,
    SubscriptionError,
    subscribe,
)
from schemas.models import AlertEvent, Level, Severity, SlaBreached, SlaWarningRaised
from streams.codec import EventCodec

CODEC = EventCodec()
FAST = {"poll_timeout": 0.2}  # short polls: drain() ends after three empty ones
AT = datetime(2025, 6, 2, 1, tzinfo=UTC)


def make_alert(n: int, level: Level, office: str = "HD-ZGC", platform: str = "alpha") -> AlertEvent:
    ident = str(uuid.uuid5(uuid.NAMESPACE_URL, f"alert-{n}-{level}-{office}-{platform}"))
    common = dict(
        event_id=ident, case_id=f"C-{n}", platform_id=platform,
        occurred_at=AT + timedelta(minutes=n),
        alert_id=ident, rule_id="COMPLAINT_ACKNOWLEDGE", office=office, department="CP",
        subject=f"C-{n}", due_at=AT, observed_at=AT + timedelta(minutes=n), detail=f"alert {n}",
        policy_version="SAMR-20",
    )  # fmt: skip
    if level is Level.OFFICE:
        return SlaWarningRaised(**common, severity=Severity.INFO, level=level, threshold_pct=50)
    return SlaBreached(**common, severity=Severity.MAJOR, level=level)


async def send(bootstrap: str, topic: str, alerts: list[AlertEvent]) -> list[int]:
    """Produce alerts keyed by subject; return their record timestamps (ms)."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=True)
    await producer.start()
    try:
        futures = []
        for alert in alerts:
            _key, value, headers = CODEC.encode(alert, "/bureau/regbus")
            futures.append(
                await producer.send(topic, value, key=alert.subject.encode(), headers=headers)
            )
        return [(await f).timestamp for f in futures]
    finally:
        await producer.stop()


async def take(sub: AlertSubscriber, n: int, timeout: float = 20.0) -> list[AlertEvent]:
    """The next ``n`` alerts (bounded), then a short wait that must bring nothing more."""
    import asyncio

    out: list[AlertEvent] = []
    async with asyncio.timeout(timeout):
        while len(out) < n:
            out.append(await anext(sub))
    return out


async def drain(sub: AlertSubscriber, polls: int = 3) -> list[AlertEvent]:
    """Whatever arrives within a few empty polls (the batch API never blocks long)."""
    out: list[AlertEvent] = []
    empty = 0
    while empty < polls:
        batch = await sub.next_batch()
        out += [r.alert for r in batch]
        empty = 0 if batch else empty + 1
    return out


@pytest.fixture
def alerts_topic(catalogue) -> str:  # type: ignore[no-untyped-def]
    return catalogue.alerts


async def test_department_subscriber_gets_each_department_alert_once(
    settings, alerts_topic, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    alerts = [
        make_alert(n, [Level.OFFICE, Level.DEPARTMENT, Level.LEADERSHIP][n % 3]) for n in range(12)
    ]
    await send(settings.bootstrap, alerts_topic, alerts)
    await send(settings.bootstrap, alerts_topic, alerts[::2])  # duplicates, at new offsets
    wanted = [a.alert_id for a in alerts if a.level is Level.DEPARTMENT]
    async with subscribe(
        settings.bootstrap, settings.topic_prefix, level="DEPARTMENT",
        group_id=f"{settings.topic_prefix}.regbus-regulator.t1", start="earliest",
        state_dir=tmp_path, **FAST,
    ) as sub:  # fmt: skip
        got = await take(sub, len(wanted))
        assert await drain(sub) == []
    assert sorted(a.alert_id for a in got) == sorted(wanted)
    assert {a.level for a in got} == {Level.DEPARTMENT}
    assert sub.stats.duplicates > 0  # the re-produced ones were seen and dropped


async def test_a_restarted_subscriber_resumes_without_loss_or_repeats(
    settings, alerts_topic, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    first = [make_alert(n, Level.DEPARTMENT) for n in range(10)]
    await send(settings.bootstrap, alerts_topic, first)
    group = f"{settings.topic_prefix}.regbus-regulator.restart"
    kwargs = dict(group_id=group, start="earliest", state_dir=tmp_path, commit_interval=0.0, **FAST)
    async with subscribe(settings.bootstrap, settings.topic_prefix, **kwargs) as sub:
        part1 = await take(sub, 4)
    # more alerts while it is down, and every alert it already showed, once more
    later = [make_alert(n, Level.DEPARTMENT) for n in range(10, 13)]
    await send(settings.bootstrap, alerts_topic, first[:4] + later + first[4:6])
    async with subscribe(settings.bootstrap, settings.topic_prefix, **kwargs) as sub:
        part2 = await take(sub, 9)
        assert await drain(sub) == []
    ids1, ids2 = [a.alert_id for a in part1], [a.alert_id for a in part2]
    assert not set(ids1) & set(ids2)
    assert sorted(ids1 + ids2) == sorted(a.alert_id for a in first + later)


async def test_a_crash_before_the_commit_repeats_nothing(settings, alerts_topic, tmp_path) -> None:  # type: ignore[no-untyped-def]
    alerts = [make_alert(n, Level.DEPARTMENT) for n in range(6)]
    await send(settings.bootstrap, alerts_topic, alerts)
    group = f"{settings.topic_prefix}.regbus-regulator.crash"
    kwargs = dict(
        group_id=group, start="earliest", state_dir=tmp_path, commit_interval=3600.0, **FAST
    )
    sub = subscribe(settings.bootstrap, settings.topic_prefix, **kwargs)
    await sub.start()
    shown = await take(sub, 3)
    await sub.next_batch(max_alerts=0)  # asking for more marks the third as delivered
    # crash: the consumer goes away without committing (position still at the start)
    consumer, sub._consumer = sub._consumer, None
    await consumer.stop()
    sub._close_state()
    async with subscribe(settings.bootstrap, settings.topic_prefix, **kwargs) as again:
        rest = await take(again, 3)
        assert await drain(again) == []
    assert sorted(a.alert_id for a in shown + rest) == sorted(a.alert_id for a in alerts)


async def test_an_alert_whose_handling_failed_comes_again(settings, alerts_topic, tmp_path) -> None:  # type: ignore[no-untyped-def]
    alerts = [make_alert(n, Level.LEADERSHIP) for n in range(3)]
    await send(settings.bootstrap, alerts_topic, alerts)
    kwargs = dict(
        group_id=f"{settings.topic_prefix}.regbus-regulator.fail", start="earliest",
        state_dir=tmp_path, **FAST,
    )  # fmt: skip
    with pytest.raises(RuntimeError):
        async with subscribe(settings.bootstrap, settings.topic_prefix, **kwargs) as sub:
            (shown,) = await take(sub, 1)
            failing = await anext(sub)
            raise RuntimeError("could not show it")
    async with subscribe(settings.bootstrap, settings.topic_prefix, **kwargs) as sub:
        again = await take(sub, 2)
        assert await drain(sub) == []
    assert {a.alert_id for a in again} == {a.alert_id for a in alerts} - {shown.alert_id}
    assert failing.alert_id in {a.alert_id for a in again}


async def test_since_starts_at_the_first_alert_published_after_it(
    settings, alerts_topic, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    await send(settings.bootstrap, alerts_topic, [make_alert(n, Level.OFFICE) for n in range(5)])
    newer = [make_alert(n, Level.OFFICE) for n in range(5, 8)]
    stamps = await send(settings.bootstrap, alerts_topic, newer)
    since = datetime.fromtimestamp(min(stamps) / 1000, UTC)
    async with subscribe(settings.bootstrap, settings.topic_prefix, since=since, **FAST) as sub:
        got = await take(sub, 3)
        extra = await drain(sub)
    assert {a.alert_id for a in got + extra} == {a.alert_id for a in newer}


async def test_office_and_platform_filters(settings, alerts_topic) -> None:  # type: ignore[no-untyped-def]
    alerts = [
        make_alert(1, Level.DEPARTMENT, office="HD-ZGC", platform="alpha"),
        make_alert(2, Level.DEPARTMENT, office="HD-XSQ", platform="alpha"),
        make_alert(3, Level.DEPARTMENT, office="HD-ZGC", platform="beta"),
    ]
    await send(settings.bootstrap, alerts_topic, alerts)
    async with subscribe(
        settings.bootstrap, settings.topic_prefix, office="HD-ZGC", platform=["alpha"],
        rules="COMPLAINT_ACKNOWLEDGE", start="earliest", **FAST,
    ) as sub:  # fmt: skip
        got = await drain(sub)
    assert [a.alert_id for a in got] == [alerts[0].alert_id]


async def test_one_process_per_group_and_clear_errors(settings, alerts_topic, tmp_path) -> None:  # type: ignore[no-untyped-def]
    group = f"{settings.topic_prefix}.regbus-regulator.busy"
    async with subscribe(settings.bootstrap, settings.topic_prefix, group_id=group,
                         state_dir=tmp_path):  # fmt: skip
        with pytest.raises(SubscriberBusy):
            await subscribe(
                settings.bootstrap, settings.topic_prefix, group_id=group, state_dir=tmp_path
            ).start()
    with pytest.raises(InvalidFilter, match="unknown level"):
        subscribe(settings.bootstrap, settings.topic_prefix, level="BOSS")
    with pytest.raises(SubscriptionError, match="does not exist"):
        await subscribe(settings.bootstrap, "no-such-prefix-" + uuid.uuid4().hex[:6]).start()
    with pytest.raises(SubscriptionError, match="time zone"):
        subscribe(settings.bootstrap, settings.topic_prefix, since=datetime(2025, 6, 2))
