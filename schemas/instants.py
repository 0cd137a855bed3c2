"""One time rule for the whole house: instants, milliseconds, Beijing time.

* On the wire and inside, an instant is an aware UTC ``datetime`` at millisecond precision;
  :func:`to_ms` / :func:`from_ms` convert exactly (integer arithmetic, no float rounding).
* What a person types: :func:`parse_instant` reads an ISO time; one without a zone is
  **Beijing time**; an age (``90s``, ``30m``, ``1h``, ``2d``, ``1w``) counts back from ``now``.
  The CLI, the worker's API and the audit replay all read times with it.
* What a person reads: :func:`beijing_iso` shows an instant in Beijing time with its offset
  (``2026-03-02T09:00:00.000+08:00``); :func:`utc_iso` is the machine form (``…Z``).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

__all__ = [
    "BEIJING",
    "InstantError",
    "beijing_iso",
    "from_ms",
    "parse_instant",
    "to_ms",
    "utc_iso",
]

BEIJING = ZoneInfo("Asia/Shanghai")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_AGE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


class InstantError(ValueError):
    """Text that is neither an ISO time nor an age; the message says what was given."""


def to_ms(instant: datetime) -> int:
    """Epoch milliseconds of an aware instant, exactly (truncating below the millisecond)."""
    delta = instant - _EPOCH
    return delta.days * 86_400_000 + delta.seconds * 1000 + delta.microseconds // 1000


def from_ms(ms: int) -> datetime:
    """The UTC instant of epoch milliseconds."""
    return _EPOCH + timedelta(milliseconds=ms)


def parse_instant(text: str, now: datetime | None = None) -> datetime:
    """``2026-03-02T09:00+08:00``, ``2026-03-02T01:00Z``, ``2026-03-02 09:00`` or ``2026-03-02``
    (both Beijing time), ``now``, or an age before ``now`` (default: the wall clock)."""
    if text.strip().lower() == "now":
        return now or datetime.now(UTC)
    match = _AGE.match(text)
    if match:
        amount, unit = float(match.group(1)), match.group(2)
        return (now or datetime.now(UTC)) - timedelta(**{_UNITS[unit]: amount})
    cleaned = text.strip()
    if cleaned.endswith(("Z", "z")):
        cleaned = cleaned[:-1] + "+00:00"
    try:
        moment = datetime.fromisoformat(cleaned)
    except ValueError:
        raise InstantError(
            f"{text!r}: give an ISO time (2026-03-02T09:00+08:00; no zone means Beijing time) "
            "or an age (30m, 1h, 2d)"
        ) from None
    if moment.tzinfo is None or moment.utcoffset() is None:
        moment = moment.replace(tzinfo=BEIJING)
    return moment


def beijing_iso(instant: datetime | None) -> str | None:
    """An instant in Beijing time with its offset, millisecond precision (None stays None)."""
    if instant is None:
        return None
    return instant.astimezone(BEIJING).isoformat(timespec="milliseconds")


def utc_iso(instant: datetime | None) -> str | None:
    """An instant as ``…Z`` at millisecond precision (None stays None)."""
    if instant is None:
        return None
    return instant.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
