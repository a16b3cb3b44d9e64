"""GIS layers of a run: one GeoPackage (QGIS) plus GeoJSON (web maps), written atomically.

``layers.gpkg`` - in the case's demand CRS (the CRS the GIS team works in):

``candidate_sites``
    every site (sites.csv): type, zone, existing, cost, chosen, status, residents served.
``chosen_sites``
    the open sites only (new and kept), same fields.
``demand``
    every demand point (demand.csv): weight, ``covered_<standard>`` (1/0, null if not subject),
    nearest open site of each type and its travel time or distance.
``uncovered_demand``
    one row per demand point and standard it misses: the point's threshold, the nearest open
    site of the standard's types on the standard's table and its value (null: beyond the table).
``catchments``
    one polygon per open site, standard and threshold: the area the road network reaches within
    the standard (method in :mod:`geodata.catchments`), with the residents it covers.
``zones``
    townships with zones.csv's compliance figures; polygons from the case (``zones.geometry``) or
    the hull of the zone's demand points (``approximate`` = 1).

GCJ-02 / BD-09 inputs are written back in those coordinates under a custom geographic CRS named
after them (no EPSG code exists; PROJ cannot convert them), and again in WGS-84 as
``layers_wgs84.gpkg``. ``geojson/<layer>.geojson`` are always WGS-84 (RFC 7946). ``layers.json``
indexes files, CRS, geometry types, row counts and methods. Reruns are byte-identical (sorted
ids, fixed GeoPackage timestamp).
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import shapely
import shapely.geometry

from geodata.catchments import (
    DEFAULT_BUFFER_M,
    EdgeShapes,
    demand_hull_areas,
    network_service_areas,
    polygon_area_km2,
)
from geodata.crs import from_wgs84, is_china_offset_crs, normalise_crs, to_wgs84
from geodata.zone_shapes import HULL_BUFFER_M, demand_hulls

from .atomic import StagedOutput, atomic_write
from .models.coverage.problem import demand_thresholds
from .models.coverage.solve import CoverageSolution
from .results import demand_table, sites_table, zones_table

__all__ = ["LAYER_NAMES", "Layer", "build_layers", "write_layers", "zone_layer"]

log = logging.getLogger(__name__)

LAYER_NAMES = (
    "candidate_sites",
    "chosen_sites",
    "demand",
    "uncovered_demand",
    "catchments",
    "zones",
)
FIXED_GPKG_DATE = "2000-01-01T00:00:00.000Z"
"""GeoPackage last-change stamp: fixed so that reruns are byte-identical."""

_OFFSET_WKT = """GEOGCRS["{name} (China offset of WGS 84; not an EPSG CRS)",
    DATUM["{name} offset of World Geodetic System 1984",
        ELLIPSOID["WGS 84",6378137,298.257223563,LENGTHUNIT["metre",1]]],
    PRIMEM["Greenwich",0,ANGLEUNIT["degree",0.0174532925199433]],
    CS[ellipsoidal,2],
        AXIS["geodetic latitude (Lat)",north,ORDER[1],ANGLEUNIT["degree",0.0174532925199433]],
        AXIS["geodetic longitude (Lon)",east,ORDER[2],ANGLEUNIT["degree",0.0174532925199433]],
    REMARK["Coordinates as published by Chinese map providers ({name}). PROJ cannot convert them; use layers_wgs84.gpkg with other maps."]]"""


@dataclass
class Layer:
    """One layer: attributes plus WGS-84 geometries, and what it holds."""

    name: str
    frame: pd.DataFrame
    geometry: np.ndarray
    """shapely geometries in WGS-84 lon/lat (None where unknown)."""
    geometry_type: str
    note: str
    native_xy: tuple[np.ndarray, np.ndarray] | None = None
    """For point layers: the input coordinates in the output CRS, kept exact (no round trip)."""


# ---------------------------------------------------------------------------------------------
# Building (WGS-84)
# ---------------------------------------------------------------------------------------------
def _lonlat(x: np.ndarray | None, y: np.ndarray | None, crs: str | None) -> np.ndarray | None:
    if x is None or y is None or crs is None:
        return None
    lon, lat = to_wgs84(np.asarray(x, float), np.asarray(y, float), crs)
    return np.c_[lon, lat]


def _points(ll: np.ndarray, rows: np.ndarray) -> np.ndarray:
    return np.asarray(shapely.points(ll[rows]), dtype=object)


def _nullable_flags(col: pd.Series) -> pd.Series:
    return pd.to_numeric(col.replace("", np.nan), errors="coerce").astype("Int64")


def _order(ids: np.ndarray, sorted_ids: pd.Series) -> np.ndarray:
    """Positions in the arrays (``ids``) of the rows of a table sorted by id."""
    return pd.Index(pd.Series(ids, dtype=object).astype(str)).get_indexer(
        pd.Index(sorted_ids.astype(str))
    )


def site_layers(
    frame: pd.DataFrame,
    s_ll: np.ndarray,
    rows: np.ndarray,
    native: tuple[np.ndarray, np.ndarray] | None,
    chosen: np.ndarray | None,
    about_all: str,
    about_chosen: str,
) -> list[Layer]:
    """``candidate_sites`` (every row of ``frame``) and, once a plan exists, ``chosen_sites``."""
    out = [Layer("candidate_sites", frame, _points(s_ll, rows), "Point", about_all, native)]
    if chosen is not None:
        out.append(
            Layer(
                "chosen_sites",
                frame[chosen].reset_index(drop=True),
                _points(s_ll, rows[chosen]),
                "Point",
                about_chosen,
                None if native is None else (native[0][chosen], native[1][chosen]),
            )
        )
    return out


def build_layers(
    prepared: Any, sol: CoverageSolution, *, buffer_m: float = DEFAULT_BUFFER_M
) -> list[Layer]:
    """Every layer of a run, in WGS-84 (empty list when the demand has no coordinates)."""
    problem = sol.problem
    demand, sites = problem.demand, problem.sites
    d_ll = _lonlat(demand.x, demand.y, demand.crs)
    s_ll = _lonlat(sites.x, sites.y, sites.crs)
    out_crs = normalise_crs(demand.crs) if demand.crs else None
    layers: list[Layer] = []
    ev = sol.evaluation
    if s_ll is not None:
        table = sites_table(sol)
        rows = _order(sites.ids, table["site_id"])
        native = _native(sites.x, sites.y, sites.crs, out_crs, rows)
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
    rows = _order(demand.ids, table["demand_id"])
    native = _native(demand.x, demand.y, demand.crs, out_crs, rows)
    frame = table.drop(columns=["x", "y"], errors="ignore")
    for c in frame.columns:
        if c.startswith("covered_"):
            frame[c] = _nullable_flags(frame[c])
    layers.append(
        Layer(
            "demand",
            frame,
            _points(d_ll, rows),
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


def _native(
    x: np.ndarray | None, y: np.ndarray | None, crs: str | None, out: str | None, rows: np.ndarray
) -> tuple[np.ndarray, np.ndarray] | None:
    if x is None or y is None or crs is None or out is None or normalise_crs(crs) != out:
        return None
    return np.asarray(x, float)[rows], np.asarray(y, float)[rows]


def _uncovered(sol: CoverageSolution, d_ll: np.ndarray) -> Layer:
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
        geoms.append(_points(d_ll, miss[order]))
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


def _catchments(
    prepared: Any, sol: CoverageSolution, d_ll: np.ndarray, s_ll: np.ndarray, buffer_m: float
) -> Layer:
    problem = sol.problem
    demand, sites = problem.demand, problem.sites
    assert sol.evaluation is not None
    ev = sol.evaluation
    t0 = time.perf_counter()
    routing = getattr(prepared, "routing", {}) or {}
    shapes: dict[str, EdgeShapes] = {}
    rows: list[dict[str, Any]] = []
    geoms: list[shapely.Geometry] = []
    for r in ev.standards:
        s = r.coverage.standard
        table = problem.matrix_for(s)
        open_pos = np.flatnonzero(ev.open_mask & r.coverage.site_ok)
        if open_pos.size == 0:
            continue
        thr = r.coverage.threshold
        values = sorted({float(v) for v in thr[np.isfinite(thr)]})
        classes = {
            v: ""
            if not isinstance(s.threshold, dict)
            else ",".join(sorted(k for k, t in s.threshold.items() if float(t) == v))
            for v in values
        }
        rep = routing.get(table.name)
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
            method, network = "network", rep.network
        else:
            areas = {}
            for v in values:
                within = table.within(np.where(thr == v, thr, np.nan), ev.open_mask).tocsc()
                members = [
                    within.indices[within.indptr[j] : within.indptr[j + 1]] for j in open_pos
                ]
                polys = demand_hull_areas(
                    s_ll[open_pos, 0],
                    s_ll[open_pos, 1],
                    d_ll[:, 0],
                    d_ll[:, 1],
                    members,
                    buffer_m=buffer_m,
                )
                areas.update({(int(j), v): p for j, p in zip(open_pos, polys, strict=True)})
            method, network = "demand_hull", ""
        for v in values:
            subject = r.coverage.applies & (thr == v)
            mat = r.coverage.matrix.T.astype(float)
            reach = np.asarray(mat @ np.where(subject, demand.residents, 0.0)).ravel()
            foot = np.asarray(
                mat @ np.where(subject, demand.weight - demand.residents, 0.0)
            ).ravel()
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
                        "demand_class": classes[v],
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
                geoms.append(_multi(poly))
    frame = pd.DataFrame(
        rows,
        columns=[
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
            *(["footfall_within"] if demand.footfall is not None else []),
        ],
    )
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


def _multi(g: shapely.Geometry) -> shapely.Geometry:
    if isinstance(g, shapely.MultiPolygon):
        return g
    if isinstance(g, shapely.Polygon):
        return shapely.MultiPolygon([g])
    polys = [p for p in getattr(g, "geoms", []) if isinstance(p, (shapely.Polygon,))]
    polys += [
        q for p in getattr(g, "geoms", []) if isinstance(p, shapely.MultiPolygon) for q in p.geoms
    ]
    return shapely.MultiPolygon(polys)


def _zones(prepared: Any, sol: CoverageSolution, d_ll: np.ndarray) -> Layer | None:
    problem = sol.problem
    if not problem.zone_ids():
        return None
    return zone_layer(prepared, problem.demand.zone, zones_table(sol), d_ll)


def zone_layer(
    prepared: Any, demand_zone: np.ndarray | None, table: pd.DataFrame, d_ll: np.ndarray
) -> Layer:
    """The zones layer: a zones table (one row per zone_id) with the case's polygons, else the
    hull of each zone's demand points (``approximate`` = 1)."""
    ids = table["zone_id"].astype(str).tolist()
    given = getattr(prepared, "zone_polygons", None) or {}
    missing = [z for z in ids if z not in given]
    hulls = (
        demand_hulls(demand_zone, d_ll[:, 0], d_ll[:, 1], missing)
        if missing and demand_zone is not None
        else {}
    )
    zcfg = getattr(getattr(getattr(prepared, "case", None), "config", None), "zones", None)
    flagged = getattr(zcfg, "geometry_approximate", None)
    geoms, source, approx = [], [], []
    for z in ids:
        if z in given:
            geoms.append(_multi(given[z]))
            source.append(f"case file ({flagged})" if flagged else "case file")
            approx.append(1 if flagged else 0)
        elif z in hulls:
            geoms.append(_multi(hulls[z]))
            source.append(f"hull of the zone's demand points + {HULL_BUFFER_M:g} m (approximate)")
            approx.append(1)
        else:
            geoms.append(None)
            source.append("none (no polygon, no demand points)")
            approx.append(1)
    frame = table.copy()
    frame["geometry_source"] = source
    frame["approximate"] = approx
    unknown = sorted(set(given) - set(ids))
    if unknown:
        log.warning("Zone polygons for unknown zone ids ignored: %s", ", ".join(unknown[:10]))
    return Layer(
        "zones",
        frame,
        np.asarray(geoms, dtype=object),
        "MultiPolygon",
        "zones with the compliance figures of zones.csv; polygons from the case, else the hull "
        "of each zone's demand points (approximate=1)"
        + (f"; boundaries {flagged}" if flagged else ""),
    )


