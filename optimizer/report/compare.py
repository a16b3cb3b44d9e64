"""Compare two runs (plan A, plan B): what changes, what it costs, which norms each meets.

``python -m optimizer compare RUN_A RUN_B --out DIR`` writes, atomically:

``compare.html``
    one self-contained page (prints on one A4 landscape sheet): totals side by side (status,
    gap, cost, sites, coverage per standard, staff posts when present, norms met), sites added /
    removed / kept per type, coverage change per standard overall and per township with the
    demand points that gain or lose each standard, norms side by side, and a map of both plans.
``sites_diff.csv``
    every site in either run: open in A / in B, status in each, change (added / removed / kept).
``demand_diff.csv``
    every demand point in either run: covered per standard in A and B, change (gained / lost),
    nearest open site of each type in A and B and the change in travel time or distance.
``zones_diff.csv``
    every township: share per standard in A and B and the change; demand points and residents
    gaining / losing each standard; open sites per type in A and B.
``norms.csv``
    every norm check of either run (county and per township): required, achieved, met in A and B.

Runs of different cases are compared where their ids match; everything that does not match
(demand points, sites, zones or standards in only one run, different weights or thresholds) is
listed at the top of the page and counted in the tables.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from html import escape
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..atomic import StagedOutput, check_out_dir
from ..errors import CheckError
from ..handoff.totals import check_compare_totals
from ..names import shown
from ..workbook import write_workbook
from .charts import Bar, hbar_chart
from .compare_notes import Note, kinds_differ, mismatch_text, setting_lines, settings_diff
from .compare_staffing import STAFFING_TABLES, staffing_diff, staffing_diff_html
from .format import num, pct, run_kind, status_badge
from .i18n import Labels
from .mapview import DEMAND_STYLES, SITE_CHANGE, basemap_spec, map_html, overview_svg, roads_spec
from .norms import NormCheck, fmt_value, norm_checks
from .page import html_page, table_html
from .rundata import RunData

__all__ = ["Comparison", "compare_runs", "write_compare"]

log = logging.getLogger(__name__)

VEHICLES = ("ambulances", "negative_pressure")
"""Per-site vehicle columns of 120 runs, compared as A / B / change."""

PRINT_ZONE_ROWS = 12
"""Above this many townships, the printed page lists only those whose coverage changes."""


STAFFING_KINDS = ("staffing_quota", "sent_down")
"""``kind`` of a staffing run's solution.json (no sites or demand tables)."""


@dataclass
class Comparison:
    a: RunData
    b: RunData
    sites: pd.DataFrame
    demand: pd.DataFrame
    zones: pd.DataFrame
    norms: pd.DataFrame
    standards: list[str]
    """Standards in both runs (compared); the others are listed in ``mismatches``."""
    mismatches: list[Note] = field(default_factory=list)
    """Data that does not match (ids, weights, standards): compared only where ids match."""
    settings: list[tuple[str, Any, Any]] = field(default_factory=list)
    """Case settings that differ (the usual reason to compare: p, budget, rules, solver), as
    ``(key, A, B)`` (:func:`optimizer.report.compare_notes.settings_diff`)."""
    totals: list[tuple[str, Any, Any, str]] = field(default_factory=list)
    """(label key or text, value A, value B, kind: num / pct / text / money)."""
    staffing_kind: str = ""
    """``staffing_quota`` / ``sent_down`` when both runs are staffing runs of that kind."""
    staffing: pd.DataFrame | None = None
    """Posts per facility or months per host, A and B (:mod:`.compare_staffing`)."""


# ---------------------------------------------------------------------------------------------
# tables
# ---------------------------------------------------------------------------------------------
def _shown(frame: pd.DataFrame, key: str) -> list[str]:
    """Rows of a diff table as people read them: ``name (id)`` where a name exists, else id."""
    names = frame["name"].astype(str).tolist() if "name" in frame else [""] * len(frame)
    ids = frame[key].astype(str).tolist()
    return [shown(i, {i: n} if n else {}) for i, n in zip(ids, names, strict=True)]


def _ids_text(ids: list[str], limit: int = 8) -> str:
    more = f" … (+{len(ids) - limit:,})" if len(ids) > limit else ""
    return ", ".join(ids[:limit]) + more


def _open(frame: pd.DataFrame | None) -> pd.DataFrame:
    cols = ["site_id", "name", "facility_type", "zone", "zone_name", "cost", "chosen", "status"]
    cols += list(VEHICLES)
    if frame is None:
        return pd.DataFrame(columns=cols)
    out = frame[[c for c in cols if c in frame.columns]].copy()
    if "chosen" not in out:
        out["chosen"] = 0
    if "status" not in out:
        out["status"] = ""
    return out


def _merge(fa: pd.DataFrame, fb: pd.DataFrame, key: str) -> pd.DataFrame:
    """Outer join on ``key`` with every other column suffixed _a / _b (even if only in one)."""
    ra = fa.rename(columns={c: f"{c}_a" for c in fa.columns if c != key})
    rb = fb.rename(columns={c: f"{c}_b" for c in fb.columns if c != key})
    ra[key], rb[key] = ra[key].astype(str), rb[key].astype(str)
    return ra.merge(rb, on=key, how="outer", indicator=True)


