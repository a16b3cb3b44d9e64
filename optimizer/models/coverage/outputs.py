"""The result tables, solution.json and summary of a coverage (or phased) run.

Written by :func:`optimizer.models.coverage.write.write_coverage_results`:

``solution.json``
    status, objective (recomputed on the raw data), best bound, gap, runtimes, solver and version,
    chosen / new / closed site ids per facility type, costs, coverage per standard overall and per
    zone with the target and whether it is met, presolve and model sizes, diagnosis if infeasible.
``sites.csv``
    every site: type, zone, existing, chosen, status (new / kept / closed / not chosen), cost,
    the candidate that dominated it in presolve, residents for whom it is the nearest open site,
    and residents within each standard of it.
``demand.csv``
    every demand point: zone, class, weight, covered (1/0, empty if not subject) per standard, the
    nearest open site of each facility type and its travel time or distance.
``zones.csv``
    every zone: residents, covered residents and share per standard with target and met flag,
    open and new sites per facility type.
``manifest.json``
    case file hash, input file hashes, package / solver versions, seed, status, gap, runtime.
``summary.txt``
    the planner-readable summary printed on stdout.
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from optimizer.names import add_names, name_map, shown, zone_name_map

from ...outputs.common import (
    common_dict,
    num_text,
    pct_text,
    rounded,
    summary_head,
    threshold_text,
)
from .problem import _zone_share
from .solve import CoverageSolution

__all__ = [
    "coverage_summary",
    "demand_table",
    "phase_rows",
    "sites_table",
    "solution_dict",
    "type_value",
    "zones_table",
]


def _by_type(sites_ids: np.ndarray, types: np.ndarray, mask: np.ndarray) -> dict[str, list[str]]:
    """The site ids of ``mask`` per facility type, sorted."""
    out: dict[str, list[str]] = {}
    for t in sorted(set(map(str, types))):
        ids = sorted(map(str, sites_ids[mask & (types == t)]))
        out[t] = ids
    return out


def _type_share_rows(problem: Any, open_mask: np.ndarray) -> list[dict[str, Any]]:
    """One compliance row per type share and unit (county or zone): open sites counted."""
    sites = problem.sites
    rows = []
    for share in problem.model.type_shares:
        num = open_mask & np.isin(sites.facility_type, share.facility_types)
        den = open_mask & np.isin(sites.facility_type, share.of)
        for unit, mask in problem.share_units(share):
            a, b = int((num & mask).sum()), int((den & mask).sum())
            rows.append(
                {
                    "norm": f"type_shares[{share.name}]",
                    "label": f">= {100 * share.min_share:g}% of open {'/'.join(share.of)} "
                    f"are {'/'.join(share.facility_types)}",
                    "scope": "county" if unit == "county" else "zone",
                    "zone": "" if unit == "county" else unit,
                    "required": share.min_share,
                    "achieved": rounded(a / b) if b else None,
                    "unit": "share",
                    "met": Fraction(a) >= Fraction(str(share.min_share)) * b,
                    "counts": f"{a} of {b}",
                    "source": share.source or "",
                }
            )
    return rows


def _model_dict(problem: Any) -> dict[str, Any]:
    """solution.json's ``model``: the model section, with each zone rule's need per zone."""
    model = problem.model
    return {
        "kind": model.kind,
        "objective": model.resolved_objective,
        "max_new_sites": model.max_new_sites,
        "budget": model.budget,
        "existing": model.existing,
        "standards": [s.model_dump(exclude_none=True) for s in problem.standards],
        "zone_rules": [
            r.model_dump(exclude_none=True)
            | (
                {"required": {z: problem.rule_need(r, z) for z in problem.rule_zones(r)}}
                if r.per_10k_residents is not None or r.residents_per_site is not None
                else {}
            )
            | (
                {"allowed": {z: problem.rule_cap(r, z) for z in problem.rule_zones(r)}}
                if r.max_sites is not None or r.residents_per_site is not None
                else {}
            )
            for r in model.zone_rules
        ],
    }


def _plan_dict(problem: Any, ev: Any) -> dict[str, Any]:
    """solution.json's chosen / new / closed sites per type, their counts, type shares, cost."""
    model = problem.model
    sites = problem.sites
    out: dict[str, Any] = {}
    out["chosen_sites"] = _by_type(sites.ids, sites.facility_type, ev.open_mask)
    out["new_sites"] = _by_type(sites.ids, sites.facility_type, ev.new_mask)
    out["closed_sites"] = _by_type(sites.ids, sites.facility_type, ev.closed_mask)
    out["counts"] = {
        t: {
            "open": len(out["chosen_sites"][t]),
            "new": len(out["new_sites"][t]),
            "closed": len(out["closed_sites"][t]),
            "existing": int((sites.existing & (sites.facility_type == t)).sum()),
        }
        for t in out["chosen_sites"]
    }
    if model.type_shares:
        out["type_share_compliance"] = {"table": _type_share_rows(problem, ev.open_mask)}
    out["cost"] = {
        "unit": sites.cost_unit,
        "new_sites": rounded(ev.new_cost, 2),
        "closures": rounded(ev.closure_cost, 2),
        "total": rounded(ev.total_cost, 2),
        "budget": model.budget,
    }
    return out


