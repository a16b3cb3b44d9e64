"""Solve a 120 case, certify the plan on the raw data, and diagnose an infeasible one."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import scipy.sparse as sp

from ...certificate import Certificate
from ...errors import CheckError
from ...milp import MILP
from ...solvers import SolveOptions, SolveResult, Status, relative_gap, solve, solve_lexicographic
from .build import Index, build_ems_milp, cost_coefficients, index
from .evaluate import EmsEvaluation, EmsPlan, check_ems, evaluate_ems
from .problem import EmsProblem, coverage_matrix, precheck_ems

__all__ = ["EmsSolution", "diagnose_ems", "solve_ems"]

log = logging.getLogger(__name__)


@dataclass(frozen=True, eq=False)
class EmsSolution(Certificate):
    problem: EmsProblem
    status: Status
    evaluation: EmsEvaluation | None = None

    @property
    def sense(self) -> str:
        return "min" if self.problem.model.objective == "min_cost" else "max"


def _decode(problem: EmsProblem, ix: Index, milp: MILP, x: np.ndarray) -> EmsPlan:
    n_sites = len(problem.sites)
    open_ = np.zeros(n_sites, dtype=bool)
    veh = np.zeros(n_sites)
    npv = np.zeros(n_sites)
    open_[ix.stations] = x[milp.var_blocks["y"].slice] > 0.5
    veh[ix.stations] = np.round(x[milp.var_blocks["x"].slice])
    npv[ix.stations] = np.round(x[milp.var_blocks["n"].slice])
    return EmsPlan(open_, veh, npv)


def _certify(
    problem: EmsProblem,
    cov: sp.csr_matrix,
    applies: np.ndarray,
    ix: Index,
    milp: MILP,
    result: SolveResult,
    value: Any,
    floor: float | None = None,
) -> tuple[EmsEvaluation, float, float | None]:
    assert result.x is not None
    plan = _decode(problem, ix, milp, result.x)
    ev = evaluate_ems(problem, cov, applies, plan)
    violations = check_ems(problem, ev)
    raw = float(value(ev))
    solver_obj = (
        float(result.objective) if result.objective is not None else milp.objective_value(result.x)
    )
    tol = 1e-6 * (float(np.abs(milp.c).sum()) + abs(milp.c0)) + 1e-6
    maximise = milp.sense == "max"
    if result.status == Status.OPTIMAL and abs(raw - solver_obj) > tol:
        violations.append(f"objective mismatch: solver {solver_obj:,.6f}, raw data {raw:,.6f}")
    elif result.status == Status.FEASIBLE and (
        raw < solver_obj - tol if maximise else raw > solver_obj + tol
    ):
        violations.append(f"objective mismatch: solver {solver_obj:,.6f}, raw data only {raw:,.6f}")
    bound = result.bound
    if bound is not None and (raw > bound + tol if maximise else raw < bound - tol):
        violations.append(f"bound {bound:,.6f} invalid for the raw objective {raw:,.6f}")
    if floor is not None and ev.objective < floor - tol:
        violations.append(f"second stage lost coverage: {ev.objective:,.6f} < {floor:,.6f}")
    if violations:
        raise CheckError(violations)
    if result.status == Status.OPTIMAL and bound is None:
        bound = raw
    return ev, raw, bound


def solve_ems(
    problem: EmsProblem,
    options: SolveOptions | None = None,
    *,
    backend: str = "highs",
    aggregate: bool = True,
) -> EmsSolution:
    """Build, solve and certify the 120 model (then the least cost at that coverage, when
    ``secondary_objective: min_cost``); an infeasible case comes back with its diagnosis.

    ``aggregate`` merges demand points with the same covering stations into one row each."""
    options = options or SolveOptions()
    t0 = time.perf_counter()
    cov, applies = coverage_matrix(problem)
    reasons = precheck_ems(problem, cov, applies)
    if reasons:
        return EmsSolution(
            problem,
            Status.INFEASIBLE,
            diagnosis=reasons,
            total_time_s=time.perf_counter() - t0,
            message="infeasible: found before solving",
        )
    ix = index(problem, cov, applies, aggregate)
    milp = build_ems_milp(problem, ix)
    stages = _solve_stages(problem, ix, milp, options, backend)
    result = stages.first
    common: dict[str, Any] = {
        "runtime_s": result.runtime_s,
        "solver": result.solver,
        "solver_version": result.solver_version,
        "message": result.message,
        "model_size": {
            "rows": milp.n_rows,
            "columns": milp.n_cols,
            "nonzeros": milp.nnz,
            "integer_columns": milp.n_integer,
        },
        "presolve": {
            "demand_points": len(problem.demand),
            "demand_groups": int(ix.group_weight.size),
            "sites": len(problem.sites),
            "station_columns": int(ix.stations.size),
        },
    }
    if not result.status.has_solution or result.x is None:
        diagnosis = (
            diagnose_ems(problem, ix, options, backend)
            if result.status == Status.INFEASIBLE
            else []
        )
        return EmsSolution(
            problem,
            result.status,
            bound=result.bound,
            diagnosis=diagnosis,
            total_time_s=time.perf_counter() - t0,
            **common,
        )
    ev, _, bound = _certify(problem, cov, applies, ix, milp, result, lambda e: e.objective)
    status = result.status
    secondary: dict[str, object] | None = None
    if stages.second is not None:
        ev, secondary, second_ok = _second_stage(problem, cov, applies, ix, stages, ev)
        if not second_ok:
            status = Status.FEASIBLE
    gap = relative_gap(ev.objective, bound) if bound is not None else None
    log.info(
        "Checked 120 plan on raw data: %d stations, %d ambulances (%d negative-pressure), objective %s",
        int(ev.plan.open.sum()),
        ev.total_vehicles,
        ev.total_np,
        f"{ev.objective:,.6g}",
    )
    return EmsSolution(
        problem,
        status,
        ev,
        objective=ev.objective,
        bound=bound,
        gap=gap,
        total_time_s=time.perf_counter() - t0,
        checked=True,
        secondary=secondary,
        **common,
    )


@dataclass(frozen=True, eq=False)
class _Stages:
    """The first stage's answer and, for ``secondary_objective: min_cost``, the second's."""

    first: SolveResult
    second: SolveResult | None = None
    stage2: MILP | None = None
    """The second stage's model (least cost at the first stage's value)."""


def _solve_stages(
    problem: EmsProblem, ix: Index, milp: MILP, options: SolveOptions, backend: str
) -> _Stages:
    """Solve the model; with a cost secondary objective lexicographically (cost second)."""
    if problem.model.secondary_objective != "min_cost":
        return _Stages(solve(milp, options, backend))
    cy, cx, cn, const = cost_coefficients(problem, ix)
    c2 = np.zeros(milp.n_cols)
    c2[milp.var_blocks["y"].slice] = cy
    c2[milp.var_blocks["x"].slice] = cx
    c2[milp.var_blocks["n"].slice] = cn
    result, second = solve_lexicographic(milp, c2, const, options, backend)
    return _Stages(result, second, replace(milp, sense="min", c=c2, c0=const))


def _second_stage(
    problem: EmsProblem,
    cov: sp.csr_matrix,
    applies: np.ndarray,
    ix: Index,
    stages: _Stages,
    ev: EmsEvaluation,
) -> tuple[EmsEvaluation, dict[str, object], bool]:
    """The least-cost stage certified like the first (without losing its coverage).

    Returns the evaluation to report, the ``secondary`` block and whether it was optimal."""
    second = stages.second
    assert second is not None and stages.stage2 is not None
    secondary: dict[str, object] = {
        "objective": "min_cost",
        "status": second.status.value,
        "first_stage_value": ev.cost,
    }
    if second.status.has_solution and second.x is not None:
        ev2, cost2, b2 = _certify(
            problem, cov, applies, ix, stages.stage2, second, lambda e: e.cost, ev.objective
        )
        secondary.update(
            value=cost2, bound=b2, gap=relative_gap(cost2, b2) if b2 is not None else None
        )
        ev = ev2
    return ev, secondary, second.status == Status.OPTIMAL


def diagnose_ems(problem: EmsProblem, ix: Index, options: SolveOptions, backend: str) -> list[str]:
    """Why no plan exists, with each fix re-solved before it is printed (models.ems.fixes)."""
    from .fixes import Hooks, diagnose_ems_fixes

    return diagnose_ems_fixes(problem, ix, options, backend, Hooks(build_ems_milp, _violations))


def _violations(problem: EmsProblem, ix: Index, milp: MILP, x: np.ndarray) -> list[str]:
    """A solution of ``milp`` decoded and checked on the raw data (empty = a valid plan)."""
    cov, applies = coverage_matrix(problem)
    return check_ems(problem, evaluate_ems(problem, cov, applies, _decode(problem, ix, milp, x)))
