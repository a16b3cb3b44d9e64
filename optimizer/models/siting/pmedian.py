r"""p-median: open p sites so that residents' total (so also mean) travel time is least.

Formulation (Hakimi 1964; ReVelle & Swain 1970, *Geographical Analysis* 2(1):30-42; the strong
form with one linking row per pair as in MODELS.md §1.4). With demand points :math:`i` of weight
:math:`w_i`, allowed sites :math:`j` (the facility types the model places), travel times
:math:`t_{ij}` from the table, free sites :math:`F` and existing sites kept open :math:`E`:

.. math::

    \min \quad & \sum_i \sum_j w_i t_{ij} x_{ij} \\
    \text{s.t.}\quad & \textstyle\sum_j x_{ij} = 1 && \forall i \\
    & x_{ij} \le y_j && \forall i, j \in F \\
    & \textstyle\sum_{j \in F} y_j = p - |E| \quad (\text{or} \le \text{max\_new\_sites}) \\
    & \textstyle\sum_i w_i x_{ij} \le \text{cap}_j\, y_j && \forall j \quad
        (\text{capacitated only; } y_j \equiv 1 \text{ on } E) \\
    & y \in \{0,1\}, \quad x \ge 0

Without capacities :math:`x` is integral at the optimum for fixed :math:`y` (everyone goes to the
nearest open site); with capacities :math:`x` stays continuous, so a village may be split between
sites (single sourcing is not required). Pairs missing from the table are unreachable.

**k-nearest truncation with a certificate.** Large instances keep :math:`x_{ij}` only for the
:math:`k_i` nearest allowed sites of each demand point (ties at the :math:`k_i`-th value kept;
without capacities also nothing beyond the nearest kept-open existing site, which is exact). Each
truncated point gets one more column :math:`f_i` ("beyond the k nearest") in its assignment row,
at cost :math:`w_i t_{i(k+1)}`, the value of its nearest excluded site: a lower bound on any
excluded assignment, with no linking (and no capacity) row. The truncated model is therefore a
*relaxation* of the full model and its bound is a valid bound for the full problem. The open set
it returns is evaluated on the raw table; when that value meets the bound (in particular when no
:math:`f_i` is used) the plan is proven optimal for the full model. Otherwise :math:`k_i` is
doubled for the points that used :math:`f_i` and the model is solved again (warm-started), and
after ``MAX_ROUNDS`` rounds the full model is solved. This is the row-and-column idea of García,
Labbé & Marín (2011, *INFORMS J. Computing* 23(4):546-556) in its simplest form.

**Methods.** ``method: auto`` (the default) solves an uncapacitated model on a complete table
by Benders decomposition (:mod:`optimizer.models.siting.pmedian_benders`: Durán-Mateluna, Alès &
Elloumi 2023), and everything else (capacities, truncated tables, ``method: assignment``) with
the assignment model above in k-nearest rounds. Both answers are certified the same way.

**Truncated tables** (a network cutoff, k nearest sites, or a file's ``complete_within``): a
point whose table leaves sites out gets the beyond-k column at the least value a left-out site
can have (the cutoff, or its farthest listed site), so the model stays a relaxation of the full
problem. When its answer leans on such trips, the best plan among the listed trips is solved for
as well; it is OPTIMAL only when it meets the relaxation's bound, else FEASIBLE with the gap.

Presolve: zero-weight points do not enter the model; without capacities a point whose nearest
allowed site is already a kept-open existing site is a constant.

Every answer is checked on the raw data: the open set against the site rules, every demand point
of positive weight served, the objective recomputed from the raw travel-time table (nearest open
site; or the model's split assignment, capacities and shares when capacitated), and the bound on
the right side. A failure raises :class:`~optimizer.errors.CheckError`.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from geodata.arrays import Demand, Sites, TravelTimes

from ...errors import CaseError, CheckError, Problem
from ...schema.siting import PMedianModelConfig
from ...solvers import SolveOptions, Status, relative_gap
from .build import Layout, build_pmedian_milp, warm_start
from .evaluate import Plan, evaluate_capacitated, evaluate_uncapacitated, tolerance
from .problem import SitingInstance, capacities, capacity_precheck, prepare
from .rounds import Rounds, open_from
from .solution import PMedianSolution

__all__ = [
    "MAX_ROUNDS",
    "PMedianModelConfig",
    "PMedianSolution",
    "build_pmedian_milp",
    "solve_pmedian",
]

log = logging.getLogger(__name__)

MAX_ROUNDS = 6
"""Truncated rounds before the full model is solved."""
FULL_MODEL_PAIRS = 40_000
"""``k_nearest: auto`` solves the full model when it has at most this many assignment pairs."""


def _auto_k(inst: SitingInstance, config: PMedianModelConfig, active: np.ndarray) -> int | None:
    if config.k_nearest is None:
        return None
    if isinstance(config.k_nearest, int):
        return config.k_nearest
    n_pairs = int(inst.pairs.count[active].sum())
    if n_pairs <= FULL_MODEL_PAIRS:
        return None
    n_open = max(int(inst.fixed_open.sum()) + inst.free_limit, 1)
    n_allowed = int(inst.allowed.sum())
    return int(np.clip(np.ceil(2.0 * n_allowed / n_open), 8, n_allowed))


def solve_pmedian(
    demand: Demand,
    sites: Sites,
    travel_times: TravelTimes,
    config: PMedianModelConfig,
    options: SolveOptions | None = None,
    *,
    backend: str = "highs",
) -> PMedianSolution:
    """Build, solve (in truncated rounds when useful) and certify a p-median model.

    Returns OPTIMAL only when the plan's raw objective is proven within the requested gap of a
    valid bound for the *full* model; a time limit returns the best plan found with its bound
    (FEASIBLE). Raises :class:`CheckError` when an answer fails the raw-data check.
    """
    options = options or SolveOptions()
    t_start = time.perf_counter()
    inst = prepare(
        demand,
        sites,
        travel_times,
        p=config.p,
        max_new_sites=config.max_new_sites,
        existing=config.existing,
        facility_types=config.facility_types,
        count_rule="exactly",
    )
    capacity = capacities(inst, config.capacity)
    reasons = inst.unreachable(inst.weight > 0, "p-median")
    if capacity is not None and not reasons:
        reasons += capacity_precheck(inst, capacity)
    if reasons:
        log.warning("p-median is infeasible before solving: %d reasons", len(reasons))
        return PMedianSolution(
            inst,
            config,
            Status.INFEASIBLE,
            diagnosis=reasons,
            total_time_s=time.perf_counter() - t_start,
            message="infeasible: found before solving",
        )
    _check_method(inst, config, capacity)
    if capacity is None and not inst.truncated and config.method in ("auto", "benders"):
        return _solve_by_benders(inst, config, options, backend, t_start)
    rounds = Rounds.start(options, backend, t_start)
    st = _assignment_rounds(inst, config, capacity, rounds)
    if st.best is None and inst.truncated and st.status not in (Status.INFEASIBLE,):
        _listed_only_round(inst, capacity, rounds, st)
    return _finish(inst, config, capacity, rounds, st)


def _check_method(
    inst: SitingInstance, config: PMedianModelConfig, capacity: np.ndarray | None
) -> None:
    """``method: benders`` needs an uncapacitated model on a complete table."""
    if config.method == "benders" and (capacity is not None or inst.truncated):
        raise CaseError(
            [
                Problem(
                    "model.method",
                    "Benders needs an uncapacitated model on a complete travel-time table",
                    got="benders"
                    + (" with capacity: enforce" if capacity is not None else "")
                    + (f" on truncated table '{inst.travel_times.name}'" if inst.truncated else ""),
                    fix="use method: auto (or assignment), or drop the table's cutoff / k_nearest",
                )
            ]
        )


@dataclass
class _Search:
    """State of the k-nearest rounds: the best plan checked on the raw data, the best bound."""

    tol: float
    best: Plan | None = None
    best_bound: float = -np.inf
    solver_obj: float | None = None
    proven: bool = False
    status: Status = Status.ERROR
    log: list[dict[str, Any]] = field(default_factory=list)
    """One entry per round for ``solution.json``'s ``truncation.rounds``."""


