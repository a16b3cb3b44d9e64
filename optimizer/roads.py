"""The run's road network as a light base layer (``roads``): offline maps show real streets.

Each road network a travel-time table of the run was routed on becomes one layer of lines in
WGS-84: both directions of a two-way street are drawn once, each shape is simplified
(Douglas-Peucker, :data:`SIMPLIFY_DEG` ≈ 11 m) and its coordinates rounded to 6 decimals, so a
county network of 10^4 edges stays a few hundred kilobytes in the report. Attributes: the
network's name, the OSM ``highway`` class and the length in metres (of the full, unsimplified
edge). Runs on precomputed travel-time tables (no network) have no roads layer.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import pandas as pd
import shapely

__all__ = ["SIMPLIFY_DEG", "roads_layer"]

log = logging.getLogger(__name__)

SIMPLIFY_DEG = 1e-4
"""Simplification tolerance in degrees (≈ 11 m north-south): invisible at county zoom."""
MAJOR = ("motorway", "trunk", "primary", "secondary", "tertiary")
"""OSM classes drawn a little heavier on the maps."""


def _networks(prepared: Any) -> list[Any]:
    """Distinct road networks the run's travel-time tables were routed on."""
    seen: dict[str, Any] = {}
    for rep in (getattr(prepared, "routing", None) or {}).values():
        net = getattr(rep, "road_network", None)
        if net is not None and net.name not in seen:
            seen[net.name] = net
    return list(seen.values())


def _edge_lines(net: Any) -> tuple[list[shapely.LineString], list[int]]:
    """One simplified WGS-84 LineString per undirected edge, and the edge index it came from."""
    u, v = np.asarray(net.u), np.asarray(net.v)
    lo, hi = np.minimum(u, v), np.maximum(u, v)
    key = pd.DataFrame({"lo": lo, "hi": hi, "len": np.round(np.asarray(net.length_m), 0)})
    first = ~key.duplicated()  # a two-way street once
    lines: list[shapely.LineString] = []
    edges: list[int] = []
    geoms = net.geometry
    for e in np.flatnonzero(first.to_numpy()):
        g = None if geoms is None else geoms[e]
        if g is not None and len(g) >= 2:
            coords = np.asarray(g, dtype=float)
        else:
            coords = np.array([[net.lon[u[e]], net.lat[u[e]]], [net.lon[v[e]], net.lat[v[e]]]])
        line = shapely.simplify(shapely.linestrings(np.round(coords, 6)), SIMPLIFY_DEG)
        if line.is_empty or shapely.length(line) == 0:
            continue  # a loop or zero-length edge: nothing to draw, and invalid in a GIS
        lines.append(line)
        edges.append(int(e))
    return lines, edges


def roads_layer(prepared: Any) -> Any | None:
    """The ``roads`` :class:`optimizer.outputs.layers.Layer` of a run, or None without a road network."""
    from optimizer.outputs.layers import Layer

    nets = _networks(prepared)
    if not nets:
        return None
    frames, geoms = [], []
    for net in nets:
        lines, edges = _edge_lines(net)
        highway = np.asarray(net.highway, dtype=object)[edges]
        frames.append(
            pd.DataFrame(
                {
                    "network": net.name,
                    "highway": [str(h) for h in highway],
                    "major": [int(str(h).split("_")[0] in MAJOR) for h in highway],
                    "length_m": np.round(np.asarray(net.length_m, dtype=float)[edges], 1),
                }
            )
        )
        geoms += lines
    frame = pd.concat(frames, ignore_index=True)
    log.info("Roads layer: %s lines from %d network(s)", f"{len(frame):,}", len(nets))
    return Layer(
        "roads",
        frame,
        np.asarray(geoms, dtype=object),
        "LineString",
        "the road network the travel times were computed on (both directions of a street drawn "
        f"once, shapes simplified to {SIMPLIFY_DEG:g}°): a base layer for offline maps",
    )
