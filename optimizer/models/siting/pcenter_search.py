"""p-center's binary search over LSCP steps, and its farthest-first plans (greedy and padding).

The least feasible radius among the sorted candidate values (Minieka 1970), each step the
location set covering problem at that radius (Toregas et al. 1971); the module docstring of
:mod:`.pcenter` has the formulation and how undecided steps are reported.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ...solvers import Status
from .build import Values, build_lscp_milp
from .evaluate import evaluate_radius
from .problem import SitingInstance
from .rounds import Rounds

__all__ = ["SearchOutcome", "binary_search", "greedy", "pad"]

log = logging.getLogger(__name__)


def greedy(inst: SitingInstance, vals: Values, floor: float) -> np.ndarray:
    """Farthest-first plan (Gonzalez 1985): open the free site nearest the worst-served point."""
    open_mask = inst.fixed_open.copy()
    cur = np.where(vals.counted, vals.fixed, -np.inf)
    P = inst.pairs
    for _ in range(inst.free_limit):
        i = int(np.argmax(cur))
        if cur[i] <= floor:
            break
        lo, hi = P.start[i], P.start[i] + P.count[i]
        cand = np.flatnonzero(inst.free[P.sj[lo:hi]] & ~open_mask[P.sj[lo:hi]])
        if cand.size == 0:
            break
        j = int(P.sj[lo + cand[0]])  # pairs are sorted by value: the first is the nearest
        open_mask[j] = True
        col = slice(vals.by_site.indptr[j], vals.by_site.indptr[j + 1])
        rows = vals.by_site.indices[col]
        cur[rows] = np.minimum(cur[rows], vals.by_site.data[col] - 1.0)
    return open_mask


def pad(inst: SitingInstance, vals: Values, open_mask: np.ndarray) -> np.ndarray:
    """Open free sites until exactly ``free_limit`` are open: each time the free site nearest
    the worst-served counted point (any free site once no point has one left). The radius can
    only shrink, so an optimal at-most-p plan stays optimal."""
    open_mask = open_mask.copy()
    short = inst.free_limit - int((open_mask & inst.free).sum())
    if short <= 0:
        return open_mask
    cur = np.where(vals.counted, np.inf, -np.inf)
    by = vals.by_site
    for k in np.flatnonzero(open_mask):
        col = slice(by.indptr[k], by.indptr[k + 1])
        rows = by.indices[col]
        cur[rows] = np.minimum(cur[rows], by.data[col] - 1.0)
    P = inst.pairs
    for _ in range(short):
        j = -1
        while j < 0:
            i = int(np.argmax(cur))
            if cur[i] == -np.inf:
                break
            lo, hi = P.start[i], P.start[i] + P.count[i]
            cand = np.flatnonzero(inst.free[P.sj[lo:hi]] & ~open_mask[P.sj[lo:hi]])
            if cand.size:
                j = int(P.sj[lo + cand[0]])
            else:
                cur[i] = -np.inf  # nothing left to open near it
        if j < 0:
            j = int(np.flatnonzero(inst.free & ~open_mask)[0])
        open_mask[j] = True
        col = slice(by.indptr[j], by.indptr[j + 1])
        rows = by.indices[col]
        cur[rows] = np.minimum(cur[rows], by.data[col] - 1.0)
    return open_mask


@dataclass
class SearchOutcome:
    """The least radius found: its plan, candidate values, proven lower index and step log."""

    candidates: np.ndarray
    open_mask: np.ndarray | None = None
    radius_index: int | None = None
    """Index in ``candidates`` of the best plan's radius (None: no plan)."""
    proven_lo: int = 0
    """Every candidate below this index is proven infeasible."""
    count: int | None = None
    """Fewest new sites at the radius (when the last LSCP that found it was optimal)."""
    steps: list[dict[str, Any]] = field(default_factory=list)


