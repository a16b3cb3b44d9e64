"""Property tests on random small instances (hypothesis), and the checker catching bad answers."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from optimizer.errors import CheckError
from optimizer.models.coverage.evaluate import check_plan, evaluate_plan
from optimizer.models.coverage.problem import coverage_sets
from optimizer.models.coverage.solve import solve_coverage
from optimizer.schema.coverage import CoverageModelConfig, Standard, ZoneRule
from optimizer.solvers import SolveResult, Status

from .brute import brute_force
from .conftest import OBJ_RTOL, random_instance

PROFILE = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def models(draw):
    minutes = draw(st.floats(4, 16))
    kind = draw(
        st.sampled_from(["mclp_p", "mclp_budget", "two", "zone_share", "zone_rule", "relocate"])
    )
    std = Standard(name="s", minutes=minutes)
    if kind == "mclp_p":
        return CoverageModelConfig(
            kind="mclp", standards=[std], max_new_sites=draw(st.integers(0, 5))
        ), {}
    if kind == "mclp_budget":
        return CoverageModelConfig(kind="mclp", standards=[std], budget=draw(st.floats(0, 15))), {}
    if kind == "two":
        outer = Standard(
            name="o",
            minutes=minutes + draw(st.floats(1, 8)),
            weight=0,
            min_share=draw(st.floats(0.3, 1.0)),
        )
        return CoverageModelConfig(
            kind="mclp", standards=[std, outer], max_new_sites=draw(st.integers(1, 5))
        ), {}
    if kind == "zone_share":
        s = Standard(name="s", minutes=minutes, zone_min_share=draw(st.floats(0.1, 0.9)))
        return CoverageModelConfig(
            kind="mclp", standards=[s], max_new_sites=draw(st.integers(1, 6))
        ), {}
    if kind == "zone_rule":
        return CoverageModelConfig(
            kind="mclp",
            standards=[std],
            max_new_sites=draw(st.integers(2, 6)),
            zone_rules=[ZoneRule(min_sites=draw(st.integers(1, 2)))],
        ), {}
    return (
        CoverageModelConfig(
            kind="mclp",
            standards=[std],
            budget=draw(st.floats(0, 8)),
            existing="may_close",
            keep_existing_count=draw(st.booleans()),
        ),
        {"n_existing": 2, "with_closure": True},
    )


@PROFILE
@given(models(), st.integers(0, 10_000))
def test_solution_is_optimal_and_passes_checker(model_opts, seed):
    model, opts = model_opts
    problem, dense = random_instance(seed, model, **opts)
    sol = solve_coverage(problem)
    expected = brute_force(dense)
    if expected is None:
        assert sol.status == Status.INFEASIBLE
        return
    assert sol.status == Status.OPTIMAL
    assert sol.objective == pytest.approx(expected, rel=OBJ_RTOL, abs=1e-6)
    covs = coverage_sets(problem)
    assert check_plan(problem, evaluate_plan(problem, covs, sol.open_mask)) == []


@PROFILE
@given(models(), st.integers(0, 10_000))
def test_aggregated_equals_unaggregated(model_opts, seed):
    model, opts = model_opts
    problem, _ = random_instance(seed, model, n_demand=30, **opts)
    a = solve_coverage(problem, aggregate=True, drop_dominated=True)
    b = solve_coverage(problem, aggregate=False, drop_dominated=False)
    assert a.status == b.status
    if a.status == Status.OPTIMAL:
        assert a.objective == pytest.approx(b.objective, rel=OBJ_RTOL, abs=1e-6)


@PROFILE
@given(st.floats(3, 15), st.floats(0.1, 6), st.integers(1, 5), st.integers(0, 10_000))
def test_longer_standard_never_lowers_mclp(t, extra, p, seed):
    def solve(minutes):
        model = CoverageModelConfig(
            kind="mclp", standards=[Standard(name="s", minutes=minutes)], max_new_sites=p
        )
        problem, _ = random_instance(seed, model, n_demand=25, n_sites=10)
        return solve_coverage(problem).objective

    assert solve(t + extra) >= solve(t) - 1e-9


@PROFILE
@given(st.integers(0, 10_000), st.integers(1, 5))
def test_more_sites_never_lower_mclp(seed, p):
    def solve(p):
        model = CoverageModelConfig(
            kind="mclp", standards=[Standard(name="s", minutes=8)], max_new_sites=p
        )
        return solve_coverage(random_instance(seed, model, n_demand=25, n_sites=10)[0]).objective

    assert solve(p + 1) >= solve(p) - 1e-9


def test_checker_rejects_a_wrong_answer(monkeypatch):
    """A backend that returns a wrong plan must raise CheckError, never reach a report."""
    model = CoverageModelConfig(
        kind="mclp", standards=[Standard(name="s", minutes=9)], max_new_sites=2
    )
    problem, _ = random_instance(1, model)
    import optimizer.models.coverage.solve as cov_mod

    real_solve = cov_mod.solve

    def lying_solve(milp, options, backend):
        res = real_solve(milp, options, backend)
        x = res.x.copy()
        y = milp.var_blocks["y"]
        x[y.slice] = 1.0  # opens every site: breaks max_new_sites and inflates coverage
        return SolveResult(
            res.status, x, res.objective, res.bound, res.runtime_s, res.solver, res.solver_version
        )

    monkeypatch.setattr(cov_mod, "solve", lying_solve)
    with pytest.raises(CheckError, match="max_new_sites"):
        solve_coverage(problem)


def test_checker_rejects_an_objective_mismatch(monkeypatch):
    model = CoverageModelConfig(
        kind="mclp", standards=[Standard(name="s", minutes=9)], max_new_sites=2
    )
    problem, _ = random_instance(1, model)
    import optimizer.models.coverage.solve as cov_mod

    real_solve = cov_mod.solve

    def inflated(milp, options, backend):
        res = real_solve(milp, options, backend)
        return SolveResult(
            res.status,
            res.x,
            res.objective + 50.0,
            res.bound + 50.0,
            res.runtime_s,
            res.solver,
            res.solver_version,
        )

    monkeypatch.setattr(cov_mod, "solve", inflated)
    with pytest.raises(CheckError, match="objective mismatch"):
        solve_coverage(problem)


def test_dominated_sites_are_reported_and_never_needed():
    model = CoverageModelConfig(
        kind="mclp", standards=[Standard(name="s", minutes=9)], max_new_sites=3
    )
    problem, dense = random_instance(4, model, n_sites=10)
    sol = solve_coverage(problem)
    assert sol.dominated_by, "this instance has dominated candidates"
    for j, k in sol.dominated_by.items():
        assert j != k
        assert problem.sites.cost[k] <= problem.sites.cost[j]
    assert sol.objective == pytest.approx(brute_force(dense))
