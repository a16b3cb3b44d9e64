r"""p-center: open p sites so that the worst trip to the nearest open site is shortest.

The planner's question "how far is the farthest village from its clinic?" (unweighted), or the
worst population-weighted trip :math:`w_i t_{ij}` (``weighted: true``). MODELS.md §1.5, §8.3.
Only demand points with residents (weight > 0) count in either form.

``count: exactly`` (the default, as in OR-Library and Pullan 2008) opens exactly p sites;
``count: at_most`` opens the fewest sites that reach the optimal radius (a second stage: the
least LSCP at that radius). Both have the same radius, since opening a site never lengthens a
trip: the exactly-p plan is the least-sites plan padded farthest-first (Gonzalez 1985) with the
site nearest the worst-served point, then checked like every answer.

**Binary search over LSCP feasibility (the primary method).** The optimal radius is one of the
distinct values :math:`v_{ij}` (:math:`t_{ij}`, or :math:`w_i t_{ij}`). For a radius :math:`R`
the location set covering problem (Toregas, Swain, ReVelle & Bergman 1971)

.. math::

    \min \sum_{j \in F} y_j \quad \text{s.t.} \quad
    \sum_{j \in F,\, v_{ij} \le R} y_j \ge 1 \;\; \forall i \text{ not within } R
    \text{ of a kept-open existing site}, \qquad y \in \{0,1\}

gives the fewest new sites that bring everyone within :math:`R`; :math:`R` is feasible iff that
number is at most the limit (``p`` minus the kept existing sites, or ``max_new_sites``).
Feasibility is monotone in :math:`R`, so a binary search over the sorted candidate values between
a lower bound (every point's nearest possible site) and a greedy plan's radius finds the least
feasible :math:`R` (Minieka 1970; the method spopt-R uses by default; Elloumi, Labbé & Pochet
2004 for the exact covering view). A step stopped by the time limit decides nothing unless its
incumbent already fits (feasible) or its bound already exceeds the limit (infeasible); an
undecided step is treated as infeasible for the search but not for the bound, and the answer is
then reported FEASIBLE with the proven lower bound, never OPTIMAL.

**Compact MIP (cross-check).** Daskin (2013), as in spopt's ``PCenter``:

.. math::

    \min W \quad \text{s.t.} \quad \sum_j x_{ij} = 1, \;\; x_{ij} \le y_j \; (j \in F), \;\;
    \sum_{j \in F} y_j \le p - |E|, \;\; W \ge \sum_j v_{ij} x_{ij} \;\; \forall i

**Truncated tables** (a cutoff or k nearest sites): a radius at most the least value a left-out
pair can have is exact (a better plan would use only listed pairs); above it the plan is
FEASIBLE with that value as the bound, and no plan among the listed pairs is NO_SOLUTION, never
INFEASIBLE.

Both methods answer the same problem; kept-open existing sites :math:`E` are constants. The
answer is checked on the raw table: site rules, everyone counted served, and the radius
recomputed from the nearest open sites (it must equal the search's radius and lie on the right
side of the bound), else :class:`~optimizer.errors.CheckError`.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from typing import Any

import numpy as np

from geodata.arrays import Demand, Sites, TravelTimes

from ...errors import CheckError
from ...schema.siting import PCenterModelConfig
from ...solvers import SolveOptions, Status, relative_gap
from .build import Values, build_lscp_milp, build_pcenter_milp, pcenter_values
from .evaluate import evaluate_radius
from .pcenter_search import SearchOutcome, binary_search, greedy, pad
from .problem import SitingInstance, prepare
from .rounds import Rounds, open_from
from .solution import PCenterSolution

__all__ = [
    "PCenterModelConfig",
    "PCenterSolution",
    "build_lscp_milp",
    "build_pcenter_milp",
    "solve_pcenter",
]

log = logging.getLogger(__name__)


def solve_pcenter(
    demand: Demand,
    sites: Sites,
    travel_times: TravelTimes,
    config: PCenterModelConfig,
    options: SolveOptions | None = None,
    *,
    backend: str = "highs",
) -> PCenterSolution:
    """Find, check and certify the least worst-trip radius with at most p sites.

    ``options.time_limit_s`` bounds the whole search. Raises :class:`CheckError` when an answer
    fails the raw-data check.
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
        count_rule=config.count,
    )
    vals = pcenter_values(inst, config.weighted)
    reasons = inst.unreachable(vals.counted, "p-center")
    if reasons:
        return PCenterSolution(
            inst,
            config,
            Status.INFEASIBLE,
            diagnosis=reasons,
            total_time_s=time.perf_counter() - t_start,
            message="infeasible: found before solving",
        )
    rounds = Rounds.start(options, backend, t_start)
    if config.method == "compact":
        return _solve_compact(inst, vals, config, rounds)
    search = dataclasses.replace(inst, count_rule="at_most")  # exactly-p pads the plan after
    out = binary_search(search, vals, rounds, config.weighted)
    return _search_answer(inst, vals, config, rounds, out)


