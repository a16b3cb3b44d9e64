"""Raw-table evaluation of a siting plan, independent of the model that produced it.

The checks read the instance's pairs (nearest open site) or the raw travel-time table itself
(a capacitated split assignment), never the MILP: the objective, radius and rule violations
they return certify the solver's answer (MODELS.md §1.4, §1.5).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from geodata.arrays import TravelTimes

from .problem import SitingInstance

__all__ = ["Plan", "evaluate_capacitated", "evaluate_radius", "evaluate_uncapacitated", "tolerance"]


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
class Plan:
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


def evaluate_uncapacitated(inst: SitingInstance, open_mask: np.ndarray) -> Plan:
    """Everyone to the nearest open site: total weight x travel on the instance's pairs."""
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
    return Plan(open_mask, objective, site, value, value, None, violations, int(unserved.size))


def evaluate_capacitated(
    inst: SitingInstance,
    open_mask: np.ndarray,
    di: np.ndarray,
    sj: np.ndarray,
    share: np.ndarray,
    capacity: np.ndarray,
) -> Plan:
    """A split assignment (pairs ``di, sj`` with ``share``) read back on the RAW table: shares,
    capacities (residents), open sites and the objective (total weight x travel)."""
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
    return Plan(open_mask, objective, main, travel, longest, shares, violations)


def tolerance(inst: SitingInstance) -> float:
    """Absolute tolerance of the p-median objective: 1e-6 of everyone at their farthest pair."""
    P = inst.pairs
    reach = P.count > 0
    last = np.where(reach, P.value[np.minimum(P.start + P.count - 1, max(len(P) - 1, 0))], 0.0)
    scale = float((inst.weight[reach] * last[reach]).sum())
    return 1e-6 * scale + 1e-6


def evaluate_radius(
    inst: SitingInstance, counted: np.ndarray, open_mask: np.ndarray, weighted: bool
) -> tuple[float, np.ndarray, np.ndarray, list[str]]:
    """Radius of ``open_mask`` on the RAW table, nearest sites, travel values, violations.

    ``counted`` marks the demand points that set the radius (those with residents)."""
    site, travel = inst.nearest_open(open_mask)
    violations = inst.check_open_set(open_mask)
    unserved = np.flatnonzero(counted & (site < 0))
    if unserved.size:
        violations.append(
            f"{unserved.size} demand points have no open site within reach: "
            + ", ".join(map(str, inst.demand.ids[unserved[:10]]))
        )
    ok = counted & (site >= 0)
    value = np.where(ok, travel, 0.0) * inst.weight if weighted else travel
    radius = float(value[ok].max()) if ok.any() else 0.0
    return radius, site, travel, violations
