r"""Branch-and-Benders-cut for maximal and partial covering in one SCIP search tree (PySCIPOpt).

Cordeau, Furini & Ljubić (2019), "Benders decomposition for very large scale partial set
covering and maximal covering location problems", EJOR 275(3). The coverage variables
:math:`z_g` are projected out of the MCLP; the master keeps the site variables ``y`` (with every
row on ``y`` alone: site counts, budgets, mandatory cover) and one variable :math:`\theta_c \le
\sum_{g \in c} w_g` per cell ``c`` of demand groups. For a master point :math:`\bar y` the
subproblem of a group is :math:`\max w_g z_g` s.t. :math:`z_g \le \min(1, \bar y(N_g))`; its LP
dual gives the optimality cut

.. math::

    \theta_c \le \sum_{g \in c:\, \bar y(N_g) \ge 1} w_g
        + \sum_{g \in c:\, \bar y(N_g) < 1} w_g \sum_{j \in N_g} y_j ,

valid for every ``y`` (the right side bounds :math:`\sum_g w_g \min(1, y(N_g))` term by term).
A constraint handler separates these cuts at fractional LP points (``conssepalp``) and at
integer points (``consenfolp`` / ``conscheck``), so branching, cuts and heuristics share one
tree, unlike the multi-tree loop of :mod:`optimizer.models.coverage.benders` that re-solves its master.
"""

from __future__ import annotations

import logging
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp

from ..milp import MILP
from .base import SolveOptions, SolveResult, Status

__all__ = ["CoverCells", "solve_bbc"]

log = logging.getLogger(__name__)

EPS = 1e-6


@dataclass(frozen=True, eq=False)
class CoverCells:
    """The projected coverage: covering sets over the master's columns, weights, cells."""

    cover: sp.csr_matrix  # groups x master columns (N_g), bool
    weight: np.ndarray  # w_g > 0 (objective coefficient of z_g)
    cell: np.ndarray  # cell index of each group, 0..n_cells-1


def _handler_class() -> Any:
    from pyscipopt import SCIP_RESULT, Conshdlr, quicksum

    class BendersCuts(Conshdlr):
        """Separates the optimality cuts of the module docstring."""

        def __init__(self, cells: CoverCells, ys: list[Any], thetas: list[Any]) -> None:
            self.cells = cells
            self.ys = ys
            self.thetas = thetas
            self.cover_csc = cells.cover.tocsc()
            self.n_cuts = 0
            self.t_ys: list[Any] | None = None
            self.t_thetas: list[Any] = []
            self.members = [np.flatnonzero(cells.cell == c) for c in range(len(thetas))]

        def _violated(self, sol: Any) -> list[tuple[int, np.ndarray, float]]:
            m = self.model
            ybar = np.array([m.getSolVal(sol, v) for v in self.ys])
            level = np.asarray(self.cells.cover @ ybar).ravel()
            full = level >= 1.0 - EPS
            out = []
            for c, theta in enumerate(self.thetas):
                g = self.members[c]
                w = self.cells.weight[g]
                const = float(w[full[g]].sum())
                value = const + float((w[~full[g]] * level[g][~full[g]]).sum())
                if m.getSolVal(sol, theta) > value + EPS * max(1.0, value):
                    part = np.zeros(self.cells.cover.shape[0])
                    part[g[~full[g]]] = w[~full[g]]
                    coef = np.asarray(self.cover_csc.T @ part).ravel()
                    out.append((c, coef, const))
            return out

        def _add(self, cuts: list[tuple[int, np.ndarray, float]]) -> None:
            m = self.model
            if self.t_ys is None:  # cuts are added while solving: on the transformed variables
                self.t_ys = [m.getTransformedVar(v) for v in self.ys]
                self.t_thetas = [m.getTransformedVar(v) for v in self.thetas]
            for c, coef, const in cuts:
                nz = np.flatnonzero(coef)
                expr = quicksum(float(coef[j]) * self.t_ys[j] for j in nz)
                m.addCons(
                    self.t_thetas[c] - expr <= const,
                    name=f"benders{self.n_cuts}",
                    removable=True,
                    local=False,
                )
                self.n_cuts += 1

        def conscheck(
            self, constraints, solution, checkintegrality, checklprows, printreason, completely
        ):
            if self._violated(solution):
                return {"result": SCIP_RESULT.INFEASIBLE}
            return {"result": SCIP_RESULT.FEASIBLE}

        def consenfolp(self, constraints, nusefulconss, solinfeasible):
            cuts = self._violated(None)
            if not cuts:
                return {"result": SCIP_RESULT.FEASIBLE}
            self._add(cuts)
            return {"result": SCIP_RESULT.CONSADDED}

        def consenfops(self, constraints, nusefulconss, solinfeasible, objinfeasible):
            cuts = self._violated(None)
            if not cuts:
                return {"result": SCIP_RESULT.FEASIBLE}
            self._add(cuts)
            return {"result": SCIP_RESULT.CONSADDED}

        def conssepalp(self, constraints, nusefulconss):
            cuts = self._violated(None)
            if not cuts:
                return {"result": SCIP_RESULT.DIDNOTFIND}
            self._add(cuts)
            return {"result": SCIP_RESULT.CONSADDED}

        def conslock(self, constraint, locktype, nlockspos, nlocksneg):
            # theta - (positive) y <= const: raising theta or lowering y may break a cut;
            # addVarLocks(var, down, up)
            for y in self.ys:
                self.model.addVarLocks(y, nlockspos, nlocksneg)
            for t in self.thetas:
                self.model.addVarLocks(t, nlocksneg, nlockspos)

    return BendersCuts


