"""Time across independent blocks: the hard block gets the time the easy ones leave."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from optimizer.milp import ModelBuilder
from optimizer.models.coverage.solve import solve_coverage
from optimizer.schema.coverage import CoverageModelConfig, Standard
from optimizer.solvers import SolveOptions, SolveResult, Status, solve
from optimizer.solvers.blocks import combine_runs, schedule_blocks

from .brute import brute_force
from .conftest import OBJ_RTOL, random_instance


def _knapsack(name: str, n: int, seed: int):
    """max v x s.t. w x <= cap, x binary: a tiny block."""
    rng = np.random.default_rng(seed)
    b = ModelBuilder(name, "max")
    x = b.add_binary("x", n, cost=rng.integers(1, 20, n).astype(float))
    b.add_row("cap", x.index(), rng.integers(1, 10, n).astype(float), hi=float(n * 2))
    return b.build()


def _result(status: Status, x, obj, bound, runtime=1.0) -> SolveResult:
    return SolveResult(status, x, obj, bound, runtime, "test", "0")


def test_second_pass_gives_the_left_time_to_the_block_stopped_at_its_share():
    """Block 1 stops at its share in the first pass; it is re-run with all the time left,
    warm-started from its incumbent, and the merged answer is proven."""
    subs = [_knapsack("a", 4, 0), _knapsack("b", 6, 1)]
    calls: list[tuple[str, float, object]] = []

    def run(milp, opts):
        calls.append((milp.name, opts.time_limit_s, opts.warm_start))
        real = solve(milp, replace(opts, time_limit_s=30.0), decompose=False)
        if milp.name == "b" and sum(c[0] == "b" for c in calls) == 1:
            worse = real.x.copy()
            worse[:] = 0.0
            return _result(Status.FEASIBLE, worse, 0.0, real.objective + 5.0)
        return real

    out = schedule_blocks(subs, [0, 1], SolveOptions(time_limit_s=500.0), [None, None], run)
    assert [c[0] for c in calls] == ["a", "b", "b"]
    assert calls[0][1] == pytest.approx(250.0, abs=1.0)  # fair share of 500 s over 2 blocks
    assert 400 < calls[1][1] <= 500  # a used little of its share: b gets the rest
    assert 400 < calls[2][1] <= calls[1][1]  # the second pass: everything left
    assert np.array_equal(calls[2][2], np.zeros(6))  # warm-started from b's incumbent
    assert all(r.status == Status.OPTIMAL for r in out)
    direct = solve(subs[1], decompose=False)
    assert out[1].objective == pytest.approx(direct.objective)


def test_limit_is_honoured_when_no_time_is_left():
    """With the limit spent, a block stopped at its share is not run again."""
    subs = [_knapsack("a", 4, 0), _knapsack("b", 6, 1)]
    calls: list[str] = []

    def run(milp, opts):
        calls.append(milp.name)
        return _result(Status.FEASIBLE, np.zeros(milp.n_cols), 0.0, 10.0)

    out = schedule_blocks(subs, [1, 0], SolveOptions(time_limit_s=0.0), [None, None], run)
    assert calls == ["b", "a"]
    assert all(r.status == Status.FEASIBLE for r in out)


@pytest.mark.parametrize("sense", ["min", "max"])
def test_combine_runs_keeps_the_better_plan_and_the_tighter_bound(sense):
    sign = 1.0 if sense == "min" else -1.0
    x1, x2 = np.zeros(2), np.ones(2)
    first = _result(Status.FEASIBLE, x1, sign * 10.0, sign * 6.0)
    second = _result(Status.FEASIBLE, x2, sign * 9.0, sign * 7.0)
    both = combine_runs(sense, first, second, 0.0)
    assert both.status == Status.FEASIBLE
    assert both.objective == sign * 9.0 and both.bound == sign * 7.0
    assert np.array_equal(both.x, x2)
    assert both.runtime_s == pytest.approx(2.0)
    # the first run's bound meets the second run's plan: proven without a proving run
    met = combine_runs(sense, _result(Status.FEASIBLE, x1, sign * 10, sign * 9), second, 0.0)
    assert met.status == Status.OPTIMAL and met.objective == sign * 9.0
    none = combine_runs(sense, first, _result(Status.NO_SOLUTION, None, None, sign * 8.0), 0.0)
    assert none.objective == sign * 10.0 and none.bound == sign * 8.0
    assert none.status == Status.FEASIBLE


@pytest.mark.parametrize("seed", range(3))
def test_two_independent_standards_with_a_tiny_limit_stay_certified(seed):
    """Clinics and stations as two blocks under a tight limit: the answer is either proven and
    equal to brute force, or a checked incumbent whose bound is on the right side."""
    model = CoverageModelConfig(
        kind="psclp",
        objective="min_cost",
        standards=[
            Standard(name="walk", minutes=12, min_share=0.7, facility_types=["clinic"]),
            Standard(name="ems", minutes=16, min_share=1.0, facility_types=["ems"]),
        ],
    )
    problem, dense = random_instance(
        seed, model, n_demand=14, n_sites=10, types=("clinic", "ems"), unreachable_share=0.0
    )
    expected = brute_force(dense)
    sol = solve_coverage(problem, SolveOptions(time_limit_s=0.5))
    if expected is None:
        assert sol.status == Status.INFEASIBLE
        return
    assert sol.status in (Status.OPTIMAL, Status.FEASIBLE)
    assert sol.checked
    if sol.status == Status.OPTIMAL:
        assert sol.objective == pytest.approx(expected, rel=OBJ_RTOL, abs=1e-6)
    else:
        assert sol.bound <= expected + 1e-6 <= sol.objective + 2e-6


def _lexicographic_case():
    """Two knapsack blocks (max value) with a second objective: least weight of the plan."""
    subs = [_knapsack("a", 4, 0), _knapsack("b", 6, 1)]
    costs = [np.asarray(s.A[0].toarray()).ravel() for s in subs]
    return subs, costs


def test_lexicographic_second_pass_resolves_a_first_stage_stopped_at_its_share():
    """Block b's first stage stops at its share with a poor plan; the second pass re-runs it
    warm started, finds the optimum, and solves b's second stage again under the new value."""
    from optimizer.solvers.lexicographic import lexicographic_blocks

    subs, costs = _lexicographic_case()
    calls: list[tuple[str, float]] = []

    def run(milp, opts):
        calls.append((milp.name, opts.time_limit_s))
        real = solve(milp, replace(opts, time_limit_s=30.0), decompose=False)
        if milp.name == "b" and sum(c[0] == "b" for c in calls) == 1:
            return _result(Status.FEASIBLE, np.zeros(milp.n_cols), 0.0, real.objective + 5.0)
        return real

    options = SolveOptions(time_limit_s=400.0)
    runs = lexicographic_blocks(subs, costs, [0, 1], options, [None, None], run)
    names = [c[0] for c in calls]
    assert names == ["a", "b", "a-2", "b-2", "b", "b-2"]
    assert calls[0][1] == pytest.approx(100.0, abs=1.0)  # 400 s over 4 solves
    assert all(t <= 400.0 for _, t in calls)
    for k, sub in enumerate(subs):
        direct = solve(sub, decompose=False)
        assert runs.finals[k].status == Status.OPTIMAL
        assert runs.finals[k].objective == pytest.approx(direct.objective)
        assert runs.seconds[k].status == Status.OPTIMAL
        x = runs.seconds[k].x
        assert float(sub.c @ x) == pytest.approx(direct.objective)  # first value kept
    # b's plan is the lightest of its best-value plans, not the zero plan of the stopped run
    assert float(costs[1] @ runs.seconds[1].x) > 0.0


