"""Charts for the dashboard as inline SVG, drawn on the server (no JavaScript, no CDN).

Each function returns an SVG string with a <title> and <desc> for screen
readers; every label goes through markupsafe.escape. Number labels are
formatted by the caller's `fmt` (Babel, vi) so the charts read like the rest
of the page.
"""
from __future__ import annotations

from typing import Callable, Dict, List, Sequence, Tuple

from markupsafe import Markup, escape

CHANNEL_COLOURS = {"zalo": "#0068ff", "telegram": "#27a7e7", "web": "#0b7a4b"}
OTHER_COLOURS = ["#8e44ad", "#d35400", "#7f8c8d", "#c0392b"]
BAR = "#0b7a4b"
LINE = "#c0392b"
FONT = 'font-family="system-ui, sans-serif" font-size="12"'


def colour_of(name: str, index: int) -> str:
    return CHANNEL_COLOURS.get(name, OTHER_COLOURS[index % len(OTHER_COLOURS)])


def _svg(width: int, height: int, title: str, desc: str, body: List[str]) -> Markup:
    return Markup(
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" role="img" class="chart" {FONT}>'
        f"<title>{escape(title)}</title><desc>{escape(desc)}</desc>{''.join(body)}</svg>"
    )


def bar_chart(items: Sequence[Tuple[str, int]], title: str, fmt: Callable[[float], str], width: int = 640) -> Markup:
    """Horizontal bars, largest first (top topics)."""
    row, label_width = 22, 230
    height = max(row * len(items) + 10, 40)
    top = max((v for _, v in items), default=0) or 1
    body = []
    for i, (label, value) in enumerate(items):
        y = 5 + i * row
        length = (width - label_width - 70) * value / top
        text = label if len(label) <= 34 else label[:33] + "…"
        body.append(f'<text x="{label_width - 6}" y="{y + 14}" text-anchor="end">{escape(text)}</text>')
        body.append(f'<rect x="{label_width}" y="{y + 3}" width="{length:.1f}" height="{row - 6}" fill="{BAR}" rx="2"/>')
        body.append(f'<text x="{label_width + length + 4:.1f}" y="{y + 14}">{escape(fmt(value))}</text>')
    desc = "; ".join(f"{label}: {fmt(value)}" for label, value in items)
    return _svg(width, height, title, desc, body)


def stacked_columns(days: Sequence[str], series: Dict[str, List[int]], title: str, fmt: Callable[[float], str],
                    day_label: Callable[[str], str], width: int = 720, height: int = 260) -> Markup:
    """One column per day, stacked by channel, with a legend (messages per day)."""
    left, bottom, top_pad = 50, 40, 24
    plot_w, plot_h = width - left - 10, height - bottom - top_pad
    totals = [sum(values[i] for values in series.values()) for i in range(len(days))]
    peak = max(totals, default=0) or 1
    step = plot_w / max(len(days), 1)
    body = [f'<line x1="{left}" y1="{top_pad + plot_h}" x2="{width - 10}" y2="{top_pad + plot_h}" stroke="#999"/>']
    for fraction in (0.5, 1.0):
        y = top_pad + plot_h * (1 - fraction)
        body.append(f'<line x1="{left}" y1="{y:.1f}" x2="{width - 10}" y2="{y:.1f}" stroke="#e3e3e3"/>')
        body.append(f'<text x="{left - 4}" y="{y + 4:.1f}" text-anchor="end">{escape(fmt(round(peak * fraction)))}</text>')
    for i, day in enumerate(days):
        x, base = left + i * step + step * 0.15, top_pad + plot_h
        for index, (name, values) in enumerate(series.items()):
            h = plot_h * values[i] / peak
            base -= h
            body.append(f'<rect x="{x:.1f}" y="{base:.1f}" width="{step * 0.7:.1f}" height="{h:.1f}" fill="{colour_of(name, index)}">'
                        f"<title>{escape(day_label(day))} · {escape(name)}: {escape(fmt(values[i]))}</title></rect>")
        if len(days) <= 10 or i % max(1, len(days) // 8) == 0:
            body.append(f'<text x="{x + step * 0.35:.1f}" y="{height - bottom + 16}" text-anchor="middle">{escape(day_label(day))}</text>')
    for index, name in enumerate(series):
        x = left + index * 110
        body.append(f'<rect x="{x}" y="4" width="12" height="12" fill="{colour_of(name, index)}"/>'
                    f'<text x="{x + 16}" y="14">{escape(name)}</text>')
    desc = "; ".join(f"{day_label(d)}: {fmt(t)}" for d, t in zip(days, totals))
    return _svg(width, height, title, desc, body)


def line_chart(points: Sequence[Tuple[str, float]], title: str, fmt: Callable[[float], str],
               day_label: Callable[[str], str], width: int = 720, height: int = 220) -> Markup:
    """A rate (0..1) over days (fallback rate)."""
    left, bottom, top_pad = 50, 36, 12
    plot_w, plot_h = width - left - 10, height - bottom - top_pad
    peak = max((v for _, v in points), default=0) or 0.01
    peak = min(1.0, peak * 1.2)
    step = plot_w / max(len(points) - 1, 1)
    body = [f'<line x1="{left}" y1="{top_pad + plot_h}" x2="{width - 10}" y2="{top_pad + plot_h}" stroke="#999"/>']
    for fraction in (0.5, 1.0):
        y = top_pad + plot_h * (1 - fraction)
        body.append(f'<line x1="{left}" y1="{y:.1f}" x2="{width - 10}" y2="{y:.1f}" stroke="#e3e3e3"/>')
        body.append(f'<text x="{left - 4}" y="{y + 4:.1f}" text-anchor="end">{escape(fmt(peak * fraction))}</text>')
    coords = [(left + i * step, top_pad + plot_h * (1 - v / peak)) for i, (_, v) in enumerate(points)]
    if coords:
        path = " ".join(f"{x:.1f},{y:.1f}" for x, y in coords)
        body.append(f'<polyline points="{path}" fill="none" stroke="{LINE}" stroke-width="2"/>')
    for i, ((day, value), (x, y)) in enumerate(zip(points, coords)):
        body.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{LINE}"><title>{escape(day_label(day))}: {escape(fmt(value))}</title></circle>')
        if len(points) <= 10 or i % max(1, len(points) // 8) == 0:
            body.append(f'<text x="{x:.1f}" y="{height - bottom + 16}" text-anchor="middle">{escape(day_label(day))}</text>')
    desc = "; ".join(f"{day_label(d)}: {fmt(v)}" for d, v in points)
    return _svg(width, height, title, desc, body)
