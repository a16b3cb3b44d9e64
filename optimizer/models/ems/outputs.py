"""Result files of a 120 (EMS) run: the same files as every run, with fleet and response figures.

``solution.json`` adds ``fleet`` (ambulances, negative-pressure ambulances, the norms and whether
they are met), ``busy_fraction`` (and how it was derived), ``coverage`` (share within the standard
overall, per demand class and per zone; expected coverage (MEXCLP) and backup coverage) and
``response`` (population-weighted mean and worst response time, dispatch included, overall and
per class). ``sites.csv`` gives each station's ambulances; ``demand.csv`` each village's
ambulances within the standard, expected coverage, nearest station and response time;
``zones.csv`` each township's coverage, mean and worst response, stations and ambulances.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from optimizer.names import name_map, named_tables, shown

from ...outputs.common import common_dict, num_text, pct_text, rounded, site_columns, summary_head
from .evaluate import bacop_variant
from .solve import EmsSolution
from .zones import station_or_radius_table

__all__ = ["ems_solution_dict", "ems_summary", "ems_tables"]

_MEANING = {
    "mexclp": "maximise expected residents covered (MEXCLP, busy fraction q)",
    "bacop": "maximise residents covered once and twice (BACOP)",
    "bacop1": "everyone covered once; maximise residents covered twice (BACOP-1)",
    "bacop2": "maximise theta x residents covered once + (1 - theta) x covered twice (BACOP-2)",
    "max_coverage": "maximise residents within the 120 standard",
    "min_cost": "minimise the cost of stations and ambulances meeting the norms",
}


def _meaning(m: Any) -> str:
    if m.objective == "bacop":
        return _MEANING[f"bacop{bacop_variant(m)}"]
    return _MEANING[m.objective]


def _response(sol: EmsSolution) -> dict[str, Any]:
    ev = sol.evaluation
    assert ev is not None
    p = sol.problem
    w = p.demand.residents
    resp = ev.travel_min + p.model.dispatch_min
    reach = np.isfinite(resp)

    def stats(mask: np.ndarray) -> dict[str, Any]:
        m = mask & reach
        if not m.any():
            return {"mean_min": None, "worst_min": None, "unreachable_points": int(mask.sum())}
        return {
            "mean_min": rounded(float((w[m] * resp[m]).sum() / max(w[m].sum(), 1e-12)), 3),
            "worst_min": rounded(float(resp[m].max()), 3),
            "unreachable_points": int((mask & ~reach).sum()),
        }

    out = {"overall": stats(np.ones(len(p.demand), dtype=bool))}
    if p.demand.demand_class is not None:
        for cls in sorted(set(map(str, p.demand.demand_class))):
            out[cls] = stats(p.demand.demand_class == cls)
    return out


def _zone_required(m: Any, zone: str) -> float | None:
    req = m.zone_min_share
    if isinstance(req, dict):
        v = req.get(zone)
        return None if v is None else float(v)
    return None if req is None else float(req)


def _zone_coverage(sol: EmsSolution) -> dict[str, Any]:
    """Share within the 120 standard per zone, with its target (``zone_min_share``) and whether
    it is met: the same shape as a coverage run's ``coverage.<standard>.by_zone``."""
    p, ev = sol.problem, sol.evaluation
    assert ev is not None and p.demand.zone is not None
    w = p.demand.residents
    out: dict[str, Any] = {}
    for z in p.zone_ids():
        inz = p.demand.zone == z
        pop = float(w[inz & ev.applies].sum())
        covered = float(w[inz & ev.covered].sum())
        share = covered / pop if pop > 0 else None
        req = _zone_required(p.model, z)
        out[z] = {
            "population": rounded(pop, 3),
            "covered": rounded(covered, 3),
            "share": rounded(share),
            "required": req,
            "met": None if req is None or share is None else bool(share >= req - 1e-9),
        }
    return out


def _class_values(value: Any, classes: list[str]) -> dict[str, float]:
    """A per-class threshold ({urban: 11, rural: 15}) or one number, for each demand class."""
    if isinstance(value, dict):
        return {c: float(value[c]) for c in classes if c in value}
    return {c: float(value) for c in classes}


