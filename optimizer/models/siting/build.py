r"""The p-median and p-center MILPs (formulations in :mod:`.pmedian` and :mod:`.pcenter`).

Both share the assignment layout: ``x`` columns for the (demand, site) pairs kept, ``y`` for the
free candidate sites, one ``link`` row :math:`x_{ij} \le y_j` per pair at a free site and one
``count`` row on the free sites (MODELS.md §1.4, §1.5).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from ...milp import MILP, Block, ModelBuilder
from .problem import SitingInstance

__all__ = [
    "Layout",
    "Values",
    "build_lscp_milp",
    "build_pcenter_milp",
    "build_pmedian_milp",
    "pcenter_values",
    "warm_start",
]

log = logging.getLogger(__name__)


def free_columns(inst: SitingInstance) -> tuple[np.ndarray, np.ndarray]:
    """The free sites (one ``y`` column each) and each site's ``y`` column (-1: not free)."""
    free_sites = np.flatnonzero(inst.free)
    ycol = np.full(len(inst.sites), -1, dtype=np.int64)
    ycol[free_sites] = np.arange(free_sites.size)
    return free_sites, ycol


def add_link_and_count(
    b: ModelBuilder, inst: SitingInstance, x: Block, y: Block, sj: np.ndarray, ycol: np.ndarray
) -> None:
    """``x_k <= y_j`` for every pair column ``k`` at a free site ``j = sj[k]``, and the count
    row on ``y``: exactly or at most ``free_limit`` free sites open."""
    linked = np.flatnonzero(ycol[sj] >= 0)
    r = np.arange(linked.size)
    b.add_rows(
        "link",
        linked.size,
        np.concatenate([r, r]),
        np.concatenate([x.start + linked, y.start + ycol[sj[linked]]]),
        np.concatenate([np.ones(linked.size), -np.ones(linked.size)]),
        hi=0.0,
    )
    lo = float(inst.free_limit) if inst.count_rule == "exactly" else -np.inf
    b.add_row("count", y.index(), 1.0, lo=lo, hi=float(inst.free_limit))


@dataclass(frozen=True, eq=False)
class Layout:
    """Where each model column comes from: pairs kept, far columns, free sites."""

    milp: MILP
    pair_pos: np.ndarray
    """Positions in ``instance.pairs`` of the x columns."""
    far_demand: np.ndarray
    far_cost: np.ndarray
    free_sites: np.ndarray
    model_demand: np.ndarray
    settled: np.ndarray
    """Demand points fixed to a kept-open existing site before solving (uncapacitated)."""
    n_full_pairs: int


def fixed_value(inst: SitingInstance) -> np.ndarray:
    """Travel value to the nearest kept-open existing site (inf if none reachable)."""
    if not inst.fixed_open.any():
        return np.full(inst.n_demand, np.inf)
    return inst.nearest_open(inst.fixed_open)[1]


