"""Joint clinic + AED + 120 siting under one budget (MODELS.md §8.2 M1).

The joint model is checked three ways on tiny random instances: against brute-force enumeration;
with one type only it must reproduce that type's own (single-type) optimum; with a sub-budget per
type and a non-binding total it separates into the single-type problems, so its optimum is their
sum. The single-type problems are built from the same data with only that type's sites.
"""

from __future__ import annotations

import numpy as np
import pytest

from geodata.arrays import Demand, Sites, TravelTimes
from optimizer.models.coverage.problem import CoverageProblem
from optimizer.models.coverage.solve import solve_coverage
from optimizer.schema.coverage import CoverageModelConfig, Standard
from optimizer.solvers import Status

from .brute import Dense, brute_force
from .conftest import OBJ_RTOL

TYPES = ("clinic", "aed", "ems")
STANDARDS = {
    "clinic": Standard(name="vc", minutes=9, facility_types=["clinic"]),
    "aed": Standard(name="aed", minutes=6, facility_types=["aed"], round_trip=True, weight=1.5),
    "ems": Standard(name="ems", minutes={"urban": 8, "rural": 14}, facility_types=["ems"]),
}


def _data(seed: int, n_demand: int = 12, n_sites: int = 12):
    rng = np.random.default_rng(seed)
    pts = rng.random((n_demand, 2)) * 10
    sp = rng.random((n_sites, 2)) * 10
    times = np.linalg.norm(pts[:, None] - sp[None], axis=2) * 3.0
    times[rng.random(times.shape) < 0.1] = np.inf
    types = np.asarray([TYPES[j % 3] for j in range(n_sites)], dtype=object)
    cost = rng.integers(1, 6, n_sites).astype(float)
    cost[types == "aed"] = rng.integers(1, 3, int((types == "aed").sum()))
    weight = rng.integers(0, 100, n_demand).astype(float)
    classes = [("urban", "rural")[i % 2] for i in range(n_demand)]
    return times, types, cost, weight, classes


def _problem(seed: int, model: CoverageModelConfig, keep: np.ndarray | None = None):
    times, types, cost, weight, classes = _data(seed)
    keep = np.ones(len(types), dtype=bool) if keep is None else keep
    idx = np.flatnonzero(keep)
    n_d = len(weight)
    zones = np.asarray([f"z{i % 3}" for i in range(n_d)], dtype=object)
    demand = Demand(
        ids=[f"d{i:02d}" for i in range(n_d)], weight=weight, zone=zones, demand_class=classes
    )
    sites = Sites(
        ids=[f"s{j:02d}" for j in idx],
        facility_type=list(types[idx]),
        cost=cost[idx],
        existing=np.zeros(idx.size, dtype=bool),
        zone=np.asarray([f"z{j % 3}" for j in idx], dtype=object),
    )
    t = times[:, idx]
    problem = CoverageProblem(
        demand, sites, {"drive": TravelTimes.from_dense(t, name="drive")}, model
    )
    dense = Dense({"drive": t}, demand, sites, model, ["z0", "z1", "z2"], {})
    return problem, dense


def _solve(problem: CoverageProblem) -> float:
    sol = solve_coverage(problem)
    assert sol.status == Status.OPTIMAL and sol.checked
    return float(sol.objective)


@pytest.mark.parametrize("seed", range(5))
def test_joint_three_types_one_budget_matches_brute_force(seed):
    model = CoverageModelConfig(
        kind="mclp", standards=list(STANDARDS.values()), budget=9, budget_by_type={"aed": 3}
    )
    problem, dense = _problem(seed, model)
    expected = brute_force(dense)
    assert expected is not None
    assert _solve(problem) == pytest.approx(expected, rel=OBJ_RTOL, abs=1e-6)


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("only", TYPES)
def test_joint_with_one_type_reproduces_single_type_optimum(seed, only):
    """All three types' sites and standards present, but only ``only`` may spend: the joint
    optimum equals the single-type model (that type's sites and standard alone)."""
    zero = {t: 0.0 for t in TYPES if t != only}
    joint = CoverageModelConfig(
        kind="mclp", standards=list(STANDARDS.values()), budget=6, budget_by_type=zero
    )
    single = CoverageModelConfig(kind="mclp", standards=[STANDARDS[only]], budget=6)
    types = _data(seed)[1]
    problem, _ = _problem(seed, joint)
    alone, dense = _problem(seed, single, keep=types == only)
    expected = brute_force(dense)
    assert expected is not None
    assert _solve(alone) == pytest.approx(expected, rel=OBJ_RTOL, abs=1e-6)
    assert _solve(problem) == pytest.approx(expected, rel=OBJ_RTOL, abs=1e-6)


@pytest.mark.parametrize("seed", range(5))
def test_joint_with_sub_budgets_is_the_sum_of_single_type_optima(seed):
    sub = {"clinic": 5.0, "aed": 2.0, "ems": 6.0}
    joint = CoverageModelConfig(
        kind="mclp",
        standards=list(STANDARDS.values()),
        budget=sum(sub.values()),
        budget_by_type=sub,
    )
    types = _data(seed)[1]
    total = 0.0
    for t in TYPES:
        single = CoverageModelConfig(kind="mclp", standards=[STANDARDS[t]], budget=sub[t])
        total += _solve(_problem(seed, single, keep=types == t)[0])
    problem, _ = _problem(seed, joint)
    assert _solve(problem) == pytest.approx(total, rel=OBJ_RTOL, abs=1e-6)


def test_a_shared_budget_is_never_worse_than_fixed_sub_budgets():
    """Pooling the money can only help: the one-budget optimum >= any split of it."""
    sub = {"clinic": 4.0, "aed": 2.0, "ems": 4.0}
    split = CoverageModelConfig(
        kind="mclp", standards=list(STANDARDS.values()), budget=10, budget_by_type=sub
    )
    pooled = CoverageModelConfig(kind="mclp", standards=list(STANDARDS.values()), budget=10)
    for seed in range(4):
        assert _solve(_problem(seed, pooled)[0]) >= _solve(_problem(seed, split)[0]) - 1e-6
