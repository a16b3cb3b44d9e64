"""Small inline SVG charts (no scripts, no fonts, deterministic text), readable when printed."""

from __future__ import annotations

from dataclasses import dataclass
from html import escape

__all__ = ["Bar", "hbar_chart"]

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
                f'stroke="{TARGET}" stroke-width="2"><title>target {100 * b.target:.1f}%'
                "</title></line>"
            )
    out.append("</svg>")
    return "".join(out)