# ---------------------------------------------------------------------------------------------
# Writing
# ---------------------------------------------------------------------------------------------
def output_crs(crs: str) -> tuple[Any, str]:
    """(pyproj CRS for the GeoPackage, text for layers.json) of a case CRS."""
    from pyproj import CRS

    c = normalise_crs(crs)
    if is_china_offset_crs(c):
        return CRS.from_wkt(_OFFSET_WKT.format(name=c)), c
    return CRS.from_user_input(c), c


def _to_crs(geoms: np.ndarray, crs: str) -> np.ndarray:
    """WGS-84 geometries expressed in ``crs`` (EPSG codes, GCJ-02, BD-09)."""
    if normalise_crs(crs) == "EPSG:4326":
        return geoms

    def fn(xy: np.ndarray) -> np.ndarray:
        x, y = from_wgs84(xy[:, 0], xy[:, 1], crs)
        return np.c_[x, y]

    out = np.empty(len(geoms), dtype=object)
    for k, g in enumerate(geoms):
        out[k] = None if g is None else shapely.transform(g, fn)
    return out


def _gdf(layer: Layer, geoms: np.ndarray, crs: Any) -> Any:
    import geopandas as gpd

    return gpd.GeoDataFrame(layer.frame.reset_index(drop=True), geometry=list(geoms), crs=crs)


