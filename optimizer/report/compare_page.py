"""compare.html: the page of two runs, one function per section."""

from __future__ import annotations

from html import escape
from typing import Any

import pandas as pd

from .charts import Bar, hbar_chart
from .compare_cells import (
    delta,
    fmt_total,
    met_cells,
    nan_none,
    objectives_comparable,
    required_text,
    total_label,
)
from .compare_diff import Comparison, ids_text, row_names
from .compare_map import compare_legend, compare_map_spec
from .compare_notes import kinds_differ, mismatch_text, setting_lines
from .compare_staffing import staffing_diff_html
from .format import num, pct, status_badge
from .i18n import Labels
from .mapview import basemap_spec, map_html, overview_svg
from .page import html_page, render_template, table_html

__all__ = ["render_compare"]

PRINT_ZONE_ROWS = 12
"""Above this many townships, the printed page lists only those whose coverage changes."""


def render_compare(
    comp: Comparison, *, lang: str = "zh", basemap: str = "none", tianditu_key: str | None = None
) -> str:
    """The whole compare.html page (``templates/compare.html.j2``): header and warnings, then
    totals, site changes, coverage change, norms, map and chart in two columns, then the
    townships."""
    t = Labels(lang)
    a, b = comp.a, comp.b
    bm = basemap_spec(basemap, tianditu_key, t)
    left = [_totals_table(comp, t)]
    if comp.staffing_kind:
        left.append(_staffing_part(comp, t))
    left.append(_sites_table(comp, t))
    coverage, bars = _coverage_table(comp, t)
    left.append(coverage)
    spec = compare_map_spec(comp, t, bm)
    right = [_norms_table(comp, t), _map_part(spec, t), _coverage_chart(bars, t)]
    sa, sb = str(a.solution.get("status")), str(b.solution.get("status"))
    body = render_template(
        "compare.html.j2",
        heading=t("compare"),
        a_name=a.case_name,
        b_name=b.case_name,
        a_folder=str(a.folder),
        b_folder=str(b.folder),
        a_badge=status_badge(sa, t.text(a.solution.get("status"))),
        b_badge=status_badge(sb, t.text(b.solution.get("status"))),
        print_label=t("print"),
        kinds=kinds_differ(a.solution, b.solution, t),
        mismatch_label=t("mismatch"),
        mismatches=[mismatch_text(m, t) for m in comp.mismatches],
        settings_label=t("settings_diff"),
        settings=setting_lines(comp.settings, t) if comp.settings else [],
        left="".join(left),
        right="".join(right),
        zones_title=t("zones_change"),
        zones_table=_zones_table(comp, t) if len(comp.zones) else "",
    )
    return html_page(f"{t('compare')} - {a.case_name}", body, t, with_map=spec is not None)


def _totals_table(comp: Comparison, t: Labels) -> str:
    """Totals side by side with B - A (never for unlike objectives; more cost is worse)."""
    body = []
    same_objective = objectives_comparable(comp.a.solution, comp.b.solution)
    for key, va, vb, kind in comp.totals:
        d, cls = delta(va, vb, kind, t)
        if key in ("objective", "gap") and not same_objective:
            d, cls = "", ""  # unlike objectives are never subtracted
        if key.startswith("cost") and cls:
            cls = "neg" if cls == "pos" else "pos"  # more cost is worse
        body.append(
            [
                (escape(total_label(key, t)), ""),
                (fmt_total(va, kind, t), "num"),
                (fmt_total(vb, kind, t), "num"),
                (d, f"num {cls}"),
            ]
        )
    return f"<h2>{escape(t('totals'))}</h2>" + table_html(
        ["", t("plan_a"), t("plan_b"), t("delta")], body
    )