def _col(m: pd.DataFrame, name: str) -> pd.Series:
    return m[name] if name in m else pd.Series(np.nan, index=m.index)


def _carry(out: pd.DataFrame, m: pd.DataFrame, name: str) -> None:
    """Column ``name`` of either run (A's, else B's), e.g. the display name beside an id."""
    if f"{name}_a" in m or f"{name}_b" in m:
        va = _col(m, f"{name}_a")
        vb = _col(m, f"{name}_b")
        out[name] = va.where(va.notna() & (va.astype(str) != ""), vb).fillna("").astype(str)


def sites_diff(a: RunData, b: RunData) -> pd.DataFrame:
    m = _merge(_open(a.sites), _open(b.sites), "site_id")
    out = pd.DataFrame({"site_id": m["site_id"].astype(str)})
    _carry(out, m, "name")
    out["facility_type"] = m["facility_type_a"].where(
        m["_merge"] != "right_only", m["facility_type_b"]
    )
    if "zone_a" in m or "zone_b" in m:
        za = m["zone_a"] if "zone_a" in m else pd.Series("", index=m.index)
        zb = m["zone_b"] if "zone_b" in m else pd.Series("", index=m.index)
        out["zone"] = za.where(m["_merge"] != "right_only", zb).fillna("")
    _carry(out, m, "zone_name")
    out["in_a"] = (m["_merge"] != "right_only").astype(int)
    out["in_b"] = (m["_merge"] != "left_only").astype(int)
    oa = pd.to_numeric(m["chosen_a"], errors="coerce").fillna(0).astype(int)
    ob = pd.to_numeric(m["chosen_b"], errors="coerce").fillna(0).astype(int)
    out["open_a"], out["open_b"] = oa, ob
    out["status_a"] = m["status_a"].fillna("")
    out["status_b"] = m["status_b"].fillna("")
    out["cost_a"] = pd.to_numeric(_col(m, "cost_a"), errors="coerce")
    out["cost_b"] = pd.to_numeric(_col(m, "cost_b"), errors="coerce")
    change = np.where(
        (oa == 1) & (ob == 1), "kept", np.where(ob == 1, "added", np.where(oa == 1, "removed", ""))
    )
    out["change"] = change
    for v in VEHICLES:  # 120 runs: ambulances per station in A and B, and the change
        if f"{v}_a" in m or f"{v}_b" in m:
            va = pd.to_numeric(_col(m, f"{v}_a"), errors="coerce").fillna(0).astype(int)
            vb = pd.to_numeric(_col(m, f"{v}_b"), errors="coerce").fillna(0).astype(int)
            out[f"{v}_a"], out[f"{v}_b"], out[f"{v}_change"] = va, vb, vb - va
    return out.sort_values("site_id", kind="stable").reset_index(drop=True)


def _flag(col: pd.Series) -> pd.Series:
    return pd.to_numeric(col, errors="coerce").astype("Int64")


def demand_diff(a: RunData, b: RunData, standards: list[str]) -> pd.DataFrame:
    da = a.demand if a.demand is not None else pd.DataFrame(columns=["demand_id"])
    db = b.demand if b.demand is not None else pd.DataFrame(columns=["demand_id"])
    m = _merge(da, db, "demand_id")
    out = pd.DataFrame({"demand_id": m["demand_id"].astype(str)})
    _carry(out, m, "name")
    if "zone_a" in m or "zone_b" in m:
        za = m["zone_a"] if "zone_a" in m else pd.Series("", index=m.index)
        zb = m["zone_b"] if "zone_b" in m else pd.Series("", index=m.index)
        out["zone"] = za.where(m["_merge"] != "right_only", zb).fillna("")
    _carry(out, m, "zone_name")
    out["in_a"] = (m["_merge"] != "right_only").astype(int)
    out["in_b"] = (m["_merge"] != "left_only").astype(int)
    out["weight_a"] = pd.to_numeric(_col(m, "weight_a"), errors="coerce")
    out["weight_b"] = pd.to_numeric(_col(m, "weight_b"), errors="coerce")
    for side in ("a", "b"):  # residents apart from footfall venues (weight when no venues)
        res = f"residents_{side}"
        out[res] = pd.to_numeric(m[res], errors="coerce") if res in m else out[f"weight_{side}"]
    for s in standards:
        ca, cb = _flag(_col(m, f"covered_{s}_a")), _flag(_col(m, f"covered_{s}_b"))
        out[f"covered_{s}_a"], out[f"covered_{s}_b"] = ca, cb
        gained = (ca == 0) & (cb == 1)
        lost = (ca == 1) & (cb == 0)
        out[f"change_{s}"] = np.where(
            gained.fillna(False), "gained", np.where(lost.fillna(False), "lost", "")
        )
    near = sorted({c[:-2] for c in m.columns if c.startswith("nearest_") and c.endswith("_a")})
    for c in near:
        if f"{c}_a" not in m or f"{c}_b" not in m:
            continue
        out[f"{c}_a"], out[f"{c}_b"] = m[f"{c}_a"], m[f"{c}_b"]
        if c.rsplit("_", 1)[-1] in ("min", "m"):
            va = pd.to_numeric(m[f"{c}_a"], errors="coerce")
            vb = pd.to_numeric(m[f"{c}_b"], errors="coerce")
            out[f"{c}_change"] = (vb - va).round(3)
    return out.sort_values("demand_id", kind="stable").reset_index(drop=True)


