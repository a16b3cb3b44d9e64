"""Result files of a p-median / p-center run: the same files as every run, with travel figures.

``solution.json``
    the shared certificate (status, objective recomputed on the raw table, best bound, gap,
    runtimes, solver and version) plus ``travel``: the population-weighted mean and the worst
    trip (with the demand point it belongs to) overall and per zone, ``chosen_sites`` /
    ``new_sites`` / ``closed_sites`` per facility type, the method (``benders`` or the
    ``assignment`` model with its k-nearest ``truncation`` rounds; p-center: the binary-search
    ``steps`` and ``sites_needed``).
``sites.csv``
    every site: type, zone, existing, cost, chosen, status, demand points and residents assigned,
    mean and worst trip of its residents.
``demand.csv``
    every demand point: zone, class, weight, assigned site and the trip to it (``travel_min`` or
    ``travel_m``; capacitated runs: ``split`` when a village is shared by sites).
``zones.csv``
    every zone: residents, mean and worst trip, the farthest point, open and new sites per type.
``layers.gpkg`` / ``geojson/`` / ``layers.json``
    candidate and chosen sites, demand points, ``assignments`` (a line from each demand point to
    its site) and zones, when the data have coordinates.
``report.html``, ``summary.txt``, ``manifest.json`` as for every run.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import shapely

from optimizer.names import name_map, named_tables, shown, zone_name_map

from ...outputs.common import common_dict, num_text, rounded, site_columns, summary_head
from ...outputs.folder import write_run_folder
from ...outputs.layers import (
    Layer,
    points,
    run_lonlat,
    site_layers,
    table_rows,
    zone_layer,
)
from .solve import SitingSolution

__all__ = [
    "siting_solution_dict",
    "siting_summary",
    "siting_tables",
    "write_siting_results",
]


def _meaning(sol: SitingSolution) -> str:
    unit = sol.problem.table().unit
    m = sol.problem.model
    if m.kind == "p_median":
        return f"minimise residents' total (so mean) trip to their site, weight x {unit}"
    if getattr(m, "weighted", False):
        return f"minimise the worst residents x trip ({unit}) to the nearest open site"
    return f"minimise the worst trip ({unit}) from a demand point to its nearest open site"


def _method_run(model: Any, sol: SitingSolution) -> str:
    """The method that ran (``solver.method``), not the covering default ``compact``:
    p-median's ``benders`` or ``assignment`` (``auto`` resolved), p-center's ``binary_search``
    or ``compact``."""
    if model.kind == "p_median":
        return str(getattr(sol.result, "method", model.method))
    return str(model.method)


def siting_solution_dict(prepared: Any, sol: SitingSolution) -> dict[str, Any]:
    """solution.json: the shared certificate plus the model's own figures."""
    m = sol.problem.model
    out = common_dict(prepared, sol, meaning=_meaning(sol), model=m.model_dump(exclude_none=True))
    own = sol.result.to_dict()
    for key in ("status", "status_text", "checked_on_raw_data", "objective", "best_bound", "gap"):
        own.pop(key, None)
    for key in ("runtime_s", "total_time_s", "solver", "model_size", "diagnosis", "model"):
        own.pop(key, None)
    out |= own
    out["solver"]["method"] = _method_run(m, sol)
    if "travel" in out:
        tr = out["travel"]
        out["average_travel"] = tr.get("mean")
        out["worst_travel"] = tr.get("worst")
        out["worst_demand_id"] = tr.get("worst_demand_id")
    return out


def _unit_suffix(unit: str) -> str:
    return "min" if unit in ("min", "s", "h") else "m"


