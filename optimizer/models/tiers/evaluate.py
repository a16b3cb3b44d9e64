"""Re-check a tier plan on the raw data, apart from the MILP and its option arrays.

Costs come from the tier table and the sites file (not from :class:`~.problem.TierOptions`),
travel times from the raw long table, shares as exact fractions. Every norm is returned as a
compliance row with English and Chinese labels and its source.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

import numpy as np

from .problem import TiersProblem

__all__ = ["TierPlan", "check_tier_plan", "compliance_rows", "plan_cost"]


@dataclass(frozen=True, eq=False)
class TierPlan:
    """A plan: the tier (name or None = closed/not built) and standard flag of every site, and
    the site each village is assigned to (-1: none)."""

    tier: list[str | None]
    standard: np.ndarray
    assigned: np.ndarray
    smart: np.ndarray | None = None
    """Smart clinics (智慧村卫生室); None: none."""
    info: dict[str, Any] = field(default_factory=dict)

    def is_smart(self, j: int) -> bool:
        return self.smart is not None and bool(self.smart[j])


def _minutes(problem: TiersProblem) -> dict[tuple[int, int], float]:
    tt = problem.times
    return {
        (int(i), int(j)): float(v)
        for i, j, v in zip(tt.demand_index, tt.site_index, tt.value, strict=True)
    }


def plan_cost(problem: TiersProblem, plan: TierPlan) -> float:
    """Yuan: new clinics at their tier's build cost plus the site's own cost, upgrades at the
    tier's upgrade cost, existing clinics left as they are free."""
    model, sites = problem.model, problem.sites
    tiers = {t.name: t for t in model.tiers}
    total = 0.0
    smart_cost = model.smart.cost if model.smart is not None else 0.0
    for j, name in enumerate(plan.tier):
        if name is None:
            continue
        if sites.existing[j]:
            now = model.existing[str(sites.facility_type[j])]
            if name != now.tier or bool(plan.standard[j]) != now.standard:
                total += tiers[name].upgrade_cost
            if plan.is_smart(j) and not now.smart:
                total += smart_cost
        else:
            total += tiers[name].build_cost + (float(sites.cost[j]) if sites.has_cost else 0.0)
            total += smart_cost if plan.is_smart(j) else 0.0
    return total


def check_tier_plan(problem: TiersProblem, plan: TierPlan) -> list[str]:
    """Every rule of the case on the raw data; an empty list means the plan is valid."""
    out = _site_violations(problem, plan) + _assignment_violations(problem, plan)
    out += [
        f"{r['norm']} {r['zone']}: {r['achieved']} vs {r['required']}"
        for r in compliance_rows(problem, plan)
        if not r["met"]
    ]
    return out


def _site_violations(problem: TiersProblem, plan: TierPlan) -> list[str]:
    """Existing clinics open and never downgraded; new clinics standardised; tiers near their
    township centre where the tier asks for it."""
    model, sites = problem.model, problem.sites
    out: list[str] = []
    minutes = _minutes(problem)
    site_zone = None if sites.zone is None else np.asarray(sites.zone).astype(str)
    smart_tiers = set(model.smart.tiers) if model.smart is not None else set()
    for j, name in enumerate(plan.tier):
        sid = sites.ids[j]
        if plan.is_smart(j) and name not in smart_tiers:
            out.append(f"site {sid} is smart but its tier {name} may not be")
        if sites.existing[j]:
            now = model.existing[str(sites.facility_type[j])]
            if name is None:
                out.append(f"existing clinic {sid} is closed")
                continue
            if model.rank(name) > model.rank(now.tier):
                out.append(f"existing clinic {sid} downgraded from {now.tier} to {name}")
            if now.smart and name in smart_tiers and not plan.is_smart(j):
                out.append(f"smart clinic {sid} lost its smart equipment")
            changed = name != now.tier or bool(plan.standard[j]) != now.standard
            if changed and not plan.standard[j]:
                out.append(f"upgraded clinic {sid} is not standardised")
            if not changed:
                continue
        elif name is None:
            continue
        elif not plan.standard[j]:
            out.append(f"new clinic {sid} is not standardised")
        elif model.candidate_types is not None and (
            str(sites.facility_type[j]) not in model.candidate_types
        ):
            out.append(f"site {sid} ({sites.facility_type[j]}) is not a clinic candidate")
        limit = model.tiers[model.rank(name)].max_township_minutes
        if limit is not None:
            zone = "" if site_zone is None else site_zone[j]
            c = problem.centre_of(zone)
            t = None if c is None else minutes.get((c, j))
            if t is None or t > limit:
                out.append(
                    f"{name} clinic {sid} is {'unreachable' if t is None else f'{t:.2f} min'} "
                    f"from the centre of {zone}, more than {limit:g}"
                )
    return out


