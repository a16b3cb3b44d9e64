"""GIS layers of a run: the Layer record and the GeoPackage / GeoJSON / shapefile writer.

Each family builds its own layers (``models/<family>/layers.py``) from the helpers here
(coordinates, site and zone layers) and hands them to :func:`write_layers`. The layers of a
coverage run:

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
``roads``
    the road network the travel times were routed on, simplified (:mod:`optimizer.roads`); absent
    when the case gives its travel times as a table.

GCJ-02 / BD-09 inputs are written back in those coordinates under a custom geographic CRS named
after them (no EPSG code exists; PROJ cannot convert them), and again in WGS-84 as
``layers_wgs84.gpkg``. ``geojson/<layer>.geojson`` are always WGS-84 (RFC 7946). ``layers.json``
indexes files, CRS, geometry types, row counts and methods. Reruns are byte-identical (sorted
ids, fixed GeoPackage timestamp).
"""

from __future__ import annotations

import functools
import json
import logging
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import shapely
import shapely.geometry

from geodata.catchments import DEFAULT_BUFFER_M
from geodata.crs import from_wgs84, is_china_offset_crs, normalise_crs, to_wgs84
from geodata.zone_shapes import HULL_BUFFER_M, demand_hulls
from optimizer.qgis import project_qgs, shapefile_field_map, write_layer_styles, write_project
from optimizer.roads import roads_layer

from ..atomic import StagedOutput, atomic_write, write_csv

__all__ = [
    "FIXED_GPKG_DATE",
    "LAYER_NAMES",
    "Layer",
    "geojson_text",
    "id_positions",
    "lonlat",
    "multipolygon",
    "native_coords",
    "nullable_flags",
    "output_crs",
    "points",
    "site_layers",
    "write_layers",
    "zone_layer",
]

log = logging.getLogger(__name__)


LAYER_NAMES = (
    "candidate_sites",
    "chosen_sites",
    "demand",
    "uncovered_demand",
    "catchments",
    "zones",
    "roads",
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
def lonlat(x: np.ndarray | None, y: np.ndarray | None, crs: str | None) -> np.ndarray | None:
    """WGS-84 lon/lat (n x 2) of coordinates in ``crs``; None without coordinates or a CRS."""
    if x is None or y is None or crs is None:
        return None
    lon, lat = to_wgs84(np.asarray(x, float), np.asarray(y, float), crs)
    return np.c_[lon, lat]


def points(ll: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """Point geometries of the lon/lat rows ``rows``."""
    return np.asarray(shapely.points(ll[rows]), dtype=object)


def nullable_flags(col: pd.Series) -> pd.Series:
    """A 1/0 column with empty strings (not subject) as a nullable integer."""
    return pd.to_numeric(col.replace("", np.nan), errors="coerce").astype("Int64")


def id_positions(ids: np.ndarray, sorted_ids: pd.Series) -> np.ndarray:
    """Positions in the arrays (``ids``) of the rows of a table sorted by id."""
    return pd.Index(pd.Series(ids, dtype=object).astype(str)).get_indexer(
        pd.Index(sorted_ids.astype(str))
    )


def native_coords(
    x: np.ndarray | None, y: np.ndarray | None, crs: str | None, out: str | None, rows: np.ndarray
) -> tuple[np.ndarray, np.ndarray] | None:
    """The input coordinates in row order ``rows`` when they already are in the output CRS."""
    if x is None or y is None or crs is None or out is None or normalise_crs(crs) != out:
        return None
    return np.asarray(x, float)[rows], np.asarray(y, float)[rows]


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
    out = [Layer("candidate_sites", frame, points(s_ll, rows), "Point", about_all, native)]
    if chosen is not None:
        out.append(
            Layer(
                "chosen_sites",
                frame[chosen].reset_index(drop=True),
                points(s_ll, rows[chosen]),
                "Point",
                about_chosen,
                None if native is None else (native[0][chosen], native[1][chosen]),
            )
        )
    return out


def multipolygon(g: shapely.Geometry) -> shapely.Geometry:
    """A polygon (or the polygons of a collection) as one MultiPolygon."""
    if isinstance(g, shapely.MultiPolygon):
        return g
    if isinstance(g, shapely.Polygon):
        return shapely.MultiPolygon([g])
    polys = [p for p in getattr(g, "geoms", []) if isinstance(p, (shapely.Polygon,))]
    polys += [
        q for p in getattr(g, "geoms", []) if isinstance(p, shapely.MultiPolygon) for q in p.geoms
    ]
    return shapely.MultiPolygon(polys)


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
            geoms.append(multipolygon(given[z]))
            source.append(f"case file ({flagged})" if flagged else "case file")
            approx.append(1 if flagged else 0)
        elif z in hulls:
            geoms.append(multipolygon(hulls[z]))
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


def to_crs(geoms: np.ndarray, crs: str) -> np.ndarray:
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


def layer_frame(layer: Layer, geoms: np.ndarray, crs: Any) -> Any:
    """A layer's attributes with ``geoms`` as a GeoDataFrame in ``crs``."""
    import geopandas as gpd

    return gpd.GeoDataFrame(layer.frame.reset_index(drop=True), geometry=list(geoms), crs=crs)


def write_gpkg(path: Path, layers: list[Layer], crs_text: str, *, wgs84: bool = False) -> None:
    """Write ``layers`` to one GeoPackage (native CRS, or WGS-84), with fixed timestamps and QGIS styles."""
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
                geoms = to_crs(layer.geometry, crs_text)
            pyogrio.write_dataframe(
                layer_frame(layer, geoms, crs),
                path,
                layer=layer.name,
                driver="GPKG",
                geometry_type=layer.geometry_type,
                append=k > 0,
                layer_options={"DESCRIPTION": layer.note},
                # GeoPackage 1.2: what QGIS 3.22 / GDAL 3.6 read without a version warning
                dataset_options=None if k > 0 else {"VERSION": "1.2"},
            )
        write_layer_styles(path, layers)  # QGIS default style of every layer (optimizer.qgis)
    finally:
        pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": None})


def write_shapefiles(out: StagedOutput, layers: list[Layer], crs_text: str) -> list[str]:
    """``shapefile/<layer>.shp`` (+ .shx .dbf .prj .cpg) in the GeoPackage's CRS, field names cut
    to 10 characters by :func:`optimizer.qgis.shapefile_field_map`; ``shapefile/fields.csv`` maps
    them back. Shapefile has no null integers, so empty flags are written as empty numbers."""
    import pyogrio

    crs, _ = output_crs(crs_text)
    written: list[str] = []
    rows = []
    for layer in layers:
        fields = shapefile_field_map(list(map(str, layer.frame.columns)))
        rows += [(layer.name, short, long) for long, short in fields.items()]
        if layer.native_xy is not None:
            geoms = np.asarray(shapely.points(*layer.native_xy), dtype=object)
        else:
            geoms = to_crs(layer.geometry, crs_text)
        frame = layer_frame(layer, geoms, crs).rename(columns=fields)
        names = [f"shapefile/{layer.name}{ext}" for ext in (".shp", ".shx", ".dbf", ".prj", ".cpg")]
        for name in names[1:]:
            out.path(name)  # sidecar files are published with the .shp
        out.write_with(
            names[0],
            functools.partial(
                pyogrio.write_dataframe,
                frame,
                driver="ESRI Shapefile",
                geometry_type=layer.geometry_type,
                encoding="UTF-8",
            ),
        )
        written += names
    table = pd.DataFrame(rows, columns=["layer", "shapefile_field", "column"])
    write_csv(out.path("shapefile/fields.csv"), table, encoding=out.csv_encoding)
    written.append("shapefile/fields.csv")
    return written


def json_value(v: Any) -> Any:
    """A table cell as a JSON value (None for NA and non-finite numbers)."""
    if v is None or v is pd.NA:
        return None
    if isinstance(v, (np.integer,)):
        return int(v)
    if isinstance(v, (float, np.floating)):
        return None if not np.isfinite(v) else float(v)
    if isinstance(v, np.bool_):
        return bool(v)
    return v


def round_coords(g: shapely.Geometry, nd: int = 7) -> shapely.Geometry:
    """A geometry with coordinates rounded to ``nd`` decimals."""
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
                "properties": {c: json_value(records[k, i]) for i, c in enumerate(cols)},
                "geometry": None if g is None else shapely.geometry.mapping(round_coords(g)),
            }
        )
    doc = {"type": "FeatureCollection", "name": layer.name, "features": feats}
    return json.dumps(doc, ensure_ascii=False, separators=(",", ":")) + "\n"


