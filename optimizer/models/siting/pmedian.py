r"""p-median: open p sites so that residents' total (so also mean) travel time is least.

Formulation (Hakimi 1964; ReVelle & Swain 1970, *Geographical Analysis* 2(1):30-42; the strong
form with one linking row per pair as in MODELS.md §1.4). With demand points :math:`i` of weight
:math:`w_i`, allowed sites :math:`j` (the facility types the model places), travel times
:math:`t_{ij}` from the table, free sites :math:`F` and existing sites kept open :math:`E`:

.. math::

    \min \quad & \sum_i \sum_j w_i t_{ij} x_{ij} \\
    \text{s.t.}\quad & \textstyle\sum_j x_{ij} = 1 && \forall i \\
    & x_{ij} \le y_j && \forall i, j \in F \\
    & \textstyle\sum_{j \in F} y_j = p - |E| \quad (\text{or} \le \text{max\_new\_sites}) \\
    & \textstyle\sum_i w_i x_{ij} \le \text{cap}_j\, y_j && \forall j \quad
        (\text{capacitated only; } y_j \equiv 1 \text{ on } E) \\
    & y \in \{0,1\}, \quad x \ge 0

Without capacities :math:`x` is integral at the optimum for fixed :math:`y` (everyone goes to the
nearest open site); with capacities :math:`x` stays continuous, so a village may be split between
sites (single sourcing is not required). Pairs missing from the table are unreachable.

**k-nearest truncation with a certificate.** Large instances keep :math:`x_{ij}` only for the
:math:`k_i` nearest allowed sites of each demand point (ties at the :math:`k_i`-th value kept;
without capacities also nothing beyond the nearest kept-open existing site, which is exact). Each
truncated point gets one more column :math:`f_i` ("beyond the k nearest") in its assignment row,
at cost :math:`w_i t_{i(k+1)}`, the value of its nearest excluded site: a lower bound on any
excluded assignment, with no linking (and no capacity) row. The truncated model is therefore a
*relaxation* of the full model and its bound is a valid bound for the full problem. The open set
it returns is evaluated on the raw table; when that value meets the bound (in particular when no
:math:`f_i` is used) the plan is proven optimal for the full model. Otherwise :math:`k_i` is
doubled for the points that used :math:`f_i` and the model is solved again (warm-started), and
after ``MAX_ROUNDS`` rounds the full model is solved. This is the row-and-column idea of García,
Labbé & Marín (2011, *INFORMS J. Computing* 23(4):546-556) in its simplest form.

**Methods.** ``method: auto`` (the default) solves an uncapacitated model on a complete table
by Benders decomposition (:mod:`optimizer.models.siting.pmedian_benders`: Durán-Mateluna, Alès &
Elloumi 2023), and everything else (capacities, truncated tables, ``method: assignment``) with
the assignment model above in k-nearest rounds. Both answers are certified the same way.

**Truncated tables** (a network cutoff, k nearest sites, or a file's ``complete_within``): a
point whose table leaves sites out gets the beyond-k column at the least value a left-out site
can have (the cutoff, or its farthest listed site), so the model stays a relaxation of the full
problem. When its answer leans on such trips, the best plan among the listed trips is solved for
as well; it is OPTIMAL only when it meets the relaxation's bound, else FEASIBLE with the gap.

Presolve: zero-weight points do not enter the model; without capacities a point whose nearest
allowed site is already a kept-open existing site is a constant.

Every answer is checked on the raw data: the open set against the site rules, every demand point
of positive weight served, the objective recomputed from the raw travel-time table (nearest open
site; or the model's split assignment, capacities and shares when capacitated), and the bound on
the right side. A failure raises :class:`~optimizer.errors.CheckError`.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from geodata.arrays import Demand, Sites, TravelTimes

from ...certificate import Certificate
from ...errors import CaseError, CheckError, Problem
from ...milp import MILP, ModelBuilder
from ...schema.siting import PMedianModelConfig
from ...solvers import Deadline, SolveOptions, SolveResult, Status, relative_gap, solve
from .problem import SitingInstance, by_type, open_site_ids, prepare, travel_summary

__all__ = [
    "MAX_ROUNDS",
    "PMedianModelConfig",
    "PMedianSolution",
    "build_pmedian_milp",
    "solve_pmedian",
]

log = logging.getLogger(__name__)

MAX_ROUNDS = 6
"""Truncated rounds before the full model is solved."""
FULL_MODEL_PAIRS = 40_000
"""``k_nearest: auto`` solves the full model when it has at most this many assignment pairs."""


@dataclass(frozen=True, eq=False)
class PMedianSolution(Certificate):
    """A certified p-median answer (objective recomputed on the raw travel-time table)."""

    instance: SitingInstance
    config: PMedianModelConfig
    status: Status
    open_mask: np.ndarray | None = None
    assigned_site: np.ndarray | None = None
    """Per demand point: its site (largest share when split), -1 when not served."""
    travel: np.ndarray | None = None
    """Per demand point: travel value to its site (share-weighted mean when split)."""
    longest_trip: np.ndarray | None = None
    """Per demand point: its longest assigned trip (= ``travel`` unless split)."""
    shares: pd.DataFrame | None = None
    """Capacitated only: ``demand, site, share, value`` rows of the split assignment."""
    solver_objective: float | None = None
    rounds: list[dict[str, Any]] = field(default_factory=list)
    method: str = "assignment"
    """``assignment`` (k-nearest rounds) or ``benders``."""

    @property
    def sites(self) -> Sites:
        return self.instance.sites

    @property
    def demand(self) -> Demand:
        return self.instance.demand

    def open_ids(self, facility_type: str | None = None) -> list[str]:
        return open_site_ids(self.sites, self.open_mask, facility_type)

    @property
    def truncation_proven(self) -> bool | None:
        """True when the last round's answer is certified for the full (untruncated) model."""
        if not self.rounds or self.method != "assignment":
            return None
        return bool(self.rounds[-1]["certified"])

    def to_dict(self) -> dict[str, Any]:
        """Plain values for ``solution.json``."""
        inst = self.instance
        cfg = self.config
        types = sorted(set(map(str, inst.sites.facility_type[inst.allowed])))
        out: dict[str, Any] = {
            "model": cfg.model_dump(exclude_none=True),
            "status": self.status.value,
            "status_text": self.status.label,
            "checked_on_raw_data": self.checked,
            "objective": _num(self.objective),
            "objective_sense": "min",
            "objective_meaning": (
                f"total population-weighted travel ({'weight x ' + inst.unit}) to the assigned site"
            ),
            "best_bound": _num(self.bound),
            "gap": _num(self.gap, 9),
            "runtime_s": _num(self.runtime_s, 3),
            "total_time_s": _num(self.total_time_s, 3),
            "solver": {
                "backend": self.solver,
                "version": self.solver_version,
                "message": self.message,
            },
            "model_size": self.model_size,
            "method": self.method,
        }
        if self.method == "assignment":
            out["truncation"] = {"rounds": self.rounds, "proven_exact": self.truncation_proven}
        else:
            out["benders_rounds"] = self.rounds
        out |= {
            "diagnosis": self.diagnosis,
        }
        if self.open_mask is not None and self.travel is not None:
            assert self.longest_trip is not None and self.assigned_site is not None
            out["chosen_sites"] = by_type(inst.sites, self.open_mask, types)
            out["new_sites"] = by_type(inst.sites, self.open_mask & ~inst.sites.existing, types)
            out["closed_sites"] = by_type(
                inst.sites, inst.sites.existing & inst.allowed & ~self.open_mask, types
            )
            served = self.assigned_site >= 0
            out["travel"] = {"unit": inst.unit} | travel_summary(
                inst.demand, self.travel, self.longest_trip, served
            )
            if self.shares is not None:
                out["split_demand_points"] = int(
                    (self.shares.groupby("demand")["share"].size() > 1).sum()
                )
        return out

    def demand_table(self) -> pd.DataFrame:
        """One row per demand point: id, weight, zone, site id, travel value (and split flag)."""
        d = self.demand
        frame = pd.DataFrame({"id": d.ids.astype(str), "weight": d.weight})
        if d.zone is not None:
            frame["zone"] = d.zone.astype(str)
        if self.assigned_site is not None and self.travel is not None:
            site = self.assigned_site
            frame["site_id"] = np.where(
                site >= 0, self.sites.ids[np.maximum(site, 0)].astype(str), ""
            )
            frame["travel"] = np.where(site >= 0, self.travel, np.nan)
            if self.shares is not None:
                n_sites = self.shares.groupby("demand")["share"].size()
                frame["split"] = frame.index.map(lambda i: int(n_sites.get(i, 0)) > 1)
        return frame


