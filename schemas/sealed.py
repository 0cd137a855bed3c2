"""Personal data that must travel, sealed per data subject (crypto-shredding).

Intake needs the complainant's name, phone and address (Order 20 Art. 9; Order 121). They
travel only inside ``ComplaintFiled.complainant_sealed`` (schema v3): AES-256-GCM under a key
of the data subject's own (one per ``consumer_ref``, :mod:`streams.subject_keys`). Deleting
that key makes every copy in every log unreadable — the log itself is never rewritten, so the
hash chain (computed over the record bytes, i.e. the ciphertext) still verifies.

Layout: ``b"S1" + nonce(12) + ciphertext+tag``; the associated data binds the blob to its
subject and case (``consumer_ref \\x00 case_id``), so a blob copied into another case or
another subject's complaint does not open.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import orjson
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

__all__ = [
    "ERASED",
    "KEY_BYTES",
    "Complainant",
    "SealError",
    "new_key",
    "open_complainant",
    "seal_complainant",
]

MAGIC = b"S1"
KEY_BYTES = 32
NONCE_BYTES = 12
ERASED = "已删除/erased"
"""What a view shows for a personal field whose subject key was erased."""


class SealError(ValueError):
    """A sealed blob that does not open with the key given (wrong key, subject or case)."""


@dataclass(frozen=True, slots=True)
class Complainant:
    """The complainant's contact details as intake records them (personal data)."""

    name: str | None = None
    phone: str | None = None
    address: str | None = None

    def to_json(self) -> dict[str, str | None]:
        return {"name": self.name, "phone": self.phone, "address": self.address}


PERSONAL_FIELDS = ("name", "phone", "address")


def new_key() -> bytes:
    return AESGCM.generate_key(bit_length=KEY_BYTES * 8)


def _aad(consumer_ref: str, case_id: str) -> bytes:
    return consumer_ref.encode() + b"\x00" + case_id.encode()


def seal_complainant(key: bytes, consumer_ref: str, case_id: str, who: Complainant) -> bytes:
    nonce = os.urandom(NONCE_BYTES)
    body = orjson.dumps(who.to_json())
    return MAGIC + nonce + AESGCM(key).encrypt(nonce, body, _aad(consumer_ref, case_id))


def open_complainant(key: bytes, consumer_ref: str, case_id: str, blob: bytes) -> Complainant:
    if len(blob) < len(MAGIC) + NONCE_BYTES + 16 or not blob.startswith(MAGIC):
        raise SealError("not a sealed complainant blob")
    nonce = blob[len(MAGIC) : len(MAGIC) + NONCE_BYTES]
    try:
        body = AESGCM(key).decrypt(
            nonce, blob[len(MAGIC) + NONCE_BYTES :], _aad(consumer_ref, case_id)
        )
    except (InvalidTag, ValueError) as exc:
        raise SealError("the sealed complainant does not open with this key") from exc
    data = orjson.loads(body)
    return Complainant(**{k: data.get(k) for k in PERSONAL_FIELDS})


def erased_view() -> dict[str, str]:
    """The personal fields as every view shows them once the subject key is gone."""
    return dict.fromkeys(PERSONAL_FIELDS, ERASED)
