"""One infeasibility diagnosis: solve the elastic model and name every row it had to relax.

After a solver proves a case infeasible, every family builds its *elastic* model
(:class:`~optimizer.milp.ModelBuilder` with ``elastic=True``: each rule row added with a
``penalty`` gets a slack column ``slack:<row>``, and the objective is the priced total slack).
Its optimum is the least weighted relaxation that makes a plan exist (Chinneck 2008,
*Feasibility and Infeasibility in Optimization*, ch. 6 "elastic programming"); :func:`diagnose`
solves it within :data:`DIAGNOSIS_TIME_LIMIT_S` and lets the family word each relaxed row.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import replace

import numpy as np

from .milp import MILP
from .solvers import SolveOptions, solve

__all__ = [
    "DIAGNOSIS_TIME_LIMIT_S",
    "SLACK_TOL",
    "Explain",
    "diagnose",
    "diagnosis_options",
    "relaxed_rows",
]

DIAGNOSIS_TIME_LIMIT_S = 120.0
"""Seconds an infeasibility diagnosis may take at most (the case's limit when that is lower)."""
SLACK_TOL = 1e-6
"""A slack above this counts as a relaxed row."""

Explain = Callable[[str, np.ndarray, np.ndarray], list[str]]
"""``explain(row, slack values, indices of the relaxed rows)`` -> the lines naming them."""


def diagnosis_options(
    options: SolveOptions, *, time_limit_s: float | None = None, mip_rel_gap: float = 0.0
) -> SolveOptions:
    """The case's options for a diagnosis solve: capped time, a proven gap, no warm start."""
    limit = min(options.time_limit_s, DIAGNOSIS_TIME_LIMIT_S)
    return replace(
        options,
        time_limit_s=limit if time_limit_s is None else time_limit_s,
        mip_rel_gap=mip_rel_gap,
        warm_start=None,
    )


def relaxed_rows(milp: MILP, x: np.ndarray) -> Iterator[tuple[str, np.ndarray, np.ndarray]]:
    """Each slack block of an elastic ``milp`` that ``x`` uses: (row block name, its slack
    values, indices of the slacks above :data:`SLACK_TOL`), in column order."""
    for name, block in milp.var_blocks.items():
        if not name.startswith("slack:"):
            continue
        vals = x[block.slice]
        hit = np.flatnonzero(vals > SLACK_TOL)
        if hit.size:
            yield name.removeprefix("slack:"), vals, hit


def diagnose(
    elastic: MILP,
    options: SolveOptions,
    backend: str,
    explain: Explain,
    *,
    head: str,
    subject: str,
    nothing: str,
    mip_rel_gap: float = 0.0,
) -> list[str]:
    """Solve the elastic model; ``head`` then ``explain``'s lines for every relaxed row.

    ``subject`` names what was proven infeasible ("case", "norms", "rules") when the diagnosis
    finds no answer in its time; ``nothing`` is the line when no row needs relaxing."""
    res = solve(elastic, diagnosis_options(options, mip_rel_gap=mip_rel_gap), backend)
    if res.x is None:
        return [
            f"the solver proved the {subject} infeasible; the elastic diagnosis found no "
            f"explanation within its time limit ({res.status.value})"
        ]
    out = [head]
    for row, vals, hit in relaxed_rows(elastic, res.x):
        out += explain(row, vals, hit)
    if len(out) == 1:
        out.append(nothing)
    return out
