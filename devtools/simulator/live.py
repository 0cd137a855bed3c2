"""The demo's live view: alerts as the system raises them, by supervision level (三级包片).

OFFICE (local office) ← warnings, DEPARTMENT (business department) ← breaches and lifecycle
violations, LEADERSHIP (bureau leadership) ← escalations and interview recommendations;
coloured by severity. A header line shows simulated time (with the kind of day: the National
Day holiday and its make-up working days are in the default month) and the counts.
"""

from __future__ import annotations

from collections import Counter, deque

from rich.console import Group, RenderableType
from rich.panel import Panel
from rich.progress_bar import ProgressBar
from rich.table import Table
from rich.text import Text

from devtools.simulator.config import SimConfig
from devtools.simulator.model import ExpectedAlert
from devtools.simulator.publish import PublishStats
from devtools.simulator.report import LEVELS, SEVERITY_STYLE
from devtools.simulator.workcal import SHANGHAI, day_kind, local_day
from schemas.models import DeadLetterRecord

ROWS_PER_LEVEL = 12
LEVEL_TITLES = {
    "OFFICE": "OFFICE · warnings",
    "DEPARTMENT": "DEPARTMENT · breaches, violations",
    "LEADERSHIP": "LEADERSHIP · escalations, interviews",
}


class LiveView:
    """A rich renderable the demo hands to ``rich.live.Live``; fed by callbacks."""

    def __init__(self, cfg: SimConfig, prefix: str, expected_alerts: int) -> None:
        self.cfg = cfg
        self.prefix = prefix
        self.expected_alerts = expected_alerts
        self.recent: dict[str, deque[ExpectedAlert]] = {
            level: deque(maxlen=ROWS_PER_LEVEL) for level in LEVELS
        }
        self.levels: Counter[str] = Counter()
        self.severities: Counter[str] = Counter()
        self.dead: Counter[str] = Counter()
        self.stats: PublishStats | None = None
        self.phase = "starting the worker…"

    # callbacks ----------------------------------------------------------------------------
    def alert(self, a: ExpectedAlert) -> None:
        self.recent[a.level.value].append(a)
        self.levels[a.level.value] += 1
        self.severities[a.severity.value] += 1

    def dead_letter(self, record: DeadLetterRecord) -> None:
        self.dead[record.reason.value] += 1

    def progress(self, stats: PublishStats) -> None:
        self.stats = stats
        self.phase = "simulating"

    # rendering ----------------------------------------------------------------------------
    def __rich__(self) -> RenderableType:
        return Group(self._header(), self._levels(), self._footer())

    def _header(self) -> Panel:
        stats = self.stats
        line = Text()
        done = 0.0
        if stats is not None and stats.sim_time is not None:
            t = stats.sim_time.astimezone(SHANGHAI)
            day = (stats.sim_time - self.cfg.start_at).total_seconds() / 86400
            done = min(1.0, max(0.0, day / self.cfg.days))
            kind = day_kind(local_day(stats.sim_time))
            style = "bold magenta" if kind in ("holiday", "make-up working day") else "bold"
            line.append(f"{t:%Y-%m-%d %H:%M %a} ", style="bold")
            line.append(f"({kind})", style=style)
            line.append(f"  day {min(day, self.cfg.days):.1f}/{self.cfg.days}  ")
        else:
            line.append(self.phase, style="italic")
        bar = ProgressBar(total=1.0, completed=done, width=30)
        counts = Text()
        if stats is not None:
            counts.append(
                f"records {stats.sent:,} (routed {stats.routed:,})  ticks {stats.ticks:,}  "
            )
        counts.append(f"alerts {sum(self.levels.values()):,}/{self.expected_alerts:,} expected  ")
        counts.append(f"dead letters {sum(self.dead.values()):,}  ")
        if stats is not None:
            counts.append(f"{stats.elapsed:.0f}s", style="dim")
        grid = Table.grid(padding=(0, 1))
        grid.add_row(line, bar)
        return Panel(
            Group(grid, counts),
            title=f"regbus demo · {self.prefix} · seed {self.cfg.seed}",
            title_align="left",
        )

    def _levels(self) -> Table:
        outer = Table.grid(expand=True, padding=(0, 1))
        for _ in LEVELS:
            outer.add_column(ratio=1)
        panels = []
        for level in LEVELS:
            rows = Table.grid(padding=(0, 1))
            for a in reversed(self.recent[level]):
                at = a.observed_at.astimezone(SHANGHAI)
                style = SEVERITY_STYLE.get(a.severity.value, "")
                rows.add_row(
                    Text(f"{at:%m-%d %H:%M}", style="dim"),
                    Text(a.mark.replace("WARN_", "W"), style=style),
                    Text(a.rule_id, style=style, overflow="ellipsis", no_wrap=True),
                    Text(a.subject, style="dim", overflow="ellipsis", no_wrap=True),
                )
            title = f"{LEVEL_TITLES[level]} · {self.levels[level]:,}"
            panels.append(Panel(rows, title=title, title_align="left", height=ROWS_PER_LEVEL + 2))
        outer.add_row(*panels)
        return outer

    def _footer(self) -> Text:
        text = Text("severity: ")
        for sev, style in SEVERITY_STYLE.items():
            text.append(f"{sev} {self.severities[sev]:,}  ", style=style)
        if self.dead:
            text.append("  dead letters: ")
            text.append(", ".join(f"{k} {v}" for k, v in sorted(self.dead.items())), style="dim")
        return text