def _num(x: float | None, nd: int = 6) -> float | None:
    return None if x is None or not np.isfinite(x) else round(float(x), nd)


# ---------------------------------------------------------------------------------------------
# Model building
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class _Layout:
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


def _fixed_value(inst: SitingInstance) -> np.ndarray:
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
) -> _Layout:
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
    d_fixed = np.full(n, np.inf) if capacitated else _fixed_value(inst)
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
    free_sites = np.flatnonzero(inst.free)
    ycol = np.full(len(inst.sites), -1, dtype=np.int64)
    ycol[free_sites] = np.arange(free_sites.size)
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
    return _Layout(milp, pos, far_demand, far_cost, free_sites, md, settled, n_full_pairs)


# ---------------------------------------------------------------------------------------------
# Solve, decode, certify
# ---------------------------------------------------------------------------------------------
def _capacities(inst: SitingInstance, config: PMedianModelConfig) -> np.ndarray | None:
    if config.capacity == "ignore":
        return None
    cap = inst.sites.capacity
    if cap is None:
        raise CaseError(
            [
                Problem(
                    "model.capacity",
                    "capacity: enforce needs a capacity column in the sites file",
                    fix="map sites.columns.capacity to a column of residents each site can serve",
                )
            ]
        )
    cap = np.asarray(cap, dtype=float)
    bad = np.flatnonzero(inst.allowed & ~(cap >= 0))
    if bad.size:
        raise CaseError(
            [
                Problem(
                    "sites capacity",
                    f"{bad.size:,} sites have a missing or negative capacity",
                    got=", ".join(map(str, inst.sites.ids[bad[:10]])),
                    fix="give every site a capacity >= 0 (residents it can serve)",
                )
            ]
        )
    return np.where(np.isfinite(cap), cap, 1e30)