def build_pmedian_milp(
    inst: SitingInstance,
    k: np.ndarray | None,
    capacity: np.ndarray | None = None,
    *,
    listed_only: bool = False,
) -> Layout:
    """The (truncated) p-median MILP of the module docstring.

    ``listed_only`` (with ``k=None``) drops the beyond-table columns: every point must use a pair
    the table lists, so any answer is a plan that can be evaluated on it (an upper bound only).

    ``k`` holds each demand point's number of nearest sites to keep (``None``: the full model);
    ``capacity`` (residents per allowed site) makes it the capacitated model.
    """
    P = inst.pairs
    w = inst.weight
    n = inst.n_demand
    capacitated = capacity is not None
    reach = P.count > 0
    active = (w > 0) & reach
    d_fixed = np.full(n, np.inf) if capacitated else fixed_value(inst)
    first = np.where(reach, P.value[np.minimum(P.start, max(len(P) - 1, 0))], np.inf)
    settled = active & (first >= d_fixed)
    model_demand = active & ~settled

    if k is None:
        kth = np.full(n, np.inf)
    else:
        kk = np.clip(np.minimum(k, P.count), 1, None)
        kth = np.where(reach, P.value[np.minimum(P.start + kk - 1, max(len(P) - 1, 0))], np.inf)
    cutoff = np.minimum(kth, d_fixed)
    keep = model_demand[P.di] & (P.value <= cutoff[P.di])
    n_kept = np.bincount(P.di[keep], minlength=n)
    has_more = model_demand & (n_kept < P.count)
    next_pos = np.minimum(P.start + n_kept, max(len(P) - 1, 0))
    # The cheapest assignment left out: the next listed pair, or a pair the table itself omits
    # (a truncated table: at least the instance's floor). It bounds every left-out one below.
    next_val = np.where(has_more, P.value[next_pos] if len(P) else np.inf, np.inf)
    left_out = np.minimum(next_val, np.where(model_demand, inst.missing_floor, np.inf))
    far = model_demand & (left_out < d_fixed) & (not listed_only)
    far_demand = np.flatnonzero(far)
    far_cost = left_out[far_demand]
    n_full_pairs = int(P.count[model_demand].sum())

    name = "p-median" + ("-capacitated" if capacitated else "")
    b = ModelBuilder(name, "min")
    free_sites, ycol = free_columns(inst)
    y = b.add_binary("y", free_sites.size)

    pos = np.flatnonzero(keep)
    di, sj, val = P.di[pos], P.sj[pos], P.value[pos]
    x = b.add_vars("x", pos.size, ub=1.0, cost=w[di] * val)
    f = b.add_vars("far", far_demand.size, ub=1.0, cost=w[far_demand] * far_cost)

    md = np.flatnonzero(model_demand)
    row_of = np.full(n, -1, dtype=np.int64)
    row_of[md] = np.arange(md.size)
    b.add_rows(
        "assign",
        md.size,
        np.concatenate([row_of[di], row_of[far_demand]]),
        np.concatenate([x.index(), f.index()]),
        1.0,
        lo=1.0,
        hi=1.0,
    )
    add_link_and_count(b, inst, x, y, sj, ycol)
    if capacity is not None:
        used = np.unique(sj)
        row_site = np.full(len(inst.sites), -1, dtype=np.int64)
        row_site[used] = np.arange(used.size)
        fr = used[ycol[used] >= 0]
        b.add_rows(
            "capacity",
            used.size,
            np.concatenate([row_site[sj], row_site[fr]]),
            np.concatenate([x.index(), y.start + ycol[fr]]),
            np.concatenate([w[di], -capacity[fr]]),
            hi=np.where(ycol[used] >= 0, 0.0, capacity[used]),
        )
    b.c0 = float((w[settled] * d_fixed[settled]).sum())
    milp = b.build()
    log.info(
        "Built %s: %d demand points in the model (%d settled by existing sites), %s; "
        "%d of %d pairs kept, %d beyond-k columns",
        name,
        md.size,
        int(settled.sum()),
        milp.summary(),
        pos.size,
        n_full_pairs,
        far_demand.size,
    )
    return Layout(milp, pos, far_demand, far_cost, free_sites, md, settled, n_full_pairs)


@dataclass(frozen=True, eq=False)
class Values:
    """Objective values per pair (``t`` or ``w t``) and which demand points count."""

    value: np.ndarray
    counted: np.ndarray
    fixed: np.ndarray
    """Per demand point: value to the nearest kept-open existing site (inf if none)."""
    by_site: sp.csc_matrix
    """Demand x site values (stored explicitly, zeros included) for column access."""


def pcenter_values(inst: SitingInstance, weighted: bool) -> Values:
    """Per pair the p-center value (``t``, or ``w t`` when weighted) and what counts."""
    P = inst.pairs
    w = inst.weight
    value = P.value * w[P.di] if weighted else P.value.copy()
    counted = w > 0  # a point without residents sets no radius, weighted or not
    fixed = np.full(inst.n_demand, np.inf)
    on_fixed = inst.fixed_open[P.sj]
    np.minimum.at(fixed, P.di[on_fixed], value[on_fixed])
    # +1 offset so zero values stay stored entries of the sparse matrix
    by_site = sp.csc_matrix((value + 1.0, (P.di, P.sj)), shape=(inst.n_demand, len(inst.sites)))
    by_site.sort_indices()
    return Values(value, counted, fixed, by_site)


