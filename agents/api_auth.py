"""Who may read the worker's HTTP API: bearer tokens with a role, stored hashed.

Roles (:class:`Role`): ``regulator`` (the bureau: every case, alert and scorecard),
``auditor`` (the same, read-only by nature of the API) and ``platform`` (bound to one
platform id: only that platform's scorecard and cases). ``regbus api token create --role …
[--platform …]`` issues one; the token is printed once and only its SHA-256 is kept, in
``<state dir>/api-tokens.json`` (mode 0600). ``/healthz`` and ``/metrics`` stay open to
loopback callers. The console (aiohttp-session cookies) plugs in through
:func:`set_session_verifier`: a request carrying no bearer token is offered to it.
See docs/security.md.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

import orjson

from streams.security import write_secret

__all__ = [
    "TOKEN_FILE",
    "Principal",
    "Role",
    "TokenStore",
    "authenticate",
    "bearer_header",
    "set_session_verifier",
]

TOKEN_FILE = "api-tokens.json"
_PREFIX = "rbt_"


class Role(StrEnum):
    REGULATOR = "regulator"
    AUDITOR = "auditor"
    PLATFORM = "platform"


@dataclass(frozen=True, slots=True)
class Principal:
    """An authenticated caller: a token's (or console user's) name, role and platform."""

    name: str
    role: Role
    platform: str | None = None

    @property
    def label(self) -> str:
        return f"{self.role.value}:{self.platform}" if self.platform else self.role.value

    def may_read_platform(self, platform_id: str | None) -> bool:
        return self.role is not Role.PLATFORM or platform_id == self.platform


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class TokenStore:
    """The hashed tokens in a state directory (re-read when the file changes)."""

    def __init__(self, state_dir: Path) -> None:
        self.path = state_dir / TOKEN_FILE
        self._mtime: float | None = None
        self._entries: list[dict[str, Any]] = []

    def _load(self) -> list[dict[str, Any]]:
        try:
            mtime = self.path.stat().st_mtime
        except FileNotFoundError:
            self._mtime, self._entries = None, []
            return self._entries
        if mtime != self._mtime:
            self._entries = list(orjson.loads(self.path.read_bytes()).get("tokens", []))
            self._mtime = mtime
        return self._entries

    def create(self, name: str, role: Role, platform: str | None = None) -> str:
        """Issue a token; returns it in clear (shown once)."""
        if (role is Role.PLATFORM) != bool(platform):
            raise ValueError("a platform token needs --platform, and only a platform token has one")
        entries = [e for e in self._load() if e["name"] != name]
        token = _PREFIX + secrets.token_urlsafe(32)
        entries.append(
            {
                "name": name,
                "role": role.value,
                "platform": platform,
                "sha256": _digest(token),
                "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
            }
        )
        self.path.parent.mkdir(parents=True, exist_ok=True)
        write_secret(self.path, orjson.dumps({"tokens": entries}, option=orjson.OPT_INDENT_2))
        self._mtime = None
        return token

    def revoke(self, name: str) -> bool:
        entries = self._load()
        kept = [e for e in entries if e["name"] != name]
        if len(kept) == len(entries):
            return False
        write_secret(self.path, orjson.dumps({"tokens": kept}, option=orjson.OPT_INDENT_2))
        self._mtime = None
        return True

    def list(self) -> list[dict[str, Any]]:
        return [{k: v for k, v in e.items() if k != "sha256"} for e in self._load()]

    def verify(self, token: str) -> Principal | None:
        digest = _digest(token)
        for e in self._load():
            if hmac.compare_digest(e["sha256"], digest):
                return Principal(e["name"], Role(e["role"]), e.get("platform"))
        return None


SessionVerifier = Callable[[Mapping[str, str]], Principal | None]
"""Given a request's cookies, the console's logged-in user (or None)."""
_session_verifier: SessionVerifier | None = None


def set_session_verifier(verifier: SessionVerifier | None) -> None:
    """The console (aiohttp-session) registers how to read its session cookie here."""
    global _session_verifier
    _session_verifier = verifier


def authenticate(
    store: TokenStore, headers: Mapping[str, str], cookies: Mapping[str, str]
) -> Principal | None:
    """The caller of a request: its bearer token, else the console session; None if neither."""
    auth = headers.get("Authorization", "")
    scheme, _, token = auth.partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return store.verify(token.strip())
    if _session_verifier is not None:
        return _session_verifier(cookies)
    return None


def bearer_header(token: str | None) -> dict[str, str]:
    """The request header a client sends (empty without a token)."""
    return {"Authorization": f"Bearer {token}"} if token else {}
