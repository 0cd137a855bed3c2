"""What each platform's inbox should receive, and who the notifier should reach, predicted from
the simulator's own bookkeeping.

:class:`DeliveryPrediction` is fed the same sends and (owned) expected alerts that
:class:`~devtools.simulator.outcome.ExpectedOutcome` counts, and keeps

- per platform, the inbox notices by kind (the SDK's names, :mod:`clients.notices`):
  ``CaseDecision`` for every routed bureau event on its cases but the hotline intake,
  ``DeadlineWarning`` / ``DeadlineBreached`` / ``CaseEscalated`` / ``ViolationNotice`` /
  ``InterviewNotice`` for its own alerts, ``RefusedRecord`` for each of its refused records;
- every notification: (alert id, recipient, channel), for the alerts the notification policy
  names, to the contacts of the simulator's own roster table.

The notification policy is written here a second time, from docs/inbox-roster-notify.md (and
``agents/policy/roster.yaml``, which a test compares it with): escalations and interview
recommendations, and breaches at DEPARTMENT / LEADERSHIP level, go to the roster units of the
alert's level, an overdue rectification also to its office; a contact with an ``@`` gets an
e-mail, any other a chat-bot webhook. Ids are the documented natural keys (uuid5), computed
here from the expected alert, not by calling the core.
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from devtools.simulator.model import ExpectedAlert, Send, Sender
from devtools.simulator.platforms import BUREAU_WIDE, contacts
from schemas.models import ComplaintFiled, Level, NotifyChannel
from schemas.send_rules import SEND_RULES

__all__ = [
    "NOTICE_OF_ALERT",
    "NOTIFIED_EVENTS",
    "DeliveryPrediction",
    "Notification",
    "NotificationPlanner",
    "notice_kind",
    "predicted_notifications",
]

NOTICE_OF_ALERT: dict[str, str] = {
    "SlaWarningRaised": "DeadlineWarning",
    "SlaBreached": "DeadlineBreached",
    "EscalationRaised": "CaseEscalated",
    "LifecycleViolationDetected": "ViolationNotice",
    "InterviewRecommended": "InterviewNotice",
}
"""The alerts copied to the platform's inbox, and the notice the SDK makes of each."""
REFUSED = "RefusedRecord"
DECISION = "CaseDecision"
INTERVIEW_NOTICE = "InterviewNotice"

NOTIFIED_EVENTS = frozenset({"EscalationRaised", "InterviewRecommended"})
NOTIFIED_BREACH_LEVELS = frozenset({Level.DEPARTMENT, Level.LEADERSHIP})
UNITS_BY_LEVEL: dict[Level, tuple[str, ...]] = {
    Level.OFFICE: ("office",),
    Level.DEPARTMENT: ("department",),
    Level.LEADERSHIP: ("department", "leader"),
}
OFFICE_TOO_FOR = frozenset({"RECTIFICATION_DEADLINE"})

_IDS = uuid.uuid5(uuid.NAMESPACE_URL, "https://regbus.example/ids")
"""The namespace of the system's natural-key ids (docs/decisions.md: ids from natural keys)."""


def _derive(*parts: str) -> str:
    return str(uuid.uuid5(_IDS, "|".join(parts)))


def _iso(at: datetime | None) -> str:
    return "" if at is None else at.astimezone(UTC).isoformat(timespec="milliseconds")


def notice_kind(event_name: str, sender_is_bureau: bool) -> str | None:
    """The notice an inbox record of ``event_name`` becomes (None: not an inbox record)."""
    if event_name in NOTICE_OF_ALERT:
        return NOTICE_OF_ALERT[event_name]
    if event_name == "DeadLetterNotice":
        return REFUSED
    return DECISION if sender_is_bureau and event_name != "ComplaintFiled" else None


@dataclass(frozen=True, slots=True)
class Notification:
    """One delivery the notifier should make: an alert, a person, a channel."""

    alert_id: str
    kind: str
    rule_id: str
    platform_id: str
    level: str
    recipient: str
    channel: NotifyChannel

    @property
    def delivery_id(self) -> str:
        return _derive("delivery", self.alert_id, self.recipient, self.channel.value)

    def key(self) -> tuple[str, str, str]:
        return (self.alert_id, self.recipient, self.channel.value)