def _standard_dict(r: Any) -> dict[str, Any]:
    """solution.json's coverage of one standard: overall and per zone, against its targets."""
    s = r.coverage.standard
    target = s.min_share
    by_zone = {}
    for z, zc in r.by_zone.items():
        req = _zone_share(s, z)
        by_zone[z] = {
            "population": rounded(zc.population, 3),
            "covered": rounded(zc.covered, 3),
            "share": rounded(zc.share),
            "required": req,
            "met": None if req is None or zc.share is None else bool(zc.share >= req - 1e-9),
        }
    out = {
        "threshold": s.threshold,
        "unit": s.unit,
        "facility_types": s.facility_types,
        "population": rounded(r.population, 3),
        "covered": rounded(r.covered_population, 3),
        "share": rounded(r.share),
        "min_share": target,
        "met": None if target is None or r.share is None else bool(r.share >= target - 1e-9),
        "source": s.source,
        "by_zone": by_zone,
    }
    if _has_footfall(r):
        out |= {
            "measure": "residents (footfall apart)",
            "footfall": rounded(r.footfall, 3),
            "footfall_covered": rounded(r.footfall_covered, 3),
            "footfall_share": rounded(r.footfall_share),
            "weighted_covered": rounded(r.weighted_covered, 3),
        }
        for z, zc in r.by_zone.items():
            by_zone[z] |= {
                "footfall": rounded(zc.footfall, 3),
                "footfall_covered": rounded(zc.footfall_covered, 3),
            }
    return out


def solution_dict(prepared: Any, sol: CoverageSolution) -> dict[str, Any]:
    """solution.json of a coverage run: the common part, the model, the plan, its coverage per
    standard and zone, what each facility type buys, and the phases of a phased roll-out."""
    problem = sol.problem
    out = common_dict(prepared, sol, meaning=_objective_meaning(sol), model=_model_dict(problem))
    if sol.open_mask is not None and sol.evaluation is not None:
        ev = sol.evaluation
        out |= _plan_dict(problem, ev)
        out["coverage"] = {r.coverage.standard.name: _standard_dict(r) for r in ev.standards}
        out["by_type"] = type_value(sol)
        phases = phase_rows(sol)
        if phases:
            out["phases"] = phases
    return out


def _has_footfall(r: Any) -> bool:
    """Whether footfall venues are subject to this standard (then shown apart from residents)."""
    return bool(r.footfall > 0)


