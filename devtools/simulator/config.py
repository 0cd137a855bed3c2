"""How a simulation runs: seed, platforms, window, scale and the tick grid."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date, datetime, timedelta
from typing import Any

from devtools.simulator.clock import TickGrid
from devtools.simulator.platforms import SimPlatform, roster
from devtools.simulator.workcal import CalendarReachError, midnight, nth_day

DEFAULT_SEED = 8
DEFAULT_START = date(2026, 9, 18)
"""A Friday: the window holds the 调休 make-up Sunday 09-20, Mid-autumn on Friday 09-25,
the National Day holiday 10-01..07 and the make-up Saturday 10-10 (chinese_calendar 2026),
and ends well before today, since ingress refuses events from the future."""
DEFAULT_DAYS = 30
BACKLOG_DAYS = 80
"""How far before the window the oldest carried-over case starts."""
REACH_WORKING_DAYS = 50
"""Clocks started inside the window may run this far past it (45-working-day mediation)."""


@dataclass(frozen=True)
class SimConfig:
    seed: int = DEFAULT_SEED
    platforms: int = 5
    days: int = DEFAULT_DAYS
    scale: float = 1.0
    start: date = DEFAULT_START
    tick_minutes: int = 60
    malformed_per_day: float = 3.0
    """Bad records per day from each MALFORMED platform (at any scale: they are a probe)."""

    def __post_init__(self) -> None:
        if self.platforms < 1:
            raise ValueError("--platforms must be at least 1")
        if self.days < 1:
            raise ValueError("--days must be at least 1")
        if not self.scale > 0:
            raise ValueError("--scale must be positive")
        if not 1 <= self.tick_minutes <= 1440:
            raise ValueError("--tick-minutes must be between 1 and 1440")
        try:
            nth_day(self.start - timedelta(days=BACKLOG_DAYS), 1, True)
            nth_day(self.end_date + timedelta(days=1), REACH_WORKING_DAYS, True)
        except CalendarReachError as exc:
            raise ValueError(
                f"the window {self.start}..{self.end_date} needs holiday data from "
                f"{self.start - timedelta(days=BACKLOG_DAYS)} to about "
                f"{REACH_WORKING_DAYS} working days after it ({exc}); choose another --start"
            ) from None

    @property
    def start_at(self) -> datetime:
        """00:00 Beijing time on the start date."""
        return midnight(self.start)

    @property
    def end_date(self) -> date:
        return self.start + timedelta(days=self.days)

    @property
    def end_at(self) -> datetime:
        return self.start_at + timedelta(days=self.days)

    @property
    def grid(self) -> TickGrid:
        step = timedelta(minutes=self.tick_minutes)
        count = self.days * 1440 // self.tick_minutes + 1
        return TickGrid(self.start_at, step, count)

    @property
    def roster(self) -> tuple[SimPlatform, ...]:
        return roster(self.platforms)

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["start"] = self.start.isoformat()
        return data
