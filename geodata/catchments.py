"""Service areas (catchments) of open sites on the road network, as polygons for GIS layers.

Method (documented in the README and recorded on every polygon):

1. The same routing graph the travel-time table was computed on: the road network under the
   table's speed profile (minutes, or metres for distance standards) with the site as a virtual
   node on its snapped edge, its off-road access leg included; reversed for ``demand_to_site``
   tables (residents travelling to the site), as in :mod:`geodata.matrix`.
2. A bounded Dijkstra from each site gives the cost ``d(x)`` of every road node within the
   threshold ``T``. Every arc whose tail is reached contributes the piece of its road geometry
   that the remaining budget ``T - d(tail)`` covers (whole edges inside, partial edges at the
   frontier), plus the reachable part of the site's own edge.
3. The union of these road pieces is buffered by ``buffer_m`` (default 100 m, ArcGIS Network
   Analyst's default trim distance for detailed service areas) and simplified to a quarter of
   the buffer.

The polygon shows where the road network reaches within the standard. Whether a resident is
*covered* is decided by the travel-time table (demand layer's ``covered_*`` flags), not by the
polygon: a village inside the polygon but farther than the snapping distance from the road may
be uncovered, and vice versa at the buffer's edge.

Tables not computed on a network (a precomputed OD file) have no road geometry; their catchment
is the convex hull of the demand points the site covers plus the site, buffered by ``buffer_m``
(method ``demand_hull``).
"""

from __future__ import annotations

import logging
import os
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import shapely
import shapely.ops

from .crs import transformer, utm_crs_for
from .matrix import augmented_graph, node_distances
from .network import RoadNetwork
from .snap import Snapped
from .speeds import SpeedProfile

__all__ = [
    "DEFAULT_BUFFER_M",
    "EdgeShapes",
    "demand_hull_areas",
    "network_service_areas",
    "polygon_area_km2",
]

log = logging.getLogger(__name__)

DEFAULT_BUFFER_M = 100.0


@dataclass(frozen=True, eq=False)
class EdgeShapes:
    """Every edge of a network as a metric LineString (from its geometry or its end nodes)."""

    network: RoadNetwork
    lines: np.ndarray
    """shapely LineStrings in ``network.crs`` (metres), one per edge, oriented u -> v."""
    twin: np.ndarray
    """Per edge, the lowest index of the edges with the same end nodes (either way) and length:
    the two directions of a two-way road share one shape."""

    @classmethod
    def of(cls, network: RoadNetwork) -> EdgeShapes:
        geoms = network.geometry
        counts = np.full(network.n_edges, 2, dtype=np.int64)
        shaped = np.zeros(network.n_edges, dtype=bool)
        if geoms is not None:
            for e, g in enumerate(geoms):
                if g is not None and len(g) >= 2:
                    counts[e], shaped[e] = len(g), True
        start = np.r_[0, np.cumsum(counts)[:-1]]
        lon = np.empty(int(counts.sum()))
        lat = np.empty_like(lon)
        plain = ~shaped
        lon[start[plain]], lat[start[plain]] = (
            network.lon[network.u[plain]],
            network.lat[network.u[plain]],
        )
        lon[start[plain] + 1] = network.lon[network.v[plain]]
        lat[start[plain] + 1] = network.lat[network.v[plain]]
        if shaped.any():
            assert geoms is not None
            idx = np.flatnonzero(shaped)
            pts = np.concatenate([geoms[e] for e in idx])
            pos = np.concatenate([np.arange(start[e], start[e] + counts[e]) for e in idx])
            lon[pos], lat[pos] = pts[:, 0], pts[:, 1]
        x, y = transformer("EPSG:4326", network.crs).transform(lon, lat)
        owner = np.repeat(np.arange(network.n_edges), counts)
        lines = shapely.linestrings(np.c_[x, y], indices=owner)
        key = np.c_[
            np.minimum(network.u, network.v),
            np.maximum(network.u, network.v),
            np.round(network.length_m, 1),
        ]
        _, first, inverse = np.unique(key, axis=0, return_index=True, return_inverse=True)
        return cls(network, np.asarray(lines, dtype=object), first[inverse.ravel()])


def _edge_weights(network: RoadNetwork, profile: SpeedProfile, measure: str) -> np.ndarray:
    w = network.edge_minutes(profile)
    if measure == "distance":
        w = np.where(np.isfinite(w), network.length_m, np.inf)
    return w


