"""Snap points (villages, grid cells, sites) onto the nearest usable road, vectorised.

Each point is projected onto the nearest road *segment* (the edge geometry when the network has
it, else the straight line between the edge's end nodes) among the edges the travel mode may use
inside the largest strongly connected component - so nobody is snapped onto an island they cannot
leave, and a village beside a long county road is not sent to a junction kilometres away. The
straight leg from the point to the road counts as off-network access time at the profile's access
speed. Points farther than ``max_snap_m`` from any usable road, or outside the network's extent,
are reported by id - never silently snapped.

A snap is stored as the undirected edge ``(a, b)`` with ``a < b`` and the fraction ``t`` of the way
from ``a`` to ``b``; :mod:`geodata.matrix` turns it into a virtual node joined to both ends.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import shapely

from .crs import transformer
from .network import RoadNetwork

__all__ = ["Snapped", "snap_points"]


@dataclass(frozen=True, eq=False)
class Snapped:
    a: np.ndarray
    """Lower node index of the snapped edge (-1 where not snapped)."""
    b: np.ndarray
    t: np.ndarray
    """Fraction of the way from node ``a`` to node ``b``."""
    distance_m: np.ndarray
    """Straight-line distance from the point to the road."""
    far: np.ndarray
    """Farther than the allowed snapping distance from any usable road."""
    outside: np.ndarray
    """Outside the network's extent (bounding box plus the snapping distance)."""
    edge: np.ndarray | None = None
    """Index of the network edge each point was snapped onto (-1 where none): the partial legs
    run along this road's own arcs, never along a parallel road between the same nodes."""
    x: np.ndarray | None = None
    """The points in the network's metric CRS (metres): for direct off-road legs."""
    y: np.ndarray | None = None

    @property
    def ok(self) -> np.ndarray:
        return (self.a >= 0) & ~self.far & ~self.outside

    def without(self, mask: np.ndarray) -> Snapped:
        """The same snaps with the points in ``mask`` marked as not snapped."""
        a = np.where(mask, -1, self.a)
        b = np.where(mask, -1, self.b)
        edge = None if self.edge is None else np.where(mask, -1, self.edge)
        return replace(self, a=a, b=b, edge=edge)


def _segments(
    network: RoadNetwork, edges: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Straight segments of the given edges in the metric CRS, vectorised.

    Returns ``(coords (m, 2, 2), edge index, cumulative length before the segment, edge length)``.
    """
    geoms = network.geometry
    # vertices of every edge: its geometry, or its two end nodes
    counts = np.full(edges.size, 2, dtype=np.int64)
    shaped = np.zeros(edges.size, dtype=bool)
    if geoms is not None:
        for k, e in enumerate(edges):
            g = geoms[e]
            if g is not None and len(g) >= 2:
                counts[k] = len(g)
                shaped[k] = True
    lon = np.empty(int(counts.sum()))
    lat = np.empty_like(lon)
    start = np.r_[0, np.cumsum(counts)[:-1]]
    plain = ~shaped
    lon[start[plain]] = network.lon[network.u[edges[plain]]]
    lat[start[plain]] = network.lat[network.u[edges[plain]]]
    lon[start[plain] + 1] = network.lon[network.v[edges[plain]]]
    lat[start[plain] + 1] = network.lat[network.v[edges[plain]]]
    if shaped.any():
        assert geoms is not None
        pts = np.concatenate([geoms[e] for e in edges[shaped]])
        pos = np.concatenate(
            [np.arange(start[k], start[k] + counts[k]) for k in np.flatnonzero(shaped)]
        )
        lon[pos], lat[pos] = pts[:, 0], pts[:, 1]
    x, y = transformer("EPSG:4326", network.crs).transform(lon, lat)
    xy = np.c_[x, y]
    # a segment starts at every vertex except each edge's last one
    is_start = np.ones(lon.size, dtype=bool)
    is_start[start + counts - 1] = False
    first = np.flatnonzero(is_start)
    coords = np.stack([xy[first], xy[first + 1]], axis=1)
    owner_pos = np.repeat(np.arange(edges.size), counts - 1)
    seg_len = np.hypot(*(coords[:, 1] - coords[:, 0]).T)
    cum = np.cumsum(seg_len)
    edge_total = np.add.reduceat(seg_len, np.r_[0, np.cumsum(counts - 1)[:-1]])
    edge_first = np.r_[0, np.cumsum(counts - 1)[:-1]]
    before = cum - seg_len - (cum[edge_first] - seg_len[edge_first])[owner_pos]
    edge_len = np.zeros(network.n_edges)
    edge_len[edges] = edge_total
    return coords, edges[owner_pos], before, edge_len


def snap_points(
    network: RoadNetwork,
    lon: np.ndarray,
    lat: np.ndarray,
    *,
    usable_edges: np.ndarray,
    max_snap_m: float = 1000.0,
) -> Snapped:
    """Project WGS-84 points onto the nearest usable edge."""
    lon = np.asarray(lon, dtype=float)
    lat = np.asarray(lat, dtype=float)
    x, y = transformer("EPSG:4326", network.crs).transform(lon, lat)
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    n = lon.size
    a = np.full(n, -1, dtype=np.int64)
    b = np.full(n, -1, dtype=np.int64)
    t = np.zeros(n)
    edge = np.full(n, -1, dtype=np.int64)
    dist = np.full(n, np.inf)
    finite = np.isfinite(x) & np.isfinite(y)
    edges = np.flatnonzero(usable_edges)
    if finite.any() and edges.size:
        coords, owner, before, edge_len = _segments(network, edges)
        tree = shapely.STRtree(shapely.linestrings(coords))
        pts = shapely.points(x[finite], y[finite])
        (pi, si), d = tree.query_nearest(pts, return_distance=True, all_matches=False)
        # one match per point (all_matches=False); map back to the finite points
        idx = np.flatnonzero(finite)[pi]
        seg = coords[si]
        p = np.c_[x[idx], y[idx]]
        vec = seg[:, 1] - seg[:, 0]
        seglen2 = np.maximum((vec**2).sum(axis=1), 1e-12)
        along = np.clip(((p - seg[:, 0]) * vec).sum(axis=1) / seglen2, 0.0, 1.0)
        e = owner[si]
        frac = (before[si] + along * np.sqrt(seglen2)) / np.maximum(edge_len[e], 1e-9)
        frac = np.clip(frac, 0.0, 1.0)
        u, v = network.u[e], network.v[e]
        flip = u > v
        a[idx] = np.where(flip, v, u)
        b[idx] = np.where(flip, u, v)
        t[idx] = np.where(flip, 1.0 - frac, frac)
        edge[idx] = e
        dist[idx] = d
    x0, x1 = network.x.min() - max_snap_m, network.x.max() + max_snap_m
    y0, y1 = network.y.min() - max_snap_m, network.y.max() + max_snap_m
    outside = ~finite | (x < x0) | (x > x1) | (y < y0) | (y > y1)
    far = (dist > max_snap_m) & ~outside
    return Snapped(a, b, t, dist, far, outside, edge, x, y)