def _master_model(
    master: MILP, cells: CoverCells, options: SolveOptions, share: float | None
) -> tuple[Any, list[Any], list[Any], Any]:
    """SCIP holding ``master``, one theta per cell (capped at the cell's weight), the share row
    (partial covering) and the Benders constraint handler: ``(model, ys, thetas, handler)``."""
    from pyscipopt import Model, quicksum

    from .scip import _write_mps

    model = Model()
    if not options.log:
        model.hideOutput()
    with tempfile.TemporaryDirectory(prefix="scip-bbc-") as tmp:
        path = Path(tmp) / "master.mps"
        _write_mps(master, path)
        model.readProblem(str(path))
    ys = sorted(model.getVars(), key=lambda v: int(v.name[1:]))
    n_cells = int(cells.cell.max()) + 1 if cells.cell.size else 0
    cap = np.bincount(cells.cell, weights=cells.weight, minlength=n_cells)
    thetas = [
        model.addVar(
            f"theta{c}", vtype="C", lb=0.0, ub=float(cap[c]), obj=1.0 if share is None else 0.0
        )
        for c in range(n_cells)
    ]
    if share is not None:
        model.addCons(quicksum(thetas) >= float(share), name="share")
    handler = _handler_class()(cells, ys, thetas)
    model.includeConshdlr(
        handler,
        "benders_cover",
        "Benders optimality cuts of maximal covering",
        sepapriority=1_000_000,
        enfopriority=-1_000_000,
        chckpriority=-1_000_000,
        sepafreq=1,
        needscons=False,
    )
    model.setParam("limits/time", max(float(options.time_limit_s), 0.01))
    model.setParam("limits/gap", float(options.mip_rel_gap))
    model.setParam("randomization/randomseedshift", int(options.seed))
    # SCIP sees only the master's rows: sites equal there are not equal under the cuts, so no
    # symmetry handling and no dual reductions (both would cut off optimal plans)
    model.setParam("misc/usesymmetry", 0)
    model.setParam("misc/allowstrongdualreds", False)
    model.setParam("misc/allowweakdualreds", False)
    return model, ys, thetas, handler


def _add_warm_start(
    model: Any, ys: list[Any], thetas: list[Any], cells: CoverCells, warm: np.ndarray
) -> None:
    """Offer the plan ``warm`` (master columns) with each theta at its cell's coverage."""
    sol = model.createSol()
    ybar = np.asarray(warm, dtype=float)
    for var, value in zip(ys, ybar, strict=True):
        model.setSolVal(sol, var, float(value))
    level = np.minimum(np.asarray(cells.cover @ ybar).ravel(), 1.0)
    per = np.bincount(cells.cell, weights=cells.weight * level, minlength=len(thetas))
    for c, theta in enumerate(thetas):
        model.setSolVal(sol, theta, float(per[c]))
    model.addSol(sol, free=True)


def solve_bbc(
    master: MILP,
    cells: CoverCells,
    options: SolveOptions,
    warm: np.ndarray | None = None,
    *,
    share: float | None = None,
) -> tuple[SolveResult, dict[str, Any]]:
    """Optimise ``master`` with the thetas under the Benders cuts.

    Maximal covering (``share`` None, ``master`` a maximisation): the objective is the master's
    plus the sum of the thetas. Partial covering (``share`` = D, ``master`` a minimisation of
    the site costs): the thetas carry no cost and must reach sum_c theta_c >= D.
    ``master`` holds the site columns and their rows; returns the result on the master's
    columns (objective and bound as SCIP states them) and statistics.
    """
    from .scip import _status

    if (share is None) != (master.sense == "max"):
        raise ValueError(
            "branch-and-Benders-cut: maximise coverage, or reach a share at least cost"
        )
    t_load = time.perf_counter()
    model, ys, thetas, handler = _master_model(master, cells, options, share)
    if warm is not None:
        _add_warm_start(model, ys, thetas, cells, warm)
    t0 = time.perf_counter()
    model.optimize()
    runtime = time.perf_counter() - t0
    has_x = model.getNSols() > 0
    x = obj = None
    if has_x:
        best = model.getBestSol()
        x = np.array([model.getSolVal(best, v) for v in ys], dtype=float)
        obj = float(model.getSolObjVal(best))
    st = _status(model, has_x)
    bound = float(model.getDualbound()) if st in (Status.OPTIMAL, Status.FEASIBLE) else None
    if st == Status.OPTIMAL and bound is None:
        bound = obj
    info = {"cuts": handler.n_cuts, "cells": len(thetas), "nodes": int(model.getNTotalNodes())}
    result = SolveResult(
        st,
        x,
        obj,
        bound,
        runtime,
        "scip",
        str(model.version()),
        f"branch-and-Benders-cut: {model.getStatus()}, {handler.n_cuts} cuts",
        info["nodes"],
        t0 - t_load,
    )
    return result, info