def phase_rows(sol: Any) -> list[dict[str, Any]]:
    """A phased plan year by year: budget, spend, sites built and coverage reached."""
    plans = getattr(sol, "open_by_phase", None)
    if not plans:
        return []
    sites = sol.problem.sites
    prev = sites.existing.copy()
    rows = []
    for ph, plan, ev in zip(sol.problem.model.phases or [], plans, sol.evaluations, strict=True):
        built = plan & ~prev
        rows.append(
            {
                "phase": ph.name,
                "budget": ph.budget,
                "max_new_sites": ph.max_new_sites,
                "spent": rounded(float(sites.cost[built & ~sites.existing].sum()), 2),
                "built": {
                    t: sorted(map(str, sites.ids[built & (sites.facility_type == t)]))
                    for t in sites.types
                },
                "coverage": {r.name: rounded(r.share) for r in ev.standards},
                "objective": rounded(ev.objective),
            }
        )
        prev = plan
    return rows


def type_value(sol: CoverageSolution) -> dict[str, Any]:
    """What each facility type buys: new sites, spend, and the residents it adds within each
    standard it alone serves (against keeping only today's sites), per 10,000 yuan spent."""
    from .evaluate import evaluate_plan

    problem = sol.problem
    ev = sol.evaluation
    assert ev is not None
    sites = problem.sites
    baseline = evaluate_plan(problem, sol.coverages, sites.existing.copy())
    out: dict[str, Any] = {}
    for t in sites.types:
        spend = ev.cost_by_type.get(t, 0.0)
        gains: dict[str, Any] = {}
        for r, b in zip(ev.standards, baseline.standards, strict=True):
            types = r.coverage.standard.facility_types
            if types is not None and list(types) == [t]:
                gain = r.covered_population - b.covered_population
                gains[r.name] = {
                    "added": rounded(gain, 3),
                    "per_10k_yuan": rounded(gain / spend * 10_000, 6) if spend > 0 else None,
                }
                if _has_footfall(r):  # residents above; venues' footfall apart
                    gains[r.name]["footfall_added"] = rounded(
                        r.footfall_covered - b.footfall_covered, 3
                    )
        out[t] = {
            "new_sites": int((ev.new_mask & (sites.facility_type == t)).sum()),
            "spend": rounded(spend, 2),
            "standards": gains,
        }
    return out


def _counted(sol: CoverageSolution, name: str) -> str:
    """What a standard's objective term counts: residents, plus venue footfall when subject."""
    ev = sol.evaluation
    if ev is not None and any(r.name == name and _has_footfall(r) for r in ev.standards):
        return "(residents + venue footfall)"
    return "residents"


def _objective_meaning(sol: CoverageSolution) -> str:
    """What the objective counts, in words (solution.json and the summary)."""
    kind = sol.problem.model.resolved_objective
    phases = sol.problem.model.phases
    parts = [
        f"{s.weight:g} x {_counted(sol, s.name)} within '{s.name}'"
        for s in sol.problem.standards
        if s.weight > 0
    ]
    if phases:
        return f"maximise, summed over {len(phases)} phases, " + " + ".join(parts)
    if kind == "max_coverage":
        return "maximise " + " + ".join(parts)
    if kind == "min_cost":
        return f"minimise cost of new sites plus net closure cost ({sol.problem.sites.cost_unit})"
    return "minimise the number of new sites"


def _nearest_columns(sol: CoverageSolution) -> dict[str, tuple[str, Any]]:
    """For each facility type: the travel-time table its first standard uses."""
    problem = sol.problem
    chosen: dict[str, Any] = {}
    for t in problem.sites.types:
        table = None
        for s in problem.standards:
            if s.facility_types is None or t in s.facility_types:
                table = problem.matrix_for(s)
                break
        chosen[t] = (t, table if table is not None else next(iter(problem.travel_times.values())))
    return chosen