def _assignment_violations(problem: TiersProblem, plan: TierPlan) -> list[str]:
    """Each assignment within the tier's radius and village size; capacities; every village
    assigned under min_cost."""
    model, demand, sites = problem.model, problem.demand, problem.sites
    tiers = {t.name: t for t in model.tiers}
    minutes = _minutes(problem)
    out: list[str] = []
    load = np.zeros(len(sites))
    for i, j in enumerate(plan.assigned.tolist()):
        vid = demand.ids[i]
        if j < 0:
            if model.objective == "min_cost":
                out.append(f"village {vid} is not assigned to any clinic")
            continue
        name = plan.tier[j]
        if name is None:
            out.append(f"village {vid} is assigned to {sites.ids[j]}, which is not open")
            continue
        tier = tiers[name]
        t = minutes.get((i, j))
        if t is None or t > tier.minutes:
            out.append(
                f"village {vid} -> {sites.ids[j]} ({name}): "
                f"{'unreachable' if t is None else f'{t:.2f} min'} > {tier.minutes:g}"
            )
        w = float(demand.weight[i])
        if tier.max_village_residents is not None and w > tier.max_village_residents:
            out.append(f"village {vid} ({w:,.0f}) too large for {name} clinic {sites.ids[j]}")
        load[j] += w
    for j, name in enumerate(plan.tier):
        cap = None if name is None else tiers[name].capacity
        if cap is not None and load[j] > cap * (1 + 1e-9):
            out.append(f"{name} clinic {sites.ids[j]} serves {load[j]:,.0f} > capacity {cap:,.0f}")
    return out


def _open_counts(problem: TiersProblem, plan: TierPlan, zone: str | None) -> dict[str, int]:
    sites = problem.sites
    counts = {t.name: 0 for t in problem.model.tiers}
    for j, name in enumerate(plan.tier):
        if name is None:
            continue
        if zone is not None and (sites.zone is None or str(sites.zone[j]) != zone):
            continue
        counts[name] += 1
    return counts


