"""GIS layers of a 120 (EMS) run, written by :func:`optimizer.outputs.layers.write_layers`.

The same layer names as a coverage run, with the fields of the 120 model:

``candidate_sites``
    every 120 station candidate and existing station (sites.csv rows of the station type): open,
    status (new / kept / not chosen), ``ambulances``, ``negative_pressure``, residents served.
``chosen_sites``
    the open stations only, same fields (style by ``ambulances``).
``demand``
    every demand point (demand.csv): ``class`` (urban / rural), ``standard_min`` (the class's
    response standard), ``covered_ems`` (1 = within the response standard and the service
    radius, null = not subject), ``response_min`` (dispatch + drive to the nearest staffed
    station), ``station_m`` (road distance to the nearest staffed station), ambulances within
    the standard and expected coverage.
``uncovered_demand``
    demand points outside the standard: their threshold, response minutes and road distance.
``catchments``
    per open station and demand class: the road network reached within the class's driving
    budget (response standard minus dispatch) and, when the case sets a service radius, within
    that road distance too (intersection of both service areas).
``zones``
    townships with zones.csv's figures: share within the standard, mean / worst response, mean
    response per class against its standard, stations and ambulances, the stations-per-township
    rule (``required_stations`` / ``met_stations``).
"""

from __future__ import annotations

import logging
import time
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp
import shapely

from geodata.catchments import (
    DEFAULT_BUFFER_M,
    EdgeShapes,
    network_service_areas,
    polygon_area_km2,
)
from geodata.crs import normalise_crs

from ...outputs.layers import Layer, site_layers, zone_layer
from ...outputs.layers import id_positions as _order
from ...outputs.layers import lonlat as _lonlat
from ...outputs.layers import multipolygon as _multi
from ...outputs.layers import native_coords as _native
from ...outputs.layers import nullable_flags as _nullable_flags
from ...outputs.layers import points as _points
from .outputs import ems_tables
from .problem import coverage_matrix
from .solve import EmsSolution

__all__ = ["build_ems_layers"]

log = logging.getLogger(__name__)


def build_ems_layers(
    prepared: Any, sol: EmsSolution, *, buffer_m: float = DEFAULT_BUFFER_M
) -> list[Layer]:
    """Every layer of a 120 run, in WGS-84 (empty when neither demand nor sites have a CRS)."""
    p = sol.problem
    demand, sites = p.demand, p.sites
    d_ll = _lonlat(demand.x, demand.y, demand.crs)
    s_ll = _lonlat(sites.x, sites.y, sites.crs)
    out_crs = normalise_crs(demand.crs) if demand.crs else None
    tables = ems_tables(sol)
    ev = sol.evaluation
    layers: list[Layer] = []
    if s_ll is not None:
        table = tables["sites.csv"]
        table = table[table["facility_type"] == p.model.station_type].reset_index(drop=True)
        rows = _order(sites.ids, table["site_id"])
        native = _native(sites.x, sites.y, sites.crs, out_crs, rows)
        layers += site_layers(
            table,
            s_ll,
            rows,
            native,
            None if ev is None else table["open"].to_numpy() == 1,
            "every 120 station candidate and existing station: open, status, ambulances and "
            "negative-pressure ambulances (as sites.csv)",
            "open 120 stations with their ambulances and negative-pressure ambulances",
        )
    if d_ll is None:
        log.info("Demand has no coordinates with a CRS: GIS layers of demand skipped")
        return layers
    table = tables["demand.csv"]
    rows = _order(demand.ids, table["demand_id"])
    native = _native(demand.x, demand.y, demand.crs, out_crs, rows)
    frame = table.copy()
    if "covered" in frame:
        frame.insert(
            list(frame.columns).index("covered"), "covered_ems", _nullable_flags(frame["covered"])
        )
        frame = frame.drop(columns="covered")
    layers.append(
        Layer(
            "demand",
            frame,
            _points(d_ll, rows),
            "Point",
            "every demand point: covered_ems 1/0 (within the response standard and radius; null: "
            "not subject), response minutes (dispatch + drive) to the nearest staffed station, "
            "its road distance, the class's standard (as demand.csv, covered -> covered_ems)",
            native,
        )
    )
    if ev is not None:
        miss = frame[frame["covered_ems"].fillna(1).to_numpy() == 0]
        keep_cols = [
            c
            for c in (
                "demand_id",
                "zone",
                "class",
                "weight",
                "standard_min",
                "nearest_station",
                "response_min",
                "station_m",
            )
            if c in miss
        ]
        unc = miss[keep_cols].reset_index(drop=True)
        unc.insert(unc.columns.get_loc("weight") + 1, "standard", "ems")
        layers.append(
            Layer(
                "uncovered_demand",
                unc,
                _points(d_ll, rows[miss.index.to_numpy()]),
                "Point",
                "demand points outside the 120 standard (response time or service radius), with "
                "the nearest staffed station, the response minutes and road metres to it",
            )
        )
        if s_ll is not None:
            layers.append(_ems_catchments(prepared, sol, buffer_m))
    if "zones.csv" in tables:
        layers.append(zone_layer(prepared, demand.zone, tables["zones.csv"], d_ll))
    return layers


def _class_limits(value: Any, demand_class: np.ndarray | None) -> dict[str, float]:
    if isinstance(value, dict):
        present = set(map(str, demand_class)) if demand_class is not None else set()
        return {str(k): float(v) for k, v in value.items() if str(k) in present}
    return {"": float(value)}