def demand_table(sol: CoverageSolution) -> pd.DataFrame:
    """demand.csv: every demand point with its coverage per standard and nearest open site per type."""
    problem = sol.problem
    d = problem.demand
    frame: dict[str, Any] = {"demand_id": d.ids}
    if d.zone is not None:
        frame["zone"] = d.zone
    if d.demand_class is not None:
        frame["class"] = d.demand_class
    frame["weight"] = d.weight
    if d.footfall is not None:  # residents and footfall, two measures
        frame["residents"] = d.residents
        frame["footfall"] = d.weight - d.residents
    if d.x is not None and d.y is not None:
        frame["x"], frame["y"] = d.x, d.y
    if sol.evaluation is not None:
        for r in sol.evaluation.standards:
            col = np.where(r.coverage.applies, r.covered.astype(int).astype(object), "")
            frame[f"covered_{r.name}"] = col
        sites = problem.sites
        for t, (_, table) in _nearest_columns(sol).items():
            mask = sol.evaluation.open_mask & (sites.facility_type == t)
            idx, val = table.nearest(mask)
            frame[f"nearest_{t}"] = np.where(idx >= 0, sites.ids[np.maximum(idx, 0)], "")
            frame[f"nearest_{t}_{table.unit}"] = np.where(
                np.isfinite(val), np.round(val, 3), np.nan
            )
    table = pd.DataFrame(frame).sort_values("demand_id", kind="stable").reset_index(drop=True)
    return add_names(table, demand=d, sites=problem.sites, zones=problem.zones)


def sites_table(sol: CoverageSolution) -> pd.DataFrame:
    """sites.csv: every site with its status in the plan and the residents it serves."""
    problem = sol.problem
    s = problem.sites
    frame: dict[str, Any] = {"site_id": s.ids, "facility_type": s.facility_type}
    if s.zone is not None:
        frame["zone"] = s.zone
    frame["existing"] = s.existing.astype(int)
    frame["cost"] = s.cost
    if s.x is not None and s.y is not None:
        frame["x"], frame["y"] = s.x, s.y
    if sol.evaluation is not None:
        ev = sol.evaluation
        frame["chosen"] = ev.open_mask.astype(int)
        status = np.full(len(s), "not chosen", dtype=object)
        status[ev.new_mask] = "new"
        status[s.existing & ev.open_mask] = "kept"
        status[ev.closed_mask] = "closed"
        frame["status"] = status
        dom = np.full(len(s), "", dtype=object)
        for j, k in sol.dominated_by.items():
            dom[j] = s.ids[k]
        frame["dominated_by"] = dom
        build = getattr(sol, "build_phase", None)
        if build is not None:
            names = [ph.name for ph in problem.model.phases or []]
            phase = build()
            frame["build_phase"] = [
                "existing" if s.existing[k] else (names[p] if p >= 0 else "")
                for k, p in enumerate(phase)
            ]
        # residents whose nearest open site (of this type) is this site
        d = problem.demand
        served = np.zeros(len(s))
        for t, (_, table) in _nearest_columns(sol).items():
            idx, _ = table.nearest(ev.open_mask & (s.facility_type == t))
            ok = idx >= 0
            served += np.bincount(idx[ok], weights=d.residents[ok], minlength=len(s))
        frame["residents_nearest"] = np.round(served, 3)
        for r in ev.standards:
            mat = r.coverage.matrix.T.astype(float)
            w = np.where(r.coverage.applies, d.residents, 0.0)
            frame[f"residents_within_{r.name}"] = np.round(np.asarray(mat @ w).ravel(), 3)
            if _has_footfall(r):
                f = np.where(r.coverage.applies, d.weight - d.residents, 0.0)
                frame[f"footfall_within_{r.name}"] = np.round(np.asarray(mat @ f).ravel(), 3)
    table = pd.DataFrame(frame).sort_values("site_id", kind="stable").reset_index(drop=True)
    return add_names(table, demand=problem.demand, sites=s, zones=problem.zones)