def zones_diff(a: RunData, b: RunData, standards: list[str], dd: pd.DataFrame) -> pd.DataFrame:
    za = a.zones if a.zones is not None else pd.DataFrame(columns=["zone_id"])
    zb = b.zones if b.zones is not None else pd.DataFrame(columns=["zone_id"])
    ids = sorted(set(za["zone_id"].astype(str)) | set(zb["zone_id"].astype(str)))
    if not ids:
        return pd.DataFrame(columns=["zone_id"])
    ia, ib = za.set_index(za["zone_id"].astype(str)), zb.set_index(zb["zone_id"].astype(str))
    names = {**a.zone_names(), **b.zone_names()}
    out = pd.DataFrame({"zone_id": ids, "name": [names.get(z, z) for z in ids]})
    out["in_a"] = [int(z in ia.index) for z in ids]
    out["in_b"] = [int(z in ib.index) for z in ids]

    def col(frame: pd.DataFrame, name: str) -> list[Any]:
        if name not in frame:
            return [np.nan] * len(ids)
        return [frame.loc[z, name] if z in frame.index else np.nan for z in ids]

    out["population_a"], out["population_b"] = col(ia, "population"), col(ib, "population")
    both = dd[(dd["in_a"] == 1) & (dd["in_b"] == 1)] if "zone" in dd else dd.iloc[0:0]
    for s in standards:
        sa = pd.to_numeric(pd.Series(col(ia, f"share_{s}")), errors="coerce")
        sb = pd.to_numeric(pd.Series(col(ib, f"share_{s}")), errors="coerce")
        out[f"share_{s}_a"], out[f"share_{s}_b"] = sa.values, sb.values
        out[f"share_{s}_change"] = (sb - sa).round(6).values
        for what in ("gained", "lost"):
            sub = both[both[f"change_{s}"] == what] if len(both) else both
            pts = sub.groupby("zone").size() if len(sub) else pd.Series(dtype=float)
            side = "residents_b" if what == "gained" else "residents_a"
            res = sub.groupby("zone")[side].sum() if len(sub) else pd.Series(dtype=float)
            out[f"{what}_points_{s}"] = [int(pts.get(z, 0)) for z in ids]
            out[f"{what}_residents_{s}"] = [round(float(res.get(z, 0.0)), 3) for z in ids]
    types = sorted(
        {c[6:] for c in za.columns if c.startswith("sites_")}
        | {c[6:] for c in zb.columns if c.startswith("sites_")}
    )
    for t in types:
        out[f"sites_{t}_a"], out[f"sites_{t}_b"] = col(ia, f"sites_{t}"), col(ib, f"sites_{t}")
    return out


def norms_diff(na: list[NormCheck], nb: list[NormCheck]) -> pd.DataFrame:
    def frame(checks: list[NormCheck], suffix: str) -> pd.DataFrame:
        rows = [
            {
                "norm": c.norm,
                "scope": c.scope,
                "zone": c.zone,
                "label": c.label,
                "unit": c.unit,
                "comparison": c.comparison,
                "source": c.source,
                f"required_{suffix}": c.required,
                f"achieved_{suffix}": c.achieved,
                f"met_{suffix}": None if c.met is None else int(c.met),
            }
            for c in checks
        ]
        cols = ["norm", "scope", "zone", "label", "unit", "comparison", "source"]
        return pd.DataFrame(
            rows, columns=[*cols, f"required_{suffix}", f"achieved_{suffix}", f"met_{suffix}"]
        )

    fa, fb = frame(na, "a"), frame(nb, "b")
    keys = ["norm", "scope", "zone"]
    m = fa.merge(fb, on=keys, how="outer", suffixes=("", "_bdup"))
    for c in ("label", "unit", "comparison", "source"):
        m[c] = m[c].where(m[c].notna(), m[f"{c}_bdup"])
        m = m.drop(columns=f"{c}_bdup")
    m["scope_order"] = (m["scope"] != "county").astype(int)
    m = m.sort_values(["scope_order", "norm", "zone"], kind="stable").drop(columns="scope_order")
    for c in ("met_a", "met_b"):
        m[c] = m[c].astype("Int64")
    return m.reset_index(drop=True)


def _staff(sol: dict[str, Any]) -> float | None:
    """Total staff posts when a run has them (staffing families: ``posts.total``)."""
    for key in ("posts", "staff", "staffing"):
        block = sol.get(key)
        if isinstance(block, dict) and isinstance(block.get("total"), (int, float)):
            return float(block["total"])
    return None


