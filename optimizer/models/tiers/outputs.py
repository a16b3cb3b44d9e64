"""Result files of a village-clinic tier run: the same files as every run, with the tiers.

``solution.json``
    the shared certificate plus ``tiers`` (per tier: clinics open, new, upgraded, kept; the
    tier table), ``cost`` and ``tiers_compliance.table`` (every norm with en/zh labels, required,
    achieved, met and source; the report shows it as a compliance table).
``sites.csv``
    every site: type, zone, existing, ``tier_now`` (existing clinics), ``tier`` and ``action``
    (new / upgrade / make_smart / keep / -) in the plan, ``standard``, cost in the plan, villages and residents
    assigned, ``capacity`` of its tier.
``demand.csv``
    every village: zone, residents, assigned site, its tier and the trip to it.
``layers.gpkg`` / ``geojson/``: candidate and chosen sites, villages, village-to-clinic lines and
zones, when the data have coordinates. ``report.html``, ``summary.txt``, ``manifest.json``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from geodata.crs import normalise_crs

from ...outputs.common import common_dict, num_text, rounded, summary_head
from ...outputs.folder import write_run_folder
from ...outputs.layers import Layer, id_positions, lonlat, native_coords, points, site_layers
from .evaluate import plan_cost
from .solve import TiersSolution

__all__ = ["tiers_solution_dict", "tiers_summary", "tiers_tables", "write_tiers_results"]


def _meaning(sol: TiersSolution) -> str:
    if sol.problem.model.objective == "max_coverage":
        return "maximise residents assigned to a clinic of an adequate tier within its radius"
    return "minimise the cost (yuan) of new and upgraded clinics with every village assigned"


def _actions(sol: TiersSolution) -> list[str]:
    """new / upgrade / make_smart / keep / - for every site."""
    p, plan = sol.problem, sol.plan
    assert plan is not None
    out = []
    for j, name in enumerate(plan.tier):
        if name is None:
            out.append("-")
        elif not p.sites.existing[j]:
            out.append("new")
        else:
            now = p.model.existing[str(p.sites.facility_type[j])]
            same = name == now.tier and bool(plan.standard[j]) == now.standard
            if same and plan.is_smart(j) != now.smart:
                out.append("make_smart")
            else:
                out.append("keep" if same else "upgrade")
    return out


def tiers_solution_dict(prepared: Any, sol: TiersSolution) -> dict[str, Any]:
    """solution.json: the shared certificate plus the tiers, cost and compliance table."""
    m = sol.problem.model
    out = common_dict(prepared, sol, meaning=_meaning(sol), model=m.model_dump(exclude_none=True))
    if sol.plan is None:
        return out
    actions = _actions(sol)
    by_tier: dict[str, dict[str, Any]] = {}
    for t in m.tiers:
        idx = [j for j, n in enumerate(sol.plan.tier) if n == t.name]
        by_tier[t.name] = {
            "label_zh": t.label_zh,
            "open": len(idx),
            "new": sum(actions[j] == "new" for j in idx),
            "upgraded": sum(actions[j] == "upgrade" for j in idx),
            "made_smart": sum(actions[j] == "make_smart" for j in idx),
            "kept": sum(actions[j] == "keep" for j in idx),
            "smart": sum(sol.plan.is_smart(j) for j in idx),
            "sites": sorted(str(sol.problem.sites.ids[j]) for j in idx),
        }
    out["tiers"] = by_tier
    out["chosen_sites"] = {name: t["sites"] for name, t in by_tier.items()}
    out["new_sites"] = {
        t.name: sorted(
            str(sol.problem.sites.ids[j])
            for j, n in enumerate(sol.plan.tier)
            if n == t.name and actions[j] == "new"
        )
        for t in m.tiers
    }
    out["cost"] = {"total": rounded(plan_cost(sol.problem, sol.plan), 2)}
    out["tiers_compliance"] = {"table": sol.compliance}
    return out


def tiers_tables(sol: TiersSolution) -> dict[str, pd.DataFrame]:
    """sites.csv and demand.csv, sorted by id."""
    p = sol.problem
    d, s, m = p.demand, p.sites, p.model
    tiers = {t.name: t for t in m.tiers}
    tier_now = [
        m.existing[str(t)].tier if e else ""
        for t, e in zip(s.facility_type, s.existing, strict=True)
    ]
    sites = pd.DataFrame(
        {
            "site_id": s.ids.astype(str),
            "facility_type": s.facility_type.astype(str),
            "zone": "" if s.zone is None else np.asarray(s.zone).astype(str),
            "existing": s.existing.astype(int),
            "tier_now": tier_now,
        }
    )
    demand = pd.DataFrame(
        {
            "demand_id": d.ids.astype(str),
            "zone": "" if d.zone is None else np.asarray(d.zone).astype(str),
            "weight": d.weight,
        }
    )
    plan = sol.plan
    if plan is not None:
        times = {
            (int(i), int(j)): float(v)
            for i, j, v in zip(p.times.demand_index, p.times.site_index,
                               p.times.value, strict=True)
        }  # fmt: skip
        served = np.zeros(len(s))
        villages = np.zeros(len(s), dtype=int)
        for i, j in enumerate(plan.assigned.tolist()):
            if j >= 0:
                served[j] += d.weight[i]
                villages[j] += 1
        single = [_site_cost(p, plan, j) for j in range(len(s))]
        sites["tier"] = [n or "" for n in plan.tier]
        sites["tier_zh"] = [(tiers[n].label_zh or "") if n else "" for n in plan.tier]
        sites["action"] = _actions(sol)
        sites["chosen"] = [int(n is not None) for n in plan.tier]
        sites["standard"] = [
            int(bool(x)) if n else 0 for x, n in zip(plan.standard, plan.tier, strict=True)
        ]
        sites["smart"] = [int(plan.is_smart(j)) for j in range(len(s))]
        sites["cost_in_plan"] = single
        sites["villages"] = villages
        sites["residents"] = served
        sites["capacity"] = [
            tiers[n].capacity if n and tiers[n].capacity is not None else np.nan for n in plan.tier
        ]
        demand["assigned_site"] = [str(s.ids[j]) if j >= 0 else "" for j in plan.assigned]
        demand["assigned_tier"] = [plan.tier[j] or "" if j >= 0 else "" for j in plan.assigned]
        demand[f"travel_{p.times.unit}"] = [
            times.get((i, int(j)), np.nan) if j >= 0 else np.nan
            for i, j in enumerate(plan.assigned)
        ]
    return {
        "sites.csv": sites.sort_values("site_id", kind="stable").reset_index(drop=True),
        "demand.csv": demand.sort_values("demand_id", kind="stable").reset_index(drop=True),
    }


def _site_cost(problem: Any, plan: Any, j: int) -> float:
    """Yuan this site costs in the plan (the total's own rule, one site at a time)."""
    one = type(plan)(
        [n if k == j else None for k, n in enumerate(plan.tier)],
        plan.standard,
        plan.assigned,
        plan.smart,
    )
    return plan_cost(problem, one)


def tiers_layers(sol: TiersSolution, tables: dict[str, pd.DataFrame]) -> list[Layer]:
    """Sites and villages in WGS-84 (empty without coordinates)."""
    p = sol.problem
    d, s = p.demand, p.sites
    d_ll, s_ll = lonlat(d.x, d.y, d.crs), lonlat(s.x, s.y, s.crs)
    out_crs = normalise_crs(d.crs) if d.crs else None
    layers: list[Layer] = []
    if s_ll is not None:
        table = tables["sites.csv"]
        rows = id_positions(s.ids, table["site_id"])
        layers += site_layers(
            table,
            s_ll,
            rows,
            native_coords(s.x, s.y, s.crs, out_crs, rows),
            table["chosen"].to_numpy() == 1 if "chosen" in table else None,
            "every candidate and existing site with its tier and action in the plan (as sites.csv)",
            "clinics of the plan by tier (new, upgraded, kept)",
        )
    if d_ll is not None:
        table = tables["demand.csv"]
        rows = id_positions(d.ids, table["demand_id"])
        layers.append(
            Layer(
                "demand",
                table,
                points(d_ll, rows),
                "Point",
                "every village with its assigned clinic and tier (as demand.csv)",
                native_coords(d.x, d.y, d.crs, out_crs, rows),
            )
        )
    return layers


def tiers_summary(prepared: Any, sol: TiersSolution, out_dir: Path | None = None) -> str:
    lines = summary_head(prepared, sol, kind="village-clinic tiers", meaning=_meaning(sol))
    if sol.plan is not None:
        info = tiers_solution_dict(prepared, sol)
        lines.append(
            f"Objective: {num_text(sol.objective)} (recomputed on the raw data; bound {num_text(sol.bound)})"
        )
        for name, t in info["tiers"].items():
            zh = f" {t['label_zh']}" if t["label_zh"] else ""
            lines.append(
                f"Tier {name}{zh}: {t['open']} open ({t['new']} new, {t['upgraded']} upgraded, "
                f"{t['made_smart']} made smart, {t['kept']} kept as they are; {t['smart']} smart)"
            )
        lines.append(f"Cost: {num_text(info['cost']['total'])} yuan")
        bad = [r for r in sol.compliance if not r["met"]]
        lines.append(
            f"Norms: {len(sol.compliance) - len(bad)} of {len(sol.compliance)} met"
            + (": not met " + ", ".join(f"{r['norm']} {r['zone']}" for r in bad) if bad else "")
        )
    if sol.message and sol.status.value != "optimal":
        lines.append(f"Note: {sol.message}")
    if out_dir is not None:
        lines.append(f"Results: {out_dir}/")
    return "\n".join(lines) + "\n"


def write_tiers_results(prepared: Any, sol: TiersSolution, out_dir: Path) -> list[str]:
    """Write every output file of a village-clinic tiers run, published whole."""
    tables = tiers_tables(sol)
    return write_run_folder(
        prepared,
        sol,
        out_dir,
        solution=tiers_solution_dict(prepared, sol),
        tables=tables,
        layers=lambda: tiers_layers(sol, tables),
        summary=tiers_summary(prepared, sol),
        check_handoff=False,
    )
