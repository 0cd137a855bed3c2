"""The in-process contract: one frozen pydantic model per event (see /work/notes/events_spec.md).

``EVENT_TYPES`` maps each event name (class name = Avro record name = registry subject) to its
model; the family tuples group them the way the topic catalogue does.
"""

from __future__ import annotations

from schemas.models._base import MAX_LONG, MIN_LONG, Event, UtcDatetime
from schemas.models.alerts import (
    AlertEvent,
    EscalationRaised,
    InterviewRecommended,
    LifecycleViolationDetected,
    RiskSignalRaised,
    SlaBreached,
    SlaWarningRaised,
)
from schemas.models.calendar import CalendarYearPublished
from schemas.models.campaigns import (
    RoomCheckResult,
    SampledRoom,
    SpotCheckCampaignClosed,
    SpotCheckCampaignPlanned,
    SpotCheckRoomChecked,
    SpotCheckRoomsSampled,
)
from schemas.models.clock import (
    ClockTicked,
    SlaClockCancelled,
    SlaClockEvent,
    SlaClockMet,
    SlaClockPaused,
    SlaClockResumed,
    SlaClockStarted,
)
from schemas.models.complaints import (
    ComplaintAcknowledged,
    ComplaintEscalated,
    ComplaintFeedbackRecorded,
    ComplaintFiled,
    ComplaintForwarded,
    ComplaintReopened,
    ComplaintResolved,
    ComplaintResumed,
    ComplaintSuspended,
    check_pseudonymous,
)
from schemas.models.console import (
    AccountCreated,
    AccountPasswordSet,
    AccountRoleChanged,
    AlertAcknowledged,
    AlertActionEvent,
    AlertAssigned,
    AlertClosed,
    AlertNoted,
    CaseViewed,
    ListExported,
    Role,
)
from schemas.models.enforcement import (
    Attendee,
    AttendeeSide,
    CorrectionOrdered,
    CorrectionSubmitted,
    CorrectionVerified,
    InterviewHeld,
    InterviewOutcome,
    InterviewOutcomeRecorded,
    LegalBasis,
    PenaltyDecided,
    Verdict,
)
from schemas.models.enums import (
    Category,
    Channel,
    DeadLetterReason,
    Level,
    Outcome,
    Priority,
    ReviewDecision,
    Satisfaction,
    Severity,
    SuspendReason,
    ViolationCode,
)
from schemas.models.governance_rules import PlatformRuleChanged
from schemas.models.notices import (
    DeadLetterNotice,
    NotificationDelivered,
    NotificationFailed,
    NotifyChannel,
)
from schemas.models.privacy import PersonalDataViewed, SubjectErased
from schemas.models.records import AuditCheckpoint, DeadLetterHeader, DeadLetterRecord
from schemas.models.rectifications import (
    InspectionFindingRecorded,
    RectificationOrdered,
    RectificationRejected,
    RectificationSubmitted,
    RectificationVerified,
)
from schemas.models.refunds import RefundPaid, RefundRequested, RefundReviewed
from schemas.models.roster import RosterAssigned

COMPLAINT_TYPES: tuple[type[Event], ...] = (
    ComplaintFiled,
    ComplaintForwarded,
    ComplaintAcknowledged,
    ComplaintSuspended,
    ComplaintResumed,
    ComplaintEscalated,
    ComplaintResolved,
    ComplaintFeedbackRecorded,
    ComplaintReopened,
)
REFUND_TYPES: tuple[type[Event], ...] = (RefundRequested, RefundReviewed, RefundPaid)
RECTIFICATION_TYPES: tuple[type[Event], ...] = (
    InspectionFindingRecorded,
    RectificationOrdered,
    RectificationSubmitted,
    RectificationVerified,
    RectificationRejected,
)
ALERT_TYPES: tuple[type[AlertEvent], ...] = (
    SlaWarningRaised,
    SlaBreached,
    EscalationRaised,
    InterviewRecommended,
    LifecycleViolationDetected,
    RiskSignalRaised,
)
CLOCK_TYPES: tuple[type[SlaClockEvent], ...] = (
    SlaClockStarted,
    SlaClockPaused,
    SlaClockResumed,
    SlaClockMet,
    SlaClockCancelled,
)
RECORD_TYPES: tuple[type[Event], ...] = (
    ClockTicked,
    DeadLetterRecord,
    AuditCheckpoint,
    RosterAssigned,
    CalendarYearPublished,
    SubjectErased,
    PersonalDataViewed,
)
ALERT_ACTION_TYPES: tuple[type[AlertActionEvent], ...] = (
    AlertAcknowledged,
    AlertAssigned,
    AlertNoted,
    AlertClosed,
)
ACCOUNT_TYPES: tuple[type[Event], ...] = (AccountCreated, AccountRoleChanged, AccountPasswordSet)
ACCESS_TYPES: tuple[type[Event], ...] = (CaseViewed, ListExported)

