from __future__ import annotations

from datetime import UTC, datetime

from agents.core.roster import Roster
from schemas.models import RosterAssigned


def _assign(event_id: str, platform: str, office: str, day: int, issued: int = 1) -> RosterAssigned:
    return RosterAssigned(
        event_id=event_id, case_id="", platform_id=platform,
        occurred_at=datetime(2026, 1, issued, tzinfo=UTC), office=office, department="D1",
        leader="L1", office_contacts=[], department_contacts=[], leader_contacts=[],
        effective_from=datetime(2026, 3, day, tzinfo=UTC), assigned_by="admin",
    )  # fmt: skip


def test_covering_follows_effective_dates_in_any_arrival_order() -> None:
    later, first = _assign("b", "p1", "HD-DS", 10), _assign("a", "p1", "HD-ZGC", 1)
    roster = Roster((later, first))
    assert roster.covering("p1", datetime(2026, 2, 28, tzinfo=UTC)) is None
    assert roster.covering("p1", datetime(2026, 3, 5, tzinfo=UTC)) == first
    assert roster.covering("p1", datetime(2026, 3, 10, tzinfo=UTC)) == later
    assert roster.covering("p2", datetime(2026, 3, 10, tzinfo=UTC)) is None
    assert roster.platforms_of_office("HD-ZGC", datetime(2026, 3, 5, tzinfo=UTC)) == {"p1"}
    assert roster.platforms_of_office("HD-ZGC", datetime(2026, 3, 11, tzinfo=UTC)) == frozenset()


def test_a_redelivered_assignment_is_applied_once_and_the_later_issue_wins() -> None:
    one, again = _assign("a", "p1", "HD-ZGC", 1), _assign("a", "p1", "HD-ZGC", 1)
    newer = _assign("c", "p1", "HD-HDL", 1, issued=2)
    roster = Roster()
    assert roster.apply(one) and not roster.apply(again)
    roster.apply(newer)
    assert roster.covering("p1", datetime(2026, 3, 2, tzinfo=UTC)) == newer
