"""What the bureau tells a platform besides its case events (topic ``inbox.<platform>``)
and the notifier's delivery log (topic ``notifications``)."""

from __future__ import annotations

from enum import StrEnum

from schemas.models._base import Event, Long, NonEmptyStr, NonNegativeLong
from schemas.models.enums import DeadLetterReason, Level


class DeadLetterNotice(Event):
    """One of the platform's own records was refused at ingress. Carries the reason and where
    the record is, never its bytes or the refusal's free text (which may quote personal
    data); the bureau's dead-letter topic keeps the original. ``case_id`` is empty."""

    dead_letter_id: NonEmptyStr
    """The id of the bureau's DeadLetterRecord (uuid5 of topic/partition/offset)."""
    original_topic: str
    original_partition: Long
    original_offset: Long
    reason: DeadLetterReason
    ce_type: str | None = None
    """The record's ``ce_type`` header when it had one (e.g. regbus.ComplaintFiled.v1)."""
    ce_id: str | None = None
    """The record's ``ce_id`` header (the platform's event id) when it had one."""


class NotifyChannel(StrEnum):
    WEBHOOK = "WEBHOOK"
    EMAIL = "EMAIL"


class NotificationDelivered(Event):
    """An alert reached one person of the roster on one channel (the receiver said OK)."""

    delivery_id: NonEmptyStr
    """uuid5 of alert id + recipient + channel: one delivery, whatever retries or restarts."""
    alert_id: str
    rule_id: str
    level: Level
    channel: NotifyChannel
    recipient: str
    attempts: NonNegativeLong


class NotificationFailed(Event):
    """The last retry of a delivery failed: the dead-letter record of the notifier."""

    delivery_id: NonEmptyStr
    alert_id: str
    rule_id: str
    level: Level
    channel: NotifyChannel
    recipient: str
    attempts: NonNegativeLong
    reason: str
    """The last error (status code or exception), e.g. ``HTTP 503`` or ``TimeoutError``."""