def _assignment_rounds(
    inst: SitingInstance,
    config: PMedianModelConfig,
    capacity: np.ndarray | None,
    rounds: Rounds,
) -> _Search:
    """The k-nearest rounds: widen k where the beyond-k option is used, the full model last."""
    active = (inst.weight > 0) & (inst.pairs.count > 0)
    k0 = _auto_k(inst, config, active)
    k: np.ndarray | None = None if k0 is None else np.full(inst.n_demand, k0, dtype=np.int64)
    st = _Search(tolerance(inst))
    for rnd in range(1, MAX_ROUNDS + 2):
        if k is not None and rnd == MAX_ROUNDS + 1:
            k = None  # last resort: the full model
        if rounds.deadline.expired() and rounds.last is not None:
            st.status = Status.FEASIBLE if st.best is not None else Status.NO_SOLUTION
            break
        if not _round(inst, k, capacity, rounds, st, rnd):
            break
        assert k is not None
        k = np.minimum(2 * k, np.maximum(inst.pairs.count, 1))
    return st


def _round(
    inst: SitingInstance,
    k: np.ndarray | None,
    capacity: np.ndarray | None,
    rounds: Rounds,
    st: _Search,
    rnd: int,
) -> bool:
    """One round: solve, decode, check on the raw data. True: widen k and solve again."""
    layout = build_pmedian_milp(inst, k, capacity)
    milp = layout.milp
    warm = None
    if capacity is None and st.best is not None:
        warm = warm_start(layout, inst, st.best.open_mask)
    res = rounds.run(milp, warm)
    info: dict[str, Any] = {
        "round": rnd,
        "k": None if k is None else int(k[layout.model_demand].max(initial=0)),
        "pairs": int(layout.pair_pos.size),
        "full_pairs": layout.n_full_pairs,
        "beyond_k_columns": int(layout.far_demand.size),
        "status": res.status.value,
        "runtime_s": round(res.runtime_s, 3),
    }
    st.log.append(info)
    if not res.status.has_solution or res.x is None:
        info["certified"] = False
        st.status = res.status
        if res.bound is not None and res.status != Status.INFEASIBLE:
            st.best_bound = max(st.best_bound, res.bound)
        return False
    x = res.x
    far_used = layout.far_demand[x[milp.var_blocks["far"].slice] > 1e-6]
    info["beyond_k_used"] = int(far_used.size)
    open_mask = open_from(inst, layout.free_sites, x[milp.var_blocks["y"].slice])
    this_obj = float(res.objective) if res.objective is not None else milp.objective_value(x)
    bound = res.bound
    if bound is None and res.status == Status.OPTIMAL:
        bound = this_obj
    plan = _checked_plan(inst, layout, x, open_mask, capacity, far_used.size, this_obj, bound)
    if bound is not None:
        st.best_bound = max(st.best_bound, bound)
    if plan is not None and (st.best is None or plan.objective < st.best.objective - st.tol):
        st.best = plan
        st.solver_obj = this_obj
    info["raw_objective"] = None if plan is None else round(plan.objective, 6)
    info["bound"] = None if bound is None else round(bound, 6)
    certified = (
        st.best is not None
        and res.status == Status.OPTIMAL
        and st.best.objective - st.best_bound
        <= st.tol + rounds.options.mip_rel_gap * abs(st.best.objective)
    )
    info["certified"] = bool(certified)
    if certified:
        st.proven = True
        st.status = Status.OPTIMAL
        return False
    if res.status != Status.OPTIMAL or k is None:
        st.status = Status.FEASIBLE if st.best is not None else Status.NO_SOLUTION
        return False
    # Relaxation optimum uses the beyond-k option: widen those points' lists and re-solve.
    log.info(
        "Round %d: %d demand points use their beyond-k option (raw %s vs bound %s); "
        "doubling their k",
        rnd,
        far_used.size,
        "-" if plan is None else f"{plan.objective:,.6g}",
        "-" if bound is None else f"{bound:,.6g}",
    )
    return True