def _classes(sol: EmsSolution) -> list[str]:
    c = sol.problem.demand.demand_class
    return ["all"] if c is None else sorted(set(map(str, c)))


def _class_mask(sol: EmsSolution, cls: str) -> np.ndarray:
    c = sol.problem.demand.demand_class
    n = len(sol.problem.demand)
    return np.ones(n, dtype=bool) if c is None else np.asarray(c == cls, dtype=bool)


def _station_distance_m(sol: EmsSolution) -> np.ndarray | None:
    """Road distance from each demand point to the nearest staffed station (distance table)."""
    ev, dist = sol.evaluation, sol.problem.distance_table()
    if ev is None or dist is None:
        return None
    _, metres = dist.nearest(ev.plan.open & (ev.plan.vehicles >= 1))
    return metres


def existing_fleet(p: Any) -> dict[str, Any]:
    """Today's ambulances the plan starts from, and where the count comes from (issue 12/7)."""
    st = p.stations & p.sites.existing
    x_now, n_now = p.vehicles_now()
    given = p.sites.vehicles is not None
    return {
        "stations": int(st.sum()),
        "ambulances": round(float(x_now[st].sum())),
        "negative_pressure": round(float(n_now[st].sum())),
        "source": "sites table, columns vehicles / np_vehicles"
        if given
        else "ASSUMED: 1 ambulance (not negative-pressure) per existing station, already paid "
        "for; the sites table has no vehicles column (sites.columns.vehicles)",
        "assumed": not given and bool(st.any()),
    }


def ems_solution_dict(prepared: Any, sol: EmsSolution) -> dict[str, Any]:
    p = sol.problem
    m = p.model
    out = common_dict(prepared, sol, meaning=_meaning(m), model=m.model_dump(exclude_none=True))
    q, how = p.busy_fraction()
    out["busy_fraction"] = {"q": rounded(q), "derived": how}
    ev = sol.evaluation
    if ev is None:
        return out
    sites, w = p.sites, p.demand.residents
    plan = ev.plan
    out["chosen_sites"] = {m.station_type: sorted(map(str, sites.ids[plan.open]))}
    out["new_sites"] = {m.station_type: sorted(map(str, sites.ids[plan.open & ~sites.existing]))}
    out["cost"] = {"unit": sites.cost_unit, "total": rounded(ev.cost, 2), "budget": m.budget}
    f = m.fleet
    need = p.fleet_minimum()
    np_need = int(np.ceil(f.negative_pressure_share * ev.total_vehicles - 1e-9))
    out["fleet"] = {
        "ambulances": ev.total_vehicles,
        "negative_pressure": ev.total_np,
        "per_station": {
            str(sites.ids[j]): int(plan.vehicles[j]) for j in np.flatnonzero(plan.open)
        },
        "population_for_norm": rounded(p.population(), 1),
        "norm_per_population": f.per_population,
        "norm_minimum": need,
        "norm_met": ev.total_vehicles >= need,
        "negative_pressure_share": rounded(ev.total_np / max(ev.total_vehicles, 1)),
        "negative_pressure_required": np_need,
        "negative_pressure_met": ev.total_np >= np_need,
        "source": f.source,
        "existing": existing_fleet(p),
    }
    pop = float(w[ev.applies].sum())

    def share(mask: np.ndarray) -> float | None:
        base = float(w[mask & ev.applies].sum())
        return rounded(float(w[mask & ev.covered].sum()) / base) if base > 0 else None

    cov: dict[str, Any] = {
        "population": rounded(pop, 3),
        "covered": rounded(float(w[ev.covered].sum()), 3),
        "share": share(np.ones(len(w), dtype=bool)),
        "min_share": m.min_share,
        "met": None
        if m.min_share is None or pop <= 0
        else bool(w[ev.covered].sum() >= m.min_share * pop - 1e-9),
        "expected_covered": rounded(float((w * ev.expected).sum()), 3),
        "backup_covered": rounded(float(w[ev.applies & (ev.covering >= 2)].sum()), 3),
        "threshold": m.response_min,
        "unit": "min",
        "radius_m": m.radius_m,
        "source": m.source,
    }
    if p.demand.demand_class is not None:
        cov["by_class"] = {
            c: share(p.demand.demand_class == c)
            for c in sorted(set(map(str, p.demand.demand_class)))
        }
    if p.demand.zone is not None:
        cov["by_zone"] = _zone_coverage(sol)
    out["coverage"] = {"ems": cov}
    if m.station_or_radius is not None:
        rows = station_or_radius_table(p, plan)
        out["station_or_radius_compliance"] = {
            "checks": len(rows),
            "met": sum(1 for r in rows if r["met"]),
            "table": rows,
        }
    if m.objective == "bacop":
        out["bacop"] = {
            "variant": f"BACOP-{bacop_variant(m)}",
            "backup_weight": None if bacop_variant(m) == 1 else m.backup_weight,
            "covered_once": cov["covered"],
            "covered_twice": cov["backup_covered"],
            "objective": rounded(ev.objective, 3),
        }
    out["response"] = _response(sol)
    metres = _station_distance_m(sol)
    if metres is not None and m.radius_m is not None:
        radius = {}
        for c, limit in _class_values(m.radius_m, _classes(sol)).items():
            mask = _class_mask(sol, c)
            base = float(w[mask].sum())
            within = float(w[mask & (metres <= limit + 1e-9)].sum())
            far = metres[mask]
            radius[c] = {
                "radius_m": limit,
                "population": rounded(base, 3),
                "within": rounded(within, 3),
                "share": rounded(within / base) if base > 0 else None,
                "worst_m": rounded(float(far.max()), 1)
                if far.size and np.isfinite(far).all()
                else None,
            }
        out["radius"] = radius
    return out


