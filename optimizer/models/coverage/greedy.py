r"""Greedy plans for covering models: warm starts and quick primal bounds, never final answers.

* MCLP (``max_coverage``): add the site with the largest marginal weighted coverage
  :math:`\sum_s \beta_s \sum_{g \text{ uncovered}} w_g` - per yuan when there is a budget - until
  the site limits or the budget stop it. For the cardinality MCLP this is the
  :math:`(1 - 1/e)`-approximation of Nemhauser, Wolsey & Fisher (1978); with a budget it is the
  cost-effectiveness rule of Khuller, Moss & Naor (1999) (without their partial enumeration).
* PSCLP (``min_cost`` / ``min_sites`` with ``min_share``): add the site with the largest
  coverage still missing from an unmet share target per unit of cost, until every target is met.

Marginal gains only fall as sites open (coverage is submodular), so the gains are kept in a
lazy priority queue: a popped site is re-scored and taken only if it still beats the next one.
The plan is then checked against every row of the compact MILP; an infeasible plan (e.g. a
mandatory standard or a zone rule the greedy ignores) is dropped, never passed on.
"""

from __future__ import annotations

import heapq
import logging
from typing import Any

import numpy as np
import scipy.sparse as sp

from ...milp import MILP
from .build import warm_start_vector
from .problem import CoverageProblem, ReducedCoverage

__all__ = ["greedy_plan"]

log = logging.getLogger(__name__)


def _limits(problem: CoverageProblem) -> dict[str, Any]:
    model = problem.model
    count: dict[str | None, float] = {}
    if model.max_new_sites is not None:
        if isinstance(model.max_new_sites, int):
            count[None] = float(model.max_new_sites)
        else:
            count.update({k: float(v) for k, v in model.max_new_sites.items()})
    budget = float(model.budget) if model.budget is not None else None
    by_type = dict(model.budget_by_type or {})
    return {"count": count, "budget": budget, "by_type": by_type}


def greedy_plan(
    problem: CoverageProblem, reduced: ReducedCoverage, milp: MILP
) -> np.ndarray | None:
    """A feasible plan (mask over all sites) built greedily, or ``None`` when the greedy's plan
    breaks a row of ``milp`` or the model has no coverage to gain."""
    model = problem.model
    sites = problem.sites
    F = reduced.free_sites
    if F.size == 0:
        return None
    objective = model.resolved_objective
    is_new = ~sites.existing[F]
    ftype = sites.facility_type[F]
    cost = np.where(is_new, sites.cost[F], 0.0)
    gw = reduced.group_weight

    # rows that count: weighted standards (MCLP) or standards with an unmet share (PSCLP)
    mats: list[sp.csr_matrix] = []
    weights: list[np.ndarray] = []
    targets: list[tuple[int, int, float]] = []  # (start, stop, weight still needed)
    start = 0
    for rs in reduced.standards:
        s = rs.standard
        if s.mandatory:
            continue
        live = rs.applies & ~rs.const
        idx = np.flatnonzero(live & (np.diff(rs.matrix.indptr) > 0))
        if objective == "max_coverage":
            if s.weight <= 0:
                continue
            w = s.weight * gw[idx]
        else:
            if s.min_share is None:
                continue
            need = s.min_share * float(gw[rs.applies].sum()) - float(
                gw[rs.applies & rs.const].sum()
            )
            if need <= 1e-9:
                continue
            w = gw[idx]
            targets.append((start, start + idx.size, need))
        mats.append(rs.matrix[idx])
        weights.append(np.asarray(w, dtype=float))
        start += idx.size
    if not mats:
        return None
    M = sp.vstack(mats, format="csc")
    wv = np.concatenate(weights)
    covered = np.zeros(M.shape[0], dtype=bool)
    y = np.zeros(F.size, dtype=bool)
    y[~is_new] = True  # existing sites that may close start open (closing is never forced here)
    for k0 in np.flatnonzero(y).tolist():
        covered[M.indices[M.indptr[k0] : M.indptr[k0 + 1]]] = True

    lim = _limits(problem)
    budget_left = lim["budget"]
    type_budget_left = {k: float(v) for k, v in lim["by_type"].items()}
    count_left = dict(lim["count"])
    use_cost = budget_left is not None or bool(type_budget_left) or objective == "min_cost"
    denom = np.maximum(cost, 1e-9) if use_cost else np.ones(F.size)
    need_left = [t[2] for t in targets]

    def gain(j: int) -> float:
        rows = M.indices[M.indptr[j] : M.indptr[j + 1]]
        rows = rows[~covered[rows]]
        if objective == "max_coverage":
            return float(wv[rows].sum())
        g = 0.0
        for (a, b, _), left in zip(targets, need_left, strict=True):
            if left > 1e-9:
                sel = rows[(rows >= a) & (rows < b)]
                g += min(float(wv[sel].sum()), left)
        return g

    def allowed(j: int) -> bool:
        if not is_new[j]:
            return False
        t = ftype[j]
        for key in (None, t):
            if key in count_left and count_left[key] < 1 - 1e-9:
                return False
        if budget_left is not None and cost[j] > budget_left + 1e-9:
            return False
        return not (t in type_budget_left and cost[j] > type_budget_left[t] + 1e-9)

    heap: list[tuple[float, int]] = [
        (-gain(j) / float(denom[j]), j) for j in range(F.size) if allowed(j)
    ]
    heapq.heapify(heap)
    while heap:
        if objective != "max_coverage" and all(left <= 1e-9 for left in need_left):
            break
        _, j = heapq.heappop(heap)
        if not allowed(j):
            continue
        g = gain(j)
        if g <= 0:
            continue
        score = g / float(denom[j])
        if heap and score < -heap[0][0] - 1e-12:
            heapq.heappush(heap, (-score, j))
            continue
        y[j] = True
        rows = M.indices[M.indptr[j] : M.indptr[j + 1]]
        fresh = rows[~covered[rows]]
        for k, (a, b, _) in enumerate(targets):
            need_left[k] -= float(wv[fresh[(fresh >= a) & (fresh < b)]].sum())
        covered[fresh] = True
        t = ftype[j]
        for key in (None, t):
            if key in count_left:
                count_left[key] -= 1
        if budget_left is not None:
            budget_left -= cost[j]
        if t in type_budget_left:
            type_budget_left[t] -= cost[j]
    open_mask = reduced.fixed_open.copy()
    open_mask[F[y]] = True
    x = warm_start_vector(milp, reduced, open_mask)
    worst, where = milp.max_violation(x)
    if worst > 1e-6:
        log.info("Greedy plan dropped: it breaks %s by %.3g", where, worst)
        return None
    log.info(
        "Greedy plan: %d new sites, objective %s",
        int((open_mask & ~sites.existing).sum()),
        f"{milp.objective_value(x):,.6g}",
    )
    return open_mask