def compliance_rows(problem: TiersProblem, plan: TierPlan) -> list[dict[str, Any]]:
    """The norms of the tier case, one row per scope: tier minimums per township, the
    standardised share, the budget and villages served (en and zh labels, with sources)."""
    model, demand = problem.model, problem.demand
    rows: list[dict[str, Any]] = []
    for t in model.tiers:
        if t.min_per_zone <= 0:
            continue
        zh = t.label_zh or t.name
        for z in problem.zone_ids():
            n = _open_counts(problem, plan, z)[t.name]
            rows.append(
                _row(
                    f"tiers.{t.name}.min_per_zone",
                    f">= {t.min_per_zone} {t.name} clinic(s) per township",
                    f"每个乡镇(街道)至少 {t.min_per_zone} 个{zh}",
                    "zone",
                    z,
                    t.min_per_zone,
                    n,
                    n >= t.min_per_zone,
                    t.source,
                    unit="sites",
                )
            )
    if model.smart is not None and model.smart.min_per_zone > 0:
        rows += _smart_rows(problem, plan)
    if model.min_standard_share is not None:
        rows += _share_rows(problem, plan)
    if model.budget is not None:
        cost = plan_cost(problem, plan)
        rows.append(
            _row(
                "budget",
                "total cost <= budget (yuan)",
                "总投入不超过预算(元)",
                "county",
                "",
                model.budget,
                round(cost, 2),
                cost <= model.budget * (1 + 1e-9) + 1e-6,
                None,
                comparison="<=",
                unit="yuan",
            )
        )
    served = float(demand.weight[plan.assigned >= 0].sum())
    total = float(demand.weight.sum())
    need = total if model.objective == "min_cost" else None
    rows.append(
        _row(
            "tiers.served",
            "residents assigned to a clinic of an adequate tier within its radius",
            "在对应层级服务半径内有村卫生室的居民",
            "county",
            "",
            need if need is not None else "-",
            served,
            served >= total - 1e-9 if need is not None else True,
            None,
            unit="residents",
        )
    )
    return rows


def _smart_rows(problem: TiersProblem, plan: TierPlan) -> list[dict[str, Any]]:
    """>= smart.min_per_zone smart clinics in every township."""
    smart, sites = problem.model.smart, problem.sites
    assert smart is not None
    rows = []
    for z in problem.zone_ids():
        n = sum(
            1
            for j, name in enumerate(plan.tier)
            if name is not None
            and plan.is_smart(j)
            and sites.zone is not None
            and str(sites.zone[j]) == z
        )
        rows.append(
            _row(
                "tiers.smart.min_per_zone",
                f">= {smart.min_per_zone} smart village clinic(s) per township",
                f"每个乡镇(街道)至少 {smart.min_per_zone} 个智慧村卫生室",
                "zone",
                z,
                smart.min_per_zone,
                n,
                n >= smart.min_per_zone,
                smart.source,
                unit="sites",
            )
        )
    return rows


def _share_rows(problem: TiersProblem, plan: TierPlan) -> list[dict[str, Any]]:
    """>= share of open clinics standardised (tiers in the share), county or per township."""
    model, sites = problem.model, problem.sites
    assert model.min_standard_share is not None
    counted = {t.name for t in model.tiers if t.in_standard_share}
    need = Fraction(str(model.min_standard_share))
    units: list[str | None] = [None]
    if model.standard_share_scope == "zone":
        units = list(problem.zone_ids())
    rows = []
    for z in units:
        a = b = 0
        for j, name in enumerate(plan.tier):
            if name not in counted:
                continue
            if z is not None and (sites.zone is None or str(sites.zone[j]) != z):
                continue
            b += 1
            a += int(bool(plan.standard[j]))
        rows.append(
            _row(
                "tiers.standardised",
                f">= {100 * model.min_standard_share:g}% of village clinics standardised",
                f"标准化村卫生室占比不低于 {100 * model.min_standard_share:g}%",
                "county" if z is None else "zone",
                z or "",
                float(model.min_standard_share),
                (a / b) if b else 1.0,
                Fraction(a) >= need * b,
                model.standard_share_source,
                counts=f"{a} of {b}",
                unit="share",
            )
        )
    return rows


def _row(
    norm: str,
    label: str,
    label_zh: str,
    scope: str,
    zone: str,
    required: Any,
    achieved: Any,
    met: bool,
    source: str | None,
    *,
    comparison: str = ">=",
    counts: str | None = None,
    unit: str = "",
) -> dict[str, Any]:
    row = {
        "norm": norm,
        "label": f"{label_zh} / {label}",
        "label_en": label,
        "label_zh": label_zh,
        "scope": scope,
        "zone": zone,
        "required": required,
        "achieved": achieved,
        "met": bool(met),
        "comparison": comparison,
        "unit": unit,
        "source": source or "",
    }
    if counts is not None:
        row["counts"] = counts
    return row
