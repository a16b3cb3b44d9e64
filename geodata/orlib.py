"""OR-Library p-median instances (Beasley 1985, 1990): read ``pmedN.txt`` and ``pmedopt.txt``.

Each ``pmedN.txt`` is an undirected graph: a header ``n_vertices n_edges p``, then one edge per
line ``i j cost`` with vertices numbered from 1. Every vertex is a demand point of weight 1 and a
candidate site; the distances are the all-pairs shortest paths over the graph. Beasley's note on
the files: where an edge appears more than once, the **last** occurrence counts (not the
cheapest); reading them any other way does not reproduce the published optima.

Source: J. E. Beasley, OR-Library, people.brunel.ac.uk/~mastjjb/jeb/orlib/pmedinfo.html.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import shortest_path

from .arrays import Demand, Sites, TravelTimes

__all__ = ["PMedInstance", "read_pmed", "read_pmed_optima"]

log = logging.getLogger(__name__)


@dataclass(frozen=True, eq=False)
class PMedInstance:
    """One OR-Library instance: its name, ``p`` and the dense shortest-path distance matrix."""

    name: str
    p: int
    distance: np.ndarray
    """``n x n`` shortest-path distances (vertex ``k`` is row/column ``k - 1``)."""
    n_edges_read: int
    n_duplicate_edges: int

    @property
    def n(self) -> int:
        return int(self.distance.shape[0])

    @property
    def ids(self) -> np.ndarray:
        return np.asarray([str(k + 1) for k in range(self.n)], dtype=object)

    def demand(self) -> Demand:
        """Every vertex a demand point of weight 1."""
        return Demand(ids=self.ids, weight=np.ones(self.n))

    def sites(self, facility_type: str = "median") -> Sites:
        """Every vertex a candidate site (cost 1, none existing)."""
        return Sites(
            ids=self.ids,
            facility_type=np.full(self.n, facility_type, dtype=object),
            cost=np.ones(self.n),
            existing=np.zeros(self.n, dtype=bool),
            has_cost=False,
        )

    def travel_times(self) -> TravelTimes:
        """The distance matrix as a complete long table (unit: the file's edge-cost unit)."""
        return TravelTimes.from_dense(self.distance, name=self.name, unit="cost")


def read_pmed(path: str | Path) -> PMedInstance:
    """Read ``pmedN.txt``: last occurrence of a repeated edge wins; APSP by Dijkstra."""
    p = Path(path)
    tokens = p.read_text().split()
    if len(tokens) < 3:
        raise ValueError(f"{p}: expected a header 'n_vertices n_edges p'")
    n, m, n_med = (int(t) for t in tokens[:3])
    body = np.asarray(tokens[3 : 3 + 3 * m], dtype=np.int64)
    if body.size != 3 * m:
        raise ValueError(f"{p}: header says {m} edges, found {body.size // 3}")
    edges = body.reshape(m, 3)
    a = np.minimum(edges[:, 0], edges[:, 1]) - 1
    b = np.maximum(edges[:, 0], edges[:, 1]) - 1
    cost = edges[:, 2].astype(float)
    if a.min() < 0 or b.max() >= n:
        raise ValueError(f"{p}: vertex numbers must lie in 1..{n}")
    # Last occurrence wins: keep, for each unordered pair, the edge with the largest line number.
    # (np.unique on the reversed list returns each pair's first index there = its last line).
    key = a * n + b
    _, first_in_reversed = np.unique(key[::-1], return_index=True)
    keep = np.sort(m - 1 - first_in_reversed)
    n_dup = m - keep.size
    a, b, cost = a[keep], b[keep], cost[keep]
    if (cost <= 0).any():
        raise ValueError(f"{p}: edge costs must be positive")
    graph = sp.coo_matrix(
        (np.concatenate([cost, cost]), (np.concatenate([a, b]), np.concatenate([b, a]))),
        shape=(n, n),
    ).tocsr()
    dist = shortest_path(graph, method="D", directed=False)
    if not np.isfinite(dist).all():
        raise ValueError(f"{p}: the graph is not connected")
    name = re.sub(r"\.txt$", "", p.name)
    log.debug("Read %s: %d vertices, %d edges (%d repeated), p=%d", name, n, m, n_dup, n_med)
    return PMedInstance(name, n_med, dist, m, n_dup)


def read_pmed_optima(path: str | Path) -> dict[str, float]:
    """``pmedopt.txt``: instance name -> published optimal p-median objective."""
    out: dict[str, float] = {}
    for line in Path(path).read_text().splitlines():
        parts = line.split()
        if len(parts) == 2 and re.fullmatch(r"pmed\d+", parts[0]):
            out[parts[0]] = float(parts[1])
    return out
