"""Brute-force oracle for covering models: enumerate every subset of sites on dense arrays.

Written independently of ``optimizer`` (no shared code beyond reading the spec objects), so an
error in the coverage core, presolve, model builder or checker cannot hide in both places.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from fractions import Fraction

import numpy as np

from geodata.arrays import Demand, Sites
from optimizer.schema.coverage import CoverageModelConfig


@dataclass
class Dense:
    """A covering instance on dense arrays (inf = unreachable)."""

    times: dict[str, np.ndarray]  # matrix name -> I x J
    demand: Demand
    sites: Sites
    model: CoverageModelConfig
    zone_ids: list[str]
    zone_kind: dict[str, str]


def _thr(std, demand: Demand) -> np.ndarray:
    value = std.minutes if std.minutes is not None else std.metres
    n = len(demand.ids)
    if isinstance(value, dict):
        out = np.full(n, np.nan)
        for cls, v in value.items():
            out[np.asarray(demand.demand_class) == cls] = v
        return out
    return np.full(n, float(value))


def brute_force_lexicographic(inst: Dense, secondary: str) -> tuple[float, float] | None:
    """(best coverage, then least cost or fewest new sites among plans with that coverage)."""
    plans = feasible_plans(inst)
    if not plans:
        return None
    best = max(p[0] for p in plans)
    idx = 1 if secondary == "min_cost" else 2
    return best, min(p[idx] for p in plans if p[0] >= best - 1e-9)


def brute_force(inst: Dense) -> float | None:
    """Optimal objective, or None when no subset is feasible."""
    m = inst.model
    objective = (
        m.objective or {"lscp": "min_sites", "mclp": "max_coverage", "psclp": "min_cost"}[m.kind]
    )
    plans = feasible_plans(inst)
    if not plans:
        return None
    if objective == "max_coverage":
        return max(p[0] for p in plans)
    if objective == "min_cost":
        return min(p[1] for p in plans)
    return min(p[2] for p in plans)


def feasible_plans(inst: Dense) -> list[tuple[float, float, float]]:
    """(weighted coverage, cost, new sites) of every feasible subset of sites."""
    m = inst.model
    d, s = inst.demand, inst.sites
    J = len(s.ids)
    types = np.asarray(s.facility_type)
    existing = np.asarray(s.existing, dtype=bool)
    cost = np.asarray(s.cost, dtype=float)
    closure = np.zeros(J)
    if s.removal_cost is not None:
        closure += np.nan_to_num(np.asarray(s.removal_cost, float))
    if s.relocation_credit is not None:
        closure -= np.nan_to_num(np.asarray(s.relocation_credit, float))
    w = np.asarray(d.weight, dtype=float)
    standards = []
    for std in m.standards:
        min_share = std.min_share
        if m.kind == "lscp" and min_share is None:
            min_share = 1.0
        times = inst.times[std.matrix] if std.matrix else next(iter(inst.times.values()))
        thr = _thr(std, d) / (2.0 if std.round_trip else 1.0)
        ok_type = (
            np.ones(J, bool) if std.facility_types is None else np.isin(types, std.facility_types)
        )
        reach = (times <= thr[:, None]) & ok_type[None, :]
        applies = ~np.isnan(thr)
        standards.append((std, reach, applies, min_share))

    plans: list[tuple[float, float, float]] = []
    for bits in itertools.product([False, True], repeat=J):
        open_ = np.array(bits, dtype=bool)
        if m.existing == "keep" and (existing & ~open_).any():
            continue
        new = open_ & ~existing
        if m.max_new_sites is not None:
            if isinstance(m.max_new_sites, int):
                if new.sum() > m.max_new_sites:
                    continue
            elif any(new[types == t].sum() > p for t, p in m.max_new_sites.items()):
                continue
        total_cost = cost[new].sum() + closure[existing & ~open_].sum()
        if m.budget is not None and total_cost > m.budget + 1e-9:
            continue
        if m.budget_by_type is not None and any(
            cost[new & (types == t)].sum() + closure[existing & ~open_ & (types == t)].sum()
            > b + 1e-9
            for t, b in m.budget_by_type.items()
        ):
            continue
        if m.min_new_sites is not None:
            mins = {None: m.min_new_sites} if isinstance(m.min_new_sites, int) else m.min_new_sites
            if any((new if t is None else new & (types == t)).sum() < k for t, k in mins.items()):
                continue
        if s.host is not None:
            hosted = np.flatnonzero(open_ & (np.asarray(s.host) >= 0))
            if not open_[np.asarray(s.host)[hosted]].all():
                continue
        feasible = True
        value = 0.0
        for std, reach, applies, min_share in standards:
            covered = reach[:, open_].any(axis=1) & applies
            pop = w[applies].sum()
            if min_share is not None:
                if min_share >= 1 and (applies & ~covered).any():
                    feasible = False
                    break
                if pop > 0 and w[covered].sum() < min_share * pop - 1e-9:
                    feasible = False
                    break
            if std.zone_min_share is not None:
                for z in inst.zone_ids:
                    req = (
                        std.zone_min_share.get(z)
                        if isinstance(std.zone_min_share, dict)
                        else std.zone_min_share
                    )
                    if req is None:
                        continue
                    inz = applies & (np.asarray(d.zone) == z)
                    zp = w[inz].sum()
                    if zp > 0 and w[covered & inz].sum() < req * zp - 1e-9:
                        feasible = False
                        break
                if not feasible:
                    break
            value += std.weight * w[covered].sum()
        if not feasible:
            continue
        for rule in m.zone_rules:
            ok_type = (
                np.ones(J, bool)
                if rule.facility_types is None
                else np.isin(types, rule.facility_types)
            )
            zones = (
                inst.zone_ids
                if rule.zones == "all"
                else [z for z in inst.zone_ids if z in rule.zones]
            )
            if rule.zone_kinds is not None:
                zones = [z for z in zones if inst.zone_kind.get(z, "") in rule.zone_kinds]
            for z in zones:
                need = rule.min_sites
                if rule.per_10k_residents is not None:  # exact: ceil(density x residents / 1e4)
                    res = sum(
                        Fraction(float(v)) for v in np.asarray(d.weight)[np.asarray(d.zone) == z]
                    )
                    need = max(
                        need, math.ceil(Fraction(str(rule.per_10k_residents)) * res / 10_000)
                    )
                n_open = (open_ & ok_type & (np.asarray(s.zone) == z)).sum()
                cap = rule.max_sites
                if cap is not None and rule.large_zones is not None:
                    res = sum(
                        Fraction(float(v)) for v in np.asarray(d.weight)[np.asarray(d.zone) == z]
                    )
                    if res > Fraction(str(rule.large_zones.over_residents)):
                        cap = max(cap, rule.large_zones.max_sites)
                band = rule.residents_per_site
                if band is not None:  # ceil(R / max) <= open <= ceil(R / min), exactly
                    res = sum(
                        Fraction(float(v)) for v in np.asarray(d.weight)[np.asarray(d.zone) == z]
                    )
                    need = max(need, math.ceil(res / Fraction(str(band.max))))
                    band_cap = math.ceil(res / Fraction(str(band.min)))
                    cap = band_cap if cap is None else min(cap, band_cap)
                if n_open < need or (cap is not None and n_open > cap):
                    feasible = False
                    break
            if not feasible:
                break
        if not feasible:
            continue
        for share in m.type_shares:
            units = (
                [np.ones(J, bool)]
                if share.scope == "county"
                else [np.asarray(s.zone) == z for z in inst.zone_ids]
            )
            for unit in units:
                a = (open_ & unit & np.isin(types, share.facility_types)).sum()
                b = (open_ & unit & np.isin(types, share.of)).sum()
                if Fraction(int(a)) < Fraction(str(share.min_share)) * int(b):
                    feasible = False
        if not feasible:
            continue
        if m.keep_existing_count:
            for t in set(types[existing]):
                if (open_ & (types == t)).sum() < (existing & (types == t)).sum():
                    feasible = False
            if not feasible:
                continue
        plans.append((float(value), float(total_cost), float(new.sum())))
    return plans
