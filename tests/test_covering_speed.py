"""Faster exact covering: dominance under exact counts, equal-cost PSCLP over p, method auto."""

from __future__ import annotations

import pytest

from optimizer.config import CoverageModelConfig, Standard
from optimizer.coverage import coverage_sets, reduce
from optimizer.models.coverage import solve_coverage
from optimizer.solvers import Status

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
    from optimizer.models import coverage as cov_model

    model = CoverageModelConfig(
        kind="mclp", standards=[Standard(name="t", minutes=9)], max_new_sites=3
    )
    problem, dense = random_instance(1, model, n_demand=30, n_sites=10)
    with caplog.at_level("INFO"):
        small = solve_coverage(problem, method="auto")
    assert small.method == "compact"
    assert "auto: compact" in small.method_reason and "pairs" in small.method_reason
    assert small.method_reason in caplog.text
    monkeypatch.setattr(cov_model, "AUTO_BENDERS_PAIRS", 1)
    big = solve_coverage(problem, method="auto")
    assert big.method == "benders" and big.method_reason.startswith("auto: benders")
    assert big.objective == pytest.approx(brute_force(dense), rel=OBJ_RTOL)
    assert small.objective == pytest.approx(big.objective, rel=OBJ_RTOL)
    fixed = solve_coverage(problem, method="compact")
    assert fixed.method_reason == "solver.method: compact (set in the case)"
