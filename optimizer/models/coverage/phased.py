r"""Phased roll-out: a multi-year plan under annual budgets, sites opened in a year stay open.

With phases :math:`t = 1..T`, site columns :math:`y_{jt}` (open by the end of phase t) and
coverage columns :math:`z_{gst}`:

.. math::

    \max \ & \sum_t \sum_s \beta_s \sum_g w_g z_{gst}
        \qquad (\text{coverage summed over the phases}) \\
    \text{s.t.}\ & z_{gst} \le \textstyle\sum_{j \in N_g^s} y_{jt} \\
    & y_{j,t-1} \le y_{jt} \qquad (\text{what is built stays}) \\
    & \textstyle\sum_{j\,\mathrm{new}} c_j (y_{jt} - y_{j,t-1}) \le B_t,\quad
      \sum_{j\,\mathrm{new}} (y_{jt} - y_{j,t-1}) \le p_t

and the final phase :math:`T` carries every constraint of the single-period covering model
(:mod:`optimizer.models.coverage.solve`): total budget and site limits, coverage targets, zone rules.
The final phase's block is that model itself, imported unchanged; earlier phases add their own
site and coverage columns. The order in which sites open is the build order per year. A phased
plan's final year can be no better than the single-shot optimum with the total budget (it is
one of the single-shot plans), which the tests check.

**At a time limit** the solver starts from a greedy roll-out (each phase adds the site with the
largest new weighted coverage per yuan within the phase's budget and site limit, Khuller, Moss &
Naor 1999), offered as a warm start when it meets every row of the model. The answer is the
better of the solver's incumbent and that plan, with the solver's bound (or, without one, the
trivial bound: every reachable resident covered in every phase), so a stopped run returns a real
roll-out and a true gap; with neither an incumbent nor a greedy plan it is NO_SOLUTION.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import scipy.sparse as sp

from ...certificate import Certificate
from ...errors import CheckError
from ...milp import MILP, ModelBuilder
from ...solvers import SolveOptions, SolveResult, Status, relative_gap, solve
from .build import build_coverage_milp, warm_start_vector
from .evaluate import Evaluation, check_plan, evaluate_plan
from .precheck import precheck
from .problem import (
    CoverageProblem,
    ReducedCoverage,
    StandardCoverage,
    coverage_sets,
    reduce,
)

__all__ = ["PhasedSolution", "build_phased_milp", "solve_phased"]

log = logging.getLogger(__name__)


@dataclass(frozen=True, eq=False)
class PhasedSolution(Certificate):
    problem: CoverageProblem
    status: Status
    coverages: list[StandardCoverage]
    open_by_phase: list[np.ndarray] = field(default_factory=list)
    evaluations: list[Evaluation] = field(default_factory=list)
    dominated_by: dict[int, int] = field(default_factory=dict)
    timings_s: dict[str, float] = field(default_factory=dict)

    @property
    def sense(self) -> str:
        return "max"

    @property
    def evaluation(self) -> Evaluation | None:
        """The final phase (the plan at the end of the roll-out)."""
        return self.evaluations[-1] if self.evaluations else None

    @property
    def open_mask(self) -> np.ndarray | None:
        return self.open_by_phase[-1] if self.open_by_phase else None

    def build_phase(self) -> np.ndarray:
        """Index of the phase in which each site opens (-1: never; existing sites: 0)."""
        n = len(self.problem.sites)
        out = np.full(n, -1, dtype=np.int64)
        for t in range(len(self.open_by_phase) - 1, -1, -1):
            out[self.open_by_phase[t]] = t
        return out


def build_phased_milp(problem: CoverageProblem, reduced: ReducedCoverage) -> MILP:
    model = problem.model
    phases = model.phases or []
    final = build_coverage_milp(problem, reduced)
    b = ModelBuilder(f"coverage-phased-{len(phases)}", "max")
    last = b.import_milp(final, prefix=f"{phases[-1].name}:")
    F = reduced.free_sites
    sites = problem.sites
    is_new = ~sites.existing[F]
    cost = sites.cost[F]
    gw = reduced.group_weight
    ys = []
    for ph in phases[:-1]:
        y = b.add_binary(f"{ph.name}:y", F.size)
        ys.append(y)
        for rs in reduced.standards:
            s = rs.standard
            if s.weight <= 0:
                continue
            live = rs.applies & ~rs.const
            idx = np.flatnonzero(live & (np.diff(rs.matrix.indptr) > 0))
            sub = rs.matrix[idx]
            z = b.add_vars(
                f"{ph.name}:z[{s.name}]", idx.size, lb=0.0, ub=1.0, cost=s.weight * gw[idx]
            )
            r = np.concatenate(
                [np.arange(idx.size), np.repeat(np.arange(idx.size), np.diff(sub.indptr))]
            )
            c = np.concatenate([z.index(), y.start + sub.indices])
            v = np.concatenate([np.ones(idx.size), -np.ones(sub.nnz)])
            b.add_rows(f"{ph.name}:link[{s.name}]", idx.size, r, c, v, hi=0.0)
            b.c0 += s.weight * float(gw[rs.applies & rs.const].sum())
    ys.append(last["y"])
    ar = np.arange(F.size)
    for t in range(len(phases)):
        cur = ys[t]
        prev = ys[t - 1] if t > 0 else None
        ph = phases[t]
        if prev is not None:
            b.add_rows(
                f"{ph.name}:nested",
                F.size,
                np.r_[ar, ar],
                np.r_[prev.index(), cur.index()],
                np.r_[np.ones(F.size), -np.ones(F.size)],
                hi=0.0,
            )
        new_cols = np.flatnonzero(is_new)
        if ph.budget is not None:
            cols = [cur.start + new_cols]
            vals = [cost[new_cols]]
            if prev is not None:
                cols.append(prev.start + new_cols)
                vals.append(-cost[new_cols])
            b.add_row(
                f"{ph.name}:budget", np.concatenate(cols), np.concatenate(vals), hi=float(ph.budget)
            )
        if ph.max_new_sites is not None:
            cols = [cur.start + new_cols]
            vals = [np.ones(new_cols.size)]
            if prev is not None:
                cols.append(prev.start + new_cols)
                vals.append(-np.ones(new_cols.size))
            b.add_row(
                f"{ph.name}:max_new_sites",
                np.concatenate(cols),
                np.concatenate(vals),
                hi=float(ph.max_new_sites),
            )
    milp = b.build()
    log.info("Built %s: %s", milp.name, milp.summary())
    return milp


def _decode(
    problem: CoverageProblem, reduced: ReducedCoverage, milp: MILP, x: np.ndarray
) -> list[np.ndarray]:
    phases = problem.model.phases or []
    out = []
    for ph in phases:
        blk = milp.var_blocks[f"{ph.name}:y"]
        open_mask = reduced.fixed_open.copy()
        open_mask[reduced.free_sites[x[blk.slice] > 0.5]] = True
        out.append(open_mask)
    return out


def _live(rs: object) -> np.ndarray:
    live = rs.applies & ~rs.const  # type: ignore[attr-defined]
    return np.flatnonzero(live & (np.diff(rs.matrix.indptr) > 0))  # type: ignore[attr-defined]


def greedy_rollout(problem: CoverageProblem, reduced: ReducedCoverage) -> list[np.ndarray]:
    """Per phase, add the free new site with the largest uncovered weighted coverage per unit of
    cost (per site without costs) that fits the phase's budget and site limit and the model's
    total ones; returns the y masks over ``reduced.free_sites``, one per phase."""
    model = problem.model
    sites = problem.sites
    F = reduced.free_sites
    is_new = ~sites.existing[F]
    cost = np.where(is_new, sites.cost[F], 0.0)
    mats, weights = [], []
    for rs in reduced.standards:
        if rs.standard.weight > 0:
            idx = _live(rs)
            mats.append(rs.matrix[idx])
            weights.append(rs.standard.weight * reduced.group_weight[idx])
    M = sp.vstack(mats, format="csr") if mats else sp.csr_matrix((0, F.size))
    Mc = M.tocsc()
    wv = np.concatenate(weights) if weights else np.zeros(0)
    y = ~is_new  # existing sites that may close stay open in the greedy
    covered = np.asarray(M @ y.astype(float)).ravel() > 0
    total_left = float(model.max_new_sites) if isinstance(model.max_new_sites, int) else np.inf
    budget_left = float(model.budget) if model.budget is not None else np.inf
    use_cost = model.budget is not None or any(ph.budget is not None for ph in model.phases or [])
    denom = np.maximum(cost, 1e-9) if use_cost else np.ones(F.size)
    out = []
    for ph in model.phases or []:
        money = min(budget_left, ph.budget if ph.budget is not None else np.inf)
        count = min(total_left, ph.max_new_sites if ph.max_new_sites is not None else np.inf)
        while count >= 1:
            gain = np.asarray(M.T @ np.where(covered, 0.0, wv)).ravel() / denom
            gain[~is_new | y | (cost > money + 1e-9)] = -1.0
            j = int(np.argmax(gain)) if gain.size else -1
            if j < 0 or gain[j] <= 0:
                break
            y[j] = True
            covered[Mc.indices[Mc.indptr[j] : Mc.indptr[j + 1]]] = True
            money -= cost[j]
            budget_left -= cost[j]
            count -= 1
            total_left -= 1
        out.append(y.copy())
    return out


def rollout_vector(
    problem: CoverageProblem, reduced: ReducedCoverage, milp: MILP, final: MILP, ys: list
) -> np.ndarray:
    """The phased MILP's vector for a roll-out (each phase's y mask over the free sites)."""
    phases = problem.model.phases or []
    x = np.zeros(milp.n_cols)
    last = phases[-1].name
    plan = reduced.fixed_open.copy()
    plan[reduced.free_sites[ys[-1]]] = True
    start = milp.var_blocks[f"{last}:y"].start - final.var_blocks["y"].start
    x[start : start + final.n_cols] = warm_start_vector(final, reduced, plan)
    for ph, y in zip(phases[:-1], ys[:-1], strict=True):
        x[milp.var_blocks[f"{ph.name}:y"].slice] = y
        for rs in reduced.standards:
            block = milp.var_blocks.get(f"{ph.name}:z[{rs.standard.name}]")
            if block is not None:
                hits = np.asarray(rs.matrix[_live(rs)] @ y.astype(float)).ravel()
                x[block.slice] = np.minimum(hits, 1.0)
    return x


def _trivial_bound(problem: CoverageProblem, reduced: ReducedCoverage) -> float:
    """Every resident any site can reach covered in every phase: a true upper bound."""
    gw = reduced.group_weight
    per_phase = 0.0
    for rs in reduced.standards:
        reach = rs.applies & (rs.const | (np.diff(rs.matrix.indptr) > 0))
        per_phase += rs.standard.weight * float(gw[reach].sum())
    return per_phase * len(problem.model.phases or [])


def check_phases(
    problem: CoverageProblem, plans: list[np.ndarray], evals: list[Evaluation]
) -> list[str]:
    """Nested plans, each phase within its budget and site limit, final phase valid."""
    phases = problem.model.phases or []
    sites = problem.sites
    out: list[str] = []
    prev = sites.existing.copy()
    for ph, plan in zip(phases, plans, strict=True):
        if (prev & ~plan).any():
            out.append(f"phase {ph.name}: a site opened earlier is closed")
        built = plan & ~prev
        spend = float(sites.cost[built & ~sites.existing].sum())
        if ph.budget is not None and spend > ph.budget + 1e-6 * max(1.0, ph.budget):
            out.append(f"phase {ph.name}: spends {spend:,.2f} over its budget {ph.budget:,.2f}")
        if ph.max_new_sites is not None and int(built.sum()) > ph.max_new_sites:
            out.append(
                f"phase {ph.name}: opens {int(built.sum())} sites, more than {ph.max_new_sites}"
            )
        prev = plan
    out += [f"final phase: {v}" for v in check_plan(problem, evals[-1])]
    return out


def solve_phased(
    problem: CoverageProblem,
    options: SolveOptions | None = None,
    *,
    backend: str = "highs",
    aggregate: bool = True,
) -> PhasedSolution:
    """Build, solve and certify the phased roll-out (module docstring); a stopped run returns
    the better of the solver's incumbent and the greedy roll-out, with the solver's bound."""
    options = options or SolveOptions()
    t0 = time.perf_counter()
    coverages = coverage_sets(problem)
    reasons = precheck(problem, coverages)
    if reasons:
        return PhasedSolution(
            problem,
            Status.INFEASIBLE,
            coverages,
            diagnosis=reasons,
            total_time_s=time.perf_counter() - t0,
        )
    # Dominance stays exact: a dominator costs no more, so it fits any phase's budget as well.
    reduced = reduce(problem, coverages, aggregate=aggregate, drop_dominated=True)
    milp = build_phased_milp(problem, reduced)
    result = _solve_from_greedy(problem, reduced, milp, options, backend)
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
        "presolve": reduced.stats,
        "dominated_by": reduced.dominated_by,
    }
    if not result.status.has_solution or result.x is None:
        diagnosis = []
        if result.status == Status.INFEASIBLE:
            diagnosis = [
                "the phases cannot reach the final targets: the final phase's constraints (coverage "
                "targets, zone rules) need more than the phases' budgets and site limits allow in total"
            ]
        return PhasedSolution(
            problem,
            result.status,
            coverages,
            bound=result.bound if result.bound is not None else _trivial_bound(problem, reduced),
            diagnosis=diagnosis,
            total_time_s=time.perf_counter() - t0,
            **common,
        )
    plans, evals, raw, bound = _certify_phases(problem, coverages, reduced, milp, result)
    return PhasedSolution(
        problem,
        result.status,
        coverages,
        plans,
        evals,
        objective=raw,
        bound=bound,
        gap=relative_gap(raw, bound),
        total_time_s=time.perf_counter() - t0,
        checked=True,
        **common,
    )


def _solve_from_greedy(
    problem: CoverageProblem,
    reduced: ReducedCoverage,
    milp: MILP,
    options: SolveOptions,
    backend: str,
) -> SolveResult:
    """Solve with the greedy roll-out as the starting plan (when it fits every row); a stopped
    run without a better incumbent returns the greedy roll-out with the solver's bound."""
    greedy_x: np.ndarray | None = rollout_vector(
        problem,
        reduced,
        milp,
        build_coverage_milp(problem, reduced),
        greedy_rollout(problem, reduced),
    )
    assert greedy_x is not None
    worst, where = milp.max_violation(greedy_x)
    if worst > 1e-6:
        log.info("Greedy roll-out not offered: it breaks %s by %.3g", where, worst)
        greedy_x = None
    else:
        options = replace(options, warm_start=greedy_x)
    result = solve(milp, options, backend)
    if (
        greedy_x is not None
        and result.status in (Status.FEASIBLE, Status.NO_SOLUTION)
        and (result.x is None or milp.objective_value(result.x) < milp.objective_value(greedy_x))
    ):
        # a stopped run without a better incumbent: the greedy roll-out, the solver's bound
        result = replace(
            result,
            status=Status.FEASIBLE,
            x=greedy_x,
            objective=milp.objective_value(greedy_x),
            message=f"{result.message}; the greedy roll-out is the best plan found",
        )
    return result


