"""Road networks as arrays for routing: :class:`RoadNetwork`, built from an OSM graph or tables.

:class:`RoadNetwork` holds the graph as arrays in a metric CRS chosen automatically (the UTM zone
of the network's centre), with the WGS-84 coordinates kept for outputs. The graphs come from
:mod:`geodata.osm` (local files or osmnx downloads).
"""

from __future__ import annotations

import hashlib
import logging
import re
from dataclasses import dataclass
from typing import Any, Literal

import networkx as nx
import numpy as np
import scipy.sparse as sp

from .crs import transformer, utm_crs_for
from .shapes import checked_shapes, wkt_shapes
from .speeds import SpeedProfile

__all__ = ["RoadNetwork", "parse_duration_min", "parse_maxspeed"]

log = logging.getLogger(__name__)


# ---------------------------------------------------------------------------------------------
# Arrays
# ---------------------------------------------------------------------------------------------
_NUM_RE = re.compile(r"(\d+(?:\.\d+)?)")


def parse_maxspeed(value: object) -> float:
    """km/h from an OSM maxspeed tag ('50', '30 mph', ['40', '60'] -> min), nan if unusable."""
    if value is None:
        return np.nan
    if isinstance(value, (list, tuple)):
        vals = [parse_maxspeed(v) for v in value]
        vals = [v for v in vals if np.isfinite(v)]
        return min(vals) if vals else np.nan
    if isinstance(value, (int, float)):
        return float(value) if value > 0 else np.nan
    text = str(value).strip().lower()
    m = _NUM_RE.search(text)
    if not m:
        return np.nan
    v = float(m.group(1))
    return v * 1.609344 if "mph" in text else v


def parse_duration_min(value: object) -> float:
    """Minutes from an OSM duration tag ('01:30', '0:45:00', '90'), nan if absent."""
    if value is None:
        return np.nan
    text = _first(value).strip()  # of a merged edge's list: the alphabetically first
    try:
        parts = [float(p) for p in text.split(":")]
    except ValueError:
        return np.nan
    if len(parts) == 1:
        return parts[0]
    if len(parts) == 2:
        return parts[0] * 60 + parts[1]
    return parts[0] * 60 + parts[1] + parts[2] / 60


def _first(value: object) -> str:
    """One value of a tag; of a merged edge's list (osmnx merges the ways of a simplified edge
    and lists their values in set order, which follows the string hash seed) the alphabetically
    first, so that two runs of a case give the same table whatever the seed."""
    if isinstance(value, (list, tuple)):
        return min(str(x) for x in value) if value else ""
    return "" if value is None else str(value)


