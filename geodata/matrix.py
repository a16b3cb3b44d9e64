"""Travel-time matrices on a road network: bounded multi-source Dijkstra on a sparse graph.

Shortest paths run in compiled code (``scipy.sparse.csgraph.dijkstra``) from the *distinct*
network nodes the sites snap to, in batches on a thread pool (the Dijkstra kernel releases the
GIL), bounded by the largest standard for covering models (``cutoff_min``) or unbounded, optionally
keeping the ``k`` nearest sites per demand point, for p-median/p-center.

Direction matters on one-way streets: ``site_to_demand`` (an ambulance leaving its station) runs
on the graph; ``demand_to_site`` (a resident travelling to a clinic) runs on the reversed graph
from the same site nodes, so both cost one search per distinct site node. A pair's time is
``access(site) + network(site node <-> demand node) + access(demand)``. Unreachable pairs are simply
absent from the sparse result.

Results are cached on disk under a key of everything that determines them (graph arrays, speed
profile, snapped nodes and access times, direction, cutoff, k), written atomically.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Literal

import numpy as np
from scipy.sparse.csgraph import dijkstra

from .arrays import TravelTimes
from .network import RoadNetwork
from .snap import Snapped
from .speeds import SpeedProfile

__all__ = ["Direction", "network_travel_times", "node_distances"]

log = logging.getLogger(__name__)

Direction = Literal["site_to_demand", "demand_to_site", "symmetric"]

_BATCH_BYTES = 256 * 2**20  # dense rows per Dijkstra batch: keep each under ~256 MB


def node_distances(
    graph: object,
    sources: np.ndarray,
    targets: np.ndarray,
    *,
    limit: float = np.inf,
    workers: int = 2,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Shortest-path values from each source node to each target node (sparse triplets).

    Returns ``(source_pos, target_pos, value)`` with positions into ``sources``/``targets``,
    only for finite values within ``limit``.
    """
    n = graph.shape[0]  # type: ignore[attr-defined]
    sources = np.asarray(sources, dtype=np.int64)
    targets = np.asarray(targets, dtype=np.int64)
    batch = int(max(1, min(512, _BATCH_BYTES // (8 * max(n, 1)))))
    chunks = [np.arange(k, min(k + batch, sources.size)) for k in range(0, sources.size, batch)]

    def run(pos: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        dist = dijkstra(graph, directed=True, indices=sources[pos], limit=limit)
        sub = dist[:, targets]
        r, c = np.nonzero(np.isfinite(sub))
        return pos[r], c, sub[r, c]

    if workers > 1 and len(chunks) > 1:
        with ThreadPoolExecutor(max_workers=workers) as pool:
            parts = list(pool.map(run, chunks))
    else:
        parts = [run(c) for c in chunks]
    if not parts:
        return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0)
    return (
        np.concatenate([p[0] for p in parts]),
        np.concatenate([p[1] for p in parts]),
        np.concatenate([p[2] for p in parts]),
    )


def _groups(nodes: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Distinct nodes, and for each distinct node the points snapped to it (CSR layout)."""
    order = np.argsort(nodes, kind="stable")
    uniq, start, counts = np.unique(nodes[order], return_index=True, return_counts=True)
    indptr = np.r_[start, start[-1] + counts[-1]] if uniq.size else np.zeros(1, dtype=np.int64)
    return uniq, indptr, order


def _expand(
    pos: np.ndarray, indptr: np.ndarray, order: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """For each item at distinct-node position ``pos``, every point on that node.

    Returns ``(item_index, point_index)``.
    """
    counts = indptr[pos + 1] - indptr[pos]
    item = np.repeat(np.arange(pos.size), counts)
    offset = np.arange(item.size) - np.repeat(np.cumsum(counts) - counts, counts)
    return item, order[indptr[pos][item] + offset]


def _cache_key(
    network: RoadNetwork,
    profile: SpeedProfile,
    demand: Snapped,
    sites: Snapped,
    direction: str,
    cutoff: float | None,
    k: int | None,
) -> str:
    h = hashlib.sha256()
    h.update(network.fingerprint().encode())
    h.update(json.dumps(profile.to_dict(), sort_keys=True).encode())
    for arr in (demand.node, demand.access_min, sites.node, sites.access_min):
        h.update(np.ascontiguousarray(arr).tobytes())
    h.update(json.dumps([direction, cutoff, k, 2]).encode())
    return h.hexdigest()[:32]


def network_travel_times(
    network: RoadNetwork,
    profile: SpeedProfile,
    demand: Snapped,
    sites: Snapped,
    *,
    name: str = "travel_times",
    direction: Direction = "demand_to_site",
    cutoff_min: float | None = None,
    k_nearest: int | None = None,
    workers: int = 2,
    cache: Path | None = None,
    measure: Literal["time", "distance"] = "time",
) -> TravelTimes:
    """Demand x site travel times (minutes) or distances (metres) on ``network``.

    For ``measure="distance"`` the access legs count their straight-line length in metres and
    ``cutoff_min`` is read as metres.

    Points not snapped (``node < 0``) get no pairs. ``cutoff_min`` bounds the search (pairs above
    it are dropped; the table is then complete up to that bound). ``k_nearest`` keeps, for each
    demand point, only its ``k`` fastest sites.
    """
    t0 = time.perf_counter()
    unit = "min" if measure == "time" else "m"
    if measure == "distance":
        demand = Snapped(
            demand.node, demand.distance_m, demand.distance_m, demand.far, demand.outside
        )
        sites = Snapped(sites.node, sites.distance_m, sites.distance_m, sites.far, sites.outside)
    key = _cache_key(
        network, profile, demand, sites, f"{direction}/{measure}", cutoff_min, k_nearest
    )
    path = cache / f"tt-{key}.npz" if cache is not None else None
    if path is not None and path.exists():
        data = np.load(path)
        log.info("Travel times %s from cache (%s pairs)", name, f"{data['value'].size:,}")
        return TravelTimes(
            name,
            data["d"],
            data["s"],
            data["value"],
            demand.node.size,
            sites.node.size,
            unit,
            float(data["complete"]),
        )
    graph = network.graph(profile, measure)
    if direction == "demand_to_site" and not profile.ignore_oneway:
        graph = graph.T.tocsr()
    d_ok = np.flatnonzero(demand.node >= 0)
    s_ok = np.flatnonzero(sites.node >= 0)
    d_uniq, d_ptr, d_ord = _groups(demand.node[d_ok])
    s_uniq, s_ptr, s_ord = _groups(sites.node[s_ok])
    limit = np.inf if cutoff_min is None else float(cutoff_min)
    spos, dpos, val = node_distances(graph, s_uniq, d_uniq, limit=limit, workers=workers)
    # expand distinct site nodes -> sites, then distinct demand nodes -> demand points
    item, site_pt = _expand(spos, s_ptr, s_ord)
    dpos, val = dpos[item], val[item]
    item2, dem_pt = _expand(dpos, d_ptr, d_ord)
    site_idx = s_ok[site_pt[item2]]
    dem_idx = d_ok[dem_pt]
    minutes = val[item2] + sites.access_min[site_idx] + demand.access_min[dem_idx]
    keep = np.isfinite(minutes)
    if cutoff_min is not None:
        keep &= minutes <= cutoff_min
    dem_idx, site_idx, minutes = dem_idx[keep], site_idx[keep], minutes[keep]
    complete = float(cutoff_min) if cutoff_min is not None else np.inf
    if k_nearest is not None and minutes.size:
        order = np.lexsort((site_idx, minutes, dem_idx))
        dem_idx, site_idx, minutes = dem_idx[order], site_idx[order], minutes[order]
        first = np.r_[0, np.flatnonzero(np.diff(dem_idx)) + 1]
        rank = np.arange(dem_idx.size) - np.repeat(first, np.diff(np.r_[first, dem_idx.size]))
        sel = rank < k_nearest
        dem_idx, site_idx, minutes = dem_idx[sel], site_idx[sel], minutes[sel]
        complete = -np.inf  # truncated per row: completeness is per demand point, not global
    order = np.lexsort((site_idx, dem_idx))
    tt = TravelTimes(
        name,
        dem_idx[order],
        site_idx[order],
        minutes[order],
        demand.node.size,
        sites.node.size,
        unit,
        complete,
    )
    log.info(
        "Travel times %s: %s sites (%s distinct nodes) x %s demand points (%s nodes) on %s nodes, "
        "%s pairs%s in %.2f s",
        name,
        f"{s_ok.size:,}",
        f"{s_uniq.size:,}",
        f"{d_ok.size:,}",
        f"{d_uniq.size:,}",
        f"{network.n_nodes:,}",
        f"{len(tt):,}",
        "" if cutoff_min is None else f" within {cutoff_min:g} min",
        time.perf_counter() - t0,
    )
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".npz.tmp")
        os.close(fd)
        try:
            with open(tmp, "wb") as fh:
                np.savez(fh, d=tt.demand_index, s=tt.site_index, value=tt.value, complete=complete)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, path)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
    return tt
