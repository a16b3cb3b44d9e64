r"""Tiered village-clinic network: open each site as at most one tier, assign every village.

With options :math:`o = (j, k, s)` (site :math:`j` as tier :math:`k`, standardised :math:`s`;
:mod:`.problem`), binary :math:`x_o`, and binary assignments :math:`a_{ij}` of village :math:`i`
(residents :math:`w_i`) to site :math:`j` over the admissible pairs :math:`A_{ij}` (options at
:math:`j` whose tier radius reaches :math:`i` and may serve a village of its size):

.. math::

    \min \sum_o c_o x_o \;\text{(min_cost)} \quad\text{or}\quad
        \max \sum_{ij} w_i a_{ij} \;\text{(max_coverage)} \\
    \text{s.t.}\quad & \textstyle\sum_{o \in O_j} x_o \le 1 \;(= 1 \text{ for existing clinics})
        && \text{(one tier per clinic)} \\
    & a_{ij} \le \textstyle\sum_{o \in A_{ij}} x_o && \text{(assigned to an adequate tier)} \\
    & \textstyle\sum_j a_{ij} = 1 \;(\le 1 \text{ under max_coverage}) && \text{(every village)} \\
    & \textstyle\sum_i w_i a_{ij} \le \sum_{o \in O_j} Q_{k(o)} x_o && \text{(tier capacity)} \\
    & \textstyle\sum_{o \,:\, k(o) = k,\ j(o) \in \zeta} x_o \ge m_k && \text{(tier minimum per township } \zeta) \\
    & q \textstyle\sum_{o \in S,\ s(o)} x_o - p \sum_{o \in S} x_o \ge 0 && \text{(standardised share } p/q) \\
    & \textstyle\sum_o c_o x_o \le B && \text{(budget)}

A successively inclusive hierarchy (Moore & ReVelle 1982; Tien, El-Tell & Simons 1983): every tier
gives the basic village service, higher tiers within a larger radius and for larger villages;
single-sourced capacitated assignment as in the capacitated facility location problem. The answer
is decoded, then re-checked by :mod:`.evaluate` on the raw data (costs from the tier table, times
from the raw table, shares as exact fractions), never by this module's arrays.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

import numpy as np
import scipy.sparse as sp

from ...certificate import Certificate
from ...diagnosis import diagnose
from ...errors import CheckError
from ...milp import MILP, ModelBuilder
from ...solvers import SolveOptions, SolveResult, Status, relative_gap, solve, solve_lexicographic
from .evaluate import TierPlan, check_tier_plan, compliance_rows, plan_cost
from .problem import TierOptions, TiersProblem, tier_options

__all__ = ["TiersSolution", "build_tiers_milp", "precheck_tiers", "solve_tiers"]

log = logging.getLogger(__name__)


@dataclass(frozen=True, eq=False)
class TiersSolution(Certificate):
    """A certified tier plan: status, the plan, its compliance rows, objective, bound, gap."""

    problem: TiersProblem
    status: Status
    plan: TierPlan | None = None
    compliance: list[dict[str, Any]] = field(default_factory=list)

    @property
    def sense(self) -> str:
        return "max" if self.problem.model.objective == "max_coverage" else "min"


@dataclass(frozen=True, eq=False)
class _Pairs:
    """The assignment columns: village ``i[p]`` to site ``j[p]``."""

    i: np.ndarray
    j: np.ndarray


def _pairs(options: TierOptions, n_sites: int) -> tuple[_Pairs, sp.csr_matrix]:
    """Village-site pairs some option admits, and the option -> pair link (pairs x options)."""
    adm = options.admissible.tocoo()
    site_of = options.site[adm.col]
    key = adm.row.astype(np.int64) * n_sites + site_of
    uniq, pair_of = np.unique(key, return_inverse=True)
    pairs = _Pairs(uniq // n_sites, uniq % n_sites)
    link = sp.csr_matrix(
        (np.ones(adm.col.size), (pair_of, adm.col)), shape=(uniq.size, options.site.size)
    )
    return pairs, link


def build_tiers_milp(
    problem: TiersProblem, options: TierOptions, *, elastic: bool = False
) -> tuple[MILP, _Pairs]:
    """The MILP of the module docstring; columns ``x`` (options) then ``a`` (pairs).

    ``elastic``: the rule rows (villages assigned, capacities, tier and smart minimums, the
    share, the budget) get priced slacks and the objective is their total: the infeasibility
    diagnosis of :mod:`optimizer.diagnosis`."""
    model, sites, demand = problem.model, problem.sites, problem.demand
    w = np.asarray(demand.weight, dtype=float)
    maximise = model.objective == "max_coverage" and not elastic
    pairs, link = _pairs(options, len(sites))
    b = ModelBuilder(
        f"village-tiers{'-elastic' if elastic else ''}",
        "max" if maximise else "min",
        elastic=elastic,
    )
    x = b.add_binary("x", options.site.size, cost=0.0 if maximise or elastic else options.cost)
    a = b.add_binary("a", pairs.i.size, cost=w[pairs.i] if maximise else 0.0)
    n_opt = options.site.size
    # one tier per site (existing clinics stay open)
    for name, mask, lo in (("one_tier", ~sites.existing, -np.inf), ("keep", sites.existing, 1.0)):
        site_ids = np.flatnonzero(mask)
        row_of = np.full(len(sites), -1)
        row_of[site_ids] = np.arange(site_ids.size)
        o = np.flatnonzero(row_of[options.site] >= 0)
        b.add_rows(name, site_ids.size, row_of[options.site[o]], x.start + o, 1.0, lo=lo, hi=1.0)
    # assignment link: a_p <= sum of admitting options
    lk = link.tocoo()
    b.add_rows(
        "link",
        pairs.i.size,
        np.r_[np.arange(pairs.i.size), lk.row],
        np.r_[a.index(), x.start + lk.col],
        np.r_[np.ones(pairs.i.size), -np.ones(lk.nnz)],
        hi=0.0,
    )
    served = np.flatnonzero(np.isin(np.arange(len(demand)), pairs.i))
    row_of_i = np.full(len(demand), -1)
    row_of_i[served] = np.arange(served.size)
    b.add_rows(
        "assign",
        served.size,
        row_of_i[pairs.i],
        a.index(),
        1.0,
        lo=-np.inf if model.objective == "max_coverage" else 1.0,
        hi=1.0,
        penalty=1.0,
    )
    b.labels["assign"] = [str(v) for v in demand.ids[served]]
    _capacity_rows(b, problem, options, pairs, x.start, a.start, w)
    _zone_tier_rows(b, problem, options, x.start)
    _smart_rows(b, problem, options, x.start)
    _share_rows(b, problem, options, x.start)
    if model.budget is not None:
        nz = np.flatnonzero(options.cost)
        b.add_row(
            "budget",
            x.start + nz,
            options.cost[nz],
            hi=float(model.budget),
            penalty=1.0 / max(float(model.budget), 1.0),
        )
    milp = b.build()
    log.info(
        "Built %s: %s (%d options, %d village-site pairs)",
        milp.name,
        milp.summary(),
        n_opt,
        pairs.i.size,
    )
    return milp, pairs


def _capacity_rows(
    b: ModelBuilder,
    problem: TiersProblem,
    options: TierOptions,
    pairs: _Pairs,
    x0: int,
    a0: int,
    w: np.ndarray,
) -> None:
    """``sum_i w_i a_ij <= sum_o Q_k(o) x_o`` per site, where some tier has a capacity."""
    tiers = problem.model.tiers
    if all(t.capacity is None for t in tiers):
        return
    total = float(w.sum()) + 1.0
    cap = np.asarray([t.capacity if t.capacity is not None else total for t in tiers])
    n = len(problem.sites)
    b.add_rows(
        "capacity",
        n,
        np.r_[pairs.j, options.site],
        np.r_[a0 + np.arange(pairs.i.size), x0 + np.arange(options.site.size)],
        np.r_[w[pairs.i], -cap[options.tier]],
        hi=0.0,
        penalty=1.0 / total,
    )
    b.labels["capacity"] = [str(v) for v in problem.sites.ids]


def _zone_tier_rows(b: ModelBuilder, problem: TiersProblem, options: TierOptions, x0: int) -> None:
    """At least ``min_per_zone`` clinics of each tier in every township."""
    sites = problem.sites
    if sites.zone is None:
        return
    site_zone = np.asarray(sites.zone).astype(str)
    for k, t in enumerate(problem.model.tiers):
        if t.min_per_zone <= 0:
            continue
        zones = problem.zone_ids()
        zi = {z: r for r, z in enumerate(zones)}
        o = np.flatnonzero(options.tier == k)
        rows = np.asarray([zi[z] for z in site_zone[options.site[o]]], dtype=np.int64)
        b.add_rows(
            f"min_per_zone[{t.name}]",
            len(zones),
            rows,
            x0 + o,
            1.0,
            lo=float(t.min_per_zone),
            penalty=1.0,
        )
        b.labels[f"min_per_zone[{t.name}]"] = zones


def _smart_rows(b: ModelBuilder, problem: TiersProblem, options: TierOptions, x0: int) -> None:
    """At least ``smart.min_per_zone`` smart clinics in every township."""
    smart, sites = problem.model.smart, problem.sites
    if smart is None or smart.min_per_zone <= 0 or sites.zone is None:
        return
    zones = problem.zone_ids()
    zi = {z: r for r, z in enumerate(zones)}
    site_zone = np.asarray(sites.zone).astype(str)
    o = np.flatnonzero(options.smart)
    rows = np.asarray([zi[z] for z in site_zone[options.site[o]]], dtype=np.int64)
    b.add_rows(
        "min_smart_per_zone",
        len(zones),
        rows,
        x0 + o,
        1.0,
        lo=float(smart.min_per_zone),
        penalty=1.0,
    )
    b.labels["min_smart_per_zone"] = zones


def _share_rows(b: ModelBuilder, problem: TiersProblem, options: TierOptions, x0: int) -> None:
    """``q * #standardised - p * #clinics >= 0`` (share p/q exact), county or per township."""
    model, sites = problem.model, problem.sites
    if model.min_standard_share is None:
        return
    frac = Fraction(str(model.min_standard_share))
    counted = np.asarray([t.in_standard_share for t in model.tiers])[options.tier]
    coef = frac.denominator * options.standard.astype(float) - frac.numerator
    o = np.flatnonzero(counted & (coef != 0))
    if model.standard_share_scope == "county" or sites.zone is None:
        b.add_rows(
            "standard_share",
            1,
            np.zeros(o.size, dtype=np.int64),
            x0 + o,
            coef[o],
            lo=0.0,
            penalty=1.0 / frac.denominator,
        )
        b.labels["standard_share"] = ["county"]
        return
    zones = problem.zone_ids()
    zi = {z: r for r, z in enumerate(zones)}
    site_zone = np.asarray(sites.zone).astype(str)
    rows = np.asarray([zi[z] for z in site_zone[options.site[o]]], dtype=np.int64)
    b.add_rows(
        "standard_share", len(zones), rows, x0 + o, coef[o], lo=0.0, penalty=1.0 / frac.denominator
    )
    b.labels["standard_share"] = zones


