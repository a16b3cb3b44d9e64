"""frontier.png / frontier.svg of a sweep: the trade-off curves drawn with matplotlib, labelled
in the run's language.

Chinese labels need a font with CJK glyphs; :func:`cjk_font` looks one up at run time through
matplotlib's font list (fontconfig-installed Noto Sans / Serif CJK, WenQuanYi, SimHei...). When
none exists the chart falls back to English labels (never tofu boxes, never matplotlib's
"Glyph missing" warning) and frontier.html says so (:func:`chart_language`). Axis numbers are
written out with thousands separators (``5,000,000``), or in 万 (10^4) in Chinese
(``500万``, ``2,979.2万``), never ``29.792M`` or ``5e+06``.
"""

from __future__ import annotations

import math
import shutil
import subprocess
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from .charts import LINE_COLOURS
from .i18n import Labels, add_labels

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.axis import Axis
    from matplotlib.figure import Figure
    from matplotlib.ticker import Formatter

__all__ = ["axis_number", "chart_language", "chart_texts", "cjk_font", "frontier_chart"]

add_labels(
    {
        "png_share_axis": {"zh": "标准内居民比例（%）", "en": "Residents within standard (%)"},
        "png_title": {
            "zh": "权衡曲线（每个点均精确求解）",
            "en": "Trade-off frontier (every point solved exactly)",
        },
        "png_infeasible": {
            "zh": "无方案满足目标（已证明）",
            "en": "no plan meets the targets (proven)",
        },
        "png_feasible": {"zh": "时间上限：未证明最优", "en": "time limit: not proven optimal"},
        "png_no_solution": {"zh": "时间上限：未找到方案", "en": "time limit: no plan found"},
        "png_no_cjk": {
            "zh": "本机未找到中文字体，frontier.png 使用英文标注"
            "（安装 fonts-noto-cjk 后重新运行即可得到中文图）。",
            "en": "No CJK font found: frontier.png is labelled in English.",
        },
    }
)

CJK_FONTS = (
    "Noto Sans CJK",
    "Noto Serif CJK",
    "Source Han Sans",
    "Source Han Serif",
    "WenQuanYi",
    "SimHei",
    "Microsoft YaHei",
    "PingFang",
    "Droid Sans Fallback",
    "AR PL",
)
"""Font family names (prefixes) with the CJK glyphs of the zh labels, best first."""

_MARKS = {
    "infeasible": ("x", "red", "png_infeasible"),
    "feasible": ("^", "orange", "png_feasible"),
    "no_solution": ("v", "grey", "png_no_solution"),
}


@cache
def cjk_font() -> str | None:
    """The family name of an installed font with CJK glyphs, best by :data:`CJK_FONTS` (and
    Simplified Chinese first), or None.

    matplotlib's font list is a cache built once per machine, so fonts installed later are
    missing from it: then fontconfig (``fc-list :lang=zh``) names the font files and the best
    one is added to this process' font list (``fontManager.addfont``; nothing is written).
    """
    from matplotlib import font_manager

    name = _best(f.name for f in font_manager.fontManager.ttflist)
    if name is not None:
        return name
    files = _fontconfig_cjk_files()
    for wanted in CJK_FONTS:
        for path, family in files:
            if family.startswith(wanted):
                font_manager.fontManager.addfont(path)
                return _best(f.name for f in font_manager.fontManager.ttflist)
    return None


def _best(names: Iterable[str]) -> str | None:
    """The first family of ``names`` by :data:`CJK_FONTS` order, ``SC`` (简体) faces first."""
    ordered = sorted(set(names), key=lambda n: (not n.endswith(" SC"), "Mono" in n, n))
    for wanted in CJK_FONTS:
        for name in ordered:
            if name.startswith(wanted):
                return name
    return None