def ems_tables(sol: EmsSolution) -> dict[str, pd.DataFrame]:
    """``demand.csv``, ``sites.csv`` and (with townships) ``zones.csv`` of a 120 answer."""
    p = sol.problem
    tables = {
        "demand.csv": pd.DataFrame(_demand_columns(sol))
        .sort_values("demand_id", kind="stable")
        .reset_index(drop=True),
        "sites.csv": pd.DataFrame(_site_columns(sol))
        .sort_values("site_id", kind="stable")
        .reset_index(drop=True),
    }
    zones = p.zone_ids()
    if zones and sol.evaluation is not None and p.demand.zone is not None:
        rows = [_zone_row(sol, z) for z in zones]
        tables["zones.csv"] = (
            pd.DataFrame(rows).sort_values("zone_id", kind="stable").reset_index(drop=True)
        )
    return named_tables(tables, p)


def _demand_columns(sol: EmsSolution) -> dict[str, Any]:
    """Per demand point: ids, weight, and (with a plan) coverage, nearest station, response."""
    p, ev = sol.problem, sol.evaluation
    d, s = p.demand, p.sites
    demand: dict[str, Any] = {"demand_id": d.ids}
    if d.zone is not None:
        demand["zone"] = d.zone
    if d.demand_class is not None:
        demand["class"] = d.demand_class
    demand["weight"] = d.weight
    if d.x is not None and d.y is not None:
        demand["x"], demand["y"] = d.x, d.y
    if d.footfall is not None:  # residents and footfall, two measures
        demand["residents"] = d.residents
        demand["footfall"] = d.weight - d.residents
    if ev is None:
        return demand
    demand["covered"] = np.where(ev.applies, ev.covered.astype(int).astype(object), "")
    demand["ambulances_within"] = ev.covering.astype(int)
    demand["expected_coverage"] = np.round(ev.expected, 6)
    demand["nearest_station"] = np.where(
        ev.nearest_site >= 0, s.ids[np.maximum(ev.nearest_site, 0)], ""
    )
    demand["travel_min"] = np.where(np.isfinite(ev.travel_min), np.round(ev.travel_min, 3), np.nan)
    demand["response_min"] = np.where(
        np.isfinite(ev.travel_min), np.round(ev.travel_min + p.model.dispatch_min, 3), np.nan
    )
    demand["standard_min"] = np.round(p.drive_budget_min() + p.model.dispatch_min, 3)
    metres = _station_distance_m(sol)
    if metres is not None:
        demand["station_m"] = np.where(np.isfinite(metres), np.round(metres, 1), np.nan)
    return demand


