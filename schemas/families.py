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
    "CAMPAIGN_EVENTS",
    "CASE_EVENTS",
    "CLOCK_EVENTS",
    "COMPLAINT_EVENTS",
    "ENFORCEMENT_EVENTS",
    "GOVERNANCE",
    "INBOX_ALERTS",
    "INBOX_NOTICES",
    "NOTIFICATION_EVENTS",
    "PLATFORM_EVENTS",
    "RECTIFICATION_EVENTS",
    "REFUND_EVENTS",
    "RULE_EVENTS",
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
# The bureau's governance of platforms (issue 18), on the ``governance`` topic keyed by
# platform id; bureau-sent only. Enforcement: interviews, orders to correct, penalties.
ENFORCEMENT_EVENTS = (
    "InterviewHeld",
    "InterviewOutcomeRecorded",
    "CorrectionOrdered",
    "CorrectionSubmitted",
    "CorrectionVerified",
    "PenaltyDecided",
)
# The bureau's governance loop (issue 18), on the ``governance`` topic.
GOVERNANCE = "governance"
"""The topic family (and name suffix) of the bureau's governance events."""
CAMPAIGN_EVENTS = (
    "SpotCheckCampaignPlanned",
    "SpotCheckRoomsSampled",
    "SpotCheckRoomChecked",
    "SpotCheckCampaignClosed",
)
"""Spot-check campaigns (双随机一公开), keyed by campaign id; bureau-sent only."""
# Governance (topic ``governance``, keyed by platform id; bureau-sent only).
RULE_EVENTS = ("PlatformRuleChanged",)
"""Platform rule changes (协议规则): recorded by the bureau, answering its advice or not."""
