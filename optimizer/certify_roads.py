"""Certify a run's travel-time tables against the roads with the independent router.

Every network table a run uses is recomputed on a sample of demand-site pairs by
:mod:`geodata.verify`, which reads the road file itself and applies the documented speed,
snapping, partial-edge and close-pair rules with its own code (it shares nothing with
:mod:`geodata.matrix`, :mod:`geodata.snap` or :mod:`geodata.routing`). The sample is

* ``RANDOM_PAIRS`` (200) pairs drawn at random (fixed seed) among the demand points and sites the
  table serves, whether the table holds the pair or left it out beyond its cutoff, and
* every pair the table holds within ``BAND_MIN`` (1 min) or ``BAND_M`` (100 m) of a threshold of a
  standard reading it, capped at ``NEAR_CAP`` (1,000, a seeded random subset; the block records
  how many were found).

A held pair deviates by ``|table - independent|``; a pair left out beyond the table's bound ``B``
deviates by how far the independent time falls below ``B`` (a full table must hold every reachable
pair). A deviation over ``TOLERANCE`` (0.05 min, 5 m) raises :class:`~optimizer.errors.CheckError`
like an objective mismatch. Tables given as OD files have no roads: their block says so.
"""

from __future__ import annotations

import logging
import math
import time
from typing import Any

import numpy as np

from geodata.arrays import TravelTimes
from geodata.crs import normalise_crs, to_wgs84
from geodata.speeds import profile_of
from geodata.verify import IndependentRoads, IndependentRouter, RouterRules, read_roads

from .errors import CheckError

__all__ = [
    "BAND_M",
    "BAND_MIN",
    "NEAR_CAP",
    "RANDOM_PAIRS",
    "TOLERANCE",
    "check_travel_times",
]

log = logging.getLogger(__name__)

RANDOM_PAIRS = 200
BAND_MIN, BAND_M = 1.0, 100.0
NEAR_CAP = 1000
TOLERANCE = {"min": 0.05, "m": 5.0}
NOT_CHECKED = "not checked: table given, no roads"
NOT_CHECKED_ESTIMATE = "not checked against roads: estimated without roads (its own check)"


def _rules(spec: Any) -> RouterRules:
    """The rule values of one network table: the mode's defaults with the case's overrides."""
    prof = profile_of(spec)
    return RouterRules(
        mode=spec.mode,
        measure=spec.measure,
        speeds_kph=dict(prof.speeds_kph),
        default_kph=prof.default_kph,
        use_maxspeed=prof.use_maxspeed,
        maxspeed_factor=prof.maxspeed_factor,
        overridden=frozenset(spec.speeds_kph or {}),
        ignore_oneway=prof.ignore_oneway,
        ferry_kph=prof.ferry_kph,
        ferry_boarding_min=prof.ferry_boarding_min,
        access_kph=prof.access_kph,
        max_snap_m=spec.max_snap_m,
        snap_exclude=frozenset(spec.snap_exclude),
        components=spec.components,
    )


def _lonlat(points: Any) -> list[tuple[float, float]]:
    lon, lat = to_wgs84(
        np.asarray(points.x, float), np.asarray(points.y, float), normalise_crs(points.crs)
    )
    return list(zip(np.asarray(lon).tolist(), np.asarray(lat).tolist(), strict=True))


