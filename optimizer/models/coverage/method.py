"""How a covering model is solved: ``compact``, ``benders`` or ``bbc``, and why (``method: auto``).

``auto`` measures the presolved model (the (demand group, site) pairs of its coverage rows and
the mean sites per group) and picks the method that won the measured instances of
benchmarks/covering.py (benchmarks/README.md).
"""

from __future__ import annotations

import numpy as np

from ...errors import CaseError, Problem
from ...milp import MILP, split_blocks, sub_milp
from .problem import CoverageProblem, ReducedCoverage

__all__ = [
    "AUTO_BBC_MEAN_SITES",
    "AUTO_BBC_PAIRS",
    "AUTO_BENDERS_PAIRS",
    "choose_method",
    "coverage_pairs",
    "coverage_rows",
    "decide_method",
    "default_cells",
]


AUTO_BENDERS_PAIRS = 20_000_000
"""``method: auto`` picks Benders when the compact model would have at least this many
(demand group, site) pairs in its coverage rows (after aggregation and dominance)."""

AUTO_BBC_PAIRS = 50_000
"""``method: auto`` picks branch-and-Benders-cut (SCIP) for a covering model with at least this
many pairs (and dense coverage, :data:`AUTO_BBC_MEAN_SITES`), when PySCIPOpt is installed;
below it every method takes a moment."""

AUTO_BBC_MEAN_SITES = 20.0
"""... and with at least this many candidate sites within reach of a demand group on average.
Measured (benchmarks/covering.py, clustered-town counties): with 28-61 sites per group bbc beat
the compact model in HiGHS 4-45x (10,000 x 500: 1.5-1.6 s against 30-71 s; 10^5 x 10^4:
17 s); with 13 (20,000 x 1,000, T = 6 min) it stopped at 0.15% after 120 s where HiGHS proved
the optimum in 10 s; the default case's clinic block (9 per group) also went to HiGHS."""


def coverage_pairs(reduced: ReducedCoverage, *, projected_only: bool = False) -> int:
    """Nonzeros of the compact model's coverage rows: groups x mean covering sites
    (``projected_only``: only the rows Benders projects out, not mandatory cover rows)."""
    total = 0
    for rs in reduced.standards:
        if projected_only and rs.standard.mandatory:
            continue
        live = rs.applies & ~rs.const
        total += int(np.diff(rs.matrix.indptr)[live].sum())
    return total


def coverage_rows(reduced: ReducedCoverage, *, projected_only: bool = False) -> int:
    """Coverage rows of the compact model: live demand groups that some free site reaches
    (``projected_only``: only those of standards with coverage variables, not mandatory ones)."""
    total = 0
    for rs in reduced.standards:
        if projected_only and rs.standard.mandatory:
            continue
        live = rs.applies & ~rs.const
        total += int((np.diff(rs.matrix.indptr)[live] > 0).sum())
    return total


