"""The notifier: escalations, interview recommendations and overdue rectifications reach the
roster's people by webhook and e-mail, each exactly once as the receiver sees it.

Per alert the roster (:func:`agents.core.routing.recipients`) names the people; a contact
with an ``@`` gets an e-mail, any other is an account @-mentioned through the chat-bot
webhook. Each (alert, recipient, channel) is one delivery with a uuid5 id. A delivery is
tried up to ``max_attempts`` times with exponential backoff (``backoff * 2**n``, capped);
the outcome is logged on the ``notifications`` topic — ``NotificationDelivered``, or
``NotificationFailed`` after the last retry (the notifier's dead letter).

Crash safety (at-least-once transport, idempotent receivers): the log is folded at start,
and a delivery whose id is already logged is never sent again. The outcome is written (and
acknowledged by the broker) before the alert's offset can be committed, so the only window
is a send that reached the receiver just before the worker died, unlogged: it is sent again
after restart with the *same* delivery id, in the ``X-Regbus-Delivery-Id`` header and as the
e-mail's ``Message-ID``, and the receiver drops it. Recording "attempt started" first would
not close that window (the receiver's answer is what is unknown), only turn it into a lost
notification, so it is not done.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from agents.core.ids import derive_id
from agents.core.roster import Roster
from agents.core.routing import Recipient, RoutingPolicy, recipients
from agents.notify_channels import Channel, DeliveryError, EmailChannel, Message, WebhookChannel
from schemas.models import (
    AlertEvent,
    Event,
    NotificationDelivered,
    NotificationFailed,
    NotifyChannel,
)
from streams.codec import DecodeError, EventCodec
from streams.topics import Catalogue

log = logging.getLogger(__name__)

BEIJING = ZoneInfo("Asia/Shanghai")
NOTIFIER_SOURCE = "/bureau/notifier"
_LEVEL_ZH = {"OFFICE": "市场监管所", "DEPARTMENT": "业务科室", "LEADERSHIP": "局领导"}
_KIND_ZH = {
    "EscalationRaised": "升级",
    "InterviewRecommended": "建议约谈",
    "SlaBreached": "超时",
}

__all__ = ["Delivery", "Notifier", "NotifierSettings", "attach", "delivery_id"]


def delivery_id(alert_id: str, recipient: str, channel: NotifyChannel) -> str:
    return derive_id("delivery", alert_id, recipient, channel.value)


@dataclass(frozen=True, slots=True)
class Delivery:
    delivery_id: str
    alert: AlertEvent
    recipient: Recipient
    channel: NotifyChannel


@dataclass(frozen=True)
class NotifierSettings:
    """Endpoints and retry policy (from WorkerOptions; the CLI reads them from the env)."""

    webhook_url: str | None = None
    webhook_secret: str = ""
    smtp_host: str | None = None
    smtp_port: int = 25
    smtp_sender: str = "regbus@localhost"
    smtp_username: str | None = None
    smtp_password: str | None = None
    smtp_starttls: bool = False
    timeout: float = 5.0
    max_attempts: int = 4
    backoff: float = 0.5
    backoff_max: float = 30.0

    @property
    def enabled(self) -> bool:
        return bool(self.webhook_url or self.smtp_host)

    def channels(self) -> dict[NotifyChannel, Channel]:
        out: dict[NotifyChannel, Channel] = {}
        if self.webhook_url:
            out[NotifyChannel.WEBHOOK] = WebhookChannel(
                self.webhook_url, self.webhook_secret, timeout=self.timeout
            )
        if self.smtp_host:
            out[NotifyChannel.EMAIL] = EmailChannel(
                self.smtp_host, self.smtp_port, self.smtp_sender,
                username=self.smtp_username, password=self.smtp_password,
                starttls=self.smtp_starttls, timeout=self.timeout,
            )  # fmt: skip
        return out


def message_for(delivery: Delivery) -> Message:
    """The text people read: zh-CN, times in Beijing time with +08:00."""
    a = delivery.alert
    kind = _KIND_ZH.get(a.EVENT_NAME, a.EVENT_NAME)
    level = _LEVEL_ZH.get(a.level.value, a.level.value)
    due = a.due_at.astimezone(BEIJING).isoformat(timespec="minutes") if a.due_at else "—"
    title = f"[regbus] {kind} · {level} · {a.platform_id} · {a.rule_id}"
    text = "\n".join([
        f"### {kind}告警 · {level}",
        f"- 平台: {a.platform_id}",
        f"- 对象: {a.subject}",
        f"- 规则: {a.rule_id} ({a.severity.value})",
        f"- 截止时间 (北京时间): {due}",
        f"- 包片: {a.office} / {a.department or '—'} / {a.leader or '—'}",
        f"- 说明: {a.detail}",
        f"- 投递编号: {delivery.delivery_id}",
    ])  # fmt: skip
    return Message(delivery.delivery_id, delivery.recipient.contact, title, text)


class Notifier:
    """Plans and performs the deliveries of each alert; no Faust in it."""

    def __init__(
        self,
        roster: Roster,
        policy: RoutingPolicy,
        channels: Mapping[NotifyChannel, Channel],
        write_log: Callable[[Event], Awaitable[None]],
        *,
        max_attempts: int = 4,
        backoff: float = 0.5,
        backoff_max: float = 30.0,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.roster = roster
        self.policy = policy
        self.channels = dict(channels)
        self.write_log = write_log
        self.max_attempts = max(1, max_attempts)
        self.backoff = backoff
        self.backoff_max = backoff_max
        self.clock = clock
        self.sleep = sleep
        self.done: set[str] = set()
        """Delivery ids logged as delivered or failed: never sent again."""
        self._inflight: set[str] = set()
        self.counters: dict[str, int] = {
            "alerts": 0, "delivered": 0, "failed": 0, "attempts": 0, "skipped_done": 0,
            "no_channel": 0,
        }  # fmt: skip

    # the delivery log ------------------------------------------------------------------
    def apply_log(self, event: Event) -> None:
        if isinstance(event, NotificationDelivered | NotificationFailed):
            self.done.add(event.delivery_id)

    # planning --------------------------------------------------------------------------
    def plan(self, alert: AlertEvent) -> list[Delivery]:
        out: list[Delivery] = []
        for person in recipients(alert, self.roster, self.policy):
            channel = NotifyChannel.EMAIL if "@" in person.contact else NotifyChannel.WEBHOOK
            if channel not in self.channels:
                self.counters["no_channel"] += 1
                continue
            out.append(
                Delivery(
                    delivery_id(alert.alert_id, person.contact, channel), alert, person, channel
                )
            )
        return out

    async def handle(self, alert: AlertEvent) -> list[Event]:
        """Deliver what this alert calls for and is not yet logged; returns the log events."""
        self.counters["alerts"] += 1
        todo = []
        for d in self.plan(alert):
            if d.delivery_id in self.done or d.delivery_id in self._inflight:
                self.counters["skipped_done"] += 1
                continue
            todo.append(d)
        if not todo:
            return []
        return list(await asyncio.gather(*(self._deliver(d) for d in todo)))

    async def _deliver(self, d: Delivery) -> Event:
        self._inflight.add(d.delivery_id)
        try:
            channel = self.channels[d.channel]
            message = message_for(d)
            reason = ""
            attempt = 0
            for attempt in range(1, self.max_attempts + 1):
                self.counters["attempts"] += 1
                try:
                    await channel.send(message)
                except DeliveryError as exc:
                    reason = str(exc)
                    log.warning("delivery %s attempt %d: %s", d.delivery_id, attempt, reason)
                    if attempt < self.max_attempts:
                        await self.sleep(min(self.backoff * 2 ** (attempt - 1), self.backoff_max))
                    continue
                event: Event = self._logged(NotificationDelivered, d, attempt)
                self.counters["delivered"] += 1
                break
            else:
                event = self._logged(NotificationFailed, d, attempt, reason=reason[:500])
                self.counters["failed"] += 1
            await self.write_log(event)
            self.done.add(d.delivery_id)
            return event
        finally:
            self._inflight.discard(d.delivery_id)

    def _logged(
        self,
        cls: type[NotificationDelivered] | type[NotificationFailed],
        d: Delivery,
        attempts: int,
        **extra: Any,
    ) -> Event:
        a = d.alert
        return cls(
            event_id=derive_id("notification", cls.__name__, d.delivery_id),
            case_id=a.case_id,
            platform_id=a.platform_id,
            occurred_at=self.clock(),
            delivery_id=d.delivery_id,
            alert_id=a.alert_id,
            rule_id=a.rule_id,
            level=a.level,
            channel=d.channel,
            recipient=d.recipient.contact,
            attempts=attempts,
            **extra,
        )

    async def close(self) -> None:
        for channel in self.channels.values():
            closer = getattr(channel, "close", None)
            if closer is not None:
                await closer()


def attach(
    app: Any, settings: Any, catalogue: Catalogue, options: Any, parts: Any
) -> Notifier | None:
    """The notifier agent on the alerts topic, if any endpoint is configured."""
    from agents.ingress.wiring import _in_thread
    from agents.roster import TopicTail
    from streams import compat
    from streams.security import client_kwargs

    config: NotifierSettings = getattr(options, "notify", None) or NotifierSettings()
    router = parts.roster_router
    if not config.enabled or router is None:
        return None
    codec = EventCodec()

    async def write_log(event: Event) -> None:
        _key, value, headers = codec.encode(event, NOTIFIER_SOURCE)
        producer = compat.faust_aiokafka_producer(app)
        fut = await producer.send(
            catalogue.notifications, value, key=getattr(event, "delivery_id", "").encode(),
            headers=headers,
        )  # fmt: skip
        await fut  # durable before the alert's offset may be committed

    notifier = Notifier(
        router.roster, router.policy, config.channels(), write_log,
        max_attempts=config.max_attempts, backoff=config.backoff, backoff_max=config.backoff_max,
    )  # fmt: skip
    tail = TopicTail(
        settings.bootstrap, catalogue.notifications, notifier.apply_log,
        client_options=client_kwargs(settings),
    )  # fmt: skip
    try:
        _in_thread(tail.snapshot, timeout=30.0)
    except Exception as exc:
        log.warning("notifier: delivery log not read at start (%s)", exc)

    source = app.topic(catalogue.alerts, key_serializer="raw", value_serializer="raw")

    async def notifier_agent(stream: Any) -> None:
        async for event in stream.events():
            msg = event.message
            try:
                alert = codec.decode(msg.value, list(msg.headers or ()))
            except DecodeError as exc:
                log.error("notifier: %s@%d: %s", msg.topic, msg.offset, exc)
                continue
            if isinstance(alert, AlertEvent):
                try:
                    await notifier.handle(alert)
                except Exception:  # never expected: keep the agent alive, log loudly
                    log.exception("notifier: alert %s not handled", alert.alert_id)

    app.agent(source, name="notifier", concurrency=1)(notifier_agent)
    return notifier