def _sample(
    table: TravelTimes,
    thresholds: list[np.ndarray],
    used: tuple[np.ndarray, np.ndarray],
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray, int, int]:
    """Pairs to check as (demand index, site index), random count and near-threshold found."""
    d_used, s_used = np.flatnonzero(used[0]), np.flatnonzero(used[1])
    if table.complete_within == -np.inf:  # k nearest per point: only held pairs are checkable
        pick = rng.choice(len(table), size=min(RANDOM_PAIRS, len(table)), replace=False)
        rd, rs = table.demand_index[pick], table.site_index[pick]
    else:
        total = d_used.size * s_used.size
        flat = np.asarray(
            rng.choice(total, size=min(RANDOM_PAIRS, total), replace=False) if total else [],
            dtype=np.int64,
        )
        rd, rs = d_used[flat // max(s_used.size, 1)], s_used[flat % max(s_used.size, 1)]
    band = BAND_MIN if table.unit == "min" else BAND_M
    near = np.zeros(len(table), dtype=bool)
    for thr in thresholds:
        t = thr[table.demand_index]
        near |= np.isfinite(t) & (np.abs(table.value - t) <= band)
    found = np.flatnonzero(near)
    if found.size > NEAR_CAP:
        found = np.sort(rng.choice(found, size=NEAR_CAP, replace=False))
    d = np.r_[rd, table.demand_index[found]]
    s = np.r_[rs, table.site_index[found]]
    _, first = np.unique(d * (table.n_sites + 1) + s, return_index=True)
    keep = np.sort(first)
    return d[keep], s[keep], int(rd.size), int(near.sum())


def _held(table: TravelTimes, d_idx: np.ndarray, s_idx: np.ndarray) -> np.ndarray:
    """The table's value of each sampled pair (nan where the table leaves the pair out)."""
    key = table.demand_index.astype(np.int64) * (table.n_sites + 1) + table.site_index
    order = np.argsort(key, kind="stable")
    want = d_idx.astype(np.int64) * (table.n_sites + 1) + s_idx
    pos = np.searchsorted(key[order], want)
    pos = np.minimum(pos, max(key.size - 1, 0))
    out = np.full(want.size, np.nan)
    if key.size:
        hit = key[order][pos] == want
        out[hit] = table.value[order][pos[hit]]
    return out


def _deviation(held: float | None, candidates: list[float], bound: float) -> float:
    """How far the table is from the independent router on one pair: ``|held - c|``, or for a
    pair left out beyond the bound, how far ``c`` falls below it (the best of tied snaps)."""

    def one(c: float) -> float:
        if held is not None:
            return abs(held - c) if math.isfinite(c) else math.inf
        if not math.isfinite(c):
            return 0.0
        return max(0.0, bound - c) if math.isfinite(bound) else math.inf

    return min(one(c) for c in candidates)  # roads tied for nearest: either is right


def check_table(
    table: TravelTimes,
    router: IndependentRouter,
    *,
    direction: str,
    demand: Any,
    sites: Any,
    thresholds: list[np.ndarray],
    used: tuple[np.ndarray, np.ndarray],
    seed: int = 0,
    estimated_beyond: bool = False,
) -> dict[str, Any]:
    """Recompute a sample of one table; returns its ``travel_times_check`` block.

    ``estimated_beyond`` (``far_points: estimate``): pairs with an end the roads do not reach
    carry a straight-line estimate checked on its own; they are left out of this check."""
    t0 = time.perf_counter()
    rng = np.random.default_rng(seed)
    d_idx, s_idx, n_random, n_near = _sample(table, thresholds, used, rng)
    dem_ll, site_ll = _lonlat(demand), _lonlat(sites)
    skipped = 0
    if estimated_beyond:
        on_d = {d: router.on_roads(*dem_ll[d]) for d in set(d_idx.tolist())}
        on_s = {k: router.on_roads(*site_ll[k]) for k in set(s_idx.tolist())}
        pairs_on = zip(d_idx.tolist(), s_idx.tolist(), strict=True)
        keep = np.array([on_d[d] and on_s[k] for d, k in pairs_on], dtype=bool).reshape(-1)
        skipped = int((~keep).sum())
        d_idx, s_idx = d_idx[keep], s_idx[keep]
    held = _held(table, d_idx, s_idx)
    to_site = direction == "demand_to_site"
    origins, dests = (dem_ll, site_ll) if to_site else (site_ll, dem_ll)
    pairs = [
        (int(d), int(s)) if to_site else (int(s), int(d)) for d, s in zip(d_idx, s_idx, strict=True)
    ]
    limit = math.inf  # a full table: every pair, however far
    if np.isfinite(table.complete_within):  # a cutoff: exact values are needed up to it only
        top = float(np.nanmax(held, initial=0.0))
        limit = max(float(table.complete_within), top) + 1.0
    found = router.trips(origins, dests, pairs, limit=limit)
    devs, worst = [], None
    for d, s, h, cands in zip(d_idx.tolist(), s_idx.tolist(), held.tolist(), found, strict=True):
        value = None if math.isnan(h) else float(h)
        dev = _deviation(value, cands, table.complete_within)
        devs.append(dev)
        if worst is None or dev > worst[0]:
            worst = (dev, d, s, value, min(cands))
    tol = TOLERANCE[table.unit]
    dev_arr = np.asarray(devs, dtype=float)
    block: dict[str, Any] = {
        "status": "checked",
        "router": "geodata.verify (own road reader, speed and snapping rules; SciPy Dijkstra)",
        "pairs_checked": int(dev_arr.size),
        "random_pairs": n_random,
        "near_threshold_found": n_near,
        "near_threshold_checked": int(dev_arr.size) - n_random,
        "near_threshold_cap": NEAR_CAP,
        "band": BAND_MIN if table.unit == "min" else BAND_M,
        "unit": table.unit,
        "tolerance": tol,
        "max_deviation": _finite(float(dev_arr.max())) if dev_arr.size else 0.0,
        "mean_deviation": _finite(float(dev_arr.mean())) if dev_arr.size else 0.0,
        "worst_pair": None,
        "estimated_pairs_skipped": skipped,
        "passed": bool(dev_arr.size == 0 or dev_arr.max() <= tol),
        "seconds": round(time.perf_counter() - t0, 3),
    }
    if worst is not None:
        _, d, s, value, indep = worst
        block["worst_pair"] = {
            "demand": str(demand.ids[d]),
            "site": str(sites.ids[s]),
            "table": None if value is None else round(value, 4),
            "independent": _finite(indep),
        }
    return block


def _finite(x: float) -> float | None:
    return round(x, 4) if math.isfinite(x) else None


def _roads(
    case: Any, name: str, routing: dict[str, Any], graphs: dict[str, Any]
) -> IndependentRoads:
    """The roads of network ``name`` as the user handed them over: the graph as the file reader
    returned it (converted here, by the independent router's own code), else read here."""
    from geodata.verify import roads_from_graph, roads_from_tables

    if name in graphs:
        return roads_from_graph(graphs[name])
    cfg = case.config.networks[name]
    if cfg.file is not None:
        nodes = case.resolve(cfg.nodes_file) if cfg.nodes_file is not None else None
        return read_roads(case.resolve(cfg.file), nodes, cfg.network_type)
    # a download: the cached graph as loaded (osmnx's own cache), written out as tables
    net = next(r.road_network for r in routing.values() if r.network == name)
    return roads_from_tables(*net.edge_tables())


def check_travel_times(
    prepared: Any,
    used: dict[str, tuple[np.ndarray, np.ndarray]],
    *,
    graphs: dict[str, Any] | None = None,
) -> dict[str, dict[str, Any]]:
    """The ``travel_times_check`` block of every table of a prepared case; raises
    :class:`CheckError` when a table deviates from the roads beyond tolerance. ``graphs``: the
    networks' graphs as their readers returned them (else the files are read again)."""
    from .schema.data import NetworkTravelTimesConfig

    case, problem = prepared.case, prepared.problem
    specs = case.config.travel_times
    thresholds = problem.table_thresholds()  # each family states its own
    roads: dict[str, IndependentRoads] = {}
    out: dict[str, dict[str, Any]] = {}
    for name, table in problem.travel_times.items():
        spec = specs.get(name)
        if not isinstance(spec, NetworkTravelTimesConfig) or name not in prepared.routing:
            estimated = getattr(spec, "mode", None) == "estimate"
            out[name] = {"status": NOT_CHECKED_ESTIMATE if estimated else NOT_CHECKED}
            continue
        if spec.network not in roads:
            roads[spec.network] = _roads(case, spec.network, prepared.routing, graphs or {})
        router = IndependentRouter(roads[spec.network], _rules(spec))
        default = (np.ones(len(problem.demand), bool), np.ones(len(problem.sites), bool))
        out[name] = check_table(
            table,
            router,
            direction=spec.direction,
            demand=problem.demand,
            sites=problem.sites,
            thresholds=thresholds.get(name, []),
            used=used.get(name, default),
            estimated_beyond=spec.far_points == "estimate",
        )
        b = out[name]
        log.info(
            "Travel times %s checked on the roads: %d pairs, max deviation %s %s (%.2f s)",
            name,
            b["pairs_checked"],
            b["max_deviation"],
            b["unit"],
            b["seconds"],
        )
    bad = [
        f"travel-time table '{n}' deviates from the independent router by "
        f"{b['max_deviation']} {b['unit']} (tolerance {b['tolerance']}): demand "
        f"{b['worst_pair']['demand']}, site {b['worst_pair']['site']}: table "
        f"{b['worst_pair']['table']}, roads {b['worst_pair']['independent']}"
        for n, b in out.items()
        if b.get("status") == "checked" and not b["passed"]
    ]
    if bad:
        raise CheckError(bad)
    return out