def _search_answer(
    inst: SitingInstance,
    vals: Values,
    config: PCenterModelConfig,
    rounds: Rounds,
    out: SearchOutcome,
) -> PCenterSolution:
    """The binary search's plan padded to p, checked on the raw table, with its proven bound."""
    tol = 1e-9 * max(1.0, float(np.abs(vals.value).max(initial=0.0)))
    cand = out.candidates
    common: dict[str, Any] = rounds.solver_fields() | {"steps": out.steps}
    bound = float(cand[out.proven_lo]) if out.proven_lo < cand.size else None
    floor = _truncation_floor(inst, vals, config.weighted)
    if bound is not None and floor < bound:
        bound = floor  # a better plan could use pairs the truncated table leaves out
    if out.open_mask is None or out.radius_index is None:
        return _no_plan(inst, config, rounds, out, bound, floor, common)
    open_mask = out.open_mask
    if inst.count_rule == "exactly":
        open_mask = pad(inst, vals, open_mask)
    radius, site, travel, violations = evaluate_radius(
        inst, vals.counted, open_mask, config.weighted
    )
    target = float(cand[out.radius_index])
    if radius > target + tol:
        violations.append(
            f"radius mismatch: the search certified {target:g}, raw data gives {radius:g}"
        )
    if bound is not None and radius < bound - tol:
        violations.append(f"bound {bound:g} is not a valid bound for the raw radius {radius:g}")
    if violations:
        raise CheckError(violations)
    proven = bound is not None and radius <= bound + tol
    status = Status.OPTIMAL if proven else Status.FEASIBLE
    undecided = [s["radius"] for s in out.steps if not s.get("decided", True)]
    message = "binary search over LSCP steps"
    if not proven:
        message = (
            f"radius {radius:g} is not proven optimal: the optimum lies in [{bound:g}, {radius:g}]"
            if bound is not None
            else f"radius {radius:g} is not proven optimal"
        ) + (f"; steps not decided within the time limit at {undecided}" if undecided else "")
        message += "".join("; " + n for n in _truncation_note(inst, floor) if radius > floor)
    log.info(
        "Checked p-center plan on raw data: %d open sites, radius %g (%s)",
        int(open_mask.sum()),
        radius,
        status.value,
    )
    return PCenterSolution(
        inst,
        config,
        status,
        open_mask=open_mask,
        assigned_site=site,
        travel=travel,
        objective=radius,
        bound=radius if proven else bound,
        gap=0.0 if proven else (relative_gap(radius, bound) if bound is not None else None),
        sites_needed=out.count if proven else None,
        total_time_s=rounds.deadline.elapsed(),
        message=message,
        checked=True,
        **common,
    )