def siting_tables(sol: SitingSolution) -> dict[str, pd.DataFrame]:
    """demand.csv, sites.csv and (with zones) zones.csv, sorted by id."""
    p = sol.problem
    r = sol.result
    d, s = p.demand, p.sites
    unit = _unit_suffix(p.table().unit)
    inst = r.instance
    w = d.weight
    demand: dict[str, Any] = {"demand_id": d.ids.astype(str)}
    if d.zone is not None:
        demand["zone"] = d.zone
    if d.demand_class is not None:
        demand["class"] = d.demand_class
    demand["weight"] = w
    if d.x is not None and d.y is not None:
        demand["x"], demand["y"] = d.x, d.y
    sites = site_columns(s) | {"site_id": s.ids.astype(str)}
    assigned = r.assigned_site
    travel = r.travel
    if r.open_mask is not None and assigned is not None and travel is not None:
        ok = assigned >= 0
        demand["assigned_site"] = np.where(ok, s.ids[np.maximum(assigned, 0)].astype(str), "")
        demand[f"travel_{unit}"] = np.where(ok, np.round(travel, 6), np.nan)
        shares = getattr(r, "shares", None)
        if shares is not None:
            n_sites = shares.groupby("demand")["share"].size()
            demand["split"] = [int(n_sites.get(i, 0) > 1) for i in range(len(d))]
        opened = r.open_mask
        status = np.where(
            opened & s.existing,
            "kept",
            np.where(opened, "new", np.where(s.existing & inst.allowed, "closed", "not chosen")),
        )
        sites["chosen"] = opened.astype(int)
        sites["status"] = status
        if shares is not None:
            ws = w[shares["demand"].to_numpy()] * shares["share"].to_numpy()
            sj = shares["site"].to_numpy()
            load = np.bincount(sj, weights=ws, minlength=len(s))
            tsum = np.bincount(sj, weights=ws * shares["value"].to_numpy(), minlength=len(s))
            npts = np.bincount(sj, minlength=len(s))
            worst = np.full(len(s), -np.inf)
            np.maximum.at(worst, sj, shares["value"].to_numpy())
        else:
            sj = assigned[ok]
            load = np.bincount(sj, weights=w[ok], minlength=len(s))
            tsum = np.bincount(sj, weights=w[ok] * travel[ok], minlength=len(s))
            npts = np.bincount(sj, minlength=len(s))
            worst = np.full(len(s), -np.inf)
            np.maximum.at(worst, sj, travel[ok])
        sites["demand_points"] = npts.astype(int)
        sites["residents_assigned"] = np.round(load, 3)
        sites[f"mean_travel_{unit}"] = np.where(
            load > 0, np.round(np.divide(tsum, np.where(load > 0, load, 1.0)), 6), np.nan
        )
        sites[f"worst_travel_{unit}"] = np.where(npts > 0, np.round(worst, 6), np.nan)
        if s.capacity is not None:
            sites["capacity"] = s.capacity
    tables = {
        "demand.csv": pd.DataFrame(demand)
        .sort_values("demand_id", kind="stable")
        .reset_index(drop=True),
        "sites.csv": pd.DataFrame(sites)
        .sort_values("site_id", kind="stable")
        .reset_index(drop=True),
    }
    zones = p.zone_ids()
    if zones and d.zone is not None:
        tables["zones.csv"] = _zones_table(sol, zones, unit)
    return named_tables(tables, p)


def _zones_table(sol: SitingSolution, zones: list[str], unit: str) -> pd.DataFrame:
    p = sol.problem
    r = sol.result
    d, s = p.demand, p.sites
    assert d.zone is not None
    names: dict[str, str] = {}
    kinds: dict[str, str] = {}
    if p.zones is not None:
        names = dict(zip(map(str, p.zones.ids), map(str, p.zones.name), strict=True))
        kinds = dict(zip(map(str, p.zones.ids), map(str, p.zones.kind), strict=True))
    travel = r.to_dict().get("travel", {}).get("zones", {})
    types = sorted(set(map(str, s.facility_type[r.instance.allowed])))
    rows = []
    for z in zones:
        inz = d.zone == z
        t = travel.get(z, {})
        row: dict[str, Any] = {"zone_id": z}
        if p.zones is not None:
            row["name"] = names.get(z, "")
            row["kind"] = kinds.get(z, "")
        row["points"] = int(inz.sum())
        row["population"] = rounded(float(d.weight[inz].sum()), 3)
        row[f"mean_travel_{unit}"] = t.get("mean")
        row[f"worst_travel_{unit}"] = t.get("worst")
        row["worst_demand_id"] = t.get("worst_demand_id", "")
        row["unserved_points"] = int(t.get("unserved_points", 0))
        for ft in types:
            of_t = (s.facility_type == ft) & (s.zone == z) if s.zone is not None else None
            if r.open_mask is not None and of_t is not None:
                row[f"open_{ft}"] = int((r.open_mask & of_t).sum())
                row[f"new_{ft}"] = int((r.open_mask & of_t & ~s.existing).sum())
        rows.append(row)
    return pd.DataFrame(rows).sort_values("zone_id", kind="stable").reset_index(drop=True)