def zones_table(sol: CoverageSolution) -> pd.DataFrame:
    """zones.csv: every zone's coverage per standard against its target, and its open sites."""
    problem = sol.problem
    zones = problem.zones_table()
    if len(zones) == 0:
        return pd.DataFrame(columns=["zone_id"])
    frame: dict[str, Any] = {"zone_id": zones.ids, "name": zones.name, "kind": zones.kind}
    d = problem.demand
    zid = list(map(str, zones.ids))
    if d.zone is not None:
        pop = pd.Series(d.residents).groupby(pd.Series(d.zone)).sum()
        frame["population"] = [float(pop.get(z, 0.0)) for z in zid]
    if sol.evaluation is not None:
        for r in sol.evaluation.standards:
            s = r.coverage.standard
            frame[f"covered_{r.name}"] = [
                rounded(r.by_zone[z].covered, 3) if z in r.by_zone else None for z in zid
            ]
            frame[f"share_{r.name}"] = [
                rounded(r.by_zone[z].share) if z in r.by_zone else None for z in zid
            ]
            if _has_footfall(r):
                for what in ("footfall", "footfall_covered"):
                    frame[f"{what}_{r.name}"] = [
                        rounded(getattr(r.by_zone[z], what), 3) if z in r.by_zone else None
                        for z in zid
                    ]
            req = [_zone_share(s, z) for z in zid]
            if any(v is not None for v in req):
                frame[f"required_{r.name}"] = req
                frame[f"met_{r.name}"] = [
                    None
                    if q is None or z not in r.by_zone or r.by_zone[z].share is None
                    else int(r.by_zone[z].share >= q - 1e-9)  # type: ignore[operator]
                    for z, q in zip(zid, req, strict=True)
                ]
        sites = problem.sites
        if sites.zone is not None:
            ev = sol.evaluation
            for t in sites.types:
                of_t = sites.facility_type == t
                frame[f"sites_{t}"] = [
                    int((ev.open_mask & of_t & (sites.zone == z)).sum()) for z in zid
                ]
                frame[f"new_{t}"] = [
                    int((ev.new_mask & of_t & (sites.zone == z)).sum()) for z in zid
                ]
                if d.zone is not None:
                    res = pd.Series(d.residents).groupby(pd.Series(d.zone)).sum()
                    frame[f"per10k_{t}"] = [
                        rounded(frame[f"sites_{t}"][n] * 10_000 / float(res.get(z, 0.0)), 4)
                        if float(res.get(z, 0.0)) > 0
                        else None
                        for n, z in enumerate(zid)
                    ]
    return pd.DataFrame(frame).sort_values("zone_id", kind="stable").reset_index(drop=True)


