"""The roster and the notifier's delivery log as of the audited instant.

The replay routes every alert it re-derives by the roster in force then (the same
:class:`~agents.core.routing.AlertRouter` the worker uses), and the report states what the
delivery log holds up to the instant: deliveries by channel, failures (dead letters) with
their reason, and the alerts the replay found without an owner.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from agents.core.roster import Roster
from agents.core.routing import AlertRouter
from agents.roster import TopicTail
from schemas.models import (
    AlertEvent,
    Event,
    NotificationDelivered,
    NotificationFailed,
    RosterAssigned,
)
from streams.security import client_kwargs
from streams.settings import Settings
from streams.topics import Catalogue

__all__ = ["SideLogs", "read_side_logs"]

UNOWNED_OFFICES = frozenset({"UNASSIGNED", "BUREAU"})


@dataclass
class SideLogs:
    until_ms: int
    assignments: list[RosterAssigned] = field(default_factory=list)
    delivered: list[NotificationDelivered] = field(default_factory=list)
    failed: list[NotificationFailed] = field(default_factory=list)
    routed: Counter[str] = field(default_factory=Counter)
    """Offices the replayed alerts were routed to."""
    _router: AlertRouter | None = None

    def route(self, alert: AlertEvent) -> list[AlertEvent]:
        """The worker's routing over the roster as of the instant, counting the owners."""
        if self._router is None:
            self._router = AlertRouter()
            for event in self.assignments:
                self._router.apply(event)
        out = self._router.route(alert)
        self.routed.update(a.office for a in out)
        return out

    def _keep(self, event: Event) -> None:
        if int(event.occurred_at.timestamp() * 1000) > self.until_ms:
            return
        if isinstance(event, RosterAssigned):
            self.assignments.append(event)
        elif isinstance(event, NotificationDelivered):
            self.delivered.append(event)
        elif isinstance(event, NotificationFailed):
            self.failed.append(event)

    def owners(self) -> list[dict[str, Any]]:
        """Per platform on the roster: who covers it at the instant, and the deliveries and
        failures of the notifications about it."""
        roster = Roster(tuple(self.assignments))
        at = datetime.fromtimestamp(self.until_ms / 1000, UTC)
        delivered = Counter(d.platform_id for d in self.delivered)
        failed = Counter(f.platform_id for f in self.failed)
        out = []
        for platform in sorted(roster.platforms() | set(delivered) | set(failed)):
            entry = roster.covering(platform, at)
            out.append({
                "platform_id": platform,
                "office": None if entry is None else entry.office,
                "department": None if entry is None else entry.department,
                "leader": None if entry is None else entry.leader,
                "effective_from": None if entry is None else entry.effective_from.isoformat(),
                "notifications_delivered": delivered[platform],
                "notifications_failed": failed[platform],
            })  # fmt: skip
        return out

    def as_json(self) -> dict[str, Any]:
        return {
            "owners": self.owners(),
            "roster_assignments": len(self.assignments),
            "platforms_on_roster": len({a.platform_id for a in self.assignments}),
            "alerts_routed": sum(self.routed.values()),
            "alerts_without_owner": sum(n for o, n in self.routed.items() if o in UNOWNED_OFFICES),
            "alerts_by_office": dict(sorted(self.routed.items())),
            "notifications_delivered": dict(
                sorted(Counter(d.channel.value for d in self.delivered).items())
            ),
            "notifications_failed": [
                {
                    "delivery_id": f.delivery_id,
                    "alert_id": f.alert_id,
                    "channel": f.channel.value,
                    "recipient": f.recipient,
                    "attempts": f.attempts,
                    "reason": f.reason,
                }
                for f in self.failed
            ],
        }


async def read_side_logs(settings: Settings, catalogue: Catalogue, until_ms: int) -> SideLogs:
    logs = SideLogs(until_ms)
    for topic in (catalogue.roster, catalogue.notifications):
        await TopicTail(
            settings.bootstrap, topic, logs._keep, client_options=client_kwargs(settings)
        ).snapshot()
    return logs
