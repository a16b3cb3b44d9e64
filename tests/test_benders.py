"""Benders decomposition and greedy warm starts against brute force and the compact model."""

from __future__ import annotations

import numpy as np
import pytest

from optimizer.errors import CaseError
from optimizer.models.coverage.build import build_coverage_milp
from optimizer.models.coverage.evaluate import check_plan, evaluate_plan
from optimizer.models.coverage.greedy import greedy_plan
from optimizer.models.coverage.method import choose_method
from optimizer.models.coverage.problem import coverage_sets, reduce
from optimizer.models.coverage.solve import solve_coverage
from optimizer.schema.coverage import CoverageModelConfig, Standard
from optimizer.solvers import Status

from .brute import brute_force
from .conftest import OBJ_RTOL, random_instance
from .test_coverage_models import MODELS


@pytest.mark.parametrize("name", sorted(MODELS))
@pytest.mark.parametrize(("seed", "cells"), [(0, 1), (1, 3), (2, 50)])
def test_benders_matches_brute_force(name, seed, cells):
    model, opts = MODELS[name]
    problem, dense = random_instance(seed, model, **opts)
    expected = brute_force(dense)
    sol = solve_coverage(problem, method="benders", benders_cells=cells)
    if expected is None:
        assert sol.status == Status.INFEASIBLE
        return
    assert sol.status == Status.OPTIMAL, (sol.status, sol.message)
    assert sol.method == "benders"
    assert sol.checked
    assert sol.objective == pytest.approx(expected, rel=OBJ_RTOL, abs=1e-6)
    assert sol.bound == pytest.approx(expected, rel=1e-6, abs=1e-6)
    assert sol.benders is not None and sol.benders["mip_rounds"] >= 1


@pytest.mark.parametrize("seed", range(4))
def test_benders_equals_compact_on_larger_random_instances(seed):
    """60 x 25 with budgets, existing sites kept open and a 20-minute share target."""
    rng = np.random.default_rng(seed)
    model = CoverageModelConfig(
        kind="mclp",
        standards=[
            Standard(name="t15", minutes=9),
            Standard(name="t20", minutes=14, weight=0, min_share=float(rng.uniform(0.5, 0.8))),
        ],
        budget=float(rng.integers(8, 20)),
    )
    problem, _ = random_instance(seed, model, n_demand=60, n_sites=25, n_existing=3)
    compact = solve_coverage(problem, method="compact", greedy=False)
    benders = solve_coverage(problem, method="benders", benders_cells=4)
    assert compact.status == benders.status
    if compact.status == Status.OPTIMAL:
        assert benders.objective == pytest.approx(compact.objective, rel=OBJ_RTOL)
        assert benders.gap == pytest.approx(0.0, abs=1e-9)


def test_benders_refuses_a_second_stage():
    model = CoverageModelConfig(
        kind="mclp",
        standards=[Standard(name="t15", minutes=9)],
        max_new_sites=3,
        secondary_objective="min_cost",
    )
    problem, _ = random_instance(0, model)
    with pytest.raises(CaseError, match=r"solver.method: benders.*secondary_objective"):
        solve_coverage(problem, method="benders")
    # auto falls back to the compact model for such a case
    assert solve_coverage(problem, method="auto").method == "compact"


def test_auto_picks_compact_for_small_models_and_rejects_unknown_methods():
    model, opts = MODELS["mclp_p"]
    problem, _ = random_instance(0, model, **opts)
    covs = coverage_sets(problem)
    reduced = reduce(problem, covs)
    assert choose_method(problem, reduced, "auto", "highs") == "compact"
    with pytest.raises(ValueError, match="unknown method"):
        choose_method(problem, reduced, "lagrange", "highs")


@pytest.mark.parametrize("name", ["mclp_p", "mclp_budget", "psclp", "weighted_step"])
@pytest.mark.parametrize("seed", range(5))
def test_greedy_plan_is_feasible_and_never_beats_the_optimum(name, seed):
    model, opts = MODELS[name]
    problem, dense = random_instance(seed, model, **opts)
    covs = coverage_sets(problem)
    reduced = reduce(problem, covs)
    milp = build_coverage_milp(problem, reduced)
    plan = greedy_plan(problem, reduced, milp)
    expected = brute_force(dense)
    if plan is None:
        return
    ev = evaluate_plan(problem, covs, plan)
    assert check_plan(problem, ev) == []
    assert expected is not None
    if model.resolved_objective == "max_coverage":
        assert ev.objective <= expected * (1 + 1e-9) + 1e-9
    else:
        assert ev.objective >= expected * (1 - 1e-9) - 1e-9


def test_greedy_finds_a_plan_for_cardinality_mclp():
    model, _ = MODELS["mclp_p"]
    problem, dense = random_instance(4, model, n_demand=40, n_sites=12)
    assert solve_coverage(problem).warm_start is None  # compact: no greedy unless asked
    sol = solve_coverage(problem, greedy=True)
    assert sol.warm_start == "greedy"
    assert sol.status == Status.OPTIMAL
    assert sol.objective == pytest.approx(brute_force(dense), rel=OBJ_RTOL)