def write_layers(
    out: StagedOutput,
    prepared: Any,
    sol: Any,
    layers: list[Layer],
    *,
    buffer_m: float = DEFAULT_BUFFER_M,
) -> list[str]:
    """Write layers.gpkg (+ layers_wgs84.gpkg for GCJ-02/BD-09), geojson/*, layers.json.

    ``layers`` are a model family's own (e.g. :func:`optimizer.models.coverage.layers.coverage_layers`);
    ``buffer_m`` is the catchment buffer they were built with, recorded in layers.json."""
    demand = sol.problem.demand
    if not layers:
        return []
    estimated = {n: r.note() for n, r in (getattr(prepared, "estimates", None) or {}).items()}
    if estimated:  # every layer says so, in its GeoPackage description and in layers.json
        flag = " | TRAVEL TIMES " + "; ".join(f"{n}: {v}" for n, v in sorted(estimated.items()))
        layers = [replace(layer, note=layer.note + flag) for layer in layers]
    roads = roads_layer(prepared)  # the network the run routed on, as a base layer
    if roads is not None:
        layers = [*layers, roads]
    crs_text = normalise_crs(demand.crs) if demand.crs else "EPSG:4326"
    if demand.crs is None:  # sites only: keep their own CRS
        crs_text = normalise_crs(sol.problem.sites.crs or "EPSG:4326")
    written: list[str] = []
    out.write_with("layers.gpkg", lambda p: write_gpkg(p, layers, crs_text))
    written.append("layers.gpkg")
    crs, _ = output_crs(crs_text)
    qgs = project_qgs(
        layers,
        gpkg="layers.gpkg",
        crs_wkt=crs.to_wkt(),
        authid=crs_text if crs_text.upper().startswith("EPSG:") else "",
        title=prepared.case.config.name,
    )
    out.write_with("project.qgz", lambda p: write_project(p, qgs))
    written.append("project.qgz")
    if prepared.case.config.output.shapefile:
        written += write_shapefiles(out, layers, crs_text)
    offset = is_china_offset_crs(crs_text)
    if offset:
        out.write_with("layers_wgs84.gpkg", lambda p: write_gpkg(p, layers, crs_text, wgs84=True))
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
