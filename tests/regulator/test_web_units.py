"""Pieces of the HTTP API and the CLI that need no broker: ring, health, parameters."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
import typer

from agents.web import AlertRing, health
from clients.subscriber import AlertFilter, ReceivedAlert
from regbus.cli.alerts import group_id, parse_since
from schemas.models import Level

from .test_subscriber import make_alert

T0 = datetime(2026, 3, 2, 1, tzinfo=UTC)


def received(n: int, level: Level = Level.DEPARTMENT, platform: str = "alpha") -> ReceivedAlert:
    return ReceivedAlert(make_alert(n, level, platform=platform), T0 + timedelta(minutes=n), 0, n)


def test_ring_filters_by_fields_time_and_last_event_id() -> None:
    ring = AlertRing(size=5)
    ring.add([received(n, Level.OFFICE if n % 2 else Level.DEPARTMENT) for n in range(7)])
    assert [e.alert["detail"] for e in ring.entries] == [f"alert {n}" for n in range(2, 7)]
    dept = AlertFilter.of(level="DEPARTMENT")
    assert [e.alert["detail"] for e in ring.query(dept, None)] == ["alert 2", "alert 4", "alert 6"]
    since = T0 + timedelta(minutes=4)
    assert len(ring.query(AlertFilter(), since)) == 3
    after = ring.entries[2].alert["alert_id"]
    assert [e.alert["detail"] for e in ring.query(AlertFilter(), None, after)] == [
        "alert 5", "alert 6",
    ]  # fmt: skip


async def test_ring_feeds_listeners_and_cuts_off_slow_ones() -> None:
    ring = AlertRing()
    fast, slow = ring.listen(), ring.listen()
    ring.add([received(1)])
    assert (await asyncio.wait_for(fast.queue.get(), 1)).alert["detail"] == "alert 1"
    for n in range(slow.queue.maxsize):
        ring.add([received(100 + n)])
    assert slow.overflowed and slow not in ring.listeners
    assert not fast.overflowed and fast in ring.listeners  # exactly full is still fine
    fast.queue.get_nowait()
    ring.close()  # the end marker: open streams finish so the server can stop
    items = [fast.queue.get_nowait() for _ in range(fast.queue.qsize())]
    assert items[-1] is None and all(i is not None for i in items[:-1])


def test_health_is_503_until_the_consumer_runs() -> None:
    class App:
        _consumer = None
        rebalancing = False

    assert health(App())[0] == 503

    class Consumer:
        started = True
        crashed = False

        def __init__(self, assigned: set) -> None:
            self._assigned = assigned

        def assignment(self) -> set:
            return self._assigned

    app = App()
    app._consumer = Consumer(set())
    assert health(app) == (503, {"status": "unassigned", "reason": "no partitions assigned"})
    app._consumer = Consumer({("t", 0)})
    app.rebalancing = True
    assert health(app)[0] == 503
    app.rebalancing = False
    assert health(app)[0] == 200


def test_cli_since_and_group() -> None:
    now = datetime(2026, 3, 2, 12, tzinfo=UTC)
    assert parse_since("90m", now) == now - timedelta(minutes=90)
    assert parse_since("2d", now) == now - timedelta(days=2)
    naive = parse_since("2026-03-02 09:00")  # Beijing time
    assert naive == datetime(2026, 3, 2, 1, tzinfo=UTC)
    with pytest.raises(typer.BadParameter):
        parse_since("yesterday")
    filters = {"office": ["HD-ZGC"]}
    one = group_id("regbus", None, filters)
    assert one.startswith("regbus.regbus-regulator.tail-") and one == group_id(
        "regbus", None, filters
    )
    assert one != group_id("regbus", None, {"office": ["HD-XSQ"]})
    assert group_id("regbus", "desk", filters) == "regbus.regbus-regulator.desk"
    assert group_id("regbus", "regbus.other.desk", filters) == "regbus.other.desk"
