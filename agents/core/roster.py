"""Who covers a platform on a given day: the 包片 roster folded from its assignments.

Pure: :meth:`Roster.apply` takes :class:`~schemas.models.RosterAssigned` events in any order
(a re-delivered one is ignored by its id) and :meth:`Roster.covering` answers for an instant.
The worker routes alerts with it; the console scopes an office's view with it.
"""

from __future__ import annotations

from bisect import insort
from datetime import datetime

from schemas.models import RosterAssigned

__all__ = ["Roster"]


class Roster:
    """Assignments per platform, ordered by when they take effect."""

    __slots__ = ("_by_platform", "_seen")

    def __init__(self, assignments: tuple[RosterAssigned, ...] = ()) -> None:
        self._by_platform: dict[str, list[tuple[datetime, str, RosterAssigned]]] = {}
        self._seen: set[str] = set()
        for event in assignments:
            self.apply(event)

    def apply(self, event: RosterAssigned) -> bool:
        """Add one assignment; False when its id was already applied."""
        if event.event_id in self._seen:
            return False
        self._seen.add(event.event_id)
        entries = self._by_platform.setdefault(event.platform_id, [])
        # Same effective instant: the later-issued assignment wins (then the id, for a total
        # order that does not depend on arrival).
        insort(
            entries,
            (event.effective_from, f"{event.occurred_at.isoformat()}|{event.event_id}", event),
        )
        return True

    def covering(self, platform_id: str, at: datetime) -> RosterAssigned | None:
        """The assignment in force for ``platform_id`` at ``at``, or None (no roster entry)."""
        found: RosterAssigned | None = None
        for effective, _order, event in self._by_platform.get(platform_id, ()):
            if effective > at:
                break
            found = event
        return found

    def platforms_of_office(self, office: str, at: datetime) -> frozenset[str]:
        """The platforms an office covers at ``at``."""
        return frozenset(
            p
            for p in self._by_platform
            if (a := self.covering(p, at)) is not None and a.office == office
        )

    def platforms(self) -> frozenset[str]:
        return frozenset(self._by_platform)
