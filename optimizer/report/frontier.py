"""``frontier.html`` of a sweep, and trade-off curves in the reports of its points.

A sweep folder holds ``frontier.csv`` (one row per point) and ``points/<k>/`` run folders. The
page is self-contained and offline (inline SVG, no script): the trade-off curves (share within
each standard, or the objective, against the swept parameter), the table of points (status,
objective, bound, gap, cost, shares, sites) and a link to each point's report.html. A point's
own report shows the same curves with its value marked
(:func:`optimizer.report.sweep_curves.sweep_curves`).
"""

from __future__ import annotations

import logging
from html import escape
from pathlib import Path
from typing import Any

import pandas as pd

from ..atomic import atomic_write, seal_manifest
from .format import num, pct, status_badge
from .frontier_chart import chart_language
from .i18n import Labels, add_labels
from .page import html_page, render_template, table_html
from .rundata import RunData
from .sweep_curves import curves

__all__ = ["refresh_point_reports", "render_frontier"]

log = logging.getLogger(__name__)

add_labels(
    {
        "frontier": {"zh": "权衡曲线（参数扫描）", "en": "Trade-off frontier (sweep)"},
        "frontier_note": {
            "zh": "每个点均为同一案例仅改变一个参数后精确求解并复核的结果。",
            "en": "Every point is the same case with one parameter changed, solved exactly and "
            "checked on the raw data.",
        },
        "point": {"zh": "点", "en": "Point"},
        "value": {"zh": "参数值", "en": "Value"},
        "report_link": {"zh": "报告", "en": "Report"},
        "monotone": {"zh": "单调", "en": "Monotone"},
    }
)


def render_frontier(frontier: pd.DataFrame, param: str, *, lang: str = "zh") -> str:
    """The whole frontier page (links point to ``points/<k>/report.html`` beside it)."""
    t = Labels(lang)
    shares = [c for c in frontier.columns if c.startswith("share_")]
    counts = [c for c in frontier.columns if c.startswith("sites_")]
    counts += [c for c in ("stations", "ambulances") if c in frontier]
    head = [
        t("point"),
        param,
        t("status"),
        t("objective"),
        t("best_bound"),
        t("gap"),
        t("cost"),
        *[c.removeprefix("share_") for c in shares],
        *[
            f"{t('sites_open')}: {c.removeprefix('sites_')}" if c.startswith("sites_") else t(c)
            for c in counts
        ],
        t("monotone"),
        t("report_link"),
    ]
    body = []
    for _, r in frontier.iterrows():
        k = int(r["point"])
        status = str(r["status"])
        mono = r.get("monotone")
        mono_text = "-" if mono is None or pd.isna(mono) else (t("yes") if bool(mono) else t("no"))
        link = f"points/{k:03d}/report.html"
        body.append(
            [
                (f"{k:03d}", "num"),
                (num(r["value"], 6), "num"),
                (status_badge(status, t.text(status)), ""),
                (num(_nan(r.get("objective")), 6), "num"),
                (num(_nan(r.get("best_bound")), 6), "num"),
                (pct(_nan(r.get("gap"))), "num"),
                (num(_nan(r.get("cost"))), "num"),
                *[(pct(_nan(r.get(c))), "num") for c in shares],
                *[(num(_nan(r.get(c))), "num") for c in counts],
                (escape(mono_text), "" if mono_text != t("no") else "missed"),
                (f'<a class="point-link" href="{escape(link)}">{escape(t("report_link"))}</a>', ""),
            ]
        )
    page = render_template(
        "frontier.html.j2",
        heading=t("frontier"),
        param=param,
        note=t("frontier_note"),
        curves=curves(frontier, param, t, None),
        table=table_html(head, body, cls="frontier"),
        offline=t("generated_offline"),
        no_cjk=t("png_no_cjk") if chart_language(lang) != lang else "",
    )
    return html_page(f"{t('frontier')} - {param}", page, t, with_map=False)


def _nan(v: Any) -> Any:
    return None if v is None or (isinstance(v, float) and pd.isna(v)) else v


def refresh_point_reports(sweep_dir: str | Path, *, lang: str = "zh") -> int:
    """Rewrite each point's report.html now that frontier.csv exists (adds the curves)."""
    from .html import render_report

    n = 0
    for folder in sorted(Path(sweep_dir, "points").glob("[0-9]*")):
        if not (folder / "solution.json").is_file():
            continue
        run = RunData.from_dir(folder)
        with atomic_write(folder / "report.html") as fh:
            fh.write(render_report(run, lang=lang, basemap="none"))
        seal_manifest(folder)  # the point's manifest lists the new report's sha256
        n += 1
    log.info("Point reports with trade-off curves: %d", n)
    return n