@dataclass(frozen=True, eq=False)
class RoadNetwork:
    """A directed road graph as arrays: nodes in a metric CRS, edges with class and length."""

    name: str
    node_osmid: np.ndarray
    lon: np.ndarray
    lat: np.ndarray
    x: np.ndarray
    y: np.ndarray
    crs: str
    u: np.ndarray
    v: np.ndarray
    length_m: np.ndarray
    highway: np.ndarray
    maxspeed_kph: np.ndarray
    is_ferry: np.ndarray
    ferry_min: np.ndarray
    geometry: np.ndarray | None = None
    """Per edge, its shape as an (k, 2) array of lon/lat (None: straight between end nodes)."""

    @property
    def n_nodes(self) -> int:
        return int(self.node_osmid.shape[0])

    @property
    def n_edges(self) -> int:
        return int(self.u.shape[0])

    @property
    def n_shaped(self) -> int:
        """Edges that carry their road shape (the others are straight between their nodes)."""
        if self.geometry is None:
            return 0
        return int(sum(g is not None for g in self.geometry))

    @classmethod
    def from_graph(cls, G: nx.MultiDiGraph, name: str = "roads") -> RoadNetwork:
        """Arrays from an osmnx graph in WGS-84 (unprojected, as osmnx builds and stores it)."""
        crs = str(G.graph.get("crs", "epsg:4326")).lower()
        if crs not in ("epsg:4326", "wgs84", "+proj=longlat +ellps=wgs84 +datum=wgs84 +no_defs"):
            raise ValueError(
                f"network {name}: expected a WGS-84 graph (got crs {crs!r}); load it unprojected"
            )
        if G.number_of_edges() == 0:
            raise ValueError(f"network {name}: the graph has no edges")
        nodes = list(G.nodes)
        pos = {n: k for k, n in enumerate(nodes)}
        lon = np.array([G.nodes[n]["x"] for n in nodes], dtype=float)
        lat = np.array([G.nodes[n]["y"] for n in nodes], dtype=float)
        m = G.number_of_edges()
        u = np.empty(m, dtype=np.int64)
        v = np.empty(m, dtype=np.int64)
        length = np.empty(m)
        highway = np.empty(m, dtype=object)
        maxspeed = np.empty(m)
        ferry = np.zeros(m, dtype=bool)
        ferry_min = np.full(m, np.nan)
        geometry = np.empty(m, dtype=object)
        for k, (a, b, d) in enumerate(G.edges(data=True)):
            geom = d.get("geometry")
            geometry[k] = np.asarray(geom.coords, dtype=float)[:, :2] if geom is not None else None
            u[k], v[k] = pos[a], pos[b]
            length[k] = float(d.get("length", np.nan))
            is_ferry = _first(d.get("route")) == "ferry"
            ferry[k] = is_ferry
            highway[k] = "ferry" if is_ferry else (_first(d.get("highway")) or "road")
            maxspeed[k] = parse_maxspeed(d.get("maxspeed"))
            if is_ferry:
                ferry_min[k] = parse_duration_min(d.get("duration"))
        osmid = (
            np.array(nodes, dtype=np.int64)
            if all(isinstance(n, (int, np.integer)) for n in nodes)
            else np.arange(len(nodes))
        )
        shaped = np.array([g is not None for g in geometry], dtype=bool)
        return cls.from_arrays(
            name,
            osmid,
            lon,
            lat,
            u,
            v,
            length,
            highway,
            maxspeed,
            ferry,
            ferry_min,
            geometry if shaped.any() else None,
        )

    @classmethod
    def from_tables(cls, nodes: Any, edges: Any, name: str = "roads") -> RoadNetwork:
        """From osmnx-style node and edge tables (pandas): nodes ``osmid, lon, lat``; edges
        ``u, v, length_m`` (or ``length``), ``highway``, optional ``maxspeed``, ``route``,
        ``duration`` and the edge's shape as WKT ``LINESTRING`` (``geometry_wkt`` or
        ``geometry``; lon/lat, oriented u -> v; empty = straight between the end nodes). One row
        per directed arc, as osmnx exports them."""
        import pandas as pd

        missing = [c for c in ("osmid", "lon", "lat") if c not in nodes.columns]
        length_col = "length_m" if "length_m" in edges.columns else "length"
        missing += [c for c in ("u", "v", length_col, "highway") if c not in edges.columns]
        if missing:
            raise ValueError(f"network {name}: missing columns {', '.join(missing)}")
        if len(edges) == 0:
            raise ValueError(f"network {name}: the graph has no edges")
        osmid = nodes["osmid"].to_numpy(dtype=np.int64)
        index = pd.Index(osmid)
        u = index.get_indexer(edges["u"].to_numpy(dtype=np.int64))
        v = index.get_indexer(edges["v"].to_numpy(dtype=np.int64))
        if (u < 0).any() or (v < 0).any():
            bad = int(((u < 0) | (v < 0)).sum())
            raise ValueError(
                f"network {name}: {bad} edges refer to nodes missing from the node table"
            )
        route = (
            edges["route"].astype(str).to_numpy()
            if "route" in edges.columns
            else np.full(len(edges), "")
        )
        ferry = route == "ferry"
        highway = np.where(
            ferry, "ferry", edges["highway"].fillna("road").astype(str).to_numpy()
        ).astype(object)
        maxspeed = (
            np.array([parse_maxspeed(None if pd.isna(m) else m) for m in edges["maxspeed"]])
            if "maxspeed" in edges.columns
            else np.full(len(edges), np.nan)
        )
        ferry_min = (
            np.array([parse_duration_min(None if pd.isna(d) else d) for d in edges["duration"]])
            if "duration" in edges.columns
            else np.full(len(edges), np.nan)
        )
        return cls.from_arrays(
            name,
            osmid,
            nodes["lon"].to_numpy(float),
            nodes["lat"].to_numpy(float),
            u,
            v,
            edges[length_col].to_numpy(float),
            highway,
            maxspeed,
            ferry,
            ferry_min,
            wkt_shapes(edges, name),
        )

    @classmethod
    def from_arrays(
        cls,
        name: str,
        osmid: np.ndarray,
        lon: np.ndarray,
        lat: np.ndarray,
        u: np.ndarray,
        v: np.ndarray,
        length: np.ndarray,
        highway: np.ndarray,
        maxspeed: np.ndarray,
        ferry: np.ndarray,
        ferry_min: np.ndarray,
        geometry: np.ndarray | None = None,
    ) -> RoadNetwork:
        if u.size == 0:
            raise ValueError(f"network {name}: the graph has no edges")
        if np.isnan(length).any() or (length < 0).any():
            bad = np.flatnonzero(np.isnan(length) | (length < 0))
            raise ValueError(f"network {name}: {bad.size} edges have no valid length")
        if (
            not (np.isfinite(lon).all() and np.isfinite(lat).all())
            or np.abs(lat).max() > 90
            or np.abs(lon).max() > 180
        ):
            raise ValueError(f"network {name}: node coordinates are not WGS-84 longitude/latitude")
        proj = utm_crs_for(lon, lat)
        x, y = transformer("EPSG:4326", proj).transform(lon, lat)
        net = cls(
            name,
            np.asarray(osmid, dtype=np.int64),
            np.asarray(lon, float),
            np.asarray(lat, float),
            np.asarray(x),
            np.asarray(y),
            proj,
            np.asarray(u, np.int64),
            np.asarray(v, np.int64),
            np.asarray(length, float),
            np.asarray(highway, dtype=object),
            np.asarray(maxspeed, float),
            np.asarray(ferry, bool),
            np.asarray(ferry_min, float),
            checked_shapes(name, geometry, lon, lat, u, v),
        )
        log.info(
            "Network %s: %s nodes, %s edges (%s with road shapes), %.1f km of arcs, metric CRS %s",
            name,
            f"{net.n_nodes:,}",
            f"{net.n_edges:,}",
            f"{net.n_shaped:,}",
            float(length.sum()) / 1000,
            proj,
        )
        return net

    def fingerprint(self) -> str:
        """Hash of the arrays that determine travel times (for matrix caches)."""
        h = hashlib.sha256()
        for arr in (
            self.node_osmid,
            self.u,
            self.v,
            self.length_m,
            self.maxspeed_kph,
            self.ferry_min,
        ):
            h.update(np.ascontiguousarray(arr).tobytes())
        h.update("\x1f".join(map(str, self.highway)).encode())
        if self.geometry is not None:
            for g in self.geometry:
                h.update(b"-" if g is None else np.ascontiguousarray(g).tobytes())
        return h.hexdigest()

    def edge_tables(self) -> tuple[Any, Any]:
        """The network as osmnx-style node and edge tables (the compact on-disk form)."""
        import pandas as pd

        nodes = pd.DataFrame({"osmid": self.node_osmid, "lon": self.lon, "lat": self.lat})
        edges = pd.DataFrame(
            {
                "u": self.node_osmid[self.u],
                "v": self.node_osmid[self.v],
                "highway": self.highway,
                "maxspeed": np.where(np.isfinite(self.maxspeed_kph), self.maxspeed_kph, np.nan),
                "length_m": np.round(self.length_m, 2),
                "route": np.where(self.is_ferry, "ferry", ""),
                "duration": np.where(np.isfinite(self.ferry_min), self.ferry_min, np.nan),
            }
        )
        if self.geometry is not None:
            edges["geometry_wkt"] = [
                None
                if g is None
                else "LINESTRING (" + ", ".join(f"{x:.7f} {y:.7f}" for x, y in g) + ")"
                for g in self.geometry
            ]
        return nodes, edges

    def edge_minutes(self, profile: SpeedProfile) -> np.ndarray:
        """Travel time of each edge in minutes for ``profile`` (inf = not allowed)."""
        speeds = profile.edge_speeds(self.highway, self.maxspeed_kph)
        with np.errstate(divide="ignore"):
            minutes = np.where(speeds > 0, self.length_m / (speeds * 1000.0 / 60.0), np.inf)
        if self.is_ferry.any():
            f = self.is_ferry
            by_speed = self.length_m[f] / (profile.ferry_kph * 1000.0 / 60.0)
            tagged = self.ferry_min[f]
            minutes[f] = (
                np.where(np.isfinite(tagged), tagged, by_speed) + profile.ferry_boarding_min
            )
        return minutes

    def road_weights(
        self, profile: SpeedProfile, measure: str = "time"
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Per edge, the cost of travelling its road ``u -> v`` and ``v -> u`` (inf = not allowed),
        and its road's id (the lower index of the edge and its twin).

        The way back is the twin edge of the same road (end nodes swapped, same length to 0.1 m),
        or the edge itself when the mode ignores one-way tags (walking). Partial legs of a point
        snapped onto the edge use these, not the best of parallel roads between the same nodes.
        """
        w = self.edge_minutes(profile)
        if measure == "distance":
            w = np.where(np.isfinite(w), self.length_m, np.inf)
        length = np.round(self.length_m, 1)
        index = {
            (int(a), int(b), float(n)): e
            for e, (a, b, n) in enumerate(zip(self.u, self.v, length, strict=True))
            if np.isfinite(w[e])
        }
        twin = np.array(
            [
                index.get((int(b), int(a), float(n)), -1)
                for a, b, n in zip(self.u, self.v, length, strict=True)
            ],
            dtype=np.int64,
        )
        back = np.where(twin >= 0, w[np.maximum(twin, 0)], np.inf)
        if profile.ignore_oneway:
            back = np.minimum(back, w)
        road = np.where(twin >= 0, np.minimum(twin, np.arange(twin.size)), np.arange(twin.size))
        return w, back, road

    def graph(self, profile: SpeedProfile, measure: str = "time") -> sp.csr_matrix:
        """Sparse adjacency for ``profile``: minutes (``measure="time"``) or metres
        (``"distance"``); edges the mode may not use removed, parallel edges reduced to the
        best, one-way tags ignored when the profile says so (walking)."""
        w = self.edge_minutes(profile)
        if measure == "distance":
            w = np.where(np.isfinite(w), self.length_m, np.inf)
        ok = np.isfinite(w)
        u, v, w = self.u[ok], self.v[ok], w[ok]
        if profile.ignore_oneway:
            u, v, w = np.r_[u, v], np.r_[v, u], np.r_[w, w]
        keep = u != v
        u, v, w = u[keep], v[keep], np.maximum(w[keep], 1e-9)  # csgraph drops explicit zeros
        order = np.lexsort((w, v, u))
        u, v, w = u[order], v[order], w[order]
        first = np.ones(u.size, dtype=bool)
        first[1:] = (u[1:] != u[:-1]) | (v[1:] != v[:-1])
        g = sp.csr_matrix((w[first], (u[first], v[first])), shape=(self.n_nodes, self.n_nodes))
        return g

    def usable_edges(
        self, profile: SpeedProfile, *, components: Literal["largest", "all"] = "largest"
    ) -> np.ndarray:
        """Edges the mode may use: inside the largest strongly connected component, or in any
        component (``components="all"``)."""
        ok = np.isfinite(self.edge_minutes(profile)) & (self.u != self.v)
        if components == "all":
            return ok
        scc = self.strongly_connected(profile)
        return ok & scc[self.u] & scc[self.v]

    def strongly_connected(self, profile: SpeedProfile) -> np.ndarray:
        """Mask of the nodes in the largest strongly connected component under ``profile``."""
        from scipy.sparse.csgraph import connected_components

        _, labels = connected_components(self.graph(profile), directed=True, connection="strong")
        big = np.bincount(labels).argmax()
        return labels == big

    def to_networkx(self, profile: SpeedProfile) -> nx.DiGraph:
        """The same weighted digraph in networkx (for cross-checks and peer benchmarks)."""
        g = self.graph(profile).tocoo()
        G = nx.DiGraph()
        G.add_nodes_from(range(self.n_nodes))
        G.add_weighted_edges_from(zip(g.row.tolist(), g.col.tolist(), g.data.tolist(), strict=True))
        return G
