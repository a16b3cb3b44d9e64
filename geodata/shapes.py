"""Road shapes of network edges: read them from WKT tables, orient and check them.

An edge's shape is its road's line as an ``(k, 2)`` array of lon/lat from node ``u`` to node
``v`` (osmnx's ``geometry`` attribute, or a ``geometry_wkt`` column of an edge table); edges
without one are straight between their end nodes. Snapping, the partial-edge legs and the
catchment polygons all follow the shape.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np

__all__ = ["checked_shapes", "wkt_shapes"]

log = logging.getLogger(__name__)

_SHAPE_END_TOL_DEG = 5e-4
"""How far (degrees, ~50 m) a shape's end may lie from its edge's node before it is an error."""


def wkt_shapes(edges: Any, name: str) -> np.ndarray | None:
    """Edge shapes from a WKT column of an edge table (None where the cell is empty)."""
    import shapely

    col = next((c for c in ("geometry_wkt", "geometry") if c in edges.columns), None)
    if col is None:
        return None
    text = edges[col].to_numpy(dtype=object)
    out = np.empty(text.size, dtype=object)
    for k, w in enumerate(text):
        if not isinstance(w, str) or not w.strip():
            out[k] = None
            continue
        try:
            geom = shapely.from_wkt(w)
        except shapely.errors.GEOSException as exc:
            raise ValueError(
                f"network {name}: edge row {k + 1} ({col}) is not valid WKT ({exc}); "
                "give a LINESTRING in lon/lat or leave the cell empty"
            ) from None
        if geom.geom_type != "LineString" or geom.is_empty:
            raise ValueError(
                f"network {name}: edge row {k + 1} ({col}) is a {geom.geom_type}, not a "
                "LINESTRING; give the road's line in lon/lat or leave the cell empty"
            )
        out[k] = np.asarray(geom.coords, dtype=float)[:, :2]
    return out if any(g is not None for g in out) else None


def checked_shapes(
    name: str,
    geometry: np.ndarray | None,
    lon: np.ndarray,
    lat: np.ndarray,
    u: np.ndarray,
    v: np.ndarray,
) -> np.ndarray | None:
    """Edge shapes oriented u -> v, their ends pinned to the end nodes.

    A shape drawn v -> u is turned round. A shape whose ends lie more than ~50 m from its nodes
    (a broken export, another edge's line) cannot be trusted: it is dropped, the edge is drawn
    straight between its nodes, and a warning names the edges. Shapes in a projected CRS (every
    end far off) are an error.
    """
    if geometry is None:
        return None
    out = np.empty(len(geometry), dtype=object)
    bad: list[str] = []
    for e, g in enumerate(geometry):
        if g is None:
            out[e] = None
            continue
        g = np.asarray(g, dtype=float)[:, :2]
        if g.shape[0] < 2 or not np.isfinite(g).all():
            out[e] = None
            continue
        start = np.array([lon[u[e]], lat[u[e]]])
        end = np.array([lon[v[e]], lat[v[e]]])
        fwd = max(np.abs(g[0] - start).max(), np.abs(g[-1] - end).max())
        back = max(np.abs(g[-1] - start).max(), np.abs(g[0] - end).max())
        if back < fwd:
            g, fwd = g[::-1], back
        if fwd > _SHAPE_END_TOL_DEG:
            bad.append(
                f"edge {e + 1} (u={u[e]}, v={v[e]}): ends {fwd * 111e3:,.0f} m from its nodes"
            )
            out[e] = None
            continue
        g = g.copy()
        g[0], g[-1] = start, end
        out[e] = g
    shaped = sum(g is not None for g in geometry)
    if bad and len(bad) == shaped:
        raise ValueError(
            f"network {name}: no edge shape joins its end nodes ({bad[0]}); shapes must be "
            "lon/lat lines from node u to node v"
        )
    if bad:
        log.warning(
            "network %s: %d of %d edge shapes do not join their end nodes and are drawn straight "
            "instead: %s",
            name,
            len(bad),
            shaped,
            "; ".join(bad[:3]),
        )
    return out