def _sites_table(comp: Comparison, t: Labels) -> str:
    """Sites added / removed / kept per facility type, and the 120 vehicle changes."""
    sd = comp.sites
    body = []
    for ty in sorted(set(sd["facility_type"].dropna().astype(str))):
        sub = sd[sd["facility_type"] == ty]
        if not ((sub["open_a"] == 1) | (sub["open_b"] == 1)).any():
            continue  # e.g. clinics listed in a 120 run's sites table
        cells = [(escape(ty), "")]
        for ch in ("added", "removed", "kept"):
            ids = row_names(sub[sub["change"] == ch], "site_id")
            cells.append(
                (f"<b>{len(ids)}</b> <span class='note'>{escape(ids_text(ids, 6))}</span>", "")
            )
        body.append(cells)
    if not body and comp.staffing_kind:
        return ""
    return (
        f"<h2>{escape(t('sites_changes'))}</h2>"
        + table_html([t("facility_type"), t("added"), t("removed"), t("kept_both")], body)
        + _vehicle_changes(sd, t)
    )


def _points_cell(pts: pd.DataFrame, residents: str, cls: str) -> tuple[str, str]:
    """``n (residents) ids…`` of the demand points gaining (or losing) a standard."""
    names = escape(ids_text(row_names(pts, "demand_id"), 5))
    text = f"{len(pts)} ({num(pts[residents].sum())}) <span class='note'>{names}</span>"
    return text, cls if len(pts) else ""


def _coverage_table(comp: Comparison, t: Labels) -> tuple[str, list[Bar]]:
    """Coverage per standard in A and B with the points gaining / losing it, and its bars."""
    dd = comp.demand
    body = []
    bars = []
    for s in comp.standards:
        ca, cb = comp.a.coverage.get(s) or {}, comp.b.coverage.get(s) or {}
        d, cls = delta(ca.get("share"), cb.get("share"), "pct", t)
        body.append(
            [
                (escape(s), ""),
                (pct(ca.get("share")), "num"),
                (pct(cb.get("share")), "num"),
                (d, f"num {cls}"),
                _points_cell(dd[dd[f"change_{s}"] == "gained"], "residents_b", "pos"),
                _points_cell(dd[dd[f"change_{s}"] == "lost"], "residents_a", "neg"),
            ]
        )
        bars.append(
            Bar(s, ca.get("share"), ca.get("min_share"), ca.get("met"), value_b=cb.get("share"))
        )
    if comp.staffing_kind or not comp.standards:
        return "", bars
    head = [t("standard"), t("plan_a"), t("plan_b"), t("delta")]
    head += [t("villages_gain"), t("villages_lose")]
    return f"<h2>{escape(t('coverage_change'))}</h2>" + table_html(head, body), bars


def _norms_table(comp: Comparison, t: Labels) -> str:
    """Norms side by side: county-scope checks one per row, township checks counted per norm."""
    nd = comp.norms
    county = nd[nd["scope"] != "zone"]
    body = []
    for _, r in county.iterrows():
        body.append(
            [
                (escape(t.norm(str(r["norm"]), str(r["label"]))), ""),
                (escape(t.text(required_text(r))), "num"),
                *met_cells(r, "a", t),
                *met_cells(r, "b", t),
            ]
        )
    zonal = nd[nd["scope"] == "zone"]
    for _norm, sub in zonal.groupby("norm", sort=True):
        label = t.norm(str(_norm), str(sub["label"].iloc[0]))
        cells = [(escape(f"{label} [{t('zone')}]"), ""), ("", "")]
        for side in ("a", "b"):
            met = sub[f"met_{side}"]
            n_met, n_all = int((met == 1).sum()), int(met.notna().sum())
            missed = sub.loc[met == 0, "zone"].astype(str).tolist()
            cls = "" if n_all == 0 else ("met" if n_met == n_all else "missed")
            cells.append((f"{n_met} / {n_all}", f"num {cls}"))
            cells.append((escape(ids_text(missed, 4)) if missed else "", "note"))
        body.append(cells)
    return f"<h2>{escape(t('norms_side_by_side'))}</h2>" + table_html(
        [t("norm"), t("required"), t("plan_a"), "", t("plan_b"), ""], body
    )


