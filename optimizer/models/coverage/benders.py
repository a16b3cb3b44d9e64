r"""Benders decomposition for MCLP / PSCLP and their compositions (Cordeau, Furini & Ljubić 2019).

The compact covering MILP (:mod:`optimizer.models.coverage.solve`) has a coverage variable
:math:`z_g \in [0,1]` and a link row :math:`z_g \le \sum_{j \in N_g} y_j` per demand group. For
a fixed plan :math:`\bar y` the best :math:`z` is :math:`\min(1, n_g(\bar y))` with
:math:`n_g(y) = \sum_{j \in N_g} y_j`, so the coverage variables can be projected out. Demand
groups are split into *cells* :math:`c` (per standard; never straddling a zone that has its own
share target), each with one variable :math:`\theta_c` for the weight it covers:

.. math::

    \max / \min \quad & \textstyle\sum_c \beta_{s(c)} \theta_c + (\text{site terms of the compact
        objective}) \\
    \text{s.t.}\quad & \text{every row of the compact model that uses only } y \\
    & \textstyle\sum_{c \subseteq R} \theta_c \ge \text{rhs}_R
        \quad \text{(each share / zone-share row } R\text{, in } \theta) \\
    & \theta_c \le \textstyle\sum_{g \in c : n_g(\bar y) \ge 1, |N_g| \ge 2} w_g
        + \sum_j y_j \sum_{g \in c \cap J(j) : n_g(\bar y) < 1 \text{ or } |N_g| = 1} w_g
        \quad \text{for every separated point } \bar y \\
    & 0 \le \theta_c \le \textstyle\sum_{g \in c} w_g, \quad y \in \{0,1\}

The cut is valid because :math:`w_g \min(1, n_g(y)) \le w_g` and :math:`\le w_g n_g(y)` for
every :math:`y \in [0,1]^J`, and tight at :math:`\bar y` (integer or fractional). It is computed
combinatorially in :math:`O(\sum_g |N_g|)`, with no LP (MODELS.md §1.8, the authors'
``MCLP_BEN.cpp``). One cell per standard is the paper's single :math:`\theta`; several cells
give a multi-cut variant (same optimum, fewer rounds).

HiGHS exposes no lazy-constraint callback in Python (1.16 lists
``kCallbackMipDefineLazyConstraints`` but ``HighsCallbackInput`` has no field to return a cut),
so this is the **multi-tree** variant: (1) Kelley's cutting-plane loop on the LP relaxation of
the master (cheap, and it brings the master's bound to the compact LP bound); (2) the integer
master re-solved with all cuts, warm-started from the best plan, until its bound meets the best
plan's true value. Every master optimum is a valid bound for the original problem (the master
is a relaxation), the best plan is evaluated exactly, and the loop stops only when they meet
within the requested gap. The answer is returned as a vector of the *compact* model so it goes
through the same certification as a compact solve.
"""

from __future__ import annotations

import itertools
import logging
import time
from dataclasses import dataclass, replace

import numpy as np
import scipy.sparse as sp

from ...errors import CaseError, Problem
from ...milp import MILP
from ...solvers import Deadline, SolveOptions, SolveResult, Status, solve
from .build import warm_start_vector
from .problem import CoverageProblem, ReducedCoverage

__all__ = ["BendersInfo", "benders_unsupported", "solve_benders"]

log = logging.getLogger(__name__)

_LP_ROUNDS = 60
_LP_STALL = 1e-5


@dataclass
class BendersInfo:
    """What the decomposition did (written to ``solution.json`` under ``benders``)."""

    cells: int = 0
    lp_rounds: int = 0
    mip_rounds: int = 0
    cuts: int = 0
    lp_bound: float | None = None
    master_time_s: float = 0.0
    separation_time_s: float = 0.0

    def as_dict(self) -> dict[str, object]:
        return dict(self.__dict__)


def benders_unsupported(problem: CoverageProblem, backend: str) -> list[str]:
    """Why Benders cannot solve this case (empty when it can)."""
    model = problem.model
    out = []
    if model.secondary_objective != "none":
        out.append(
            f"secondary_objective: {model.secondary_objective} (the lexicographic second stage "
            "needs the compact model)"
        )
    if model.phases:
        out.append("phases (the phased roll-out model is solved in compact form)")
    del backend
    return out


