"""Pieces of the compact covering MILP that Benders, the greedy and the solve share.

``warm_start_vector`` maps a plan (open-site mask over all sites) to a full vector of the compact
MILP built by :func:`optimizer.models.coverage.solve.build_coverage_milp`: y from the open sites
(dominated sites mapped to their dominator), each coverage variable z at min(1, sites covering the
point). It sits below :mod:`~optimizer.models.coverage.solve`, :mod:`~.benders` and
:mod:`~.greedy` so that none of them imports another in a circle.
"""

from __future__ import annotations

import numpy as np

from ...milp import MILP
from .problem import ReducedCoverage

__all__ = ["warm_start_vector"]


def warm_start_vector(milp: MILP, reduced: ReducedCoverage, open_mask: np.ndarray) -> np.ndarray:
    """A full MILP vector for a plan: y from the open sites (dominated ones mapped to their
    dominator), every coverage variable at the value the plan gives it."""
    x = np.zeros(milp.n_cols)
    mask = np.asarray(open_mask, dtype=bool).copy()
    for j, k in reduced.dominated_by.items():
        if mask[j]:
            mask[k] = True
    y = mask[reduced.free_sites].astype(float)
    x[milp.var_blocks["y"].slice] = y
    for rs in reduced.standards:
        block = milp.var_blocks.get(f"z[{rs.standard.name}]")
        if block is None:
            continue
        live = rs.applies & ~rs.const
        idx = np.flatnonzero(live & (np.diff(rs.matrix.indptr) > 0))
        hits = np.asarray(rs.matrix[idx] @ y).ravel()
        x[block.slice] = np.minimum(hits, 1.0)
    return np.clip(x, milp.col_lo, milp.col_hi)
