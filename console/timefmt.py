"""Beijing time for everything a regulator reads: ``2026-12-02 16:45 +08:00``."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

BEIJING = timezone(timedelta(hours=8), "Asia/Shanghai")

__all__ = ["BEIJING", "beijing", "duration", "from_utc_text", "parse_day", "to_utc_text"]


def beijing(value: datetime | str | None, seconds: bool = False) -> str:
    """``YYYY-MM-DD HH:MM +08:00`` in Beijing time, or "" for no time."""
    if value is None or value == "":
        return ""
    dt = from_utc_text(value) if isinstance(value, str) else value
    fmt = "%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M"
    return dt.astimezone(BEIJING).strftime(fmt) + " +08:00"


def duration(ms: int, lang: str = "zh-CN") -> str:
    """A span in days, hours and minutes: ``2天3小时`` / ``2d 3h``; a negative one is written
    as overdue (``超期2天`` / ``overdue 2d``), never with a minus sign."""
    zh = lang.startswith("zh")
    sign = ("超期" if zh else "overdue ") if ms < 0 else ""
    minutes = abs(ms) // 60_000
    d, rem = divmod(minutes, 1440)
    h, m = divmod(rem, 60)
    if zh:
        parts = [
            f"{d}天" if d else "",
            f"{h}小时" if h else "",
            f"{m}分" if m or not (d or h) else "",
        ]
        return sign + "".join(parts)
    parts = [f"{d}d" if d else "", f"{h}h" if h else "", f"{m}m" if m or not (d or h) else ""]
    return sign + " ".join(p for p in parts if p)


def to_utc_text(value: datetime) -> str:
    """The sortable text the read model stores: UTC ISO 8601 with milliseconds."""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def from_utc_text(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def parse_day(text: str) -> datetime:
    """A ``YYYY-MM-DD`` date as 00:00 Beijing time of that day; ValueError if malformed."""
    day = datetime.strptime(text.strip(), "%Y-%m-%d")
    return day.replace(tzinfo=BEIJING)