def _ems_catchments(prepared: Any, sol: EmsSolution, buffer_m: float) -> Layer:
    """Service areas of the open stations per demand class: drive budget (and radius)."""
    p = sol.problem
    m = p.model
    ev = sol.evaluation
    assert ev is not None
    t0 = time.perf_counter()
    routing = getattr(prepared, "routing", {}) or {}
    rep_t = routing.get(m.time_matrix or next(iter(p.travel_times)))
    rep_d = routing.get(m.distance_matrix) if m.distance_matrix else None
    staffed = np.flatnonzero(ev.plan.open & (ev.plan.vehicles >= 1))
    cls = p.demand.demand_class
    budgets = {
        c: v - m.dispatch_min for c, v in _class_limits(m.response_min, cls).items()
    }  # driving minutes
    radii = _class_limits(m.radius_m, cls) if m.radius_m is not None else {}
    cov, applies = coverage_matrix(p)
    rows: list[dict[str, Any]] = []
    geoms: list[shapely.Geometry] = []
    net_ok = (
        rep_t is not None
        and rep_t.road_network is not None
        and (not radii or (rep_d is not None and rep_d.road_network is not None))
    )
    if net_ok and staffed.size and budgets:
        assert rep_t is not None and rep_t.road_network is not None
        shapes: dict[str, EdgeShapes] = {}
        by_time = _areas(rep_t, staffed, sorted(set(budgets.values())), buffer_m, shapes)
        by_dist = (
            _areas(rep_d, staffed, sorted(set(radii.values())), buffer_m, shapes) if radii else {}
        )
        for c, minutes in sorted(budgets.items()):
            reach = _residents_within(sol, cov, applies, c)
            for j in staffed:
                poly = by_time.get((int(j), minutes))
                if poly is not None and c in radii:
                    disk = by_dist.get((int(j), radii[c]))
                    poly = None if disk is None else shapely.intersection(poly, disk)
                if poly is None or poly.is_empty:
                    continue
                rows.append(
                    {
                        "site_id": str(p.sites.ids[j]),
                        "facility_type": str(p.sites.facility_type[j]),
                        "standard": "ems",
                        "threshold": minutes + m.dispatch_min,
                        "unit": "min",
                        "drive_min": minutes,
                        "radius_m": radii.get(c),
                        "demand_class": c,
                        "ambulances": int(ev.plan.vehicles[j]),
                        "method": "network",
                        "network": rep_t.network,
                        "buffer_m": buffer_m,
                        "area_km2": round(polygon_area_km2(poly), 4),
                        "residents_within": round(float(reach[j]), 3),
                    }
                )
                geoms.append(_multi(poly))
    else:
        log.info("120 catchments skipped: the time (or distance) table has no road network")
    return _catchment_layer(rows, geoms, buffer_m, t0)


def _areas(
    rep: Any,
    staffed: np.ndarray,
    values: list[float],
    buffer_m: float,
    shapes: dict[str, EdgeShapes],
) -> dict[tuple[int, float], shapely.Geometry]:
    """Network service areas of the staffed stations at each value (minutes or metres)."""
    net = rep.road_network
    if net.name not in shapes:
        shapes[net.name] = EdgeShapes.of(net)
    return network_service_areas(
        net,
        rep.profile,
        rep.sites_snap,
        staffed,
        values,
        measure=rep.measure,
        direction=rep.direction,
        buffer_m=buffer_m,
        shapes=shapes[net.name],
    )


def _residents_within(
    sol: EmsSolution, cov: sp.csr_matrix, applies: np.ndarray, c: str
) -> np.ndarray:
    """Per site: residents of demand class ``c`` (all when "") it covers by the tables."""
    p = sol.problem
    cls = p.demand.demand_class
    w = p.demand.residents
    in_class = applies & (np.ones(len(w), bool) if not c else np.asarray(cls == c))
    return np.asarray(cov.T.astype(float) @ np.where(in_class, w, 0.0)).ravel()


def _catchment_layer(
    rows: list[dict[str, Any]], geoms: list[shapely.Geometry], buffer_m: float, t0: float
) -> Layer:
    """The catchments layer of the rows, sorted by site and demand class."""
    cols = [
        "site_id",
        "facility_type",
        "standard",
        "threshold",
        "unit",
        "drive_min",
        "radius_m",
        "demand_class",
        "ambulances",
        "method",
        "network",
        "buffer_m",
        "area_km2",
        "residents_within",
    ]
    frame = pd.DataFrame(rows, columns=cols)
    order = (
        frame.sort_values(["site_id", "demand_class"], kind="stable").index.to_numpy()
        if len(frame)
        else np.zeros(0, dtype=np.int64)
    )
    log.info("120 catchments: %d polygons in %.2f s", len(frame), time.perf_counter() - t0)
    return Layer(
        "catchments",
        frame.iloc[order].reset_index(drop=True),
        np.asarray(geoms, dtype=object)[order] if geoms else np.zeros(0, dtype=object),
        "MultiPolygon",
        "service area of each staffed station per demand class: road pieces reachable within "
        f"the driving budget (response standard minus dispatch), intersected with those within "
        f"the service radius by road when set; buffered {buffer_m:g} m. Coverage flags come "
        "from the travel-time and distance tables, not from these polygons.",
    )
