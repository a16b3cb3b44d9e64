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

import logging
import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from ...solvers import SolveOptions, Status
from .pmedian_cuts import (
    Cuts,
    Data,
    add_cuts,
    covers,
    cut_data,
    cut_value,
    exact_cost,
    integral_costs,
    master,
    separate,
)
from .pmedian_lagrange import Fixing, Lagrange, fixing, lagrangian, local_search
from .problem import SitingInstance
from .rounds import Rounds, open_from

__all__ = ["BendersOutcome", "solve_pmedian_benders"]

log = logging.getLogger(__name__)

LP_MAX_ROUNDS = 200
MIP_MAX_ROUNDS = 100
SEP_EPS = 1e-7


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


@dataclass
class _Best:
    """The best plan seen so far (free-site vector ``y``) and its exact cost (inf: none)."""

    d: Data
    inst: SitingInstance
    y: np.ndarray
    cost: float

    def offer(self, y: np.ndarray) -> float:
        """Exact cost of plan ``y`` (inf when it breaks the count or leaves a point out);
        kept when it is the best so far."""
        if self.inst.count_rule == "exactly" and int(y.sum()) != self.inst.free_limit:
            return np.inf
        if not covers(self.d, y):
            return np.inf
        cost = exact_cost(self.d, y)
        if cost < self.cost:
            self.cost, self.y = cost, y.copy()
        return cost

    def polish(self, until: float) -> None:
        """Swap heuristic on the best plan until ``until`` (perf_counter seconds)."""
        self.offer(local_search(self.d, self.inst, self.y, until))


@dataclass
class _Phase2:
    """The master MIP phase: fixings, the bound valid for every plan and the status so far."""

    proven_lb: float
    """max(LP bound, Lagrangian bound): valid for every plan."""
    integral: bool
    fix: Fixing
    bound: float = -np.inf
    status: Status = Status.FEASIBLE

    def global_bound(self, master_bound: float) -> float:
        """A plan either obeys the fixings (master bound) or breaks one (threshold)."""
        lb = max(self.proven_lb, min(master_bound, self.fix.threshold))
        return float(np.ceil(lb - 1e-6)) if self.integral else lb


def solve_pmedian_benders(
    inst: SitingInstance, options: SolveOptions, backend: str, t_start: float
) -> BendersOutcome:
    """Run the two phases; the caller evaluates and certifies the plan on the raw table."""
    d = cut_data(inst)
    ny = d.free_sites.size
    cuts = Cuts()
    steps: list[dict[str, Any]] = []
    log.info(
        "Benders p-median: %d demand rows in the model, %d free sites, %d pairs",
        d.rows.size,
        ny,
        d.val.size,
    )
    rounds = Rounds.start(options, backend, t_start)
    lp = _lp_phase(d, inst, cuts, rounds, steps)
    if lp is None:  # even the relaxation has no plan
        return _outcome(None, Status.INFEASIBLE, np.inf, rounds, steps)
    lp_bound, ybar = lp
    # First plan: round the LP point (the largest y values); keep the best plan ever seen.
    first = np.zeros(ny)
    if inst.free_limit > 0 and ny:
        order = np.lexsort((np.arange(ny), -ybar))
        first[order[: min(inst.free_limit, ny)]] = 1.0
    best = _Best(d, inst, first, exact_cost(d, first) if covers(d, first) else np.inf)
    lag, ph = _between_phases(d, inst, best, ybar, lp_bound, rounds, steps)
    _mip_phase(d, inst, cuts, best, lag, ph, rounds, steps)
    gap = rounds.options.mip_rel_gap
    if best.cost - ph.bound <= 1e-9 * max(1.0, abs(best.cost)) + gap * abs(best.cost):
        ph.status = Status.OPTIMAL
    return _outcome(best, ph.status, ph.bound, rounds, steps)


