"""Faster exact covering: dominance under exact counts, equal-cost PSCLP over p, method auto."""

from __future__ import annotations

import logging

import numpy as np
import pytest

from optimizer.models.coverage.problem import coverage_sets, reduce
from optimizer.models.coverage.solve import solve_coverage
from optimizer.schema.coverage import CoverageModelConfig, Standard
from optimizer.solvers import SolveOptions, Status, solve

from .brute import brute_force
from .conftest import OBJ_RTOL, random_instance

EXACT_P = {
    "mclp_exact_p": (
        CoverageModelConfig(
            kind="mclp",
            standards=[Standard(name="t", minutes=9)],
            max_new_sites=3,
            min_new_sites=3,
        ),
        {"n_sites": 10, "with_costs": False},
    ),
    "mclp_exact_p_costed_budget": (
        CoverageModelConfig(
            kind="mclp",
            standards=[Standard(name="t", minutes=9)],
            max_new_sites=3,
            min_new_sites=3,
            budget=9,
        ),
        {"n_sites": 10},
    ),
    "mclp_exact_p_two_types": (
        CoverageModelConfig(
            kind="mclp",
            standards=[
                Standard(name="aed", minutes=6, facility_types=["aed"], round_trip=True),
                Standard(name="vc", minutes=9, facility_types=["clinic"]),
            ],
            max_new_sites={"clinic": 2, "aed": 3},
            min_new_sites={"clinic": 2, "aed": 3},
        ),
        {"types": ("clinic", "aed"), "n_sites": 12, "with_costs": False},
    ),
    "mclp_min_total_below_max": (
        CoverageModelConfig(
            kind="mclp",
            standards=[Standard(name="t", minutes=8)],
            max_new_sites=4,
            min_new_sites=2,
        ),
        {"n_sites": 9, "with_costs": False},
    ),
}


@pytest.mark.parametrize("name", sorted(EXACT_P))
@pytest.mark.parametrize("seed", range(6))
def test_exact_counts_with_dominance_match_brute_force(name, seed):
    model, opts = EXACT_P[name]
    problem, dense = random_instance(seed, model, n_demand=18, **opts)
    expected = brute_force(dense)
    sol = solve_coverage(problem)
    if expected is None:
        assert sol.status == Status.INFEASIBLE
        return
    assert sol.status == Status.OPTIMAL
    assert sol.checked
    assert sol.objective == pytest.approx(expected, rel=OBJ_RTOL, abs=1e-6)
    off = solve_coverage(problem, drop_dominated=False)
    assert off.objective == pytest.approx(expected, rel=OBJ_RTOL, abs=1e-6)


def test_exact_p_drops_dominated_sites():
    """The issue's case: min_new_sites = max_new_sites = p dropped no dominated site."""
    model, opts = EXACT_P["mclp_exact_p"]
    dropped = 0
    for seed in range(6):
        problem, _ = random_instance(seed, model, n_demand=18, **opts)
        dropped += reduce(problem, coverage_sets(problem)).stats["sites_dominated"]
    assert dropped > 0


def test_unequal_costs_keep_every_site_under_exact_counts():
    """Costs in a budget and unequal: a swap to a cheaper survivor is not guaranteed."""
    model, opts = EXACT_P["mclp_exact_p_costed_budget"]
    for seed in range(4):
        problem, _ = random_instance(seed, model, n_demand=18, **opts)
        assert reduce(problem, coverage_sets(problem)).stats["sites_dominated"] == 0


