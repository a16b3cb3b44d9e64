r"""Benders decomposition for the uncapacitated p-median (the fast exact method for small p).

Formulation (Durán-Mateluna, Alès & Elloumi 2023, "An efficient Benders decomposition for the
p-median problem", *EJOR* 308(1):84-96, arXiv 2111.13405; the cuts go back to Magnanti & Wong
1981 and to the radius formulation of García, Labbé & Marín 2011). For a demand point :math:`i`
with weight :math:`w_i`, let :math:`L_i` be its free candidate sites nearer than its nearest
kept-open existing site (at :math:`U_i`, :math:`\infty` if none), and for a level :math:`D` among
its distances

.. math::

    \min \quad & \textstyle\sum_i w_i \theta_i \\
    \text{s.t.}\quad & \theta_i \ge D - \textstyle\sum_{j \in L_i:\, t_{ij} < D}
        (D - t_{ij})\, y_j && \forall i,\ D \in \{t_{ij} : j \in L_i\} \cup \{U_i\} \\
    & \textstyle\sum_{j \in L_i} y_j \ge 1 && \forall i \text{ with } U_i = \infty
        \text{ (when it restricts)} \\
    & \textstyle\sum_{j \in F} y_j = p - |E| \quad (\text{or} \le \text{max\_new\_sites}),
        \qquad y \in \{0,1\}

Every cut is valid for any plan: if the nearest open site is nearer than :math:`D` its own term
already brings the right side down to that distance, otherwise the right side is at most
:math:`D`. Its LP relaxation equals that of the classical assignment formulation, with
:math:`|F| + |I|` columns instead of :math:`|I||F|`.

For a point :math:`\bar y` (fractional or integral) the most violated cut of point :math:`i` is
found by walking its sites in order of travel time until the open share reaches 1: the critical
level :math:`D^*` gives the cut that is tight at :math:`\bar y` (the LP subproblem's value). The
separation is one vectorised pass over the pairs.

HiGHS has no lazy-constraint callback, so the method runs two multi-tree phases: (1) Kelley's
cutting-plane loop on the LP relaxation, stabilised in-out (Ben-Ameur & Neto 2007; Fischetti,
Ljubić & Sinnl 2017), until the LP bound is reached; (2) the master MIP with all cuts, re-solved
with the cuts of each integer answer (warm-started from the best plan) until its bound meets the
best plan's exact cost. The master with any subset of cuts is a relaxation, so every bound it
reports is a valid bound for the full problem, and every integer answer is a real plan.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ...milp import MILP, ModelBuilder
from ...solvers import SolveOptions, SolveResult, Status, solve
from .problem import SitingInstance

__all__ = ["BendersOutcome", "solve_pmedian_benders"]

log = logging.getLogger(__name__)

LP_MAX_ROUNDS = 200
MIP_MAX_ROUNDS = 100
SEP_EPS = 1e-7


@dataclass(frozen=True, eq=False)
class _Data:
    """The pairs the cuts use, for the demand points in the model."""

    rows: np.ndarray
    """Demand index of each model row (theta column)."""
    weight: np.ndarray
    upper: np.ndarray
    """Per row: value to the nearest kept-open existing site (inf if none)."""
    lo: np.ndarray
    """Per row: nearest possible value (lower bound of theta)."""
    gi: np.ndarray
    """Per pair: model row."""
    col: np.ndarray
    """Per pair: y column."""
    val: np.ndarray
    start: np.ndarray
    count: np.ndarray
    c0: float
    free_sites: np.ndarray
    cover_rows: np.ndarray
    """Model rows that need an explicit 'some reachable site open' row."""


def _data(inst: SitingInstance) -> _Data:
    P = inst.pairs
    w = inst.weight
    n = inst.n_demand
    reach = P.count > 0
    active = (w > 0) & reach
    fixed_val = (
        inst.nearest_open(inst.fixed_open)[1] if inst.fixed_open.any() else np.full(n, np.inf)
    )
    first = np.where(reach, P.value[np.minimum(P.start, max(len(P) - 1, 0))], np.inf)
    settled = active & (first >= fixed_val)
    model = active & ~settled
    rows = np.flatnonzero(model)
    row_of = np.full(n, -1, dtype=np.int64)
    row_of[rows] = np.arange(rows.size)
    keep = model[P.di] & (P.value < fixed_val[P.di])
    free_sites = np.flatnonzero(inst.free)
    ycol = np.full(len(inst.sites), -1, dtype=np.int64)
    ycol[free_sites] = np.arange(free_sites.size)
    gi = row_of[P.di[keep]]
    col = ycol[P.sj[keep]]
    if (col < 0).any():  # pairs nearer than the nearest kept site are to free sites by definition
        raise AssertionError("a pair nearer than the nearest kept-open site is not free")
    val = P.value[keep]
    count = np.bincount(gi, minlength=rows.size)
    start = np.concatenate([[0], np.cumsum(count)[:-1]]).astype(np.int64)
    upper = fixed_val[rows]
    lo = np.where(count > 0, val[np.minimum(start, max(val.size - 1, 0))], upper)
    needs_cover = np.isinf(upper)  # no kept-open site: some reachable free site must open
    c0 = float((w[settled] * fixed_val[settled]).sum())
    return _Data(
        rows,
        w[rows],
        upper,
        lo,
        gi,
        col,
        val,
        start,
        count,
        c0,
        free_sites,
        np.flatnonzero(needs_cover),
    )


@dataclass
class _Cuts:
    """Accumulated cuts ``theta_r + sum_j coef_j y_j >= level_r``, in batches of COO parts."""

    pair_row: list[np.ndarray] = field(default_factory=list)
    """Per coefficient: the model row (theta) of its cut."""
    col: list[np.ndarray] = field(default_factory=list)
    coef: list[np.ndarray] = field(default_factory=list)
    cut_row: list[np.ndarray] = field(default_factory=list)
    """Per cut: its model row."""
    level: list[np.ndarray] = field(default_factory=list)
    n: int = 0
    nnz: int = 0


@dataclass(frozen=True, eq=False)
class _Separation:
    level: np.ndarray
    """Per model row: the critical level D*."""
    in_cut: np.ndarray
    """Per pair: in the cut (value below the row's level)."""
    theta: np.ndarray
    """Per model row: the subproblem value at the separated point (tight cut's right side)."""


def _separate(d: _Data, ybar: np.ndarray) -> _Separation:
    yv = np.clip(ybar[d.col], 0.0, 1.0)
    cs = np.cumsum(yv)
    before = np.concatenate([[0.0], cs])[d.start]
    s_incl = cs - before[d.gi]
    flag = s_incl >= 1.0 - 1e-9
    level = d.upper.copy()
    hit_rows, first = np.unique(d.gi[flag], return_index=True)
    level[hit_rows] = d.val[np.flatnonzero(flag)[first]]
    # No fixed site and the open share never reaches 1 (only off the cover rows): the farthest
    # reachable value still gives a valid cut.
    short = np.isinf(level) & (d.count > 0)
    if short.any():
        last = d.start + d.count - 1
        level[short] = d.val[last[short]]
    in_cut = d.val < level[d.gi]
    coef = level[d.gi] - d.val
    theta = level - np.bincount(d.gi[in_cut], weights=(coef * yv)[in_cut], minlength=level.size)
    return _Separation(level, in_cut, theta)


def _cut_value(d: _Data, sep: _Separation, y: np.ndarray) -> np.ndarray:
    """Right side of each row's cut from ``sep`` evaluated at ``y``."""
    coef = sep.level[d.gi] - d.val
    yv = np.clip(y[d.col], 0.0, 1.0)
    return sep.level - np.bincount(
        d.gi[sep.in_cut], weights=(coef * yv)[sep.in_cut], minlength=sep.level.size
    )


def _add_cuts(d: _Data, cuts: _Cuts, sep: _Separation, which: np.ndarray) -> int:
    """Add the cuts of the model rows in ``which`` (boolean per row); returns how many."""
    if not which.any():
        return 0
    take = sep.in_cut & which[d.gi]
    rows = d.gi[take]
    cut_rows = np.flatnonzero(which)
    cuts.pair_row.append(rows)
    cuts.col.append(d.col[take])
    cuts.coef.append(sep.level[rows] - d.val[take])
    cuts.cut_row.append(cut_rows)
    cuts.level.append(sep.level[cut_rows])
    cuts.n += cut_rows.size
    cuts.nnz += int(take.sum()) + cut_rows.size
    return int(cut_rows.size)


def _master(
    d: _Data,
    inst: SitingInstance,
    cuts: _Cuts,
    *,
    integer: bool,
    y_lo: np.ndarray | float = 0.0,
    y_hi: np.ndarray | float = 1.0,
) -> MILP:
    b = ModelBuilder("p-median-benders" + ("" if integer else "-lp"), "min")
    ny = d.free_sites.size
    y = b.add_vars("y", ny, lb=y_lo, ub=y_hi, integer=integer)
    th = b.add_vars("theta", d.rows.size, lb=d.lo, cost=d.weight)
    lo = float(inst.free_limit) if inst.count_rule == "exactly" else -np.inf
    b.add_row("count", y.index(), 1.0, lo=lo, hi=float(inst.free_limit))
    if d.cover_rows.size:
        take = np.isin(d.gi, d.cover_rows)
        local = np.searchsorted(d.cover_rows, d.gi[take])
        b.add_rows("cover", d.cover_rows.size, local, y.start + d.col[take], 1.0, lo=1.0)
    # Cuts: one row per (batch, model row), theta coefficient 1.
    rr, cc, vv = [], [], []
    offset = 0
    local = np.full(d.rows.size, -1, dtype=np.int64)
    for k in range(len(cuts.cut_row)):
        rows_k = cuts.cut_row[k]
        local[rows_k] = offset + np.arange(rows_k.size)
        rr += [local[cuts.pair_row[k]], offset + np.arange(rows_k.size)]
        cc += [y.start + cuts.col[k], th.start + rows_k]
        vv += [cuts.coef[k], np.ones(rows_k.size)]
        offset += rows_k.size
    if offset:
        b.add_rows(
            "cuts",
            offset,
            np.concatenate(rr),
            np.concatenate(cc),
            np.concatenate(vv),
            lo=np.concatenate(cuts.level),
        )
    b.c0 = d.c0
    return b.build()


@dataclass
class _Lagrange:
    """Best Lagrangian bound found and its site values (reduced costs of opening a site)."""

    bound: float
    rho: np.ndarray


@dataclass
class _Fixing:
    """Sites that cannot be open (closed) in a plan cheaper than the best one."""

    zero: np.ndarray
    one: np.ndarray
    threshold: float
    """Any plan that breaks a fixing costs at least this much (inf: no fixing)."""


def _select(rho: np.ndarray, m: int, exactly: bool) -> np.ndarray:
    """The ``m`` smallest site values (only the negative ones when at most ``m``)."""
    chosen = np.zeros(rho.size, dtype=bool)
    if m <= 0 or rho.size == 0:
        return chosen
    m = min(m, rho.size)
    idx = np.argpartition(rho, m - 1)[:m] if m < rho.size else np.arange(rho.size)
    if not exactly:
        idx = idx[rho[idx] < 0]
    chosen[idx] = True
    return chosen


def _lagrangian(
    d: _Data,
    inst: SitingInstance,
    level: np.ndarray,
    upper_bound: float,
    on_plan: Callable[[np.ndarray], float],
    max_iter: int = 300,
) -> _Lagrange:
    r"""Subgradient optimisation of the Lagrangian relaxation of the assignment rows.

    With multipliers :math:`\lambda_i \le w_i U_i`, :math:`L(\lambda) = \sum_i \lambda_i +
    \min_{y} \sum_j \rho_j y_j` with :math:`\rho_j = \sum_i \min(0, w_i t_{ij} - \lambda_i)`
    (Cornuéjols, Fisher & Nemhauser 1977), Polyak steps, started from the LP point's critical
    levels. Every Lagrangian site set is also tried as a plan (``on_plan`` returns its cost).
    """
    ny = d.free_sites.size
    m = inst.free_limit
    exactly = inst.count_rule == "exactly"
    cost = d.weight[d.gi] * d.val
    lam_lo = d.weight * d.lo
    lam_hi = d.weight * d.upper
    lam = np.clip(d.weight * level, lam_lo, lam_hi)
    best = -np.inf
    best_rho: np.ndarray = np.zeros(ny)
    step_scale = 1.0
    stall = 0
    ub = upper_bound
    for it in range(max_iter):
        red = np.minimum(0.0, cost - lam[d.gi])
        rho = np.bincount(d.col, weights=red, minlength=ny)
        chosen = _select(rho, m, exactly)
        value = float(lam.sum() + rho[chosen].sum()) + d.c0
        if value > best + 1e-9 * max(1.0, abs(value)):
            best, best_rho, stall = value, rho, 0
        else:
            stall += 1
            if stall >= 15:
                step_scale, stall = step_scale / 2, 0
        if it % 10 == 0:
            ub = min(ub, on_plan(chosen.astype(float)))
        if best >= ub - 1e-9 * max(1.0, abs(ub)) or step_scale < 1e-4 or not np.isfinite(ub):
            break
        served = chosen[d.col] & (cost < lam[d.gi])
        g = 1.0 - np.bincount(d.gi, weights=served.astype(float), minlength=lam.size)
        gg = float(g @ g)
        if gg == 0:
            break
        lam = np.clip(lam + step_scale * (ub - value) / gg * g, lam_lo, lam_hi)
    return _Lagrange(best, best_rho)


def _fixing(lag: _Lagrange, inst: SitingInstance, ub: float, integral: bool) -> _Fixing:
    """Sites whose forced opening (closing) lifts the Lagrangian bound to ``ub`` or beyond."""
    rho = lag.rho
    ny = rho.size
    none = _Fixing(np.zeros(ny, dtype=bool), np.zeros(ny, dtype=bool), np.inf)
    if not (np.isfinite(ub) and np.isfinite(lag.bound)) or ny == 0:
        return none
    m = inst.free_limit
    exactly = inst.count_rule == "exactly"
    chosen = _select(rho, m, exactly)
    srt = np.sort(rho)
    n_ch = int(chosen.sum())
    best = lag.bound
    # forcing j open: take it, dropping the largest chosen value when the count is full
    drop = srt[n_ch - 1] if (n_ch == m and n_ch > 0) else 0.0
    open_val = np.where(chosen, best, best - drop + rho)
    # forcing j closed: lose it and take the next value (when at most m: only if negative)
    nxt = srt[n_ch] if n_ch < ny else np.inf
    if not exactly:
        nxt = min(nxt, 0.0)
    close_val = np.where(chosen, best - rho + nxt, best)
    slack = (1.0 - 1e-6) if integral else 1e-9 * max(1.0, abs(ub))
    zero = ~chosen & (open_val > ub - slack)
    one = chosen & (close_val > ub - slack)
    broken = np.concatenate([open_val[zero], close_val[one]])
    threshold = float(broken.min()) if broken.size else np.inf
    if integral and np.isfinite(threshold):
        threshold = float(np.ceil(threshold - 1e-6))
    return _Fixing(zero, one, threshold)


def _nearest_two(d: _Data, y: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per model row: nearest open value, its y column (-1: a kept site), second nearest."""
    n = d.rows.size
    open_pair = np.flatnonzero(y[d.col] > 0.5)
    g = d.gi[open_pair]
    rows, first = np.unique(g, return_index=True)
    v1 = np.full(n, np.inf)
    c1 = np.full(n, -1, dtype=np.int64)
    v2 = np.full(n, np.inf)
    v1[rows] = d.val[open_pair[first]]
    c1[rows] = d.col[open_pair[first]]
    second = first + 1
    has2 = second < g.size
    has2[has2] = g[second[has2]] == rows[has2]
    v2[rows[has2]] = d.val[open_pair[second[has2]]]
    kept_nearer = d.upper < v1
    v2 = np.where(kept_nearer, v1, np.minimum(v2, d.upper))
    c1 = np.where(kept_nearer, -1, c1)
    v1 = np.minimum(v1, d.upper)
    return v1, c1, v2


def _local_search(
    d: _Data, inst: SitingInstance, y: np.ndarray, deadline: float, tries: int = 8
) -> np.ndarray:
    """Swap heuristic (Teitz & Bart 1968): add the sites that gain most, drop the best partner."""
    if inst.count_rule != "exactly" or inst.free_limit == 0:
        return y
    y = y.copy()
    ny = y.size
    w = d.weight
    by_col = np.argsort(d.col, kind="stable")
    col_start = np.searchsorted(d.col[by_col], np.arange(ny + 1))
    while time.perf_counter() < deadline:
        v1, c1, v2 = _nearest_two(d, y)
        if not np.isfinite(v1).all():
            return y
        gain = np.bincount(d.col, weights=w[d.gi] * np.maximum(0.0, v1[d.gi] - d.val), minlength=ny)
        gain[y > 0.5] = -np.inf
        best_delta, best_swap = -1e-9 * max(1.0, float((w * v1).sum())), None
        for j in np.argsort(-gain)[:tries]:
            if gain[j] <= 0:
                break
            t_j = np.full(d.rows.size, np.inf)
            k = by_col[col_start[j] : col_start[j + 1]]
            t_j[d.gi[k]] = d.val[k]
            corr = np.where(c1 >= 0, w * (np.minimum(t_j, v2) - np.minimum(t_j, v1)), 0.0)
            loss = np.bincount(c1[c1 >= 0], weights=corr[c1 >= 0], minlength=ny)
            loss[y < 0.5] = np.inf
            r = int(np.argmin(loss))
            delta = loss[r] - gain[j]
            if delta < best_delta:
                best_delta, best_swap = delta, (int(j), r)
        if best_swap is None:
            return y
        y[best_swap[0]], y[best_swap[1]] = 1.0, 0.0
    return y


def _integral(d: _Data) -> bool:
    """All costs integral: every plan's objective is then an integer."""
    cost = d.weight[d.gi] * d.val
    return bool(
        np.all(cost == np.round(cost))
        and np.all(d.weight == np.round(d.weight))
        and d.c0 == round(d.c0)
        and np.all((d.weight * np.where(np.isfinite(d.upper), d.upper, 0.0)) % 1 == 0)
    )


@dataclass
class BendersOutcome:
    """Best plan (open mask), best bound, the last solve's status and the phase log."""

    open_mask: np.ndarray | None
    objective: float | None
    bound: float | None
    status: Status
    runtime_s: float
    solver: str
    solver_version: str
    message: str
    rounds: list[dict[str, Any]]
    model_size: dict[str, int]


def _exact_cost(d: _Data, y: np.ndarray) -> float:
    sep = _separate(d, np.round(y))
    return float((d.weight * sep.theta).sum()) + d.c0


def solve_pmedian_benders(
    inst: SitingInstance, options: SolveOptions, backend: str, t_start: float
) -> BendersOutcome:
    """Run the two phases; the caller evaluates and certifies the plan on the raw table."""
    d = _data(inst)
    ny = d.free_sites.size
    cuts = _Cuts()
    rounds: list[dict[str, Any]] = []
    runtime = 0.0
    last: SolveResult | None = None
    size: dict[str, int] = {}
    log.info(
        "Benders p-median: %d demand rows in the model, %d free sites, %d pairs",
        d.rows.size,
        ny,
        d.val.size,
    )

    def remaining() -> float:
        return options.time_limit_s - (time.perf_counter() - t_start)

    def run(milp: MILP, warm: np.ndarray | None = None) -> SolveResult:
        nonlocal runtime, last, size
        opts = dataclasses.replace(options, time_limit_s=max(remaining(), 1.0), warm_start=warm)
        res = solve(milp, opts, backend)
        runtime += res.runtime_s
        last = res
        size = {
            "rows": milp.n_rows,
            "columns": milp.n_cols,
            "nonzeros": milp.nnz,
            "integer_columns": milp.n_integer,
        }
        return res

    # ---- phase 1: LP relaxation by stabilised cutting planes --------------------------------
    core = np.full(ny, inst.free_limit / max(ny, 1))
    sep = _separate(d, core)
    _add_cuts(d, cuts, sep, np.ones(d.rows.size, dtype=bool))
    lp_bound = -np.inf
    best_lp_ub = float((d.weight * sep.theta).sum()) + d.c0
    ybar = core
    lam = 0.3
    for rnd in range(1, LP_MAX_ROUNDS + 1):
        if remaining() <= 0:
            break
        milp = _master(d, inst, cuts, integer=False)
        res = run(milp)
        if res.status != Status.OPTIMAL or res.x is None:
            rounds.append({"phase": "lp", "round": rnd, "status": res.status.value})
            if res.status == Status.INFEASIBLE:  # even the relaxation has no plan
                return _no_plan(Status.INFEASIBLE, runtime, last, backend, rounds, size)
            break
        ybar = res.x[milp.var_blocks["y"].slice]
        theta_bar = res.x[milp.var_blocks["theta"].slice]
        lp_bound = float(res.objective) if res.objective is not None else lp_bound
        ysep = lam * ybar + (1 - lam) * core
        sep = _separate(d, ysep)
        best_lp_ub = min(best_lp_ub, float((d.weight * sep.theta).sum()) + d.c0)
        viol = theta_bar < _cut_value(d, sep, ybar) - SEP_EPS * np.maximum(1.0, sep.level)
        if not viol.any():
            sep = _separate(d, ybar)
            best_lp_ub = min(best_lp_ub, float((d.weight * sep.theta).sum()) + d.c0)
            viol = theta_bar < sep.theta - SEP_EPS * np.maximum(1.0, sep.level)
        added = _add_cuts(d, cuts, sep, viol)
        core = 0.5 * (core + ybar)
        rounds.append(
            {
                "phase": "lp",
                "round": rnd,
                "bound": round(lp_bound, 6),
                "lp_upper": round(best_lp_ub, 6),
                "cuts_added": added,
                "cuts": cuts.n,
                "runtime_s": round(res.runtime_s, 3),
            }
        )
        if added == 0 or best_lp_ub - lp_bound <= 1e-9 * max(1.0, abs(best_lp_ub)):
            break
    log.info("Benders LP phase: bound %g after %d rounds, %d cuts", lp_bound, len(rounds), cuts.n)

    # ---- between the phases: a first plan, Lagrangian bound and variable fixing -------------
    # First plan: round the LP point (the largest y values); keep the best plan ever seen.
    best_y = np.zeros(ny)
    if inst.free_limit > 0 and ny:
        order = np.lexsort((np.arange(ny), -ybar))
        best_y[order[: min(inst.free_limit, ny)]] = 1.0
    best_cost = _exact_cost(d, best_y) if _covers(d, best_y) else np.inf

    def on_plan(y: np.ndarray) -> float:
        nonlocal best_y, best_cost
        if inst.count_rule == "exactly" and int(y.sum()) != inst.free_limit:
            return np.inf
        if not _covers(d, y):
            return np.inf
        cost = _exact_cost(d, y)
        if cost < best_cost:
            best_cost, best_y = cost, y.copy()
        return cost

    t_heur = time.perf_counter()
    if np.isfinite(best_cost):
        budget = min(0.05 * max(remaining(), 0.0), 30.0)
        on_plan(_local_search(d, inst, best_y, time.perf_counter() + budget))
    lag = _lagrangian(d, inst, _separate(d, ybar).level, best_cost, on_plan)
    if np.isfinite(best_cost):  # the Lagrangian plans may have improved: polish again
        budget = min(0.05 * max(remaining(), 0.0), 30.0)
        on_plan(_local_search(d, inst, best_y, time.perf_counter() + budget))
    integral = _integral(d)
    fix = _fixing(lag, inst, best_cost, integral)
    rounds.append(
        {
            "phase": "lagrangian",
            "bound": round(lag.bound, 6),
            "best": round(best_cost, 6) if np.isfinite(best_cost) else None,
            "fixed_closed": int(fix.zero.sum()),
            "fixed_open": int(fix.one.sum()),
            "runtime_s": round(time.perf_counter() - t_heur, 3),
        }
    )
    log.info(
        "Lagrangian bound %g (LP %g), best plan %g: %d sites fixed closed, %d fixed open",
        lag.bound,
        lp_bound,
        best_cost,
        int(fix.zero.sum()),
        int(fix.one.sum()),
    )
    proven_lb = max(lp_bound, lag.bound)  # valid for every plan

    def global_bound(master_bound: float) -> float:
        # A plan either obeys the fixings (master bound) or breaks one (threshold).
        lb = max(proven_lb, min(master_bound, fix.threshold))
        return float(np.ceil(lb - 1e-6)) if integral else lb

    # ---- phase 2: master MIP with the cuts of each integer answer ---------------------------
    bound = global_bound(-np.inf)
    status = Status.FEASIBLE
    if np.isfinite(best_cost):
        _add_cuts(d, cuts, _separate(d, best_y), np.ones(d.rows.size, dtype=bool))
    for rnd in range(1, MIP_MAX_ROUNDS + 1):
        tol = 1e-9 * max(1.0, abs(best_cost)) + options.mip_rel_gap * abs(best_cost)
        if best_cost - bound <= tol:
            status = Status.OPTIMAL
            break
        if remaining() <= 0:
            break
        y_lo, y_hi = fix.one.astype(float), (~fix.zero).astype(float)
        milp = _master(d, inst, cuts, integer=True, y_lo=y_lo, y_hi=y_hi)
        warm = None
        if np.isfinite(best_cost) and np.all(best_y >= y_lo) and np.all(best_y <= y_hi):
            warm = np.concatenate([best_y, _separate(d, best_y).theta])
        res = run(milp, warm)
        info: dict[str, Any] = {
            "phase": "mip",
            "round": rnd,
            "status": res.status.value,
            "runtime_s": round(res.runtime_s, 3),
        }
        rounds.append(info)
        if res.status == Status.INFEASIBLE:
            if not (fix.zero.any() or fix.one.any()):  # no fixing: no plan exists at all
                status = Status.INFEASIBLE
                break
            bound = max(bound, global_bound(np.inf))  # no plan obeys the fixings
            info["bound"] = round(bound, 6)
            continue
        master_bound = res.bound if res.bound is not None else -np.inf
        if res.status == Status.OPTIMAL and res.objective is not None:
            master_bound = max(master_bound, float(res.objective) - tol)
        bound = max(bound, global_bound(master_bound))
        if not res.status.has_solution or res.x is None:
            break
        y_int = np.round(res.x[milp.var_blocks["y"].slice])
        theta_bar = res.x[milp.var_blocks["theta"].slice]
        sep = _separate(d, y_int)
        before = best_cost
        cost = on_plan(y_int)
        if best_cost < before:
            # A better plan: polish it, and fix more sites against the new best cost.
            on_plan(_local_search(d, inst, best_y, time.perf_counter() + min(remaining(), 10.0)))
            bound = max(bound, global_bound(master_bound))
            refix = _fixing(lag, inst, best_cost, integral)
            if refix.zero.sum() + refix.one.sum() > fix.zero.sum() + fix.one.sum():
                # the old fixings' threshold stays valid; the bound uses the weaker of both
                fix = _Fixing(refix.zero, refix.one, min(refix.threshold, fix.threshold))
        viol = theta_bar < sep.theta - SEP_EPS * np.maximum(1.0, sep.level)
        added = _add_cuts(d, cuts, sep, viol)
        info |= {
            "bound": round(bound, 6),
            "plan": round(cost, 6),
            "best": round(best_cost, 6),
            "cuts_added": added,
            "cuts": cuts.n,
        }
        if res.status != Status.OPTIMAL:
            break
    if best_cost - bound <= 1e-9 * max(1.0, abs(best_cost)) + options.mip_rel_gap * abs(best_cost):
        status = Status.OPTIMAL
    open_mask = None
    if np.isfinite(best_cost):
        open_mask = inst.fixed_open.copy()
        open_mask[d.free_sites[best_y > 0.5]] = True
    return BendersOutcome(
        open_mask,
        best_cost if np.isfinite(best_cost) else None,
        bound if np.isfinite(bound) else None,
        status if open_mask is not None or status != Status.FEASIBLE else Status.NO_SOLUTION,
        runtime,
        last.solver if last else backend,
        last.solver_version if last else "",
        last.message if last else "",
        rounds,
        size,
    )


def _no_plan(
    status: Status,
    runtime: float,
    last: SolveResult | None,
    backend: str,
    rounds: list[dict[str, Any]],
    size: dict[str, int],
) -> BendersOutcome:
    return BendersOutcome(
        None,
        None,
        None,
        status,
        runtime,
        last.solver if last else backend,
        last.solver_version if last else "",
        last.message if last else "",
        rounds,
        size,
    )


def _covers(d: _Data, y: np.ndarray) -> bool:
    """Every model row without a kept-open site reaches an open site under ``y``."""
    if not d.cover_rows.size:
        return True
    hit = np.bincount(d.gi, weights=y[d.col], minlength=d.rows.size)
    return bool((hit[d.cover_rows] >= 0.5).all())
