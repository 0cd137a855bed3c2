"""Operational records: dead letters and audit checkpoints."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, model_validator

from schemas.models._base import Event, Long, NonNegativeLong
from schemas.models.enums import DeadLetterReason


class DeadLetterHeader(BaseModel):
    """One Kafka header of the rejected record, kept byte for byte."""

    model_config = ConfigDict(
        frozen=True, extra="forbid", ser_json_bytes="base64", val_json_bytes="base64"
    )

    key: str
    value: bytes | None = None

    @model_validator(mode="before")
    @classmethod
    def _from_pair(cls, data: Any) -> Any:
        # Kafka clients hand headers over as (key, value) pairs; accept them directly.
        if isinstance(data, tuple) and len(data) == 2:
            return {"key": data[0], "value": data[1]}
        return data


class DeadLetterRecord(Event):
    """Rejected input with its reason code and the original bytes and headers."""

    original_topic: str
    original_partition: Long
    original_offset: Long
    original_key: bytes | None = None
    original_value: bytes | None = None
    original_headers: list[DeadLetterHeader]
    reason: DeadLetterReason
    detail: str


class AuditCheckpoint(Event):
    """Hash-chain checkpoint over a range of a canonical topic (tamper evidence)."""

    topic: str
    partition: NonNegativeLong
    from_offset: NonNegativeLong
    to_offset: NonNegativeLong
    chain_hash: str
    record_count: NonNegativeLong
    signature: str | None = None
    key_id: str | None = None
