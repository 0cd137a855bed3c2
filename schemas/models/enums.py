"""The closed vocabularies of the contract.

Each enum is a ``StrEnum`` whose values equal its names, so the Avro enum symbols, the Python
members and the JSON strings are one and the same spelling.
"""

from __future__ import annotations

from enum import StrEnum


class Channel(StrEnum):
    HOTLINE_12345 = "HOTLINE_12345"
    HOTLINE_12315 = "HOTLINE_12315"
    PLATFORM_APP = "PLATFORM_APP"
    BUREAU_REFERRAL = "BUREAU_REFERRAL"


class Category(StrEnum):
    DELIVERY_GOODS_DAMAGE = "DELIVERY_GOODS_DAMAGE"
    REFUND_DISPUTE = "REFUND_DISPUTE"
    FALSE_ADVERTISING = "FALSE_ADVERTISING"
    LIVESTREAM_SALES = "LIVESTREAM_SALES"
    SECONDHAND_VALUATION = "SECONDHAND_VALUATION"
    FOOD_SAFETY = "FOOD_SAFETY"
    OTHER = "OTHER"


class Priority(StrEnum):
    URGENT = "URGENT"
    NORMAL = "NORMAL"


class SuspendReason(StrEnum):
    TESTING = "TESTING"
    APPRAISAL = "APPRAISAL"
    ODR_NEGOTIATION = "ODR_NEGOTIATION"
    OTHER = "OTHER"


class Outcome(StrEnum):
    SETTLED = "SETTLED"
    NOT_SETTLED = "NOT_SETTLED"
    WITHDRAWN = "WITHDRAWN"
    OUT_OF_SCOPE = "OUT_OF_SCOPE"


class Satisfaction(StrEnum):
    SATISFIED = "SATISFIED"
    BASICALLY_SATISFIED = "BASICALLY_SATISFIED"
    UNSATISFIED = "UNSATISFIED"


class ReviewDecision(StrEnum):
    APPROVED = "APPROVED"
    PARTLY_APPROVED = "PARTLY_APPROVED"
    REJECTED = "REJECTED"


class Level(StrEnum):
    OFFICE = "OFFICE"
    DEPARTMENT = "DEPARTMENT"
    LEADERSHIP = "LEADERSHIP"


class Severity(StrEnum):
    INFO = "INFO"
    WARNING = "WARNING"
    MAJOR = "MAJOR"
    CRITICAL = "CRITICAL"


class ViolationCode(StrEnum):
    PAID_BEFORE_APPROVAL = "PAID_BEFORE_APPROVAL"
    PAID_ABOVE_APPROVED = "PAID_ABOVE_APPROVED"
    PAID_TWICE = "PAID_TWICE"
    REVIEWED_TWICE = "REVIEWED_TWICE"
    PAID_AFTER_REJECTION = "PAID_AFTER_REJECTION"
    ILLEGAL_TRANSITION = "ILLEGAL_TRANSITION"
    UNKNOWN_CASE = "UNKNOWN_CASE"


class DeadLetterReason(StrEnum):
    BAD_MAGIC = "BAD_MAGIC"
    UNKNOWN_SCHEMA_ID = "UNKNOWN_SCHEMA_ID"
    TRUNCATED = "TRUNCATED"
    INVALID_VALUE = "INVALID_VALUE"
    WRONG_TYPE_HEADER = "WRONG_TYPE_HEADER"
    MISSING_HEADER = "MISSING_HEADER"
    SPOOFED_SOURCE = "SPOOFED_SOURCE"
    FORBIDDEN_TYPE = "FORBIDDEN_TYPE"
    UNKNOWN_PLATFORM = "UNKNOWN_PLATFORM"
    FUTURE_TIMESTAMP = "FUTURE_TIMESTAMP"
    WRONG_TOPIC = "WRONG_TOPIC"
    PERSONAL_DATA = "PERSONAL_DATA"
    """Added in DeadLetterRecord v2: the record carried personal data in clear; its original
    bytes are not kept (only a digest), its detail names the field with the value masked."""
    RECORD_TOO_LARGE = "RECORD_TOO_LARGE"
    """Added in DeadLetterRecord v3 / DeadLetterNotice v2: the record, uncompressed, is larger
    than a canonical topic accepts (it arrived compressed, or through a larger topic)."""
    PRODUCE_FAILED = "PRODUCE_FAILED"
    """v3: the broker refused the routed copy (not authorised, too large, retries exhausted)."""
    PROCESSING_ERROR = "PROCESSING_ERROR"
    """v3: processing the record raised (a defect, not the record's fault); detail names it."""
