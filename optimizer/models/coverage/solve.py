r"""Covering location models: LSCP, MCLP, budgeted MCLP, PSCLP, and their composition.

One integer program covers the whole family (MODELS.md §8.2, the coverage core plus blocks).
With free site columns :math:`y_j \in \{0,1\}` (sites not fixed open), merged demand groups
:math:`g` of weight :math:`w_g`, and for each active standard :math:`s` the covering sets
:math:`N_g^s = \{j : t_{gj} \le T_s(\text{class}_g)\}`:

.. math::

    \max / \min \quad & \sum_s \beta_s \sum_g w_g z_{gs}
        \;\text{(max_coverage)}, \quad \sum_{j \in P} c_j y_j + \sum_{j \in E} r_j (1 - y_j)
        \;\text{(min_cost)}, \quad \sum_{j \in P} y_j \;\text{(min_sites)} \\
    \text{s.t.}\quad & z_{gs} \le \textstyle\sum_{j \in N_g^s} y_j
        && \text{(coverage link; } z \in [0,1]\text{, integral at optimum)} \\
    & \textstyle\sum_{j \in N_g^s} y_j \ge 1 && \text{(mandatory standard, min_share = 1)} \\
    & \textstyle\sum_g w_g z_{gs} \ge \alpha_s W_s - W_s^{\text{kept}} && \text{(coverage share)} \\
    & \textstyle\sum_{g \in \zeta} w_g z_{gs} \ge \alpha_{s\zeta} W_{s\zeta} - W_{s\zeta}^{\text{kept}}
        && \text{(share in every zone } \zeta\text{)} \\
    & \textstyle\sum_{j \in P_k} y_j \le p_k && \text{(new sites per type)} \\
    & \textstyle\sum_{j \in P} c_j y_j + \sum_{j \in E} r_j (1 - y_j) \le B && \text{(budget)} \\
    & \textstyle\sum_{j \in \zeta, \text{type}(j) \in K} y_j \ge k && \text{(zone rule)} \\
    & \textstyle\sum_{j \,:\, \text{type } k} y_j \ge |E_k| && \text{(relocation keeps the count)}

``P`` are new candidates, ``E`` existing sites that may close with net closing cost
:math:`r_j` = removal cost - relocation credit (Church & ReVelle 1974 for (a)/(d); maxcovr's
relocation model for (e), after Chan et al.; Cordeau, Furini & Ljubić 2019 for budgeted MCLP and
PSCLP; Toregas et al. 1971 for LSCP). Existing sites kept open are constants: the groups they
cover leave the model and enter the objective as :math:`W^{\text{kept}}`.

The pieces live apart: building (:mod:`.build`, one function per row family), the choice of
method (:mod:`.method`), the certificate (:mod:`.certify`) and the infeasibility diagnosis
(:mod:`.diagnose`); this module runs them in order.

Special cases: LSCP = one mandatory standard, ``min_sites``; MCLP = one weighted standard and
``max_new_sites``; budgeted MCLP = a budget instead; PSCLP = ``min_cost`` with ``min_share``;
MCLP with mandatory closeness = a weighted 15-minute standard plus a mandatory 20-minute one.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field, replace

import numpy as np

from ...certificate import Certificate
from ...milp import MILP
from ...solvers import SolveOptions, SolveResult, Status, relative_gap, solve, solve_lexicographic
from ...solvers.covering import psclp_note
from .build import build_coverage_milp, site_objective, warm_start_vector
from .certify import certify, second_stage
from .diagnose import diagnose_infeasibility
from .evaluate import Evaluation
from .method import decide_method, default_cells
from .precheck import precheck
from .problem import (
    CoverageProblem,
    ReducedCoverage,
    StandardCoverage,
    coverage_sets,
    reduce,
)

__all__ = ["CoverageSolution", "solve_coverage"]

log = logging.getLogger(__name__)


@dataclass(frozen=True, eq=False)
class CoverageSolution(Certificate):
    """A certified answer: status, plan, objective recomputed on raw data, bound and gap."""

    problem: CoverageProblem
    status: Status
    coverages: list[StandardCoverage]
    open_mask: np.ndarray | None = None
    evaluation: Evaluation | None = None
    solver_objective: float | None = None
    dominated_by: dict[int, int] = field(default_factory=dict)
    """Presolve: site index -> index of a candidate that dominates it (coverage and cost)."""
    method: str = "compact"
    """How the model was solved: ``compact`` (one MILP) or ``benders`` (decomposition)."""
    method_reason: str = ""
    """Why that method: the case's setting, or what ``auto`` measured and concluded."""
    benders: dict[str, object] | None = None
    """Benders rounds, cuts and cells (only with ``method == "benders"``)."""
    warm_start: str | None = None
    """Where the solver's starting plan came from: ``given`` (e.g. a sweep neighbour),
    ``greedy``, or None."""
    timings_s: dict[str, float] = field(default_factory=dict)
    """Wall-clock seconds per stage of :func:`solve_coverage`, in pipeline order: ``coverage``,
    ``precheck``, ``presolve`` (aggregation + dominance), ``milp`` (building the matrix),
    ``load`` (handing it to the solver; only for backends that time it), ``solve`` (the solver's
    run), ``read`` (the rest of the solver call: reading the answer back, and loading when the
    backend does not time it), ``certify`` (decode, evaluate on raw data, check). Stages not
    reached are absent."""

    @property
    def sense(self) -> str:
        return "max" if self.problem.model.resolved_objective == "max_coverage" else "min"

    def open_ids(self, facility_type: str | None = None) -> list[str]:
        if self.open_mask is None:
            return []
        mask = self.open_mask.copy()
        if facility_type is not None:
            mask &= self.problem.sites.facility_type == facility_type
        return sorted(map(str, self.problem.sites.ids[mask]))


