"""Trade-off curves of a sweep: in ``frontier.html`` and in the report of each of its points.

A sweep folder holds ``frontier.csv`` (one row per point) and ``points/<k>/`` run folders.
:func:`curves` draws share within each standard (or the objective) and cost against the swept
parameter as inline SVG; :func:`sweep_curves` finds the sweep a run folder belongs to and draws
its curves with the run's own value marked.
"""

from __future__ import annotations

from html import escape

import pandas as pd

from ..atomic import csv_encoding_of
from .charts import line_chart
from .i18n import Labels, add_labels
from .rundata import RunData

__all__ = ["curves", "sweep_curves", "sweep_of"]

add_labels(
    {
        "tradeoff": {"zh": "权衡曲线", "en": "Trade-off curves"},
        "this_point": {"zh": "虚线为本方案", "en": "dashed line: this plan"},
    }
)


def _series(frontier: pd.DataFrame, t: Labels) -> tuple[dict[str, list[float | None]], bool]:
    shares = [c for c in frontier.columns if c.startswith("share_")]
    cols = shares or ["objective"]
    out = {
        (c.removeprefix("share_") if shares else t(c)): [
            None if pd.isna(v) else float(v) for v in pd.to_numeric(frontier[c], errors="coerce")
        ]
        for c in cols
    }
    return out, bool(shares)


def curves(frontier: pd.DataFrame, param: str, t: Labels, highlight: float | None) -> str:
    xs = [float(v) for v in frontier["value"]]
    series, share = _series(frontier, t)
    charts = [
        line_chart(
            xs,
            series,
            title=t("tradeoff") + (" (%)" if share else f" ({t('objective')})"),
            x_label=param,
            share=share,
            highlight=highlight,
            lang=t.lang,
        )
    ]
    if "cost" in frontier and pd.to_numeric(frontier["cost"], errors="coerce").notna().any():
        charts.append(
            line_chart(
                xs,
                {
                    t("cost"): [
                        None if pd.isna(v) else float(v)
                        for v in pd.to_numeric(frontier["cost"], errors="coerce")
                    ]
                },
                title=t("cost"),
                x_label=param,
                share=False,
                highlight=highlight,
                lang=t.lang,
            )
        )
    return '<div class="grid2">' + "".join(f"<div>{c}</div>" for c in charts if c) + "</div>"


def sweep_of(run: RunData) -> tuple[pd.DataFrame, float] | None:
    """(frontier, this point's value) when the run folder is ``<sweep>/points/<k>``."""
    folder = run.folder.resolve()
    if folder.parent.name != "points":
        return None
    path = folder.parent.parent / "frontier.csv"
    if not path.is_file():
        return None
    frontier = pd.read_csv(path, encoding=csv_encoding_of(path))
    if "point" not in frontier or "value" not in frontier:
        return None
    try:
        k = int(folder.name)
    except ValueError:
        return None
    row = frontier[frontier["point"] == k]
    if len(row) != 1:
        return None
    return frontier, float(row["value"].iloc[0])


def sweep_curves(run: RunData, t: Labels) -> str | None:
    """Trade-off curves of the sweep this run belongs to, with its own value marked."""
    found = sweep_of(run)
    if found is None:
        return None
    frontier, value = found
    param = str(frontier["parameter"].iloc[0]) if "parameter" in frontier else "value"
    return (
        f"<h3>{escape(t('tradeoff'))}: {escape(param)}</h3>"
        + curves(frontier, param, t, value)
        + f'<p class="note">{escape(t("this_point"))} ({value:,.6g}) · '
        '<a href="../../frontier.html">frontier.html</a></p>'
    )
