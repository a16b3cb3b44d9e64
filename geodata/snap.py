"""Snap points (villages, grid cells, sites) to the nearest reachable network node, vectorised.

Points are projected into the network's metric CRS and matched with a k-d tree against the nodes
of the largest strongly connected component of the travel mode (so nobody is snapped onto an
island they cannot leave). The straight-line leg to that node is counted as off-network access
time at the profile's access speed. Points farther than ``max_snap_m`` from any such node, or
outside the network's extent, are reported by id - never silently snapped.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.spatial import cKDTree

from .crs import transformer
from .network import RoadNetwork

__all__ = ["Snapped", "snap_points"]


@dataclass(frozen=True, eq=False)
class Snapped:
    node: np.ndarray
    """Network node index of each point (-1 where not snapped)."""
    distance_m: np.ndarray
    access_min: np.ndarray
    far: np.ndarray
    """Farther than the allowed snapping distance from any reachable node."""
    outside: np.ndarray
    """Outside the network's extent (bounding box plus the snapping distance)."""

    @property
    def ok(self) -> np.ndarray:
        return (self.node >= 0) & ~self.far & ~self.outside


def snap_points(
    network: RoadNetwork,
    lon: np.ndarray,
    lat: np.ndarray,
    *,
    allowed: np.ndarray | None = None,
    max_snap_m: float = 1000.0,
    access_kph: float = 4.5,
) -> Snapped:
    """Nearest allowed node of each WGS-84 point, with distance and access time."""
    lon = np.asarray(lon, dtype=float)
    lat = np.asarray(lat, dtype=float)
    x, y = transformer("EPSG:4326", network.crs).transform(lon, lat)
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    nodes = np.flatnonzero(allowed) if allowed is not None else np.arange(network.n_nodes)
    tree = cKDTree(np.c_[network.x[nodes], network.y[nodes]])
    finite = np.isfinite(x) & np.isfinite(y)
    dist = np.full(lon.size, np.inf)
    node = np.full(lon.size, -1, dtype=np.int64)
    if finite.any():
        d, k = tree.query(np.c_[x[finite], y[finite]], k=1)
        dist[finite] = d
        node[finite] = nodes[k]
    x0, x1 = network.x.min() - max_snap_m, network.x.max() + max_snap_m
    y0, y1 = network.y.min() - max_snap_m, network.y.max() + max_snap_m
    outside = ~finite | (x < x0) | (x > x1) | (y < y0) | (y > y1)
    far = dist > max_snap_m
    access = dist / (access_kph * 1000.0 / 60.0)
    return Snapped(node, dist, access, far & ~outside, outside)
