"""The sent-down rotation calendar as a Gantt chart (``gantt.png``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..rotation import RotationSolution


def _font_family() -> str | None:
    """A font with CJK glyphs if one is installed (else labels fall back to ASCII ids)."""
    from matplotlib import font_manager

    wanted = ("Noto Sans CJK", "Noto Serif CJK", "WenQuanYi", "SimHei", "Microsoft YaHei",
              "PingFang", "Source Han Sans", "Droid Sans Fallback", "AR PL")  # fmt: skip
    for f in font_manager.fontManager.ttflist:
        if any(w in f.name for w in wanted):
            return str(f.name)
    return None


_Bar = tuple[int, int, int, int, str]
"""(row, start month, months, specialty index, label)."""

COLOURS = [
    "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
    "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf",
]  # fmt: skip


def _bars(
    sol: RotationSolution, cjk: str | None, spec_label: list[str]
) -> tuple[list[_Bar], list[str], str]:
    """(bars, row labels, title): one row per doctor when few stints, else per host x
    specialty sub-lane (interval partitioning), each stint its own bar."""
    inst = sol.instance
    stints = sol.stints

    def text(s: str, fallback: str) -> str:
        return s if (s.isascii() or cjk) else fallback

    by_doctor = len(stints) <= 80
    if by_doctor:
        rows = sorted({x.doctor for x in stints}, key=lambda d: str(inst.doctor_ids[d]))
        ylab = [text(str(inst.doctor_ids[d]), f"doctor {d + 1}") for d in rows]
        pos = {d: k for k, d in enumerate(rows)}
        bars = [
            (pos[x.doctor], x.start, x.months, int(inst.doctor_specialty[x.doctor]),
             text(str(inst.host_ids[x.host]), f"host {x.host + 1}"))
            for x in stints
        ]  # fmt: skip
        title = "Rotation calendar by doctor (bar label: host)"
    else:
        # One row per host x specialty sub-lane: overlapping stints get their own sub-lane
        # (interval partitioning), each stint is its own bar labelled with its doctor.
        lanes: dict[tuple[int, int], list[int]] = {}
        placed: list[tuple[tuple[int, int], int, Any]] = []
        for x in sorted(
            stints, key=lambda x: (x.host, int(inst.doctor_specialty[x.doctor]), x.start)
        ):
            key = (x.host, int(inst.doctor_specialty[x.doctor]))
            ends = lanes.setdefault(key, [])
            lane = next((k for k, e in enumerate(ends) if e < x.start), len(ends))
            if lane == len(ends):
                ends.append(x.end)
            else:
                ends[lane] = x.end
            placed.append((key, lane, x))
        order = sorted(lanes, key=lambda k: (str(inst.host_ids[k[0]]), k[1]))
        row_of: dict[tuple[tuple[int, int], int], int] = {}
        ylab = []
        for key in order:
            f, s_ = key
            for lane in range(len(lanes[key])):
                row_of[(key, lane)] = len(ylab)
                host = (
                    text(str(inst.host_names[f]), str(inst.host_ids[f]))
                    if cjk
                    else str(inst.host_ids[f])
                )
                ylab.append(f"{host} · {spec_label[s_]}" if lane == 0 else "")
        bars = [
            (row_of[(key, lane)], x.start, x.months, key[1],
             text(str(inst.doctor_ids[x.doctor]), ""))
            for key, lane, x in placed
        ]  # fmt: skip
        title = "Rotation calendar by host and specialty (bar label: doctor)"
    return bars, ylab, title


def gantt_png(sol: RotationSolution, path: Path) -> None:
    """The rotation calendar as a Gantt chart (matplotlib, Agg canvas; no global state)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.patches import Patch

    inst = sol.instance
    cjk = _font_family()
    spec_label = [
        s if (s.isascii() or cjk) else f"specialty {k + 1}" for k, s in enumerate(inst.specialties)
    ]
    colours = COLOURS
    bars, ylab, title = _bars(sol, cjk, spec_label)
    n = max(len(ylab), 1)
    fig = Figure(figsize=(11, min(0.28 * n + 1.8, 120)), dpi=100)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot(111)
    if cjk:
        for item in [ax.title, ax.xaxis.label, ax.yaxis.label]:
            item.set_fontfamily(cjk)
    for y, start, length, s, lab in bars:
        ax.barh(y, length, left=start - 0.5, height=0.7, color=colours[s % len(colours)],
                edgecolor="white", linewidth=0.5)  # fmt: skip
        if length >= 2:
            ax.text(start - 0.5 + length / 2, y, lab, ha="center", va="center", fontsize=6,
                    color="white", family=cjk or "sans-serif")  # fmt: skip
    ax.set_yticks(range(len(ylab)))
    ax.set_yticklabels(ylab, fontsize=6, family=cjk or "sans-serif")
    ax.set_ylim(n - 0.5, -0.5)
    ax.set_xlim(0.5, inst.months + 0.5)
    step = 1 if inst.months <= 12 else 2
    ticks = list(range(1, inst.months + 1, step))
    ax.set_xticks(ticks)
    ax.set_xticklabels([inst.label(t) for t in ticks], rotation=45, ha="right", fontsize=7)
    ax.set_title(title, fontsize=9, pad=16)
    ax.grid(axis="x", alpha=0.3)
    handles = [
        Patch(color=colours[k % len(colours)], label=spec_label[k])
        for k in range(len(inst.specialties))
    ]
    ax.legend(
        handles=handles,
        fontsize=7,
        loc="lower center",
        bbox_to_anchor=(0.5, 1.0),
        ncols=min(len(handles), 5),
        frameon=False,
    )
    fig.tight_layout()
    fig.savefig(path, format="png")
