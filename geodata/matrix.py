"""Travel-time matrices on a road network: bounded multi-source Dijkstra on a sparse graph.

Every snapped point becomes a virtual node on its road edge (:func:`augmented_graph`). Shortest
paths run in compiled code (``scipy.sparse.csgraph.dijkstra``) from the site nodes, in batches on a
process pool, bounded by the largest standard for covering models (``cutoff_min``) or unbounded,
optionally keeping the ``k`` nearest sites per demand point, for p-median/p-center.

Direction matters on one-way streets: ``site_to_demand`` (an ambulance leaving its station) runs
on the graph; ``demand_to_site`` (a resident travelling to a clinic) runs on the reversed graph
from the same site nodes, so both cost one search per site. Unreachable pairs are simply absent
from the sparse result.

Results are cached on disk under a key of everything that determines them (graph arrays, speed
profile, snapped nodes and access times, direction, cutoff, k), written atomically: processes
sharing the cache (batch cases, sweeps) never see a half-written table, and an unreadable one is
recomputed.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
import time
import zipfile
from pathlib import Path
from typing import Any, Literal

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import dijkstra

from .arrays import TravelTimes
from .network import RoadNetwork
from .snap import Snapped
from .speeds import SpeedProfile

__all__ = [
    "Direction",
    "augmented_graph",
    "direct_legs",
    "network_travel_times",
    "node_distances",
    "note_native_threads",
]

log = logging.getLogger(__name__)

Direction = Literal["site_to_demand", "demand_to_site", "symmetric"]

_BATCH_BYTES = 256 * 2**20  # dense rows per Dijkstra batch: keep each under ~256 MB


_GRAPH: Any = None  # the csr graph each worker process holds
_NATIVE_THREADS = False  # a solver may have started native thread pools in this process


def note_native_threads() -> None:
    """Solver backends call this before they run: their native thread pools (HiGHS, OR-Tools)
    make a later ``fork`` unsafe, so Dijkstra pools then start clean processes instead."""
    global _NATIVE_THREADS
    _NATIVE_THREADS = True


def _pool_start_method() -> str:
    """``fork`` (instant; the children share the graph) while this process runs no other thread
    and no solver has run yet - e.g. routing in ``run`` before the model is solved; otherwise
    ``forkserver`` (clean children that receive the graph), ``spawn`` where that is missing."""
    import multiprocessing as mp
    import threading

    methods = mp.get_all_start_methods()
    if "fork" in methods and not _NATIVE_THREADS and threading.active_count() == 1:
        return "fork"
    return "forkserver" if "forkserver" in methods else "spawn"


def _set_graph(graph: object) -> None:
    global _GRAPH
    _GRAPH = graph


def _dijkstra_batch(
    args: tuple[np.ndarray, np.ndarray, float],
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    sources, targets, limit = args
    graph: sp.csr_matrix = _GRAPH
    dist = dijkstra(graph, directed=True, indices=sources, limit=limit)
    sub = dist[:, targets]
    r, c = np.nonzero(np.isfinite(sub))
    return r, c, sub[r, c]


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
    only for finite values within ``limit``. Batches of sources run in ``workers`` processes
    (SciPy's Dijkstra holds the GIL, so threads would not help); each batch's dense rows stay
    under ~256 MB.
    """
    import multiprocessing as mp
    from concurrent.futures import ProcessPoolExecutor

    n = graph.shape[0]  # type: ignore[attr-defined]
    sources = np.asarray(sources, dtype=np.int64)
    targets = np.asarray(targets, dtype=np.int64)
    batch = int(max(1, min(512, _BATCH_BYTES // (8 * max(n, 1)))))
    if workers > 1:  # at least a few batches per worker, for balance
        batch = max(1, min(batch, -(-sources.size // (4 * workers))))
    starts = list(range(0, sources.size, batch))
    jobs = [(sources[k : k + batch], targets, limit) for k in starts]
    try:
        # a daemonic process (a Dask worker) may not start children: run the batches here
        use_pool = (
            workers > 1
            and len(jobs) > 1
            and sources.size * n > 2_000_000
            and not mp.current_process().daemon
        )
        if use_pool:
            # fork while no solver threads exist, else forkserver: workers start clean (a fork
            # of a process running solver threads is unsafe), receive the graph once
            method = _pool_start_method()
            with ProcessPoolExecutor(
                max_workers=workers,
                mp_context=mp.get_context(method),
                initializer=_set_graph,
                initargs=(graph,),
            ) as pool:
                parts = list(pool.map(_dijkstra_batch, jobs))
        else:
            _set_graph(graph)
            parts = [_dijkstra_batch(j) for j in jobs]
    finally:
        _set_graph(None)
    if not parts:
        return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0)
    return (
        np.concatenate([r + k for (r, _, _), k in zip(parts, starts, strict=True)]),
        np.concatenate([p[1] for p in parts]),
        np.concatenate([p[2] for p in parts]),
    )


def _csr_min(rows: np.ndarray, cols: np.ndarray, vals: np.ndarray, n: int) -> sp.csr_matrix:
    """Sparse matrix keeping the smallest value of repeated (row, col) entries."""
    order = np.lexsort((vals, cols, rows))
    rows, cols, vals = rows[order], cols[order], vals[order]
    first = np.ones(rows.size, dtype=bool)
    first[1:] = (rows[1:] != rows[:-1]) | (cols[1:] != cols[:-1])
    return sp.csr_matrix((np.maximum(vals[first], 1e-9), (rows[first], cols[first])), shape=(n, n))


def _part(fraction: np.ndarray, weight: np.ndarray) -> np.ndarray:
    """``fraction x weight`` of an arc, inf where the arc does not exist (0 x inf stays inf)."""
    fraction = np.maximum(fraction, 0.0)
    out = np.full(np.broadcast(fraction, weight).shape, np.inf)
    fin = np.broadcast_to(np.isfinite(weight), out.shape)
    out[fin] = np.broadcast_to(fraction, out.shape)[fin] * np.broadcast_to(weight, out.shape)[fin]
    return out


def _arc_weights(graph: sp.csr_matrix, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Weight of arc a->b for each pair (inf where there is no such arc)."""
    if a.size == 0:
        return np.zeros(0)
    w = np.asarray(graph[a, b]).ravel().astype(float)
    return np.where(w > 0, w, np.inf)


def _snap_weights(
    graph: sp.csr_matrix,
    snap: Snapped,
    ok: np.ndarray,
    road: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Cost of the snapped road ``a -> b`` and ``b -> a`` for the points ``ok``, and a key of the
    road they lie on: the snapped edge's own arcs when known, else the best arc between a, b."""
    a, b = snap.a[ok], snap.b[ok]
    if road is None or snap.edge is None:
        return _arc_weights(graph, a, b), _arc_weights(graph, b, a), a * graph.shape[0] + b
    u, fwd, back, road_id = road
    e = snap.edge[ok]
    along = u[e] == a
    return np.where(along, fwd[e], back[e]), np.where(along, back[e], fwd[e]), road_id[e]


def augmented_graph(
    graph: sp.csr_matrix,
    points: list[Snapped],
    *,
    access_per_m: float,
    road: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None = None,
) -> tuple[sp.csr_matrix, list[np.ndarray]]:
    """The road graph plus one virtual node per snapped point, joined to both ends of its edge.

    ``points`` is a list of groups of snapped points - e.g. demand and sites. A point at
    fraction ``t`` of edge ``(a, b)``, at distance ``d`` from it, leaves the network through
    ``p -> b`` at ``acc + (1 - t) w_ab`` and ``p -> a`` at ``acc + t w_ba`` and is reached through
    ``a -> p`` at ``t w_ab + acc`` and ``b -> p`` at ``(1 - t) w_ba + acc`` (only along arcs the
    mode may use: one-way streets stay one-way), with ``acc = d x access_per_m``. Points of
    different groups on the same edge are also joined directly along the edge, so a clinic and a
    village on one long road are not routed via its end node. ``road`` (edge ``u``, cost
    ``u -> v``, cost ``v -> u``, road id per edge; :meth:`RoadNetwork.road_weights`) makes the
    partial legs run along the snapped road itself, not the best parallel road between the same
    junctions. Returns the graph and, per group, the virtual node index of each point (-1 where
    not snapped).
    """
    n = graph.shape[0]
    coo = graph.tocoo()
    rows, cols, vals = [coo.row.astype(np.int64)], [coo.col.astype(np.int64)], [coo.data]
    next_id = n
    ids: list[np.ndarray] = []
    snaps: list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = []
    for snap in points:
        ok = np.flatnonzero(snap.ok)
        vid = np.full(snap.a.size, -1, dtype=np.int64)
        vid[ok] = next_id + np.arange(ok.size)
        next_id += ok.size
        ids.append(vid)
        a, b, t = snap.a[ok], snap.b[ok], snap.t[ok]
        acc = snap.distance_m[ok] * access_per_m
        w_ab, w_ba, key = _snap_weights(graph, snap, ok, road)
        p = vid[ok]
        for src, dst, w in (
            (p, b, acc + _part(1 - t, w_ab)),
            (p, a, acc + _part(t, w_ba)),
            (a, p, _part(t, w_ab) + acc),
            (b, p, _part(1 - t, w_ba) + acc),
        ):
            fin = np.isfinite(w)
            rows.append(src[fin])
            cols.append(dst[fin])
            vals.append(w[fin])
        snaps.append((p, key, t, acc, w_ab, w_ba))
    # direct links between points of different groups on the same edge
    for gi in range(len(snaps)):
        for gj in range(gi + 1, len(snaps)):
            pi, key_i, ti, acci, wab, wba = snaps[gi]
            pj, key_j, tj, accj, _, _ = snaps[gj]
            common = np.intersect1d(key_i, key_j)
            if common.size == 0:
                continue
            li = np.flatnonzero(np.isin(key_i, common))
            lj = np.flatnonzero(np.isin(key_j, common))
            oi = li[np.argsort(key_i[li], kind="stable")]
            oj = lj[np.argsort(key_j[lj], kind="stable")]
            ki, kj = key_i[oi], key_j[oj]
            uniq, ci = np.unique(ki, return_counts=True)
            _, cj = np.unique(kj, return_counts=True)
            starts_i = np.r_[0, np.cumsum(ci)[:-1]]
            starts_j = np.r_[0, np.cumsum(cj)[:-1]]
            pair_i = np.concatenate(
                [np.repeat(oi[s : s + c], m) for s, c, m in zip(starts_i, ci, cj, strict=True)]
            )
            pair_j = np.concatenate(
                [np.tile(oj[s : s + m], c) for s, c, m in zip(starts_j, ci, cj, strict=True)]
            )
            del uniq
            dt = tj[pair_j] - ti[pair_i]
            w_ab_p, w_ba_p = wab[pair_i], wba[pair_i]
            along_ij = np.where(
                dt >= 0, _part(dt, w_ab_p), _part(-dt, w_ba_p)
            )  # i -> j along the edge
            along_ji = np.where(
                dt <= 0, _part(-dt, w_ab_p), _part(dt, w_ba_p)
            )  # j -> i along the edge
            base = acci[pair_i] + accj[pair_j]
            for src, dst, w in (
                (pi[pair_i], pj[pair_j], base + along_ij),
                (pj[pair_j], pi[pair_i], base + along_ji),
            ):
                fin = np.isfinite(w)
                rows.append(src[fin])
                cols.append(dst[fin])
                vals.append(w[fin])
    g = _csr_min(np.concatenate(rows), np.concatenate(cols), np.concatenate(vals), next_id)
    return g, ids


def direct_legs(
    demand: Snapped, sites: Snapped, *, access_per_m: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Demand-site pairs whose straight off-road leg beats going out to the road and back.

    A pair qualifies when the straight line between the two points is shorter than the sum of
    their off-road legs to the road (``|pq| < d_p + d_q``); its cost is ``|pq| x access_per_m``
    (the off-road speed). Returns ``(demand index, site index, cost)``.
    """
    from scipy.spatial import cKDTree

    empty = np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0)
    if demand.x is None or sites.x is None or demand.y is None or sites.y is None:
        return empty
    d_ok, s_ok = np.flatnonzero(demand.ok), np.flatnonzero(sites.ok)
    if d_ok.size == 0 or s_ok.size == 0:
        return empty
    dxy = np.c_[demand.x[d_ok], demand.y[d_ok]]
    sxy = np.c_[sites.x[s_ok], sites.y[s_ok]]
    radius = sites.distance_m[s_ok] + float(demand.distance_m[d_ok].max())
    hits = cKDTree(dxy).query_ball_point(sxy, r=radius)
    si = np.repeat(np.arange(s_ok.size), [len(h) for h in hits])
    di = np.fromiter((k for h in hits for k in h), dtype=np.int64, count=si.size)
    straight = np.hypot(*(dxy[di] - sxy[si]).T)
    keep = straight < demand.distance_m[d_ok[di]] + sites.distance_m[s_ok[si]]
    return d_ok[di[keep]], s_ok[si[keep]], straight[keep] * access_per_m


def with_direct_legs(
    site_idx: np.ndarray,
    dem_idx: np.ndarray,
    value: np.ndarray,
    demand: Snapped,
    sites: Snapped,
    *,
    access_per_m: float,
    limit: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The routed pairs with each close pair's cost lowered to its direct off-road leg
    (:func:`direct_legs`), adding the pair when the road found none within ``limit``."""
    dd, ds, dv = direct_legs(demand, sites, access_per_m=access_per_m)
    keep = dv <= limit
    if not keep.any():
        return site_idx, dem_idx, value
    s = np.r_[site_idx, ds[keep]]
    d = np.r_[dem_idx, dd[keep]]
    v = np.r_[value, dv[keep]]
    order = np.lexsort((v, s, d))
    s, d, v = s[order], d[order], v[order]
    first = np.ones(s.size, dtype=bool)
    first[1:] = (s[1:] != s[:-1]) | (d[1:] != d[:-1])
    log.info("Direct off-road legs: %d close demand-site pairs", int(keep.sum()))
    return s[first], d[first], v[first]


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
    for snap in (demand, sites):
        for arr in (snap.a, snap.b, snap.t, snap.distance_m, snap.ok, snap.edge, snap.x, snap.y):
            if arr is not None:
                h.update(np.ascontiguousarray(arr).tobytes())
    h.update(json.dumps([direction, cutoff, k, 4]).encode())
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
    """Demand x site travel times (minutes) or road distances (metres) on ``network``.

    Points not snapped get no pairs. ``cutoff_min`` (metres for ``measure="distance"``) bounds
    the search; the table is then complete up to that bound. ``k_nearest`` keeps, for each demand
    point, only its ``k`` nearest sites.
    """
    t0 = time.perf_counter()
    unit = "min" if measure == "time" else "m"
    key = _cache_key(
        network, profile, demand, sites, f"{direction}/{measure}", cutoff_min, k_nearest
    )
    path = cache / f"tt-{key}.npz" if cache is not None else None
    cached = _load(path) if path is not None else None
    if cached is not None:
        log.info("Travel times %s from cache (%s pairs)", name, f"{cached['value'].size:,}")
        return TravelTimes(
            name,
            cached["d"],
            cached["s"],
            cached["value"],
            demand.a.size,
            sites.a.size,
            unit,
            float(cached["complete"]),
        )
    base = network.graph(profile, measure)
    access_per_m = 1.0 if measure == "distance" else 1.0 / (profile.access_kph * 1000.0 / 60.0)
    road = (network.u, *network.road_weights(profile, measure))
    graph, (d_vid, s_vid) = augmented_graph(
        base, [demand, sites], access_per_m=access_per_m, road=road
    )
    if direction == "demand_to_site" and not profile.ignore_oneway:
        graph = graph.T.tocsr()
    d_ok = np.flatnonzero(d_vid >= 0)
    s_ok = np.flatnonzero(s_vid >= 0)
    limit = np.inf if cutoff_min is None else float(cutoff_min)
    spos, dpos, val = node_distances(graph, s_vid[s_ok], d_vid[d_ok], limit=limit, workers=workers)
    site_idx, dem_idx, minutes = with_direct_legs(
        s_ok[spos], d_ok[dpos], val, demand, sites, access_per_m=access_per_m, limit=limit
    )
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
        demand.a.size,
        sites.a.size,
        unit,
        complete,
    )
    log.info(
        "Travel times %s: %s sites x %s demand points on %s road nodes, %s pairs%s in %.2f s",
        name,
        f"{s_ok.size:,}",
        f"{d_ok.size:,}",
        f"{network.n_nodes:,}",
        f"{len(tt):,}",
        "" if cutoff_min is None else f" within {cutoff_min:g} {unit}",
        time.perf_counter() - t0,
    )
    if path is not None:
        _save(path, tt, complete)
    return tt


_CACHE_KEYS = ("d", "s", "value", "complete")


def _load(path: Path) -> dict[str, np.ndarray] | None:
    """A cached table, or None when there is none or it cannot be read (then it is recomputed
    and replaced). Files are only ever replaced whole (:func:`_save`), so a reader sees the old
    or the new table, never a mixture, however many processes share the cache."""
    try:
        # our own handle: np.load leaves the file open when the zip is unreadable
        with open(path, "rb") as fh, np.load(fh, allow_pickle=False) as data:
            out = {k: np.asarray(data[k]) for k in _CACHE_KEYS}
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as exc:
        log.warning("Unreadable travel-time cache %s (%s): recomputing it", path.name, exc)
        return None
    n = out["d"].size
    if out["s"].size != n or out["value"].size != n or out["complete"].size != 1:
        log.warning("Inconsistent travel-time cache %s: recomputing it", path.name)
        return None
    return out


def _save(path: Path, tt: TravelTimes, complete: float) -> None:
    """Write the table to a private temporary file beside ``path`` (a unique name per writer),
    fsync it, then move it over ``path`` atomically: concurrent writers of the same key (batch
    cases of one county on several processes) each publish a whole file, the last one wins."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tt-", suffix=".npz.tmp")
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
