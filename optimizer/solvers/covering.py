r"""Equal-cost partial set covering (PSCLP) solved as a search over the number of sites.

A block of the form (the clinic block of the default case)

.. math::

    \min c \textstyle\sum_j y_j \quad\text{s.t.}\quad z_g \le \sum_{j \in N_g} y_j,\;
    \sum_g w_g z_g \ge D,\; y \in \{0,1\},\; z \in [0,1]

with one cost ``c`` for every site is the least ``p`` whose maximal covering (MCLP with ``p``
sites, Church & ReVelle 1974) reaches ``D``; Cordeau, Furini & Ljubić (2019) use the same
link between PSCLP and MCLP. So:

1. the LP relaxation gives the lower bound :math:`\lceil LP / c \rceil` sites;
2. a heuristic MCLP for decreasing ``p`` (greedy, Nemhauser, Wolsey & Fisher 1978, then
   best-improvement swaps, Teitz & Bart 1968) finds the least ``p`` it can reach ``D`` with:
   an incumbent of ``k`` sites;
3. while ``k`` exceeds the lower bound, the solver decides whether ``k - 1`` sites can reach
   ``D`` (the PSCLP rows plus :math:`\sum_j y_j \le k-1`, no objective): *infeasible* proves
   ``k`` optimal; a plan found becomes the incumbent and the search goes on.

A time limit returns the incumbent with the LP bound. The answer is a vector of the block's
own MILP, so it is checked and certified like any other.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np
import scipy.sparse as sp

from ..milp import MILP
from .base import Deadline, SolveOptions, SolveResult, Status

__all__ = [
    "HEURISTIC_SHARE",
    "ROUTE_MAX_NONZEROS",
    "EqualCostPSCLP",
    "detect_equal_cost_psclp",
    "psclp_note",
    "solve_equal_cost_psclp",
    "solve_from_plan",
]

log = logging.getLogger(__name__)

Runner = Callable[[MILP, SolveOptions], SolveResult]


ROUTE_MAX_NONZEROS = 500_000
"""Blocks up to this many nonzeros take :func:`solve_from_plan`; larger ones go to SCIP as they
are (profile ``covering_search``). The route's LP relaxation is what grows: HiGHS solved it in
0.13 s on the default case's clinic block (13,790 nonzeros) and 6.8 s on a 20,000 x 1,000
clustered-town PSCLP (220,114 nonzeros; the route proved it in 7.9 s where bbc stopped at 13.7%
after 120 s), but did not finish in 120 s at 1,588,260 nonzeros (50,000 x 5,000; interior point
82 s), which left the route an all-open plan."""

HEURISTIC_SHARE = 0.2
"""At most this share of the time left goes to the heuristic plan (steps 2): on large blocks
the greedy and swap searches would otherwise outlast the time limit (10^5 x 10^4 clustered
towns, 15 min, 90% share: minutes of swaps before the cap)."""


@dataclass(frozen=True, eq=False)
class EqualCostPSCLP:
    """The recognised structure: site and group columns, covering sets, weights, target."""

    y: np.ndarray  # columns of the sites
    z: np.ndarray  # columns of the groups (one link row each)
    cover: sp.csr_matrix  # groups x sites (N_g), bool
    weight: np.ndarray  # w_g
    target: float  # D
    cost: float  # c


def detect_equal_cost_psclp(milp: MILP) -> EqualCostPSCLP | None:
    """The structure above in ``milp`` (any row or column order), or None if it is not that."""
    if milp.sense != "min" or milp.n_cols == 0 or milp.c0 != 0.0:
        return None
    y = np.flatnonzero(milp.integer)
    z = np.flatnonzero(~milp.integer)
    if y.size == 0 or z.size == 0:
        return None
    cy = milp.c[y]
    binary = np.all(milp.col_lo[milp.integer] == 0) and np.all(milp.col_hi[milp.integer] == 1)
    unit = np.all(milp.col_lo[z] == 0) and np.all(milp.col_hi[z] == 1) and not np.any(milp.c[z])
    if not (binary and unit and cy.min() > 0 and np.ptp(cy) == 0):
        return None
    A = milp.A.tocsr()
    share = np.flatnonzero(np.isfinite(milp.row_lo))
    if share.size != 1 or np.isfinite(milp.row_hi[share[0]]):
        return None
    s = int(share[0])
    srow = A[s]
    if np.any(milp.integer[srow.indices]) or np.any(srow.data <= 0):
        return None
    links = np.delete(np.arange(milp.n_rows), s)
    L = A[links]
    if np.any(milp.row_hi[links] != 0.0):
        return None
    Lz = L[:, z]
    Ly = L[:, y]
    per_row = np.diff(Lz.indptr)
    if Lz.nnz != links.size or np.any(per_row != 1) or np.any(Lz.data != 1.0):
        return None
    if np.any(Ly.data != -1.0) or np.bincount(Lz.indices, minlength=z.size).max(initial=0) > 1:
        return None
    # order the link rows by their z column: row g of ``cover`` belongs to z[g]
    order = np.argsort(Lz.indices)
    zcols = z[Lz.indices[order]]
    cover = sp.csr_matrix(Ly[order], dtype=bool)
    w = np.zeros(milp.n_cols)
    w[srow.indices] = srow.data
    return EqualCostPSCLP(y, zcols, cover, w[zcols], float(milp.row_lo[s]), float(cy[0]))


def psclp_note() -> str:
    """What ``solver.method: auto`` adds to its reason for the compact model: equal-cost
    partial covering blocks go to SCIP (``SolveOptions.psclp_scip``) when it is installed."""
    from .scip import available

    if not available():
        return ""
    return (
        "; equal-cost partial covering blocks, if any, in SCIP with pseudo-cost branching, "
        "started from their LP bound and a heuristic plan (benchmarks/covering.py: about 3 s "
        "against 15-20 s for HiGHS on the default case's clinic block)"
    )


def _covered_weight(p: EqualCostPSCLP, open_y: np.ndarray) -> float:
    hits = np.asarray(p.cover @ open_y.astype(np.int64)).ravel()
    return float(p.weight[hits > 0].sum())


def _greedy(
    p: EqualCostPSCLP, cover_csc: sp.csc_matrix, k: int | None, until: float
) -> tuple[np.ndarray, bool]:
    """Open, one at a time, the site covering the most uncovered weight (Nemhauser, Wolsey &
    Fisher 1978): until ``k`` sites are open, or with ``k`` None until ``D`` is reached. The
    flag is False when the ``until`` clock time stopped it first."""
    chosen = np.zeros(p.y.size, dtype=bool)
    count = np.zeros(p.cover.shape[0], dtype=np.int64)
    need = p.target - 1e-9 * max(p.target, 1.0)
    limit = p.y.size if k is None else min(k, p.y.size)
    for _ in range(limit):
        if k is None and float(p.weight[count > 0].sum()) >= need:
            break
        if time.perf_counter() > until:
            return chosen, False
        gain = np.asarray(cover_csc.T @ (p.weight * (count == 0))).ravel()
        gain[chosen] = -1.0
        j = int(gain.argmax())
        chosen[j] = True
        count += cover_csc[:, j].toarray().ravel().astype(np.int64)
    return chosen, True


def _greedy_to_target(
    p: EqualCostPSCLP, cover_csc: sp.csc_matrix, *, until: float = math.inf
) -> np.ndarray:
    """The greedy plan that reaches ``D`` (after the ``until`` clock time: every site open, a
    plan that reaches ``D`` when any does)."""
    chosen, in_time = _greedy(p, cover_csc, None, until)
    return chosen if in_time else np.ones(p.y.size, dtype=bool)


def _swap_search(
    p: EqualCostPSCLP, chosen: np.ndarray, cover_csc: sp.csc_matrix, until: float = math.inf
) -> np.ndarray:
    """Best-improvement swaps (one site out, one in) while the covered weight grows (and the
    clock is before ``until``)."""
    chosen = chosen.copy()
    n = chosen.size
    w = p.weight
    count = np.asarray(cover_csc @ chosen.astype(np.int64)).ravel()
    for _ in range(4 * n):
        if time.perf_counter() > until:
            break
        opened = np.flatnonzero(chosen)
        if opened.size == 0 or opened.size == n:
            break
        gain = np.asarray(cover_csc.T @ (w * (count == 0))).ravel()
        only = w * (count == 1)
        loss = np.asarray(cover_csc[:, opened].T @ only).ravel()
        # weight only j covers that i covers too: kept when swapping j out for i
        kept = (cover_csc.T @ sp.diags_array(only) @ cover_csc[:, opened]).toarray()
        delta = gain[:, None] - loss[None, :] + kept
        delta[chosen, :] = -np.inf
        i, jj = np.unravel_index(int(delta.argmax()), delta.shape)
        if delta[i, jj] <= 1e-9 * max(float(w.sum()), 1.0):
            break
        chosen[int(opened[jj])], chosen[int(i)] = False, True
        count = np.asarray(cover_csc @ chosen.astype(np.int64)).ravel()
    return chosen


def _best_plan(
    p: EqualCostPSCLP,
    k: int,
    cover_csc: sp.csc_matrix,
    lp_y: np.ndarray,
    *,
    until: float = math.inf,
) -> np.ndarray:
    """A good MCLP plan with ``k`` sites: the better of two local searches, one started from
    the greedy plan, one from the ``k`` sites with the largest LP values (each stopped at the
    ``until`` clock time)."""
    greedy, _ = _greedy(p, cover_csc, k, until)
    by_lp = np.zeros(p.y.size, dtype=bool)
    by_lp[np.argsort(-lp_y, kind="stable")[:k]] = True
    plans = [_swap_search(p, start, cover_csc, until) for start in (greedy, by_lp)]
    return max(plans, key=lambda plan: _covered_weight(p, plan))


def _vector(milp: MILP, p: EqualCostPSCLP, open_y: np.ndarray) -> np.ndarray:
    x = np.zeros(milp.n_cols)
    x[p.y] = open_y.astype(float)
    x[p.z] = (np.asarray(p.cover @ open_y.astype(np.int64)).ravel() > 0).astype(float)
    return x


def _with_count_limit(milp: MILP, p: EqualCostPSCLP, k: int) -> MILP:
    dense = np.zeros((1, milp.n_cols))
    dense[0, p.y] = 1.0
    row = sp.csr_matrix(dense)
    return replace(
        milp,
        name=f"{milp.name}-at-most-{k}",
        c=np.zeros(milp.n_cols),
        A=sp.vstack([milp.A, row], format="csr"),
        row_lo=np.r_[milp.row_lo, -np.inf],
        row_hi=np.r_[milp.row_hi, float(k)],
    )


def _bound_and_plan(
    milp: MILP, p: EqualCostPSCLP, options: SolveOptions, relax: Runner
) -> tuple[Deadline, SolveResult, int, np.ndarray]:
    """Steps 1 and 2: the clock of the whole solve, the LP relaxation (``relax``; its
    ``runtime_s`` set to the time so far when it proves the block infeasible), its bound in
    sites and the heuristic plan with the fewest sites found."""
    deadline = Deadline(options.time_limit_s)
    relaxed = relax(replace(milp, integer=np.zeros(milp.n_cols, dtype=bool)), options)
    cover_csc = p.cover.tocsc()
    if relaxed.status == Status.INFEASIBLE:
        return deadline, replace(relaxed, runtime_s=deadline.elapsed()), 0, np.ones(0, bool)
    lp = relaxed.objective if relaxed.objective is not None else 0.0
    lower = max(math.ceil(lp / p.cost - 1e-6), 0)
    lp_y = relaxed.x[p.y] if relaxed.x is not None else np.zeros(p.y.size)
    until = time.perf_counter() + HEURISTIC_SHARE * deadline.remaining()
    best = _greedy_to_target(p, cover_csc, until=until)
    lo, hi = max(lower, 1), int(best.sum())  # the least k a plan reaches D with: in [lo, hi]
    while lo < hi and time.perf_counter() < until:  # bisection on k
        k = (lo + hi) // 2
        plan = _best_plan(p, k, cover_csc, lp_y, until=until)
        if _reaches(p, plan):
            best, hi = plan, int(plan.sum())
        else:
            lo = k + 1
    if options.warm_start is not None:  # a plan handed in (a block's second pass) may be better
        given = np.asarray(options.warm_start)[p.y] > 0.5
        if given.sum() < best.sum() and _reaches(p, given):
            best = given
    log.info("Equal-cost PSCLP: LP bound %d sites, heuristic plan %d sites", lower, best.sum())
    return deadline, relaxed, lower, best


def _reaches(p: EqualCostPSCLP, open_y: np.ndarray) -> bool:
    return _covered_weight(p, open_y) >= p.target - 1e-9 * max(p.target, 1.0)


def solve_from_plan(
    milp: MILP, p: EqualCostPSCLP, options: SolveOptions, *, relax: Runner, prove: Runner
) -> SolveResult:
    """The equal-cost PSCLP route of ``solver.method: auto``: the LP bound and the heuristic
    plan of steps 1-2 above; a plan with as many sites as the bound is optimal as it stands,
    otherwise ``prove`` (SCIP, profile ``covering``) solves the block started from the plan.

    Why in this order (default case's clinic block, 1,285 rows x 1,616 columns, optimum 40
    sites, LP 38.18): HiGHS solves the LP in 0.13 s where SCIP's first LP takes 0.66 s; the
    LP-started swap search finds 40 sites in 0.05 s; SCIP given the 40-site plan with its own
    primal heuristics off spends its time on the bound alone: 2.3-3.9 s over six variable
    orders (mean 2.9 s) against 3.4-6.6 s (mean 5.2 s) left to find the plan itself.
    """
    deadline, relaxed, lower, best = _bound_and_plan(milp, p, options, relax)
    if relaxed.status == Status.INFEASIBLE:
        return relaxed
    plan = int(best.sum())
    if plan <= lower:
        return SolveResult(
            Status.OPTIMAL,
            _vector(milp, p, best),
            plan * p.cost,
            lower * p.cost,
            deadline.elapsed(),
            relaxed.solver,
            relaxed.solver_version,
            f"equal-cost PSCLP: the heuristic plan of {plan} sites meets the LP bound",
            0,
        )
    warm = _vector(milp, p, best)
    res = prove(milp, deadline.options_for(options, floor=0.01, warm_start=warm))
    if not res.status.has_solution or res.x is None:  # stopped before reading the plan
        res = replace(res, status=Status.FEASIBLE, x=warm, objective=plan * p.cost)
    bound = max(res.bound if res.bound is not None else -math.inf, lower * p.cost)
    return replace(res, bound=bound, runtime_s=deadline.elapsed())


def solve_equal_cost_psclp(
    milp: MILP, p: EqualCostPSCLP, options: SolveOptions, run: Runner
) -> SolveResult:
    """Solve the recognised block as described in the module docstring (``run`` solves a MILP)."""
    deadline, relaxed, lower, best = _bound_and_plan(milp, p, options, run)
    if relaxed.status == Status.INFEASIBLE:
        return relaxed
    incumbent = int(best.sum())
    status, nodes, rounds = Status.FEASIBLE, 0, 0
    while incumbent > lower and deadline.remaining() > 0.05:
        rounds += 1
        res = run(_with_count_limit(milp, p, incumbent - 1), deadline.options_for(options, floor=0))
        nodes += res.node_count or 0
        if res.status == Status.INFEASIBLE:
            lower = incumbent
        elif res.status.has_solution and res.x is not None:
            found = res.x[p.y] > 0.5
            if _covered_weight(p, found) + 1e-6 * max(p.target, 1.0) < p.target:
                break  # tolerances let a plan through that falls short: keep the incumbent
            best, incumbent = found, int(found.sum())
        else:
            break
    if incumbent <= lower:
        status = Status.OPTIMAL
    x = _vector(milp, p, best)
    return SolveResult(
        status,
        x,
        incumbent * p.cost,
        lower * p.cost,
        deadline.elapsed(),
        relaxed.solver,
        relaxed.solver_version,
        f"equal-cost PSCLP over p: {incumbent} sites, bound {lower} "
        f"({rounds} proof solve{'s' if rounds != 1 else ''})",
        nodes,
    )