def _capacity_precheck(inst: SitingInstance, cap: np.ndarray) -> list[str]:
    w = inst.weight
    total = float(w.sum())
    fixed_cap = float(cap[inst.fixed_open].sum())
    free_cap = np.sort(cap[inst.free])[::-1][: inst.free_limit]
    best = fixed_cap + float(free_cap.sum())
    out = []
    if best + 1e-9 * max(total, 1.0) < total:
        out.append(
            f"capacity: even the {inst.free_limit} largest candidates plus the kept sites serve at "
            f"most {best:,.0f} residents, but demand totals {total:,.0f}. Raise p or the capacities."
        )
    P = inst.pairs
    reach_cap = np.bincount(P.di, weights=np.minimum(cap[P.sj], 1e15), minlength=inst.n_demand)
    short = np.flatnonzero((w > 0) & (reach_cap + 1e-9 < w) & (P.count > 0))
    if short.size:
        ids = ", ".join(
            f"{inst.demand.ids[i]} ({w[i]:,.0f} > {reach_cap[i]:,.0f})" for i in short[:10]
        )
        out.append(
            f"capacity: {short.size:,} demand points need more than all sites they can reach can "
            f"serve together: {ids}"
        )
    return out


def _auto_k(inst: SitingInstance, config: PMedianModelConfig, active: np.ndarray) -> int | None:
    if config.k_nearest is None:
        return None
    if isinstance(config.k_nearest, int):
        return config.k_nearest
    n_pairs = int(inst.pairs.count[active].sum())
    if n_pairs <= FULL_MODEL_PAIRS:
        return None
    n_open = max(int(inst.fixed_open.sum()) + inst.free_limit, 1)
    n_allowed = int(inst.allowed.sum())
    return int(np.clip(np.ceil(2.0 * n_allowed / n_open), 8, n_allowed))