class _Laps:
    """Record the wall-clock time since the previous lap under a stage name."""

    def __init__(self, timings: dict[str, float]) -> None:
        self.timings = timings
        self.t = time.perf_counter()

    def split(self) -> float:
        now = time.perf_counter()
        elapsed, self.t = now - self.t, now
        return elapsed

    def __call__(self, stage: str) -> None:
        self.timings[stage] = self.split()


def solve_coverage(
    problem: CoverageProblem,
    options: SolveOptions | None = None,
    *,
    backend: str = "highs",
    aggregate: bool = True,
    drop_dominated: bool = True,
    warm_open: np.ndarray | None = None,
    method: str = "compact",
    greedy: bool | None = None,
    benders_cells: int | None = None,
) -> CoverageSolution:
    """Build, solve and certify a covering model. Raises :class:`CheckError` on a bad answer.

    ``warm_open`` (a mask of open sites, e.g. the neighbouring point of a sweep) is offered to
    the solver as a starting plan; the solver checks it and ignores it if it is infeasible.
    Without one, ``greedy`` builds one (:mod:`optimizer.models.coverage.greedy`); by default (None) only for
    Benders, which starts from it: HiGHS on the compact model was not faster with it
    (benchmarks/README.md). ``method`` is ``compact``
    (one MILP), ``benders`` (:mod:`optimizer.models.coverage.benders`; refuses cases it does not support) or
    ``auto`` (Benders when the coverage part of the compact model is large, see
    :func:`~optimizer.models.coverage.method.choose_method`). Either way the answer is certified
    the same way.
    """
    options = options or SolveOptions()
    t_start = time.perf_counter()
    timings: dict[str, float] = {}
    lap = _Laps(timings)
    coverages = coverage_sets(problem)
    lap("coverage")
    reasons = precheck(problem, coverages)
    lap("precheck")
    if reasons:
        log.warning("Case is infeasible before solving: %d reasons", len(reasons))
        return CoverageSolution(
            problem,
            Status.INFEASIBLE,
            coverages,
            diagnosis=reasons,
            total_time_s=time.perf_counter() - t_start,
            message="infeasible: found before solving",
            timings_s=timings,
        )
    reduced = reduce(problem, coverages, aggregate=aggregate, drop_dominated=drop_dominated)
    lap("presolve")
    milp = build_coverage_milp(problem, reduced)
    lap("milp")
    chosen, reason = decide_method(problem, reduced, method, backend, milp)
    if method == "auto" and chosen == "compact" and backend in ("highs", "scip"):
        options = replace(options, psclp_scip=True)
        reason += psclp_note()
    log.info("Method %s", reason)
    warm_from = "given" if warm_open is not None else None
    if greedy is None:
        greedy = chosen in ("benders", "bbc")
    if warm_open is None and greedy:
        from .greedy import greedy_plan

        warm_open = greedy_plan(problem, reduced, milp)
        warm_from = "greedy" if warm_open is not None else None
        lap("greedy")
    if warm_open is not None and chosen == "compact":
        options = replace(options, warm_start=warm_start_vector(milp, reduced, warm_open))
    run = _run_method(problem, reduced, milp, options, backend, chosen, warm_open, benders_cells)
    common = _record(run, milp, reduced, lap, chosen, reason, warm_from)
    result = run.result
    if not result.status.has_solution or result.x is None:
        diagnosis: list[str] = []
        if result.status == Status.INFEASIBLE:
            diagnosis = diagnose_infeasibility(problem, reduced, options, backend)
        return CoverageSolution(
            problem,
            result.status,
            coverages,
            bound=result.bound,
            diagnosis=diagnosis,
            total_time_s=time.perf_counter() - t_start,
            **common,  # type: ignore[arg-type]
        )
    return _certified(problem, coverages, reduced, milp, run, lap, t_start, common)