def _map_part(spec: dict[str, Any] | None, t: Labels) -> str:
    """The interactive map of both plans, and its static overview for print."""
    if spec is None:
        return ""
    return (
        f"<h2>{escape(t('map'))}</h2>"
        + map_html(spec, "map-compare", compare_legend(spec))
        + f'<div class="print-only">{overview_svg(spec, width=430, height=250)}</div>'
    )


def _coverage_chart(bars: list[Bar], t: Labels) -> str:
    """Coverage bars of A and B per standard."""
    if not bars:
        return ""
    return hbar_chart(
        bars, title=f"{t('chart_coverage')} ({t('bars_a_b')})", width=430, label_w=120
    )


def _staffing_part(comp: Comparison, t: Labels) -> str:
    if comp.staffing is None:
        return ""
    return staffing_diff_html(comp.staffing, comp.staffing_kind, t)


def _vehicle_changes(sd: pd.DataFrame, t: Labels) -> str:
    """120 runs: the stations whose ambulances (or negative-pressure ambulances) change."""
    if "ambulances_change" not in sd:
        return ""
    moved = sd[(sd["ambulances_change"] != 0) | (sd.get("negative_pressure_change", 0) != 0)]
    rows = []
    for r in moved.itertuples():
        row: Any = r
        d = int(row.ambulances_change)
        rows.append(
            [
                (escape(str(r.site_id)), ""),
                (escape(str(r.change)), ""),
                (f"{r.ambulances_a} → {r.ambulances_b}", "num"),
                (f"{d:+d}", "num " + ("pos" if d > 0 else "neg" if d < 0 else "")),
                (
                    f"{getattr(r, 'negative_pressure_a', 0)} → {getattr(r, 'negative_pressure_b', 0)}",
                    "num",
                ),
            ]
        )
    total = (
        f"{int(sd['ambulances_a'].sum())} → {int(sd['ambulances_b'].sum())} "
        f"({int(sd['ambulances_change'].sum()):+d})"
    )
    return (
        f"<h3>{escape(t('vehicle_changes'))}: {escape(total)}</h3>"
        + table_html(
            [t("site"), t("sites_changes"), t("ambulances"), "Δ", t("negative_pressure")],
            rows,
            cls="vehicle-changes",
        )
        if rows
        else f'<p class="note">{escape(t("vehicle_changes"))}: {escape(total)}</p>'
    )


def _zones_table(comp: Comparison, t: Labels) -> str:
    zd = comp.zones
    if len(zd) == 0 or "zone_id" not in zd:
        return ""
    head = [t("zone"), t("population")]
    for s in comp.standards:
        head += [f"{s} A", "B", "Δ", "+/−"]
    body = []
    row_classes = []
    hide = len(zd) > PRINT_ZONE_ROWS
    for _, r in zd.iterrows():
        changed = any(
            (r[f"gained_points_{s}"] or r[f"lost_points_{s}"])
            or (pd.notna(r[f"share_{s}_change"]) and abs(r[f"share_{s}_change"]) > 1e-12)
            for s in comp.standards
        )
        row_classes.append("no-print" if hide and not changed else "")
        cells = [
            (escape(str(r["name"])), ""),
            (num(nan_none(r.get("population_b", r.get("population_a")))), "num"),
        ]
        for s in comp.standards:
            va, vb = nan_none(r[f"share_{s}_a"]), nan_none(r[f"share_{s}_b"])
            d, cls = delta(va, vb, "pct", t)
            g, lo = int(r[f"gained_points_{s}"]), int(r[f"lost_points_{s}"])
            cells += [
                (pct(va), "num"),
                (pct(vb), "num"),
                (d, f"num {cls}"),
                (f"+{g} / −{lo}" if g or lo else "", "num"),
            ]
        body.append(cells)
    note = ""
    hidden = row_classes.count("no-print")
    if hidden:
        note = (
            f'<p class="note print-only">{hidden} {escape(t("zones_unchanged"))} '
            "(zones_diff.csv)</p>"
        )
    return table_html(head, body, row_classes=row_classes) + note