def test_auto_says_what_it_measured_and_why(monkeypatch, caplog):
    """``method: auto`` logs its choice with the measured size and keeps the reason."""
    from optimizer.models.coverage import method as cov_model

    model = CoverageModelConfig(
        kind="mclp", standards=[Standard(name="t", minutes=9)], max_new_sites=3
    )
    problem, dense = random_instance(1, model, n_demand=30, n_sites=10)
    # the optimizer logger's own level: a CLI run with -q earlier in the session set it to WARNING
    with caplog.at_level("INFO", logger="optimizer"):
        small = solve_coverage(problem, method="auto")
    assert small.method == "compact"
    assert "auto: compact" in small.method_reason and "pairs" in small.method_reason
    assert small.method_reason in caplog.text
    monkeypatch.setattr(cov_model, "AUTO_BBC_PAIRS", 1)
    monkeypatch.setattr(cov_model, "AUTO_BBC_MEAN_SITES", 0.0)
    mid = solve_coverage(problem, method="auto")
    assert mid.method == "bbc" and mid.method_reason.startswith("auto: bbc")
    assert mid.objective == pytest.approx(brute_force(dense), rel=OBJ_RTOL)
    from optimizer.models.coverage import bbc

    monkeypatch.setattr(bbc, "bbc_unsupported", lambda problem, milp=None: ["no SCIP here"])
    monkeypatch.setattr(cov_model, "AUTO_BENDERS_PAIRS", 1)
    big = solve_coverage(problem, method="auto")
    assert big.method == "benders" and big.method_reason.startswith("auto: benders")
    assert "no SCIP here" in big.method_reason
    assert big.objective == pytest.approx(brute_force(dense), rel=OBJ_RTOL)
    assert small.objective == pytest.approx(big.objective, rel=OBJ_RTOL)
    fixed = solve_coverage(problem, method="compact")
    assert fixed.method_reason == "solver.method: compact (set in the case)"


def _psclp_milp(seed: int, n_groups: int = 25, n_sites: int = 9, share: float = 0.8):
    """An equal-cost PSCLP block as the coverage model builds it, and its brute-force optimum."""
    import itertools

    from optimizer.milp import ModelBuilder

    rng = np.random.default_rng(seed)
    cover = rng.random((n_groups, n_sites)) < 0.25
    cover[~cover.any(axis=1), 0] = True
    w = rng.integers(1, 50, n_groups).astype(float)
    target = share * w.sum()
    b = ModelBuilder("psclp", "min")
    y = b.add_binary("y", n_sites, cost=3.0)
    z = b.add_vars("z", n_groups, lb=0.0, ub=1.0)
    g, j = np.nonzero(cover)
    rows = np.r_[np.arange(n_groups), g]
    cols = np.r_[z.index(), y.start + j]
    vals = np.r_[np.ones(n_groups), -np.ones(g.size)]
    b.add_rows("link", n_groups, rows, cols, vals, hi=0.0)
    b.add_row("share", z.index(), w, lo=target)
    best = None
    for k in range(n_sites + 1):
        for subset in itertools.combinations(range(n_sites), k):
            if w[cover[:, list(subset)].any(axis=1)].sum() >= target - 1e-9:
                best = 3.0 * k
                break
        if best is not None:
            break
    return b.build(), best


@pytest.mark.parametrize("seed", range(12))
@pytest.mark.parametrize("share", [0.6, 0.9])
def test_count_search_equals_brute_force_and_the_backend(seed, share):
    from optimizer.solvers import SolveOptions, solve
    from optimizer.solvers.covering import detect_equal_cost_psclp

    milp, expected = _psclp_milp(seed, share=share)
    assert detect_equal_cost_psclp(milp) is not None
    on = solve(milp, SolveOptions(count_search=True))
    off = solve(milp, SolveOptions(count_search=False))
    assert on.status == off.status == Status.OPTIMAL
    assert "over p" in on.message and "over p" not in off.message
    assert on.objective == pytest.approx(expected) == off.objective
    assert on.bound == pytest.approx(expected)
    worst, _ = milp.max_violation(on.x)
    assert worst <= 1e-9


def _poor_heuristic(monkeypatch):
    """The plan heuristics replaced by a poor one: every site open."""
    from optimizer.solvers import covering

    monkeypatch.setattr(
        covering, "_best_plan", lambda p, k, c, lp, **kw: covering.np.zeros(p.y.size, bool)
    )
    monkeypatch.setattr(
        covering, "_greedy_to_target", lambda p, c, **kw: covering.np.ones(p.y.size, dtype=bool)
    )


def test_count_search_proves_with_the_solver_when_the_heuristic_falls_short(monkeypatch):
    """A deliberately poor heuristic (every site) leaves the proof to the solver's solves."""
    from optimizer.solvers import SolveOptions, solve

    _poor_heuristic(monkeypatch)
    for seed in range(4):
        milp, expected = _psclp_milp(seed, share=0.9)
        res = solve(milp, SolveOptions(count_search=True))
        assert res.status == Status.OPTIMAL and res.objective == pytest.approx(expected)
        assert "proof solve" in res.message and "(0 proof" not in res.message