def _write_gpkg(path: Path, layers: list[Layer], crs_text: str, *, wgs84: bool = False) -> None:
    import pyogrio

    crs, _ = output_crs("EPSG:4326" if wgs84 else crs_text)
    pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": FIXED_GPKG_DATE})
    try:
        for k, layer in enumerate(layers):
            if wgs84:
                geoms = layer.geometry
            elif layer.native_xy is not None:
                geoms = np.asarray(shapely.points(*layer.native_xy), dtype=object)
            else:
                geoms = _to_crs(layer.geometry, crs_text)
            pyogrio.write_dataframe(
                _gdf(layer, geoms, crs),
                path,
                layer=layer.name,
                driver="GPKG",
                geometry_type=layer.geometry_type,
                append=k > 0,
                layer_options={"DESCRIPTION": layer.note},
            )
    finally:
        pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": None})


def _json_value(v: Any) -> Any:
    if v is None or v is pd.NA:
        return None
    if isinstance(v, (np.integer,)):
        return int(v)
    if isinstance(v, (float, np.floating)):
        return None if not np.isfinite(v) else float(v)
    if isinstance(v, np.bool_):
        return bool(v)
    return v


def _round_coords(g: shapely.Geometry, nd: int = 7) -> shapely.Geometry:
    return shapely.transform(g, lambda xy: np.round(xy, nd))


