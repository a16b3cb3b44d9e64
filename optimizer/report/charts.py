"""Small inline SVG charts (no scripts, no fonts, deterministic text), readable when printed."""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from html import escape

__all__ = ["LINE_COLOURS", "Bar", "axis_number", "hbar_chart", "line_chart"]

MET, MISSED, INFO, TARGET = "#2e7d32", "#c62828", "#607d8b", "#111111"


@dataclass(frozen=True)
class Bar:
    label: str
    value: float | None
    """Share 0..1 (None: not applicable, drawn as an empty row)."""
    target: float | None = None
    met: bool | None = None
    value_b: float | None = None
    """Second plan's value (comparison charts draw it as a thinner bar below)."""


def _colour(met: bool | None) -> str:
    return INFO if met is None else (MET if met else MISSED)


def hbar_chart(bars: list[Bar], *, title: str, width: int = 640, label_w: int = 170) -> str:
    """Horizontal bars of shares (0-100%) with target ticks; green met, red missed, grey info."""
    two = any(b.value_b is not None for b in bars)
    row_h = 26 if two else 20
    top, bottom = 24, 22
    height = top + bottom + row_h * max(1, len(bars))
    plot_w = width - label_w - 60
    out = [
        f'<svg class="chart" xmlns="http://www.w3.org/2000/svg" width="{width}" '
        f'height="{height}" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="{escape(title)}">',
        f'<text x="0" y="14" font-size="13" font-weight="bold">{escape(title)}</text>',
    ]
    for pct in (0, 25, 50, 75, 100):
        x = label_w + plot_w * pct / 100
        out.append(
            f'<line x1="{x:.1f}" y1="{top - 4}" x2="{x:.1f}" y2="{height - bottom + 4}" '
            'stroke="#ddd" stroke-width="1"/>'
            f'<text x="{x:.1f}" y="{height - 6}" font-size="10" text-anchor="middle" '
            f'fill="#555">{pct}%</text>'
        )
    for k, b in enumerate(bars):
        y = top + k * row_h
        label = b.label if len(b.label) <= 26 else b.label[:25] + "…"
        out.append(
            f'<text x="{label_w - 6}" y="{y + 13}" font-size="11" text-anchor="end">'
            f"{escape(label)}</text>"
        )
        h = 12 if two else 14
        if b.value is not None:
            w = plot_w * max(0.0, min(1.0, b.value))
            out.append(
                f'<rect x="{label_w}" y="{y + 2}" width="{w:.1f}" height="{h}" '
                f'fill="{_colour(b.met)}"><title>{escape(b.label)}: {100 * b.value:.2f}%'
                "</title></rect>"
                f'<text x="{label_w + w + 4:.1f}" y="{y + 13}" font-size="10">'
                f"{100 * b.value:.1f}%</text>"
            )
        if b.value_b is not None:
            w = plot_w * max(0.0, min(1.0, b.value_b))
            out.append(
                f'<rect x="{label_w}" y="{y + 15}" width="{w:.1f}" height="7" fill="#1565c0">'
                f"<title>B: {100 * b.value_b:.2f}%</title></rect>"
            )
        if b.target is not None:
            x = label_w + plot_w * b.target
            out.append(
                f'<line x1="{x:.1f}" y1="{y}" x2="{x:.1f}" y2="{y + row_h - 2}" '
                f'stroke="{TARGET}" stroke-width="2"><title>≥ {100 * b.target:.1f}%'
                "</title></line>"
            )
    out.append("</svg>")
    return "".join(out)


LINE_COLOURS = ("#1565c0", "#2e7d32", "#ef6c00", "#6a1b9a", "#00838f", "#ad1457", "#5d4037")


def axis_number(v: float, lang: str, step: float = 1.0) -> str:
    """An axis tick: ``5,000,000`` / ``12.5``; in zh from 10^5 up in 万 (``500万``,
    ``2,979.2万``); never ``29.792M`` or ``5e+06``. ``step`` is the tick spacing, which sets
    the decimals shown (the same on the HTML curves and frontier.png)."""
    if not math.isfinite(v):
        return ""
    wan = lang == "zh" and abs(v) >= 1e5
    value, unit = (v / 1e4, "万") if wan else (v, "")
    spacing = abs(step) / 1e4 if wan else abs(step)
    decimals = 0 if spacing >= 1 or spacing == 0 else min(6, math.ceil(-math.log10(spacing)))
    text = f"{value:,.{decimals}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return ("0" if text in ("-0", "") else text) + unit


