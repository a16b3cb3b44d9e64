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
    F = reduced.free_sites
    if F.size == 0:
        return None
    scored = _scored_rows(problem, reduced)
    if scored is None:
        return None
    y = _Greedy(problem, reduced, *scored).run()
    open_mask = reduced.fixed_open.copy()
    open_mask[F[y]] = True
    x = warm_start_vector(milp, reduced, open_mask)
    worst, where = milp.max_violation(x)
    if worst > 1e-6:
        log.info("Greedy plan dropped: it breaks %s by %.3g", where, worst)
        return None
    log.info(
        "Greedy plan: %d new sites, objective %s",
        int((open_mask & ~problem.sites.existing).sum()),
        f"{milp.objective_value(x):,.6g}",
    )
    return open_mask


def _scored_rows(
    problem: CoverageProblem, reduced: ReducedCoverage
) -> tuple[sp.csc_matrix, np.ndarray, list[tuple[int, int, float]]] | None:
    """The rows that count, stacked (groups x free sites), their weights and the share targets
    ``(start, stop, weight still needed)``: weighted standards (MCLP) or standards with an unmet
    share (PSCLP). None when no row counts."""
    objective = problem.model.resolved_objective
    gw = reduced.group_weight
    mats: list[sp.csr_matrix] = []
    weights: list[np.ndarray] = []
    targets: list[tuple[int, int, float]] = []
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
    return sp.vstack(mats, format="csc"), np.concatenate(weights), targets


class _Greedy:
    """The greedy's state: sites taken, rows covered, shares still needed, limits left."""

    def __init__(
        self,
        problem: CoverageProblem,
        reduced: ReducedCoverage,
        M: sp.csc_matrix,
        wv: np.ndarray,
        targets: list[tuple[int, int, float]],
    ) -> None:
        sites = problem.sites
        F = reduced.free_sites
        self.objective = problem.model.resolved_objective
        self.is_new = ~sites.existing[F]
        self.ftype = sites.facility_type[F]
        self.cost = np.where(self.is_new, sites.cost[F], 0.0)
        self.M, self.wv, self.targets = M, wv, targets
        self.covered = np.zeros(M.shape[0], dtype=bool)
        self.y = np.zeros(F.size, dtype=bool)
        self.y[~self.is_new] = True  # existing sites that may close start open (never forced)
        for k0 in np.flatnonzero(self.y).tolist():
            self.covered[M.indices[M.indptr[k0] : M.indptr[k0 + 1]]] = True
        lim = _limits(problem)
        self.budget_left: float | None = lim["budget"]
        self.type_budget_left = {k: float(v) for k, v in lim["by_type"].items()}
        self.count_left = dict(lim["count"])
        use_cost = (
            self.budget_left is not None
            or bool(self.type_budget_left)
            or self.objective == "min_cost"
        )
        self.denom = np.maximum(self.cost, 1e-9) if use_cost else np.ones(F.size)
        self.need_left = [t[2] for t in targets]

    def gain(self, j: int) -> float:
        """Weight newly covered by site ``j`` (for shares: only up to what is still needed)."""
        M = self.M
        rows = M.indices[M.indptr[j] : M.indptr[j + 1]]
        rows = rows[~self.covered[rows]]
        if self.objective == "max_coverage":
            return float(self.wv[rows].sum())
        g = 0.0
        for (a, b, _), left in zip(self.targets, self.need_left, strict=True):
            if left > 1e-9:
                sel = rows[(rows >= a) & (rows < b)]
                g += min(float(self.wv[sel].sum()), left)
        return g

    def allowed(self, j: int) -> bool:
        """A new site within the count limits and the budgets left."""
        if not self.is_new[j]:
            return False
        t = self.ftype[j]
        for key in (None, t):
            if key in self.count_left and self.count_left[key] < 1 - 1e-9:
                return False
        cost = self.cost[j]
        if self.budget_left is not None and cost > self.budget_left + 1e-9:
            return False
        return not (t in self.type_budget_left and cost > self.type_budget_left[t] + 1e-9)

    def take(self, j: int) -> None:
        """Open site ``j``: mark its rows covered, charge the shares, counts and budgets."""
        M = self.M
        self.y[j] = True
        rows = M.indices[M.indptr[j] : M.indptr[j + 1]]
        fresh = rows[~self.covered[rows]]
        for k, (a, b, _) in enumerate(self.targets):
            self.need_left[k] -= float(self.wv[fresh[(fresh >= a) & (fresh < b)]].sum())
        self.covered[fresh] = True
        t = self.ftype[j]
        for key in (None, t):
            if key in self.count_left:
                self.count_left[key] -= 1
        if self.budget_left is not None:
            self.budget_left -= self.cost[j]
        if t in self.type_budget_left:
            self.type_budget_left[t] -= self.cost[j]

    def run(self) -> np.ndarray:
        """The lazy-greedy loop; returns the mask over the free site columns."""
        heap: list[tuple[float, int]] = [
            (-self.gain(j) / float(self.denom[j]), j) for j in range(self.y.size) if self.allowed(j)
        ]
        heapq.heapify(heap)
        while heap:
            if self.objective != "max_coverage" and all(left <= 1e-9 for left in self.need_left):
                break
            _, j = heapq.heappop(heap)
            if not self.allowed(j):
                continue
            g = self.gain(j)
            if g <= 0:
                continue
            score = g / float(self.denom[j])
            if heap and score < -heap[0][0] - 1e-12:
                heapq.heappush(heap, (-score, j))
                continue
            self.take(j)
        return self.y