def geojson_text(layer: Layer) -> str:
    """RFC 7946 FeatureCollection (WGS-84, coordinates to 7 decimals ~ 1 cm), deterministic."""
    cols = list(layer.frame.columns)
    records = layer.frame.astype(object).to_numpy()
    feats = []
    for k in range(len(layer.frame)):
        g = layer.geometry[k]
        feats.append(
            {
                "type": "Feature",
                "properties": {c: _json_value(records[k, i]) for i, c in enumerate(cols)},
                "geometry": None if g is None else shapely.geometry.mapping(_round_coords(g)),
            }
        )
    doc = {"type": "FeatureCollection", "name": layer.name, "features": feats}
    return json.dumps(doc, ensure_ascii=False, separators=(",", ":")) + "\n"


def write_layers(
    out: StagedOutput,
    prepared: Any,
    sol: Any,
    *,
    buffer_m: float = DEFAULT_BUFFER_M,
    layers: list[Layer] | None = None,
) -> list[str]:
    """Write layers.gpkg (+ layers_wgs84.gpkg for GCJ-02/BD-09), geojson/*, layers.json.

    ``layers`` are a model family's own (e.g. :func:`optimizer.models.ems.layers.build_ems_layers`);
    by default the coverage layers of ``sol`` are built here."""
    demand = sol.problem.demand
    if layers is None:
        layers = build_layers(prepared, sol, buffer_m=buffer_m)
    if not layers:
        return []
    estimated = {n: r.note() for n, r in (getattr(prepared, "estimates", None) or {}).items()}
    if estimated:  # every layer says so, in its GeoPackage description and in layers.json
        flag = " | TRAVEL TIMES " + "; ".join(f"{n}: {v}" for n, v in sorted(estimated.items()))
        layers = [replace(layer, note=layer.note + flag) for layer in layers]
    crs_text = normalise_crs(demand.crs) if demand.crs else "EPSG:4326"
    if demand.crs is None:  # sites only: keep their own CRS
        crs_text = normalise_crs(sol.problem.sites.crs or "EPSG:4326")
    written: list[str] = []
    out.write_with("layers.gpkg", lambda p: _write_gpkg(p, layers, crs_text))
    written.append("layers.gpkg")
    offset = is_china_offset_crs(crs_text)
    if offset:
        out.write_with("layers_wgs84.gpkg", lambda p: _write_gpkg(p, layers, crs_text, wgs84=True))
        written.append("layers_wgs84.gpkg")
    for layer in layers:
        name = f"geojson/{layer.name}.geojson"
        with atomic_write(out.path(name)) as fh:
            fh.write(geojson_text(layer))
        written.append(name)
    index = {
        "crs": crs_text,
        "crs_note": (
            f"layers.gpkg keeps the input's {crs_text} coordinates under a custom CRS named "
            f"'{crs_text}' (no EPSG code exists and PROJ cannot convert it): it aligns with "
            f"{crs_text} basemaps (高德/腾讯/百度) only. layers_wgs84.gpkg and geojson/ are WGS-84."
            if offset
            else f"layers.gpkg is in the case's demand CRS ({crs_text}); geojson/ is WGS-84."
        ),
        "files": written,
        "layers": [
            {
                "name": layer.name,
                "geometry_type": layer.geometry_type,
                "rows": len(layer.frame),
                "fields": list(map(str, layer.frame.columns)),
                "geojson": f"geojson/{layer.name}.geojson",
                "note": layer.note,
            }
            for layer in layers
        ],
        "travel_times_estimated": estimated,
        "catchment_buffer_m": buffer_m,
        "zone_hull_buffer_m": HULL_BUFFER_M,
    }
    out.json("layers.json", index)
    written.append("layers.json")
    log.info(
        "GIS layers: %s",
        ", ".join(f"{layer.name} ({len(layer.frame):,})" for layer in layers),
    )
    return written
