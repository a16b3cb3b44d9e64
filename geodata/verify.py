"""A second, independent router: recompute travel times from the road files and the documented rules.

Written apart from :mod:`geodata.network` (arrays), :mod:`geodata.snap`, :mod:`geodata.matrix`
and :mod:`geodata.routing`; it shares no code with them beyond the file readers (osmnx, pandas).
It applies the rules as the README states them:

* **Roads**: every directed edge of the file with its OSM ``length`` (m) and its shape (the
  ``geometry`` line, else straight between its nodes), the alphabetically first ``highway`` value of a merged
  edge, ``route=ferry`` edges as ferries.
* **Speeds**: the mode's class speed (km/h, 0 = not allowed); driving uses ``maxspeed`` x
  ``maxspeed_factor`` where the tag exists and the class has no explicit override in the case;
  e-bikes ride at ``min(class speed, maxspeed)``; walking ignores tags and one-way rules. A ferry
  takes its ``duration`` tag (minutes), else ``length / ferry_kph``, plus the boarding time.
* **Snapping**: a point goes to the nearest point of the nearest road *line* among the edges the
  mode may use, in the largest strongly connected part (or in any part, ``components: all``),
  whose class is not excluded; farther than ``max_snap_m`` it is not reached at all. The
  straight leg to the road is covered at ``access_kph``.
* **Partial edges**: from the snap point to an end of its road costs the road's time (or length)
  in that direction times the share of the line's length between them.
* **Close pairs**: where the straight line between a demand point and a site is shorter than
  their two legs to the road together, the trip is the shorter of the road trip and that
  straight line at ``access_kph``.

Shortest paths between junctions run on SciPy's Dijkstra over a graph built here; lines are
projected with pyproj into the UTM zone of the roads' centre and densified with shapely.
"""

from __future__ import annotations

import ast
import logging
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyproj
import scipy.sparse as sp
import shapely
from scipy.sparse.csgraph import connected_components, dijkstra

__all__ = ["IndependentRoads", "IndependentRouter", "RouterRules", "read_roads"]

log = logging.getLogger(__name__)

_TIE_M = 0.01
"""Roads within this many metres of the nearest one are equally near (either may be chosen:
a point at a junction, or between two roads)."""
_DENSIFY_DEG = 2e-4
"""Vertex spacing (degrees, ~20 m) of the densified lines before projection."""


@dataclass(frozen=True)
class IndependentRoads:
    """Directed edges as read from the file (lon/lat shapes, OSM attributes)."""

    node_lon: np.ndarray
    node_lat: np.ndarray
    u: np.ndarray
    v: np.ndarray
    length_m: np.ndarray
    highway: np.ndarray
    maxspeed_kph: np.ndarray
    ferry: np.ndarray
    ferry_duration_min: np.ndarray
    shapes: list[np.ndarray]
    """Per edge, its line as (k, 2) lon/lat from u to v."""


def _listish(value: Any) -> list[Any]:
    if isinstance(value, (list, tuple)):
        return list(value)
    if isinstance(value, str) and value.startswith("["):
        try:
            parsed = ast.literal_eval(value)
        except (ValueError, SyntaxError):
            return [value]
        return list(parsed) if isinstance(parsed, (list, tuple)) else [parsed]
    return [value]


def _is_missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value)) or value == ""


def _first_tag(value: Any) -> str | None:
    """A tag's value; of a merged edge's list (osmnx lists them in hash-seed order) the
    alphabetically first, the documented rule; None if missing."""
    items = sorted(str(x) for x in _listish(value) if not _is_missing(x))
    return items[0] if items else None


def _speed_tag(value: Any) -> float:
    """km/h of a maxspeed tag: the lowest number given; mph converted; nan if none."""
    found = []
    for item in _listish(value):
        if _is_missing(item):
            continue
        text = str(item).lower()
        for number in re.findall(r"\d+(?:\.\d+)?", text)[:1]:
            kph = float(number) * (1.609344 if "mph" in text else 1.0)
            if kph > 0:
                found.append(kph)
    return min(found) if found else math.nan