def build_lscp_milp(
    inst: SitingInstance, vals: Values, radius: float
) -> tuple[MILP | None, np.ndarray, list[str]]:
    """Fewest free sites covering every counted point within ``radius`` (fixed sites given).

    Returns ``(milp, free site of each y column, reasons)``; ``milp`` is None when the step is
    infeasible on its face (``reasons`` names the points no free site reaches within it).
    """
    P = inst.pairs
    need = vals.counted & (vals.fixed > radius)
    cover = need[P.di] & inst.free[P.sj] & (vals.value <= radius)
    has = np.bincount(P.di[cover], minlength=inst.n_demand) > 0
    bare = np.flatnonzero(need & ~has)
    if bare.size:
        ids = ", ".join(map(str, inst.demand.ids[bare[:10]]))
        return None, np.zeros(0, dtype=np.int64), [f"{bare.size} points out of reach: {ids}"]
    di, sj = P.di[cover], P.sj[cover]
    cols = np.unique(sj)
    rows = np.flatnonzero(need)
    row_of = np.full(inst.n_demand, -1, dtype=np.int64)
    row_of[rows] = np.arange(rows.size)
    b = ModelBuilder("p-center-lscp", "min")
    y = b.add_binary("y", cols.size, cost=1.0)
    b.add_rows("cover", rows.size, row_of[di], y.start + np.searchsorted(cols, sj), 1.0, lo=1.0)
    return b.build(), cols, []


def build_pcenter_milp(
    inst: SitingInstance, vals: Values, max_value: float = np.inf
) -> tuple[MILP, np.ndarray]:
    """The compact p-center MIP (Daskin 2013) over the reachable counted pairs.

    Pairs with a value above ``max_value`` (the radius of a known plan) are left out: no
    solution with :math:`W` at most that radius can use them, so every optimum stays.
    """
    P = inst.pairs
    n = inst.n_demand
    rows = np.flatnonzero(vals.counted)
    row_of = np.full(n, -1, dtype=np.int64)
    row_of[rows] = np.arange(rows.size)
    keep = np.flatnonzero(vals.counted[P.di] & (vals.value <= max_value))
    di, sj, v = P.di[keep], P.sj[keep], vals.value[keep]
    free_sites, ycol = free_columns(inst)
    b = ModelBuilder("p-center-compact", "min")
    y = b.add_binary("y", free_sites.size)
    x = b.add_vars("x", keep.size, ub=1.0)
    W = b.add_vars("W", 1, lb=0.0, cost=1.0)
    b.add_rows("assign", rows.size, row_of[di], x.index(), 1.0, lo=1.0, hi=1.0)
    add_link_and_count(b, inst, x, y, sj, ycol)
    b.add_rows(
        "radius",
        rows.size,
        np.concatenate([np.arange(rows.size), row_of[di]]),
        np.concatenate([np.full(rows.size, W.start), x.index()]),
        np.concatenate([np.ones(rows.size), -v]),
        lo=0.0,
    )
    return b.build(), free_sites


def warm_start(layout: Layout, inst: SitingInstance, open_mask: np.ndarray) -> np.ndarray | None:
    """A feasible start for the next round: the previous open set, nearest kept open site."""
    milp = layout.milp
    x0 = np.zeros(milp.n_cols)
    x0[milp.var_blocks["y"].slice] = open_mask[layout.free_sites].astype(float)
    P = inst.pairs
    di, sj = P.di[layout.pair_pos], P.sj[layout.pair_pos]
    hit = np.flatnonzero(open_mask[sj])
    served_d, first = np.unique(di[hit], return_index=True)
    x0[milp.var_blocks["x"].start + hit[first]] = 1.0
    rest = np.setdiff1d(layout.model_demand, served_d)
    far_pos = np.searchsorted(layout.far_demand, rest)
    ok = (far_pos < layout.far_demand.size) & (
        layout.far_demand[np.minimum(far_pos, max(layout.far_demand.size - 1, 0))] == rest
        if layout.far_demand.size
        else np.zeros(rest.size, dtype=bool)
    )
    if not ok.all():
        return None
    x0[milp.var_blocks["far"].start + far_pos] = 1.0
    return x0
