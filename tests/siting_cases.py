"""Tiny random p-median / p-center instances and the OR-Library files, for the siting tests."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache, lru_cache

import numpy as np

from geodata.arrays import Demand, Sites, TravelTimes
from geodata.orlib import PMedInstance, read_pmed, read_pmed_optima

from .conftest import shared_path

#: Published p-center radii of pmed1..40 (MODELS.md §1.5).
PCENTER_RADII = [
    127, 98, 93, 74, 48, 84, 64, 55, 37, 20, 59, 51, 36, 26, 18, 47, 39, 28, 18, 13,
    40, 38, 22, 15, 11, 38, 32, 18, 13, 9, 30, 29, 15, 11, 30, 27, 15, 29, 23, 13,
]  # fmt: skip


@dataclass
class Tiny:
    demand: Demand
    sites: Sites
    tt: TravelTimes
    times: np.ndarray  # dense demand x site, inf = unreachable


def tiny_instance(
    seed: int,
    *,
    n_demand: int = 10,
    n_sites: int = 6,
    n_existing: int = 0,
    unreachable_share: float = 0.15,
    integer_times: bool = True,
    with_capacity: bool = False,
    zero_weights: bool = True,
    n_zones: int = 2,
) -> Tiny:
    """Points on a 10 x 10 plane, travel time = 3 x distance (rounded: many ties)."""
    rng = np.random.default_rng(seed)
    d = rng.random((n_demand, 2)) * 10
    s = rng.random((n_sites, 2)) * 10
    times = np.linalg.norm(d[:, None] - s[None], axis=2) * 3.0
    if integer_times:
        times = np.round(times)
    times[rng.random(times.shape) < unreachable_share] = np.inf
    # keep every demand point reachable from at least one site
    for i in np.flatnonzero(~np.isfinite(times).any(axis=1)):
        times[i, rng.integers(n_sites)] = float(rng.integers(1, 30))
    weight = rng.integers(0 if zero_weights else 1, 60, n_demand).astype(float)
    existing = np.zeros(n_sites, dtype=bool)
    existing[:n_existing] = True
    capacity = None
    if with_capacity:
        capacity = rng.integers(40, 200, n_sites).astype(float)
    demand = Demand(
        ids=np.asarray([f"d{i:02d}" for i in range(n_demand)], dtype=object),
        weight=weight,
        zone=np.asarray([f"z{i % n_zones}" for i in range(n_demand)], dtype=object),
    )
    sites = Sites(
        ids=np.asarray([f"s{j:02d}" for j in range(n_sites)], dtype=object),
        facility_type=np.asarray(["clinic"] * n_sites, dtype=object),
        cost=np.ones(n_sites),
        existing=existing,
        capacity=capacity,
    )
    return Tiny(demand, sites, TravelTimes.from_dense(times, name="drive"), times)


@cache
def orlib(name: str) -> PMedInstance:
    return read_pmed(shared_path("bench-data", "orlib-pmed", f"{name}.txt"))


@lru_cache(maxsize=1)
def orlib_optima() -> dict[str, float]:
    return read_pmed_optima(shared_path("bench-data", "orlib-pmed", "pmedopt.txt"))