def _plan_of(
    inst: SitingInstance,
    layout: Layout,
    x: np.ndarray,
    open_mask: np.ndarray,
    capacity: np.ndarray | None,
) -> Plan:
    """The raw-data evaluation of a round's answer (nearest site, or the split assignment)."""
    if capacity is None:
        return evaluate_uncapacitated(inst, open_mask)
    P = inst.pairs
    share = x[layout.milp.var_blocks["x"].slice]
    di, sj = P.di[layout.pair_pos], P.sj[layout.pair_pos]
    return evaluate_capacitated(inst, open_mask, di, sj, share, capacity)


def _checked_plan(
    inst: SitingInstance,
    layout: Layout,
    x: np.ndarray,
    open_mask: np.ndarray,
    capacity: np.ndarray | None,
    far_used: int,
    this_obj: float,
    bound: float | None,
) -> Plan | None:
    """The round's plan checked on the raw data (raises :class:`CheckError` on any fault).

    None when the answer leans on beyond-k columns: it is no plan of the full model then."""
    tol = tolerance(inst)
    violations: list[str] = []
    plan: Plan | None
    if capacity is None:
        plan = _plan_of(inst, layout, x, open_mask, capacity)
        if far_used and plan.unserved:
            # The relaxation's open set leaves someone beyond every open site: it is not a
            # plan of the full model (the beyond-k option stood in). Only the rules count.
            violations += inst.check_open_set(open_mask)
            plan = None
        elif far_used == 0 and plan.objective > this_obj + tol:
            violations.append(
                f"objective mismatch: solver reports {this_obj:,.6f}, raw data gives "
                f"{plan.objective:,.6f} for the same open sites"
            )
    elif far_used == 0:
        plan = _plan_of(inst, layout, x, open_mask, capacity)
        if abs(plan.objective - this_obj) > tol:
            violations.append(
                f"objective mismatch: solver reports {this_obj:,.6f}, raw data gives "
                f"{plan.objective:,.6f}"
            )
    else:
        plan = None  # a split assignment beyond the k nearest cannot be evaluated
    if plan is not None:
        violations = plan.violations + violations
        if bound is not None and plan.objective < bound - tol:
            violations.append(
                f"bound {bound:,.6f} is not a valid bound for the raw objective "
                f"{plan.objective:,.6f}"
            )
    if violations:
        raise CheckError(violations)
    return plan