def _arcs(
    network: RoadNetwork, weights: np.ndarray, profile: SpeedProfile, reverse: bool
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Arcs of the routing graph as ``(tail node, edge, tail is the edge's u end, weight)``."""
    ok = np.flatnonzero(np.isfinite(weights) & (network.u != network.v))
    w = np.maximum(weights[ok], 1e-9)
    if profile.ignore_oneway:
        tails = np.r_[network.u[ok], network.v[ok]]
        at_u = np.r_[np.ones(ok.size, bool), np.zeros(ok.size, bool)]
        return tails, np.r_[ok, ok], at_u, np.r_[w, w]
    if reverse:  # travelling u -> v towards the site: the reached end is v
        return network.v[ok], ok, np.zeros(ok.size, bool), w
    return network.u[ok], ok, np.ones(ok.size, bool), w


def _piece(line: shapely.LineString, lo: float, hi: float) -> shapely.Geometry | None:
    lo, hi = max(0.0, lo), min(1.0, hi)
    if hi - lo <= 1e-9:
        return None
    if lo <= 0.0 and hi >= 1.0:
        return line
    return shapely.ops.substring(line, lo, hi, normalized=True)


@dataclass(frozen=True)
class _Walk:
    """The arcs a service area walks along: per arc its tail node, edge, side and weight."""

    network: RoadNetwork
    shapes: EdgeShapes
    profile: SpeedProfile
    weights: np.ndarray
    reverse: bool
    tails: np.ndarray
    arc_edge: np.ndarray
    at_u: np.ndarray
    arc_w: np.ndarray


def _pieces(
    walk: _Walk, dist: np.ndarray, thr: float, left: float, own: np.ndarray, at: tuple[int, float]
) -> list[shapely.Geometry]:
    """The road pieces reached within ``thr`` from one site: whole edges, the reached part of
    the edges beyond (``dist``: node distances from the site), and the part of the site's own
    edge (``own``; ``left``: the budget after the access leg; ``at``: its node a and position)."""
    network, shapes, profile, weights = walk.network, walk.shapes, walk.profile, walk.weights
    reverse, arc_edge, at_u = walk.reverse, walk.arc_edge, walk.at_u
    a, t = at
    budget = thr - dist[walk.tails]
    reach = np.flatnonzero(budget > 0)
    frac = np.minimum(1.0, budget[reach] / walk.arc_w[reach])
    pieces: list[shapely.Geometry] = []
    full = frac >= 1.0
    whole = np.unique(shapes.twin[arc_edge[reach[full]]])
    pieces += list(shapes.lines[whole])
    done = np.zeros(network.n_edges, dtype=bool)
    done[whole] = True
    for r, f in zip(reach[~full], frac[~full], strict=True):
        if done[shapes.twin[arc_edge[r]]]:
            continue
        line = shapes.lines[arc_edge[r]]
        p = _piece(line, 0.0, f) if at_u[r] else _piece(line, 1.0 - f, 1.0)
        if p is not None:
            pieces.append(p)
    for e in own if left > 0 else ():
        # along the site's own edge, in the directions travel may take (one-way aware)
        f = left / float(weights[e])
        pos = t if network.u[e] == a else 1.0 - t
        lo_f = pos - f if reverse or profile.ignore_oneway else pos
        hi_f = pos + f if not reverse or profile.ignore_oneway else pos
        p = _piece(shapes.lines[e], lo_f, hi_f)
        if p is not None:
            pieces.append(p)
    return pieces


def _area(pieces: list[shapely.Geometry], buffer_m: float) -> shapely.Geometry:
    """The buffered union of one site's road pieces (metric CRS)."""
    # buffering each piece and uniting the polygons is ~15x faster than buffering the union
    # of the lines (GEOS nodes the lines first)
    parts = shapely.simplify(np.asarray(pieces, dtype=object), buffer_m / 5)
    poly = shapely.union_all(shapely.buffer(parts, buffer_m, quad_segs=4))
    return shapely.simplify(poly, buffer_m / 4)


def network_service_areas(
    network: RoadNetwork,
    profile: SpeedProfile,
    sites: Snapped,
    site_positions: np.ndarray,
    thresholds: list[float],
    *,
    measure: str = "time",
    direction: str = "demand_to_site",
    buffer_m: float = DEFAULT_BUFFER_M,
    shapes: EdgeShapes | None = None,
) -> dict[tuple[int, float], shapely.Geometry]:
    """Service-area polygon (WGS-84 lon/lat) of each site in ``site_positions`` per threshold.

    ``sites`` are the snapped sites of the table (all of them, as the routing report keeps
    them); ``site_positions`` selects the open ones. Returns ``{(position, threshold): polygon}``
    (sites that are not snapped get no polygon).
    """
    site_positions = np.asarray(site_positions, dtype=np.int64)
    snapped = site_positions[sites.ok[site_positions]]
    out: dict[tuple[int, float], shapely.Geometry] = {}
    if snapped.size == 0 or not thresholds:
        return out
    shapes = shapes if shapes is not None and shapes.network is network else EdgeShapes.of(network)
    base = network.graph(profile, measure)
    access_per_m = 1.0 if measure == "distance" else 1.0 / (profile.access_kph * 1000.0 / 60.0)
    mask = np.zeros(sites.a.size, dtype=bool)
    mask[snapped] = True
    sub = sites.without(~mask)
    road = (network.u, *network.road_weights(profile, measure))
    graph, (vid,) = augmented_graph(base, [sub], access_per_m=access_per_m, road=road)
    reverse = direction == "demand_to_site" and not profile.ignore_oneway
    if reverse:
        graph = graph.T.tocsr()
    limit = float(max(thresholds))
    n = network.n_nodes
    spos, tpos, val = node_distances(graph, vid[snapped], np.arange(n), limit=limit, workers=1)
    order = np.argsort(spos, kind="stable")
    spos, tpos, val = spos[order], tpos[order], val[order]
    bounds = np.searchsorted(spos, np.arange(snapped.size + 1))
    weights = _edge_weights(network, profile, measure)
    tails, arc_edge, at_u, arc_w = _arcs(network, weights, profile, reverse)
    # the site's own edge, looked up by its (min, max) node pair among usable edges
    usable = np.flatnonzero(np.isfinite(weights))
    pair_key = (
        np.minimum(network.u, network.v)[usable] * n + np.maximum(network.u, network.v)[usable]
    )
    key_order = np.argsort(pair_key, kind="stable")
    sorted_keys = pair_key[key_order]
    to_wgs = transformer(network.crs, "EPSG:4326")
    walk = _Walk(network, shapes, profile, weights, reverse, tails, arc_edge, at_u, arc_w)
    pending: dict[tuple[int, float], Future[shapely.Geometry]] = {}
    # the pieces are gathered here (Python) while worker threads buffer and unite them (GEOS,
    # without the GIL): 1.9 s -> 0.9 s of union on the default case's 54 areas with 2 threads
    with ThreadPoolExecutor(max_workers=min(4, os.cpu_count() or 1)) as pool:
        for k, j in enumerate(snapped):
            dist = np.full(n, np.inf)
            sl = slice(bounds[k], bounds[k + 1])
            dist[tpos[sl]] = val[sl]
            acc = float(sites.distance_m[j]) * access_per_m
            a, b, t = int(sites.a[j]), int(sites.b[j]), float(sites.t[j])
            lo, hi = np.searchsorted(sorted_keys, [a * n + b, a * n + b + 1])
            own = usable[key_order[lo:hi]]  # the site's edge, each direction the mode may use
            if sites.edge is not None and sites.edge[j] >= 0:  # not a parallel road
                own = own[road[3][own] == road[3][sites.edge[j]]]
            for thr in sorted(set(thresholds)):
                pieces = _pieces(walk, dist, float(thr), thr - acc, own, (a, t))
                if pieces:
                    pending[(int(j), float(thr))] = pool.submit(_area, pieces, buffer_m)
        for key, done in pending.items():
            out[key] = shapely.transform(
                done.result(), lambda xy: np.c_[to_wgs.transform(xy[:, 0], xy[:, 1])]
            )
    log.info(
        "Service areas on %s: %d sites x %d thresholds in %s",
        network.name,
        snapped.size,
        len(set(thresholds)),
        f"{measure}",
    )
    return out


def demand_hull_areas(
    site_lon: np.ndarray,
    site_lat: np.ndarray,
    demand_lon: np.ndarray,
    demand_lat: np.ndarray,
    members: list[np.ndarray],
    *,
    buffer_m: float = DEFAULT_BUFFER_M,
) -> list[shapely.Geometry]:
    """Convex hull of each site with the demand points it covers, buffered (WGS-84 lon/lat)."""
    lon_all = np.r_[site_lon, demand_lon]
    lat_all = np.r_[site_lat, demand_lat]
    crs = utm_crs_for(lon_all, lat_all)
    fwd, back = transformer("EPSG:4326", crs), transformer(crs, "EPSG:4326")
    sx, sy = fwd.transform(site_lon, site_lat)
    dx, dy = fwd.transform(demand_lon, demand_lat)
    out = []
    for k, idx in enumerate(members):
        pts = np.c_[np.r_[sx[k], dx[idx]], np.r_[sy[k], dy[idx]]]
        hull = shapely.convex_hull(shapely.multipoints(pts))
        poly = shapely.simplify(shapely.buffer(hull, buffer_m), buffer_m / 4)
        out.append(shapely.transform(poly, lambda xy: np.c_[back.transform(xy[:, 0], xy[:, 1])]))
    return out


def polygon_area_km2(geom: shapely.Geometry) -> float:
    """Area of a WGS-84 lon/lat polygon in km² (in the UTM zone of its centre)."""
    if geom is None or geom.is_empty:
        return 0.0
    c = geom.centroid
    fwd = transformer("EPSG:4326", utm_crs_for(np.array([c.x]), np.array([c.y])))
    metric = shapely.transform(geom, lambda xy: np.c_[fwd.transform(xy[:, 0], xy[:, 1])])
    return float(metric.area) / 1e6