def compare_runs(a: RunData, b: RunData) -> Comparison:
    mism: list[Note] = []
    ca, cb = a.solution.get("case", {}), b.solution.get("case", {})
    if ca.get("name") != cb.get("name"):
        mism.append(("mm_cases", {"a": ca.get("name"), "b": cb.get("name")}))
    settings = settings_diff(a.solution, b.solution)
    ia = ((a.manifest or {}).get("inputs_sha256")) or {}
    ib = ((b.manifest or {}).get("inputs_sha256")) or {}
    changed = sorted(k for k in set(ia) | set(ib) if ia.get(k) != ib.get(k))
    if changed:
        mism.append(("mm_inputs", {"files": _ids_text(changed)}))
    std_a = {s["name"]: s for s in a.standards}
    std_b = {s["name"]: s for s in b.standards}
    standards = [n for n in std_a if n in std_b]
    for n, what in ((sorted(set(std_a) - set(std_b)), "A"), (sorted(set(std_b) - set(std_a)), "B")):
        if n:
            mism.append(("mm_std_only", {"side": what, "names": ", ".join(n)}))
    for n in standards:
        ta = {k: std_a[n].get(k) for k in ("minutes", "metres", "matrix", "facility_types")}
        tb = {k: std_b[n].get(k) for k in ("minutes", "metres", "matrix", "facility_types")}
        if ta != tb:
            mism.append(
                (
                    "mm_std_differs",
                    {"name": n, "a": _standard_text(ta), "b": _standard_text(tb)},
                )
            )
    for label, fa, fb, key in (
        ("mm_only_demand", a.demand, b.demand, "demand_id"),
        ("mm_only_sites", a.sites, b.sites, "site_id"),
        ("mm_only_zones", a.zones, b.zones, "zone_id"),
    ):
        xa = set(fa[key].astype(str)) if fa is not None else set()
        xb = set(fb[key].astype(str)) if fb is not None else set()
        for side, only in (("A", xa - xb), ("B", xb - xa)):
            if only:
                mism.append(
                    (label, {"n": f"{len(only):,}", "side": side, "ids": _ids_text(sorted(only))})
                )
    sd = sites_diff(a, b)
    dd = demand_diff(a, b, standards)
    both = (dd["in_a"] == 1) & (dd["in_b"] == 1)
    wdiff = both & ~np.isclose(dd["weight_a"].fillna(-1), dd["weight_b"].fillna(-1))
    if wdiff.any():
        ids = _ids_text(dd.loc[wdiff, "demand_id"].tolist())
        mism.append(("mm_weights", {"n": f"{int(wdiff.sum()):,}", "ids": ids}))
    if a.sites is not None and b.sites is not None:
        ta = dict(zip(a.sites["site_id"], a.sites["facility_type"], strict=True))
        tb = dict(zip(b.sites["site_id"], b.sites["facility_type"], strict=True))
        bad = sorted(k for k in set(ta) & set(tb) if ta[k] != tb[k])
        if bad:
            mism.append(("mm_types", {"n": f"{len(bad):,}", "ids": _ids_text(bad)}))
    zd = zones_diff(a, b, standards, dd)
    na, nb = norm_checks(a), norm_checks(b)
    comp = Comparison(a, b, sd, dd, zd, norms_diff(na, nb), standards, mism, settings)
    comp.totals = _totals(a, b, standards, na, nb)
    kind = run_kind(a.solution)
    if kind in STAFFING_KINDS and run_kind(b.solution) == kind:
        comp.staffing_kind = kind
        comp.staffing = staffing_diff(a, b, kind)
    return comp


def _totals(
    a: RunData, b: RunData, standards: list[str], na: list[NormCheck], nb: list[NormCheck]
) -> list[tuple[str, Any, Any, str]]:
    sa, sb = a.solution, b.solution
    rows: list[tuple[str, Any, Any, str]] = [
        ("status", sa.get("status_text"), sb.get("status_text"), "status"),
        ("objective", sa.get("objective"), sb.get("objective"), "num"),
        ("gap", sa.get("gap"), sb.get("gap"), "pct"),
    ]
    unit = (sa.get("cost") or sb.get("cost") or {}).get("unit", "")
    rows.append(
        (
            f"cost ({unit})",
            (sa.get("cost") or {}).get("total"),
            (sb.get("cost") or {}).get("total"),
            "num",
        )
    )
    types = sorted(set(sa.get("counts") or {}) | set(sb.get("counts") or {}))
    for t in types:
        ca, cb = (sa.get("counts") or {}).get(t, {}), (sb.get("counts") or {}).get(t, {})
        rows.append((f"sites_open:{t}", ca.get("open"), cb.get("open"), "num"))
        rows.append((f"sites_new:{t}", ca.get("new"), cb.get("new"), "num"))
    for s in standards:
        rows.append(
            (
                f"share:{s}",
                (a.coverage.get(s) or {}).get("share"),
                (b.coverage.get(s) or {}).get("share"),
                "pct",
            )
        )
    for s in standards:
        fa, fb = (a.coverage.get(s) or {}), (b.coverage.get(s) or {})
        if fa.get("footfall") or fb.get("footfall"):
            rows.append(
                (f"footfall_share:{s}", fa.get("footfall_share"), fb.get("footfall_share"), "pct")
            )
    rows += _fleet_totals(sa, sb)
    staff_a, staff_b = _staff(sa), _staff(sb)
    if staff_a is not None or staff_b is not None:
        rows.append(("staff", staff_a, staff_b, "num"))
    rows.append(
        (
            "norms_met_total",
            f"{sum(c.met is True for c in na)} / {sum(c.met is not None for c in na)}",
            f"{sum(c.met is True for c in nb)} / {sum(c.met is not None for c in nb)}",
            "text",
        )
    )
    return rows


