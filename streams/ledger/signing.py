"""Ed25519 signatures on audit checkpoints (the bureau's key, via ``cryptography``).

* ``REGBUS_AUDIT_KEY`` — path to the bureau's PEM private key (PKCS#8). When set, every
  checkpoint is signed; ``regbus audit keygen`` creates one (mode 0600) and its public key.
* ``REGBUS_AUDIT_PUBKEY`` — path to the PEM public key verifiers use (a private key file also
  works: its public half is taken).

The signed message is the checkpoint's content, one field per line, so a signature cannot be
moved to another partition, range or hash::

    regbus.audit.checkpoint/1 \\n topic \\n partition \\n from_offset \\n to_offset
    \\n record_count \\n chain_hash \\n key_id

``key_id`` is the first 16 hex digits of SHA-256 over the raw 32-byte public key.
"""

from __future__ import annotations

import base64
import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from schemas.models import AuditCheckpoint

ENV_KEY = "REGBUS_AUDIT_KEY"
ENV_PUBKEY = "REGBUS_AUDIT_PUBKEY"
MESSAGE_FORMAT = "regbus.audit.checkpoint/1"


class AuditKeyError(ValueError):
    """A key file that is missing, unreadable or not an Ed25519 key."""


def key_id(public: Ed25519PublicKey) -> str:
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


@dataclass(frozen=True)
class SigningKey:
    private: Ed25519PrivateKey

    @property
    def public(self) -> Ed25519PublicKey:
        return self.private.public_key()

    @property
    def key_id(self) -> str:
        return key_id(self.public)

    def sign(self, message: bytes) -> str:
        return base64.b64encode(self.private.sign(message)).decode()


def generate(path: Path, *, overwrite: bool = False) -> tuple[Path, Path]:
    """Write a new private key (0600) to ``path`` and its public key to ``path.pub``."""
    if path.exists() and not overwrite:
        raise AuditKeyError(f"{path} exists; refusing to overwrite a key (use --force)")
    private = Ed25519PrivateKey.generate()
    pem = private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(pem)
    os.chmod(path, 0o600)
    pub_path = path.with_name(path.name + ".pub")
    pub_path.write_bytes(public_pem(private.public_key()))
    return path, pub_path


def public_pem(public: Ed25519PublicKey) -> bytes:
    return public.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def load_signing_key(path: Path) -> SigningKey:
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except (OSError, ValueError, TypeError) as exc:
        raise AuditKeyError(f"cannot read the private key {path}: {exc}") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise AuditKeyError(f"{path} is not an Ed25519 private key")
    return SigningKey(key)


def load_public_key(path: Path) -> Ed25519PublicKey:
    """A public key from a public PEM, or the public half of a private PEM."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise AuditKeyError(f"cannot read {path}: {exc}") from None
    if b"PRIVATE KEY" in data:
        return load_signing_key(path).public
    try:
        key = serialization.load_pem_public_key(data)
    except (ValueError, TypeError) as exc:
        raise AuditKeyError(f"{path} is not a PEM public key: {exc}") from None
    if not isinstance(key, Ed25519PublicKey):
        raise AuditKeyError(f"{path} is not an Ed25519 public key")
    return key


def signing_key_from_env() -> SigningKey | None:
    path = os.environ.get(ENV_KEY)
    return load_signing_key(Path(path)) if path else None


def public_key_from_env() -> Ed25519PublicKey | None:
    for name in (ENV_PUBKEY, ENV_KEY):
        path = os.environ.get(name)
        if path:
            return load_public_key(Path(path))
    return None


def checkpoint_message(
    topic: str, partition: int, from_offset: int, to_offset: int, record_count: int,
    chain_hash: str, key_id: str | None,
) -> bytes:  # fmt: skip
    fields = (
        MESSAGE_FORMAT, topic, str(partition), str(from_offset), str(to_offset),
        str(record_count), chain_hash, key_id or "",
    )  # fmt: skip
    return "\n".join(fields).encode()


def message_of(cp: AuditCheckpoint) -> bytes:
    return checkpoint_message(
        cp.topic, cp.partition, cp.from_offset, cp.to_offset, cp.record_count, cp.chain_hash,
        cp.key_id,
    )  # fmt: skip


def verify_checkpoint(cp: AuditCheckpoint, public: Ed25519PublicKey) -> bool:
    """True when ``cp`` carries a valid signature by ``public`` (and names that key)."""
    if not cp.signature or cp.key_id != key_id(public):
        return False
    try:
        public.verify(base64.b64decode(cp.signature, validate=True), message_of(cp))
    except (InvalidSignature, ValueError):
        return False
    return True
