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
    SubjectErased,
    PersonalDataViewed,
)

EVENT_TYPES: dict[str, type[Event]] = {
    cls.EVENT_NAME: cls
    for cls in (
        *COMPLAINT_TYPES,
        *REFUND_TYPES,
        *RECTIFICATION_TYPES,
        *ALERT_TYPES,
        *CLOCK_TYPES,
        *RECORD_TYPES,
    )
}

__all__ = [
    "ALERT_TYPES",
    "CLOCK_TYPES",
    "COMPLAINT_TYPES",
    "EVENT_TYPES",
    "MAX_LONG",
    "MIN_LONG",
    "RECORD_TYPES",
    "RECTIFICATION_TYPES",
    "REFUND_TYPES",
    "AlertEvent",
    "AuditCheckpoint",
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
    "DeadLetterHeader",
    "DeadLetterReason",
    "DeadLetterRecord",
    "EscalationRaised",
    "Event",
    "InspectionFindingRecorded",
    "InterviewRecommended",
    "Level",
    "LifecycleViolationDetected",
    "Outcome",
    "PersonalDataViewed",
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
    "RosterAssigned",
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
    "SubjectErased",
    "SuspendReason",
    "UtcDatetime",
    "ViolationCode",
    "check_pseudonymous",
]
