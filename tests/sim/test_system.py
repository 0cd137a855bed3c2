"""The default simulated month through the real broker and a real worker subprocess.

The worker must raise exactly the alerts the simulator predicted from its own bookkeeping —
same rule, threshold, case, deadline, level, severity and observation instant — and exactly
the dead letters by reason; its regulator agents must show, over the simulated days, exactly
the per-platform and per-category scorecards the simulator predicted; and that output must
contain every SLA rule of the policy file, every lifecycle violation and every dead-letter
reason. About a minute on a 2-core machine.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from datetime import date, timedelta

import pytest

from agents.api_auth import Role, TokenStore
from devtools.simulator import ExpectedAlert, SimConfig, Simulation
from devtools.simulator.publish import prepare, publish_simulation
from devtools.simulator.scorecards import wait_for_match
from devtools.simulator.watch import SystemWatch, compare
from streams.settings import Settings
from tests.sim.coverage import missing_coverage


async def inbox_counts(settings: Settings, catalogue, predicted) -> dict[str, int]:  # type: ignore[no-untyped-def]
    """Distinct event ids per platform inbox, read until the predicted counts are there (or
    nothing new arrives). Event ids are read from the ce_id header, not decoded."""
    from tests.kafka_helpers import TopicReader

    topics = [catalogue.inbox(p) for p in catalogue.platforms]
    ids: dict[str, set[bytes]] = {}
    seen = 0
    async with TopicReader(settings.bootstrap, *topics) as reader:

        def counts() -> dict[str, int]:
            nonlocal seen
            for r in reader.records[seen:]:
                ce_id = dict(r.headers).get("ce_id", b"")
                ids.setdefault(r.topic.rsplit(".", 1)[1], set()).add(ce_id)
            seen = len(reader.records)
            return {p: len(v) for p, v in sorted(ids.items())}

        with contextlib.suppress(AssertionError):
            await reader.read_until(lambda _r: counts() == dict(predicted), 45, "inbox")
        await reader.settle(quiet=1.0, timeout=10.0)
        return counts()


pytestmark = [pytest.mark.broker, pytest.mark.slow]


async def test_default_month_raises_exactly_the_predicted_alerts(
    settings: Settings, worker_factory
) -> None:
    cfg = SimConfig()
    expected: list[ExpectedAlert] = []
    sim = Simulation(cfg, sink=expected.append)
    catalogue = await prepare(settings, cfg)  # before the worker: it subscribes at once
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    token = TokenStore(settings.state_dir).create("sim", Role.REGULATOR)  # the API needs one
    worker = worker_factory("--web-port", str(port))
    watch = SystemWatch(settings.bootstrap, catalogue)
    watching = asyncio.create_task(watch.run())
    try:
        stats = await publish_simulation(settings, sim, cfg)
        predicted = expected
        dead = dict(sim.outcome.dead_letters)
        settled = await watch.wait_for(len(predicted), sum(dead.values()), timeout=120)
        assert worker.alive(), worker.log_tail()
        assert settled, f"the system did not settle:\n{worker.log_tail()}"
        cards = sim.outcome.scorecards()
        first, last = date.fromisoformat(cards["from"]), date.fromisoformat(cards["to"])
        system_cards, card_diff = await wait_for_match(
            f"http://127.0.0.1:{port}",
            cards["subjects"],
            first,
            last,
            timeout=60,
            token=token,
        )
        inboxes = await inbox_counts(settings, catalogue, sim.outcome.inbox)
    finally:
        watching.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await watching
    assert stats.routed == sim.outcome.routed and stats.ticks == cfg.grid.count
    result = compare(expected, watch.alerts, dead, dict(watch.dead_letters),
                     sim.outcome.interviews_by_platform, watch.interviews)  # fmt: skip
    assert result.ok, result.describe()
    assert not card_diff, card_diff[:20]
    assert (first, last) == (cfg.start, cfg.end_date - timedelta(days=1))  # the whole month
    assert system_cards == cards["subjects"]
    totals = [sum(c[k] for c in system_cards.values()) for k in ("complaints", "breaches")]
    assert all(n > 100 for n in totals), totals
    assert missing_coverage(expected, dead) == []
    assert missing_coverage(watch.alerts, watch.dead_letters) == []
    # the roster published at the start: every alert of the month has an owner (compare()
    # above checked each one's office and leader against the simulator's own table)
    # each platform's inbox holds exactly what the simulator predicted for it
    assert inboxes == dict(sim.outcome.inbox), (inboxes, dict(sim.outcome.inbox))
    offices = {a.office for a in watch.alerts}
    assert offices and not offices & {"UNASSIGNED", "BUREAU", ""}, offices