class NotificationPlanner:
    """The notifications of each alert, in the order the alerts are predicted (an interview's
    id counts the platform's recommendations so far)."""

    def __init__(self, platforms: Iterable[str]) -> None:
        self.platforms = frozenset(platforms)
        self._interviews: Counter[str] = Counter()

    def plan(self, a: ExpectedAlert) -> list[Notification]:
        ident = self.alert_id(a)
        if ident is None:
            return []
        office_c, department_c, leader_c = contacts(
            a.platform_id if a.platform_id in self.platforms else BUREAU_WIDE
        )
        by_unit = {"office": office_c, "department": department_c, "leader": leader_c}
        units = list(UNITS_BY_LEVEL.get(a.level, ()))
        if a.rule_id in OFFICE_TOO_FOR and "office" not in units:
            units.insert(0, "office")
        out: list[Notification] = []
        seen: set[str] = set()
        for unit in units:
            for contact in by_unit[unit]:
                if contact in seen:
                    continue
                seen.add(contact)
                channel = NotifyChannel.EMAIL if "@" in contact else NotifyChannel.WEBHOOK
                out.append(
                    Notification(
                        ident, a.kind, a.rule_id, a.platform_id, a.level.value, contact, channel
                    )
                )
        return out

    def alert_id(self, a: ExpectedAlert) -> str | None:
        """The alert id of a notified alert (None: the policy notifies nobody of it)."""
        if a.kind == "InterviewRecommended":
            self._interviews[a.platform_id] += 1
            n = self._interviews[a.platform_id]
            return _derive("alert", a.rule_id, a.mark, a.platform_id, str(n))
        notified = a.kind in NOTIFIED_EVENTS or (
            a.kind == "SlaBreached" and a.level in NOTIFIED_BREACH_LEVELS
        )
        if not notified:
            return None
        return _derive("alert", a.rule_id, a.mark, a.subject, _iso(a.due_at))


def predicted_notifications(
    alerts: Iterable[ExpectedAlert],
    platforms: Iterable[str],
    channels: Collection[NotifyChannel] = tuple(NotifyChannel),
) -> list[Notification]:
    """Every delivery a notifier with ``channels`` configured makes for ``alerts`` (in the
    order predicted; receivers healthy). A contact on a channel not configured is reached by
    nobody."""
    planner = NotificationPlanner(platforms)
    return [n for a in alerts for n in planner.plan(a) if n.channel in channels]


class DeliveryPrediction:
    """Inbox notices per platform and notification counts, fed by :class:`ExpectedOutcome`
    (counters only: memory does not grow with the run; the deliveries themselves are
    :func:`predicted_notifications` of the expected alerts)."""

    def __init__(self, platforms: Iterable[str]) -> None:
        self.platforms = frozenset(platforms)
        """The registered platforms (only they have an inbox)."""
        self.inbox: dict[str, Counter[str]] = {p: Counter() for p in sorted(self.platforms)}
        self.notified: Counter[tuple[str, str, str]] = Counter()
        """(channel, alert kind, recipient) → deliveries."""
        self._planner = NotificationPlanner(self.platforms)

    # feeding -----------------------------------------------------------------------------
    def send(self, s: Send) -> None:
        """A record published: a bureau decision, or a refused record of a platform."""
        if s.raw is not None:
            owner = s.raw.topic.removeprefix("ingress.")
            if s.raw.reason is not None and s.raw.topic.startswith("ingress."):
                self._notice(owner, REFUSED)
            return
        event = s.event
        if event is None or s.sender is not Sender.BUREAU or isinstance(event, ComplaintFiled):
            return
        rule = SEND_RULES.get(event.EVENT_NAME)
        if rule is not None and rule.inbox:  # not a campaign's steps, nor a rule change
            self._notice(event.platform_id, DECISION)

    def alert(self, a: ExpectedAlert) -> None:
        """An alert the system should raise, routed (office and leader set)."""
        notice = NOTICE_OF_ALERT.get(a.kind)
        if notice is not None:
            self._notice(a.platform_id, notice)
        for n in self._planner.plan(a):
            self.notified[(n.channel.value, n.kind, n.recipient)] += 1

    def _notice(self, platform_id: str, kind: str) -> None:
        counts = self.inbox.get(platform_id)
        if counts is not None:  # an unregistered platform has no inbox
            counts[kind] += 1

    # output ------------------------------------------------------------------------------
    def inbox_totals(self) -> dict[str, int]:
        return {p: sum(c.values()) for p, c in self.inbox.items() if c}

    def to_json(self, channels: Collection[NotifyChannel] = tuple(NotifyChannel)) -> dict[str, Any]:
        on = {c.value for c in channels}
        made = Counter({k: n for k, n in self.notified.items() if k[0] in on})
        planned = sum(self.notified.values())

        def by(i: int) -> dict[str, int]:
            out: Counter[str] = Counter()
            for key, n in made.items():
                out[key[i]] += n
            return dict(sorted(out.items()))

        return {
            "inbox": {p: dict(sorted(c.items())) for p, c in self.inbox.items() if c},
            "notifications": {
                "channels": sorted(on),
                "planned": planned,
                "delivered": sum(made.values()),
                "unreachable": planned - sum(made.values()),
                "by_channel": by(0),
                "by_kind": by(1),
                "by_recipient": by(2),
            },
        }