def precheck_tiers(problem: TiersProblem, options: TierOptions) -> list[str]:
    """Reasons no plan can exist, before solving: villages no tier can serve (min_cost), tier
    minimums in townships without such an option."""
    reasons: list[str] = []
    demand, sites, model = problem.demand, problem.sites, problem.model
    if model.objective == "min_cost":
        none = np.flatnonzero(np.diff(options.admissible.tocsr().indptr) == 0)
        if none.size:
            ids = ", ".join(map(str, demand.ids[none[:15]]))
            reasons.append(
                f"{none.size} villages have no site of any tier within that tier's radius and "
                f"village size: {ids}{' ...' if none.size > 15 else ''}. Add candidate sites, "
                "widen a tier's minutes or use objective: max_coverage with a budget."
            )
    if sites.zone is not None:
        site_zone = np.asarray(sites.zone).astype(str)
        for k, t in enumerate(model.tiers):
            if t.min_per_zone <= 0:
                continue
            have = dict.fromkeys(problem.zone_ids(), 0)
            for j in set(options.site[options.tier == k].tolist()):
                have[site_zone[j]] += 1
            short = [
                f"{z} ({n} of {t.min_per_zone})" for z, n in have.items() if n < t.min_per_zone
            ]
            if short:
                reasons.append(
                    f"tier {t.name}: too few sites that may be a {t.name} clinic (radius, distance "
                    f"to the township centre) in {len(short)} townships: {', '.join(short[:20])}"
                )
    smart = model.smart
    if smart is not None and smart.min_per_zone > 0 and sites.zone is not None:
        site_zone = np.asarray(sites.zone).astype(str)
        have = dict.fromkeys(problem.zone_ids(), 0)
        for j in set(options.site[options.smart].tolist()):
            have[site_zone[j]] += 1
        short = [
            f"{z} ({n} of {smart.min_per_zone})" for z, n in have.items() if n < smart.min_per_zone
        ]
        if short:
            reasons.append(
                f"smart clinics: too few sites that may be smart in {len(short)} townships: "
                f"{', '.join(short[:20])}"
            )
    return reasons