def _no_plan(
    inst: SitingInstance,
    config: PCenterModelConfig,
    rounds: Rounds,
    out: SearchOutcome,
    bound: float | None,
    floor: float,
    common: dict[str, Any],
) -> PCenterSolution:
    """No radius found a plan: a proof (INFEASIBLE), or the time limit or truncated table."""
    status = Status.INFEASIBLE if bound is None else Status.NO_SOLUTION
    if np.isfinite(floor):  # only the listed pairs were searched: not a proof
        status = Status.NO_SOLUTION
    if status == Status.INFEASIBLE:
        message = "no plan with the allowed number of sites reaches every demand point"
    elif np.isfinite(floor):
        message = "no plan reaches every demand point with the trips the truncated table lists"
    else:
        message = "time limit reached before a plan was found"
    return PCenterSolution(
        inst,
        config,
        status,
        bound=bound,
        total_time_s=rounds.deadline.elapsed(),
        message=message,
        diagnosis=[s.get("reason", "") for s in out.steps if s.get("reason")]
        + _truncation_note(inst, floor),
        **common,
    )


def _solve_compact(
    inst: SitingInstance, vals: Values, config: PCenterModelConfig, rounds: Rounds
) -> PCenterSolution:
    """The compact MIP, started from a padded greedy plan's radius, checked on the raw table."""
    start = greedy(inst, vals, -np.inf)
    if inst.count_rule == "exactly":
        start = pad(inst, vals, start)
    ub, _, _, faults = evaluate_radius(inst, vals.counted, start, config.weighted)
    milp, free_sites = build_pcenter_milp(inst, vals, np.inf if faults else ub)
    log.info("Built %s: %s", milp.name, milp.summary())
    res = rounds.run(milp)
    common = rounds.solver_fields()
    if not res.status.has_solution or res.x is None:
        return PCenterSolution(
            inst,
            config,
            res.status,
            bound=res.bound,
            total_time_s=rounds.deadline.elapsed(),
            message=res.message,
            **common,
        )
    open_mask = open_from(inst, free_sites, res.x[milp.var_blocks["y"].slice])
    radius, site, travel, violations = evaluate_radius(
        inst, vals.counted, open_mask, config.weighted
    )
    solver_obj = float(res.objective) if res.objective is not None else float("inf")
    scale = 1e-6 * max(1.0, float(np.abs(vals.value).max(initial=0.0)))
    if radius > solver_obj + scale:
        violations.append(
            f"objective mismatch: solver reports {solver_obj:g}, raw data gives {radius:g}"
        )
    bound = res.bound
    if bound is not None and radius < bound - scale:
        violations.append(f"bound {bound:g} is not a valid bound for the raw radius {radius:g}")
    if violations:
        raise CheckError(violations)
    if res.status == Status.OPTIMAL and bound is None:
        bound = radius
    floor = _truncation_floor(inst, vals, config.weighted)
    if bound is not None and floor < bound:
        bound = floor  # a better plan could use pairs the truncated table leaves out
    proven = res.status == Status.OPTIMAL and (
        bound is not None and radius - bound <= scale + rounds.options.mip_rel_gap * radius
    )
    status = Status.OPTIMAL if proven else Status.FEASIBLE
    return PCenterSolution(
        inst,
        config,
        status,
        open_mask=open_mask,
        assigned_site=site,
        travel=travel,
        objective=radius,
        bound=bound,
        gap=relative_gap(radius, bound) if bound is not None else None,
        total_time_s=rounds.deadline.elapsed(),
        message="compact MIP (Daskin 2013)",
        checked=True,
        **common,
    )


def _truncation_floor(inst: SitingInstance, vals: Values, weighted: bool) -> float:
    """Least value a pair left out of a truncated table can have (inf: the table is complete).

    A plan whose radius is at most this uses only listed pairs, so the search over the listed
    values is exact up to it; above it the result is only an upper bound.
    """
    floor = inst.missing_floor
    if weighted:
        finite = np.isfinite(floor)
        floor = np.where(finite, np.where(finite, floor, 0.0) * inst.weight, np.inf)
    counted = vals.counted & np.isfinite(floor)
    return float(floor[counted].min()) if counted.any() else float("inf")


def _truncation_note(inst: SitingInstance, floor: float) -> list[str]:
    if not np.isfinite(floor):
        return []
    return [
        f"the travel-time table '{inst.travel_times.name}' is truncated: pairs beyond "
        f"{floor:g} {inst.unit} are not listed, so a radius above that is not proven; raise the "
        "table's cutoff or drop its k_nearest"
    ]
