"""Event families: which event types belong to which case family and which are alerts.

Part of the contract: the topic catalogue (:mod:`streams.topics`), who may send what
(:mod:`schemas.send_rules`) and every agent read these tuples, and nothing else lists them.
"""

from __future__ import annotations

from enum import StrEnum

__all__ = [
    "ACCESS_EVENTS",
    "ACCOUNT_EVENTS",
    "ALERT_ACTION_EVENTS",
    "ALERT_EVENTS",
    "CALENDAR_EVENT",
    "CASE_EVENTS",
    "CLOCK_EVENTS",
    "COMPLAINT_EVENTS",
    "INBOX_ALERTS",
    "INBOX_NOTICES",
    "NOTIFICATION_EVENTS",
    "PLATFORM_EVENTS",
    "RECTIFICATION_EVENTS",
    "REFUND_EVENTS",
    "TICK_EVENT",
    "CaseFamily",
]


class CaseFamily(StrEnum):
    COMPLAINTS = "complaints"
    REFUNDS = "refunds"
    RECTIFICATIONS = "rectifications"


COMPLAINT_EVENTS = (
    "ComplaintFiled",
    "ComplaintForwarded",
    "ComplaintAcknowledged",
    "ComplaintSuspended",
    "ComplaintResumed",
    "ComplaintEscalated",
    "ComplaintResolved",
    "ComplaintFeedbackRecorded",
    "ComplaintReopened",
)
REFUND_EVENTS = ("RefundRequested", "RefundReviewed", "RefundPaid")
RECTIFICATION_EVENTS = (
    "InspectionFindingRecorded",
    "RectificationOrdered",
    "RectificationSubmitted",
    "RectificationVerified",
    "RectificationRejected",
)
ALERT_EVENTS = (
    "SlaWarningRaised",
    "SlaBreached",
    "EscalationRaised",
    "InterviewRecommended",
    "LifecycleViolationDetected",
    "RiskSignalRaised",
)
INBOX_ALERTS = (
    "SlaWarningRaised",
    "SlaBreached",
    "EscalationRaised",
    "InterviewRecommended",
    "LifecycleViolationDetected",
)
"""The alerts about a platform's own cases (or the platform) copied to its inbox."""
INBOX_NOTICES = ("DeadLetterNotice",)
NOTIFICATION_EVENTS = ("NotificationDelivered", "NotificationFailed")
CLOCK_EVENTS = (
    "SlaClockStarted",
    "SlaClockPaused",
    "SlaClockResumed",
    "SlaClockMet",
    "SlaClockCancelled",
)
TICK_EVENT = "ClockTicked"
CALENDAR_EVENT = "CalendarYearPublished"
"""On the calendar topic, and broadcast to every case-topic partition like a tick."""
CASE_EVENTS: dict[CaseFamily, tuple[str, ...]] = {
    CaseFamily.COMPLAINTS: COMPLAINT_EVENTS,
    CaseFamily.REFUNDS: REFUND_EVENTS,
    CaseFamily.RECTIFICATIONS: RECTIFICATION_EVENTS,
}
PLATFORM_EVENTS = COMPLAINT_EVENTS + REFUND_EVENTS + RECTIFICATION_EVENTS
# The console's facts (console/): the alert workflow, regulator accounts, the access log.
ALERT_ACTION_EVENTS = ("AlertAcknowledged", "AlertAssigned", "AlertNoted", "AlertClosed")
ACCOUNT_EVENTS = ("AccountCreated", "AccountRoleChanged", "AccountPasswordSet")
ACCESS_EVENTS = ("CaseViewed", "ListExported")