def test_lexicographic_second_pass_resolves_a_second_stage_stopped_at_its_share():
    """A second stage stopped at its share is run again with the time left, warm started
    from its own incumbent; the first stage's value is kept."""
    from optimizer.solvers.lexicographic import lexicographic_blocks

    subs, costs = _lexicographic_case()
    calls: list[tuple[str, object]] = []

    def run(milp, opts):
        calls.append((milp.name, opts.warm_start))
        real = solve(milp, replace(opts, time_limit_s=30.0), decompose=False)
        if milp.name == "a-2" and sum(c[0] == "a-2" for c in calls) == 1:
            return replace(real, status=Status.FEASIBLE, bound=real.objective - 3.0)
        return real

    runs = lexicographic_blocks(
        subs, costs, [0, 1], SolveOptions(time_limit_s=400.0), [None, None], run
    )
    assert [c[0] for c in calls] == ["a", "b", "a-2", "b-2", "a-2"]
    assert calls[-1][1] is not None  # warm started
    assert runs.seconds[0].status == Status.OPTIMAL
    assert runs.finals[0].status == Status.OPTIMAL


def test_lexicographic_limit_is_honoured_when_no_time_is_left():
    from optimizer.solvers.lexicographic import lexicographic_blocks

    subs, costs = _lexicographic_case()
    calls: list[str] = []

    def run(milp, opts):
        calls.append(milp.name)
        return _result(Status.FEASIBLE, np.zeros(milp.n_cols), 0.0, 10.0)

    runs = lexicographic_blocks(
        subs, costs, [0, 1], SolveOptions(time_limit_s=0.0), [None, None], run
    )
    assert calls == ["a", "b", "a-2", "b-2"]
    assert all(r.status == Status.FEASIBLE for r in runs.seconds.values())