@dataclass(frozen=True, eq=False)
class _Cell:
    """Demand groups of one cell: a slice of the z block of one standard."""

    theta: int  # master column
    z_cols: np.ndarray  # compact columns of its z variables
    weight: np.ndarray  # w_g
    matrix: sp.csr_matrix  # groups x free sites (N_g)
    degree: np.ndarray  # |N_g|


def _cells_of(
    milp: MILP,
    reduced: ReducedCoverage,
    problem: CoverageProblem,
    n_cells: int,
) -> tuple[list[_Cell], dict[int, int]]:
    """Split every standard's z block into cells (zone-aligned), in compact-column order."""
    zone_rows = any(name.startswith("zone_share[") for name in milp.row_blocks)
    rep = np.zeros(reduced.n_groups, dtype=np.int64)
    rep[reduced.group_of[::-1]] = np.arange(reduced.group_of.size)[::-1]
    demand = problem.demand
    coords = None
    if demand.x is not None and demand.y is not None:
        coords = (np.asarray(demand.x, float)[rep], np.asarray(demand.y, float)[rep])
    cells: list[_Cell] = []
    cell_of_z: dict[int, int] = {}
    n_y = milp.var_blocks["y"].size
    for rs in reduced.standards:
        block = milp.var_blocks.get(f"z[{rs.standard.name}]")
        if block is None:
            continue
        live = rs.applies & ~rs.const
        idx = np.flatnonzero(live & (np.diff(rs.matrix.indptr) > 0))
        if idx.size == 0:
            continue
        sub = sp.csr_matrix(rs.matrix[idx])
        label = np.zeros(idx.size, dtype=np.int64)
        if zone_rows and reduced.group_zone is not None:
            _, label = np.unique(reduced.group_zone[idx].astype(str), return_inverse=True)
        k = max(1, min(n_cells, idx.size))
        if k > 1:
            if coords is not None and np.all(np.isfinite(coords[0][idx])):
                # a grid of about k tiles over the groups' representative points
                side = int(np.ceil(np.sqrt(k)))
                xs, ys = coords[0][idx], coords[1][idx]
                bx = np.searchsorted(np.quantile(xs, np.linspace(0, 1, side + 1)[1:-1]), xs)
                by = np.searchsorted(np.quantile(ys, np.linspace(0, 1, side + 1)[1:-1]), ys)
                chunk = bx * side + by
            else:  # no coordinates: by the first covering site
                first = sub.indices[sub.indptr[:-1]]
                chunk = (first * k) // max(n_y, 1)
            label = label * (k + 1) + chunk
        _, label = np.unique(label, return_inverse=True)
        order = np.argsort(label, kind="stable")
        bounds = np.r_[0, np.flatnonzero(np.diff(label[order])) + 1, order.size]
        deg = np.diff(sub.indptr)
        for a, b in itertools.pairwise(bounds):
            members = order[a:b]
            cid = len(cells)
            cells.append(
                _Cell(
                    theta=n_y + cid,
                    z_cols=block.start + members,
                    weight=reduced.group_weight[idx[members]],
                    matrix=sp.csr_matrix(sub[members]),
                    degree=deg[members],
                )
            )
            for zc in block.start + members:
                cell_of_z[int(zc)] = cid
    return cells, cell_of_z