def _site_columns(sol: EmsSolution) -> dict[str, Any]:
    """Per site: ids, type, cost, and (with a plan) status, ambulances, residents nearest."""
    p, ev = sol.problem, sol.evaluation
    d, s = p.demand, p.sites
    sites = site_columns(s)
    if ev is None:
        return sites
    sites["open"] = ev.plan.open.astype(int)
    status = np.full(len(s), "not chosen", dtype=object)
    status[ev.plan.open & ~s.existing] = "new"
    status[ev.plan.open & s.existing] = "kept"
    status[~ev.plan.open & s.existing & p.stations] = "closed"
    status[~p.stations] = ""  # not a 120 station: outside this model
    sites["status"] = status
    sites["ambulances"] = ev.plan.vehicles.astype(int)
    sites["negative_pressure"] = ev.plan.np_vehicles.astype(int)
    first = np.bincount(
        ev.nearest_site[ev.nearest_site >= 0],
        weights=d.residents[ev.nearest_site >= 0],
        minlength=len(s),
    )
    sites["residents_nearest"] = np.round(first, 3)
    return sites


def _zone_rules(sol: EmsSolution, z: str, n_st: int | None) -> dict[str, Any]:
    """A township's norms: mean response per demand class, stations and coverage required."""
    p, ev = sol.problem, sol.evaluation
    assert ev is not None
    d = p.demand
    inz = d.zone == z
    resp = ev.travel_min + p.model.dispatch_min
    ok = inz & np.isfinite(resp)
    extra: dict[str, Any] = {}
    for c, limit in _class_values(p.model.response_min, _classes(sol)).items():
        # mean response of the class's residents in the zone, against the class standard
        mask = ok & _class_mask(sol, c)
        mean = (
            rounded(float((d.residents[mask] * resp[mask]).sum() / d.residents[mask].sum()), 3)
            if mask.any() and d.residents[mask].sum() > 0
            else None
        )
        extra[f"mean_response_{c}_min"] = mean
        extra[f"met_mean_response_{c}"] = None if mean is None else int(mean < limit)
    ruled = set(p.station_zones()) if p.model.stations_per_zone > 0 else set()
    if ruled:
        need = p.model.stations_per_zone if z in ruled else None
        extra["required_stations"] = need
        extra["met_stations"] = None if need is None or n_st is None else int(n_st >= need)
    req = _zone_required(p.model, z)
    if p.model.zone_min_share is not None:
        pop = float(d.residents[inz & ev.applies].sum())
        share = float(d.residents[inz & ev.covered].sum()) / pop if pop > 0 else None
        extra["required_ems"] = req
        extra["met_ems"] = None if req is None or share is None else int(share >= req - 1e-9)
    return extra


def _zone_row(sol: EmsSolution, z: str) -> dict[str, Any]:
    """One township's row of ``zones.csv``: coverage, response, stations, ambulances, norms."""
    p, ev = sol.problem, sol.evaluation
    assert ev is not None
    d, s = p.demand, p.sites
    names: dict[str, str] = {}
    kinds: dict[str, str] = {}
    if p.zones is not None:
        names = dict(zip(map(str, p.zones.ids), map(str, p.zones.name), strict=True))
        kinds = dict(zip(map(str, p.zones.ids), map(str, p.zones.kind), strict=True))
    resp = ev.travel_min + p.model.dispatch_min
    inz = d.zone == z
    pop = float(d.residents[inz & ev.applies].sum())
    ok = inz & np.isfinite(resp)
    in_zone = s.zone == z if s.zone is not None else None
    n_st = int((ev.plan.open & in_zone).sum()) if in_zone is not None else None
    mean = float((d.residents[ok] * resp[ok]).sum() / max(d.residents[ok].sum(), 1e-12))
    return {
        "zone_id": z,
        "name": names.get(z, z),
        "kind": kinds.get(z, ""),
        "population": float(d.residents[inz].sum()),
        "covered_share": rounded(float(d.residents[inz & ev.covered].sum()) / pop)
        if pop > 0
        else None,
        "expected_share": rounded(float((d.residents * ev.expected)[inz].sum()) / pop)
        if pop > 0
        else None,
        "mean_response_min": rounded(mean, 3) if ok.any() else None,
        "worst_response_min": rounded(float(resp[ok].max()), 3) if ok.any() else None,
        "stations": n_st,
        "ambulances": int(ev.plan.vehicles[in_zone].sum()) if in_zone is not None else None,
        "negative_pressure": int(ev.plan.np_vehicles[in_zone].sum())
        if in_zone is not None
        else None,
        **_zone_rules(sol, z, n_st),
    }


