"""Zone (township / street) polygons for maps and GIS layers.

From the case when it provides them (``zones.geometry``, or the zones file itself when it is a GIS
file with polygons), read and brought to WGS-84; otherwise - and for any zone the file lacks - the
convex hull of the zone's demand points, buffered so that one or two points still give an area,
and flagged as approximate.
"""

from __future__ import annotations

import logging

import numpy as np
import shapely

from optimizer.errors import ProblemCollector

from .crs import transformer, utm_crs_for
from .sources import CaseFiles, Section

__all__ = ["HULL_BUFFER_M", "demand_hulls", "load_zone_polygons", "voronoi_zones"]

log = logging.getLogger(__name__)

HULL_BUFFER_M = 300.0
_GIS = (".gpkg", ".geojson", ".json", ".shp", ".fgb", ".gml", ".kml", ".parquet")


def load_zone_polygons(
    cfg: Section, files: CaseFiles, problems: ProblemCollector
) -> dict[str, shapely.Geometry] | None:
    """Zone id -> (multi)polygon in WGS-84 lon/lat, or ``None`` when the case gives no polygons."""
    explicit = cfg.geometry is not None
    file = cfg.geometry if cfg.geometry is not None else cfg.file
    if not file.lower().endswith(_GIS):
        if explicit:
            problems.add(
                f"{files.label} › zones.geometry",
                "not a GIS file",
                got=file,
                fix="give a GeoPackage, GeoJSON, Shapefile or GeoParquet file with polygons",
            )
        return None
    key = f"{files.label} › zones.{'geometry' if explicit else 'file'}"
    path = files.resolve(file)
    if not path.exists():
        problems.add(key, "file not found", got=file, fix=f"check the path (looked for {path})")
        return None
    import geopandas as gpd

    try:
        layer = cfg.geometry_layer if explicit else cfg.layer
        gdf = (
            gpd.read_parquet(path)
            if path.suffix.lower() == ".parquet"
            else gpd.read_file(path, layer=layer, engine="pyogrio")
        )
    except Exception as exc:  # reader failures are reported with the file
        problems.add(key, f"cannot read the file: {exc}", got=file, fix="check the file")
        return None
    if "geometry" not in gdf or len(gdf) == 0:
        if explicit:
            problems.add(key, "the file has no geometries", got=file, fix="give zone polygons")
        return None
    polygonal = gdf.geometry.notna() & gdf.geometry.geom_type.isin(["Polygon", "MultiPolygon"])
    if not polygonal.any():
        if explicit:
            problems.add(
                key,
                "the file has no polygons",
                got=", ".join(sorted(set(map(str, gdf.geometry.geom_type)))),
                fix="give the zones' boundaries as polygons",
            )
        return None
    id_col = (cfg.geometry_id if explicit else None) or cfg.columns.id
    if id_col not in gdf.columns:
        problems.add(
            f"{key}: column",
            "zone id column not found",
            got=id_col,
            fix=f"set zones.geometry_id to one of: {', '.join(map(str, gdf.columns[:20]))}",
        )
        return None
    if gdf.crs is None:
        problems.add(
            key, "the file has no CRS", got=file, fix="save it with a CRS (e.g. EPSG:4326)"
        )
        return None
    gdf = gdf[polygonal].to_crs("EPSG:4326")
    ids = gdf[id_col].map(_id_text)
    out: dict[str, shapely.Geometry] = {}
    for zid in sorted(set(ids)):
        geom = shapely.union_all(np.asarray(gdf.geometry[ids == zid], dtype=object))
        out[zid] = shapely.make_valid(geom)
    log.info("Zone polygons: %d from %s", len(out), file)
    return out


def _id_text(value: object) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def demand_hulls(
    zone: np.ndarray,
    lon: np.ndarray,
    lat: np.ndarray,
    zone_ids: list[str],
    *,
    buffer_m: float = HULL_BUFFER_M,
) -> dict[str, shapely.Geometry]:
    """Convex hull of each zone's demand points, buffered by ``buffer_m`` (WGS-84 lon/lat)."""
    ok = np.isfinite(lon) & np.isfinite(lat)
    if not ok.any():
        return {}
    crs = utm_crs_for(lon[ok], lat[ok])
    fwd, back = transformer("EPSG:4326", crs), transformer(crs, "EPSG:4326")
    x, y = fwd.transform(lon, lat)
    x, y = np.asarray(x), np.asarray(y)
    out: dict[str, shapely.Geometry] = {}
    zone = np.asarray(zone).astype(str)
    for z in zone_ids:
        m = ok & (zone == z)
        if not m.any():
            continue
        hull = shapely.convex_hull(shapely.multipoints(np.c_[x[m], y[m]]))
        poly = shapely.simplify(shapely.buffer(hull, buffer_m, quad_segs=4), buffer_m / 10)
        out[z] = shapely.transform(poly, lambda xy: np.c_[back.transform(xy[:, 0], xy[:, 1])])
    return out


def voronoi_zones(
    zone: np.ndarray,
    lon: np.ndarray,
    lat: np.ndarray,
    clip: shapely.Geometry | None = None,
    *,
    clip_buffer_m: float = 2000.0,
) -> dict[str, shapely.Geometry]:
    """APPROXIMATE zone polygons from points with known zones (WGS-84 lon/lat).

    Each point's Voronoi cell (computed in a local UTM projection) is clipped to ``clip`` (e.g.
    the county outline or the study area, WGS-84; default: the points' convex hull buffered by
    ``clip_buffer_m``), and the cells of a zone are merged. Where no official boundary is
    available this is the usual stand-in (Thiessen polygons; Okabe et al. 2000, *Spatial
    Tessellations*, 2nd ed.); it is not a legal boundary and must be flagged as approximate."""
    lon = np.asarray(lon, dtype=float)
    lat = np.asarray(lat, dtype=float)
    zone = np.asarray(zone).astype(str)
    ok = np.isfinite(lon) & np.isfinite(lat)
    if not ok.any():
        return {}
    crs = utm_crs_for(lon[ok], lat[ok])
    fwd, back = transformer("EPSG:4326", crs), transformer(crs, "EPSG:4326")
    x, y = (np.asarray(a) for a in fwd.transform(lon[ok], lat[ok]))
    z = zone[ok]
    pts = shapely.points(np.c_[x, y])
    if clip is None:
        area = shapely.buffer(shapely.convex_hull(shapely.multipoints(pts)), clip_buffer_m)
    else:
        area = shapely.make_valid(
            shapely.transform(clip, lambda xy: np.c_[fwd.transform(xy[:, 0], xy[:, 1])])
        )
    # duplicated positions share one cell: give it to the first point there
    _, first = np.unique(np.round(np.c_[x, y], 1), axis=0, return_index=True)
    first = np.sort(first)
    cells = shapely.voronoi_polygons(shapely.multipoints(pts[first]), extend_to=area)
    parts = np.asarray(shapely.get_parts(cells), dtype=object)
    tree = shapely.STRtree(parts)
    owner = tree.query(pts[first], predicate="intersects")
    zone_of_cell = np.full(parts.size, "", dtype=object)
    zone_of_cell[owner[1]] = z[first][owner[0]]
    out: dict[str, shapely.Geometry] = {}
    for zid in sorted(set(map(str, z))):
        mine = parts[zone_of_cell == zid]
        if mine.size == 0:
            continue
        poly = shapely.intersection(shapely.union_all(mine), area)
        poly = shapely.simplify(poly, 20.0)
        out[zid] = shapely.transform(poly, lambda xy: np.c_[back.transform(xy[:, 0], xy[:, 1])])
    return out
