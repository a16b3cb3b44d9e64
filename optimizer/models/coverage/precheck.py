"""Prechecks of a covering case: what makes every plan impossible, explained before any solve.

Demand no site can reach under a mandatory standard (by id), coverage shares (in total or per
zone) above what opening *every* site achieves, ``min_new_sites`` above the candidates, and zone
rules with too few candidates or a cap below the need.
"""

from __future__ import annotations

import numpy as np

from ...schema.coverage import ZoneRule
from .problem import CoverageProblem, StandardCoverage, _zone_share

__all__ = ["precheck"]


def _share_text(x: float) -> str:
    return f"{100 * x:.2f}%"


def precheck(problem: CoverageProblem, coverages: list[StandardCoverage]) -> list[str]:
    """Reasons the case cannot be feasible, each naming demand ids, zones or numbers."""
    reasons: list[str] = []
    for cov in coverages:
        reasons += _standard_reasons(problem, cov)
    reasons += _min_new_reasons(problem)
    if problem.sites.zone is not None:
        for k, rule in enumerate(problem.model.zone_rules):
            reasons += _zone_rule_reasons(problem, k, rule)
    return reasons


def _standard_reasons(problem: CoverageProblem, cov: StandardCoverage) -> list[str]:
    """A mandatory standard some demand cannot meet, or a share out of reach with every site open."""
    reasons: list[str] = []
    demand = problem.demand
    s = cov.standard
    reach = cov.covered_by(np.ones(len(problem.sites), dtype=bool))
    total = float(demand.weight[cov.applies].sum())
    if s.mandatory:
        bad = np.flatnonzero(cov.applies & ~reach)
        if bad.size:
            ids = ", ".join(map(str, demand.ids[bad[:15]]))
            more = f" and {bad.size - 15:,} more" if bad.size > 15 else ""
            reasons.append(
                f"standard '{s.name}' requires everyone within {s.threshold} {s.unit}, but "
                f"{bad.size:,} demand points ({demand.weight[bad].sum():,.0f} residents) have no "
                f"candidate or existing site that close: {ids}{more}. Add candidate sites near them "
                "or relax the standard (min_share < 1)."
            )
    elif s.min_share is not None and total > 0:
        best = float(demand.weight[reach].sum()) / total
        if best + 1e-12 < s.min_share:
            reasons.append(
                f"standard '{s.name}' asks for {_share_text(s.min_share)} of residents within "
                f"{s.threshold} {s.unit}, but even opening every candidate reaches only "
                f"{_share_text(best)}. Lower min_share or add candidates."
            )
    if s.zone_min_share is not None and demand.zone is not None:
        reasons += _zone_share_reasons(problem, cov, reach)
    return reasons


def _zone_share_reasons(
    problem: CoverageProblem, cov: StandardCoverage, reach: np.ndarray
) -> list[str]:
    """Zones whose required share is out of reach even with every candidate open."""
    demand = problem.demand
    assert demand.zone is not None
    s = cov.standard
    short = []
    for z in problem.zone_ids():
        req = _zone_share(s, z)
        if req is None:
            continue
        in_zone = cov.applies & (demand.zone == z)
        zt = float(demand.weight[in_zone].sum())
        if zt <= 0:
            continue
        best = float(demand.weight[in_zone & reach].sum()) / zt
        if best + 1e-12 < req:
            short.append(f"{z} (at most {_share_text(best)} < {_share_text(req)})")
    if not short:
        return []
    return [
        f"standard '{s.name}': in {len(short)} zones the required share is out of reach even "
        f"with every candidate open: {'; '.join(short[:12])}" + (" ..." if len(short) > 12 else "")
    ]


def _min_new_reasons(problem: CoverageProblem) -> list[str]:
    """``min_new_sites`` (in total or per type) above the candidates that exist."""
    sites = problem.sites
    mins = problem.model.min_new_sites
    if mins is None:
        return []
    reasons = []
    wanted = {None: mins} if isinstance(mins, int) else dict(mins)
    for ftype, need in wanted.items():
        pool = (
            ~sites.existing if ftype is None else ~sites.existing & (sites.facility_type == ftype)
        )
        if int(pool.sum()) < need:
            label = "new sites" if ftype is None else f"new '{ftype}' sites"
            reasons.append(
                f"min_new_sites asks for at least {need} {label} but only {int(pool.sum())} "
                "candidates exist; add candidates or lower the target"
            )
    return reasons


def _zone_rule_reasons(problem: CoverageProblem, k: int, rule: ZoneRule) -> list[str]:
    """Zones of rule ``k`` with fewer sites than needed, a cap below the need, or more kept
    sites than the cap allows."""
    sites = problem.sites
    assert sites.zone is not None
    reasons: list[str] = []
    mask = problem.type_mask(rule.facility_types)
    short = []
    fixed = problem.fixed_open() & mask
    for z in problem.rule_zones(rule):
        n = int((mask & (sites.zone == z)).sum())
        need = problem.rule_need(rule, z)
        cap = problem.rule_cap(rule, z)
        if n < need:
            short.append(f"{z} ({n} available, {need} needed)")
        if cap is not None and cap < need:
            reasons.append(
                f"zone_rules[{k}] in zone {z}: needs at least {need} sites but allows at "
                f"most {cap}; lower the density or raise max_sites"
            )
        kept = int((fixed & (sites.zone == z)).sum())
        if cap is not None and kept > cap:
            reasons.append(
                f"zone_rules[{k}] in zone {z}: {kept} existing sites are kept open but at "
                f"most {cap} are allowed; set existing: may_close or raise max_sites"
            )
    if short:
        types = ", ".join(rule.facility_types) if rule.facility_types else "any type"
        target = (
            f"{rule.per_10k_residents:g} per 10,000 residents (at least {rule.min_sites})"
            if rule.per_10k_residents is not None
            else str(rule.min_sites)
        )
        if rule.residents_per_site is not None:
            target = (
                f"1 per {rule.residents_per_site.max:,.0f} residents (at least {rule.min_sites})"
            )
        reasons.append(
            f"zone_rules[{k}] needs at least {target} sites ({types}) in every selected zone, "
            f"but {len(short)} zones have too few candidate or existing sites: {', '.join(short[:20])}"
            + (" ..." if len(short) > 20 else "")
            + ". Add candidates in these zones or exclude them from the rule."
        )
    return reasons