def _fleet_totals(sa: dict[str, Any], sb: dict[str, Any]) -> list[tuple[str, Any, Any, str]]:
    """120 runs: stations open and new, ambulances, negative-pressure ambulances, expected
    coverage and mean response, side by side."""
    if "fleet" not in sa and "fleet" not in sb:
        return []

    def n_sites(sol: dict[str, Any], key: str) -> int | None:
        block = sol.get(key)
        return None if block is None else sum(len(v) for v in block.values())

    def get(sol: dict[str, Any], *path: str) -> Any:
        node: Any = sol
        for k in path:
            node = node.get(k) if isinstance(node, dict) else None
        return node

    return [
        ("sites_open:120", n_sites(sa, "chosen_sites"), n_sites(sb, "chosen_sites"), "num"),
        ("sites_new:120", n_sites(sa, "new_sites"), n_sites(sb, "new_sites"), "num"),
        ("ambulances", get(sa, "fleet", "ambulances"), get(sb, "fleet", "ambulances"), "num"),
        (
            "negative_pressure",
            get(sa, "fleet", "negative_pressure"),
            get(sb, "fleet", "negative_pressure"),
            "num",
        ),
        (
            "expected_covered",
            get(sa, "coverage", "ems", "expected_covered"),
            get(sb, "coverage", "ems", "expected_covered"),
            "num",
        ),
        (
            "mean_response",
            get(sa, "response", "overall", "mean_min"),
            get(sb, "response", "overall", "mean_min"),
            "num",
        ),
    ]


# ---------------------------------------------------------------------------------------------
# page
# ---------------------------------------------------------------------------------------------
def _standard_text(std: dict[str, Any]) -> str:
    """``15 min, walk, clinic``: a standard's threshold, table and types for a mismatch line."""
    thr = (
        f"{std['minutes']:g} min"
        if std.get("minutes") is not None
        else f"{std['metres']:g} m"
        if std.get("metres") is not None
        else ""
    )
    types = "/".join(std.get("facility_types") or [])
    return ", ".join(p for p in (thr, str(std.get("matrix") or ""), types) if p)


def objectives_comparable(sa: dict[str, Any], sb: dict[str, Any]) -> bool:
    """Same model kind, objective and sense: only then is B's objective minus A's meaningful."""
    ma, mb = sa.get("model") or {}, sb.get("model") or {}
    return (
        run_kind(sa) == run_kind(sb)
        and ma.get("objective") == mb.get("objective")
        and sa.get("objective_sense") == sb.get("objective_sense")
    )


def _fmt(v: Any, kind: str, t: Labels | None = None) -> str:
    if v is None or (isinstance(v, float) and np.isnan(v)):
        return "-"
    if kind == "status" and t is not None:
        return escape(t.text(str(v)))
    if kind == "pct":
        return pct(v)
    if kind == "num":
        return num(v)
    return escape(str(v))


def _delta(a: Any, b: Any, kind: str, t: Labels | None = None) -> tuple[str, str]:
    if kind not in ("num", "pct") or a is None or b is None:
        return "", ""
    try:
        d = float(b) - float(a)
    except (TypeError, ValueError):
        return "", ""
    if abs(d) < 1e-12:
        return "0", ""
    points = t("pct_points") if t is not None else "pt"
    text = (
        f"{100 * d:+.2f} {points}"
        if kind == "pct"
        else f"{d:+,.6g}"
        if abs(d) < 1e4
        else f"{d:+,.0f}"
    )
    return text, "pos" if d > 0 else "neg"


def _total_label(key: str, t: Labels) -> str:
    if ":" in key:
        head, tail = key.split(":", 1)
        return f"{t(head)}: {tail}"
    return t(key) if not key.startswith("cost") else t("cost") + key[4:].replace(" ()", "")


