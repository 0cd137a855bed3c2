"""Roster entries and alerts for the notifier tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from schemas.models import (
    EscalationRaised,
    InterviewRecommended,
    Level,
    RosterAssigned,
    Severity,
    SlaBreached,
    SlaWarningRaised,
)

T0 = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)


def assignment(platform: str = "acme", **kw: Any) -> RosterAssigned:
    values: dict[str, Any] = {
        "event_id": f"roster-{platform}",
        "case_id": "",
        "platform_id": platform,
        "occurred_at": T0 - timedelta(days=30),
        "office": "HD-ZGC",
        "department": "CONSUMER_PROTECTION",
        "leader": "WANG-JU",
        "office_contacts": ["zgc.duty@hd.example.cn"],
        "department_contacts": ["zhang.wei"],
        "leader_contacts": ["wang.ju@hd.example.cn"],
        "effective_from": T0 - timedelta(days=30),
        "assigned_by": "bureau-admin",
    }
    values.update(kw)
    return RosterAssigned.model_validate(values)


def _alert(cls: type, n: int, **kw: Any) -> Any:
    values: dict[str, Any] = {
        "event_id": f"a-{cls.__name__}-{n}",
        "case_id": f"C-{n}",
        "platform_id": "acme",
        "occurred_at": T0,
        "alert_id": f"a-{cls.__name__}-{n}",
        "rule_id": "COMPLAINT_RESOLVE",
        "severity": Severity.CRITICAL,
        "level": Level.LEADERSHIP,
        "office": "HD-ZGC",
        "department": "CONSUMER_PROTECTION",
        "leader": "WANG-JU",
        "subject": f"C-{n}",
        "due_at": T0 - timedelta(days=7),
        "observed_at": T0,
        "detail": "still open 5 working days after the deadline",
        "policy_version": "SAMR-20",
    }
    values.update(kw)
    return cls.model_validate(values)


def escalation(n: int = 1, **kw: Any) -> EscalationRaised:
    return _alert(EscalationRaised, n, **kw)  # type: ignore[no-any-return]


def breach(n: int = 1, **kw: Any) -> SlaBreached:
    kw.setdefault("level", Level.DEPARTMENT)
    kw.setdefault("severity", Severity.MAJOR)
    return _alert(SlaBreached, n, **kw)  # type: ignore[no-any-return]


def warning(n: int = 1) -> SlaWarningRaised:
    return _alert(SlaWarningRaised, n, level=Level.OFFICE, severity=Severity.INFO,
                  threshold_pct=75)  # type: ignore[no-any-return]  # fmt: skip


def interview(n: int = 1) -> InterviewRecommended:
    return _alert(InterviewRecommended, n, case_id="acme", subject="acme", rule_id=
                  "INTERVIEW_RECOMMENDED", severity=Severity.MAJOR, due_at=None,
                  breach_count=3)  # type: ignore[no-any-return]  # fmt: skip