def _duration_tag(value: Any) -> float:
    """Minutes of an OSM duration tag: 'mm', 'hh:mm' or 'hh:mm:ss'; nan if none."""
    first = _first_tag(value)
    if first is None:
        return math.nan
    try:
        parts = [float(p) for p in first.strip().split(":")]
    except ValueError:
        return math.nan
    scale = {1: [1.0], 2: [60.0, 1.0], 3: [60.0, 1.0, 1 / 60]}.get(len(parts))
    return math.nan if scale is None else sum(p * s for p, s in zip(parts, scale, strict=True))


def _line(text: Any, start: tuple[float, float], end: tuple[float, float]) -> np.ndarray:
    """The edge's lon/lat line from u to v: its shape when given and joining its nodes."""
    straight = np.array([start, end], dtype=float)
    if _is_missing(text):
        return straight
    geom = text if isinstance(text, shapely.Geometry) else shapely.from_wkt(str(text))
    pts = np.asarray(shapely.get_coordinates(geom), dtype=float)
    if pts.shape[0] < 2:
        return straight

    def gap(p: Any, q: Any) -> float:
        return max(abs(float(p[0]) - float(q[0])), abs(float(p[1]) - float(q[1])))

    if gap(pts[-1], start) + gap(pts[0], end) < gap(pts[0], start) + gap(pts[-1], end):
        pts = pts[::-1]
    if gap(pts[0], start) > 5e-4 or gap(pts[-1], end) > 5e-4:  # not this edge's line (~50 m)
        return straight
    return pts


def _from_records(
    nodes: Mapping[Any, tuple[float, float]], edges: list[tuple[Any, Any, Mapping[str, Any]]]
) -> IndependentRoads:
    ids = list(nodes)
    pos = {n: k for k, n in enumerate(ids)}
    lon = np.array([nodes[n][0] for n in ids], dtype=float)
    lat = np.array([nodes[n][1] for n in ids], dtype=float)
    u, v, length, hw, speed, ferry, dur, shapes = [], [], [], [], [], [], [], []
    for a, b, d in edges:
        u.append(pos[a])
        v.append(pos[b])
        length.append(float(d.get("length_m", d.get("length", math.nan))))
        is_ferry = _first_tag(d.get("route")) == "ferry"
        ferry.append(is_ferry)
        first = _first_tag(d.get("highway"))
        hw.append("ferry" if is_ferry else (first or "road"))
        speed.append(_speed_tag(d.get("maxspeed")))
        dur.append(_duration_tag(d.get("duration")) if is_ferry else math.nan)
        shapes.append(_line(d.get("geometry"), nodes[a], nodes[b]))
    return IndependentRoads(
        lon,
        lat,
        np.array(u, dtype=np.int64),
        np.array(v, dtype=np.int64),
        np.array(length, dtype=float),
        np.array(hw, dtype=object),
        np.array(speed, dtype=float),
        np.array(ferry, dtype=bool),
        np.array(dur, dtype=float),
        shapes,
    )


def roads_from_graph(G: Any) -> IndependentRoads:
    """From an osmnx MultiDiGraph in WGS-84 (as GraphML, OSM XML and PBF readers give it)."""
    nodes = {n: (float(d["x"]), float(d["y"])) for n, d in G.nodes(data=True)}
    return _from_records(nodes, list(G.edges(data=True)))


def roads_from_tables(nodes: Any, edges: Any) -> IndependentRoads:
    """From osmnx-style node (``osmid, lon, lat``) and edge tables (``u, v, length_m`` ...)."""
    table = {
        int(o): (float(x), float(y))
        for o, x, y in zip(nodes["osmid"], nodes["lon"], nodes["lat"], strict=True)
    }
    shape_col = next((c for c in ("geometry_wkt", "geometry") if c in edges.columns), None)
    records = edges.to_dict("records")
    if shape_col is not None:
        text = edges[shape_col].to_numpy(dtype=object)
        given = np.array([isinstance(w, str) and bool(w.strip()) for w in text], dtype=bool)
        lines = np.full(text.size, None, dtype=object)
        lines[given] = shapely.from_wkt(text[given])
        for row, line in zip(records, lines, strict=True):
            row["geometry"] = line
    return _from_records(table, [(int(r["u"]), int(r["v"]), r) for r in records])


