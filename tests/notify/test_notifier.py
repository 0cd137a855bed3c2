"""The notifier against real receivers: an aiohttp webhook and an aiosmtpd SMTP server."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest

from agents.core.roster import Roster
from agents.core.routing import RoutingPolicy
from agents.notifier import Notifier, NotifierSettings, delivery_id
from schemas.models import Event, NotificationDelivered, NotificationFailed, NotifyChannel
from tests.notify.helpers import assignment, breach, escalation, interview, warning
from tests.notify.receivers import SECRET, SmtpReceiver, WebhookReceiver


@pytest.fixture
def smtp() -> Iterator[SmtpReceiver]:
    server = SmtpReceiver().start()
    yield server
    server.stop()


@pytest.fixture
async def hook() -> AsyncIterator[WebhookReceiver]:
    server = await WebhookReceiver().start()
    yield server
    await server.stop()


class Harness:
    def __init__(self, hook: WebhookReceiver, smtp: SmtpReceiver, timeout: float = 2.0,
                 attempts: int = 4) -> None:  # fmt: skip
        self.log: list[Event] = []
        self.sleeps: list[float] = []
        self.settings = NotifierSettings(
            webhook_url=hook.url, webhook_secret=SECRET, smtp_host="127.0.0.1",
            smtp_port=smtp.port, timeout=timeout, max_attempts=attempts, backoff=0.5,
        )  # fmt: skip
        self.roster = Roster((assignment(),))

    def notifier(self) -> Notifier:
        async def write(event: Event) -> None:
            self.log.append(event)

        async def sleep(seconds: float) -> None:
            self.sleeps.append(seconds)

        s = self.settings
        return Notifier(
            self.roster, RoutingPolicy.load(), s.channels(), write,
            max_attempts=s.max_attempts, backoff=s.backoff, sleep=sleep,
        )  # fmt: skip


async def test_an_escalation_is_delivered_once_by_webhook_and_once_by_email(
    hook: WebhookReceiver, smtp: SmtpReceiver
) -> None:
    h = Harness(hook, smtp)
    notifier = h.notifier()
    alert = escalation()
    first = await notifier.handle(alert)
    again = await notifier.handle(alert)  # a replayed alert: same delivery ids
    await notifier.close()
    assert again == []
    web_id = delivery_id(alert.alert_id, "zhang.wei", NotifyChannel.WEBHOOK)
    mail_id = delivery_id(alert.alert_id, "wang.ju@hd.example.cn", NotifyChannel.EMAIL)
    assert {(e.delivery_id, type(e)) for e in first} == {
        (web_id, NotificationDelivered), (mail_id, NotificationDelivered)
    }  # fmt: skip
    assert dict(hook.requests) == {web_id: 1} and hook.bad_signatures == 0
    body = hook.accepted[web_id]
    assert body["msgtype"] == "markdown" and body["at"]["atUserIds"] == ["zhang.wei"]
    assert "升级" in body["markdown"]["title"] and "+08:00" in body["markdown"]["text"]
    assert smtp.delivery_ids == {mail_id: 1}
    [mail] = smtp.box.messages
    assert mail["To"] == "wang.ju@hd.example.cn" and mail["Message-ID"] == f"<{mail_id}@regbus>"


async def test_a_receiver_failing_twice_gets_it_on_the_third_attempt_with_backoff(
    hook: WebhookReceiver, smtp: SmtpReceiver
) -> None:
    hook.fail_first = 2
    h = Harness(hook, smtp)
    notifier = h.notifier()
    out = await notifier.handle(escalation())
    await notifier.close()
    [web] = [e for e in out if e.channel is NotifyChannel.WEBHOOK]  # type: ignore[attr-defined]
    assert isinstance(web, NotificationDelivered) and web.attempts == 3
    assert list(hook.requests.values()) == [3] and len(hook.accepted) == 1
    assert h.sleeps == [0.5, 1.0]  # exponential backoff between the attempts


async def test_a_receiver_that_never_answers_is_dead_lettered_after_the_last_retry(
    hook: WebhookReceiver, smtp: SmtpReceiver
) -> None:
    hook.hang = True
    h = Harness(hook, smtp, timeout=0.3, attempts=3)
    notifier = h.notifier()
    out = await notifier.handle(escalation())
    await notifier.close()
    [failed] = [e for e in out if isinstance(e, NotificationFailed)]
    assert failed.channel is NotifyChannel.WEBHOOK and failed.attempts == 3
    assert "no answer" in failed.reason and hook.accepted == {}
    assert h.sleeps == [0.5, 1.0]
    # the e-mail of the same alert was not held up by the dead webhook
    assert [type(e) for e in out if e.channel is NotifyChannel.EMAIL] == [NotificationDelivered]  # type: ignore[attr-defined]
    # a failed delivery is final: after a restart a replayed alert does not try again
    restarted = h.notifier()
    for event in h.log:
        restarted.apply_log(event)
    assert await restarted.handle(escalation()) == []


async def test_a_restarted_notifier_folds_the_log_and_sends_nothing_twice(
    hook: WebhookReceiver, smtp: SmtpReceiver
) -> None:
    h = Harness(hook, smtp)
    first = h.notifier()
    await first.handle(escalation(1))
    await first.close()
    restarted = h.notifier()
    for event in h.log:
        restarted.apply_log(event)
    await restarted.handle(escalation(1))  # redelivered after the crash: already logged
    await restarted.handle(escalation(2))  # new
    await restarted.close()
    assert all(n == 1 for n in hook.requests.values()) and len(hook.requests) == 2
    assert all(n == 1 for n in smtp.delivery_ids.values()) and len(smtp.delivery_ids) == 2


async def test_who_is_notified_of_what(hook: WebhookReceiver, smtp: SmtpReceiver) -> None:
    h = Harness(hook, smtp)
    n = h.notifier()
    assert n.plan(warning()) == []  # office-level warnings stay on the worklist
    [dept] = n.plan(breach(rule_id="COMPLAINT_RESOLVE"))
    assert dept.recipient.contact == "zhang.wei"
    overdue = n.plan(breach(rule_id="RECTIFICATION_DEADLINE"))  # the ordering office too
    assert [d.recipient.contact for d in overdue] == ["zgc.duty@hd.example.cn", "zhang.wei"]
    assert {d.recipient.contact for d in n.plan(interview())} == {
        "zhang.wei", "wang.ju@hd.example.cn"
    }  # fmt: skip
    unrostered = breach(platform_id="nobody")
    assert n.plan(unrostered) == []  # no entry and no bureau-wide entry: nobody to tell