class _Master:
    """The Benders master: y columns, one theta per cell, y-only rows, share rows in theta, cuts."""

    def __init__(self, milp: MILP, cells: list[_Cell], cell_of_z: dict[int, int]) -> None:
        yb = milp.var_blocks["y"]
        if yb.start != 0:
            raise AssertionError("benders: the y block must come first")
        n_y = yb.size
        self.n_y = n_y
        self.cells = cells
        n_theta = len(cells)
        n = n_y + n_theta
        A = milp.A.tocsr()
        uses_other = np.asarray((abs(A[:, n_y:]) > 0).sum(axis=1)).ravel() > 0
        base = np.flatnonzero(~uses_other)
        Ab = sp.csr_matrix(A[base][:, :n_y])
        rows = [sp.csr_matrix((Ab.data, Ab.indices, Ab.indptr), shape=(base.size, n))]
        lo = [milp.row_lo[base]]
        hi = [milp.row_hi[base]]
        # link rows (z <= sum y) are projected out; other rows on z become rows on theta
        link = np.zeros(A.shape[0], dtype=bool)
        for name, blk in milp.row_blocks.items():
            if name.startswith("link["):
                link[blk.slice] = True
        other = np.flatnonzero(uses_other & ~link)
        c = np.zeros(n)
        c[:n_y] = milp.c[:n_y]
        cell_w = np.array([float(cl.weight.sum()) for cl in cells])
        for cid, cl in enumerate(cells):
            zc = milp.c[cl.z_cols]
            beta = float(zc.sum() / cl.weight.sum()) if cl.weight.sum() > 0 else 0.0
            if not np.allclose(zc, beta * cl.weight, rtol=1e-9, atol=1e-12):
                raise AssertionError("benders: z costs are not proportional to group weights")
            c[n_y + cid] = beta
        if other.size:
            sub = A[other].tocoo()
            rr, cc, vv = [], [], []
            for r in range(other.size):
                sel = sub.row == r
                cols, vals = sub.col[sel], sub.data[sel]
                ycols = cols < n_y
                zcols = cols[~ycols]
                by_cell: dict[int, list[int]] = {}
                for zc in zcols:
                    by_cell.setdefault(cell_of_z[int(zc)], []).append(int(zc))
                for cid, members in by_cell.items():
                    cl = cells[cid]
                    if len(members) != cl.z_cols.size:
                        raise AssertionError("benders: a share row splits a cell")
                    coef = A[other[r], np.sort(np.asarray(members))].toarray().ravel()
                    order = np.argsort(cl.z_cols)
                    if not np.allclose(coef, cl.weight[order], rtol=1e-9, atol=1e-12):
                        raise AssertionError("benders: a share row is not weighted by population")
                    rr.append(r)
                    cc.append(n_y + cid)
                    vv.append(1.0)
                for yc, yv in zip(cols[ycols], vals[ycols], strict=True):
                    rr.append(r)
                    cc.append(int(yc))
                    vv.append(float(yv))
            rows.append(sp.csr_matrix((vv, (rr, cc)), shape=(other.size, n)))
            lo.append(milp.row_lo[other])
            hi.append(milp.row_hi[other])
        self.base_A = sp.vstack(rows, format="csr")
        self.base_lo = np.concatenate(lo)
        self.base_hi = np.concatenate(hi)
        self.c = c
        self.c0 = milp.c0
        self.sense = milp.sense
        self.col_lo = np.r_[milp.col_lo[:n_y], np.zeros(n_theta)]
        self.col_hi = np.r_[milp.col_hi[:n_y], cell_w]
        self.integer = np.r_[milp.integer[:n_y], np.zeros(n_theta, dtype=bool)]
        self.cut_rows: list[sp.csr_matrix] = []
        self.cut_hi: list[np.ndarray] = []
        self.n_cuts = 0

    def milp(self, integer: bool) -> MILP:
        A = sp.vstack([self.base_A, *self.cut_rows], format="csr")
        cut_hi = np.concatenate(self.cut_hi) if self.cut_hi else np.zeros(0)
        return MILP(
            name="benders-master" + ("" if integer else "-lp"),
            sense=self.sense,
            c=self.c,
            c0=self.c0,
            A=A,
            row_lo=np.r_[self.base_lo, np.full(cut_hi.size, -np.inf)],
            row_hi=np.r_[self.base_hi, cut_hi],
            col_lo=self.col_lo,
            col_hi=self.col_hi,
            integer=self.integer if integer else np.zeros_like(self.integer),
        )

    def true_theta(self, y: np.ndarray) -> np.ndarray:
        """Weight each cell really covers under ``y`` (``min(1, n_g(y))`` per group)."""
        return np.array([float(cl.weight @ np.minimum(1.0, cl.matrix @ y)) for cl in self.cells])

    def separate(self, y: np.ndarray, theta: np.ndarray, tol: float) -> int:
        """Add the cut of every cell whose theta exceeds its cut at ``y``; return how many."""
        rows, cols, vals, rhs = [], [], [], []
        k = 0
        for cid, cl in enumerate(self.cells):
            n_g = cl.matrix @ y
            const = (n_g >= 1.0 - 1e-9) & (cl.degree >= 2)
            a = float(cl.weight[const].sum())
            wv = np.where(const, 0.0, cl.weight)
            b = cl.matrix.T @ wv
            if theta[cid] <= a + float(b @ y) + tol:
                continue
            nz = np.flatnonzero(b > 0)
            rows.append(np.full(nz.size + 1, k))
            cols.append(np.r_[nz, self.n_y + cid])
            vals.append(np.r_[-b[nz], 1.0])
            rhs.append(a)
            k += 1
        if k:
            n = self.n_y + len(self.cells)
            self.cut_rows.append(
                sp.csr_matrix(
                    (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
                    shape=(k, n),
                )
            )
            self.cut_hi.append(np.asarray(rhs, dtype=float))
            self.n_cuts += k
        return k

    def vector(self, y: np.ndarray) -> np.ndarray:
        return np.r_[y, self.true_theta(y)]


def _better(a: float, b: float, maximise: bool) -> bool:
    return a > b if maximise else a < b


def solve_benders(
    problem: CoverageProblem,
    reduced: ReducedCoverage,
    milp: MILP,
    options: SolveOptions,
    backend: str,
    *,
    warm_open: np.ndarray | None = None,
    n_cells: int = 1,
) -> tuple[SolveResult, BendersInfo]:
    """Solve the compact model ``milp`` by Benders; the result is a vector of ``milp``.

    (1) Kelley rounds on the LP relaxation of the master, then (2) the integer master re-solved
    with the cuts until its bound meets the best plan found (or the time runs out).
    """
    why = benders_unsupported(problem, backend)
    if why:
        raise CaseError(
            [
                Problem(
                    "solver.method: benders",
                    "the Benders decomposition does not support " + "; ".join(why),
                    fix="use solver.method: compact (or auto) for this case",
                )
            ]
        )
    run = _BendersRun(milp, reduced, options, backend, n_cells, problem)
    if warm_open is not None:
        run.consider(np.asarray(warm_open, dtype=bool))
        if run.best_x is not None:
            run.master.separate(run.best_x[: run.n_y], np.full(len(run.cells), np.inf), run.tol)
    if not run.lp_rounds():
        return run.result(Status.INFEASIBLE, None), run.info
    status, bound = run.mip_rounds()
    if status == Status.INFEASIBLE:
        return run.result(Status.INFEASIBLE, None), run.info
    return run.finish(status, bound), run.info


class _BendersRun:
    """The state of one Benders solve: the master, the best plan found, the clock, the record."""

    def __init__(
        self,
        milp: MILP,
        reduced: ReducedCoverage,
        options: SolveOptions,
        backend: str,
        n_cells: int,
        problem: CoverageProblem,
    ) -> None:
        self.deadline = Deadline(options.time_limit_s)
        self.milp, self.reduced, self.options, self.backend = milp, reduced, options, backend
        self.info = BendersInfo()
        self.cells, cell_of_z = _cells_of(milp, reduced, problem, n_cells)
        self.master = _Master(milp, self.cells, cell_of_z)
        self.info.cells = len(self.cells)
        self.maximise = milp.sense == "max"
        self.n_y = n_y = self.master.n_y
        hi = max(self.master.col_hi[n_y:].max(initial=1.0), 1.0)
        scale = float(np.abs(self.master.c).sum() * hi) + abs(milp.c0)
        self.tol = 1e-9 * max(scale, 1.0)
        self.best_x: np.ndarray | None = None
        self.best_obj = -np.inf if self.maximise else np.inf
        self.version = ""

    def consider(self, open_mask: np.ndarray) -> None:
        """Keep the plan if it is feasible in the compact model and better than the best."""
        x = warm_start_vector(self.milp, self.reduced, open_mask)
        worst, _ = self.milp.max_violation(x)
        if worst > 1e-6:
            return
        val = self.milp.objective_value(x)
        if self.best_x is None or _better(val, self.best_obj, self.maximise):
            self.best_x, self.best_obj = x, val

    def to_mask(self, y: np.ndarray) -> np.ndarray:
        mask = self.reduced.fixed_open.copy()
        mask[self.reduced.free_sites[y > 0.5]] = True
        return mask

    def left(self) -> float:
        return self.deadline.remaining()

    def _master_solve(self, integer: bool, warm: np.ndarray | None) -> SolveResult:
        ts = time.perf_counter()
        res = solve(
            self.master.milp(integer),
            replace(self.options, time_limit_s=self.left(), warm_start=warm),
            self.backend,
        )
        self.info.master_time_s += time.perf_counter() - ts
        self.version = res.solver_version
        return res

    def _separate(self, y: np.ndarray, theta: np.ndarray) -> int:
        ts = time.perf_counter()
        added = self.master.separate(y, theta, self.tol)
        self.info.separation_time_s += time.perf_counter() - ts
        return added

    def lp_rounds(self) -> bool:
        """(1) Kelley on the LP relaxation of the master; False if the master is infeasible."""
        prev = None
        info = self.info
        for _ in range(_LP_ROUNDS):
            if self.left() <= 1.0:
                break
            res = self._master_solve(False, None)
            info.lp_rounds += 1
            if res.status == Status.INFEASIBLE:
                return False
            if res.x is None or res.objective is None:
                break
            added = self._separate(res.x[: self.n_y], res.x[self.n_y :])
            info.lp_bound = res.objective
            if added == 0:
                break
            if prev is not None and abs(prev - res.objective) <= _LP_STALL * max(1.0, abs(prev)):
                break
            prev = res.objective
        return True

    def mip_rounds(self) -> tuple[Status, float | None]:
        """(2) The integer master, re-solved with the cuts until its bound meets the best plan."""
        bound: float | None = None
        n_y, info = self.n_y, self.info
        while True:
            if self.left() <= 0.5:
                return self._stopped(), bound
            warm = self.master.vector(self.best_x[:n_y]) if self.best_x is not None else None
            res = self._master_solve(True, warm)
            info.mip_rounds += 1
            if res.status == Status.INFEASIBLE:
                return Status.INFEASIBLE, bound
            if res.bound is not None:
                bound = (
                    res.bound
                    if bound is None
                    else (min(bound, res.bound) if self.maximise else max(bound, res.bound))
                )
            if res.x is None:
                return self._stopped(), bound
            y = np.round(res.x[:n_y])
            self.consider(self.to_mask(y))
            added = self._separate(y, res.x[n_y:])
            self._log_round(bound, added)
            converged = (
                self.best_x is not None
                and bound is not None
                and abs(bound - self.best_obj)
                <= max(self.options.mip_rel_gap * abs(self.best_obj), self.tol, 1e-6)
            )
            if converged or (added == 0 and res.status == Status.OPTIMAL):
                if added == 0 and not converged and self.best_x is not None:
                    # the master's own optimum has no violated cut: it is the optimum
                    bound = res.objective if bound is None else bound
                ok = self.best_x is not None
                return (Status.OPTIMAL if ok else Status.NO_SOLUTION), bound
            if res.status != Status.OPTIMAL:
                return self._stopped(), bound

    def _stopped(self) -> Status:
        return Status.FEASIBLE if self.best_x is not None else Status.NO_SOLUTION

    def _log_round(self, bound: float | None, added: int) -> None:
        log.info(
            "Benders round %d: master bound %s, best plan %s, %d cuts added (%d in all)",
            self.info.mip_rounds,
            "-" if bound is None else f"{bound:,.6g}",
            "-" if self.best_x is None else f"{self.best_obj:,.6g}",
            added,
            self.master.n_cuts,
        )

    def finish(self, status: Status, bound: float | None) -> SolveResult:
        """The result with the best plan; the bound clamped to it within the master's tolerance."""
        self.info.cuts = self.master.n_cuts
        best_obj, tol = self.best_obj, self.tol
        if self.best_x is not None and bound is not None:
            # the master's bound carries its solver tolerance: clamp only within it
            if self.maximise and bound < best_obj and best_obj - bound <= max(tol, 1e-6):
                bound = best_obj
            if not self.maximise and bound > best_obj and bound - best_obj <= max(tol, 1e-6):
                bound = best_obj
        obj = best_obj if self.best_x is not None else None
        return _result(
            status,
            self.best_x,
            obj,
            bound,
            self.deadline.start,
            self.version,
            self.info,
            self.backend,
        )

    def result(self, status: Status, x: np.ndarray | None) -> SolveResult:
        """A result without a plan (an infeasible master)."""
        return _result(
            status, x, None, None, self.deadline.start, self.version, self.info, self.backend
        )


def _result(
    status: Status,
    x: np.ndarray | None,
    obj: float | None,
    bound: float | None,
    t0: float,
    version: str,
    info: BendersInfo,
    backend: str = "highs",
) -> SolveResult:
    return SolveResult(
        status,
        x,
        obj,
        bound,
        time.perf_counter() - t0,
        backend,
        version,
        f"Benders: {info.lp_rounds} LP + {info.mip_rounds} MIP master rounds, {info.cuts} cuts, "
        f"{info.cells} cells",
    )