def read_roads(source: Path | None, nodes_file: Path | None, network_type: str) -> IndependentRoads:
    """Read a network file the way a user hands it over (GraphML, OSM XML/PBF, edge CSV)."""
    import pandas as pd

    from .osm import graph_from_file  # the file reader only (osmnx / pyosmium)

    assert source is not None
    if nodes_file is not None:
        return roads_from_tables(pd.read_csv(nodes_file), pd.read_csv(source))
    return roads_from_graph(graph_from_file(source, network_type))


@dataclass(frozen=True)
class RouterRules:
    """The documented rules of one travel-time table (values read from the case)."""

    mode: str
    measure: str
    speeds_kph: Mapping[str, float]
    default_kph: float
    use_maxspeed: bool
    maxspeed_factor: float
    overridden: frozenset[str]
    ignore_oneway: bool
    ferry_kph: float
    ferry_boarding_min: float
    access_kph: float
    max_snap_m: float
    snap_exclude: frozenset[str]
    components: str


def edge_costs(roads: IndependentRoads, rules: RouterRules) -> np.ndarray:
    """Minutes (or metres) to travel each directed edge whole; inf where the mode may not."""
    out = np.full(roads.u.size, np.inf)
    for e in range(roads.u.size):
        length, hw = float(roads.length_m[e]), str(roads.highway[e])
        if roads.ferry[e]:
            minutes = roads.ferry_duration_min[e]
            if not math.isfinite(minutes):
                minutes = length / (rules.ferry_kph / 0.06)
            minutes += rules.ferry_boarding_min
        else:
            kph = float(rules.speeds_kph.get(hw, rules.default_kph))
            tag = float(roads.maxspeed_kph[e])
            if rules.use_maxspeed and math.isfinite(tag) and kph > 0:
                if rules.mode == "drive" and hw not in rules.overridden:
                    kph = tag * rules.maxspeed_factor
                elif rules.mode == "ebike":
                    kph = min(kph, tag)
            if kph <= 0:
                continue
            minutes = length / (kph / 0.06)
        out[e] = minutes if rules.measure == "time" else length
    return out


@dataclass(frozen=True)
class _Place:
    """A point on a road: its road, the share of the line from the road's low end, off-road m."""

    road: int
    share: float
    off_m: float


@dataclass(frozen=True)
class _Roads:
    """Edges grouped into roads: an edge and its reverse with the same line and length are one
    road travelled two ways; parallel roads between the same junctions stay apart."""

    road_of: np.ndarray
    """Per edge, its road (-1: the mode may not use the edge)."""
    ends: np.ndarray
    """Per road, its (low, high) junction."""
    lines: list[np.ndarray]
    """Per road, its lon/lat line from the low to the high junction."""
    low_high: np.ndarray
    high_low: np.ndarray
    """Per road, the cost of travelling it whole in each direction (inf: not allowed)."""

    @classmethod
    def of(
        cls, roads: IndependentRoads, cost: np.ndarray, allowed: np.ndarray, *, ignore_oneway: bool
    ) -> _Roads:
        keys: dict[tuple[int, int, float, bytes], int] = {}
        road_of = np.full(roads.u.size, -1, dtype=np.int64)
        ends: list[tuple[int, int]] = []
        lines: list[np.ndarray] = []
        forward: list[float] = []
        backward: list[float] = []
        for e in np.flatnonzero(allowed):
            a, b = int(roads.u[e]), int(roads.v[e])
            line = roads.shapes[e] if a < b else roads.shapes[e][::-1]
            length = round(float(roads.length_m[e]), 1)
            r = keys.setdefault(
                (min(a, b), max(a, b), length, np.round(line, 7).tobytes()), len(ends)
            )
            if r == len(ends):
                ends.append((min(a, b), max(a, b)))
                lines.append(line)
                forward.append(math.inf)
                backward.append(math.inf)
            road_of[e] = r
            if a < b or ignore_oneway:
                forward[r] = min(forward[r], float(cost[e]))
            if a > b or ignore_oneway:
                backward[r] = min(backward[r], float(cost[e]))
        return cls(
            road_of,
            np.array(ends, dtype=np.int64).reshape(-1, 2),
            lines,
            np.array(forward),
            np.array(backward),
        )