def _outcome(
    best: _Best | None,
    status: Status,
    bound: float,
    rounds: Rounds,
    steps: list[dict[str, Any]],
) -> BendersOutcome:
    """The phases' answer: the best plan's open mask (if any), its cost and the bound."""
    open_mask = None
    if best is not None and np.isfinite(best.cost):
        open_mask = open_from(best.inst, best.d.free_sites, best.y)
    if open_mask is None and status == Status.FEASIBLE:
        status = Status.NO_SOLUTION
    return BendersOutcome(
        open_mask,
        best.cost if best is not None and open_mask is not None else None,
        bound if np.isfinite(bound) else None,
        status,
        message=rounds.message,
        rounds=steps,
        **rounds.solver_fields(),
    )


def _lp_phase(
    d: Data, inst: SitingInstance, cuts: Cuts, rounds: Rounds, steps: list[dict[str, Any]]
) -> tuple[float, np.ndarray] | None:
    """Phase 1: the LP relaxation by in-out stabilised cutting planes.

    Returns the LP bound and the last LP point, None when even the relaxation has no plan."""
    ny = d.free_sites.size
    core = np.full(ny, inst.free_limit / max(ny, 1))
    sep = separate(d, core)
    add_cuts(d, cuts, sep, np.ones(d.rows.size, dtype=bool))
    lp_bound = -np.inf
    best_lp_ub = float((d.weight * sep.theta).sum()) + d.c0
    ybar = core
    lam = 0.3
    for rnd in range(1, LP_MAX_ROUNDS + 1):
        if rounds.deadline.remaining() <= 0:
            break
        milp = master(d, inst, cuts, integer=False)
        res = rounds.run(milp)
        if res.status != Status.OPTIMAL or res.x is None:
            steps.append({"phase": "lp", "round": rnd, "status": res.status.value})
            if res.status == Status.INFEASIBLE:
                return None
            break
        ybar = res.x[milp.var_blocks["y"].slice]
        theta_bar = res.x[milp.var_blocks["theta"].slice]
        lp_bound = float(res.objective) if res.objective is not None else lp_bound
        ysep = lam * ybar + (1 - lam) * core
        sep = separate(d, ysep)
        best_lp_ub = min(best_lp_ub, float((d.weight * sep.theta).sum()) + d.c0)
        viol = theta_bar < cut_value(d, sep, ybar) - SEP_EPS * np.maximum(1.0, sep.level)
        if not viol.any():
            sep = separate(d, ybar)
            best_lp_ub = min(best_lp_ub, float((d.weight * sep.theta).sum()) + d.c0)
            viol = theta_bar < sep.theta - SEP_EPS * np.maximum(1.0, sep.level)
        added = add_cuts(d, cuts, sep, viol)
        core = 0.5 * (core + ybar)
        steps.append(
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
    log.info("Benders LP phase: bound %g after %d rounds, %d cuts", lp_bound, len(steps), cuts.n)
    return lp_bound, ybar


def _between_phases(
    d: Data,
    inst: SitingInstance,
    best: _Best,
    ybar: np.ndarray,
    lp_bound: float,
    rounds: Rounds,
    steps: list[dict[str, Any]],
) -> tuple[Lagrange, _Phase2]:
    """Polish the first plan, the Lagrangian bound (its site sets tried as plans), fixing."""
    remaining = rounds.deadline.remaining
    t_heur = time.perf_counter()
    if np.isfinite(best.cost):
        best.polish(time.perf_counter() + min(0.05 * max(remaining(), 0.0), 30.0))
    lag = lagrangian(d, inst, separate(d, ybar).level, best.cost, best.offer)
    if np.isfinite(best.cost):  # the Lagrangian plans may have improved: polish again
        best.polish(time.perf_counter() + min(0.05 * max(remaining(), 0.0), 30.0))
    integral = integral_costs(d)
    fix = fixing(lag, inst, best.cost, integral)
    steps.append(
        {
            "phase": "lagrangian",
            "bound": round(lag.bound, 6),
            "best": round(best.cost, 6) if np.isfinite(best.cost) else None,
            "fixed_closed": int(fix.zero.sum()),
            "fixed_open": int(fix.one.sum()),
            "runtime_s": round(time.perf_counter() - t_heur, 3),
        }
    )
    log.info(
        "Lagrangian bound %g (LP %g), best plan %g: %d sites fixed closed, %d fixed open",
        lag.bound,
        lp_bound,
        best.cost,
        int(fix.zero.sum()),
        int(fix.one.sum()),
    )
    return lag, _Phase2(max(lp_bound, lag.bound), integral, fix)


def _mip_phase(
    d: Data,
    inst: SitingInstance,
    cuts: Cuts,
    best: _Best,
    lag: Lagrange,
    ph: _Phase2,
    rounds: Rounds,
    steps: list[dict[str, Any]],
) -> None:
    """Phase 2: the master MIP with the cuts of each integer answer, until bound meets plan."""
    ph.bound = ph.global_bound(-np.inf)
    if np.isfinite(best.cost):
        add_cuts(d, cuts, separate(d, best.y), np.ones(d.rows.size, dtype=bool))
    for rnd in range(1, MIP_MAX_ROUNDS + 1):
        tol = 1e-9 * max(1.0, abs(best.cost)) + rounds.options.mip_rel_gap * abs(best.cost)
        if best.cost - ph.bound <= tol:
            ph.status = Status.OPTIMAL
            break
        if rounds.deadline.remaining() <= 0:
            break
        if not _mip_round(d, inst, cuts, best, lag, ph, rounds, steps, rnd, tol):
            break


def _mip_round(
    d: Data,
    inst: SitingInstance,
    cuts: Cuts,
    best: _Best,
    lag: Lagrange,
    ph: _Phase2,
    rounds: Rounds,
    steps: list[dict[str, Any]],
    rnd: int,
    tol: float,
) -> bool:
    """One master MIP: tighten the bound, try its plan, add its cuts. False: stop the phase."""
    fix = ph.fix
    y_lo, y_hi = fix.one.astype(float), (~fix.zero).astype(float)
    milp = master(d, inst, cuts, integer=True, y_lo=y_lo, y_hi=y_hi)
    warm = None
    if np.isfinite(best.cost) and np.all(best.y >= y_lo) and np.all(best.y <= y_hi):
        warm = np.concatenate([best.y, separate(d, best.y).theta])
    res = rounds.run(milp, warm)
    info: dict[str, Any] = {
        "phase": "mip",
        "round": rnd,
        "status": res.status.value,
        "runtime_s": round(res.runtime_s, 3),
    }
    steps.append(info)
    if res.status == Status.INFEASIBLE:
        if not (fix.zero.any() or fix.one.any()):  # no fixing: no plan exists at all
            ph.status = Status.INFEASIBLE
            return False
        ph.bound = max(ph.bound, ph.global_bound(np.inf))  # no plan obeys the fixings
        info["bound"] = round(ph.bound, 6)
        return True
    master_bound = res.bound if res.bound is not None else -np.inf
    if res.status == Status.OPTIMAL and res.objective is not None:
        master_bound = max(master_bound, float(res.objective) - tol)
    ph.bound = max(ph.bound, ph.global_bound(master_bound))
    if not res.status.has_solution or res.x is None:
        return False
    y_int = np.round(res.x[milp.var_blocks["y"].slice])
    theta_bar = res.x[milp.var_blocks["theta"].slice]
    sep = separate(d, y_int)
    before = best.cost
    cost = best.offer(y_int)
    if best.cost < before:
        # A better plan: polish it, and fix more sites against the new best cost.
        best.polish(time.perf_counter() + min(rounds.deadline.remaining(), 10.0))
        ph.bound = max(ph.bound, ph.global_bound(master_bound))
        refix = fixing(lag, inst, best.cost, ph.integral)
        if refix.zero.sum() + refix.one.sum() > fix.zero.sum() + fix.one.sum():
            # the old fixings' threshold stays valid; the bound uses the weaker of both
            ph.fix = Fixing(refix.zero, refix.one, min(refix.threshold, fix.threshold))
    viol = theta_bar < sep.theta - SEP_EPS * np.maximum(1.0, sep.level)
    added = add_cuts(d, cuts, sep, viol)
    info |= {
        "bound": round(ph.bound, 6),
        "plan": round(cost, 6),
        "best": round(best.cost, 6),
        "cuts_added": added,
        "cuts": cuts.n,
    }
    return res.status == Status.OPTIMAL
