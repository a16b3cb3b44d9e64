"""The diff tables of two runs (sites, demand points, townships, norms) and what does not match."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ..names import shown
from .compare_notes import Note, settings_diff
from .compare_staffing import staffing_diff
from .compare_totals import totals_rows
from .format import run_kind
from .norms import NormCheck, norm_checks
from .rundata import RunData

__all__ = ["STAFFING_KINDS", "VEHICLES", "Comparison", "compare_runs", "ids_text", "row_names"]

VEHICLES = ("ambulances", "negative_pressure")
"""Per-site vehicle columns of 120 runs, compared as A / B / change."""

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


def row_names(frame: pd.DataFrame, key: str) -> list[str]:
    """Rows of a diff table as people read them: ``name (id)`` where a name exists, else id."""
    names = frame["name"].astype(str).tolist() if "name" in frame else [""] * len(frame)
    ids = frame[key].astype(str).tolist()
    return [shown(i, {i: n} if n else {}) for i, n in zip(ids, names, strict=True)]


def ids_text(ids: list[str], limit: int = 8) -> str:
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
        mism.append(("mm_inputs", {"files": ids_text(changed)}))
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
                    (label, {"n": f"{len(only):,}", "side": side, "ids": ids_text(sorted(only))})
                )
    sd = sites_diff(a, b)
    dd = demand_diff(a, b, standards)
    both = (dd["in_a"] == 1) & (dd["in_b"] == 1)
    wdiff = both & ~np.isclose(dd["weight_a"].fillna(-1), dd["weight_b"].fillna(-1))
    if wdiff.any():
        ids = ids_text(dd.loc[wdiff, "demand_id"].tolist())
        mism.append(("mm_weights", {"n": f"{int(wdiff.sum()):,}", "ids": ids}))
    if a.sites is not None and b.sites is not None:
        ta = dict(zip(a.sites["site_id"], a.sites["facility_type"], strict=True))
        tb = dict(zip(b.sites["site_id"], b.sites["facility_type"], strict=True))
        bad = sorted(k for k in set(ta) & set(tb) if ta[k] != tb[k])
        if bad:
            mism.append(("mm_types", {"n": f"{len(bad):,}", "ids": ids_text(bad)}))
    zd = zones_diff(a, b, standards, dd)
    na, nb = norm_checks(a), norm_checks(b)
    comp = Comparison(a, b, sd, dd, zd, norms_diff(na, nb), standards, mism, settings)
    comp.totals = totals_rows(a, b, standards, na, nb)
    kind = run_kind(a.solution)
    if kind in STAFFING_KINDS and run_kind(b.solution) == kind:
        comp.staffing_kind = kind
        comp.staffing = staffing_diff(a, b, kind)
    return comp


def _standard_text(std: dict[str, Any]) -> str:
    """``15 min, walk, clinic``: a standard's threshold, table and types for a mismatch line
    (per-class thresholds as ``urban 9 / rural 13 min``)."""
    thr = (
        _threshold_text(std["minutes"], "min")
        if std.get("minutes") is not None
        else _threshold_text(std["metres"], "m")
        if std.get("metres") is not None
        else ""
    )
    types = "/".join(std.get("facility_types") or [])
    return ", ".join(p for p in (thr, str(std.get("matrix") or ""), types) if p)


def _threshold_text(value: Any, unit: str) -> str:
    """``15 min``, or per demand class ``urban 9 / rural 13 min``."""
    if isinstance(value, dict):
        return " / ".join(f"{k} {float(v):g}" for k, v in value.items()) + f" {unit}"
    return f"{float(value):g} {unit}"