def _decode(
    problem: TiersProblem, options: TierOptions, pairs: _Pairs, milp: MILP, x: np.ndarray
) -> TierPlan:
    """The chosen option of each site and the site of each village."""
    model = problem.model
    n = len(problem.sites)
    tier: list[str | None] = [None] * n
    standard = np.zeros(n, dtype=bool)
    smart = np.zeros(n, dtype=bool)
    for o in np.flatnonzero(x[milp.var_blocks["x"].slice] > 0.5):
        j = int(options.site[o])
        tier[j] = model.tiers[int(options.tier[o])].name
        standard[j] = bool(options.standard[o])
        smart[j] = bool(options.smart[o])
    assigned = np.full(len(problem.demand), -1, dtype=np.int64)
    hit = np.flatnonzero(x[milp.var_blocks["a"].slice] > 0.5)
    assigned[pairs.i[hit]] = pairs.j[hit]
    return TierPlan(tier, standard, assigned, smart)


def tier_objective(problem: TiersProblem, plan: TierPlan) -> float:
    """The case's objective recomputed from the plan: cost, or residents assigned."""
    if problem.model.objective == "max_coverage":
        return float(problem.demand.weight[plan.assigned >= 0].sum())
    return plan_cost(problem, plan)


def solve_tiers(
    problem: TiersProblem, options: SolveOptions | None = None, *, backend: str = "highs"
) -> TiersSolution:
    """Build, solve and certify the tier model; raises :class:`CheckError` on a bad answer.

    Under ``max_coverage`` with ``secondary_objective: min_cost`` a second stage keeps the
    residents assigned and minimises the cost (lexicographic, as the covering models)."""
    options = options or SolveOptions()
    t0 = time.perf_counter()
    opts = tier_options(problem)
    reasons = precheck_tiers(problem, opts)
    if reasons:
        return TiersSolution(
            problem,
            Status.INFEASIBLE,
            diagnosis=reasons,
            total_time_s=time.perf_counter() - t0,
            message="infeasible: found before solving",
        )
    milp, pairs = build_tiers_milp(problem, opts)
    model = problem.model
    second: SolveResult | None = None
    if model.objective == "max_coverage" and model.secondary_objective == "min_cost":
        c2 = np.zeros(milp.n_cols)
        c2[milp.var_blocks["x"].slice] = opts.cost
        result, second = solve_lexicographic(milp, c2, 0.0, options, backend)
    else:
        result = solve(milp, options, backend)
    common: dict[str, Any] = {
        "runtime_s": result.runtime_s,
        "solver": result.solver,
        "solver_version": result.solver_version,
        "message": result.message,
        "model_size": {
            "rows": milp.n_rows,
            "columns": milp.n_cols,
            "nonzeros": milp.nnz,
            "integer_columns": milp.n_integer,
        },
        "time_limit_s": options.time_limit_s,
    }
    if not result.status.has_solution or result.x is None:
        diagnosis = []
        if result.status == Status.INFEASIBLE:
            elastic = build_tiers_milp(problem, opts, elastic=True)[0]
            diagnosis = diagnose(
                elastic,
                options,
                backend,
                _explain(elastic.labels),
                head="The tier rules conflict. The least relaxation that makes a plan exist is:",
                subject="case",
                nothing="- (no rule needs relaxing; check the numerical scaling of the case)",
            )
        return TiersSolution(
            problem,
            result.status,
            bound=result.bound,
            diagnosis=diagnosis,
            total_time_s=time.perf_counter() - t0,
            **common,
        )
    plan, raw, bound = _certify(problem, opts, pairs, milp, result, tier_objective)
    status, secondary = result.status, None
    if second is not None:
        plan2, secondary = _second_stage(problem, opts, pairs, milp, second, raw, plan)
        plan = plan2 or plan
        if secondary["status"] != Status.OPTIMAL.value:
            status = Status.FEASIBLE
    return TiersSolution(
        problem,
        status,
        plan,
        compliance_rows(problem, plan),
        objective=raw,
        bound=bound,
        gap=relative_gap(raw, bound),
        total_time_s=time.perf_counter() - t0,
        checked=True,
        secondary=secondary,
        **common,
    )