def _fontconfig_cjk_files() -> list[tuple[str, str]]:
    """``(file, family)`` of the regular-weight fonts fontconfig lists for Chinese."""
    exe = shutil.which("fc-list")
    if exe is None:
        return []
    try:
        out = subprocess.run(
            [exe, ":lang=zh", "--format", "%{file}|%{family[0]}|%{style[0]}\n"],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return []
    rows = [line.split("|") for line in out.splitlines() if line.count("|") == 2]
    regular = [(f, fam) for f, fam, style in rows if style in ("Regular", "Book", "Normal")]
    return sorted(regular or [(f, fam) for f, fam, _ in rows])


def chart_language(lang: str) -> str:
    """The language frontier.png is labelled in: ``lang``, or ``en`` for zh without a CJK font."""
    return "en" if lang == "zh" and cjk_font() is None else lang


def axis_number(v: float, lang: str, step: float = 1.0) -> str:
    """An axis tick: ``5,000,000`` / ``12.5``; in zh from 10^5 up in 万 (``500万``,
    ``2,979.2万``). ``step`` is the tick spacing, which sets the decimals shown."""
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


def _formatter(axis: Axis, lang: str) -> Formatter:
    """A matplotlib FuncFormatter writing :func:`axis_number` with the axis' tick spacing."""
    from matplotlib.ticker import FuncFormatter

    def fmt(v: float, _pos: int | None) -> str:
        locs = np.asarray(axis.get_majorticklocs(), dtype=float)
        step = float(np.min(np.diff(locs))) if len(locs) > 1 else 1.0
        return axis_number(v, lang, step)

    return FuncFormatter(fmt)


def frontier_chart(frontier: pd.DataFrame, param: str, path: str | Path, lang: str = "zh") -> None:
    """Draw the curves of ``frontier.csv`` (share within each standard in %, or the objective,
    against the swept value ``param``) into ``path`` (.png or .svg, from its suffix).

    The colours follow frontier.html (:data:`.charts.LINE_COLOURS`, same order); points that are
    infeasible or stopped at a time limit are marked on the x axis. The legend sits below the
    plot in as many rows as it needs, so no series name is cut. No date and fixed SVG ids: the
    charts of two sweeps of a case are byte-identical.
    """
    fmt = Path(path).suffix.lstrip(".")
    with _figure(frontier, param, lang) as fig:
        fig.savefig(
            path,
            format=fmt,
            bbox_inches="tight",
            metadata={"Date": None} if fmt == "svg" else None,
        )


def chart_texts(frontier: pd.DataFrame, param: str, lang: str = "zh") -> list[str]:
    """Every text drawn on the chart (title, axis titles, tick labels, legend), as rendered."""
    from matplotlib.text import Text

    with _figure(frontier, param, lang) as fig:
        fig.canvas.draw()
        return [str(x.get_text()) for x in fig.findobj(Text) if x.get_text()]


@contextmanager
def _figure(frontier: pd.DataFrame, param: str, lang: str) -> Iterator[Figure]:
    """The chart's figure, inside the font settings it must be drawn with."""
    import matplotlib
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    shown = chart_language(lang)
    t = Labels(shown)
    font = cjk_font() if shown == "zh" else None
    family = [font, "DejaVu Sans"] if font else matplotlib.rcParams["font.family"]
    rc = {
        "svg.hashsalt": "county-health-siting",
        "axes.unicode_minus": font is None,
        "font.family": family,
    }
    with matplotlib.rc_context(rc):  # type: ignore[arg-type]
        fig = Figure(figsize=(7.5, 4.8), dpi=120)
        FigureCanvasAgg(fig)
        ax = fig.add_subplot()
        n_series = _plot_curves(ax, frontier, t)
        n_series += _mark_statuses(ax, frontier, t)
        ax.set_xlabel(param)
        ax.xaxis.set_major_formatter(_formatter(ax.xaxis, shown))
        ax.grid(True, alpha=0.3)
        ax.set_title(t("png_title"))
        ax.legend(
            loc="upper center",
            bbox_to_anchor=(0.5, -0.16),
            ncol=max(1, min(3, n_series)),
            fontsize=8,
            frameon=False,
        )
        yield fig


def _plot_curves(ax: Axes, frontier: pd.DataFrame, t: Labels) -> int:
    """One line per ``share_*`` column (in %), else the objective; returns the series drawn."""
    x = frontier["value"].to_numpy(dtype=float)
    shares = [c for c in frontier.columns if c.startswith("share_")]
    if shares:  # the colours of frontier.html's curves (same order, same palette)
        for k, c in enumerate(shares):
            ax.plot(
                x,
                100 * frontier[c].astype(float),
                marker="o",
                color=LINE_COLOURS[k % len(LINE_COLOURS)],
                label=c.removeprefix("share_"),
            )
        ax.set_ylabel(t("png_share_axis"))
        return len(shares)
    ax.plot(
        x,
        frontier["objective"].astype(float),
        marker="o",
        color=LINE_COLOURS[0],
        label=t("objective"),
    )
    yaxis = ax.yaxis
    yaxis.set_major_formatter(_formatter(yaxis, t.lang))
    ax.set_ylabel(t("objective"))
    return 1


def _mark_statuses(ax: Axes, frontier: pd.DataFrame, t: Labels) -> int:
    """Infeasible / time-limited points as markers on the x axis; returns the kinds marked."""
    x = frontier["value"].to_numpy(dtype=float)
    status = frontier["status"].to_numpy()
    n = 0
    for st, (marker, colour, key) in _MARKS.items():
        hit = status == st
        if hit.any():
            ax.scatter(
                x[hit],
                np.zeros(int(hit.sum())),
                marker=marker,
                color=colour,
                label=t(key),
                zorder=3,
            )
            n += 1
    return n
