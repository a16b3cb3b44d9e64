"""Evaluate a plan on the raw data and check it against every constraint of the case.

This module never looks at the solver's model: it starts again from the original demand points
(not the merged groups), the original travel-time table and the set of open sites, so a bug in
presolve, model building or a backend shows up as a violation or an objective mismatch instead of
a wrong answer reaching a planner.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from fractions import Fraction

import numpy as np

from ...schema.coverage import ZoneRule
from .problem import CoverageProblem, StandardCoverage, _zone_share

__all__ = ["Evaluation", "StandardResult", "check_plan", "evaluate_plan"]

SHARE_TOL = 1e-9


@dataclass(frozen=True, eq=False)
class ZoneCoverage:
    """Residents of a zone subject to a standard and those covered (footfall apart)."""

    population: float
    covered: float
    footfall: float = 0.0
    footfall_covered: float = 0.0

    @property
    def share(self) -> float | None:
        return self.covered / self.population if self.population > 0 else None


@dataclass(frozen=True, eq=False)
class StandardResult:
    """A standard on the raw data. ``population`` / ``covered_population`` are **residents**
    (footfall venues are not residents); ``footfall`` / ``footfall_covered`` the footfall weight
    of venue classes; ``weighted_covered`` their sum, the measure the objective counts."""

    coverage: StandardCoverage
    covered: np.ndarray
    population: float
    covered_population: float
    by_zone: dict[str, ZoneCoverage] = field(default_factory=dict)
    footfall: float = 0.0
    footfall_covered: float = 0.0

    @property
    def weighted_covered(self) -> float:
        return self.covered_population + self.footfall_covered

    @property
    def footfall_share(self) -> float | None:
        return self.footfall_covered / self.footfall if self.footfall > 0 else None

    @property
    def name(self) -> str:
        return self.coverage.standard.name

    @property
    def share(self) -> float | None:
        return self.covered_population / self.population if self.population > 0 else None


@dataclass(frozen=True, eq=False)
class Evaluation:
    open_mask: np.ndarray
    new_mask: np.ndarray
    closed_mask: np.ndarray
    standards: list[StandardResult]
    new_cost: float
    closure_cost: float
    objective: float
    cost_by_type: dict[str, float] = field(default_factory=dict)

    @property
    def total_cost(self) -> float:
        return self.new_cost + self.closure_cost

    def standard(self, name: str) -> StandardResult:
        return next(s for s in self.standards if s.name == name)


def evaluate_plan(
    problem: CoverageProblem, coverages: list[StandardCoverage], open_mask: np.ndarray
) -> Evaluation:
    demand, sites = problem.demand, problem.sites
    open_mask = np.asarray(open_mask, dtype=bool)
    new_mask = open_mask & ~sites.existing
    closed_mask = sites.existing & ~open_mask
    zones = problem.zone_ids() if demand.zone is not None else []
    results = []
    res = demand.residents
    foot = demand.weight - res
    codes = {z: k for k, z in enumerate(zones)}
    zcode = (
        np.array([codes.get(str(z), -1) for z in demand.zone]) if demand.zone is not None else None
    )
    for cov in coverages:
        covered = cov.covered_by(open_mask)
        by_zone = {}
        if zcode is not None:
            ok = zcode >= 0

            def per_zone(w: np.ndarray, mask: np.ndarray, ok: np.ndarray = ok) -> np.ndarray:
                vals = np.where(mask, w, 0.0)[ok]
                return np.bincount(zcode[ok], weights=vals, minlength=len(zones))

            pop_z, cov_z = per_zone(res, cov.applies), per_zone(res, covered)
            fpop_z, fcov_z = per_zone(foot, cov.applies), per_zone(foot, covered)
            by_zone = {
                z: ZoneCoverage(
                    float(pop_z[k]), float(cov_z[k]), float(fpop_z[k]), float(fcov_z[k])
                )
                for k, z in enumerate(zones)
            }
        results.append(
            StandardResult(
                cov,
                covered,
                float(res[cov.applies].sum()),
                float(res[covered].sum()),
                by_zone,
                float(foot[cov.applies].sum()),
                float(foot[covered].sum()),
            )
        )
    new_cost = float(sites.cost[new_mask].sum())
    closure = sites.closure_cost()
    closure_cost = float(closure[closed_mask].sum())
    objective = _objective(problem, results, new_mask, new_cost + closure_cost)
    by_type = {
        t: float(sites.cost[new_mask & (sites.facility_type == t)].sum())
        + float(closure[closed_mask & (sites.facility_type == t)].sum())
        for t in sites.types
    }
    return Evaluation(
        open_mask, new_mask, closed_mask, results, new_cost, closure_cost, objective, by_type
    )


def _objective(
    problem: CoverageProblem, results: list[StandardResult], new_mask: np.ndarray, total_cost: float
) -> float:
    kind = problem.model.resolved_objective
    if kind == "max_coverage":
        return float(sum(r.coverage.standard.weight * r.weighted_covered for r in results))
    if kind == "min_cost":
        return float(total_cost)
    return float(new_mask.sum())


def check_plan(problem: CoverageProblem, ev: Evaluation) -> list[str]:
    """Every constraint of the case, re-checked on the raw data. Empty list = plan is valid."""
    return (
        _site_limit_violations(problem, ev)
        + _standard_violations(problem, ev)
        + _zone_rule_violations(problem, ev)
        + _type_share_violations(problem, ev)
        + _keep_count_violations(problem, ev)
    )


def _site_limit_violations(problem: CoverageProblem, ev: Evaluation) -> list[str]:
    """Existing sites kept, new-site counts, budgets and hosted sites."""
    model = problem.model
    sites = problem.sites
    out: list[str] = []
    if model.existing == "keep":
        dropped = np.flatnonzero(sites.existing & ~ev.open_mask)
        if dropped.size:
            out.append(
                f"existing sites must stay open but {dropped.size} are closed: "
                f"{', '.join(map(str, sites.ids[dropped[:10]]))}"
            )
    if model.max_new_sites is not None:
        limits = (
            {None: model.max_new_sites}
            if isinstance(model.max_new_sites, int)
            else dict(model.max_new_sites)
        )
        for ftype, p in limits.items():
            mask = ev.new_mask if ftype is None else ev.new_mask & (sites.facility_type == ftype)
            n = int(mask.sum())
            if n > p:
                out.append(
                    f"max_new_sites{'' if ftype is None else f'[{ftype}]'} = {p} but {n} new sites open"
                )
    if model.budget is not None and ev.total_cost > model.budget + 1e-6 * max(1.0, model.budget):
        out.append(f"budget {model.budget:,.2f} exceeded: plan costs {ev.total_cost:,.2f}")
    for ftype, sub in (model.budget_by_type or {}).items():
        spent = ev.cost_by_type.get(ftype, 0.0)
        if spent > sub + 1e-6 * max(1.0, sub):
            out.append(f"budget_by_type[{ftype}] {sub:,.2f} exceeded: {spent:,.2f}")
    if model.min_new_sites is not None:
        mins = (
            {None: model.min_new_sites}
            if isinstance(model.min_new_sites, int)
            else dict(model.min_new_sites)
        )
        for ftype, need in mins.items():
            mask = ev.new_mask if ftype is None else ev.new_mask & (sites.facility_type == ftype)
            if int(mask.sum()) < need:
                out.append(
                    f"min_new_sites{'' if ftype is None else f'[{ftype}]'} = {need} but {int(mask.sum())} new sites open"
                )
    if sites.host is not None:
        hosted_open = np.flatnonzero(ev.open_mask & (sites.host >= 0))
        orphan = hosted_open[~ev.open_mask[sites.host[hosted_open]]]
        if orphan.size:
            out.append(
                f"{orphan.size} hosted sites are open without their host: "
                f"{', '.join(map(str, sites.ids[orphan[:10]]))}"
            )
    return out


def _standard_violations(problem: CoverageProblem, ev: Evaluation) -> list[str]:
    """Mandatory standards, coverage shares and zone shares."""
    out: list[str] = []
    for r in ev.standards:
        s = r.coverage.standard
        if s.mandatory:
            missed = np.flatnonzero(r.coverage.applies & ~r.covered)
            if missed.size:
                out.append(
                    f"standard '{s.name}' must cover everyone but {missed.size} demand points are "
                    f"outside it: {', '.join(map(str, problem.demand.ids[missed[:10]]))}"
                )
        elif s.min_share is not None and r.share is not None and r.share < s.min_share - SHARE_TOL:
            out.append(f"standard '{s.name}': share {r.share:.6f} below min_share {s.min_share}")
        if s.zone_min_share is not None:
            for z, zc in r.by_zone.items():
                req = _zone_share(s, z)
                if req is not None and zc.share is not None and zc.share < req - SHARE_TOL:
                    out.append(f"standard '{s.name}' zone {z}: share {zc.share:.6f} below {req}")
    return out


def _zone_rule_violations(problem: CoverageProblem, ev: Evaluation) -> list[str]:
    """Zone rules: open sites per zone between the need (from raw residents) and the cap."""
    sites = problem.sites
    out: list[str] = []
    if sites.zone is None:
        return out
    for k, rule in enumerate(problem.model.zone_rules):
        mask = ev.open_mask & problem.type_mask(rule.facility_types)
        for z in problem.rule_zones(rule):
            n = int((mask & (sites.zone == z)).sum())
            need = _rule_need_raw(problem, rule, z)
            if n < need:
                out.append(f"zone_rules[{k}]: zone {z} has {n} open sites, needs {need}")
            cap = _rule_cap_raw(problem, rule, z)
            if cap is not None and n > cap:
                out.append(f"zone_rules[{k}]: zone {z} has {n} open sites, at most {cap}")
    return out


def _type_share_violations(problem: CoverageProblem, ev: Evaluation) -> list[str]:
    """Type shares (exact fractions) per zone or county."""
    sites = problem.sites
    out: list[str] = []
    for share in problem.model.type_shares:
        num = np.isin(sites.facility_type, share.facility_types) & ev.open_mask
        den = np.isin(sites.facility_type, share.of) & ev.open_mask
        zones = (
            ["county"]
            if share.scope == "county" or sites.zone is None
            else sorted(set(map(str, sites.zone)))
        )
        wanted = set(share.zone_kinds or [])
        kinds = None
        if share.zone_kinds is not None and problem.zones is not None:
            kinds = dict(
                zip(map(str, problem.zones.ids), map(str, problem.zones.kind), strict=True)
            )
        for z in zones:
            if kinds is not None and kinds.get(z, "") not in wanted:
                continue
            inz = np.ones(len(sites), bool) if z == "county" else sites.zone == z
            a, b_ = int((num & inz).sum()), int((den & inz).sum())
            if Fraction(a) < Fraction(str(share.min_share)) * b_:
                out.append(
                    f"type_shares[{share.name}] {z}: {a} of {b_} open sites, below "
                    f"{100 * share.min_share:g}%"
                )
    return out


def _keep_count_violations(problem: CoverageProblem, ev: Evaluation) -> list[str]:
    """Relocation keeps today's count of every existing type."""
    sites = problem.sites
    out: list[str] = []
    if problem.model.keep_existing_count:
        for t in sorted(set(sites.facility_type[sites.existing].tolist())):
            of_type = sites.facility_type == t
            have, need = int((ev.open_mask & of_type).sum()), int((sites.existing & of_type).sum())
            if have < need:
                out.append(f"keep_existing_count: {have} {t} sites open, fewer than today's {need}")
    return out


