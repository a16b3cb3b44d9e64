"""GIS layers of a coverage run: sites, demand, uncovered demand, catchments and zones.

Written by :func:`optimizer.outputs.layers.write_layers`; the layer list is in its docstring.
"""

from __future__ import annotations

import logging
import time
from typing import Any

import numpy as np
import pandas as pd
import shapely

from geodata.catchments import (
    DEFAULT_BUFFER_M,
    EdgeShapes,
    demand_hull_areas,
    network_service_areas,
    polygon_area_km2,
)
from geodata.crs import normalise_crs

from ...outputs.layers import (
    Layer,
    id_positions,
    lonlat,
    multipolygon,
    native_coords,
    nullable_flags,
    points,
    site_layers,
    zone_layer,
)
from .outputs import demand_table, sites_table, zones_table
from .problem import demand_thresholds
from .solve import CoverageSolution

__all__ = ["coverage_layers"]

log = logging.getLogger(__name__)


def coverage_layers(
    prepared: Any, sol: CoverageSolution, *, buffer_m: float = DEFAULT_BUFFER_M
) -> list[Layer]:
    """Every layer of a run, in WGS-84 (empty list when the demand has no coordinates)."""
    problem = sol.problem
    demand, sites = problem.demand, problem.sites
    d_ll = lonlat(demand.x, demand.y, demand.crs)
    s_ll = lonlat(sites.x, sites.y, sites.crs)
    out_crs = normalise_crs(demand.crs) if demand.crs else None
    layers: list[Layer] = []
    ev = sol.evaluation
    if s_ll is not None:
        table = sites_table(sol)
        rows = id_positions(sites.ids, table["site_id"])
        native = native_coords(sites.x, sites.y, sites.crs, out_crs, rows)
        frame = table.drop(columns=["x", "y"], errors="ignore")
        layers += site_layers(
            frame,
            s_ll,
            rows,
            native,
            None if ev is None else frame["chosen"].to_numpy() == 1,
            "every candidate and existing site with its status in the plan (as sites.csv)",
            "open sites of the plan (new and existing kept), by facility_type",
        )
    if d_ll is None:
        log.info("Demand has no coordinates with a CRS: GIS layers of sites and demand skipped")
        return layers
    table = demand_table(sol)
    rows = id_positions(demand.ids, table["demand_id"])
    native = native_coords(demand.x, demand.y, demand.crs, out_crs, rows)
    frame = table.drop(columns=["x", "y"], errors="ignore")
    for c in frame.columns:
        if c.startswith("covered_"):
            frame[c] = nullable_flags(frame[c])
    layers.append(
        Layer(
            "demand",
            frame,
            points(d_ll, rows),
            "Point",
            "every demand point: covered_<standard> 1/0 (null: not subject), nearest open site "
            "of each type and its travel time or distance (as demand.csv)",
            native,
        )
    )
    if ev is not None:
        layers.append(_uncovered(sol, d_ll))
        if s_ll is not None:
            layers.append(_catchments(prepared, sol, d_ll, s_ll, buffer_m))
    zl = _zones(prepared, sol, d_ll)
    if zl is not None:
        layers.append(zl)
    return layers