@pytest.mark.parametrize("seed", range(12))
@pytest.mark.parametrize("share", [0.6, 0.9])
def test_psclp_from_plan_equals_brute_force(seed, share):
    """``solver.method: auto``'s route: LP bound + heuristic plan, SCIP only when they differ."""
    pytest.importorskip("pyscipopt")
    from optimizer.solvers import SolveOptions, solve

    milp, expected = _psclp_milp(seed, share=share)
    res = solve(milp, SolveOptions(psclp_scip=True))
    assert res.status == Status.OPTIMAL
    assert res.objective == pytest.approx(expected) == res.bound
    assert res.solver == ("highs" if "meets the LP bound" in res.message else "scip")
    worst, _ = milp.max_violation(res.x)
    assert worst <= 1e-9


def test_psclp_from_plan_proves_in_scip_when_the_heuristic_falls_short(monkeypatch):
    """A deliberately poor plan (every site open) leaves SCIP, its heuristics off, to find
    the optimum from it: still the brute-force optimum, proven."""
    pytest.importorskip("pyscipopt")
    from optimizer.solvers import SolveOptions, solve

    _poor_heuristic(monkeypatch)
    for seed in range(4):
        milp, expected = _psclp_milp(seed, share=0.9)
        res = solve(milp, SolveOptions(psclp_scip=True))
        assert res.solver == "scip"
        assert res.status == Status.OPTIMAL and res.objective == pytest.approx(expected)
        assert res.bound == pytest.approx(expected)


def test_psclp_from_plan_keeps_the_plan_when_scip_stops_first(monkeypatch):
    """SCIP stopped before it read the plan: the plan is returned, FEASIBLE, LP bound kept."""
    from optimizer.solvers import SolveOptions, covering
    from optimizer.solvers.base import SolveResult

    milp, expected = _psclp_milp(3, share=0.9)
    p = covering.detect_equal_cost_psclp(milp)
    _poor_heuristic(monkeypatch)

    def relax(m, o):
        from optimizer.solvers import solve

        return solve(m, o, "highs", decompose=False)

    def stopped(m, o):
        assert o.warm_start is not None
        return SolveResult(Status.NO_SOLUTION, None, None, None, 0.0, "scip", "10", "timelimit")

    res = covering.solve_from_plan(milp, p, SolveOptions(), relax=relax, prove=stopped)
    assert res.status == Status.FEASIBLE
    assert res.objective >= expected and res.bound <= expected
    worst, _ = milp.max_violation(res.x)
    assert worst <= 1e-9


def test_count_search_recognises_only_its_structure():
    from dataclasses import replace

    from optimizer.solvers.covering import detect_equal_cost_psclp

    milp, _ = _psclp_milp(0)
    unequal = milp.c.copy()
    unequal[0] = 5.0
    assert detect_equal_cost_psclp(replace(milp, c=unequal)) is None
    assert detect_equal_cost_psclp(replace(milp, sense="max")) is None
    two_shares = replace(milp, row_lo=np.where(np.isfinite(milp.row_lo), milp.row_lo, 0.0))
    assert detect_equal_cost_psclp(two_shares) is None


@pytest.mark.parametrize("seed", range(4))
def test_psclp_case_with_equal_costs_matches_brute_force(seed):
    """Through the whole pipeline (the backend on the block as it is, the default)."""
    model = CoverageModelConfig(
        kind="psclp", objective="min_cost", standards=[Standard(name="t", minutes=9, min_share=0.8)]
    )
    problem, dense = random_instance(seed, model, n_demand=20, n_sites=9, with_costs=False)
    expected = brute_force(dense)
    sol = solve_coverage(problem)
    if expected is None:
        assert sol.status == Status.INFEASIBLE
        return
    assert sol.status == Status.OPTIMAL and sol.checked
    assert sol.objective == pytest.approx(expected, rel=OBJ_RTOL, abs=1e-6)


