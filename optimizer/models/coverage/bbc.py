"""``solver.method: bbc`` - the compact covering model solved by branch-and-Benders-cut in SCIP.

The coverage columns ``z`` and their link rows leave the compact MILP
(:func:`optimizer.models.coverage.build.build_coverage_milp`); the rest (the site columns and every
row on them alone) is the master of :func:`optimizer.solvers.scip_benders.solve_bbc`, whose
cuts stand in for the links (Cordeau, Furini & Ljubić 2019). The answer comes back as a vector
of the compact model (``z_g = min(1, y(N_g))``), so it is certified like a compact solve.

Supported: maximal covering (``max_coverage``) whose coverage columns appear only in their link
rows (no share targets on weighted standards), and partial set covering (``min_cost`` /
``min_sites`` with one share target); mandatory standards are rows of the master either way. No
zone-share targets, no secondary objective, no phases.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import Any

import numpy as np
import scipy.sparse as sp

from ...milp import MILP
from ...solvers import SolveOptions, SolveResult, available_backends
from .problem import CoverageProblem, ReducedCoverage

__all__ = ["bbc_unsupported", "solve_coverage_bbc"]

log = logging.getLogger(__name__)


def bbc_unsupported(problem: CoverageProblem, milp: MILP | None = None) -> list[str]:
    """Why branch-and-Benders-cut cannot solve this case (empty when it can)."""
    model = problem.model
    out = []
    if "scip" not in available_backends():
        out.append("PySCIPOpt, which it needs (pip install pyscipopt)")
    shares = [s for s in problem.standards if s.min_share is not None and not s.mandatory]
    if any(s.zone_min_share is not None for s in problem.standards):
        out.append("zone_min_share targets")
    if model.resolved_objective == "max_coverage":
        if shares:
            out.append("share targets on a weighted standard (min_share < 1)")
    elif len(shares) != 1:
        out.append(
            f"objective {model.resolved_objective} with {len(shares)} share targets (it takes "
            "exactly one: a partial set covering)"
        )
    if model.secondary_objective != "none":
        out.append(f"secondary_objective: {model.secondary_objective}")
    if model.phases:
        out.append("phases")
    if milp is not None and any(k.startswith("slack:") for k in milp.var_blocks):
        out.append("an elastic model")
    return out


def _split(milp: MILP, n_cells: int) -> tuple[MILP, Any, np.ndarray, np.ndarray, float | None]:
    """Master MILP (site columns, rows on them alone), the projected coverage, z and y columns,
    and the share the thetas must reach (None for maximal covering)."""
    from ...solvers.scip_benders import CoverCells

    y = milp.var_blocks["y"].index()
    z_blocks = [b for name, b in milp.var_blocks.items() if name.startswith("z[")]
    z = np.concatenate([b.index() for b in z_blocks]) if z_blocks else np.zeros(0, dtype=int)
    is_z = np.zeros(milp.n_cols, dtype=bool)
    is_z[z] = True
    A = milp.A.tocsr()
    touches_z = np.asarray(A[:, is_z].getnnz(axis=1)).ravel() > 0
    keep_rows = np.flatnonzero(~touches_z)
    master = MILP(
        name=f"{milp.name}-master",
        sense=milp.sense,
        c=milp.c[y],
        c0=0.0,
        A=sp.csr_matrix(A[keep_rows][:, y]),
        row_lo=milp.row_lo[keep_rows],
        row_hi=milp.row_hi[keep_rows],
        col_lo=milp.col_lo[y],
        col_hi=milp.col_hi[y],
        integer=milp.integer[y],
    )
    z_rows = np.flatnonzero(touches_z)
    share_rows = z_rows[np.isfinite(milp.row_lo[z_rows])]
    links = A[np.setdiff1d(z_rows, share_rows)]
    zpart = links[:, z]
    if zpart.nnz != links.shape[0] or np.any(np.diff(zpart.indptr) != 1):
        raise ValueError("bbc: every coverage column must sit in exactly one link row")
    order = np.argsort(zpart.indices)
    share: float | None = None
    if share_rows.size == 0:
        weight_all = milp.c[z]
    elif share_rows.size == 1 and not np.any(milp.c[z]):
        weight_all = np.asarray(A[share_rows[0]][:, z].toarray()).ravel()
        share = float(milp.row_lo[share_rows[0]])
    else:
        raise ValueError("bbc: coverage in the objective, or in one share row, not both")
    # a group of weight 0 adds nothing: its z stays 0 and its link row goes
    live = weight_all[zpart.indices[order]] != 0.0
    cover = sp.csr_matrix(links[order][live][:, y], dtype=bool)
    z = z[zpart.indices[order]][live]
    weight = weight_all[zpart.indices[order]][live]
    groups = z.size
    cell = (np.arange(groups) * max(n_cells, 1)) // max(groups, 1)
    return master, CoverCells(cover, weight, cell), z, y, share


def solve_coverage_bbc(
    problem: CoverageProblem,
    reduced: ReducedCoverage,
    milp: MILP,
    options: SolveOptions,
    *,
    warm: np.ndarray | None = None,
    n_cells: int = 64,
) -> tuple[SolveResult, dict[str, object]]:
    """Solve the compact ``milp`` by branch-and-Benders-cut; the vector is the compact one."""
    from ...solvers.scip_benders import solve_bbc

    del reduced
    master, cells, z, y, share = _split(milp, n_cells)
    if np.any(cells.weight <= 0):
        raise ValueError("bbc: expected positive coverage weights")
    log.info(
        "Branch-and-Benders-cut (SCIP): master %s; %d groups in %d cells",
        master.summary(),
        z.size,
        int(cells.cell.max()) + 1 if z.size else 0,
    )
    res, info = solve_bbc(master, cells, options, None if warm is None else warm[y], share=share)
    if res.x is None:
        shifted = None if res.bound is None else res.bound + milp.c0
        return replace(res, bound=shifted), info
    x = np.zeros(milp.n_cols)
    ybar = np.round(res.x)
    x[y] = ybar
    x[z] = np.minimum(np.asarray(cells.cover @ ybar).ravel(), 1.0)
    bound = None if res.bound is None else res.bound + milp.c0
    return replace(res, x=x, objective=milp.objective_value(x), bound=bound), info