def _explain(labels_of: dict[str, list[str]]) -> Callable[[str, np.ndarray, np.ndarray], list[str]]:
    """Word each relaxed row block of the elastic tier model for a planner."""

    def explain(row: str, vals: np.ndarray, hit: np.ndarray) -> list[str]:
        labels = labels_of.get(row, [])
        names = [labels[k] if k < len(labels) else str(k) for k in hit]
        shown = ", ".join(names[:15]) + (" ..." if len(names) > 15 else "")
        if row == "assign":
            return [f"- {len(hit)} villages cannot be assigned to an adequate clinic: {shown}"]
        if row == "capacity":
            over = float(vals[hit].sum())
            return [f"- capacity: {over:,.0f} residents over the tier capacity at {shown}"]
        if row == "budget":
            return [f"- budget: {float(vals[hit].sum()):,.2f} yuan more would be needed"]
        if row.startswith("min_per_zone[") or row == "min_smart_per_zone":
            what = "smart clinics" if row == "min_smart_per_zone" else f"{row[13:-1]} clinics"
            return [f"- {what}: too few can open in {shown}"]
        if row == "standard_share":
            return [f"- the standardised share cannot be reached in {shown}"]
        return [f"- {row}: violated by {float(vals[hit].sum()):,.3g}"]

    return explain