@pytest.mark.parametrize("seed", range(6))
def test_auto_solves_equal_cost_psclp_in_scip_and_matches_brute_force(seed, caplog):
    """``method: auto`` hands an equal-cost partial covering block to SCIP with pseudo-cost
    branching (profile ``covering``); the certified answer equals brute force."""
    pytest.importorskip("pyscipopt")
    model = CoverageModelConfig(
        kind="psclp",
        objective="min_cost",
        standards=[Standard(name="t", minutes=9, min_share=0.5 + 0.05 * (seed % 4))],
    )
    problem, dense = random_instance(seed, model, n_demand=22, n_sites=10, with_costs=False)
    expected = brute_force(dense)
    with caplog.at_level(logging.INFO, logger="optimizer"):
        sol = solve_coverage(problem, method="auto")
    if expected is None:
        assert sol.status == Status.INFEASIBLE
        return
    assert sol.status == Status.OPTIMAL and sol.checked
    assert sol.objective == pytest.approx(expected, rel=OBJ_RTOL, abs=1e-6)
    assert "pseudo-cost branching" in sol.method_reason
    assert sol.solver in ("scip", "highs")  # SCIP, or the LP where the plan meets its bound
    assert "in SCIP with pseudo-cost branching" in caplog.text
    compact = solve_coverage(problem, method="compact")
    assert compact.solver == "highs"  # compact stays on the case's backend
    assert compact.objective == pytest.approx(sol.objective, rel=OBJ_RTOL, abs=1e-6)


@pytest.mark.parametrize("seed", range(3))
def test_auto_scip_first_stage_of_a_lexicographic_psclp_equals_compact(seed, caplog):
    """Least sites, then least cost: the first stage (an equal-cost PSCLP) goes to SCIP under
    ``auto``; both stages equal the compact model's in HiGHS."""
    pytest.importorskip("pyscipopt")
    model = CoverageModelConfig(
        kind="psclp",
        objective="min_sites",
        secondary_objective="min_cost",
        standards=[Standard(name="t", minutes=9, min_share=0.6)],
    )
    problem, _ = random_instance(seed, model, n_demand=22, n_sites=10, with_costs=True)
    with caplog.at_level(logging.INFO, logger="optimizer"):
        auto = solve_coverage(problem, method="auto")
    compact = solve_coverage(problem, method="compact")
    assert auto.status == compact.status == Status.OPTIMAL
    assert "in SCIP with pseudo-cost branching" in caplog.text
    assert auto.objective == pytest.approx(compact.objective)
    assert auto.secondary["value"] == pytest.approx(compact.secondary["value"])


def test_scip_covering_profile_sets_its_parameters():
    pytest.importorskip("pyscipopt")
    from optimizer.solvers.scip import PROFILES

    milp, _ = _psclp_milp(1)
    plain = solve(milp, SolveOptions(), "scip", decompose=False)
    tuned = solve(milp, SolveOptions(scip_profile="covering"), "scip", decompose=False)
    assert tuned.status == plain.status == Status.OPTIMAL
    assert tuned.objective == pytest.approx(plain.objective)
    assert PROFILES["covering"].params["branching/pscost/priority"] > 10_000
    assert PROFILES["covering"].heuristics_off


BBC_MODELS = {
    "psclp_costed": (
        CoverageModelConfig(
            kind="psclp",
            objective="min_cost",
            standards=[Standard(name="t", minutes=9, min_share=0.75)],
        ),
        {},
    ),
    "psclp_sites_with_mandatory": (
        CoverageModelConfig(
            kind="coverage",
            objective="min_sites",
            standards=[
                Standard(name="t", minutes=9, min_share=0.6),
                Standard(name="far", minutes=18, weight=0, min_share=1.0),
            ],
        ),
        {"unreachable_share": 0.0},
    ),
    "mclp_p": (
        CoverageModelConfig(
            kind="mclp", standards=[Standard(name="t", minutes=9)], max_new_sites=3
        ),
        {},
    ),
    "mclp_budget": (
        CoverageModelConfig(kind="mclp", standards=[Standard(name="t", minutes=9)], budget=7),
        {},
    ),
    "mclp_mandatory_far": (
        CoverageModelConfig(
            kind="mclp",
            standards=[
                Standard(name="t", minutes=9),
                Standard(name="far", minutes=16, weight=0, min_share=1.0),
            ],
            max_new_sites=3,
        ),
        {"unreachable_share": 0.0},
    ),
    "mclp_existing_keep": (
        CoverageModelConfig(
            kind="mclp", standards=[Standard(name="t", minutes=9)], max_new_sites=2
        ),
        {"n_existing": 2},
    ),
}