def _listed_only_round(
    inst: SitingInstance, capacity: np.ndarray | None, rounds: Rounds, st: _Search
) -> None:
    """The relaxation's plans lean on trips the truncated table does not list: find the best
    plan among listed trips (an upper bound) and keep the relaxation's bound."""
    if rounds.deadline.expired():
        return
    layout = build_pmedian_milp(inst, None, capacity, listed_only=True)
    res = rounds.run(layout.milp)
    info: dict[str, Any] = {"round": len(st.log) + 1, "k": None, "listed_pairs_only": True}
    info |= {"status": res.status.value, "runtime_s": round(res.runtime_s, 3)}
    st.log.append(info)
    if not res.status.has_solution or res.x is None:
        info["certified"] = False
        return
    open_mask = open_from(inst, layout.free_sites, res.x[layout.milp.var_blocks["y"].slice])
    plan = _plan_of(inst, layout, res.x, open_mask, capacity)
    if plan.violations or (np.isfinite(st.best_bound) and plan.objective < st.best_bound - st.tol):
        raise CheckError(
            plan.violations
            or [f"bound {st.best_bound:,.6f} is not a valid bound for {plan.objective:,.6f}"]
        )
    st.best = plan
    st.solver_obj = float(res.objective) if res.objective is not None else None
    info["raw_objective"] = round(plan.objective, 6)
    info["certified"] = bool(
        np.isfinite(st.best_bound)
        and plan.objective - st.best_bound
        <= st.tol + rounds.options.mip_rel_gap * abs(plan.objective)
    )
    st.proven = bool(info["certified"]) and res.status == Status.OPTIMAL
    st.status = Status.OPTIMAL if st.proven else Status.FEASIBLE


def _no_plan_diagnosis(inst: SitingInstance, status: Status, capacitated: bool) -> list[str]:
    """Why no plan came back: a truncated table, or a proof that none exists."""
    diagnosis = []
    if inst.truncated:
        diagnosis.append(
            f"the travel-time table '{inst.travel_times.name}' is truncated (a cutoff or k "
            "nearest sites) and no plan serves every demand point with the trips it lists; "
            "raise the table's cutoff or k_nearest, or drop them"
        )
    if status == Status.INFEASIBLE:
        diagnosis = [
            f"the solver proved that no {inst.limit_text} plan reaches every demand point "
            "with residents"
            + (" within the capacities" if capacitated else "")
            + "; allow more sites or add candidates that reach the outlying points"
        ]
    return diagnosis