def _certify_phases(
    problem: CoverageProblem,
    coverages: list[StandardCoverage],
    reduced: ReducedCoverage,
    milp: MILP,
    result: SolveResult,
) -> tuple[list[np.ndarray], list[Evaluation], float, float]:
    """Decode the plans per phase, re-check them on the raw data, recompute the objective and
    check the bound; raises :class:`CheckError` on any failure."""
    assert result.x is not None
    plans = _decode(problem, reduced, milp, result.x)
    evals = [evaluate_plan(problem, coverages, p) for p in plans]
    violations = check_phases(problem, plans, evals)
    raw = float(sum(e.objective for e in evals))
    tol = 1e-6 * (float(np.abs(milp.c).sum()) + abs(milp.c0)) + 1e-6
    solver_obj = (
        float(result.objective) if result.objective is not None else milp.objective_value(result.x)
    )
    if result.status == Status.OPTIMAL and abs(raw - solver_obj) > tol:
        violations.append(f"objective mismatch: solver {solver_obj:,.6f}, raw data {raw:,.6f}")
    bound = result.bound
    if bound is not None and raw > bound + tol:
        violations.append(f"bound {bound:,.6f} below the raw objective {raw:,.6f}")
    if violations:
        raise CheckError(violations)
    if result.status == Status.OPTIMAL and bound is None:
        bound = raw
    if bound is None:
        bound = _trivial_bound(problem, reduced)
    return plans, evals, raw, bound