def _step(values: list[float]) -> float:
    """The smallest gap between distinct sorted values (1 when fewer than two)."""
    ordered = sorted(set(values))
    gaps = [b - a for a, b in itertools.pairwise(ordered)]
    return min(gaps) if gaps else 1.0


def line_chart(
    xs: list[float],
    series: dict[str, list[float | None]],
    *,
    title: str,
    x_label: str,
    share: bool = True,
    highlight: float | None = None,
    width: int = 640,
    height: int = 300,
    lang: str = "en",
) -> str:
    """Trade-off curves: one line per series over ``xs`` (shares 0-100% when ``share``, else the
    values' own range); points with None are gaps; ``highlight`` marks one x (this run). Axis
    numbers by :func:`axis_number` in ``lang``; the legend is as wide as the longest name."""
    longest = max((len(n) for n in series), default=0)
    left, right, top, bottom = 64, int(min(330, max(190, 36 + 6.5 * longest))), 26, 40
    width += right - 190
    pw, ph = width - left - right, height - top - bottom
    vals = [v for ys in series.values() for v in ys if v is not None]
    if not xs or not vals:
        return ""
    x0, x1 = min(xs), max(xs)
    if share:
        y0, y1 = 0.0, 1.0
    else:
        y0, y1 = min(vals), max(vals)
        if y1 - y0 < 1e-12:
            y0, y1 = y0 - 1.0, y1 + 1.0

    def px(x: float) -> float:
        return left + (pw * (x - x0) / (x1 - x0) if x1 > x0 else pw / 2)

    def py(y: float) -> float:
        return top + ph * (1 - (y - y0) / (y1 - y0))

    out = [
        f'<svg class="chart line-chart" xmlns="http://www.w3.org/2000/svg" width="{width}" '
        f'height="{height}" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="{escape(title)}">',
        f'<text x="0" y="14" font-size="13" font-weight="bold">{escape(title)}</text>',
    ]
    for k in range(5):
        y = y0 + (y1 - y0) * k / 4
        label = f"{100 * y:.0f}%" if share else axis_number(y, lang, (y1 - y0) / 4)
        out.append(
            f'<line x1="{left}" y1="{py(y):.1f}" x2="{left + pw}" y2="{py(y):.1f}" stroke="#ddd"/>'
            f'<text x="{left - 4}" y="{py(y) + 3:.1f}" font-size="10" text-anchor="end" '
            f'fill="#555">{label}</text>'
        )
    for x in sorted(set(xs)):
        out.append(
            f'<text x="{px(x):.1f}" y="{top + ph + 14}" font-size="10" text-anchor="middle" '
            f'fill="#555">{escape(axis_number(x, lang, _step(xs)))}</text>'
        )
    out.append(
        f'<text x="{left + pw / 2:.1f}" y="{height - 6}" font-size="11" '
        f'text-anchor="middle">{escape(x_label)}</text>'
    )
    if highlight is not None:
        out.append(
            f'<line class="this-point" x1="{px(highlight):.1f}" y1="{top}" x2="{px(highlight):.1f}" '
            f'y2="{top + ph}" stroke="{TARGET}" stroke-width="1.5" stroke-dasharray="4 3"/>'
        )
    for n, (name, ys) in enumerate(series.items()):
        c = LINE_COLOURS[n % len(LINE_COLOURS)]
        pts = [(px(x), py(y)) for x, y in zip(xs, ys, strict=True) if y is not None]
        if len(pts) > 1:
            d = " ".join(f"{'M' if i == 0 else 'L'}{x:.1f},{y:.1f}" for i, (x, y) in enumerate(pts))
            out.append(f'<path d="{d}" fill="none" stroke="{c}" stroke-width="2"/>')
        for (x, y), (xv, yv) in zip(
            pts, [(x, y) for x, y in zip(xs, ys, strict=True) if y is not None], strict=True
        ):
            text = f"{100 * yv:.2f}%" if share else f"{yv:,.6g}"
            out.append(
                f'<circle class="pt" cx="{x:.1f}" cy="{y:.1f}" r="3.5" fill="{c}">'
                f"<title>{escape(name)} @ {xv:,.6g}: {text}</title></circle>"
            )
        ly = top + 14 * n + 6
        out.append(
            f'<rect x="{left + pw + 10}" y="{ly - 8}" width="10" height="10" fill="{c}"/>'
            f'<text x="{left + pw + 24}" y="{ly + 1}" font-size="11">{escape(name if len(name) <= 44 else name[:43] + "…")}</text>'
        )
    out.append("</svg>")
    return "".join(out)
