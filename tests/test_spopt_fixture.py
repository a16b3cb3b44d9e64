"""spopt's San Francisco fixture (205 tracts x 16 stores, ArcGIS network distances).

The independent oracle enumerates all 2^16 = 65,536 store subsets with bit masks.
"""

from __future__ import annotations

from functools import cache

import numpy as np
import pandas as pd
import pytest

from geodata.arrays import Demand, Sites, TravelTimes
from optimizer.models.coverage.problem import CoverageProblem
from optimizer.models.coverage.solve import solve_coverage
from optimizer.schema.coverage import CoverageModelConfig, Standard
from optimizer.solvers import Status

from .conftest import OBJ_RTOL, shared_path


@cache
def _fixture():
    base = shared_path("bench-data", "spopt-fixtures")
    dem = pd.read_csv(base / "SF_demand_205_centroid_uniform_weight.csv", dtype={"NAME": str})
    od = pd.read_csv(
        base / "SF_network_distance_candidateStore_16_censusTract_205_new.csv",
        dtype={"DestinationName": str},
    )
    stores = sorted(od["name"].unique(), key=lambda s: int(s.split("_")[1]))
    tracts = dem["NAME"].tolist()
    di = pd.Index(tracts).get_indexer(od["DestinationName"])
    sj = pd.Index(stores).get_indexer(od["name"])
    assert (di >= 0).all() and (sj >= 0).all()
    dist = np.full((len(tracts), len(stores)), np.inf)
    dist[di, sj] = od["distance"].to_numpy()
    pop = dem["POP2000"].to_numpy(float)
    return tracts, stores, dist, pop


def _problem(model: CoverageModelConfig) -> CoverageProblem:
    tracts, stores, dist, pop = _fixture()
    demand = Demand(ids=tracts, weight=pop)
    sites = Sites(
        ids=stores,
        facility_type=["store"] * len(stores),
        cost=np.ones(len(stores)),
        existing=np.zeros(len(stores), bool),
    )
    return CoverageProblem(
        demand, sites, {"d": TravelTimes.from_dense(dist, name="d", unit="m")}, model
    )


@cache
def _enumeration(radius: float):
    """(popcount, covered population, covers-everyone) for every subset of the 16 stores."""
    _, stores, dist, pop = _fixture()
    n = len(stores)
    reach = dist <= radius
    masks = np.arange(2**n, dtype=np.int64)
    bits = ((masks[:, None] >> np.arange(n)) & 1).astype(bool)  # subsets x stores
    covered = (bits.astype(np.int32) @ reach.T.astype(np.int32)) > 0  # subsets x tracts
    return bits.sum(axis=1), covered @ pop, covered.all(axis=1)


RADII = [800.0, 1200.0, 1500.0, 2000.0]


@pytest.mark.parametrize("radius", RADII)
@pytest.mark.parametrize("p", [1, 3, 5, 8])
def test_mclp_matches_enumeration(radius, p):
    count, value, _ = _enumeration(radius)
    expected = value[count <= p].max()
    model = CoverageModelConfig(
        kind="mclp", standards=[Standard(name="r", metres=radius)], max_new_sites=p
    )
    sol = solve_coverage(_problem(model))
    assert sol.status == Status.OPTIMAL
    assert sol.objective == pytest.approx(expected, rel=OBJ_RTOL)
    assert int(sol.evaluation.new_mask.sum()) <= p


@pytest.mark.parametrize("radius", [4000.0, 5000.0, 6000.0, 8000.0])
def test_lscp_matches_enumeration(radius):
    count, _, covers_all = _enumeration(radius)
    model = CoverageModelConfig(kind="lscp", standards=[Standard(name="r", metres=radius)])
    sol = solve_coverage(_problem(model))
    if not covers_all.any():
        assert sol.status == Status.INFEASIBLE
        assert "demand points" in sol.diagnosis[0]
        return
    assert sol.status == Status.OPTIMAL
    assert sol.objective == count[covers_all].min()


@pytest.mark.parametrize("backend", ["highs", "cbc", "ortools"])
def test_backends_agree_on_fixture(backend):
    count, value, _ = _enumeration(1500.0)
    model = CoverageModelConfig(
        kind="mclp", standards=[Standard(name="r", metres=1500)], max_new_sites=4
    )
    sol = solve_coverage(_problem(model), backend=backend)
    assert sol.status == Status.OPTIMAL
    assert sol.objective == pytest.approx(value[count <= 4].max(), rel=OBJ_RTOL)


def test_psclp_matches_enumeration():
    count, value, _ = _enumeration(2000.0)
    total = _fixture()[3].sum()
    model = CoverageModelConfig(
        kind="psclp", standards=[Standard(name="r", metres=2000, min_share=0.4)]
    )
    sol = solve_coverage(_problem(model))
    feasible = value >= 0.4 * total - 1e-9
    assert sol.status == Status.OPTIMAL
    assert sol.objective == count[feasible].min()
