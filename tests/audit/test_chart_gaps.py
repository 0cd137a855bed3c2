"""The report's compliance chart: a period without data is a gap, never a joined line."""

from __future__ import annotations

import re
from datetime import date

from audit.metrics import every_period
from audit.svg import compliance_chart


def test_every_period_keeps_empty_weeks_and_months() -> None:
    weeks = every_period(date(2026, 9, 2), date(2026, 9, 30), "week")
    assert weeks == ["2026-08-31", "2026-09-07", "2026-09-14", "2026-09-21", "2026-09-28"]
    months = every_period(date(2025, 11, 15), date(2026, 2, 1), "month")
    assert months == ["2025-11-01", "2025-12-01", "2026-01-01", "2026-02-01"]


def test_a_week_without_data_breaks_the_line() -> None:
    weeks = every_period(date(2026, 9, 1), date(2026, 9, 29), "week")
    point = {"met": 1, "breached": 1, "compliance": 0.5}
    series = {
        "granularity": "week",
        "periods": weeks,
        "platforms": [
            {
                "platform_id": "acme",
                # data in weeks 0, 1, 3 and 4; week 2 has none
                "points": [{"period": weeks[i], **point} for i in (0, 1, 3, 4)],
            }
        ],
    }
    svg = compliance_chart(series)
    lines = re.findall(r'<polyline points="([^"]+)"', svg)
    assert len(lines) == 2, lines  # 0–1 and 3–4, not one line across the gap
    assert all(len(points.split()) == 2 for points in lines)
    assert svg.count('class="point"') == 4
