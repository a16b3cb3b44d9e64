r"""The Benders p-median's data, cuts and master problem (the formulation in :mod:`.pmedian_benders`).

:func:`separate` finds each demand point's most violated cut at a point :math:`\bar y` in one
vectorised pass; :func:`master` is the master MILP (or its LP relaxation) with the cuts so far;
:func:`exact_cost` is a plan's exact cost from the same walk (Durán-Mateluna, Alès & Elloumi 2023).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ...milp import MILP, ModelBuilder
from .problem import SitingInstance

__all__ = [
    "Cuts",
    "Data",
    "Separation",
    "add_cuts",
    "covers",
    "cut_data",
    "cut_value",
    "exact_cost",
    "integral_costs",
    "master",
    "separate",
]


@dataclass(frozen=True, eq=False)
class Data:
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


def cut_data(inst: SitingInstance) -> Data:
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
    return Data(
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
class Cuts:
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
class Separation:
    level: np.ndarray
    """Per model row: the critical level D*."""
    in_cut: np.ndarray
    """Per pair: in the cut (value below the row's level)."""
    theta: np.ndarray
    """Per model row: the subproblem value at the separated point (tight cut's right side)."""


def separate(d: Data, ybar: np.ndarray) -> Separation:
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
    return Separation(level, in_cut, theta)


def cut_value(d: Data, sep: Separation, y: np.ndarray) -> np.ndarray:
    """Right side of each row's cut from ``sep`` evaluated at ``y``."""
    coef = sep.level[d.gi] - d.val
    yv = np.clip(y[d.col], 0.0, 1.0)
    return sep.level - np.bincount(
        d.gi[sep.in_cut], weights=(coef * yv)[sep.in_cut], minlength=sep.level.size
    )


def add_cuts(d: Data, cuts: Cuts, sep: Separation, which: np.ndarray) -> int:
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


def master(
    d: Data,
    inst: SitingInstance,
    cuts: Cuts,
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


def integral_costs(d: Data) -> bool:
    """All costs integral: every plan's objective is then an integer."""
    cost = d.weight[d.gi] * d.val
    return bool(
        np.all(cost == np.round(cost))
        and np.all(d.weight == np.round(d.weight))
        and d.c0 == round(d.c0)
        and np.all((d.weight * np.where(np.isfinite(d.upper), d.upper, 0.0)) % 1 == 0)
    )


def exact_cost(d: Data, y: np.ndarray) -> float:
    sep = separate(d, np.round(y))
    return float((d.weight * sep.theta).sum()) + d.c0


def covers(d: Data, y: np.ndarray) -> bool:
    """Every model row without a kept-open site reaches an open site under ``y``."""
    if not d.cover_rows.size:
        return True
    hit = np.bincount(d.gi, weights=y[d.col], minlength=d.rows.size)
    return bool((hit[d.cover_rows] >= 0.5).all())