@pytest.mark.parametrize("name", sorted(BBC_MODELS))
@pytest.mark.parametrize(("seed", "cells"), [(0, 1), (1, 3), (2, 64), (3, 2), (4, 5)])
def test_branch_and_benders_cut_matches_brute_force(name, seed, cells):
    model, opts = BBC_MODELS[name]
    problem, dense = random_instance(seed, model, n_demand=30, **opts)
    expected = brute_force(dense)
    sol = solve_coverage(problem, method="bbc", benders_cells=cells)
    if expected is None:
        assert sol.status == Status.INFEASIBLE
        return
    assert sol.status == Status.OPTIMAL, (sol.status, sol.message)
    assert sol.method == "bbc" and sol.checked
    assert sol.objective == pytest.approx(expected, rel=OBJ_RTOL, abs=1e-6)
    assert sol.bound == pytest.approx(expected, rel=1e-6, abs=1e-6)


def test_bbc_refuses_share_targets_with_a_clear_error():
    from optimizer.errors import CaseError

    model = CoverageModelConfig(
        kind="mclp", standards=[Standard(name="t", minutes=9, min_share=0.3)], max_new_sites=3
    )
    problem, _ = random_instance(0, model, unreachable_share=0.0)
    with pytest.raises(CaseError, match="share targets"):
        solve_coverage(problem, method="bbc")


def test_auto_counts_only_the_coverage_benders_projects_out():
    """The default case: its 120 rows are mandatory (rows of the master, not projected), so the
    clinic coverage alone (9 sites per group) decides: compact, as measured."""
    from optimizer.case.prepare import prepare_case
    from optimizer.cli import default_case_path
    from optimizer.models.coverage.method import decide_method

    problem = prepare_case(default_case_path()).problem
    reduced = reduce(problem, coverage_sets(problem))
    method, reason = decide_method(problem, reduced, "auto", "highs")
    assert method == "compact", reason
    assert "sites per group" in reason


def _town_psclp(n: int, m: int, minutes: float, share: float, *, kind: str = "psclp"):
    """benchmarks/covering.py's clustered-town county as an equal-cost PSCLP (or an MCLP)."""
    from benchmarks.covering import _psclp_problem, _town_problem

    if kind == "psclp":
        return _psclp_problem(n, m, minutes, share)
    return _town_problem(n, m, 20, minutes)


def test_auto_prefers_the_plan_route_to_bbc_for_a_dense_equal_cost_psclp():
    """Dense coverage (57 sites per group) would send a model to bbc; an equal-cost partial
    covering goes to the LP-and-plan route instead, an MCLP of the same shape still to bbc."""
    pytest.importorskip("pyscipopt")
    from optimizer.models.coverage.build import build_coverage_milp
    from optimizer.models.coverage.method import decide_method
    from optimizer.models.coverage.problem import coverage_sets, reduce

    for kind, want in (("psclp", "compact"), ("mclp", "bbc")):
        problem = _town_psclp(2000, 200, 12.0, 0.9, kind=kind)
        reduced = reduce(problem, coverage_sets(problem))
        milp = build_coverage_milp(problem, reduced)
        chosen, reason = decide_method(problem, reduced, "auto", "highs", milp)
        assert chosen == want, reason
        if kind == "psclp":
            assert "an equal-cost partial covering" in reason
            assert decide_method(problem, reduced, "auto", "highs")[0] == "bbc"  # no MILP given


def test_dense_equal_cost_psclp_by_the_plan_route_equals_compact_highs():
    pytest.importorskip("pyscipopt")
    problem = _town_psclp(2000, 200, 12.0, 0.9)
    auto = solve_coverage(problem, SolveOptions(time_limit_s=120), method="auto")
    compact = solve_coverage(problem, SolveOptions(time_limit_s=120), method="compact")
    assert auto.method == "compact" and auto.status == compact.status == Status.OPTIMAL
    assert auto.objective == pytest.approx(compact.objective)


def test_large_equal_cost_block_goes_to_scip_as_it_is(monkeypatch, caplog):
    """Above ROUTE_MAX_NONZEROS the block skips the LP-and-plan route (its LP grows too slow)
    and SCIP searches it with its heuristics on: still the brute-force optimum."""
    pytest.importorskip("pyscipopt")
    from optimizer.solvers import covering

    monkeypatch.setattr(covering, "ROUTE_MAX_NONZEROS", 0)
    for seed in range(3):
        milp, expected = _psclp_milp(seed, share=0.9)
        with caplog.at_level(logging.INFO, logger="optimizer"):
            res = solve(milp, SolveOptions(psclp_scip=True), decompose=False)
        assert res.solver == "scip" and res.status == Status.OPTIMAL
        assert res.objective == pytest.approx(expected)
    assert "above the 0 of the LP-and-plan route" in caplog.text