def _rule_need_raw(problem: CoverageProblem, rule: ZoneRule, zone: str) -> int:
    """The zone rule's site count recomputed from the raw demand (exact fractions), apart
    from ``CoverageProblem.rule_need`` which the model uses: the largest of ``min_sites``,
    ceil(per_10k x residents / 10,000) and ceil(residents / residents_per_site.max)."""
    need = rule.min_sites
    if problem.demand.zone is None:
        return need
    if rule.per_10k_residents is not None:
        density = Fraction(str(rule.per_10k_residents)) * _residents_raw(problem, zone) / 10_000
        need = max(need, math.ceil(density))
    if rule.residents_per_site is not None:
        band_max = Fraction(str(rule.residents_per_site.max))
        need = max(need, math.ceil(_residents_raw(problem, zone) / band_max))
    return need


def _rule_cap_raw(problem: CoverageProblem, rule: ZoneRule, zone: str) -> int | None:
    """The zone rule's cap from the raw demand (exact fractions), apart from
    ``CoverageProblem.rule_cap``: the smaller of ``max_sites`` (raised by ``large_zones``) and
    ceil(residents / residents_per_site.min); None without either."""
    caps: list[int] = []
    if rule.max_sites is not None:
        cap = rule.max_sites
        big = rule.large_zones
        if big is not None and _residents_raw(problem, zone) > Fraction(str(big.over_residents)):
            cap = max(cap, big.max_sites)
        caps.append(cap)
    if rule.residents_per_site is not None and problem.demand.zone is not None:
        band_min = Fraction(str(rule.residents_per_site.min))
        caps.append(math.ceil(_residents_raw(problem, zone) / band_min))
    return min(caps) if caps else None


def _residents_raw(problem: CoverageProblem, zone: str) -> Fraction:
    """Residents of a zone (footfall venues left out), summed exactly from the raw weights."""
    d = problem.demand
    if d.zone is None:
        return Fraction(0)
    venue = np.zeros(len(d), bool) if d.footfall is None else np.asarray(d.footfall, bool)
    keep = (np.asarray(d.zone).astype(str) == zone) & ~venue
    residents = Fraction(0)
    for w in np.asarray(d.weight, dtype=float)[keep]:
        residents += Fraction(float(w))
    return residents
