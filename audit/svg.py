"""Inline SVG charts for the HTML report, drawn from plain numbers (no JavaScript, no assets).

Every mark carries its data in ``data-*`` attributes and a ``<title>`` tooltip, so the numbers
can be read back from the page (the tests do).
"""

from __future__ import annotations

from html import escape

PALETTE = (
    "#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e",
    "#17becf", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22",
)  # fmt: skip
_FONT = 'font-family="system-ui, sans-serif" font-size="11"'


def _svg(width: int, height: int, label: str, body: list[str]) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="{escape(label)}">'
        f"<title>{escape(label)}</title>" + "".join(body) + "</svg>"
    )


def _pct(value: float) -> str:
    return f"{value * 100:.1f}%"


def _y_axis(x0: int, y0: int, height: int, width: int) -> list[str]:
    """Horizontal grid at 0, 25, 50, 75, 100 % with labels."""
    out = []
    for pct in (0, 25, 50, 75, 100):
        y = y0 + height - height * pct / 100
        out.append(
            f'<line x1="{x0}" y1="{y:.1f}" x2="{x0 + width}" y2="{y:.1f}" stroke="#ddd"/>'
            f'<text x="{x0 - 6}" y="{y + 4:.1f}" text-anchor="end" {_FONT}>{pct}%</text>'
        )
    return out


def _empty(width: int, height: int, label: str) -> str:
    return _svg(width, height, label, [
        f'<text x="{width // 2}" y="{height // 2}" text-anchor="middle" {_FONT}>no data</text>'
    ])  # fmt: skip


