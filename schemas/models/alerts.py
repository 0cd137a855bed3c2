"""Alerts for regulators (topic ``alerts``, key = subject: a case id or a platform id)."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, Strict

from schemas.models._base import Double, Event, NonNegativeLong, UtcDatetime
from schemas.models.enums import Level, Severity, ViolationCode


class AlertEvent(Event):
    """Fields shared by every alert; not itself an event type on the wire."""

    alert_id: str
    """uuid5 of rule + subject + due, so a re-raised alert is visibly the same alert."""
    rule_id: str
    severity: Severity
    level: Level
    office: str
    department: str | None = None
    subject: str
    due_at: UtcDatetime | None = None
    observed_at: UtcDatetime
    detail: str
    policy_version: str
    source_instrument: str | None = None
    """Added in v2: the instrument the rule cites, title and number (e.g. 市场监督管理投诉举报
    处理办法 (国家市场监督管理总局令第121号)); null for alerts no rule cites, and in v1 records."""
    source_kind: str | None = None
    """Added in v2: statute, regulation, practice or order (practice binds only the bureau)."""
    source_article: str | None = None
    """Added in v2: the article cited (e.g. Art. 23(1)(五)); null when not confirmed."""
    source_promulgated: str | None = None
    """Added in v2: the instrument's promulgation date, YYYY-MM-DD."""
    source_effective: str | None = None
    """Added in v2: the date the instrument took effect, YYYY-MM-DD."""
    source_repealed: str | None = None
    """Added in v2: the date the instrument was repealed, YYYY-MM-DD; null while in force."""
    provisional: bool = False
    """Added in v2: the limit or article is not yet confirmed against the official text (暂定)."""
    leader: str | None = None
    """Added in v3: the bureau leader the 包片 roster names for the platform; v1 reads null."""


class SlaWarningRaised(AlertEvent):
    """An SLA clock passed a warning threshold (50% or 75% of its time)."""

    threshold_pct: Annotated[int, Strict(), Field(ge=1, le=100)]
    """Percentage of the allowed time used (the policy warns at 50 and 75)."""


class SlaBreached(AlertEvent):
    """An SLA clock passed its due time without being met."""


class EscalationRaised(AlertEvent):
    """An overdue matter escalated to the next supervision level."""


class InterviewRecommended(AlertEvent):
    """Repeated breaches: a regulatory interview (约谈) is recommended."""

    breach_count: NonNegativeLong


class LifecycleViolationDetected(AlertEvent):
    """An illegal case transition was observed (e.g. paid before approval)."""

    violation: ViolationCode
    offending_event_id: str


class RiskSignalRaised(AlertEvent):
    """A platform-level risk signal (surge, settlement below target, calendar gap)."""

    signal: str
    """E.g. SURGE, SETTLEMENT_BELOW_TARGET, CALENDAR_YEAR_UNKNOWN."""
    metric: Double
    threshold: Double
