"""Small inline SVG charts: line curves and interval (forest) plots, with axes, ticks and a legend.

Labels are escaped like any other text; numbers are formatted here. No script, no external font.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

from themepage.report.html_text import esc

PALETTE = ("#2563eb", "#dc2626", "#16a34a", "#9333ea", "#ea580c", "#0891b2", "#4d7c0f", "#be185d")
FONT = 'font-family="system-ui, sans-serif" font-size="12"'


def color(i: int) -> str:
    return PALETTE[i % len(PALETTE)]


def nice_ceiling(value: float) -> float:
    """The smallest 1, 2 or 5 times a power of ten at or above `value` (an axis maximum); 1 for nothing."""
    if value <= 0 or not math.isfinite(value):
        return 1.0
    power = 10 ** math.floor(math.log10(value))
    return next(m * power for m in (1, 2, 5, 10) if m * power >= value * (1 - 1e-9))


def _fmt(value: float) -> str:
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:.3g}"


def line_chart(series: Mapping[str, Sequence[float]], x_label: str, y_label: str, width: int = 720,
               height: int = 340) -> str:
    """One polyline per named series over x = 1..n; y from 0 to a round maximum."""
    left, right, top, bottom = 56, 170, 16, 44
    plot_w, plot_h = width - left - right, height - top - bottom
    n = max((len(v) for v in series.values()), default=1)
    y_max = nice_ceiling(max((max(v) for v in series.values() if len(v)), default=1.0))

    def x_at(i: int) -> float:
        return left + (i / max(n - 1, 1)) * plot_w

    def y_at(v: float) -> float:
        return top + plot_h - (v / y_max) * plot_h

    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="{width}" '
             f'height="{height}" role="img" aria-label="{esc(y_label)} by {esc(x_label)}" {FONT}>']
    for t in range(6):
        value = y_max * t / 5
        y = y_at(value)
        parts.append(f'<line x1="{left}" x2="{left + plot_w}" y1="{y:.1f}" y2="{y:.1f}" stroke="#e4e7eb"/>'
                     f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" fill="#52606d">{_fmt(value)}</text>')
    ticks = sorted({1, *range(0, n + 1, max(1, round(n / 8))), n} - {0})
    for k in ticks:
        x = x_at(k - 1)
        parts.append(f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{top + plot_h}" y2="{top + plot_h + 4}" stroke="#52606d"/>'
                     f'<text x="{x:.1f}" y="{top + plot_h + 17}" text-anchor="middle" fill="#52606d">{k}</text>')
    parts.append(f'<line x1="{left}" x2="{left + plot_w}" y1="{top + plot_h}" y2="{top + plot_h}" stroke="#52606d"/>'
                 f'<line x1="{left}" x2="{left}" y1="{top}" y2="{top + plot_h}" stroke="#52606d"/>'
                 f'<text x="{left + plot_w / 2:.1f}" y="{height - 6}" text-anchor="middle">{esc(x_label)}</text>'
                 f'<text transform="translate(14 {top + plot_h / 2:.1f}) rotate(-90)" text-anchor="middle">'
                 f'{esc(y_label)}</text>')
    for i, (name, values) in enumerate(series.items()):
        points = " ".join(f"{x_at(j):.1f},{y_at(v):.1f}" for j, v in enumerate(values))
        last = values[-1] if len(values) else 0.0
        parts.append(f'<polyline fill="none" stroke="{color(i)}" stroke-width="2.2" points="{points}">'
                     f"<title>{esc(name)}</title></polyline>")
        ly = top + 14 + 20 * i
        parts.append(f'<rect x="{left + plot_w + 14}" y="{ly - 9}" width="14" height="4" fill="{color(i)}"/>'
                     f'<text x="{left + plot_w + 34}" y="{ly - 3}">{esc(name)} ({_fmt(last)})</text>')
    parts.append("</svg>")
    return "".join(parts)


def interval_chart(rows: Mapping[str, tuple[float, float, float] | None], label: str, x_max: float | None = None,
                   width: int = 360) -> str:
    """A forest plot: one row per name with its mean (dot) and interval (whisker), x from 0 to x_max."""
    left, right, top, row_h = 110, 24, 28, 26
    height = top + row_h * max(len(rows), 1) + 34
    plot_w = width - left - right
    highest = max((r[2] for r in rows.values() if r), default=1.0)
    x_max = x_max or nice_ceiling(highest)

    def x_at(v: float) -> float:
        return left + max(0.0, min(v / x_max, 1.0)) * plot_w

    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="{width}" '
             f'height="{height}" role="img" aria-label="{esc(label)}" {FONT}>'
             f'<text x="{left}" y="16" font-weight="600">{esc(label)}</text>']
    axis_y = top + row_h * max(len(rows), 1)
    for t in range(5):
        value = x_max * t / 4
        x = x_at(value)
        parts.append(f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{top}" y2="{axis_y}" stroke="#e4e7eb"/>'
                     f'<text x="{x:.1f}" y="{axis_y + 16}" text-anchor="middle" fill="#52606d">{_fmt(value)}</text>')
    for i, (name, row) in enumerate(rows.items()):
        y = top + row_h * i + row_h / 2
        parts.append(f'<text x="{left - 8}" y="{y + 4:.1f}" text-anchor="end">{esc(name)}</text>')
        if row is None:
            parts.append(f'<text x="{left + 4}" y="{y + 4:.1f}" fill="#52606d">no data</text>')
            continue
        mean, low, high = row
        parts.append(f'<line x1="{x_at(low):.1f}" x2="{x_at(high):.1f}" y1="{y:.1f}" y2="{y:.1f}" '
                     f'stroke="{color(i)}" stroke-width="2"/>'
                     f'<circle cx="{x_at(mean):.1f}" cy="{y:.1f}" r="5" fill="{color(i)}">'
                     f"<title>{esc(name)}: {_fmt(mean)} [{_fmt(low)}, {_fmt(high)}]</title></circle>")
    parts.append("</svg>")
    return "".join(parts)