def compliance_chart(series: dict[str, object], width: int = 760, height: int = 300) -> str:
    """One line per platform: SLA compliance (0–100 %) per period."""
    label = "SLA compliance per platform over time"
    periods = [str(p) for p in series.get("periods", [])]  # type: ignore[attr-defined]
    platforms = list(series.get("platforms", []))  # type: ignore[call-overload]
    if not periods or not platforms:
        return _empty(width, height, label)
    x0, y0, w, h = 50, 20, width - 190, height - 70
    step = w / max(1, len(periods) - 1)
    xs = {p: x0 + (i * step if len(periods) > 1 else w / 2) for i, p in enumerate(periods)}
    body = _y_axis(x0, y0, h, w)
    every = max(1, len(periods) // 8)
    for i, p in enumerate(periods):
        if i % every == 0 or i == len(periods) - 1:
            body.append(
                f'<text x="{xs[p]:.1f}" y="{y0 + h + 16}" text-anchor="middle" {_FONT}>'
                f"{escape(p[5:] if len(p) == 10 else p)}</text>"
            )
    for n, entry in enumerate(platforms):
        color = PALETTE[n % len(PALETTE)]
        pid = str(entry["platform_id"])
        pts = [(xs[str(pt["period"])], pt) for pt in entry["points"]]
        coords = [(x, y0 + h - h * float(pt["compliance"] or 0.0)) for x, pt in pts]
        index = {p: i for i, p in enumerate(periods)}
        runs: list[list[tuple[float, float]]] = []
        previous = -2
        for (x, y), (_, pt) in zip(coords, pts, strict=True):
            at = index[str(pt["period"])]
            if at != previous + 1:  # a period without data: the line stops, it does not jump
                runs.append([])
            runs[-1].append((x, y))
            previous = at
        for run in runs:
            if len(run) > 1:
                path = " ".join(f"{x:.1f},{y:.1f}" for x, y in run)
                body.append(
                    f'<polyline points="{path}" fill="none" stroke="{color}" stroke-width="2" '
                    f'data-platform="{escape(pid)}"/>'
                )
        for (x, y), (_, pt) in zip(coords, pts, strict=True):
            tip = (
                f"{pid} {pt['period']}: {_pct(float(pt['compliance'] or 0))} "
                f"({pt['met']} met, {pt['breached']} breached)"
            )
            body.append(
                f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3.5" fill="{color}" class="point" '
                f'data-platform="{escape(pid)}" data-period="{escape(str(pt["period"]))}" '
                f'data-value="{pt["compliance"]}" data-met="{pt["met"]}" '
                f'data-breached="{pt["breached"]}"><title>{escape(tip)}</title></circle>'
            )
        ly = y0 + 14 * n + 6
        body.append(
            f'<rect x="{x0 + w + 20}" y="{ly - 8}" width="10" height="10" fill="{color}"/>'
            f'<text x="{x0 + w + 36}" y="{ly + 1}" {_FONT}>{escape(pid)}</text>'
        )
    body.append(
        f'<text x="{x0}" y="{height - 8}" {_FONT}>per {escape(str(series.get("granularity")))}'
        " (Asia/Shanghai); cycles met in time / cycles decided</text>"
    )
    return _svg(width, height, label, body)


def breaches_chart(rows: list[dict[str, object]], width: int = 760) -> str:
    """Horizontal bars: SLA breaches per rule."""
    label = "SLA breaches by rule"
    if not rows:
        return _empty(width, 80, label)
    bar, gap, x0 = 18, 6, 230
    height = 30 + len(rows) * (bar + gap)
    top = max(int(str(r["breaches"])) for r in rows) or 1
    w = width - x0 - 60
    body = []
    for i, r in enumerate(rows):
        y = 10 + i * (bar + gap)
        n = int(str(r["breaches"]))
        rule = escape(str(r["rule_id"]))
        bw = max(1.0, w * n / top)
        body.append(
            f'<text x="{x0 - 8}" y="{y + 13}" text-anchor="end" {_FONT}>{rule}</text>'
            f'<rect x="{x0}" y="{y}" width="{bw:.1f}" height="{bar}" fill="#d62728" class="bar" '
            f'data-rule="{rule}" data-value="{n}"><title>{rule}: {n}</title></rect>'
            f'<text x="{x0 + bw + 6:.1f}" y="{y + 13}" {_FONT}>{n}</text>'
        )
    return _svg(width, height, label, body)


def settlement_chart(rows: list[dict[str, object]], target: float, width: int = 760) -> str:
    """Vertical bars: settlement rate per platform, with the target as a dashed line."""
    label = f"Settlement rate per platform against the {_pct(target)} target"
    rows = [r for r in rows if r.get("settlement_rate") is not None]
    if not rows:
        return _empty(width, 80, label)
    x0, y0, h = 50, 20, 200
    height = h + 70
    w = width - x0 - 90  # room on the right for the target's label
    slot = w / len(rows)
    bw = min(60.0, slot * 0.6)
    body = _y_axis(x0, y0, h, w)
    for i, r in enumerate(rows):
        rate = float(str(r["settlement_rate"]))
        pid = escape(str(r["platform_id"]))
        x = x0 + slot * i + (slot - bw) / 2
        bh = h * rate
        color = "#2ca02c" if rate >= target else "#ff7f0e"
        body.append(
            f'<rect x="{x:.1f}" y="{y0 + h - bh:.1f}" width="{bw:.1f}" height="{bh:.1f}" '
            f'fill="{color}" class="bar" data-platform="{pid}" data-value="{rate}" '
            f'data-settled="{r["settled"]}" data-resolved="{r["resolved"]}">'
            f"<title>{pid}: {_pct(rate)} ({r['settled']} of {r['resolved']})</title></rect>"
            f'<text x="{x + bw / 2:.1f}" y="{y0 + h + 16}" text-anchor="middle" {_FONT}>'
            f"{pid}</text>"
        )
    ty = y0 + h - h * target
    body.append(
        f'<line x1="{x0}" y1="{ty:.1f}" x2="{x0 + w}" y2="{ty:.1f}" stroke="#000" '
        f'stroke-dasharray="6 4" class="target" data-value="{target}"/>'
        f'<text x="{x0 + w + 6}" y="{ty + 4:.1f}" {_FONT}>'
        f"target {_pct(target)}</text>"
    )
    return _svg(width, height, label, body)
