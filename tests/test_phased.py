"""Phased roll-out against brute force over every build order; final year vs single shot."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from optimizer.models.coverage.phased import solve_phased
from optimizer.models.coverage.solve import solve_coverage
from optimizer.schema.coverage import CoverageModelConfig, Phase, Standard, ZoneRule
from optimizer.solvers import SolveOptions, SolveResult, Status

from .conftest import OBJ_RTOL, random_instance


def brute_phased(problem, times, model):
    """Best coverage summed over phases, over every (phase of opening | never) per site."""
    d, s = problem.demand, problem.sites
    w = d.weight
    phases = model.phases
    T = len(phases)
    J = len(s.ids)
    std = [(st, times <= st.minutes) for st in model.standards]
    best = None
    for choice in itertools.product(range(T + 1), repeat=J):  # T = never
        when = np.array(choice)
        plans = [(when <= t) for t in range(T)]
        ok = True
        for t, ph in enumerate(phases):
            built = plans[t] & ~(plans[t - 1] if t else np.zeros(J, bool))
            if ph.budget is not None and s.cost[built].sum() > ph.budget + 1e-9:
                ok = False
            if ph.max_new_sites is not None and built.sum() > ph.max_new_sites:
                ok = False
        final = plans[-1]
        if model.max_new_sites is not None and final.sum() > model.max_new_sites:
            ok = False
        for rule in model.zone_rules:
            for z in set(s.zone):
                if (final & (s.zone == z)).sum() < rule.min_sites:
                    ok = False
        if not ok:
            continue
        value = 0.0
        for plan in plans:
            for st, reach in std:
                value += st.weight * w[reach[:, plan].any(axis=1)].sum()
        if best is None or value > best + 1e-9:
            best = value
    return best


CASES = [
    CoverageModelConfig(
        kind="mclp",
        standards=[Standard(name="t", minutes=9)],
        phases=[Phase(name="2025", budget=4), Phase(name="2026", budget=4)],
    ),
    CoverageModelConfig(
        kind="mclp",
        standards=[Standard(name="t", minutes=8), Standard(name="u", minutes=12, weight=0.5)],
        phases=[
            Phase(name="y1", max_new_sites=1),
            Phase(name="y2", budget=5),
            Phase(name="y3", max_new_sites=2),
        ],
    ),
    CoverageModelConfig(
        kind="mclp",
        standards=[Standard(name="t", minutes=9)],
        max_new_sites=3,
        zone_rules=[ZoneRule(min_sites=1)],
        phases=[Phase(name="a", budget=3), Phase(name="b", budget=6)],
    ),
]


@pytest.mark.parametrize("k", range(len(CASES)))
@pytest.mark.parametrize("seed", range(3))
def test_phased_matches_brute_force(k, seed):
    model = CASES[k]
    problem, dense = random_instance(seed, model, n_demand=12, n_sites=6, unreachable_share=0.0)
    expected = brute_phased(problem, dense.times["drive"], model)
    sol = solve_phased(problem)
    if expected is None:
        assert sol.status == Status.INFEASIBLE
        return
    assert sol.status == Status.OPTIMAL
    assert sol.objective == pytest.approx(expected, rel=OBJ_RTOL)
    for a, b in zip(sol.open_by_phase, sol.open_by_phase[1:], strict=False):
        assert not (a & ~b).any(), "what is built stays"


@pytest.mark.parametrize("seed", range(5))
def test_final_year_no_better_than_single_shot(seed):
    model = CASES[0]
    problem, _ = random_instance(seed, model, n_demand=20, n_sites=9)
    phased = solve_phased(problem)
    single = solve_coverage(
        type(problem)(
            problem.demand,
            problem.sites,
            problem.travel_times,
            model.model_copy(update={"phases": None, "budget": 8.0}),
            problem.zones,
        )
    )
    assert phased.status == single.status == Status.OPTIMAL
    assert phased.evaluation.objective <= single.objective + 1e-9


def _big_phased(seed=0, n_sites=40):
    model = CASES[1].model_copy(
        update={"phases": [p.model_copy(update={"budget": 40}) for p in CASES[1].phases]}
    )
    problem, _ = random_instance(seed, model, n_demand=5 * n_sites, n_sites=n_sites)
    return problem


def test_time_limit_returns_a_real_rollout_with_a_true_bound():
    """A stopped run gives the best plan found (at least the greedy roll-out), never the empty
    plan, and bound >= optimum >= objective."""
    problem = _big_phased()
    exact = solve_phased(problem)
    assert exact.status == Status.OPTIMAL
    for backend in ("highs", "cbc"):
        sol = solve_phased(problem, SolveOptions(time_limit_s=0.001), backend=backend)
        assert sol.status in (Status.FEASIBLE, Status.OPTIMAL) and sol.checked
        assert sol.bound + 1e-6 >= exact.objective >= sol.objective - 1e-6
        assert sol.gap is not None and sol.gap < 1.0
        assert sol.open_mask.sum() > 0 and len(sol.open_by_phase) == 3


def test_empty_incumbent_at_the_limit_is_replaced_by_the_greedy(monkeypatch):
    """The solver stops with the all-zero plan and no bound: the greedy roll-out is returned
    with the trivial bound (everyone reachable covered in every phase)."""
    import optimizer.models.coverage.phased as ph_mod

    problem = _big_phased(1, 30)
    exact = solve_phased(problem)

    def stopped(milp, options, backend):
        x = np.clip(np.zeros(milp.n_cols), milp.col_lo, milp.col_hi)
        return SolveResult(Status.FEASIBLE, x, milp.objective_value(x), None, 0.1, "fake", "")

    monkeypatch.setattr(ph_mod, "solve", stopped)
    sol = solve_phased(problem)
    assert sol.status == Status.FEASIBLE and sol.checked
    assert "greedy" in sol.message
    assert sol.objective > 0.5 * exact.objective
    assert sol.bound >= exact.objective and np.isfinite(sol.gap)

    def nothing(milp, options, backend):
        return SolveResult(Status.NO_SOLUTION, None, None, None, 0.1, "fake", "")

    monkeypatch.setattr(ph_mod, "solve", nothing)
    sol = solve_phased(problem)
    assert sol.status == Status.FEASIBLE and sol.objective > 0.5 * exact.objective