def _finish(
    inst: SitingInstance,
    config: PMedianModelConfig,
    capacity: np.ndarray | None,
    rounds: Rounds,
    st: _Search,
) -> PMedianSolution:
    """The certified answer of the k-nearest rounds, with its bound and gap."""
    common: dict[str, Any] = rounds.solver_fields() | {
        "total_time_s": rounds.deadline.elapsed(),
        "message": rounds.message,
        "rounds": st.log,
    }
    bound_out = st.best_bound if np.isfinite(st.best_bound) else None
    if inst.truncated and st.status != Status.OPTIMAL:
        common["message"] = (
            f"the travel-time table '{inst.travel_times.name}' is truncated and the truncation "
            "could not be proven harmless: the plan (if any) is the best among listed trips, the "
            "bound allows for the trips left out; raise the table's cutoff or k_nearest"
        )
    best = st.best
    if best is None:
        diagnosis = _no_plan_diagnosis(inst, st.status, capacity is not None)
        return PMedianSolution(
            inst, config, st.status, bound=bound_out, diagnosis=diagnosis, **common
        )
    if st.proven:
        bound_out = best.objective if bound_out is None else min(bound_out, best.objective)
    return _solution(inst, config, st.status, best, st.solver_obj, bound_out, common)


def _solution(
    inst: SitingInstance,
    config: PMedianModelConfig,
    status: Status,
    plan: Plan,
    solver_obj: float | None,
    bound: float | None,
    common: dict[str, Any],
) -> PMedianSolution:
    """A checked plan as the answer: its raw objective, the bound and the gap between them."""
    gap = relative_gap(plan.objective, bound) if bound is not None else None
    log.info(
        "Checked p-median plan%s on raw data: %d open sites, objective %s, gap %s%s",
        " (Benders)" if common.get("method") == "benders" else "",
        int(plan.open_mask.sum()),
        f"{plan.objective:,.6g}",
        "-" if gap is None else f"{100 * gap:.4f}%",
        f", {len(common['rounds'])} rounds" if common.get("method") != "benders" else "",
    )
    return PMedianSolution(
        inst,
        config,
        status,
        open_mask=plan.open_mask,
        assigned_site=plan.assigned_site,
        travel=plan.travel,
        longest_trip=plan.longest_trip,
        shares=plan.shares,
        objective=plan.objective,
        solver_objective=solver_obj,
        bound=bound,
        gap=gap,
        checked=True,
        **common,
    )


def _solve_by_benders(
    inst: SitingInstance,
    config: PMedianModelConfig,
    options: SolveOptions,
    backend: str,
    t_start: float,
) -> PMedianSolution:
    """Uncapacitated p-median by Benders decomposition, certified on the raw table."""
    from .pmedian_benders import solve_pmedian_benders

    out = solve_pmedian_benders(inst, options, backend, t_start)
    common: dict[str, Any] = {
        "runtime_s": out.runtime_s,
        "total_time_s": time.perf_counter() - t_start,
        "solver": out.solver,
        "solver_version": out.solver_version,
        "message": out.message,
        "model_size": out.model_size,
        "rounds": out.rounds,
        "method": "benders",
    }
    if out.open_mask is None or out.objective is None:
        diagnosis = _no_plan_diagnosis(inst, out.status, False)
        return PMedianSolution(
            inst, config, out.status, bound=out.bound, diagnosis=diagnosis, **common
        )
    plan = evaluate_uncapacitated(inst, out.open_mask)
    tol = tolerance(inst)
    violations = list(plan.violations)
    if abs(plan.objective - out.objective) > tol:
        violations.append(
            f"objective mismatch: Benders reports {out.objective:,.6f}, raw data gives "
            f"{plan.objective:,.6f} for the same open sites"
        )
    bound = out.bound
    if bound is not None and plan.objective < bound - tol:
        violations.append(
            f"bound {bound:,.6f} is not a valid bound for the raw objective {plan.objective:,.6f}"
        )
    if violations:
        raise CheckError(violations)
    proven = (
        bound is not None
        and out.status == Status.OPTIMAL
        and plan.objective - bound <= tol + options.mip_rel_gap * abs(plan.objective)
    )
    status = Status.OPTIMAL if proven else Status.FEASIBLE
    if proven and bound is not None:
        bound = min(bound, plan.objective)
    return _solution(inst, config, status, plan, out.objective, bound, common)
