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

from dataclasses import dataclass

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

    @property
    def ok(self) -> np.ndarray:
        return (self.a >= 0) & ~self.far & ~self.outside

    def without(self, mask: np.ndarray) -> Snapped:
        """The same snaps with the points in ``mask`` marked as not snapped."""
        a = np.where(mask, -1, self.a)
        b = np.where(mask, -1, self.b)
        return Snapped(a, b, self.t, self.distance_m, self.far, self.outside)


def _segments(
    network: RoadNetwork, edges: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Straight segments of the given edges in the metric CRS.

    Returns ``(coords (m, 2, 2), edge index, cumulative length before the segment, edge length)``.
    """
    fwd = transformer("EPSG:4326", network.crs)
    starts, ends, owner, before = [], [], [], []
    edge_len = np.zeros(network.n_edges)
    geoms = network.geometry
    for e in edges:
        if geoms is not None and geoms[e] is not None:
            lon, lat = geoms[e][:, 0], geoms[e][:, 1]
            x, y = fwd.transform(lon, lat)
            pts = np.c_[x, y]
        else:
            pts = np.array(
                [
                    [network.x[network.u[e]], network.y[network.u[e]]],
                    [network.x[network.v[e]], network.y[network.v[e]]],
                ]
            )
        seg_len = np.hypot(*np.diff(pts, axis=0).T)
        cum = np.r_[0.0, np.cumsum(seg_len)[:-1]]
        starts.append(pts[:-1])
        ends.append(pts[1:])
        owner.append(np.full(len(seg_len), e))
        before.append(cum)
        edge_len[e] = seg_len.sum()
    s = np.concatenate(starts)
    t = np.concatenate(ends)
    return np.stack([s, t], axis=1), np.concatenate(owner), np.concatenate(before), edge_len


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
        dist[idx] = d
    x0, x1 = network.x.min() - max_snap_m, network.x.max() + max_snap_m
    y0, y1 = network.y.min() - max_snap_m, network.y.max() + max_snap_m
    outside = ~finite | (x < x0) | (x > x1) | (y < y0) | (y > y1)
    far = (dist > max_snap_m) & ~outside
    return Snapped(a, b, t, dist, far, outside)