def coverage_summary(prepared: Any, sol: Any, out_dir: Path | None = None) -> str:
    """The summary of a covering (or phased) answer."""
    problem = sol.problem
    model = problem.model
    lines = summary_head(prepared, sol, kind=model.kind.upper(), meaning=_objective_meaning(sol))
    site_names = name_map(problem.sites.ids, problem.sites.name)
    zone_names = zone_name_map(problem.zones)
    ev = sol.evaluation
    if ev is not None:
        lines.append(
            f"Objective: {num_text(sol.objective)} (recomputed on the raw data; bound {num_text(sol.bound)})"
        )
        for t in problem.sites.types:
            of_t = problem.sites.facility_type == t
            new = sorted(map(str, problem.sites.ids[ev.new_mask & of_t]))
            kept = int((ev.open_mask & of_t & problem.sites.existing).sum())
            closed = int((ev.closed_mask & of_t).sum())
            head = f"Sites '{t}': {int((ev.open_mask & of_t).sum())} open = {len(new)} new + {kept} existing kept"
            if closed:
                head += f"; {closed} existing closed"
            lines.append(head)
            if new:
                shown_new = [shown(k, site_names) for k in new[:30]]
                lines.append("  new: " + ", ".join(shown_new) + (" ..." if len(new) > 30 else ""))
        unit = problem.sites.cost_unit
        if problem.sites.has_cost or model.budget is not None:
            cost_line = f"Cost: {ev.total_cost:,.2f} {unit}"
            if model.budget is not None:
                cost_line += f" of budget {model.budget:,.2f} {unit}"
            lines.append(cost_line)
        for t, v in type_value(sol).items():
            for std, g in v["standards"].items():
                per = (
                    ""
                    if g["per_10k_yuan"] is None
                    else f" ({g['per_10k_yuan']:,.2f} per 10,000 {unit})"
                )
                foot = f" (+{g['footfall_added']:,.0f} footfall)" if "footfall_added" in g else ""
                lines.append(
                    f"Value of '{t}': {v['new_sites']} new, {v['spend']:,.0f} {unit} -> "
                    f"+{g['added']:,.0f} residents within '{std}'{per}{foot}"
                )
        for row in phase_rows(sol):
            built = sum(len(v) for v in row["built"].values())
            shares = ", ".join(f"{k} {pct_text(v)}" for k, v in row["coverage"].items())
            budget = "" if row["budget"] is None else f" of {row['budget']:,.0f}"
            lines.append(
                f"Phase {row['phase']}: build {built} sites for {row['spent']:,.0f}{budget} {unit}; {shares}"
            )
        lines.append("Coverage:")
        for r in ev.standards:
            s = r.coverage.standard
            target = (
                ""
                if s.min_share is None
                else (
                    f"  target {pct_text(s.min_share)} {'MET' if (r.share or 0) >= s.min_share - 1e-9 else 'MISSED'}"
                )
            )
            lines.append(
                f"  {s.name:<16} within {threshold_text(s.threshold)} {s.unit}: {pct_text(r.share)} "
                f"({r.covered_population:,.0f} of {r.population:,.0f} residents){target}"
            )
            lines += _out_of_reach(problem, r.coverage)
            if _has_footfall(r):
                lines.append(
                    f"    footfall venues: {pct_text(r.footfall_share)} ({r.footfall_covered:,.0f} of "
                    f"{r.footfall:,.0f} footfall weight; counted in the objective, not a share "
                    "of residents)"
                )
            if r.by_zone:
                worst = sorted(
                    ((zc.share, z) for z, zc in r.by_zone.items() if zc.share is not None),
                    key=lambda t: (t[0], t[1]),
                )[:3]
                if worst:
                    lines.append(
                        "    lowest zones: "
                        + ", ".join(f"{shown(z, zone_names)} {pct_text(v)}" for v, z in worst)
                    )
    if out_dir is not None:
        files = ["solution.json", "sites.csv", "demand.csv"]
        if problem.zone_ids():
            files.append("zones.csv")
        if problem.demand.x is not None and problem.demand.crs is not None:
            files.append("layers.gpkg")
        files += ["results.xlsx", "report.html"]
        lines.append(f"Results: {out_dir}/ ({', '.join([*files, 'summary.txt', 'manifest.json'])})")
    return "\n".join(lines) + "\n"


def _out_of_reach(problem: Any, coverage: Any) -> list[str]:
    """Demand (with residents) that no site, built or not, reaches within the standard: named,
    since no plan can cover it (add candidate sites near it, or check its travel times)."""
    all_open = np.ones(len(problem.sites), dtype=bool)
    far = coverage.applies & ~coverage.covered_by(all_open) & (problem.demand.weight > 0)
    if not far.any():
        return []
    pos = np.flatnonzero(far)
    ids = ", ".join(map(str, problem.demand.ids[pos[:15]]))
    more = f" and {pos.size - 15:,} more" if pos.size > 15 else ""
    return [
        f"    out of reach of every site: {pos.size:,} demand point{'s' if pos.size > 1 else ''} "
        f"({float(problem.demand.weight[pos].sum()):,.0f} residents): {ids}{more}"
    ]
