"""The notifier inside a real worker, killed mid-delivery: nothing is delivered twice.

The webhook receiver holds the second escalation's request; the worker is SIGKILLed while it
waits. A new worker folds the delivery log: the first escalation's deliveries (logged) are
not sent again; the one in flight is sent again with the same delivery id, which the
receiver drops as a repeat; every delivery ends with exactly one outcome on the log.
"""

from __future__ import annotations

import signal
from collections import Counter
from typing import Any

import pytest

from agents.notifier import delivery_id
from schemas.models import NotificationDelivered, NotifyChannel
from streams.codec import EventCodec
from streams.roster_log import publish_roster
from tests.kafka_helpers import TopicReader, produce, wait_until
from tests.notify.helpers import assignment, escalation
from tests.notify.receivers import SECRET, SmtpReceiver, WebhookReceiver

pytestmark = [pytest.mark.broker, pytest.mark.slow]
CODEC = EventCodec()
WEB, MAIL = "zhang.wei", "wang.ju@hd.example.cn"


def _outcomes(reader: TopicReader) -> Counter[str]:
    return Counter(CODEC.decode(r.value, r.headers).delivery_id for r in reader.records)  # type: ignore[attr-defined]


async def test_a_worker_killed_mid_delivery_delivers_nothing_twice(
    settings: Any, catalogue: Any, worker_factory: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    hook = await WebhookReceiver().start()
    smtp = SmtpReceiver().start()
    try:
        monkeypatch.setenv("REGBUS_NOTIFY_WEBHOOK_URL", hook.url)
        monkeypatch.setenv("REGBUS_NOTIFY_WEBHOOK_SECRET", SECRET)
        monkeypatch.setenv("REGBUS_SMTP_HOST", "127.0.0.1")
        monkeypatch.setenv("REGBUS_SMTP_PORT", str(smtp.port))
        monkeypatch.setenv("REGBUS_NOTIFY_BACKOFF", "0.1")
        await publish_roster(settings, [assignment("acme")])
        first, second = escalation(1), escalation(2)
        ids = {
            (n, ch): delivery_id(a.alert_id, who, ch)
            for n, a in ((1, first), (2, second))
            for who, ch in ((WEB, NotifyChannel.WEBHOOK), (MAIL, NotifyChannel.EMAIL))
        }
        await produce(settings.bootstrap, catalogue.alerts, [CODEC.encode(first, "/bureau/t")])
        worker = worker_factory("--no-web", name="w1")
        async with TopicReader(settings.bootstrap, catalogue.notifications) as log:
            await log.read_until(
                lambda r: len(r) >= 2, 90, lambda: f"first not delivered:\n{worker.log_tail()}"
            )
            hook.hold = 60.0  # the next webhook request hangs: the worker is mid-delivery
            await produce(settings.bootstrap, catalogue.alerts, [CODEC.encode(second, "/bureau/t")])
            held = ids[(2, NotifyChannel.WEBHOOK)]
            await wait_until(
                lambda: hook.requests[held] == 1, 30, lambda: f"no request:\n{worker.log_tail()}"
            )
            worker.kill(signal.SIGKILL)
            await log.settle(quiet=1.0)
            before = _outcomes(log)
            assert held not in before
            hook.hold = 0.0
            restarted = worker_factory("--no-web", name="w2")
            await log.read_until(
                lambda r: set(_outcomes(log)) == set(ids.values()),
                90,
                lambda: f"log {dict(_outcomes(log))}:\n{restarted.log_tail()}",
            )
            await log.settle(quiet=2.0)
            outcomes = _outcomes(log)
            events = [CODEC.decode(r.value, r.headers) for r in log.records]
        assert restarted.alive(), restarted.log_tail()
        assert all(n == 1 for n in outcomes.values()), outcomes  # one outcome per delivery
        assert all(isinstance(e, NotificationDelivered) for e in events)
        # what was logged before the kill was never sent again
        sent = hook.requests + smtp.delivery_ids
        assert all(sent[d] == 1 for d in before), (before, sent)
        # the delivery in flight was repeated with its id, and the receiver took it once
        assert hook.requests[held] == 2 and set(hook.accepted) == {
            ids[(1, NotifyChannel.WEBHOOK)],
            held,
        }
        assert set(smtp.delivery_ids) == {
            ids[(1, NotifyChannel.EMAIL)],
            ids[(2, NotifyChannel.EMAIL)],
        }
    finally:
        smtp.stop()
        await hook.stop()