def render_compare(
    comp: Comparison, *, lang: str = "zh", basemap: str = "none", tianditu_key: str | None = None
) -> str:
    t = Labels(lang)
    a, b = comp.a, comp.b
    bm = basemap_spec(basemap, tianditu_key, t)
    parts = [
        f"<h1>{escape(t('compare'))}: {escape(a.case_name)}"
        + (f" ⇄ {escape(b.case_name)}" if b.case_name != a.case_name else "")
        + "</h1>",
        f'<p class="sub">A = {escape(str(a.folder))} ({status_badge(str(a.solution.get("status")), t.text(a.solution.get("status")))}) · '
        f"B = {escape(str(b.folder))} ({status_badge(str(b.solution.get('status')), t.text(b.solution.get('status')))})"
        f' <button class="no-print" onclick="window.print()">{escape(t("print"))}</button></p>',
    ]
    kinds = kinds_differ(a.solution, b.solution, t)
    if kinds:
        parts.append(f'<div class="warn kinds-differ"><b>{escape(kinds)}</b></div>')
    if comp.mismatches:
        parts.append(
            f'<div class="warn"><b>{escape(t("mismatch"))}</b><ul>'
            + "".join(f"<li>{escape(mismatch_text(m, t))}</li>" for m in comp.mismatches)
            + "</ul></div>"
        )
    if comp.settings:
        parts.append(
            f'<div class="info-box settings-diff"><b>{escape(t("settings_diff"))}</b><ul>'
            + "".join(f"<li>{escape(line)}</li>" for line in setting_lines(comp.settings, t))
            + "</ul></div>"
        )
    left: list[str] = []
    right: list[str] = []
    # totals
    body = []
    same_objective = objectives_comparable(a.solution, b.solution)
    for key, va, vb, kind in comp.totals:
        d, cls = _delta(va, vb, kind, t)
        if key in ("objective", "gap") and not same_objective:
            d, cls = "", ""  # unlike objectives are never subtracted
        if key.startswith("cost") and cls:
            cls = "neg" if cls == "pos" else "pos"  # more cost is worse
        body.append(
            [
                (escape(_total_label(key, t)), ""),
                (_fmt(va, kind, t), "num"),
                (_fmt(vb, kind, t), "num"),
                (d, f"num {cls}"),
            ]
        )
    left.append(
        f"<h2>{escape(t('totals'))}</h2>"
        + table_html(["", t("plan_a"), t("plan_b"), t("delta")], body)
    )
    if comp.staffing_kind:
        left.append(_staffing_part(comp, t))
    # sites
    sd = comp.sites
    body = []
    for ty in sorted(set(sd["facility_type"].dropna().astype(str))):
        sub = sd[sd["facility_type"] == ty]
        if not ((sub["open_a"] == 1) | (sub["open_b"] == 1)).any():
            continue  # e.g. clinics listed in a 120 run's sites table
        cells = [(escape(ty), "")]
        for ch in ("added", "removed", "kept"):
            ids = _shown(sub[sub["change"] == ch], "site_id")
            cells.append(
                (f"<b>{len(ids)}</b> <span class='note'>{escape(_ids_text(ids, 6))}</span>", "")
            )
        body.append(cells)
    if body or not comp.staffing_kind:
        left.append(
            f"<h2>{escape(t('sites_changes'))}</h2>"
            + table_html([t("facility_type"), t("added"), t("removed"), t("kept_both")], body)
            + _vehicle_changes(sd, t)
        )
    # coverage change overall + gained/lost points
    dd = comp.demand
    body = []
    bars = []
    for s in comp.standards:
        ca, cb = a.coverage.get(s) or {}, b.coverage.get(s) or {}
        d, cls = _delta(ca.get("share"), cb.get("share"), "pct", t)
        g = dd[dd[f"change_{s}"] == "gained"]
        lo = dd[dd[f"change_{s}"] == "lost"]
        body.append(
            [
                (escape(s), ""),
                (pct(ca.get("share")), "num"),
                (pct(cb.get("share")), "num"),
                (d, f"num {cls}"),
                (
                    f"{len(g)} ({num(g['residents_b'].sum())}) <span class='note'>{escape(_ids_text(_shown(g, 'demand_id'), 5))}</span>",
                    "pos" if len(g) else "",
                ),
                (
                    f"{len(lo)} ({num(lo['residents_a'].sum())}) <span class='note'>{escape(_ids_text(_shown(lo, 'demand_id'), 5))}</span>",
                    "neg" if len(lo) else "",
                ),
            ]
        )
        bars.append(
            Bar(s, ca.get("share"), ca.get("min_share"), ca.get("met"), value_b=cb.get("share"))
        )
    left.append(
        ""
        if comp.staffing_kind or not comp.standards
        else f"<h2>{escape(t('coverage_change'))}</h2>"
        + table_html(
            [
                t("standard"),
                t("plan_a"),
                t("plan_b"),
                t("delta"),
                t("villages_gain"),
                t("villages_lose"),
            ],
            body,
        )
    )
    # norms side by side (county scope) + per-zone counts
    nd = comp.norms
    county = nd[nd["scope"] != "zone"]
    body = []
    for _, r in county.iterrows():
        body.append(
            [
                (escape(t.norm(str(r["norm"]), str(r["label"]))), ""),
                (escape(t.text(_required_text(r))), "num"),
                *_met_cells(r, "a", t),
                *_met_cells(r, "b", t),
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
            cells.append((escape(_ids_text(missed, 4)) if missed else "", "note"))
        body.append(cells)
    right.append(
        f"<h2>{escape(t('norms_side_by_side'))}</h2>"
        + table_html([t("norm"), t("required"), t("plan_a"), "", t("plan_b"), ""], body)
    )
    # map
    spec = compare_map_spec(comp, t, bm)
    if spec is not None:
        right.append(
            f"<h2>{escape(t('map'))}</h2>"
            + map_html(spec, "map-compare", _compare_legend(spec))
            + f'<div class="print-only">{overview_svg(spec, width=430, height=250)}</div>'
        )
    if bars:
        right.append(
            hbar_chart(
                bars, title=f"{t('chart_coverage')} ({t('bars_a_b')})", width=430, label_w=120
            )
        )
    parts.append(f'<div class="cols"><div>{"".join(left)}</div><div>{"".join(right)}</div></div>')
    # per township
    if len(comp.zones):
        parts.append(f"<h2>{escape(t('zones_change'))}</h2>" + _zones_table(comp, t))
    css = (
        "<style>.cols{display:grid;grid-template-columns:1fr 1fr;gap:0 18px}"
        "@media print{.cols{grid-template-columns:1.05fr 0.95fr}}</style>"
    )
    return html_page(
        f"{t('compare')} - {a.case_name}", css + "\n".join(parts), t, with_map=spec is not None
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


def _required_text(r: pd.Series) -> str:
    """The norm's requirement; 'A / B' when the two plans were held to different values."""
    ra, rb = _nan_none(r["required_a"]), _nan_none(r["required_b"])
    unit = str(r["unit"])
    if ra is not None and rb is not None and ra != rb:
        return f"{fmt_value(ra, unit)} / {fmt_value(rb, unit)}"
    return fmt_value(ra if ra is not None else rb, unit)


def _compare_legend(spec: dict[str, Any]) -> str:
    items = []
    for ls in spec["layers"]:
        if ls["kind"] != "point" or (ls["id"].startswith("demand-") and not ls["features"]):
            continue
        for k, st in enumerate(ls["styles"]):
            label = ls["label"]
            if ls["id"].startswith("demand-"):
                label = label.split(" / ")[k].split(":")[0] + ": " + ls["label"].split(": ")[-1]
            items.append(
                f'<span><span class="swatch" style="background:{st["fillColor"]}"></span>'
                f"{escape(label)}</span>"
            )
    return "".join(items)


def _nan_none(v: Any) -> Any:
    return None if v is None or (isinstance(v, float) and np.isnan(v)) else v


def _met_cells(r: pd.Series, side: str, t: Labels) -> list[tuple[str, str]]:
    met = r[f"met_{side}"]
    ach = _nan_none(r[f"achieved_{side}"])
    if pd.isna(met) and ach is None:
        return [("-", "info"), ("", "")]
    cls = "info" if pd.isna(met) else ("met" if met == 1 else "missed")
    word = t("no_target") if pd.isna(met) else (t("met") if met == 1 else t("missed"))
    return [(escape(t.text(fmt_value(ach, str(r["unit"])))), f"num {cls}"), (escape(word), cls)]


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
            (num(_nan_none(r.get("population_b", r.get("population_a")))), "num"),
        ]
        for s in comp.standards:
            va, vb = _nan_none(r[f"share_{s}_a"]), _nan_none(r[f"share_{s}_b"])
            d, cls = _delta(va, vb, "pct", t)
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


def compare_map_spec(comp: Comparison, t: Labels, basemap: dict[str, Any]) -> dict[str, Any] | None:
    a, b = comp.a, comp.b
    if not a.layers and not b.layers:
        return None
    layers: list[dict[str, Any]] = []
    roads = roads_spec(b.layers, t) or roads_spec(a.layers, t)  # the streets, as a base
    if roads is not None:
        layers.append(roads)
    zones = (b.layers.get("zones") or a.layers.get("zones") or {}).get("features") or []
    if zones:
        layers.append(
            {
                "id": "zones",
                "label": t("lyr_zones"),
                "kind": "polygon",
                "show": True,
                "className": "lyr-zones",
                "styles": [
                    {"color": "#455a64", "weight": 1.2, "fillColor": "#90a4ae", "fillOpacity": 0.06}
                ],
                "popup": [[t("zone"), "zone_id", ""], [t("name"), "name", ""]],
                "swatch": "#90a4ae",
                "features": [
                    {
                        "geom": f["geometry"],
                        "s": 0,
                        "p": {k: f["properties"].get(k) for k in ("zone_id", "name")},
                        "label": str(
                            f["properties"].get("name") or f["properties"].get("zone_id") or ""
                        ),
                    }
                    for f in zones
                    if f.get("geometry")
                ],
            }
        )
    xy: dict[str, list[float]] = {}
    for run in (a, b):
        for f in (run.layers.get("candidate_sites") or {}).get("features") or []:
            g = f.get("geometry")
            if g and g.get("type") == "Point":
                xy.setdefault(
                    str(f["properties"]["site_id"]), [round(c, 6) for c in g["coordinates"][:2]]
                )
    sd = comp.sites
    colours = SITE_CHANGE  # distinct from the demand's gained (green) / lost (red)
    popup = [
        [t("site"), "site_id", ""],
        [t("name"), "name", ""],
        [t("facility_type"), "facility_type", ""],
        ["A", "status_a", ""],
        ["B", "status_b", ""],
    ]
    for ch, key in (("added", "lyr_added"), ("removed", "lyr_removed"), ("kept", "lyr_kept")):
        sub = sd[sd["change"] == ch]
        feats = [
            {
                "xy": xy[str(r.site_id)],
                "s": 0,
                "r": 7,
                "p": {
                    "site_id": r.site_id,
                    "name": getattr(r, "name", ""),
                    "facility_type": r.facility_type,
                    "status_a": t.text(r.status_a),
                    "status_b": t.text(r.status_b),
                },
            }
            for r in sub.itertuples()
            if r.site_id in xy
        ]
        layers.append(
            {
                "id": f"sites-{ch}",
                "label": t(key),
                "kind": "point",
                "show": True,
                "className": f"lyr-{ch}",
                "styles": [
                    {
                        "color": "#000000",
                        "weight": 1.5,
                        "fillColor": colours[ch],
                        "fillOpacity": 0.95,
                    }
                ],
                "popup": popup,
                "swatch": colours[ch],
                "features": feats,
            }
        )
    dxy: dict[str, list[float]] = {}
    for run in (a, b):
        for f in (run.layers.get("demand") or {}).get("features") or []:
            g = f.get("geometry")
            if g and g.get("type") == "Point":
                dxy.setdefault(
                    str(f["properties"]["demand_id"]), [round(c, 6) for c in g["coordinates"][:2]]
                )
    dd = comp.demand
    for k, s in enumerate(comp.standards):
        sub = dd[dd[f"change_{s}"] != ""]
        feats = [
            {
                "xy": dxy[r["demand_id"]],
                "s": 0 if r[f"change_{s}"] == "gained" else 1,
                "r": 5,
                "p": {
                    "demand_id": r["demand_id"],
                    "name": r.get("name", ""),
                    "zone": r.get("zone", ""),
                    "change": t.text(r[f"change_{s}"]),
                },
            }
            for _, r in sub.iterrows()
            if r["demand_id"] in dxy
        ]
        layers.append(
            {
                "id": f"demand-{s}",
                "label": f"{t('lyr_gain')} / {t('lyr_lose')}: {s}",
                "kind": "point",
                "show": k == 0 or bool(feats),
                "className": "lyr-demand-change",
                "styles": [DEMAND_STYLES[0], DEMAND_STYLES[1]],
                "popup": [
                    [t("lyr_demand"), "demand_id", ""],
                    [t("name"), "name", ""],
                    [t("zone"), "zone", ""],
                    [t("coverage_change"), "change", ""],
                ],
                "swatch": DEMAND_STYLES[1]["fillColor"],
                "features": feats,
            }
        )
    return {
        "basemap": basemap,
        "noneLabel": t("basemap_none"),
        "canvas": False,
        "collapsed": True,
        "pools": {},
        "layers": layers,
    }


def write_compare(
    run_a: str | Path,
    run_b: str | Path,
    out_dir: str | Path,
    *,
    lang: str = "zh",
    basemap: str = "none",
    tianditu_key: str | None = None,
) -> list[str]:
    """Compare two run folders and write compare.html and the diff tables into ``out_dir``."""
    check_out_dir(out_dir)  # an unusable --out is refused before reading the runs
    a = RunData.from_dir(run_a, "RUN_A", verify=True)
    b = RunData.from_dir(run_b, "RUN_B", verify=True)
    staffing = [run_kind(run.solution) in STAFFING_KINDS for run in (a, b)]
    for run, is_staffing in zip((a, b), staffing, strict=True):
        if not is_staffing:  # a staffing run has posts or a calendar instead
            run.require("sites", "demand")
    comp = compare_runs(a, b)
    violations = check_compare_totals(Path(run_a), Path(run_b), comp.totals)
    if violations:
        raise CheckError(["compare hand-off: " + v for v in violations])
    html = render_compare(comp, lang=lang, basemap=basemap, tianditu_key=tianditu_key)
    with StagedOutput(out_dir) as out:
        if comp.staffing_kind:
            if comp.staffing is not None:
                out.csv(STAFFING_TABLES[comp.staffing_kind][3], comp.staffing)
        else:
            out.csv("sites_diff.csv", comp.sites)
            out.csv("demand_diff.csv", comp.demand)
            out.csv("zones_diff.csv", comp.zones)
        out.csv("norms.csv", comp.norms)
        write_workbook(out, lang=lang, name="compare.xlsx")  # the diff tables for Excel
        out.text("compare.html", html)
        names = out.names
    log.info("Compared %s and %s: %d files in %s", run_a, run_b, len(names), out_dir)
    return names