def _uncovered(sol: CoverageSolution, d_ll: np.ndarray) -> Layer:
    """``uncovered_demand``: one row per demand point and standard it misses."""
    problem = sol.problem
    demand, sites = problem.demand, problem.sites
    assert sol.evaluation is not None
    ev = sol.evaluation
    parts: list[pd.DataFrame] = []
    geoms: list[np.ndarray] = []
    for r in ev.standards:
        s = r.coverage.standard
        miss = np.flatnonzero(r.coverage.applies & ~r.covered)
        if miss.size == 0:
            continue
        table = problem.matrix_for(s)
        idx, val = table.nearest(ev.open_mask & r.coverage.site_ok)
        thr = demand_thresholds(s, demand)
        frame: dict[str, Any] = {"demand_id": demand.ids[miss].astype(str)}
        if demand.zone is not None:
            frame["zone"] = demand.zone[miss]
        if demand.demand_class is not None:
            frame["class"] = demand.demand_class[miss]
        frame["weight"] = demand.weight[miss]
        if demand.footfall is not None:  # residents apart from venues' footfall
            frame["residents"] = demand.residents[miss]
        frame["standard"] = s.name
        frame["threshold"] = thr[miss]
        frame["unit"] = s.unit
        near = idx[miss]
        frame["nearest_site"] = np.where(near >= 0, sites.ids[np.maximum(near, 0)], "")
        v = val[miss]
        frame["nearest_value"] = np.where(np.isfinite(v), np.round(v, 3), np.nan)
        part = pd.DataFrame(frame)
        order = np.argsort(part["demand_id"].to_numpy().astype(str), kind="stable")
        parts.append(part.iloc[order].reset_index(drop=True))
        geoms.append(points(d_ll, miss[order]))
    cols = ["demand_id", "zone", "class", "weight", "standard", "threshold", "unit"]
    if demand.footfall is not None:
        cols.insert(4, "residents")
    frame_all = (
        pd.concat(parts, ignore_index=True)
        if parts
        else pd.DataFrame(
            {c: pd.Series(dtype=object) for c in [*cols, "nearest_site", "nearest_value"]}
        )
    )
    if not parts:
        for c in ("zone", "class"):
            if (c == "zone" and demand.zone is None) or (
                c == "class" and demand.demand_class is None
            ):
                frame_all = frame_all.drop(columns=c)
    return Layer(
        "uncovered_demand",
        frame_all,
        np.concatenate(geoms) if geoms else np.zeros(0, dtype=object),
        "Point",
        "demand points outside a standard (one row per point and standard), with the nearest "
        "open site of the standard's types and its value (null: beyond the computed table)",
    )


_CATCHMENT_COLUMNS = [
    "site_id",
    "facility_type",
    "standard",
    "threshold",
    "unit",
    "demand_class",
    "method",
    "network",
    "buffer_m",
    "area_km2",
    "residents_within",
]


def _areas(
    rep: Any,
    table: Any,
    open_pos: np.ndarray,
    thr: np.ndarray,
    values: list[float],
    geo: tuple[np.ndarray, np.ndarray, np.ndarray, dict[str, EdgeShapes], float],
) -> tuple[dict[tuple[int, float], shapely.Geometry], str, str]:
    """The service area of each open site (``open_pos``) per threshold value: road pieces
    reached (:func:`geodata.catchments.network_service_areas`) when the table was routed on a
    road network, else the hull of the demand points it covers; with the method and network."""
    d_ll, s_ll, open_mask, shapes, buffer_m = geo
    if rep is not None and getattr(rep, "road_network", None) is not None:
        net = rep.road_network
        if net.name not in shapes:
            shapes[net.name] = EdgeShapes.of(net)
        areas = network_service_areas(
            net,
            rep.profile,
            rep.sites_snap,
            open_pos,
            values,
            measure=rep.measure,
            direction=rep.direction,
            buffer_m=buffer_m,
            shapes=shapes[net.name],
        )
        return areas, "network", rep.network
    areas = {}
    for v in values:
        within = table.within(np.where(thr == v, thr, np.nan), open_mask).tocsc()
        members = [within.indices[within.indptr[j] : within.indptr[j + 1]] for j in open_pos]
        polys = demand_hull_areas(
            s_ll[open_pos, 0], s_ll[open_pos, 1], d_ll[:, 0], d_ll[:, 1], members, buffer_m=buffer_m
        )
        areas.update({(int(j), v): p for j, p in zip(open_pos, polys, strict=True)})
    return areas, "demand_hull", ""