# ---------------------------------------------------------------------------------------------
# Layers
# ---------------------------------------------------------------------------------------------
def siting_layers(
    prepared: Any, sol: SitingSolution, tables: dict[str, pd.DataFrame]
) -> list[Layer]:
    """Sites, demand, demand-to-site lines and zones in WGS-84 (empty without coordinates)."""
    p = sol.problem
    d, s = p.demand, p.sites
    d_ll, s_ll, out_crs = run_lonlat(d, s)
    layers: list[Layer] = []
    if s_ll is not None:
        table = tables["sites.csv"]
        rows, native = table_rows(s, table["site_id"], out_crs)
        layers += site_layers(
            table,
            s_ll,
            rows,
            native,
            table["chosen"].to_numpy() == 1 if "chosen" in table else None,
            "every candidate and existing site with its status in the plan (as sites.csv)",
            "open sites of the plan (new and existing kept), by facility_type",
        )
    if d_ll is None:
        return layers
    table = tables["demand.csv"]
    rows, native = table_rows(d, table["demand_id"], out_crs)
    layers.append(
        Layer(
            "demand",
            table,
            points(d_ll, rows),
            "Point",
            "every demand point with its assigned site and trip (as demand.csv)",
            native,
        )
    )
    if s_ll is not None and "assigned_site" in table:
        site_pos = pd.Index(pd.Series(s.ids).astype(str)).get_indexer(
            pd.Index(table["assigned_site"].astype(str))
        )
        has = site_pos >= 0
        # a village served by a site at its own location has no line (zero length is invalid)
        same = np.zeros(len(table), dtype=bool)
        same[has] = np.all(d_ll[rows[has]] == s_ll[site_pos[has]], axis=1)
        n_same = int(same.sum())
        has &= ~same
        lines = np.asarray(
            [
                shapely.LineString([d_ll[rows[k]], s_ll[site_pos[k]]]) if has[k] else None
                for k in range(len(table))
            ],
            dtype=object,
        )
        keep = ("demand_id", "name", "zone", "zone_name", "weight", "assigned_site")
        cols = [c for c in table.columns if c in (*keep, "assigned_site_name")]
        cols += [c for c in table.columns if c.startswith("travel_")]
        layers.append(
            Layer(
                "assignments",
                table.loc[has, cols].reset_index(drop=True),
                lines[has],
                "LineString",
                "straight line from each demand point to its assigned site (the trip itself "
                "follows the road network; the value is the table's); "
                f"{n_same} points at their site's own location have no line",
            )
        )
    if "zones.csv" in tables:
        layers.append(zone_layer(prepared, d.zone, tables["zones.csv"], d_ll))
    return layers


# ---------------------------------------------------------------------------------------------
# Summary and writing
# ---------------------------------------------------------------------------------------------
def siting_summary(prepared: Any, sol: SitingSolution, out_dir: Path | None = None) -> str:
    p = sol.problem
    m = p.model
    kind = "p-median" if m.kind == "p_median" else "p-center"
    lines = summary_head(prepared, sol, kind=kind, meaning=_meaning(sol))
    r = sol.result
    info = r.to_dict()
    unit = p.table().unit
    site_names = name_map(p.sites.ids, p.sites.name)
    zone_names = zone_name_map(p.zones)
    if r.open_mask is not None:
        lines.append(
            f"Objective: {num_text(sol.objective)} (recomputed on the raw data; bound {num_text(sol.bound)})"
        )
        for t, ids in info["new_sites"].items():
            n_open = len(info["chosen_sites"][t])
            lines.append(
                f"Sites '{t}': {n_open} open ({len(ids)} new)"
                + (
                    ": "
                    + ", ".join(shown(k, site_names) for k in ids[:30])
                    + (" ..." if len(ids) > 30 else "")
                    if ids
                    else ""
                )
            )
        tr = info["travel"]
        lines.append(
            f"Average trip (population-weighted): {num_text(tr['mean'])} {unit}; farthest: "
            f"{num_text(tr['worst'])} {unit} (demand point {shown(tr.get('worst_demand_id', '-'), name_map(p.demand.ids, p.demand.name))})"
        )
        if "zones" in tr:
            worst = sorted(
                ((b["worst"], z) for z, b in tr["zones"].items() if b.get("worst") is not None),
                reverse=True,
            )[:3]
            lines.append(
                "  farthest zones: "
                + ", ".join(f"{shown(z, zone_names)} {num_text(v)} {unit}" for v, z in worst)
            )
        method = info.get("method")
        if method:
            lines.append(f"Method: {method}")
        if info.get("sites_needed") is not None:
            lines.append(f"Fewest new sites that reach this radius: {info['sites_needed']}")
    if sol.message and sol.status.value != "optimal":
        lines.append(f"Note: {sol.message}")
    if out_dir is not None:
        lines.append(f"Results: {out_dir}/")
    return "\n".join(lines) + "\n"


def write_siting_results(prepared: Any, sol: SitingSolution, out_dir: Path) -> list[str]:
    """Write every output file of a p-median / p-center run, published whole."""
    tables = siting_tables(sol)
    return write_run_folder(
        prepared,
        sol,
        out_dir,
        solution=siting_solution_dict(prepared, sol),
        tables=tables,
        layers=lambda: siting_layers(prepared, sol, tables),
        summary=siting_summary(prepared, sol),
    )
