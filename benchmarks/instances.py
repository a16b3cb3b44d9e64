"""MCLP benchmark instances as dense cost matrices (the input PySAL spopt's ``from_cost_matrix`` takes).

* :func:`sf_instance` — spopt's own San Francisco fixture: 205 census tracts x 16 candidate
  stores, ArcGIS network distances in metres, tract population as weight; service radius 5,000 m
  and p = 4, as in spopt's ``test_mclp.py::TestRealWorldLocate``.
* :func:`uniform_instance` — uniform random points in a square, Euclidean travel time at
  30 km/h, a 15-minute standard. The square's side is chosen so that a demand point has on
  average :data:`MEAN_CANDIDATES` candidate sites within the standard (a handful, as for a
  village and the candidate clinic sites within its 15-minute circle), whatever the size; and
  p = one third of the candidates, a planner short of a full cover (about 98-99 % of the weight
  gets covered). Weights are log-normal "populations" (median about 400). Deterministic per seed.

Instances are saved to and loaded from ``.npz`` files so that each side of the benchmark can run
in a fresh process on exactly the same arrays.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

__all__ = [
    "MEAN_CANDIDATES",
    "Instance",
    "InstanceSpec",
    "load_instance",
    "save_instance",
    "sf_instance",
    "shared_dir",
    "uniform_instance",
    "uniform_pairs",
]

SPEED_KPH = 30.0
STANDARD_MIN = 15.0
MEAN_CANDIDATES = 5.0
"""Expected number of candidate sites within the standard of a demand point (edge effects aside)."""
SITES_PER_P = 3
"""p = round(n_sites / SITES_PER_P)."""

_SF_DIR = ("bench-data", "spopt-fixtures")
_SF_OD = "SF_network_distance_candidateStore_16_censusTract_205_new.csv"
_SF_DEMAND = "SF_demand_205_centroid_uniform_weight.csv"


@dataclass(frozen=True)
class InstanceSpec:
    """What an instance is: sizes, the standard (radius in ``unit``), p and where it comes from."""

    name: str
    n_demand: int
    n_sites: int
    p: int
    radius: float
    unit: str  # "m" (distances) or "min" (travel times)
    source: str
    seed: int | None = None


@dataclass(frozen=True, eq=False)
class Instance:
    spec: InstanceSpec
    cost: np.ndarray  # (n_demand, n_sites) float64, dense
    weight: np.ndarray  # (n_demand,) float64

    def describe(self) -> dict[str, float]:
        """Coverage statistics of the instance (how many candidates a demand point reaches)."""
        reach = (self.cost <= self.spec.radius).sum(axis=1)
        return {
            "mean_candidates_within_standard": float(reach.mean()),
            "share_demand_without_candidate": float((reach == 0).mean()),
            "total_weight": float(self.weight.sum()),
        }


def shared_dir() -> Path:
    """The shared data folder (``SHARED_DIR`` or ``../shared`` beside the repository)."""
    env = os.environ.get("SHARED_DIR")
    if env:
        return Path(env)
    return Path(__file__).resolve().parents[1].parent / "shared"


def sf_instance(shared: Path | None = None) -> Instance:
    """spopt's San Francisco fixture as a 205 x 16 matrix of network distances (metres)."""
    import pandas as pd

    base = (shared or shared_dir()).joinpath(*_SF_DIR)
    od_path, dem_path = base / _SF_OD, base / _SF_DEMAND
    missing = [str(p) for p in (od_path, dem_path) if not p.exists()]
    if missing:
        raise FileNotFoundError(
            f"spopt SF fixture: missing {', '.join(missing)}; set SHARED_DIR to the shared folder"
        )
    dem = pd.read_csv(dem_path, dtype={"NAME": str})
    od = pd.read_csv(od_path, dtype={"DestinationName": str})
    stores = sorted(od["name"].unique(), key=lambda s: int(str(s).split("_")[1]))
    tracts = dem["NAME"].tolist()
    di = pd.Index(tracts).get_indexer(od["DestinationName"])
    sj = pd.Index(stores).get_indexer(od["name"])
    if (di < 0).any() or (sj < 0).any():
        raise ValueError(f"{od_path.name}: tract or store ids not found in {dem_path.name}")
    cost = np.full((len(tracts), len(stores)), np.inf)
    cost[di, sj] = od["distance"].to_numpy(dtype=float)
    if not np.isfinite(cost).all():
        raise ValueError(f"{od_path.name}: some tract x store distances are missing")
    spec = InstanceSpec(
        name=f"sf-{len(tracts)}x{len(stores)}",
        n_demand=len(tracts),
        n_sites=len(stores),
        p=4,
        radius=5000.0,
        unit="m",
        source="spopt SF fixture (ArcGIS network distances, POP2000 weights)",
    )
    return Instance(spec, cost, dem["POP2000"].to_numpy(dtype=float))


