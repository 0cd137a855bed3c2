"""Erasure of a data subject, and what replays and reports show of personal data.

:func:`erase_subject` is ``regbus privacy erase``: it tombstones the subject's key on
``<prefix>.subject-keys`` (crypto-shredding, :mod:`streams.subject_keys`) and records a
``SubjectErased`` on ``<prefix>.privacy``, the audit-visible trail. Nothing in the case
topics changes, so the hash chain still verifies and every case still replays.

:func:`read_privacy` gives a replay what it needs to label personal data: which cases carry
a sealed complainant, of which subject, and whether that subject's key still exists. A
report never shows personal data in clear: a sealed field reads "已加密/sealed", an erased one
"已删除/erased".
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from aiokafka import AIOKafkaProducer

from schemas.families import CaseFamily
from schemas.models import ComplaintFiled, PersonalDataViewed, SubjectErased
from schemas.sealed import ERASED, PERSONAL_FIELDS
from streams.codec import DecodeError, EventCodec
from streams.ledger.logread import LogReader
from streams.security import client_kwargs
from streams.settings import Settings
from streams.subject_keys import SubjectKeyStore
from streams.topics import Catalogue

__all__ = ["SEALED", "PrivacyView", "erase_subject", "read_privacy"]

SEALED = "已加密/sealed"
ERASER_SOURCE = "/bureau/privacy"
_NS = uuid.UUID("6f0b7a52-93f1-5b61-9a0e-3c1d2b4e5f60")


@dataclass
class PrivacyView:
    """Per case: the subject and the personal fields as a report may show them."""

    cases: dict[str, dict[str, Any]] = field(default_factory=dict)
    erasures: list[SubjectErased] = field(default_factory=list)
    views: int = 0
    """``PersonalDataViewed`` records on the privacy topic (who viewed whose case)."""

    def as_json(self) -> dict[str, Any]:
        return {
            "erasures": [
                {
                    "consumer_ref": e.consumer_ref,
                    "erased_by": e.erased_by,
                    "at": e.occurred_at.isoformat(),
                    "reason": e.reason,
                }
                for e in self.erasures
            ],
            "sealed_cases": sum(1 for c in self.cases.values() if c["status"] == "sealed"),
            "erased_cases": sum(1 for c in self.cases.values() if c["status"] == "erased"),
            "case_views_logged": self.views,
        }


async def erase_subject(
    settings: Settings, consumer_ref: str, erased_by: str, reason: str | None = None,
    *, now: datetime | None = None,
) -> tuple[SubjectErased, bool]:  # fmt: skip
    """Destroy the subject's key and record the erasure; (the event, whether a key existed)."""
    catalogue = Catalogue(settings.topic_prefix)
    keys = await SubjectKeyStore(settings, catalogue).load()
    had = await keys.erase(consumer_ref)
    event = SubjectErased(
        event_id=str(uuid.uuid5(_NS, f"erased/{consumer_ref}")), case_id="", platform_id="",
        occurred_at=now or datetime.now(UTC), consumer_ref=consumer_ref, erased_by=erased_by,
        reason=reason,
    )  # fmt: skip
    _, value, headers = EventCodec().encode(event, ERASER_SOURCE)
    producer = AIOKafkaProducer(
        bootstrap_servers=settings.bootstrap, acks="all", enable_idempotence=True,
        **client_kwargs(settings),
    )  # fmt: skip
    await producer.start()
    try:
        await producer.send_and_wait(
            catalogue.privacy, value, key=consumer_ref.encode(), headers=headers
        )
    finally:
        await producer.stop()
    return event, had


async def read_privacy(settings: Settings, catalogue: Catalogue | None = None) -> PrivacyView:
    """The sealed complaints, the erasures and the logged views, as of now."""
    catalogue = catalogue or Catalogue(settings.topic_prefix)
    codec = EventCodec()
    view = PrivacyView()
    keys = await SubjectKeyStore(settings, catalogue).load()
    erased: set[str] = set()
    async with LogReader(settings) as reader:
        ranges = await reader.bounds([catalogue.privacy, catalogue.cases(CaseFamily.COMPLAINTS)])
        async for _tp, records in reader.read(ranges):
            for rec in records:
                if rec.value is None:
                    continue
                try:
                    event = codec.decode(rec.value)
                except DecodeError:
                    continue
                if isinstance(event, SubjectErased):
                    view.erasures.append(event)
                    erased.add(event.consumer_ref)
                elif isinstance(event, PersonalDataViewed):
                    view.views += 1
                elif isinstance(event, ComplaintFiled) and event.complainant_sealed:
                    view.cases[event.case_id] = {"consumer_ref": event.consumer_ref}
    for entry in view.cases.values():
        ref = entry["consumer_ref"]
        gone = ref in erased or ref not in keys
        entry["status"] = "erased" if gone else "sealed"
        entry["fields"] = dict.fromkeys(PERSONAL_FIELDS, ERASED if gone else SEALED)
    return view