def _standard_catchments(
    problem: Any,
    r: Any,
    open_pos: np.ndarray,
    found: tuple[dict[tuple[int, float], shapely.Geometry], str, str],
    buffer_m: float,
) -> tuple[list[dict[str, Any]], list[shapely.Geometry]]:
    """The catchment rows and polygons of one standard's open sites, with the residents (and
    footfall) each reaches per threshold, counted on the travel-time table's coverage."""
    demand, sites = problem.demand, problem.sites
    s = r.coverage.standard
    thr = r.coverage.threshold
    areas, method, network = found
    rows: list[dict[str, Any]] = []
    geoms: list[shapely.Geometry] = []
    for v in sorted({float(v) for v in thr[np.isfinite(thr)]}):
        cls = (
            ""
            if not isinstance(s.threshold, dict)
            else ",".join(sorted(k for k, t in s.threshold.items() if float(t) == v))
        )
        subject = r.coverage.applies & (thr == v)
        mat = r.coverage.matrix.T.astype(float)
        reach = np.asarray(mat @ np.where(subject, demand.residents, 0.0)).ravel()
        foot = np.asarray(mat @ np.where(subject, demand.weight - demand.residents, 0.0)).ravel()
        for j in open_pos:
            poly = areas.get((int(j), v))
            if poly is None:
                continue
            rows.append(
                {
                    "site_id": str(sites.ids[j]),
                    "facility_type": str(sites.facility_type[j]),
                    "standard": s.name,
                    "threshold": v,
                    "unit": s.unit,
                    "demand_class": cls,
                    "method": method,
                    "network": network,
                    "buffer_m": buffer_m,
                    "area_km2": round(polygon_area_km2(poly), 4),
                    "residents_within": round(float(reach[j]), 3),
                }
                | (
                    {"footfall_within": round(float(foot[j]), 3)}
                    if demand.footfall is not None
                    else {}
                )
            )
            geoms.append(multipolygon(poly))
    return rows, geoms


def _catchments(
    prepared: Any, sol: CoverageSolution, d_ll: np.ndarray, s_ll: np.ndarray, buffer_m: float
) -> Layer:
    """``catchments``: one polygon per open site, standard and threshold (sorted by standard,
    site and threshold)."""
    problem = sol.problem
    assert sol.evaluation is not None
    ev = sol.evaluation
    t0 = time.perf_counter()
    routing = getattr(prepared, "routing", {}) or {}
    shapes: dict[str, EdgeShapes] = {}
    rows: list[dict[str, Any]] = []
    geoms: list[shapely.Geometry] = []
    for r in ev.standards:
        table = problem.matrix_for(r.coverage.standard)
        open_pos = np.flatnonzero(ev.open_mask & r.coverage.site_ok)
        if open_pos.size == 0:
            continue
        thr = r.coverage.threshold
        values = sorted({float(v) for v in thr[np.isfinite(thr)]})
        geo = (d_ll, s_ll, ev.open_mask, shapes, buffer_m)
        found = _areas(routing.get(table.name), table, open_pos, thr, values, geo)
        more_rows, more_geoms = _standard_catchments(problem, r, open_pos, found, buffer_m)
        rows += more_rows
        geoms += more_geoms
    footfall = ["footfall_within"] if problem.demand.footfall is not None else []
    frame = pd.DataFrame(rows, columns=[*_CATCHMENT_COLUMNS, *footfall])
    order = (
        frame.sort_values(["standard", "site_id", "threshold"], kind="stable").index.to_numpy()
        if len(frame)
        else np.zeros(0, dtype=np.int64)
    )
    log.info("Catchments: %d polygons in %.2f s", len(frame), time.perf_counter() - t0)
    return Layer(
        "catchments",
        frame.iloc[order].reset_index(drop=True),
        np.asarray(geoms, dtype=object)[order] if geoms else np.zeros(0, dtype=object),
        "MultiPolygon",
        "service area of each open site per standard: road pieces reachable within the "
        f"threshold, buffered {buffer_m:g} m (method=network); without a road network, the hull "
        "of the demand points the site covers (method=demand_hull). Coverage flags come from "
        "the travel-time table, not from these polygons.",
    )


def _zones(prepared: Any, sol: CoverageSolution, d_ll: np.ndarray) -> Layer | None:
    """``zones`` with zones.csv's figures, or None without zones."""
    problem = sol.problem
    if not problem.zone_ids():
        return None
    return zone_layer(prepared, problem.demand.zone, zones_table(sol), d_ll)