def ems_summary(prepared: Any, sol: EmsSolution, out_dir: Path | None = None) -> str:
    p = sol.problem
    m = p.model
    lines = summary_head(prepared, sol, kind="120 EMS", meaning=_meaning(m))
    ev = sol.evaluation
    if ev is not None:
        info = ems_solution_dict(prepared, sol)
        lines.append(
            f"Objective: {num_text(sol.objective)} (recomputed on the raw data; bound {num_text(sol.bound)})"
        )
        new = info["new_sites"][m.station_type]
        lines.append(
            f"Stations: {int(ev.plan.open.sum())} open ({len(new)} new): "
            + ", ".join(shown(k, name_map(p.sites.ids, p.sites.name)) for k in new[:20])
            + (" ..." if len(new) > 20 else "")
        )
        fl = info["fleet"]
        lines.append(
            f"Fleet: {fl['ambulances']} ambulances (norm >= {fl['norm_minimum']}: {'MET' if fl['norm_met'] else 'MISSED'}), "
            f"{fl['negative_pressure']} negative-pressure ({pct_text(fl['negative_pressure_share'])}; "
            f">= {fl['negative_pressure_required']} required: {'MET' if fl['negative_pressure_met'] else 'MISSED'})"
        )
        ex = fl["existing"]
        if ex["stations"]:
            lines.append(
                f"  existing: {ex['stations']} stations with {ex['ambulances']} ambulances "
                f"({ex['negative_pressure']} negative-pressure) - {ex['source']}"
            )
        cov = info["coverage"]["ems"]
        target = (
            ""
            if m.min_share is None
            else f"  target {pct_text(m.min_share)} {'MET' if cov['met'] else 'MISSED'}"
        )
        lines.append(
            f"Within the 120 standard: {pct_text(cov['share'])} of {cov['population']:,.0f} residents{target}"
        )
        if "by_class" in cov:
            lines.append(
                "  by class: " + ", ".join(f"{c} {pct_text(v)}" for c, v in cov["by_class"].items())
            )
        lines.append(
            f"Expected coverage (q = {ev.q:.3f}): {num_text(cov['expected_covered'])} residents; "
            f"backup (2+ ambulances): {num_text(cov['backup_covered'])}"
        )
        sor = info.get("station_or_radius_compliance")
        if sor and m.station_or_radius is not None:
            off = [r["zone"] for r in sor["table"] if not r["met"]]
            lines.append(
                f"Township norm (a station inside or everyone within "
                f"{m.station_or_radius.radius_m / 1000:g} km): {sor['met']} of {sor['checks']} met"
                + (f"; not met: {', '.join(off[:10])}" if off else "")
                + f"; {sum(1 for r in sor['table'] if r['achieved'].startswith('0 '))} rely on "
                "the radius"
            )
        r = info["response"]["overall"]
        lines.append(
            f"Response (dispatch + drive): mean {num_text(r['mean_min'])} min, worst {num_text(r['worst_min'])} min"
        )
        if p.sites.has_cost or m.budget is not None:
            lines.append(
                f"Cost: {ev.cost:,.2f} {p.sites.cost_unit}"
                + (f" of budget {m.budget:,.2f}" if m.budget is not None else "")
            )
    if out_dir is not None:
        lines.append(f"Results: {out_dir}/")
    return "\n".join(lines) + "\n"