def _certify(
    problem: TiersProblem,
    opts: TierOptions,
    pairs: _Pairs,
    milp: MILP,
    result: SolveResult,
    value: Callable[[TiersProblem, TierPlan], float],
    floor: tuple[Callable[[TiersProblem, TierPlan], float], float] | None = None,
) -> tuple[TierPlan, float, float]:
    """Decode, re-check on the raw data, compare the recomputed objective (``value``) with the
    solver's and its bound; ``floor``: a first-stage value the plan must keep. Raises
    :class:`CheckError` on any failure; returns the plan, its value and a valid bound."""
    assert result.x is not None
    plan = _decode(problem, opts, pairs, milp, result.x)
    raw = value(problem, plan)
    violations = check_tier_plan(problem, plan)
    # the stage's own objective: the MILP's, or the cost of the second stage
    c_abs = float(np.abs(opts.cost).sum()) if floor is not None else float(np.abs(milp.c).sum())
    tol = 1e-6 * (c_abs + abs(milp.c0)) + 1e-6
    solver_obj = result.objective
    if solver_obj is None:
        solver_obj = milp.objective_value(result.x) if floor is None else raw
    if result.status == Status.OPTIMAL and abs(raw - solver_obj) > tol:
        violations.append(f"objective mismatch: solver {solver_obj:,.6f}, raw data {raw:,.6f}")
    bound = result.bound
    maximise = milp.sense == "max" and floor is None
    if bound is not None and (raw > bound + tol if maximise else raw < bound - tol):
        violations.append(
            f"bound {bound:,.6f} is not a valid bound for the raw objective {raw:,.6f}"
        )
    if floor is not None and floor[0](problem, plan) < floor[1] - 1e-6:
        violations.append(f"second stage lost residents: {floor[0](problem, plan)} < {floor[1]}")
    if violations:
        raise CheckError(violations)
    return plan, raw, raw if bound is None else bound


def _second_stage(
    problem: TiersProblem,
    opts: TierOptions,
    pairs: _Pairs,
    milp: MILP,
    res: SolveResult,
    first: float,
    first_plan: TierPlan,
) -> tuple[TierPlan | None, dict[str, Any]]:
    """Certify the least-cost stage: the same residents assigned as the first, then least cost."""
    info: dict[str, Any] = {"objective": "min_cost", "status": res.status.value}
    if not res.status.has_solution or res.x is None:
        log.warning("Second stage (min_cost) found no plan (%s); keeping the first", res.status)
        return None, info
    plan, cost, bound = _certify(
        problem, opts, pairs, milp, res, plan_cost, floor=(tier_objective, first)
    )
    info |= {
        "value": cost,
        "bound": bound,
        "gap": relative_gap(cost, bound),
        "first_stage_value": plan_cost(problem, first_plan),
    }
    return plan, info
