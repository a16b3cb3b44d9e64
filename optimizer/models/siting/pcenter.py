r"""p-center: open p sites so that the worst trip to the nearest open site is shortest.

The planner's question "how far is the farthest village from its clinic?" (unweighted), or the
worst population-weighted trip :math:`w_i t_{ij}` (``weighted: true``). MODELS.md §1.5, §8.3.
Only demand points with residents (weight > 0) count in either form.

``count: exactly`` (the default, as in OR-Library and Pullan 2008) opens exactly p sites;
``count: at_most`` opens the fewest sites that reach the optimal radius (a second stage: the
least LSCP at that radius). Both have the same radius, since opening a site never lengthens a
trip: the exactly-p plan is the least-sites plan padded farthest-first (Gonzalez 1985) with the
site nearest the worst-served point, then checked like every answer.

**Binary search over LSCP feasibility (the primary method).** The optimal radius is one of the
distinct values :math:`v_{ij}` (:math:`t_{ij}`, or :math:`w_i t_{ij}`). For a radius :math:`R`
the location set covering problem (Toregas, Swain, ReVelle & Bergman 1971)

.. math::

    \min \sum_{j \in F} y_j \quad \text{s.t.} \quad
    \sum_{j \in F,\, v_{ij} \le R} y_j \ge 1 \;\; \forall i \text{ not within } R
    \text{ of a kept-open existing site}, \qquad y \in \{0,1\}

gives the fewest new sites that bring everyone within :math:`R`; :math:`R` is feasible iff that
number is at most the limit (``p`` minus the kept existing sites, or ``max_new_sites``).
Feasibility is monotone in :math:`R`, so a binary search over the sorted candidate values between
a lower bound (every point's nearest possible site) and a greedy plan's radius finds the least
feasible :math:`R` (Minieka 1970; the method spopt-R uses by default; Elloumi, Labbé & Pochet
2004 for the exact covering view). A step stopped by the time limit decides nothing unless its
incumbent already fits (feasible) or its bound already exceeds the limit (infeasible); an
undecided step is treated as infeasible for the search but not for the bound, and the answer is
then reported FEASIBLE with the proven lower bound, never OPTIMAL.

**Compact MIP (cross-check).** Daskin (2013), as in spopt's ``PCenter``:

.. math::

    \min W \quad \text{s.t.} \quad \sum_j x_{ij} = 1, \;\; x_{ij} \le y_j \; (j \in F), \;\;
    \sum_{j \in F} y_j \le p - |E|, \;\; W \ge \sum_j v_{ij} x_{ij} \;\; \forall i

**Truncated tables** (a cutoff or k nearest sites): a radius at most the least value a left-out
pair can have is exact (a better plan would use only listed pairs); above it the plan is
FEASIBLE with that value as the bound, and no plan among the listed pairs is NO_SOLUTION, never
INFEASIBLE.

Both methods answer the same problem; kept-open existing sites :math:`E` are constants. The
answer is checked on the raw table: site rules, everyone counted served, and the radius
recomputed from the nearest open sites (it must equal the search's radius and lie on the right
side of the bound), else :class:`~optimizer.errors.CheckError`.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from geodata.arrays import Demand, Sites, TravelTimes

from ...certificate import Certificate
from ...errors import CheckError
from ...milp import MILP, ModelBuilder
from ...schema.siting import PCenterModelConfig
from ...solvers import SolveOptions, SolveResult, Status, relative_gap, solve
from .problem import SitingInstance, by_type, open_site_ids, prepare, travel_summary

__all__ = [
    "PCenterModelConfig",
    "PCenterSolution",
    "build_lscp_milp",
    "build_pcenter_milp",
    "solve_pcenter",
]

log = logging.getLogger(__name__)


@dataclass(frozen=True, eq=False)
class PCenterSolution(Certificate):
    """A certified p-center answer: radius recomputed on the raw table, bound, gap, steps.

    ``objective`` is the radius: the worst travel value (weighted: worst weight x travel) over
    the counted demand points."""

    instance: SitingInstance
    config: PCenterModelConfig
    status: Status
    open_mask: np.ndarray | None = None
    assigned_site: np.ndarray | None = None
    """Per demand point: its nearest open site (-1 when none is reachable)."""
    travel: np.ndarray | None = None
    """Per demand point: travel value to its nearest open site."""
    sites_needed: int | None = None
    """Fewest new sites that achieve the radius (binary search, when proven)."""
    steps: list[dict[str, Any]] = field(default_factory=list)

    @property
    def radius(self) -> float | None:
        return self.objective

    @property
    def sites(self) -> Sites:
        return self.instance.sites

    def open_ids(self, facility_type: str | None = None) -> list[str]:
        return open_site_ids(self.sites, self.open_mask, facility_type)

    def to_dict(self) -> dict[str, Any]:
        """Plain values for ``solution.json``."""
        inst = self.instance
        cfg = self.config
        types = sorted(set(map(str, inst.sites.facility_type[inst.allowed])))
        meaning = (
            f"worst weight x travel ({inst.unit}) to the nearest open site"
            if cfg.weighted
            else f"worst travel ({inst.unit}) from a demand point to its nearest open site"
        )
        out: dict[str, Any] = {
            "model": cfg.model_dump(exclude_none=True),
            "status": self.status.value,
            "status_text": self.status.label,
            "checked_on_raw_data": self.checked,
            "objective": _num(self.objective),
            "objective_sense": "min",
            "objective_meaning": meaning,
            "best_bound": _num(self.bound),
            "gap": _num(self.gap, 9),
            "sites_needed": self.sites_needed,
            "runtime_s": _num(self.runtime_s, 3),
            "total_time_s": _num(self.total_time_s, 3),
            "solver": {
                "backend": self.solver,
                "version": self.solver_version,
                "message": self.message,
            },
            "model_size": self.model_size,
            "steps": self.steps,
            "diagnosis": self.diagnosis,
        }
        if self.open_mask is not None and self.travel is not None:
            assert self.assigned_site is not None
            out["chosen_sites"] = by_type(inst.sites, self.open_mask, types)
            out["new_sites"] = by_type(inst.sites, self.open_mask & ~inst.sites.existing, types)
            out["closed_sites"] = by_type(
                inst.sites, inst.sites.existing & inst.allowed & ~self.open_mask, types
            )
            served = self.assigned_site >= 0
            out["travel"] = {"unit": inst.unit} | travel_summary(
                inst.demand, self.travel, self.travel, served
            )
        return out

    def demand_table(self) -> pd.DataFrame:
        """One row per demand point: id, weight, zone, nearest open site id, travel value."""
        d = self.instance.demand
        frame = pd.DataFrame({"id": d.ids.astype(str), "weight": d.weight})
        if d.zone is not None:
            frame["zone"] = d.zone.astype(str)
        if self.assigned_site is not None and self.travel is not None:
            site = self.assigned_site
            frame["site_id"] = np.where(
                site >= 0, self.sites.ids[np.maximum(site, 0)].astype(str), ""
            )
            frame["travel"] = np.where(site >= 0, self.travel, np.nan)
        return frame


def _num(x: float | None, nd: int = 6) -> float | None:
    return None if x is None or not np.isfinite(x) else round(float(x), nd)


# ---------------------------------------------------------------------------------------------
# Shared pieces
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class _Values:
    """Objective values per pair (``t`` or ``w t``) and which demand points count."""

    value: np.ndarray
    counted: np.ndarray
    fixed: np.ndarray
    """Per demand point: value to the nearest kept-open existing site (inf if none)."""
    by_site: sp.csc_matrix
    """Demand x site values (stored explicitly, zeros included) for column access."""


def _values(inst: SitingInstance, weighted: bool) -> _Values:
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
    return _Values(value, counted, fixed, by_site)


def _evaluate(
    inst: SitingInstance, vals: _Values, open_mask: np.ndarray, weighted: bool
) -> tuple[float, np.ndarray, np.ndarray, list[str]]:
    """Radius of ``open_mask`` on the RAW table, nearest sites, travel values, violations."""
    site, travel = inst.nearest_open(open_mask)
    violations = inst.check_open_set(open_mask)
    unserved = np.flatnonzero(vals.counted & (site < 0))
    if unserved.size:
        violations.append(
            f"{unserved.size} demand points have no open site within reach: "
            + ", ".join(map(str, inst.demand.ids[unserved[:10]]))
        )
    ok = vals.counted & (site >= 0)
    value = np.where(ok, travel, 0.0) * inst.weight if weighted else travel
    radius = float(value[ok].max()) if ok.any() else 0.0
    return radius, site, travel, violations


def _greedy(inst: SitingInstance, vals: _Values, floor: float) -> np.ndarray:
    """Farthest-first plan (Gonzalez 1985): open the free site nearest the worst-served point."""
    open_mask = inst.fixed_open.copy()
    cur = np.where(vals.counted, vals.fixed, -np.inf)
    P = inst.pairs
    for _ in range(inst.free_limit):
        i = int(np.argmax(cur))
        if cur[i] <= floor:
            break
        lo, hi = P.start[i], P.start[i] + P.count[i]
        cand = np.flatnonzero(inst.free[P.sj[lo:hi]] & ~open_mask[P.sj[lo:hi]])
        if cand.size == 0:
            break
        j = int(P.sj[lo + cand[0]])  # pairs are sorted by value: the first is the nearest
        open_mask[j] = True
        col = slice(vals.by_site.indptr[j], vals.by_site.indptr[j + 1])
        rows = vals.by_site.indices[col]
        cur[rows] = np.minimum(cur[rows], vals.by_site.data[col] - 1.0)
    return open_mask


def _pad(inst: SitingInstance, vals: _Values, open_mask: np.ndarray) -> np.ndarray:
    """Open free sites until exactly ``free_limit`` are open: each time the free site nearest
    the worst-served counted point (any free site once no point has one left). The radius can
    only shrink, so an optimal at-most-p plan stays optimal."""
    open_mask = open_mask.copy()
    short = inst.free_limit - int((open_mask & inst.free).sum())
    if short <= 0:
        return open_mask
    cur = np.where(vals.counted, np.inf, -np.inf)
    by = vals.by_site
    for k in np.flatnonzero(open_mask):
        col = slice(by.indptr[k], by.indptr[k + 1])
        rows = by.indices[col]
        cur[rows] = np.minimum(cur[rows], by.data[col] - 1.0)
    P = inst.pairs
    for _ in range(short):
        j = -1
        while j < 0:
            i = int(np.argmax(cur))
            if cur[i] == -np.inf:
                break
            lo, hi = P.start[i], P.start[i] + P.count[i]
            cand = np.flatnonzero(inst.free[P.sj[lo:hi]] & ~open_mask[P.sj[lo:hi]])
            if cand.size:
                j = int(P.sj[lo + cand[0]])
            else:
                cur[i] = -np.inf  # nothing left to open near it
        if j < 0:
            j = int(np.flatnonzero(inst.free & ~open_mask)[0])
        open_mask[j] = True
        col = slice(by.indptr[j], by.indptr[j + 1])
        rows = by.indices[col]
        cur[rows] = np.minimum(cur[rows], by.data[col] - 1.0)
    return open_mask


# ---------------------------------------------------------------------------------------------
# Binary search over LSCP steps
# ---------------------------------------------------------------------------------------------
def build_lscp_milp(
    inst: SitingInstance, vals: _Values, radius: float
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


def _binary_search(
    inst: SitingInstance,
    vals: _Values,
    options: SolveOptions,
    backend: str,
    t_start: float,
    weighted: bool,
) -> dict[str, Any]:
    P = inst.pairs
    counted = vals.counted
    nearest_any = np.full(inst.n_demand, np.inf)
    np.minimum.at(nearest_any, P.di, vals.value)
    lb0 = float(nearest_any[counted].max()) if counted.any() else 0.0
    greedy = _greedy(inst, vals, lb0)
    ub0, _, _, greedy_faults = _evaluate(inst, vals, greedy, weighted)
    greedy_ok = not greedy_faults
    if not greedy_ok:
        ub0 = float(vals.value.max()) if vals.value.size else 0.0
    cand = np.unique(vals.value[counted[P.di] & (vals.value >= lb0) & (vals.value <= ub0)])
    if cand.size == 0 or cand[0] > lb0:
        cand = np.concatenate([[lb0], cand])
    log.info(
        "p-center binary search: %d candidate radii in [%g, %g] (greedy plan: %s)",
        cand.size,
        lb0,
        ub0,
        "feasible" if greedy_ok else "not feasible",
    )
    steps: list[dict[str, Any]] = []
    lo, hi = 0, cand.size - 1
    best_open = greedy if greedy_ok else None
    best_index = hi if greedy_ok else None
    best_count: int | None = None
    proven_lo = 0
    runtime = 0.0
    last: SolveResult | None = None
    size: dict[str, int] = {}

    def test(idx: int) -> bool | None:
        nonlocal runtime, last, size, best_open, best_index, best_count
        radius = float(cand[idx])
        milp, cols, reasons = build_lscp_milp(inst, vals, radius)
        step: dict[str, Any] = {"radius": radius}
        steps.append(step)
        if milp is None:
            step |= {"feasible": False, "decided": True, "reason": reasons[0]}
            return False
        remaining = options.time_limit_s - (time.perf_counter() - t_start)
        if remaining <= 0:
            step |= {"feasible": None, "decided": False, "reason": "time limit reached"}
            return None
        res = solve(milp, dataclasses.replace(options, time_limit_s=remaining), backend)
        last = res
        runtime += res.runtime_s
        size = {
            "rows": milp.n_rows,
            "columns": milp.n_cols,
            "nonzeros": milp.nnz,
            "integer_columns": milp.n_integer,
        }
        step |= {"status": res.status.value, "runtime_s": round(res.runtime_s, 3)}
        count = None
        if res.status.has_solution and res.x is not None:
            chosen = cols[res.x[milp.var_blocks["y"].slice] > 0.5]
            count = int(chosen.size)
            step["sites"] = count
            if count <= inst.free_limit:
                open_mask = inst.fixed_open.copy()
                open_mask[chosen] = True
                # The plan may already reach a smaller radius: the search continues below it.
                reached = _evaluate(inst, vals, open_mask, weighted)[0]
                at = int(np.searchsorted(cand, reached))
                plan_index = at if at < cand.size and cand[at] == reached else idx
                if best_index is None or plan_index <= best_index:
                    best_open, best_index = open_mask, min(plan_index, idx)
                    best_count = count if res.status == Status.OPTIMAL else None
                step |= {"feasible": True, "decided": True, "plan_radius": reached}
                return True
        if res.status == Status.INFEASIBLE:
            step |= {"feasible": False, "decided": True}
            return False
        if res.bound is not None and np.ceil(res.bound - 1e-6) > inst.free_limit:
            step |= {"feasible": False, "decided": True, "min_sites_bound": res.bound}
            return False
        step |= {"feasible": None, "decided": False}
        return None

    while lo < hi:
        mid = (lo + hi) // 2
        ok = test(mid)
        if ok:
            assert best_index is not None
            hi = best_index
        else:
            # Infeasible at mid proves every smaller radius infeasible too (monotone); an
            # undecided step moves the search up without moving the bound.
            lo = mid + 1
            if ok is False:
                proven_lo = max(proven_lo, mid + 1)
    if best_index is None:
        if test(hi) is False:  # the largest candidate: no plan reaches everyone at all
            proven_lo = hi + 1
    elif best_index == hi and greedy_ok and best_open is greedy:
        test(hi)  # the plan is the greedy one: ask the LSCP for the fewest sites at this radius
    return {
        "open": best_open,
        "radius_index": best_index,
        "candidates": cand,
        "proven_lo": proven_lo,
        "count": best_count,
        "steps": steps,
        "runtime": runtime,
        "last": last,
        "size": size,
    }


# ---------------------------------------------------------------------------------------------
# Compact MIP
# ---------------------------------------------------------------------------------------------
def build_pcenter_milp(
    inst: SitingInstance, vals: _Values, max_value: float = np.inf
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
    free_sites = np.flatnonzero(inst.free)
    ycol = np.full(len(inst.sites), -1, dtype=np.int64)
    ycol[free_sites] = np.arange(free_sites.size)
    b = ModelBuilder("p-center-compact", "min")
    y = b.add_binary("y", free_sites.size)
    x = b.add_vars("x", keep.size, ub=1.0)
    W = b.add_vars("W", 1, lb=0.0, cost=1.0)
    b.add_rows("assign", rows.size, row_of[di], x.index(), 1.0, lo=1.0, hi=1.0)
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
    b.add_rows(
        "radius",
        rows.size,
        np.concatenate([np.arange(rows.size), row_of[di]]),
        np.concatenate([np.full(rows.size, W.start), x.index()]),
        np.concatenate([np.ones(rows.size), -v]),
        lo=0.0,
    )
    return b.build(), free_sites


# ---------------------------------------------------------------------------------------------
# Entry point
# ---------------------------------------------------------------------------------------------
def solve_pcenter(
    demand: Demand,
    sites: Sites,
    travel_times: TravelTimes,
    config: PCenterModelConfig,
    options: SolveOptions | None = None,
    *,
    backend: str = "highs",
) -> PCenterSolution:
    """Find, check and certify the least worst-trip radius with at most p sites.

    ``options.time_limit_s`` bounds the whole search. Raises :class:`CheckError` when an answer
    fails the raw-data check.
    """
    options = options or SolveOptions()
    t_start = time.perf_counter()
    inst = prepare(
        demand,
        sites,
        travel_times,
        p=config.p,
        max_new_sites=config.max_new_sites,
        existing=config.existing,
        facility_types=config.facility_types,
        count_rule=config.count,
    )
    vals = _values(inst, config.weighted)
    reasons = inst.unreachable(vals.counted, "p-center")
    if reasons:
        return PCenterSolution(
            inst,
            config,
            Status.INFEASIBLE,
            diagnosis=reasons,
            total_time_s=time.perf_counter() - t_start,
            message="infeasible: found before solving",
        )
    tol = 1e-9 * max(1.0, float(np.abs(vals.value).max(initial=0.0)))

    if config.method == "compact":
        return _solve_compact(inst, vals, config, options, backend, t_start, tol)

    search = dataclasses.replace(inst, count_rule="at_most")  # exactly-p pads the plan after
    out = _binary_search(search, vals, options, backend, t_start, config.weighted)
    cand = out["candidates"]
    last: SolveResult | None = out["last"]
    common: dict[str, Any] = {
        "runtime_s": out["runtime"],
        "solver": last.solver if last else backend,
        "solver_version": last.solver_version if last else "",
        "model_size": out["size"],
        "steps": out["steps"],
    }
    proven_lo = int(out["proven_lo"])
    bound = float(cand[proven_lo]) if proven_lo < cand.size else None
    floor = _truncation_floor(inst, vals, config.weighted)
    if bound is not None and floor < bound:
        bound = floor  # a better plan could use pairs the truncated table leaves out
    if out["open"] is None:
        status = Status.INFEASIBLE if bound is None else Status.NO_SOLUTION
        if np.isfinite(floor):  # only the listed pairs were searched: not a proof
            status = Status.NO_SOLUTION
        return PCenterSolution(
            inst,
            config,
            status,
            bound=bound,
            total_time_s=time.perf_counter() - t_start,
            message="no plan with the allowed number of sites reaches every demand point"
            if status == Status.INFEASIBLE
            else (
                "no plan reaches every demand point with the trips the truncated table lists"
                if np.isfinite(floor)
                else "time limit reached before a plan was found"
            ),
            diagnosis=[s.get("reason", "") for s in out["steps"] if s.get("reason")]
            + _truncation_note(inst, floor),
            **common,
        )
    open_mask = out["open"]
    if inst.count_rule == "exactly":
        open_mask = _pad(inst, vals, open_mask)
    radius, site, travel, violations = _evaluate(inst, vals, open_mask, config.weighted)
    target = float(cand[out["radius_index"]])
    if radius > target + tol:
        violations.append(
            f"radius mismatch: the search certified {target:g}, raw data gives {radius:g}"
        )
    if bound is not None and radius < bound - tol:
        violations.append(f"bound {bound:g} is not a valid bound for the raw radius {radius:g}")
    if violations:
        raise CheckError(violations)
    proven = bound is not None and radius <= bound + tol
    status = Status.OPTIMAL if proven else Status.FEASIBLE
    undecided = [s["radius"] for s in out["steps"] if not s.get("decided", True)]
    message = "binary search over LSCP steps"
    if not proven:
        message = (
            f"radius {radius:g} is not proven optimal: the optimum lies in [{bound:g}, {radius:g}]"
            if bound is not None
            else f"radius {radius:g} is not proven optimal"
        ) + (f"; steps not decided within the time limit at {undecided}" if undecided else "")
        message += "".join("; " + n for n in _truncation_note(inst, floor) if radius > floor)
    log.info(
        "Checked p-center plan on raw data: %d open sites, radius %g (%s)",
        int(open_mask.sum()),
        radius,
        status.value,
    )
    return PCenterSolution(
        inst,
        config,
        status,
        open_mask=open_mask,
        assigned_site=site,
        travel=travel,
        objective=radius,
        bound=radius if proven else bound,
        gap=0.0 if proven else (relative_gap(radius, bound) if bound is not None else None),
        sites_needed=out["count"] if proven else None,
        total_time_s=time.perf_counter() - t_start,
        message=message,
        checked=True,
        **common,
    )


def _solve_compact(
    inst: SitingInstance,
    vals: _Values,
    config: PCenterModelConfig,
    options: SolveOptions,
    backend: str,
    t_start: float,
    tol: float,
) -> PCenterSolution:
    greedy = _greedy(inst, vals, -np.inf)
    if inst.count_rule == "exactly":
        greedy = _pad(inst, vals, greedy)
    ub, _, _, faults = _evaluate(inst, vals, greedy, config.weighted)
    milp, free_sites = build_pcenter_milp(inst, vals, np.inf if faults else ub)
    log.info("Built %s: %s", milp.name, milp.summary())
    res = solve(milp, options, backend)
    common: dict[str, Any] = {
        "runtime_s": res.runtime_s,
        "solver": res.solver,
        "solver_version": res.solver_version,
        "model_size": {
            "rows": milp.n_rows,
            "columns": milp.n_cols,
            "nonzeros": milp.nnz,
            "integer_columns": milp.n_integer,
        },
    }
    if not res.status.has_solution or res.x is None:
        return PCenterSolution(
            inst,
            config,
            res.status,
            bound=res.bound,
            total_time_s=time.perf_counter() - t_start,
            message=res.message,
            **common,
        )
    y = res.x[milp.var_blocks["y"].slice] > 0.5
    open_mask = inst.fixed_open.copy()
    open_mask[free_sites[y]] = True
    radius, site, travel, violations = _evaluate(inst, vals, open_mask, config.weighted)
    solver_obj = float(res.objective) if res.objective is not None else float("inf")
    scale = 1e-6 * max(1.0, float(np.abs(vals.value).max(initial=0.0)))
    if radius > solver_obj + scale:
        violations.append(
            f"objective mismatch: solver reports {solver_obj:g}, raw data gives {radius:g}"
        )
    bound = res.bound
    if bound is not None and radius < bound - scale:
        violations.append(f"bound {bound:g} is not a valid bound for the raw radius {radius:g}")
    if violations:
        raise CheckError(violations)
    if res.status == Status.OPTIMAL and bound is None:
        bound = radius
    floor = _truncation_floor(inst, vals, config.weighted)
    if bound is not None and floor < bound:
        bound = floor  # a better plan could use pairs the truncated table leaves out
    proven = res.status == Status.OPTIMAL and (
        bound is not None and radius - bound <= scale + options.mip_rel_gap * radius
    )
    status = Status.OPTIMAL if proven else Status.FEASIBLE
    return PCenterSolution(
        inst,
        config,
        status,
        open_mask=open_mask,
        assigned_site=site,
        travel=travel,
        objective=radius,
        bound=bound,
        gap=relative_gap(radius, bound) if bound is not None else None,
        total_time_s=time.perf_counter() - t_start,
        message="compact MIP (Daskin 2013)",
        checked=True,
        **common,
    )


def _truncation_floor(inst: SitingInstance, vals: _Values, weighted: bool) -> float:
    """Least value a pair left out of a truncated table can have (inf: the table is complete).

    A plan whose radius is at most this uses only listed pairs, so the search over the listed
    values is exact up to it; above it the result is only an upper bound.
    """
    floor = inst.missing_floor
    if weighted:
        finite = np.isfinite(floor)
        floor = np.where(finite, np.where(finite, floor, 0.0) * inst.weight, np.inf)
    counted = vals.counted & np.isfinite(floor)
    return float(floor[counted].min()) if counted.any() else float("inf")


def _truncation_note(inst: SitingInstance, floor: float) -> list[str]:
    if not np.isfinite(floor):
        return []
    return [
        f"the travel-time table '{inst.travel_times.name}' is truncated: pairs beyond "
        f"{floor:g} {inst.unit} are not listed, so a radius above that is not proven; raise the "
        "table's cutoff or drop its k_nearest"
    ]