def _lookup(tt: TravelTimes, di: np.ndarray, sj: np.ndarray) -> np.ndarray:
    """Raw table values of (demand, site) pairs, read independently of the model (nan: absent)."""
    ok = np.isfinite(tt.value)
    keys = tt.demand_index[ok] * tt.n_sites + tt.site_index[ok]
    vals = tt.value[ok]
    order = np.lexsort((vals, keys))  # a pair listed twice: its smallest value first
    keys, vals = keys[order], vals[order]
    q = di * tt.n_sites + sj
    pos = np.searchsorted(keys, q)
    pos_c = np.minimum(pos, max(keys.size - 1, 0))
    found = (pos < keys.size) & (keys[pos_c] == q) if keys.size else np.zeros(q.size, bool)
    return np.where(found, vals[pos_c] if keys.size else np.nan, np.nan)


@dataclass
class _Plan:
    """One round's decoded plan evaluated on the raw data."""

    open_mask: np.ndarray
    objective: float
    assigned_site: np.ndarray
    travel: np.ndarray
    longest_trip: np.ndarray
    shares: pd.DataFrame | None
    violations: list[str]
    unserved: int = 0
    """Demand points with residents and no open site within reach."""


def _evaluate_uncapacitated(inst: SitingInstance, open_mask: np.ndarray) -> _Plan:
    site, value = inst.nearest_open(open_mask)
    w = inst.weight
    violations = inst.check_open_set(open_mask)
    unserved = np.flatnonzero((w > 0) & (site < 0))
    if unserved.size:
        violations.append(
            f"{unserved.size} demand points with residents have no open site within reach: "
            + ", ".join(map(str, inst.demand.ids[unserved[:10]]))
        )
    counted = (w > 0) & (site >= 0)
    objective = float((w[counted] * value[counted]).sum())
    return _Plan(open_mask, objective, site, value, value, None, violations, int(unserved.size))


def _evaluate_capacitated(
    inst: SitingInstance,
    open_mask: np.ndarray,
    di: np.ndarray,
    sj: np.ndarray,
    share: np.ndarray,
    capacity: np.ndarray,
) -> _Plan:
    w = inst.weight
    n = inst.n_demand
    violations = inst.check_open_set(open_mask)
    keep = share > 1e-9
    di, sj, share = di[keep], sj[keep], share[keep]
    value = _lookup(inst.travel_times, di, sj)
    missing = np.flatnonzero(np.isnan(value))
    if missing.size:
        violations.append(
            f"{missing.size} assignments use pairs absent from the travel-time table, e.g. "
            f"demand {inst.demand.ids[di[missing[0]]]} -> site {inst.sites.ids[sj[missing[0]]]}"
        )
        value = np.nan_to_num(value, nan=0.0)
    not_allowed = np.flatnonzero(~inst.allowed[sj])
    if not_allowed.size:
        violations.append(f"{not_allowed.size} assignments go to sites of other facility types")
    to_closed = np.flatnonzero(~open_mask[sj] & (share > 1e-6))
    if to_closed.size:
        k = to_closed[0]
        violations.append(
            f"{to_closed.size} assignments go to sites that are not open, e.g. demand "
            f"{inst.demand.ids[di[k]]} -> site {inst.sites.ids[sj[k]]} (share {share[k]:.6f})"
        )
    total = np.bincount(di, weights=share, minlength=n)
    bad = np.flatnonzero((w > 0) & (np.abs(total - 1.0) > 1e-6))
    if bad.size:
        k = bad[0]
        violations.append(
            f"{bad.size} demand points are not fully assigned, e.g. {inst.demand.ids[k]} "
            f"(shares sum to {total[k]:.6f})"
        )
    load = np.bincount(sj, weights=w[di] * share, minlength=len(inst.sites))
    over = np.flatnonzero(load > capacity * (1 + 1e-6) + 1e-6)
    if over.size:
        k = over[0]
        violations.append(
            f"capacity: {over.size} sites serve more residents than their capacity, e.g. "
            f"{inst.sites.ids[k]} serves {load[k]:,.3f} > {capacity[k]:,.3f}"
        )
    objective = float((w[di] * share * value).sum())
    travel = np.bincount(di, weights=share * value, minlength=n)
    travel = np.divide(travel, total, out=np.zeros(n), where=total > 0)
    longest = np.full(n, -np.inf)
    np.maximum.at(longest, di, value)
    main = np.full(n, -1, dtype=np.int64)
    order = np.lexsort((-share, di))
    first = np.ones(order.size, dtype=bool)
    first[1:] = di[order][1:] != di[order][:-1]
    main[di[order][first]] = sj[order][first]
    longest = np.where(main >= 0, longest, np.inf)
    shares = pd.DataFrame({"demand": di, "site": sj, "share": share, "value": value})
    return _Plan(open_mask, objective, main, travel, longest, shares, violations)