def uniform_instance(n_demand: int, n_sites: int, *, seed: int = 1) -> Instance:
    """Uniform points in a square; travel time in minutes at 30 km/h; 15-minute standard."""
    from scipy.spatial.distance import cdist

    rng = np.random.default_rng([seed, n_demand, n_sites])
    radius_km = SPEED_KPH * STANDARD_MIN / 60.0
    side_km = radius_km * np.sqrt(np.pi * n_sites / MEAN_CANDIDATES)
    demand_xy = rng.random((n_demand, 2)) * side_km
    site_xy = rng.random((n_sites, 2)) * side_km
    cost = cdist(demand_xy, site_xy) * (60.0 / SPEED_KPH)
    weight = np.maximum(1.0, np.round(rng.lognormal(mean=6.0, sigma=1.0, size=n_demand)))
    spec = InstanceSpec(
        name=f"uniform-{n_demand}x{n_sites}",
        n_demand=n_demand,
        n_sites=n_sites,
        p=max(1, round(n_sites / SITES_PER_P)),
        radius=STANDARD_MIN,
        unit="min",
        source=(
            f"uniform points in a {side_km:.0f} km square, Euclidean time at {SPEED_KPH:.0f} km/h, "
            f"seed {seed}"
        ),
        seed=seed,
    )
    return Instance(spec, cost, weight)


def uniform_pairs(
    n_demand: int, n_sites: int, *, seed: int = 1, cutoff_min: float = STANDARD_MIN
) -> tuple[InstanceSpec, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """:func:`uniform_instance` as a long table bounded at ``cutoff_min`` (no dense matrix).

    The same points, weights and spec as :func:`uniform_instance` with the same arguments (the
    random draws are identical), but only the pairs within ``cutoff_min`` minutes are returned,
    as a road-network search bounded at the largest standard would give them: a 10^5 x 10^4
    dense matrix would take 8 GB. Returns ``(spec, weight, demand_index, site_index, minutes)``.
    """
    from scipy.spatial import cKDTree

    rng = np.random.default_rng([seed, n_demand, n_sites])
    radius_km = SPEED_KPH * STANDARD_MIN / 60.0
    side_km = radius_km * np.sqrt(np.pi * n_sites / MEAN_CANDIDATES)
    demand_xy = rng.random((n_demand, 2)) * side_km
    site_xy = rng.random((n_sites, 2)) * side_km
    weight = np.maximum(1.0, np.round(rng.lognormal(mean=6.0, sigma=1.0, size=n_demand)))
    cut_km = SPEED_KPH * cutoff_min / 60.0
    pairs = cKDTree(demand_xy).sparse_distance_matrix(
        cKDTree(site_xy), cut_km, output_type="coo_matrix"
    )
    order = np.lexsort((pairs.col, pairs.row))
    di = pairs.row[order].astype(np.int64)
    sj = pairs.col[order].astype(np.int64)
    minutes = pairs.data[order] * (60.0 / SPEED_KPH)
    spec = InstanceSpec(
        name=f"uniform-{n_demand}x{n_sites}",
        n_demand=n_demand,
        n_sites=n_sites,
        p=max(1, round(n_sites / SITES_PER_P)),
        radius=STANDARD_MIN,
        unit="min",
        source=(
            f"uniform points in a {side_km:.0f} km square, Euclidean time at {SPEED_KPH:.0f} km/h, "
            f"seed {seed}; pairs within {cutoff_min:g} min only"
        ),
        seed=seed,
    )
    return spec, weight, di, sj, minutes


def save_instance(instance: Instance, path: Path) -> None:
    np.savez(
        path,
        cost=instance.cost,
        weight=instance.weight,
        spec=np.asarray(json.dumps(asdict(instance.spec))),
    )


def load_instance(path: Path) -> Instance:
    with np.load(path) as data:
        spec = InstanceSpec(**json.loads(str(data["spec"])))
        return Instance(spec, np.ascontiguousarray(data["cost"]), np.asarray(data["weight"]))