NOTICE_TYPES: tuple[type[Event], ...] = (
    DeadLetterNotice,
    NotificationDelivered,
    NotificationFailed,
)
ENFORCEMENT_TYPES: tuple[type[Event], ...] = (
    InterviewHeld,
    InterviewOutcomeRecorded,
    CorrectionOrdered,
    CorrectionSubmitted,
    CorrectionVerified,
    PenaltyDecided,
)
CAMPAIGN_TYPES: tuple[type[Event], ...] = (
    SpotCheckCampaignPlanned,
    SpotCheckRoomsSampled,
    SpotCheckRoomChecked,
    SpotCheckCampaignClosed,
)
RULE_TYPES: tuple[type[Event], ...] = (PlatformRuleChanged,)
"""Governance: platform rule changes (topic ``governance``)."""

EVENT_TYPES: dict[str, type[Event]] = {
    cls.EVENT_NAME: cls
    for cls in (
        *COMPLAINT_TYPES,
        *REFUND_TYPES,
        *RECTIFICATION_TYPES,
        *ALERT_TYPES,
        *CLOCK_TYPES,
        *RECORD_TYPES,
        *ALERT_ACTION_TYPES,
        *ACCOUNT_TYPES,
        *ACCESS_TYPES,
        *NOTICE_TYPES,
        *ENFORCEMENT_TYPES,
        *CAMPAIGN_TYPES,
        *RULE_TYPES,
    )
}

__all__ = [
    "ACCESS_TYPES",
    "ACCOUNT_TYPES",
    "ALERT_ACTION_TYPES",
    "ALERT_TYPES",
    "CAMPAIGN_TYPES",
    "CLOCK_TYPES",
    "COMPLAINT_TYPES",
    "ENFORCEMENT_TYPES",
    "EVENT_TYPES",
    "MAX_LONG",
    "MIN_LONG",
    "NOTICE_TYPES",
    "RECORD_TYPES",
    "RECTIFICATION_TYPES",
    "REFUND_TYPES",
    "RULE_TYPES",
    "AccountCreated",
    "AccountPasswordSet",
    "AccountRoleChanged",
    "AlertAcknowledged",
    "AlertActionEvent",
    "AlertAssigned",
    "AlertClosed",
    "AlertEvent",
    "AlertNoted",
    "Attendee",
    "AttendeeSide",
    "AuditCheckpoint",
    "CalendarYearPublished",
    "CaseViewed",
    "Category",
    "Channel",
    "ClockTicked",
    "ComplaintAcknowledged",
    "ComplaintEscalated",
    "ComplaintFeedbackRecorded",
    "ComplaintFiled",
    "ComplaintForwarded",
    "ComplaintReopened",
    "ComplaintResolved",
    "ComplaintResumed",
    "ComplaintSuspended",
    "CorrectionOrdered",
    "CorrectionSubmitted",
    "CorrectionVerified",
    "DeadLetterHeader",
    "DeadLetterNotice",
    "DeadLetterReason",
    "DeadLetterRecord",
    "EscalationRaised",
    "Event",
    "InspectionFindingRecorded",
    "InterviewHeld",
    "InterviewOutcome",
    "InterviewOutcomeRecorded",
    "InterviewRecommended",
    "LegalBasis",
    "Level",
    "LifecycleViolationDetected",
    "ListExported",
    "NotificationDelivered",
    "NotificationFailed",
    "NotifyChannel",
    "Outcome",
    "PenaltyDecided",
    "PersonalDataViewed",
    "PlatformRuleChanged",
    "Priority",
    "RectificationOrdered",
    "RectificationRejected",
    "RectificationSubmitted",
    "RectificationVerified",
    "RefundPaid",
    "RefundRequested",
    "RefundReviewed",
    "ReviewDecision",
    "RiskSignalRaised",
    "Role",
    "RoomCheckResult",
    "RosterAssigned",
    "SampledRoom",
    "Satisfaction",
    "Severity",
    "SlaBreached",
    "SlaClockCancelled",
    "SlaClockEvent",
    "SlaClockMet",
    "SlaClockPaused",
    "SlaClockResumed",
    "SlaClockStarted",
    "SlaWarningRaised",
    "SpotCheckCampaignClosed",
    "SpotCheckCampaignPlanned",
    "SpotCheckRoomChecked",
    "SpotCheckRoomsSampled",
    "SubjectErased",
    "SuspendReason",
    "UtcDatetime",
    "Verdict",
    "ViolationCode",
    "check_pseudonymous",
]