def _tolerance(inst: SitingInstance) -> float:
    P = inst.pairs
    reach = P.count > 0
    last = np.where(reach, P.value[np.minimum(P.start + P.count - 1, max(len(P) - 1, 0))], 0.0)
    scale = float((inst.weight[reach] * last[reach]).sum())
    return 1e-6 * scale + 1e-6


def _warm_start(layout: _Layout, inst: SitingInstance, open_mask: np.ndarray) -> np.ndarray | None:
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


def solve_pmedian(
    demand: Demand,
    sites: Sites,
    travel_times: TravelTimes,
    config: PMedianModelConfig,
    options: SolveOptions | None = None,
    *,
    backend: str = "highs",
) -> PMedianSolution:
    """Build, solve (in truncated rounds when useful) and certify a p-median model.

    Returns OPTIMAL only when the plan's raw objective is proven within the requested gap of a
    valid bound for the *full* model; a time limit returns the best plan found with its bound
    (FEASIBLE). Raises :class:`CheckError` when an answer fails the raw-data check.
    """
    options = options or SolveOptions()
    t_start = time.perf_counter()
    deadline = Deadline(options.time_limit_s, start=t_start)
    inst = prepare(
        demand,
        sites,
        travel_times,
        p=config.p,
        max_new_sites=config.max_new_sites,
        existing=config.existing,
        facility_types=config.facility_types,
        count_rule="exactly",
    )
    capacity = _capacities(inst, config)
    w = inst.weight
    reasons = inst.unreachable(w > 0, "p-median")
    if capacity is not None and not reasons:
        reasons += _capacity_precheck(inst, capacity)
    if reasons:
        log.warning("p-median is infeasible before solving: %d reasons", len(reasons))
        return PMedianSolution(
            inst,
            config,
            Status.INFEASIBLE,
            diagnosis=reasons,
            total_time_s=time.perf_counter() - t_start,
            message="infeasible: found before solving",
        )

    if config.method == "benders" and (capacity is not None or inst.truncated):
        raise CaseError(
            [
                Problem(
                    "model.method",
                    "Benders needs an uncapacitated model on a complete travel-time table",
                    got="benders"
                    + (" with capacity: enforce" if capacity is not None else "")
                    + (f" on truncated table '{travel_times.name}'" if inst.truncated else ""),
                    fix="use method: auto (or assignment), or drop the table's cutoff / k_nearest",
                )
            ]
        )
    if capacity is None and not inst.truncated and config.method in ("auto", "benders"):
        return _solve_by_benders(inst, config, options, backend, t_start)

    active = (w > 0) & (inst.pairs.count > 0)
    k0 = _auto_k(inst, config, active)
    k: np.ndarray | None = None if k0 is None else np.full(inst.n_demand, k0, dtype=np.int64)
    tol = _tolerance(inst)
    rounds: list[dict[str, Any]] = []
    best: _Plan | None = None
    best_bound = -np.inf
    runtime = 0.0
    last: SolveResult | None = None
    layout: _Layout | None = None
    proven = False
    final_status = Status.ERROR
    solver_obj: float | None = None

    for rnd in range(1, MAX_ROUNDS + 2):
        if k is not None and rnd == MAX_ROUNDS + 1:
            k = None  # last resort: the full model
        if deadline.expired() and last is not None:
            final_status = Status.FEASIBLE if best is not None else Status.NO_SOLUTION
            break
        layout = build_pmedian_milp(inst, k, capacity)
        milp = layout.milp
        warm = None
        if capacity is None and best is not None:
            warm = _warm_start(layout, inst, best.open_mask)
        res = solve(milp, deadline.options_for(options, warm_start=warm), backend)
        last = res
        runtime += res.runtime_s
        info: dict[str, Any] = {
            "round": rnd,
            "k": None if k is None else int(k[layout.model_demand].max(initial=0)),
            "pairs": int(layout.pair_pos.size),
            "full_pairs": layout.n_full_pairs,
            "beyond_k_columns": int(layout.far_demand.size),
            "status": res.status.value,
            "runtime_s": round(res.runtime_s, 3),
        }
        rounds.append(info)
        if not res.status.has_solution or res.x is None:
            info["certified"] = False
            final_status = res.status
            if res.bound is not None and res.status != Status.INFEASIBLE:
                best_bound = max(best_bound, res.bound)
            break
        x = res.x
        far_vals = x[milp.var_blocks["far"].slice]
        far_used = layout.far_demand[far_vals > 1e-6]
        info["beyond_k_used"] = int(far_used.size)
        y = x[milp.var_blocks["y"].slice] > 0.5
        open_mask = inst.fixed_open.copy()
        open_mask[layout.free_sites[y]] = True
        this_obj = float(res.objective) if res.objective is not None else milp.objective_value(x)
        bound = res.bound if res.bound is not None else None
        if bound is None and res.status == Status.OPTIMAL:
            bound = this_obj
        violations: list[str] = []
        plan: _Plan | None
        if capacity is None:
            plan = _evaluate_uncapacitated(inst, open_mask)
            if far_used.size and plan.unserved:
                # The relaxation's open set leaves someone beyond every open site: it is not a
                # plan of the full model (the beyond-k option stood in). Only the rules count.
                violations += inst.check_open_set(open_mask)
                plan = None
            elif far_used.size == 0 and plan.objective > this_obj + tol:
                violations.append(
                    f"objective mismatch: solver reports {this_obj:,.6f}, raw data gives "
                    f"{plan.objective:,.6f} for the same open sites"
                )
        elif far_used.size == 0:
            xv = x[milp.var_blocks["x"].slice]
            P = inst.pairs
            plan = _evaluate_capacitated(
                inst,
                open_mask,
                P.di[layout.pair_pos],
                P.sj[layout.pair_pos],
                xv,
                capacity,
            )
            if abs(plan.objective - this_obj) > tol:
                violations.append(
                    f"objective mismatch: solver reports {this_obj:,.6f}, raw data gives "
                    f"{plan.objective:,.6f}"
                )
        else:
            plan = None  # a split assignment beyond the k nearest cannot be evaluated
        if plan is not None:
            violations = plan.violations + violations
            if bound is not None and plan.objective < bound - tol:
                violations.append(
                    f"bound {bound:,.6f} is not a valid bound for the raw objective "
                    f"{plan.objective:,.6f}"
                )
        if violations:
            raise CheckError(violations)
        if bound is not None:
            best_bound = max(best_bound, bound)
        if plan is not None and (best is None or plan.objective < best.objective - tol):
            best = plan
            solver_obj = this_obj
        info["raw_objective"] = None if plan is None else round(plan.objective, 6)
        info["bound"] = None if bound is None else round(bound, 6)
        certified = (
            best is not None
            and res.status == Status.OPTIMAL
            and best.objective - best_bound <= tol + options.mip_rel_gap * abs(best.objective)
        )
        info["certified"] = bool(certified)
        if certified:
            proven = True
            final_status = Status.OPTIMAL
            break
        if res.status != Status.OPTIMAL or k is None:
            final_status = Status.FEASIBLE if best is not None else Status.NO_SOLUTION
            break
        # Relaxation optimum uses the beyond-k option: widen those points' lists and re-solve.
        k = np.minimum(2 * k, np.maximum(inst.pairs.count, 1))
        log.info(
            "Round %d: %d demand points use their beyond-k option (raw %s vs bound %s); "
            "doubling their k",
            rnd,
            far_used.size,
            "-" if plan is None else f"{plan.objective:,.6g}",
            "-" if bound is None else f"{bound:,.6g}",
        )

    if best is None and inst.truncated and final_status not in (Status.INFEASIBLE,):
        # The relaxation's plans lean on trips the truncated table does not list: find the best
        # plan among listed trips (an upper bound) and keep the relaxation's bound.
        remaining = deadline.remaining()
        if remaining > 0:
            layout = build_pmedian_milp(inst, None, capacity, listed_only=True)
            res = solve(layout.milp, dataclasses.replace(options, time_limit_s=remaining), backend)
            last = res
            runtime += res.runtime_s
            info = {"round": len(rounds) + 1, "k": None, "listed_pairs_only": True}
            info |= {"status": res.status.value, "runtime_s": round(res.runtime_s, 3)}
            rounds.append(info)
            if res.status.has_solution and res.x is not None:
                milp = layout.milp
                y = res.x[milp.var_blocks["y"].slice] > 0.5
                open_mask = inst.fixed_open.copy()
                open_mask[layout.free_sites[y]] = True
                if capacity is None:
                    plan = _evaluate_uncapacitated(inst, open_mask)
                else:
                    P = inst.pairs
                    plan = _evaluate_capacitated(
                        inst,
                        open_mask,
                        P.di[layout.pair_pos],
                        P.sj[layout.pair_pos],
                        res.x[milp.var_blocks["x"].slice],
                        capacity,
                    )
                if plan.violations or (
                    np.isfinite(best_bound) and plan.objective < best_bound - tol
                ):
                    raise CheckError(
                        plan.violations
                        or [
                            f"bound {best_bound:,.6f} is not a valid bound for {plan.objective:,.6f}"
                        ]
                    )
                best = plan
                solver_obj = float(res.objective) if res.objective is not None else None
                info["raw_objective"] = round(plan.objective, 6)
                info["certified"] = bool(
                    np.isfinite(best_bound)
                    and plan.objective - best_bound
                    <= tol + options.mip_rel_gap * abs(plan.objective)
                )
                proven = bool(info["certified"]) and res.status == Status.OPTIMAL
                final_status = Status.OPTIMAL if proven else Status.FEASIBLE
            else:
                info["certified"] = False
    assert last is not None and layout is not None
    milp = layout.milp
    size = {
        "rows": milp.n_rows,
        "columns": milp.n_cols,
        "nonzeros": milp.nnz,
        "integer_columns": milp.n_integer,
    }
    common: dict[str, Any] = {
        "runtime_s": runtime,
        "total_time_s": time.perf_counter() - t_start,
        "solver": last.solver,
        "solver_version": last.solver_version,
        "message": last.message,
        "model_size": size,
        "rounds": rounds,
    }
    bound_out = best_bound if np.isfinite(best_bound) else None
    if inst.truncated and final_status != Status.OPTIMAL:
        common["message"] = (
            f"the travel-time table '{inst.travel_times.name}' is truncated and the truncation "
            "could not be proven harmless: the plan (if any) is the best among listed trips, the "
            "bound allows for the trips left out; raise the table's cutoff or k_nearest"
        )
    if best is None:
        diagnosis = []
        if inst.truncated:
            diagnosis.append(
                f"the travel-time table '{inst.travel_times.name}' is truncated (a cutoff or k "
                "nearest sites) and no plan serves every demand point with the trips it lists; "
                "raise the table's cutoff or k_nearest, or drop them"
            )
        if final_status == Status.INFEASIBLE:
            diagnosis = [
                f"the solver proved that no {inst.limit_text} plan reaches every demand point "
                "with residents"
                + (" within the capacities" if capacity is not None else "")
                + "; allow more sites or add candidates that reach the outlying points"
            ]
        return PMedianSolution(
            inst, config, final_status, bound=bound_out, diagnosis=diagnosis, **common
        )
    if proven:
        bound_out = best.objective if bound_out is None else min(bound_out, best.objective)
    gap = relative_gap(best.objective, bound_out) if bound_out is not None else None
    log.info(
        "Checked p-median plan on raw data: %d open sites, objective %s, gap %s, %d rounds",
        int(best.open_mask.sum()),
        f"{best.objective:,.6g}",
        "-" if gap is None else f"{100 * gap:.4f}%",
        len(rounds),
    )
    return PMedianSolution(
        inst,
        config,
        final_status,
        open_mask=best.open_mask,
        assigned_site=best.assigned_site,
        travel=best.travel,
        longest_trip=best.longest_trip,
        shares=best.shares,
        objective=best.objective,
        solver_objective=solver_obj,
        bound=bound_out,
        gap=gap,
        checked=True,
        **common,
    )


