"""Builders for the alert events the core raises; every alert carries its routing data.

Events are built with ``model_construct`` (no re-validation per output): every input here is
already a validated UTC millisecond instant or a policy enum, and the tests re-validate every
output the engine produces.

``event_id`` equals ``alert_id`` (uuid5 of rule + kind + subject + due), so the same alert
raised twice — by a replay, a retry or two cases seeing the same unknown calendar year — is
visibly one fact.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from agents.core.ids import alert_id, derive_id, iso
from agents.core.policy import AlertStyle, Citation, PolicyVersion, Rule
from agents.core.sla_clock import BREACH, ESCALATE, Firing, SlaClock
from agents.core.state import CaseBase
from schemas.models import (
    AlertEvent,
    EscalationRaised,
    Event,
    LifecycleViolationDetected,
    RiskSignalRaised,
    SlaBreached,
    SlaWarningRaised,
    ViolationCode,
)

CALENDAR_YEAR_UNKNOWN = "CALENDAR_YEAR_UNKNOWN"
SOURCE_LABEL = "依据/source:"
"""Precedes the citation at the end of an SLA alert's detail (the report shows what follows)."""
POLICY_VERSION_UNKNOWN = "POLICY_VERSION_UNKNOWN"


def citation_fields(source: Citation) -> dict[str, Any]:
    """The v2 alert fields that cite a rule's source (instrument, article, dates, 暂定)."""
    doc = source.doc
    return {
        "source_instrument": f"{doc.title} ({doc.number})",
        "source_kind": doc.kind.value,
        "source_article": source.article,
        "source_promulgated": doc.promulgated.isoformat(),
        "source_effective": doc.effective.isoformat(),
        "source_repealed": None if doc.repealed is None else doc.repealed.isoformat(),
        "provisional": source.is_provisional,
    }


def threshold_alert(
    case: CaseBase,
    clock: SlaClock,
    firing: Firing,
    rule: Rule,
    version: PolicyVersion,
    observed_at: datetime,
) -> AlertEvent:
    """The alert for a crossed threshold, routed by the escalation ladder."""
    ladder = version.ladder
    common_id = alert_id(clock.rule_id, firing.kind, case.case_id, clock.due_at)
    style: AlertStyle
    cls: type[AlertEvent]
    extra: dict[str, Any] = citation_fields(rule.source)
    if firing.kind == BREACH:
        style, cls = rule.breach or ladder.breach, SlaBreached
        detail = f"{rule.title}: deadline {iso(clock.due_at)} passed"
    elif firing.kind == ESCALATE:
        style, cls = ladder.leadership, EscalationRaised
        detail = (
            f"{rule.title}: still open {ladder.leadership_after_breach_working_days} working "
            f"days after the deadline {iso(clock.due_at)}"
        )
    else:
        style, cls = ladder.warning[firing.pct], SlaWarningRaised
        extra["threshold_pct"] = firing.pct
        detail = f"{rule.title}: {firing.pct}% of the time used, due {iso(clock.due_at)}"
    detail += f" · {SOURCE_LABEL} {rule.source.text()}"  # text() ends in 暂定/provisional if so
    return cls.model_construct(
        event_id=common_id,
        case_id=case.case_id,
        platform_id=case.platform_id,
        occurred_at=observed_at,
        alert_id=common_id,
        rule_id=clock.rule_id,
        severity=style.severity,
        level=style.level,
        office=case.office,
        department=rule.department,
        subject=case.case_id,
        due_at=clock.due_at,
        observed_at=observed_at,
        detail=detail,
        policy_version=clock.policy_version,
        **extra,
    )


def violation_alert(
    *,
    case_id: str,
    platform_id: str,
    office: str,
    code: ViolationCode,
    offending: Event,
    detail: str,
    version: PolicyVersion,
) -> LifecycleViolationDetected:
    style = version.violation_style(code.value)
    ident = derive_id("alert", code.value, "VIOLATION", case_id, offending.event_id)
    return LifecycleViolationDetected.model_construct(
        event_id=ident,
        case_id=case_id,
        platform_id=platform_id,
        occurred_at=offending.occurred_at,
        alert_id=ident,
        rule_id=code.value,
        severity=style.severity,
        level=style.level,
        office=office,
        department=None,
        subject=case_id,
        due_at=None,
        observed_at=offending.occurred_at,
        detail=detail,
        policy_version=version.id,
        violation=code,
        offending_event_id=offending.event_id,
    )


def calendar_year_alert(
    year: int, version: PolicyVersion, observed_at: datetime, last_known: int
) -> RiskSignalRaised:
    """One bureau-wide signal per unknown year: the same id whichever case notices it."""
    subject = f"calendar:{year}"
    ident = alert_id(CALENDAR_YEAR_UNKNOWN, "SIGNAL", subject, None)
    signals = version.signals
    return RiskSignalRaised.model_construct(
        event_id=ident,
        case_id=subject,
        platform_id="bureau",
        occurred_at=observed_at,
        alert_id=ident,
        rule_id=CALENDAR_YEAR_UNKNOWN,
        severity=signals.style.severity,
        level=signals.style.level,
        office=signals.office,
        department=signals.department,
        subject=subject,
        due_at=None,
        observed_at=observed_at,
        detail=(
            f"No holiday data for {year}: deadlines in {year} use the weekend-only rule and are "
            f"provisional. Add agents/policy/calendar/{year}.yaml from the State Council notice."
        ),
        policy_version=version.id,
        signal=CALENDAR_YEAR_UNKNOWN,
        metric=float(year),
        threshold=float(last_known),
    )


def policy_version_alert(
    case_id: str,
    platform_id: str,
    office: str,
    requested: str,
    used: PolicyVersion,
    observed_at: datetime,
) -> RiskSignalRaised:
    ident = alert_id(POLICY_VERSION_UNKNOWN, "SIGNAL", case_id, None)
    signals = used.signals
    return RiskSignalRaised.model_construct(
        event_id=ident,
        case_id=case_id,
        platform_id=platform_id,
        occurred_at=observed_at,
        alert_id=ident,
        rule_id=POLICY_VERSION_UNKNOWN,
        severity=signals.style.severity,
        level=signals.style.level,
        office=office,
        department=signals.department,
        subject=case_id,
        due_at=None,
        observed_at=observed_at,
        detail=f"policy_rule_version {requested!r} is not in the policy file; using {used.id}",
        policy_version=used.id,
        signal=POLICY_VERSION_UNKNOWN,
        metric=0.0,
        threshold=0.0,
    )