def _candidates(
    inst: SitingInstance, vals: Values, weighted: bool
) -> tuple[np.ndarray, np.ndarray | None]:
    """Candidate radii between every point's nearest site and a greedy plan's radius, and the
    greedy plan (None when it does not reach everyone)."""
    P = inst.pairs
    counted = vals.counted
    nearest_any = np.full(inst.n_demand, np.inf)
    np.minimum.at(nearest_any, P.di, vals.value)
    lb0 = float(nearest_any[counted].max()) if counted.any() else 0.0
    plan = greedy(inst, vals, lb0)
    ub0, _, _, greedy_faults = evaluate_radius(inst, counted, plan, weighted)
    greedy_ok = not greedy_faults
    if not greedy_ok:
        ub0 = float(vals.value.max()) if vals.value.size else 0.0
    cand = np.unique(vals.value[counted[P.di] & (vals.value >= lb0) & (vals.value <= ub0)])
    if cand.size == 0 or cand[0] > lb0:
        cand = np.concatenate([[lb0], cand])
    log.info(
        "p-center binary search: %d candidate radii in [%g, %g] (greedy plan: %s)",
        cand.size,
        lb0,
        ub0,
        "feasible" if greedy_ok else "not feasible",
    )
    return cand, plan if greedy_ok else None


def _step(
    inst: SitingInstance,
    vals: Values,
    rounds: Rounds,
    weighted: bool,
    out: SearchOutcome,
    idx: int,
) -> bool | None:
    """One LSCP step at ``candidates[idx]``: True feasible, False infeasible, None undecided."""
    cand = out.candidates
    radius = float(cand[idx])
    milp, cols, reasons = build_lscp_milp(inst, vals, radius)
    step: dict[str, Any] = {"radius": radius}
    out.steps.append(step)
    if milp is None:
        step |= {"feasible": False, "decided": True, "reason": reasons[0]}
        return False
    if rounds.deadline.expired():
        step |= {"feasible": None, "decided": False, "reason": "time limit reached"}
        return None
    res = rounds.run(milp)
    step |= {"status": res.status.value, "runtime_s": round(res.runtime_s, 3)}
    if res.status.has_solution and res.x is not None:
        chosen = cols[res.x[milp.var_blocks["y"].slice] > 0.5]
        count = int(chosen.size)
        step["sites"] = count
        if count <= inst.free_limit:
            open_mask = inst.fixed_open.copy()
            open_mask[chosen] = True
            # The plan may already reach a smaller radius: the search continues below it.
            reached = evaluate_radius(inst, vals.counted, open_mask, weighted)[0]
            at = int(np.searchsorted(cand, reached))
            plan_index = at if at < cand.size and cand[at] == reached else idx
            if out.radius_index is None or plan_index <= out.radius_index:
                out.open_mask, out.radius_index = open_mask, min(plan_index, idx)
                out.count = count if res.status == Status.OPTIMAL else None
            step |= {"feasible": True, "decided": True, "plan_radius": reached}
            return True
    if res.status == Status.INFEASIBLE:
        step |= {"feasible": False, "decided": True}
        return False
    if res.bound is not None and np.ceil(res.bound - 1e-6) > inst.free_limit:
        step |= {"feasible": False, "decided": True, "min_sites_bound": res.bound}
        return False
    step |= {"feasible": None, "decided": False}
    return None


def binary_search(
    inst: SitingInstance, vals: Values, rounds: Rounds, weighted: bool
) -> SearchOutcome:
    """The least feasible candidate radius with at most ``free_limit`` new sites."""
    cand, greedy_plan = _candidates(inst, vals, weighted)
    out = SearchOutcome(cand)
    lo, hi = 0, cand.size - 1
    if greedy_plan is not None:
        out.open_mask, out.radius_index = greedy_plan, hi
    while lo < hi:
        mid = (lo + hi) // 2
        ok = _step(inst, vals, rounds, weighted, out, mid)
        if ok:
            assert out.radius_index is not None
            hi = out.radius_index
        else:
            # Infeasible at mid proves every smaller radius infeasible too (monotone); an
            # undecided step moves the search up without moving the bound.
            lo = mid + 1
            if ok is False:
                out.proven_lo = max(out.proven_lo, mid + 1)
    if out.radius_index is None:
        if _step(inst, vals, rounds, weighted, out, hi) is False:
            out.proven_lo = hi + 1  # the largest candidate: no plan reaches everyone at all
    elif out.radius_index == hi and out.open_mask is greedy_plan:
        # the plan is the greedy one: ask the LSCP for the fewest sites at this radius
        _step(inst, vals, rounds, weighted, out, hi)
    return out