class IndependentRouter:
    """Travel times between points on the roads under one table's rules."""

    def __init__(self, roads: IndependentRoads, rules: RouterRules) -> None:
        self.roads, self.rules = roads, rules
        cost = edge_costs(roads, rules)
        allowed = np.isfinite(cost) & (roads.u != roads.v)
        n = roads.node_lon.size
        tail, head, w = roads.u[allowed], roads.v[allowed], cost[allowed]
        if rules.ignore_oneway:
            tail, head, w = np.r_[tail, head], np.r_[head, tail], np.r_[w, w]
        self.graph = _min_graph(tail, head, w, n)
        self.per_m = 1.0 if rules.measure == "distance" else 0.06 / rules.access_kph
        lon0, lat0 = float(np.mean(roads.node_lon)), float(np.mean(roads.node_lat))
        zone = int((lon0 + 180) // 6) + 1
        epsg = (32600 if lat0 >= 0 else 32700) + zone
        self.to_metric = pyproj.Transformer.from_crs(4326, epsg, always_xy=True)
        groups = _Roads.of(roads, cost, allowed, ignore_oneway=rules.ignore_oneway)
        self.road_of, self.ends = groups.road_of, groups.ends
        self.cost_low_high, self.cost_high_low = groups.low_high, groups.high_low
        snappable = allowed & ~np.isin(roads.highway, list(rules.snap_exclude))
        if rules.components == "largest":
            _, label = connected_components(self.graph, directed=True, connection="strong")
            big = np.bincount(label).argmax()
            snappable &= (label[roads.u] == big) & (label[roads.v] == big)
        snap_roads = np.unique(self.road_of[snappable])
        self.snap_roads = snap_roads[snap_roads >= 0]
        self.lines = np.zeros(0, dtype=object)
        if self.snap_roads.size:
            dense = shapely.segmentize(
                np.asarray([shapely.linestrings(groups.lines[r]) for r in self.snap_roads]),
                _DENSIFY_DEG,
            )
            xy, owner = shapely.get_coordinates(dense, return_index=True)
            x, y = self.to_metric.transform(xy[:, 0], xy[:, 1])
            self.lines = np.asarray(shapely.linestrings(np.c_[x, y], indices=owner), dtype=object)
        self.tree = shapely.STRtree(self.lines)

    def place(self, lon: float, lat: float) -> list[_Place]:
        """Where a point joins the roads (several places when roads tie), [] when too far."""
        x, y = self.to_metric.transform(lon, lat)
        pt = shapely.Point(x, y)
        near = self.tree.query(pt, predicate="dwithin", distance=self.rules.max_snap_m)
        if near.size == 0:
            return []
        dist = shapely.distance(self.lines[near], pt)
        best = float(dist.min())
        if best > self.rules.max_snap_m:
            return []
        out = []
        for k in near[dist <= best + _TIE_M]:
            line = self.lines[k]
            share = float(line.project(pt, normalized=True)) if line.length > 0 else 0.0
            out.append(_Place(int(self.snap_roads[k]), share, float(shapely.distance(line, pt))))
        return out

    def on_roads(self, lon: float, lat: float) -> bool:
        """Whether the point is within ``max_snap_m`` of a road the mode may join."""
        return bool(self.place(lon, lat))

    def _exits(self, p: _Place) -> list[tuple[int, float]]:
        lo, hi = self.ends[p.road]
        acc = p.off_m * self.per_m
        return [
            (int(hi), acc + _share(1 - p.share, self.cost_low_high[p.road])),
            (int(lo), acc + _share(p.share, self.cost_high_low[p.road])),
        ]

    def _entries(self, p: _Place) -> list[tuple[int, float]]:
        lo, hi = self.ends[p.road]
        acc = p.off_m * self.per_m
        return [
            (int(lo), _share(p.share, self.cost_low_high[p.road]) + acc),
            (int(hi), _share(1 - p.share, self.cost_high_low[p.road]) + acc),
        ]

    def _along(self, a: _Place, b: _Place) -> float:
        """From place a to place b along their common road (inf when on different roads)."""
        if a.road != b.road:
            return math.inf
        step = b.share - a.share
        cost = self.cost_low_high[a.road] if step >= 0 else self.cost_high_low[a.road]
        return (a.off_m + b.off_m) * self.per_m + _share(abs(step), cost)

    def trips(
        self,
        origins: list[tuple[float, float]],
        destinations: list[tuple[float, float]],
        pairs: list[tuple[int, int]],
        *,
        limit: float = math.inf,
    ) -> list[list[float]]:
        """Every candidate time of each (origin, destination) pair: one per tie of the snapped
        roads (the smallest over routes for each), the close-pair rule applied (origins and
        destinations are demand points and sites). Road legs longer than ``limit`` count as
        unreachable. Unreachable: ``[inf]``."""
        o_places = {i: self.place(*origins[i]) for i in {i for i, _ in pairs}}
        d_places = {j: self.place(*destinations[j]) for j in {j for _, j in pairs}}
        exits = {n for ps in o_places.values() for p in ps for n, _ in self._exits(p)}
        entries = {n for ps in d_places.values() for p in ps for n, _ in self._entries(p)}
        road = _NodeTable(self.graph, exits, entries, limit)
        out = []
        for i, j in pairs:
            values = []
            for a in o_places[i]:
                for b in d_places[j]:
                    best = self._along(a, b)
                    for n1, c1 in self._exits(a):
                        for n2, c2 in self._entries(b):
                            best = min(best, c1 + road.get(n1, n2) + c2)
                    values.append(best)
            if not values:
                values = [math.inf]
            if o_places[i] and d_places[j]:  # both on the roads: the close-pair rule
                ox, oy = self.to_metric.transform(*origins[i])
                dx, dy = self.to_metric.transform(*destinations[j])
                straight = math.hypot(ox - dx, oy - dy)
                off = [a.off_m + b.off_m for a in o_places[i] for b in d_places[j]]
                if off and straight < max(off):
                    values = [min(v, straight * self.per_m) for v in values]
            out.append(values)
        return out

    def off_road_m(self, lon: float, lat: float) -> float:
        """Distance from the point to its road (inf when too far to snap)."""
        places = self.place(lon, lat)
        return min((p.off_m for p in places), default=math.inf)


_BATCH_BYTES = 2**27
"""Dense Dijkstra rows per batch: at most ~128 MB at a time, whatever the network's size."""


class _NodeTable:
    """Shortest road costs from the exit junctions to the entry junctions, searched from the
    smaller of the two sets (on the reversed graph from the entries), in batches that keep only
    the other set's columns."""

    def __init__(self, graph: sp.csr_matrix, exits: set[int], entries: set[int], limit: float):
        self.forward = len(exits) <= len(entries)
        sources = sorted(exits if self.forward else entries)
        targets = sorted(entries if self.forward else exits)
        g = graph if self.forward else graph.T.tocsr()
        self.row = {n: k for k, n in enumerate(sources)}
        self.col = {n: k for k, n in enumerate(targets)}
        self.table = np.full((len(sources), len(targets)), np.inf)
        step = max(1, _BATCH_BYTES // (8 * max(graph.shape[0], 1)))
        for k in range(0, len(sources), step):
            dist = dijkstra(g, directed=True, indices=sources[k : k + step], limit=limit)
            self.table[k : k + step] = dist[:, targets]

    def get(self, a: int, b: int) -> float:
        if self.forward:
            return float(self.table[self.row[a], self.col[b]])
        return float(self.table[self.row[b], self.col[a]])


def _share(fraction: float, cost: float) -> float:
    """Part of a road direction's cost; a direction that is not allowed stays inf."""
    return math.inf if not math.isfinite(cost) else max(fraction, 0.0) * float(cost)


def _min_graph(tail: np.ndarray, head: np.ndarray, w: np.ndarray, n: int) -> sp.csr_matrix:
    """Sparse digraph keeping the cheapest of parallel arcs (zero costs kept as tiny ones)."""
    best: dict[tuple[int, int], float] = {}
    for a, b, c in zip(tail.tolist(), head.tolist(), w.tolist(), strict=True):
        if (a, b) not in best or c < best[(a, b)]:
            best[(a, b)] = c
    rows = np.array([a for a, _ in best], dtype=np.int64)
    cols = np.array([b for _, b in best], dtype=np.int64)
    vals = np.maximum(np.array(list(best.values()), dtype=float), 1e-12)
    return sp.csr_matrix((vals, (rows, cols)), shape=(n, n))