def _solve_by_benders(
    inst: SitingInstance,
    config: PMedianModelConfig,
    options: SolveOptions,
    backend: str,
    t_start: float,
) -> PMedianSolution:
    """Uncapacitated p-median by Benders decomposition, certified on the raw table."""
    from .pmedian_benders import solve_pmedian_benders

    out = solve_pmedian_benders(inst, options, backend, t_start)
    common: dict[str, Any] = {
        "runtime_s": out.runtime_s,
        "total_time_s": time.perf_counter() - t_start,
        "solver": out.solver,
        "solver_version": out.solver_version,
        "message": out.message,
        "model_size": out.model_size,
        "rounds": out.rounds,
        "method": "benders",
    }
    if out.open_mask is None or out.objective is None:
        diagnosis = []
        if out.status == Status.INFEASIBLE:
            diagnosis = [
                f"the solver proved that no {inst.limit_text} plan reaches every demand point "
                "with residents; allow more sites or add candidates that reach the outlying points"
            ]
        return PMedianSolution(
            inst, config, out.status, bound=out.bound, diagnosis=diagnosis, **common
        )
    plan = _evaluate_uncapacitated(inst, out.open_mask)
    tol = _tolerance(inst)
    violations = list(plan.violations)
    if abs(plan.objective - out.objective) > tol:
        violations.append(
            f"objective mismatch: Benders reports {out.objective:,.6f}, raw data gives "
            f"{plan.objective:,.6f} for the same open sites"
        )
    bound = out.bound
    if bound is not None and plan.objective < bound - tol:
        violations.append(
            f"bound {bound:,.6f} is not a valid bound for the raw objective {plan.objective:,.6f}"
        )
    if violations:
        raise CheckError(violations)
    proven = (
        bound is not None
        and out.status == Status.OPTIMAL
        and plan.objective - bound <= tol + options.mip_rel_gap * abs(plan.objective)
    )
    status = Status.OPTIMAL if proven else Status.FEASIBLE
    if proven and bound is not None:
        bound = min(bound, plan.objective)
    gap = relative_gap(plan.objective, bound) if bound is not None else None
    log.info(
        "Checked p-median plan (Benders) on raw data: %d open sites, objective %s, gap %s",
        int(plan.open_mask.sum()),
        f"{plan.objective:,.6g}",
        "-" if gap is None else f"{100 * gap:.4f}%",
    )
    return PMedianSolution(
        inst,
        config,
        status,
        open_mask=plan.open_mask,
        assigned_site=plan.assigned_site,
        travel=plan.travel,
        longest_trip=plan.longest_trip,
        objective=plan.objective,
        solver_objective=out.objective,
        bound=bound,
        gap=gap,
        checked=True,
        **common,
    )
