"""What each dead-letter reason means, in a sentence a regulator or a platform reads.

The English sentence is the message id of the console's catalogue
(``console/locale/zh_CN/LC_MESSAGES/messages.po`` carries the Simplified Chinese), so
``console.i18n.translate(REASON_TEXTS[reason], lang)`` gives either language;
``tests/console/test_catalogue.py`` checks that every reason has both.
"""

from __future__ import annotations

from schemas.models import DeadLetterReason

REASON_TEXTS: dict[DeadLetterReason, str] = {
    DeadLetterReason.BAD_MAGIC: "Not a framed Avro record (bad magic byte)",
    DeadLetterReason.UNKNOWN_SCHEMA_ID: "Unknown schema id",
    DeadLetterReason.TRUNCATED: "Record cut short",
    DeadLetterReason.INVALID_VALUE: "Invalid value or inconsistent envelope",
    DeadLetterReason.WRONG_TYPE_HEADER: "ce_type header does not match the schema",
    DeadLetterReason.MISSING_HEADER: "Required header missing",
    DeadLetterReason.SPOOFED_SOURCE: "Sent in another sender's name",
    DeadLetterReason.FORBIDDEN_TYPE: "Sender may not send this event",
    DeadLetterReason.UNKNOWN_PLATFORM: "Platform not registered or revoked",
    DeadLetterReason.FUTURE_TIMESTAMP: "Time too far in the future",
    DeadLetterReason.WRONG_TOPIC: "Topic names no valid platform",
    DeadLetterReason.PERSONAL_DATA: "Personal data in clear",
    DeadLetterReason.RECORD_TOO_LARGE: "Record too large for the case log",
    DeadLetterReason.PRODUCE_FAILED: "The broker refused to store a copy",
    DeadLetterReason.PROCESSING_ERROR: "Processing failed (a bureau-side fault)",
}
"""Every reason's English sentence (the catalogue's message id)."""


def reason_text(reason: DeadLetterReason | str) -> str:
    """The English sentence of ``reason`` (a code not known here is returned as it is)."""
    try:
        return REASON_TEXTS[DeadLetterReason(reason)]
    except ValueError:
        return str(reason)
