"""Regulator accounts: argon2 password hashes, login throttling, who sees which platforms.

Accounts are events (``accounts`` topic); this module holds the pure parts. Office staff (所)
see only the platforms their office covers on the 包片 roster at the moment they look; every
other role sees every platform.
"""

from __future__ import annotations

import time
import uuid
from collections import OrderedDict
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from agents.core.roster import Roster
from console.timefmt import from_utc_text
from schemas.models import AccountCreated, AccountPasswordSet, Role, RosterAssigned

__all__ = ["Throttle", "Viewer", "account_created", "hash_password", "scope_of", "verify"]

_HASHER = PasswordHasher()
_NS = uuid.UUID("6a1f3c52-16c0-4e0b-9a51-7f0c2d9e1b16")


def hash_password(password: str) -> str:
    return _HASHER.hash(password)


def verify(password_hash: str, password: str) -> bool:
    try:
        return _HASHER.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def account_created(
    username: str,
    password: str,
    role: Role,
    office: str | None,
    actor: str,
    now: datetime,
    display_name: str = "",
) -> AccountCreated:
    return AccountCreated(
        event_id=str(uuid.uuid5(_NS, f"account/{username}/created")),
        case_id="",
        platform_id="bureau",
        occurred_at=now,
        username=username,
        display_name=display_name or username,
        role=role,
        office=office,
        password_hash=hash_password(password),
        actor=actor,
    )


def password_set(username: str, password: str, actor: str, now: datetime) -> AccountPasswordSet:
    return AccountPasswordSet(
        event_id=str(uuid.uuid4()),
        case_id="",
        platform_id="bureau",
        occurred_at=now,
        username=username,
        password_hash=hash_password(password),
        actor=actor,
    )


@dataclass(frozen=True, slots=True)
class Viewer:
    username: str
    role: Role
    office: str | None
    display_name: str


def scope_of(
    viewer: Viewer, roster_rows: list[dict[str, Any]], now: datetime
) -> frozenset[str] | None:
    """The platforms ``viewer`` may see (None = all), from the roster in force at ``now``."""
    if viewer.role is not Role.OFFICE:
        return None
    roster = Roster()
    for row in roster_rows:
        roster.apply(
            RosterAssigned(
                event_id=row["event_id"],
                case_id="",
                platform_id=row["platform_id"],
                occurred_at=from_utc_text(row["occurred_at"]),
                office=row["office"],
                department=row["department"],
                leader=row["leader"],
                office_contacts=[],
                department_contacts=[],
                leader_contacts=[],
                effective_from=from_utc_text(row["effective_from"]),
                assigned_by="-",
            )
        )
    return roster.platforms_of_office(viewer.office or "", now.astimezone(UTC))


class Throttle:
    """At most ``limit`` failed logins per key (account or address) in ``window`` seconds;
    the table is bounded (oldest keys forgotten first) so a flood cannot grow it."""

    def __init__(self, limit: int, window: float, max_keys: int = 10_000) -> None:
        self.limit = limit
        self.window = window
        self.max_keys = max_keys
        self._fails: OrderedDict[str, list[float]] = OrderedDict()

    def _recent(self, key: str, now: float) -> list[float]:
        stamps = [t for t in self._fails.get(key, []) if now - t < self.window]
        if stamps:
            self._fails[key] = stamps
        else:
            self._fails.pop(key, None)
        return stamps

    def blocked(self, key: str, now: float | None = None) -> bool:
        return len(self._recent(key, time.monotonic() if now is None else now)) >= self.limit

    def fail(self, key: str, now: float | None = None) -> None:
        at = time.monotonic() if now is None else now
        stamps = self._recent(key, at)
        stamps.append(at)
        self._fails[key] = stamps
        self._fails.move_to_end(key)
        while len(self._fails) > self.max_keys:
            self._fails.popitem(last=False)

    def reset(self, key: str) -> None:
        self._fails.pop(key, None)