def default_cells(reduced: ReducedCoverage) -> int:
    """Benders cells per standard: about one per 200 demand groups, 16 to 256 (multi-cut: one
    theta for all demand needed far more master rounds in the benchmarks)."""
    return max(16, min(256, reduced.n_groups // 200))


def choose_method(
    problem: CoverageProblem,
    reduced: ReducedCoverage,
    method: str,
    backend: str,
    milp: MILP | None = None,
) -> str:
    """``compact`` or ``benders`` for ``method`` in compact / benders / auto."""
    return decide_method(problem, reduced, method, backend, milp)[0]


def _equal_cost_psclp(milp: MILP | None) -> bool:
    """Whether the compact MILP, or one of its independent blocks, is an equal-cost partial
    covering that :func:`optimizer.solvers.covering.solve_from_plan` solves (SCIP installed,
    at most :data:`~optimizer.solvers.covering.ROUTE_MAX_NONZEROS` nonzeros). Measured against
    bbc on clustered-town PSCLPs (equal costs; benchmarks/README.md): 10,000 x 500 at 10 min and
    90%: 2.2 s (bbc stopped at 120 s, 100 sites vs the optimum 90; compact HiGHS 76.7 s); at 12
    min and 85%: 2.6 s vs 4.9 s; 20,000 x 1,000 at 8 min and 90%: 7.9 s vs 13.7% gap at 120 s."""
    from ...solvers.covering import ROUTE_MAX_NONZEROS, detect_equal_cost_psclp
    from ...solvers.scip import available

    if milp is None or milp.sense != "min" or not available():
        return False

    def route(m: MILP) -> bool:
        return m.nnz <= ROUTE_MAX_NONZEROS and detect_equal_cost_psclp(m) is not None

    if route(milp):
        return True
    blocks = split_blocks(milp)
    return len(blocks) > 1 and any(route(sub_milp(milp, c, r, "block")) for c, r in blocks)


def decide_method(
    problem: CoverageProblem,
    reduced: ReducedCoverage,
    method: str,
    backend: str,
    milp: MILP | None = None,
) -> tuple[str, str]:
    """The method to run and why, for ``method`` in compact / benders / auto.

    ``auto`` measures the presolved model: the (demand group, site) pairs its coverage rows
    would hold. Below :data:`AUTO_BENDERS_PAIRS` the compact model wins every measured instance
    (benchmarks/README.md: up to 10^5 x 10^4); above it the compact model's memory grows with
    the pairs while Benders keeps only the master and one cell at a time.
    """
    if method == "bbc":
        from .bbc import bbc_unsupported

        why = bbc_unsupported(problem)
        if why:
            raise CaseError(
                [
                    Problem(
                        "solver.method: bbc",
                        "branch-and-Benders-cut does not support " + "; ".join(why),
                        fix="use solver.method: compact (or auto) for this case",
                    )
                ]
            )
    if method in ("compact", "benders", "bbc"):
        return method, f"solver.method: {method} (set in the case)"
    if method != "auto":
        raise ValueError(
            f"solver.method: unknown method {method!r}; use compact, benders, bbc or auto"
        )
    from .bbc import bbc_unsupported
    from .benders import benders_unsupported

    pairs = coverage_pairs(reduced)
    size = (
        f"{pairs:,} (demand group, site) pairs in {reduced.n_groups:,} groups x "
        f"{reduced.free_sites.size:,} site columns"
    )
    no_bbc = bbc_unsupported(problem)
    if backend not in ("highs", "scip"):
        no_bbc.append(f"solver.backend: {backend} (it runs in SCIP; the case asks for {backend})")
    projected = coverage_pairs(reduced, projected_only=True)
    mean = projected / max(coverage_rows(reduced, projected_only=True), 1)
    size += (
        f"; {projected:,} of them in coverage rows Benders would project out, "
        f"{mean:.1f} sites per group on average"
    )
    dense = projected >= AUTO_BBC_PAIRS and mean >= AUTO_BBC_MEAN_SITES
    if not no_bbc and dense and backend in ("highs", "scip") and _equal_cost_psclp(milp):
        return "compact", (
            f"auto: compact, {size}: an equal-cost partial covering, whose LP bound and "
            "heuristic plan (then SCIP from that plan) beat bbc on such models in "
            "benchmarks/covering.py"
        )
    if not no_bbc and dense:
        return "bbc", (
            f"auto: bbc (branch-and-Benders-cut in SCIP), {size}: >= {AUTO_BBC_PAIRS:,} pairs "
            f"and >= {AUTO_BBC_MEAN_SITES:g} sites per group, where it beat the compact model "
            "in benchmarks/covering.py"
        )
    if not no_bbc:
        no_bbc.append(
            f"models below {AUTO_BBC_PAIRS:,} pairs or {AUTO_BBC_MEAN_SITES:g} sites per group, "
            "where the compact model was as fast or faster"
        )
    why_not = benders_unsupported(problem, backend)
    if why_not:
        return "compact", f"auto: compact, as Benders cannot take {'; '.join(why_not)} ({size})"
    if pairs >= AUTO_BENDERS_PAIRS:
        return "benders", (
            f"auto: benders, {size} >= {AUTO_BENDERS_PAIRS:,}: the compact model would be too "
            "large to hold" + (f" (bbc cannot take {'; '.join(no_bbc)})" if no_bbc else "")
        )
    return "compact", (
        f"auto: compact, {size}; fewer than {AUTO_BENDERS_PAIRS:,} pairs for benders, and bbc "
        f"is not for {'; '.join(no_bbc)}"
    )
