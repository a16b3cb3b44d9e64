"""Which limit stopped a solve (certificate.Limit), beside its Status."""

from __future__ import annotations

import pytest

from optimizer.solvers.base import Limit, Status, stop_limit


@pytest.mark.parametrize(
    ("status", "gap", "message", "seconds", "limit", "expected"),
    [
        (Status.OPTIMAL, 0.0, "Optimal", 1.0, 600.0, Limit.NONE),
        (Status.OPTIMAL, 0.004, "Optimal", 1.0, 600.0, Limit.GAP),
        (Status.FEASIBLE, 0.1, "Time limit reached", 9.0, 10.0, Limit.TIME),
        (Status.FEASIBLE, 0.1, "Stopped on time", 3.0, 10.0, Limit.TIME),
        (Status.FEASIBLE, 0.1, "round 4 of the master", 10.0, 10.0, Limit.TIME),
        (Status.NO_SOLUTION, None, "timelimit", 10.0, 10.0, Limit.TIME),
        (Status.FEASIBLE, 0.1, "userinterrupt", 2.0, 10.0, Limit.INTERRUPT),
        (Status.FEASIBLE, 0.1, "nodelimit", 2.0, 10.0, Limit.NODE),
        (
            Status.FEASIBLE,
            0.02,
            "the truncated table leaves the bound open",
            2.0,
            600.0,
            Limit.OTHER,
        ),
        (Status.INFEASIBLE, None, "Infeasible", 0.1, 600.0, Limit.NONE),
        (Status.ERROR, None, "error", 0.1, 600.0, Limit.NONE),
    ],
)
def test_stop_limit(status, gap, message, seconds, limit, expected):
    got = stop_limit(status=status, gap=gap, message=message, seconds=seconds, time_limit_s=limit)
    assert got is expected
    assert (got.phrase != "") == (expected in (Limit.GAP, Limit.TIME, Limit.NODE, Limit.INTERRUPT))


def test_time_limited_solve_says_time():
    """A covering solve stopped by its time limit (the instance of test_coverage_models'
    test_time_limit_returns_incumbent_with_bound) reports ``time``, and is not optimal."""
    from optimizer.models.coverage.solve import solve_coverage
    from optimizer.schema.coverage import CoverageModelConfig, Standard
    from optimizer.solvers import SolveOptions

    from .conftest import random_instance

    model = CoverageModelConfig(
        kind="mclp", standards=[Standard(name="t", minutes=2.5)], max_new_sites=40
    )
    problem, _ = random_instance(5, model, n_demand=4000, n_sites=400, unreachable_share=0.0)
    sol = solve_coverage(problem, options=SolveOptions(time_limit_s=0.3))
    assert sol.status in (Status.FEASIBLE, Status.NO_SOLUTION)
    assert sol.limit is Limit.TIME, sol.message


def test_status_text_names_the_limit():
    from optimizer.certificate import status_text

    assert (
        status_text(Status.FEASIBLE, Limit.TIME)
        == "FEASIBLE at the time limit (not proven optimal)"
    )
    assert status_text(Status.NO_SOLUTION, Limit.TIME) == "NO SOLUTION found before the time limit"
    assert status_text(Status.FEASIBLE, Limit.OTHER) == Status.FEASIBLE.label
    assert status_text(Status.OPTIMAL, Limit.GAP) == Status.OPTIMAL.label


def test_solve_result_says_its_limit():
    from optimizer.solvers.base import SolveResult

    res = SolveResult(Status.FEASIBLE, None, 3.0, 2.0, 1.0, "highs", "1", "Time limit reached")
    assert res.limit is Limit.TIME
    res = SolveResult(Status.OPTIMAL, None, 3.0, 3.0, 1.0, "highs", "1", "Optimal")
    assert res.limit is Limit.NONE
