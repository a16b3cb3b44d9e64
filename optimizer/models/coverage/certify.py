"""Certify a covering answer: decode the plan, evaluate it on the raw data, check every row,
the objective and the bound (and the second stage of a lexicographic solve)."""

from __future__ import annotations

import logging
from collections.abc import Callable

import numpy as np

from ...errors import CheckError
from ...milp import MILP
from ...solvers import SolveResult, Status, relative_gap
from .evaluate import Evaluation, check_plan, evaluate_plan
from .problem import CoverageProblem, ReducedCoverage, StandardCoverage

__all__ = ["certify", "decode", "objective_tolerance", "second_stage"]

log = logging.getLogger(__name__)


def decode(reduced: ReducedCoverage, milp: MILP, x: np.ndarray) -> np.ndarray:
    """The open-site mask over all sites: fixed-open sites plus the free columns at 1."""
    y = x[milp.var_blocks["y"].slice] > 0.5
    open_mask = reduced.fixed_open.copy()
    open_mask[reduced.free_sites[y]] = True
    return open_mask


def objective_tolerance(milp: MILP) -> float:
    """Absolute tolerance on the objective: integrality and feasibility tolerances are ~1e-6 per
    variable, scaled by the objective's size."""
    return 1e-6 * (float(np.abs(milp.c).sum()) + abs(milp.c0)) + 1e-6


def certify(
    problem: CoverageProblem,
    coverages: list[StandardCoverage],
    reduced: ReducedCoverage,
    milp: MILP,
    result: SolveResult,
    value: Callable[[Evaluation], float],
    floor: float | None = None,
) -> tuple[np.ndarray, Evaluation, float, float | None]:
    """Decode, evaluate on the raw data, check every constraint and the objective and bound.

    ``value`` recomputes the model's objective from the evaluation; ``floor`` (second stage) is
    the first objective the plan must keep. Raises :class:`CheckError` on any failure.
    """
    assert result.x is not None
    open_mask = decode(reduced, milp, result.x)
    ev = evaluate_plan(problem, coverages, open_mask)
    violations = check_plan(problem, ev)
    tol = objective_tolerance(milp)
    raw = value(ev)
    solver_obj = (
        float(result.objective) if result.objective is not None else milp.objective_value(result.x)
    )
    maximise = milp.sense == "max"
    if result.status == Status.OPTIMAL and abs(raw - solver_obj) > tol:
        violations.append(
            f"objective mismatch: solver reports {solver_obj:,.6f}, raw data gives {raw:,.6f}"
        )
    elif result.status == Status.FEASIBLE:
        worse = raw < solver_obj - tol if maximise else raw > solver_obj + tol
        if worse:
            violations.append(
                f"objective mismatch: solver reports {solver_obj:,.6f}, raw data gives only {raw:,.6f}"
            )
    bound = result.bound
    if bound is not None:
        beyond = raw > bound + tol if maximise else raw < bound - tol
        if beyond:
            violations.append(
                f"bound {bound:,.6f} is not a valid bound for the raw objective {raw:,.6f}"
            )
    if floor is not None and ev.objective < floor - tol:
        violations.append(f"second stage lost coverage: {ev.objective:,.6f} < {floor:,.6f}")
    if violations:
        raise CheckError(violations)
    if result.status == Status.OPTIMAL and bound is None:
        bound = raw
    return open_mask, ev, raw, bound


def second_stage(
    problem: CoverageProblem,
    coverages: list[StandardCoverage],
    reduced: ReducedCoverage,
    stage: MILP,
    res: SolveResult,
    ev: Evaluation,
    kind: str,
) -> tuple[np.ndarray | None, Evaluation | None, dict[str, object]]:
    """Certify the second stage: the same coverage as ``ev`` (first stage), then least cost."""
    info: dict[str, object] = {
        "objective": kind,
        "status": res.status.value,
        "runtime_s": res.runtime_s,
    }
    if not res.status.has_solution or res.x is None:
        log.warning(
            "Second stage (%s) found no plan (%s); keeping the first-stage plan",
            kind,
            res.status.value,
        )
        return None, None, info

    def secondary_value(e: Evaluation) -> float:
        return e.total_cost if kind == "min_cost" else float(e.new_mask.sum())

    tol = objective_tolerance(stage)
    open2, ev2, raw, bound = certify(
        problem, coverages, reduced, stage, res, secondary_value, ev.objective - tol
    )
    info.update(
        value=raw,
        bound=bound,
        gap=relative_gap(raw, bound) if bound is not None else None,
        first_stage_value=secondary_value(ev),
    )
    log.info(
        "Second stage %s: %s (first-stage plan had %s)",
        kind,
        f"{raw:,.6g}",
        f"{secondary_value(ev):,.6g}",
    )
    return open2, ev2, info
