"""Routing alerts by the 包片 roster (pure): owner from the roster in force, bureau-wide
fallback, ROSTER_MISSING once per unrostered platform."""

from __future__ import annotations

from datetime import timedelta

from agents.core.roster import Roster
from agents.core.routing import AlertRouter
from schemas.models import RiskSignalRaised
from tests.notify.helpers import T0, assignment, breach


def _router() -> AlertRouter:
    return AlertRouter(Roster((
        assignment("acme", office="HD-ZGC", leader="WANG-JU"),
        assignment("acme", event_id="moved", office="HD-QH", leader="LI-JU",
                   effective_from=T0 + timedelta(days=1)),
        assignment("bureau", office="HD-JG", department="IT", leader="ZHAO-JU"),
    )))  # fmt: skip


def test_the_roster_in_force_when_observed_sets_office_department_and_leader() -> None:
    router = _router()
    [now] = router.route(breach(office="UNASSIGNED"))
    [later] = router.route(breach(2, observed_at=T0 + timedelta(days=2)))
    assert (now.office, now.department, now.leader) == ("HD-ZGC", "CONSUMER_PROTECTION", "WANG-JU")
    assert (later.office, later.leader) == ("HD-QH", "LI-JU")
    [wide] = router.route(breach(3, platform_id="bureau", office="BUREAU"))
    assert (wide.office, wide.department) == ("HD-JG", "IT")


def test_an_unrostered_platform_raises_roster_missing_once_and_goes_bureau_wide() -> None:
    router = _router()
    missing, alert = router.route(breach(1, platform_id="loner", office="UNASSIGNED"))
    assert isinstance(missing, RiskSignalRaised) and missing.rule_id == "ROSTER_MISSING"
    assert missing.subject == "loner" and missing.office == "HD-JG"
    assert "名册" in missing.detail
    assert alert.office == "HD-JG"
    assert [a.rule_id for a in router.route(breach(2, platform_id="loner"))] == [
        "COMPLAINT_RESOLVE"
    ]  # once per platform
    # the same signal raised again (another worker, a replay) is the same fact
    again = AlertRouter(router.roster).route(breach(5, platform_id="loner"))[0]
    assert again.alert_id == missing.alert_id


def test_without_any_entry_the_alert_keeps_its_policy_route() -> None:
    router = AlertRouter(Roster())
    out = router.route(breach(platform_id="acme", office="HD-ZGC"))
    assert [a.office for a in out] == ["HD-ZGC", "HD-ZGC"]  # ROSTER_MISSING, the alert