@dataclass
class _Run:
    """What one method returned: the (first-stage) result, the second stage, Benders' record."""

    result: SolveResult
    second: SolveResult | None = None
    stage2: MILP | None = None
    benders_info: dict[str, object] | None = None


def _record(
    run: _Run,
    milp: MILP,
    reduced: ReducedCoverage,
    lap: _Laps,
    chosen: str,
    reason: str,
    warm_from: str | None,
) -> dict[str, object]:
    """The solution's fields every outcome shares: solver, model size, presolve, timings, method."""
    solver_wall = lap.split()
    result = run.result
    timings = lap.timings
    load = result.load_time_s if result.load_time_s is not None else 0.0
    if result.load_time_s is not None:
        timings["load"] = load
    timings["solve"] = result.runtime_s
    timings["read"] = max(solver_wall - load - result.runtime_s, 0.0)
    return {
        "runtime_s": result.runtime_s,
        "solver": result.solver,
        "solver_version": result.solver_version,
        "message": result.message,
        "model_size": milp.size(),
        "presolve": reduced.stats,
        "dominated_by": reduced.dominated_by,
        "timings_s": timings,
        "method": chosen,
        "method_reason": reason,
        "benders": run.benders_info,
        "warm_start": warm_from,
    }


def _run_method(
    problem: CoverageProblem,
    reduced: ReducedCoverage,
    milp: MILP,
    options: SolveOptions,
    backend: str,
    chosen: str,
    warm_open: np.ndarray | None,
    benders_cells: int | None,
) -> _Run:
    """Solve by the chosen method: bbc (SCIP), Benders, one MILP, or lexicographic two stages
    (the model's ``secondary_objective``: least cost or fewest sites at the best coverage)."""
    kind = problem.model.secondary_objective
    if chosen == "bbc":
        from .bbc import solve_coverage_bbc

        warm = None if warm_open is None else warm_start_vector(milp, reduced, warm_open)
        result, bbc_info = solve_coverage_bbc(
            problem,
            reduced,
            milp,
            options,
            warm=warm,
            n_cells=benders_cells or default_cells(reduced),
        )
        return _Run(result, benders_info=dict(bbc_info))
    if chosen == "benders":
        from .benders import solve_benders

        result, binfo = solve_benders(
            problem,
            reduced,
            milp,
            options,
            backend,
            warm_open=warm_open,
            n_cells=benders_cells or default_cells(reduced),
        )
        return _Run(result, benders_info=binfo.as_dict())
    if kind == "none":
        return _Run(solve(milp, options, backend))
    coef, const = site_objective(problem, reduced, kind)
    c2 = np.zeros(milp.n_cols)
    c2[milp.var_blocks["y"].slice] = coef
    stage2 = replace(milp, name=f"{milp.name}-{kind}", sense="min", c=c2, c0=const)
    result, second = solve_lexicographic(milp, c2, const, options, backend)
    return _Run(result, second, stage2)


def _certified(
    problem: CoverageProblem,
    coverages: list[StandardCoverage],
    reduced: ReducedCoverage,
    milp: MILP,
    run: _Run,
    lap: _Laps,
    t_start: float,
    common: dict[str, object],
) -> CoverageSolution:
    """Certify the plan (and the second stage's) on the raw data; the solution with its gap."""
    open_mask, ev, solver_obj, bound = certify(
        problem, coverages, reduced, milp, run.result, _first_objective
    )
    status = run.result.status
    secondary: dict[str, object] | None = None
    if run.second is not None and run.stage2 is not None:
        kind = problem.model.secondary_objective
        open2, ev2, secondary = second_stage(
            problem, coverages, reduced, run.stage2, run.second, ev, kind
        )
        if open2 is not None and ev2 is not None:
            open_mask, ev = open2, ev2
        if secondary["status"] != Status.OPTIMAL.value:
            status = Status.FEASIBLE
    gap = relative_gap(ev.objective, bound) if bound is not None else None
    lap("certify")
    log.info(
        "Checked plan on raw data: %d open sites, objective %s, gap %s",
        int(open_mask.sum()),
        f"{ev.objective:,.6g}",
        "-" if gap is None else f"{100 * gap:.4f}%",
    )
    return CoverageSolution(
        problem,
        status,
        coverages,
        open_mask=open_mask,
        evaluation=ev,
        objective=ev.objective,
        solver_objective=solver_obj,
        bound=bound,
        gap=gap,
        total_time_s=time.perf_counter() - t_start,
        checked=True,
        secondary=secondary,
        **common,  # type: ignore[arg-type]
    )


def _first_objective(ev: Evaluation) -> float:
    """The model's objective recomputed from the raw-data evaluation."""
    return ev.objective
