"""The system's inbox deliveries and notifications against the simulator's prediction
(:mod:`devtools.simulator.inbox_predict`), as the demo checks them.

The inbox topics are read from the beginning and counted per platform by notice kind
(distinct ``ce_id``, from the headers: nothing is decoded); the notifier's delivery log (topic
``notifications``) gives each delivery's alert id, recipient, channel and outcome. Interview
recommendations are compared per platform within one, as the alert comparison does
(:class:`devtools.simulator.watch.Comparison`); everything else exactly.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from aiokafka import AIOKafkaConsumer

from devtools.simulator.inbox_predict import (
    INTERVIEW_NOTICE,
    DeliveryPrediction,
    notice_kind,
    predicted_notifications,
)
from devtools.simulator.model import ExpectedAlert
from schemas.models import NotificationDelivered, NotificationFailed, NotifyChannel
from streams.cloudevents_headers import CE_ID, CE_TYPE
from streams.codec import DecodeError, EventCodec
from streams.security import client_kwargs
from streams.settings import Settings
from streams.topics import Catalogue

__all__ = ["DeliveryCheck", "check_deliveries", "summary_text"]

INTERVIEW = "InterviewRecommended"
INTERVIEW_RULE = "INTERVIEW_RECOMMENDED"


def _inbox_differences(
    expected: Mapping[str, Mapping[str, int]], actual: Mapping[str, Mapping[str, int]]
) -> list[str]:
    out = []
    for p in sorted(set(expected) | set(actual)):
        want, got = expected.get(p, {}), actual.get(p, {})
        for kind in sorted(set(want) | set(got)):
            w, g = want.get(kind, 0), got.get(kind, 0)
            if w != g and not (kind == INTERVIEW_NOTICE and abs(w - g) <= 1):
                out.append(f"{p} {kind}: predicted {w}, inbox {g}")
    return out


@dataclass
class DeliveryCheck:
    channels: list[str]
    inbox_expected: dict[str, dict[str, int]]
    inbox_actual: dict[str, dict[str, int]]
    notifications_expected: int
    delivered: int
    failed: list[dict[str, Any]] = field(default_factory=list)
    missing: list[tuple[str, ...]] = field(default_factory=list)
    unexpected: list[tuple[str, ...]] = field(default_factory=list)
    interviews_expected: dict[str, int] = field(default_factory=dict)
    interviews_actual: dict[str, int] = field(default_factory=dict)
    repeated: int = 0
    """Delivery ids a local receiver got more than once (-1: receivers not watched)."""

    @property
    def inbox_differences(self) -> list[str]:
        return _inbox_differences(self.inbox_expected, self.inbox_actual)

    @property
    def interviews_close(self) -> bool:
        platforms = set(self.interviews_expected) | set(self.interviews_actual)
        return all(
            abs(self.interviews_expected.get(p, 0) - self.interviews_actual.get(p, 0)) <= 1
            for p in platforms
        )

    @property
    def inbox_ok(self) -> bool:
        return not self.inbox_differences

    @property
    def notifications_ok(self) -> bool:
        return (
            not self.missing
            and not self.unexpected
            and not self.failed
            and self.interviews_close
            and self.repeated <= 0
        )

    @property
    def ok(self) -> bool:
        return self.inbox_ok and self.notifications_ok

    def describe(self, limit: int = 10) -> str:
        lines = [f"  inbox {d}" for d in self.inbox_differences[:limit]]
        lines += [f"  notification missing    {m}" for m in self.missing[:limit]]
        lines += [f"  notification unexpected {u}" for u in self.unexpected[:limit]]
        lines += [f"  notification failed     {f}" for f in self.failed[:limit]]
        if not self.interviews_close:
            lines.append(
                f"  interview notifications predicted {self.interviews_expected}, "
                f"delivered {self.interviews_actual}"
            )
        if self.repeated > 0:
            lines.append(f"  {self.repeated} deliveries reached a receiver twice")
        return "\n".join(lines)

    def to_json(self) -> dict[str, Any]:
        return {
            "match": self.ok,
            "inbox": {
                "match": self.inbox_ok,
                "expected": self.inbox_expected,
                "system": self.inbox_actual,
                "differences": self.inbox_differences[:50],
            },
            "notifications": {
                "match": self.notifications_ok,
                "channels": self.channels,
                "expected": self.notifications_expected,
                "delivered": self.delivered,
                "failed": self.failed[:50],
                "missing": [list(m) for m in self.missing[:50]],
                "unexpected": [list(u) for u in self.unexpected[:50]],
                "interviews_expected": self.interviews_expected,
                "interviews_delivered": self.interviews_actual,
                "received_twice": self.repeated,
            },
        }


async def _read(
    settings: Settings,
    topics: list[str],
    each: Callable[[Any], None],
    done: Callable[[], bool],
    timeout: float,
    quiet: float = 1.0,
) -> None:
    """Read ``topics`` from the beginning until ``done()`` (bounded by ``timeout``), then
    on until nothing new arrives for ``quiet`` seconds (what should not be there shows)."""
    consumer = AIOKafkaConsumer(
        *topics,
        bootstrap_servers=settings.bootstrap,
        group_id=None,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        **client_kwargs(settings),
    )
    await consumer.start()
    try:
        deadline = time.monotonic() + timeout
        last_new = time.monotonic()
        reached = False
        while time.monotonic() < deadline:
            batch = await consumer.getmany(timeout_ms=200)
            for records in batch.values():
                for r in records:
                    each(r)
            if any(batch.values()):
                last_new = time.monotonic()
            reached = reached or done()
            if reached and time.monotonic() - last_new >= quiet:
                return
    finally:
        await asyncio.sleep(0)
        await consumer.stop()


async def check_deliveries(
    settings: Settings,
    catalogue: Catalogue,
    prediction: DeliveryPrediction,
    alerts: Iterable[ExpectedAlert],
    channels: Collection[NotifyChannel],
    timeout: float = 60.0,
    received: Callable[[], Mapping[str, int]] | None = None,
) -> DeliveryCheck:
    """Read every inbox and the delivery log until they hold the predicted counts (or
    ``timeout``), and compare. ``alerts``: the expected alerts, in the order predicted (the
    notifications are planned from them); ``received``: the local receivers' counts per
    delivery id."""
    expected_inbox = {p: dict(sorted(c.items())) for p, c in prediction.inbox.items() if c}
    inbox_ids: dict[str, dict[str, set[bytes]]] = {}
    by_topic = {catalogue.inbox(p): p for p in prediction.inbox}

    def inbox_record(r: Any) -> None:
        headers = dict(r.headers or ())
        name = headers.get(CE_TYPE, b"").decode().removeprefix("regbus.").rsplit(".v", 1)[0]
        kind = notice_kind(name, sender_is_bureau=True)
        if kind is not None:
            platform = by_topic[r.topic]
            inbox_ids.setdefault(platform, {}).setdefault(kind, set()).add(headers.get(CE_ID, b""))

    def inbox_counts() -> dict[str, dict[str, int]]:
        return {
            p: {k: len(v) for k, v in sorted(kinds.items())}
            for p, kinds in sorted(inbox_ids.items())
        }

    await _read(
        settings,
        list(by_topic),
        inbox_record,
        lambda: not _inbox_differences(expected_inbox, inbox_counts()),
        timeout,
    )

    want = predicted_notifications(alerts, prediction.platforms, channels)
    codec = EventCodec()
    log: dict[str, NotificationDelivered | NotificationFailed] = {}

    def log_record(r: Any) -> None:
        try:
            event = codec.decode(r.value, list(r.headers or ()))
        except DecodeError:
            return
        if isinstance(event, NotificationDelivered | NotificationFailed):
            log[event.delivery_id] = event

    want_keys = {n.key() for n in want if n.kind != INTERVIEW}

    def logged_all() -> bool:
        return want_keys <= {(e.alert_id, e.recipient, e.channel.value) for e in log.values()}

    await _read(settings, [catalogue.notifications], log_record, logged_all, timeout)
    return _compare(channels, expected_inbox, inbox_counts(), want, log.values(), received)


def _compare(
    channels: Collection[NotifyChannel],
    expected_inbox: dict[str, dict[str, int]],
    actual_inbox: dict[str, dict[str, int]],
    want: list[Any],
    log: Iterable[NotificationDelivered | NotificationFailed],
    received: Callable[[], Mapping[str, int]] | None,
) -> DeliveryCheck:
    events = list(log)
    delivered = [e for e in events if isinstance(e, NotificationDelivered)]
    failed = [e for e in events if isinstance(e, NotificationFailed)]
    want_keys = {n.key() for n in want if n.kind != INTERVIEW}
    got_keys = {
        (e.alert_id, e.recipient, e.channel.value) for e in delivered if e.rule_id != INTERVIEW_RULE
    }

    def interviews(items: Iterable[tuple[str, str]]) -> dict[str, int]:
        return dict(sorted(Counter(p for p, _ in set(items)).items()))

    counts = received() if received is not None else None
    return DeliveryCheck(
        channels=sorted(c.value for c in channels),
        inbox_expected=expected_inbox,
        inbox_actual=actual_inbox,
        notifications_expected=len(want),
        delivered=len(delivered),
        failed=[
            {
                "alert_id": f.alert_id,
                "recipient": f.recipient,
                "channel": f.channel.value,
                "attempts": f.attempts,
                "reason": f.reason,
            }
            for f in failed
        ],
        missing=sorted(want_keys - got_keys),
        unexpected=sorted(got_keys - want_keys),
        interviews_expected=interviews(
            (n.platform_id, n.alert_id) for n in want if n.kind == INTERVIEW
        ),
        interviews_actual=interviews(
            (e.platform_id, e.alert_id) for e in delivered if e.rule_id == INTERVIEW_RULE
        ),
        repeated=-1 if counts is None else sum(1 for n in counts.values() if n > 1),
    )


def summary_text(check: DeliveryCheck) -> str:
    """The demo's lines on the inboxes and notifications (rich markup)."""
    inbox_total = sum(sum(c.values()) for c in check.inbox_actual.values())
    if check.inbox_ok:
        lines = [
            f"[green]every platform's inbox holds the predicted notices ({inbox_total:,} across "
            f"{len(check.inbox_actual)} platforms: decisions, warnings, breaches, escalations, "
            "violations, interviews, refused records)[/green]"
        ]
    else:
        lines = ["[red]inboxes differ from the prediction[/red]"]
    channels = ", ".join(check.channels) or "none"
    if check.notifications_ok:
        lines.append(
            f"[green]notifications: {check.delivered:,} deliveries to the roster's people over "
            f"{channels}, as predicted ({check.notifications_expected:,}); none failed"
            + ("" if check.repeated < 0 else ", none received twice")
            + "[/green]"
        )
    else:
        lines.append("[red]notifications differ from the prediction[/red]")
    if not check.ok:
        lines.append(check.describe())
    return "\n".join(lines)
