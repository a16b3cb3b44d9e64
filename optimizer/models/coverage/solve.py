r"""Covering location models: LSCP, MCLP, budgeted MCLP, PSCLP, and their composition.

One integer program covers the whole family (MODELS.md §8.2, the coverage core plus blocks).
With free site columns :math:`y_j \in \{0,1\}` (sites not fixed open), merged demand groups
:math:`g` of weight :math:`w_g`, and for each active standard :math:`s` the covering sets
:math:`N_g^s = \{j : t_{gj} \le T_s(\text{class}_g)\}`:

.. math::

    \max / \min \quad & \sum_s \beta_s \sum_g w_g z_{gs}
        \;\text{(max_coverage)}, \quad \sum_{j \in P} c_j y_j + \sum_{j \in E} r_j (1 - y_j)
        \;\text{(min_cost)}, \quad \sum_{j \in P} y_j \;\text{(min_sites)} \\
    \text{s.t.}\quad & z_{gs} \le \textstyle\sum_{j \in N_g^s} y_j
        && \text{(coverage link; } z \in [0,1]\text{, integral at optimum)} \\
    & \textstyle\sum_{j \in N_g^s} y_j \ge 1 && \text{(mandatory standard, min_share = 1)} \\
    & \textstyle\sum_g w_g z_{gs} \ge \alpha_s W_s - W_s^{\text{kept}} && \text{(coverage share)} \\
    & \textstyle\sum_{g \in \zeta} w_g z_{gs} \ge \alpha_{s\zeta} W_{s\zeta} - W_{s\zeta}^{\text{kept}}
        && \text{(share in every zone } \zeta\text{)} \\
    & \textstyle\sum_{j \in P_k} y_j \le p_k && \text{(new sites per type)} \\
    & \textstyle\sum_{j \in P} c_j y_j + \sum_{j \in E} r_j (1 - y_j) \le B && \text{(budget)} \\
    & \textstyle\sum_{j \in \zeta, \text{type}(j) \in K} y_j \ge k && \text{(zone rule)} \\
    & \textstyle\sum_{j \,:\, \text{type } k} y_j \ge |E_k| && \text{(relocation keeps the count)}

``P`` are new candidates, ``E`` existing sites that may close with net closing cost
:math:`r_j` = removal cost - relocation credit (Church & ReVelle 1974 for (a)/(d); maxcovr's
relocation model for (e), after Chan et al.; Cordeau, Furini & Ljubić 2019 for budgeted MCLP and
PSCLP; Toregas et al. 1971 for LSCP). Existing sites kept open are constants: the groups they
cover leave the model and enter the objective as :math:`W^{\text{kept}}`.

Special cases: LSCP = one mandatory standard, ``min_sites``; MCLP = one weighted standard and
``max_new_sites``; budgeted MCLP = a budget instead; PSCLP = ``min_cost`` with ``min_share``;
MCLP with mandatory closeness = a weighted 15-minute standard plus a mandatory 20-minute one.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from fractions import Fraction

import numpy as np

from ...certificate import Certificate
from ...errors import CaseError, CheckError, Problem
from ...milp import MILP, ModelBuilder
from ...solvers import SolveOptions, SolveResult, Status, relative_gap, solve, solve_lexicographic
from .build import warm_start_vector
from .evaluate import Evaluation, check_plan, evaluate_plan
from .problem import (
    CoverageProblem,
    ReducedCoverage,
    StandardCoverage,
    _zone_share,
    coverage_sets,
    precheck,
    reduce,
)

__all__ = ["CoverageSolution", "build_coverage_milp", "solve_coverage"]

log = logging.getLogger(__name__)


@dataclass(frozen=True, eq=False)
class CoverageSolution(Certificate):
    """A certified answer: status, plan, objective recomputed on raw data, bound and gap."""

    problem: CoverageProblem
    status: Status
    coverages: list[StandardCoverage]
    open_mask: np.ndarray | None = None
    evaluation: Evaluation | None = None
    solver_objective: float | None = None
    dominated_by: dict[int, int] = field(default_factory=dict)
    """Presolve: site index -> index of a candidate that dominates it (coverage and cost)."""
    method: str = "compact"
    """How the model was solved: ``compact`` (one MILP) or ``benders`` (decomposition)."""
    method_reason: str = ""
    """Why that method: the case's setting, or what ``auto`` measured and concluded."""
    benders: dict[str, object] | None = None
    """Benders rounds, cuts and cells (only with ``method == "benders"``)."""
    warm_start: str | None = None
    """Where the solver's starting plan came from: ``given`` (e.g. a sweep neighbour),
    ``greedy``, or None."""
    timings_s: dict[str, float] = field(default_factory=dict)
    """Wall-clock seconds per stage of :func:`solve_coverage`, in pipeline order: ``coverage``,
    ``precheck``, ``presolve`` (aggregation + dominance), ``milp`` (building the matrix),
    ``load`` (handing it to the solver; only for backends that time it), ``solve`` (the solver's
    run), ``read`` (the rest of the solver call: reading the answer back, and loading when the
    backend does not time it), ``certify`` (decode, evaluate on raw data, check). Stages not
    reached are absent."""

    @property
    def sense(self) -> str:
        return "max" if self.problem.model.resolved_objective == "max_coverage" else "min"

    def open_ids(self, facility_type: str | None = None) -> list[str]:
        if self.open_mask is None:
            return []
        mask = self.open_mask.copy()
        if facility_type is not None:
            mask &= self.problem.sites.facility_type == facility_type
        return sorted(map(str, self.problem.sites.ids[mask]))


# ---------------------------------------------------------------------------------------------
# Model building
# ---------------------------------------------------------------------------------------------
class _Rows:
    """Row blocks with optional elastic slacks (for the infeasibility diagnosis)."""

    def __init__(self, b: ModelBuilder, elastic: bool) -> None:
        self.b = b
        self.elastic = elastic
        self.slack_info: dict[str, tuple[str, np.ndarray]] = {}

    def add(
        self,
        name: str,
        n: int,
        rows: np.ndarray,
        cols: np.ndarray,
        vals: np.ndarray | float,
        *,
        lo: float | np.ndarray = -np.inf,
        hi: float | np.ndarray = np.inf,
        penalty: float | np.ndarray = 1.0,
    ) -> None:
        if n == 0:
            return
        rows = np.asarray(rows, dtype=np.int64)
        cols = np.asarray(cols, dtype=np.int64)
        vals = np.broadcast_to(np.asarray(vals, dtype=float), rows.shape)
        if self.elastic:
            lo_arr = np.broadcast_to(np.asarray(lo, dtype=float), (n,))
            sign = np.where(np.isfinite(lo_arr), 1.0, -1.0)
            slack = self.b.add_vars(f"slack:{name}", n, lb=0.0, cost=penalty)
            rows = np.concatenate([rows, np.arange(n)])
            cols = np.concatenate([cols, slack.index()])
            vals = np.concatenate([vals, sign])
            self.slack_info[name] = (f"slack:{name}", np.arange(n))
        self.b.add_rows(name, n, rows, cols, vals, lo=lo, hi=hi)


def site_objective(
    problem: CoverageProblem, reduced: ReducedCoverage, kind: str
) -> tuple[np.ndarray, float]:
    """Coefficients on the site columns and constant of ``min_cost`` or ``min_sites``.

    Cost = capex of new sites opened + net closing cost (removal - credit) of existing sites
    closed; as a linear form in ``y``: ``c_j y_j`` for new sites, ``-r_j y_j + r_j`` for existing.
    """
    sites = problem.sites
    F = reduced.free_sites
    is_new = ~sites.existing[F]
    if kind == "min_sites":
        return is_new.astype(float), 0.0
    net_close = sites.closure_cost()[F]
    return np.where(is_new, sites.cost[F], -net_close), float(net_close[~is_new].sum())


def build_coverage_milp(
    problem: CoverageProblem, reduced: ReducedCoverage, *, elastic: bool = False
) -> MILP:
    """The covering MILP of the module docstring on the reduced (presolved) problem.

    With ``elastic=True`` every constraint gets a penalised slack and the objective minimises
    the normalised total violation: the answer shows one cheapest way to make a case feasible.
    """
    model = problem.model
    sites = problem.sites
    F = reduced.free_sites
    is_new = ~sites.existing[F]
    cost = sites.cost[F]
    net_close = sites.closure_cost()[F]
    objective = model.resolved_objective
    sense = "min" if elastic or objective != "max_coverage" else "max"
    b = ModelBuilder(f"coverage-{model.kind}{'-elastic' if elastic else ''}", sense)  # type: ignore[arg-type]
    rows = _Rows(b, elastic)

    ycost: float | np.ndarray = 0.0
    if not elastic and objective in ("min_cost", "min_sites"):
        ycost, const = site_objective(problem, reduced, objective)
        b.c0 += const
    y = b.add_binary("y", F.size, cost=ycost)

    gw = reduced.group_weight
    w_total = max(float(gw.sum()), 1.0)
    for rs in reduced.standards:
        s = rs.standard
        name = s.name
        applies = rs.applies
        live = applies & ~rs.const
        W_s = float(gw[applies].sum())
        kept = float(gw[applies & rs.const].sum())
        mat = rs.matrix
        if s.mandatory:
            idx = np.flatnonzero(live)
            sub = mat[idx]
            r = np.repeat(np.arange(idx.size), np.diff(sub.indptr))
            rows.add(
                f"cover[{name}]",
                idx.size,
                r,
                y.start + sub.indices,
                1.0,
                lo=1.0,
                penalty=np.maximum(gw[idx], 1.0) / w_total,
            )
            if objective == "max_coverage" and not elastic:
                b.c0 += s.weight * W_s
            continue
        coverable = live & (np.diff(mat.indptr) > 0)
        idx = np.flatnonzero(coverable)
        zcost = s.weight * gw[idx] if (objective == "max_coverage" and not elastic) else 0.0
        z = b.add_vars(f"z[{name}]", idx.size, lb=0.0, ub=1.0, cost=zcost)
        sub = mat[idx]
        nnz_per = np.diff(sub.indptr)
        r = np.concatenate([np.arange(idx.size), np.repeat(np.arange(idx.size), nnz_per)])
        c = np.concatenate([z.index(), y.start + sub.indices])
        v = np.concatenate([np.ones(idx.size), -np.ones(sub.nnz)])
        b.add_rows(f"link[{name}]", idx.size, r, c, v, hi=0.0)
        if objective == "max_coverage" and not elastic:
            b.c0 += s.weight * kept
        if s.min_share is not None:
            rhs = s.min_share * W_s - kept
            if rhs > 1e-9:
                rows.add(
                    f"share[{name}]",
                    1,
                    np.zeros(idx.size),
                    z.index(),
                    gw[idx],
                    lo=rhs,
                    penalty=1.0 / w_total,
                )
        if s.zone_min_share is not None and reduced.group_zone is not None:
            zone_of = reduced.group_zone
            zr: list[np.ndarray] = []
            zc: list[np.ndarray] = []
            zv: list[np.ndarray] = []
            zlo: list[float] = []
            znames: list[str] = []
            for zone in sorted(set(map(str, zone_of[applies]))):
                req = _zone_share(s, zone)
                if req is None:
                    continue
                in_zone = applies & (zone_of == zone)
                rhs = req * float(gw[in_zone].sum()) - float(gw[in_zone & rs.const].sum())
                if rhs <= 1e-9:
                    continue
                members = np.flatnonzero(zone_of[idx] == zone)
                zr.append(np.full(members.size, len(zlo)))
                zc.append(z.start + members)
                zv.append(gw[idx][members])
                zlo.append(rhs)
                znames.append(zone)
            if zlo:
                rows.add(
                    f"zone_share[{name}]",
                    len(zlo),
                    np.concatenate(zr),
                    np.concatenate(zc),
                    np.concatenate(zv),
                    lo=np.asarray(zlo),
                    penalty=1.0 / w_total,
                )
                b.labels[f"zone_share[{name}]"] = znames

    # New sites per type.
    if model.max_new_sites is not None:
        limits = (
            {None: model.max_new_sites}
            if isinstance(model.max_new_sites, int)
            else dict(model.max_new_sites)
        )
        for ftype, p in limits.items():
            mask = is_new if ftype is None else is_new & (sites.facility_type[F] == ftype)
            cols = y.start + np.flatnonzero(mask)
            label = "max_new_sites" if ftype is None else f"max_new_sites[{ftype}]"
            rows.add(
                label,
                1,
                np.zeros(cols.size),
                cols,
                1.0,
                hi=float(p),
                penalty=1.0 / max(float(p), 1.0),
            )

    if model.min_new_sites is not None:
        mins = (
            {None: model.min_new_sites}
            if isinstance(model.min_new_sites, int)
            else dict(model.min_new_sites)
        )
        for ftype, need in mins.items():
            mask = is_new if ftype is None else is_new & (sites.facility_type[F] == ftype)
            cols = y.start + np.flatnonzero(mask)
            label = "min_new_sites" if ftype is None else f"min_new_sites[{ftype}]"
            rows.add(
                label,
                1,
                np.zeros(cols.size),
                cols,
                1.0,
                lo=float(need),
                penalty=1.0 / max(float(need), 1.0),
            )

    # Hosted sites (an AED inside a clinic or station) open only with their host.
    if sites.host is not None:
        col_of = np.full(len(sites), -1, dtype=np.int64)
        col_of[F] = np.arange(F.size)
        hosted = np.flatnonzero(sites.host[F] >= 0)
        host_site = sites.host[F][hosted]
        host_fixed = reduced.fixed_open[host_site]
        linked = hosted[~host_fixed]
        host_col = col_of[sites.host[F][linked]]
        if np.any(host_col < 0):  # the host can never open: neither can the hosted site
            never = linked[host_col < 0]
            b.add_rows(
                "host_closed", never.size, np.arange(never.size), y.start + never, 1.0, hi=0.0
            )
            linked, host_col = linked[host_col >= 0], host_col[host_col >= 0]
        if linked.size:
            ar = np.arange(linked.size)
            b.add_rows(
                "host",
                linked.size,
                np.r_[ar, ar],
                np.r_[y.start + linked, y.start + host_col],
                np.r_[np.ones(linked.size), -np.ones(linked.size)],
                hi=0.0,
            )

    # Budget: new sites' cost plus the net cost of closing existing ones.
    if model.budget is not None:
        coef = np.where(is_new, cost, -net_close)
        rhs = float(model.budget) - float(net_close[~is_new].sum())
        nz = np.flatnonzero(coef)
        rows.add(
            "budget",
            1,
            np.zeros(nz.size),
            y.start + nz,
            coef[nz],
            hi=rhs,
            penalty=1.0 / max(float(model.budget), 1.0),
        )

    if model.budget_by_type is not None:
        coef_all = np.where(is_new, cost, -net_close)
        for ftype, sub_budget in sorted(model.budget_by_type.items()):
            of_t = sites.facility_type[F] == ftype
            nz = np.flatnonzero(of_t & (coef_all != 0))
            rhs = float(sub_budget) - float(net_close[~is_new & of_t].sum())
            rows.add(
                f"budget[{ftype}]",
                1,
                np.zeros(nz.size),
                y.start + nz,
                coef_all[nz],
                hi=rhs,
                penalty=1.0 / max(float(sub_budget), 1.0),
            )

    # Zone rules: at least k open sites of the types in each selected zone.
    if sites.zone is not None:
        fixed = reduced.fixed_open
        for k, rule in enumerate(model.zone_rules):
            tmask = problem.type_mask(rule.facility_types)
            zr, zc, zlo, znames = [], [], [], []
            cr: list[np.ndarray] = []
            cc: list[np.ndarray] = []
            chi: list[float] = []
            cnames: list[str] = []
            for zone in problem.rule_zones(rule):
                n_fixed = int((fixed & tmask & (sites.zone == zone)).sum())
                cap = problem.rule_cap(rule, zone)
                if cap is not None:
                    members = np.flatnonzero(tmask[F] & (sites.zone[F] == zone))
                    cr.append(np.full(members.size, len(chi)))
                    cc.append(y.start + members)
                    chi.append(float(cap - n_fixed))
                    cnames.append(zone)
                need = problem.rule_need(rule, zone) - n_fixed
                if need <= 0:
                    continue
                members = np.flatnonzero(tmask[F] & (sites.zone[F] == zone))
                zr.append(np.full(members.size, len(zlo)))
                zc.append(y.start + members)
                zlo.append(float(need))
                znames.append(zone)
            if zlo:
                rows.add(
                    f"zone_rule[{k}]",
                    len(zlo),
                    np.concatenate(zr),
                    np.concatenate(zc),
                    1.0,
                    lo=np.asarray(zlo),
                    penalty=1.0 / max(len(zlo), 1),
                )
                b.labels[f"zone_rule[{k}]"] = znames
            if chi:
                rows.add(
                    f"zone_rule_max[{k}]",
                    len(chi),
                    np.concatenate(cr),
                    np.concatenate(cc),
                    1.0,
                    hi=np.asarray(chi),
                    penalty=1.0 / max(len(chi), 1),
                )
                b.labels[f"zone_rule_max[{k}]"] = cnames

    # Type shares: q * #open(num) - p * #open(of) >= 0 per unit (share p/q exact), fixed sites
    # moved to the right-hand side.
    for share in model.type_shares:
        frac = Fraction(str(share.min_share))
        p_, q_ = frac.numerator, frac.denominator
        num = np.isin(sites.facility_type, share.facility_types)
        den = np.isin(sites.facility_type, share.of)
        coef_all = q_ * num.astype(float) - p_ * den.astype(float)
        names: list[str] = []
        tr: list[np.ndarray] = []
        tc: list[np.ndarray] = []
        tv: list[np.ndarray] = []
        tlo: list[float] = []
        for unit, mask in problem.share_units(share):
            fixed_value = float(coef_all[reduced.fixed_open & mask].sum())
            cols = np.flatnonzero(mask[F] & (coef_all[F] != 0))
            tr.append(np.full(cols.size, len(tlo)))
            tc.append(y.start + cols)
            tv.append(coef_all[F][cols])
            tlo.append(-fixed_value)
            names.append(unit)
        if tlo:
            rows.add(
                f"type_share[{share.name}]",
                len(tlo),
                np.concatenate(tr),
                np.concatenate(tc),
                np.concatenate(tv),
                lo=np.asarray(tlo),
                penalty=1.0 / q_,
            )
            b.labels[f"type_share[{share.name}]"] = names

    if model.keep_existing_count:
        for t in sorted(set(sites.facility_type[sites.existing].tolist())):
            of_type = sites.facility_type == t
            need = int((sites.existing & of_type).sum()) - int((reduced.fixed_open & of_type).sum())
            if need <= 0:
                continue
            cols = y.start + np.flatnonzero(sites.facility_type[F] == t)
            rows.add(f"keep_count[{t}]", 1, np.zeros(cols.size), cols, 1.0, lo=float(need))

    milp = b.build()
    log.info("Built %s: %s", milp.name, milp.summary())
    return milp


# ---------------------------------------------------------------------------------------------
# Solve, decode, certify
# ---------------------------------------------------------------------------------------------
def _decode(reduced: ReducedCoverage, milp: MILP, x: np.ndarray) -> np.ndarray:
    y = x[milp.var_blocks["y"].slice] > 0.5
    open_mask = reduced.fixed_open.copy()
    open_mask[reduced.free_sites[y]] = True
    return open_mask


def _objective_tolerance(milp: MILP) -> float:
    # Integrality and feasibility tolerances are ~1e-6 per variable: scale by the objective's size.
    return 1e-6 * (float(np.abs(milp.c).sum()) + abs(milp.c0)) + 1e-6


class _Laps:
    """Record the wall-clock time since the previous lap under a stage name."""

    def __init__(self, timings: dict[str, float]) -> None:
        self.timings = timings
        self.t = time.perf_counter()

    def split(self) -> float:
        now = time.perf_counter()
        elapsed, self.t = now - self.t, now
        return elapsed

    def __call__(self, stage: str) -> None:
        self.timings[stage] = self.split()


def solve_coverage(
    problem: CoverageProblem,
    options: SolveOptions | None = None,
    *,
    backend: str = "highs",
    aggregate: bool = True,
    drop_dominated: bool = True,
    warm_open: np.ndarray | None = None,
    method: str = "compact",
    greedy: bool | None = None,
    benders_cells: int | None = None,
) -> CoverageSolution:
    """Build, solve and certify a covering model. Raises :class:`CheckError` on a bad answer.

    ``warm_open`` (a mask of open sites, e.g. the neighbouring point of a sweep) is offered to
    the solver as a starting plan; the solver checks it and ignores it if it is infeasible.
    Without one, ``greedy`` builds one (:mod:`optimizer.models.coverage.greedy`); by default (None) only for
    Benders, which starts from it: HiGHS on the compact model was not faster with it
    (benchmarks/README.md). ``method`` is ``compact``
    (one MILP), ``benders`` (:mod:`optimizer.models.coverage.benders`; refuses cases it does not support) or
    ``auto`` (Benders when the coverage part of the compact model is large, see
    :func:`choose_method`). Either way the answer is certified the same way.
    """
    options = options or SolveOptions()
    t_start = time.perf_counter()
    timings: dict[str, float] = {}
    lap = _Laps(timings)
    coverages = coverage_sets(problem)
    lap("coverage")
    reasons = precheck(problem, coverages)
    lap("precheck")
    if reasons:
        log.warning("Case is infeasible before solving: %d reasons", len(reasons))
        return CoverageSolution(
            problem,
            Status.INFEASIBLE,
            coverages,
            diagnosis=reasons,
            total_time_s=time.perf_counter() - t_start,
            message="infeasible: found before solving",
            timings_s=timings,
        )
    reduced = reduce(problem, coverages, aggregate=aggregate, drop_dominated=drop_dominated)
    lap("presolve")
    milp = build_coverage_milp(problem, reduced)
    lap("milp")
    chosen, reason = decide_method(problem, reduced, method, backend)
    log.info("Method %s", reason)
    warm_from = "given" if warm_open is not None else None
    if greedy is None:
        greedy = chosen in ("benders", "bbc")
    if warm_open is None and greedy:
        from .greedy import greedy_plan

        warm_open = greedy_plan(problem, reduced, milp)
        warm_from = "greedy" if warm_open is not None else None
        lap("greedy")
    if warm_open is not None and chosen == "compact":
        options = replace(options, warm_start=warm_start_vector(milp, reduced, warm_open))
    kind = problem.model.secondary_objective
    second: SolveResult | None = None
    stage2: MILP | None = None
    benders_info: dict[str, object] | None = None
    if chosen == "bbc":
        from .bbc import solve_coverage_bbc

        warm = None if warm_open is None else warm_start_vector(milp, reduced, warm_open)
        result, bbc_info = solve_coverage_bbc(
            problem,
            reduced,
            milp,
            options,
            warm=warm,
            n_cells=benders_cells or default_cells(reduced),
        )
        benders_info = dict(bbc_info)
    elif chosen == "benders":
        from .benders import solve_benders

        result, binfo = solve_benders(
            problem,
            reduced,
            milp,
            options,
            backend,
            warm_open=warm_open,
            n_cells=benders_cells or default_cells(reduced),
        )
        benders_info = binfo.as_dict()
    elif kind == "none":
        result = solve(milp, options, backend)
    else:
        coef, const = site_objective(problem, reduced, kind)
        c2 = np.zeros(milp.n_cols)
        c2[milp.var_blocks["y"].slice] = coef
        stage2 = replace(milp, name=f"{milp.name}-{kind}", sense="min", c=c2, c0=const)
        result, second = solve_lexicographic(milp, c2, const, options, backend)
    solver_wall = lap.split()
    load = result.load_time_s if result.load_time_s is not None else 0.0
    if result.load_time_s is not None:
        timings["load"] = load
    timings["solve"] = result.runtime_s
    timings["read"] = max(solver_wall - load - result.runtime_s, 0.0)
    size = {
        "rows": milp.n_rows,
        "columns": milp.n_cols,
        "nonzeros": milp.nnz,
        "integer_columns": milp.n_integer,
    }
    common = {
        "runtime_s": result.runtime_s,
        "solver": result.solver,
        "solver_version": result.solver_version,
        "message": result.message,
        "model_size": size,
        "presolve": reduced.stats,
        "dominated_by": reduced.dominated_by,
        "timings_s": timings,
        "method": chosen,
        "method_reason": reason,
        "benders": benders_info,
        "warm_start": warm_from,
    }
    if not result.status.has_solution or result.x is None:
        diagnosis: list[str] = []
        if result.status == Status.INFEASIBLE:
            diagnosis = diagnose_infeasibility(problem, reduced, options, backend)
        return CoverageSolution(
            problem,
            result.status,
            coverages,
            bound=result.bound,
            diagnosis=diagnosis,
            total_time_s=time.perf_counter() - t_start,
            **common,  # type: ignore[arg-type]
        )

    open_mask, ev, solver_obj, bound = _certify(
        problem, coverages, reduced, milp, result, lambda e: e.objective
    )
    status = result.status
    secondary: dict[str, object] | None = None
    if second is not None and stage2 is not None:
        open2, ev2, secondary = _second_stage(problem, coverages, reduced, stage2, second, ev, kind)
        if open2 is not None and ev2 is not None:
            open_mask, ev = open2, ev2
        if secondary["status"] != Status.OPTIMAL.value:
            status = Status.FEASIBLE
    gap = relative_gap(ev.objective, bound) if bound is not None else None
    lap("certify")
    log.info(
        "Checked plan on raw data: %d open sites, objective %s, gap %s",
        int(open_mask.sum()),
        f"{ev.objective:,.6g}",
        "-" if gap is None else f"{100 * gap:.4f}%",
    )
    return CoverageSolution(
        problem,
        status,
        coverages,
        open_mask=open_mask,
        evaluation=ev,
        objective=ev.objective,
        solver_objective=solver_obj,
        bound=bound,
        gap=gap,
        total_time_s=time.perf_counter() - t_start,
        checked=True,
        secondary=secondary,
        **common,  # type: ignore[arg-type]
    )


AUTO_BENDERS_PAIRS = 20_000_000
"""``method: auto`` picks Benders when the compact model would have at least this many
(demand group, site) pairs in its coverage rows (after aggregation and dominance)."""

AUTO_BBC_PAIRS = 50_000
"""``method: auto`` picks branch-and-Benders-cut (SCIP) for a covering model with at least this
many pairs (and dense coverage, :data:`AUTO_BBC_MEAN_SITES`), when PySCIPOpt is installed;
below it every method takes a moment."""

AUTO_BBC_MEAN_SITES = 20.0
"""... and with at least this many candidate sites within reach of a demand group on average.
Measured (benchmarks/covering.py, clustered-town counties): with 28-61 sites per group bbc beat
the compact model in HiGHS 4-45x (10,000 x 500: 1.5-1.6 s against 30-71 s; 10^5 x 10^4:
17 s); with 13 (20,000 x 1,000, T = 6 min) it stopped at 0.15% after 120 s where HiGHS proved
the optimum in 10 s; the default case's clinic block (9 per group) also went to HiGHS."""


def coverage_pairs(reduced: ReducedCoverage, *, projected_only: bool = False) -> int:
    """Nonzeros of the compact model's coverage rows: groups x mean covering sites
    (``projected_only``: only the rows Benders projects out, not mandatory cover rows)."""
    total = 0
    for rs in reduced.standards:
        if projected_only and rs.standard.mandatory:
            continue
        live = rs.applies & ~rs.const
        total += int(np.diff(rs.matrix.indptr)[live].sum())
    return total


def coverage_rows(reduced: ReducedCoverage, *, projected_only: bool = False) -> int:
    """Coverage rows of the compact model: live demand groups that some free site reaches
    (``projected_only``: only those of standards with coverage variables, not mandatory ones)."""
    total = 0
    for rs in reduced.standards:
        if projected_only and rs.standard.mandatory:
            continue
        live = rs.applies & ~rs.const
        total += int((np.diff(rs.matrix.indptr)[live] > 0).sum())
    return total


def default_cells(reduced: ReducedCoverage) -> int:
    """Benders cells per standard: about one per 200 demand groups, 16 to 256 (multi-cut: one
    theta for all demand needed far more master rounds in the benchmarks)."""
    return max(16, min(256, reduced.n_groups // 200))


def choose_method(
    problem: CoverageProblem, reduced: ReducedCoverage, method: str, backend: str
) -> str:
    """``compact`` or ``benders`` for ``method`` in compact / benders / auto."""
    return decide_method(problem, reduced, method, backend)[0]


def decide_method(
    problem: CoverageProblem, reduced: ReducedCoverage, method: str, backend: str
) -> tuple[str, str]:
    """The method to run and why, for ``method`` in compact / benders / auto.

    ``auto`` measures the presolved model: the (demand group, site) pairs its coverage rows
    would hold. Below :data:`AUTO_BENDERS_PAIRS` the compact model wins every measured instance
    (benchmarks/README.md: up to 10^5 x 10^4); above it the compact model's memory grows with
    the pairs while Benders keeps only the master and one cell at a time.
    """
    if method == "bbc":
        from .bbc import bbc_unsupported

        why = bbc_unsupported(problem)
        if why:
            raise CaseError(
                [
                    Problem(
                        "solver.method: bbc",
                        "branch-and-Benders-cut does not support " + "; ".join(why),
                        fix="use solver.method: compact (or auto) for this case",
                    )
                ]
            )
    if method in ("compact", "benders", "bbc"):
        return method, f"solver.method: {method} (set in the case)"
    if method != "auto":
        raise ValueError(
            f"solver.method: unknown method {method!r}; use compact, benders, bbc or auto"
        )
    from .bbc import bbc_unsupported
    from .benders import benders_unsupported

    pairs = coverage_pairs(reduced)
    size = (
        f"{pairs:,} (demand group, site) pairs in {reduced.n_groups:,} groups x "
        f"{reduced.free_sites.size:,} site columns"
    )
    no_bbc = bbc_unsupported(problem)
    if backend not in ("highs", "scip"):
        no_bbc.append(f"solver.backend: {backend} (it runs in SCIP; the case asks for {backend})")
    projected = coverage_pairs(reduced, projected_only=True)
    mean = projected / max(coverage_rows(reduced, projected_only=True), 1)
    size += (
        f"; {projected:,} of them in coverage rows Benders would project out, "
        f"{mean:.1f} sites per group on average"
    )
    dense = projected >= AUTO_BBC_PAIRS and mean >= AUTO_BBC_MEAN_SITES
    if not no_bbc and dense:
        return "bbc", (
            f"auto: bbc (branch-and-Benders-cut in SCIP), {size}: >= {AUTO_BBC_PAIRS:,} pairs "
            f"and >= {AUTO_BBC_MEAN_SITES:g} sites per group, where it beat the compact model "
            "in benchmarks/covering.py"
        )
    if not no_bbc:
        no_bbc.append(
            f"models below {AUTO_BBC_PAIRS:,} pairs or {AUTO_BBC_MEAN_SITES:g} sites per group, "
            "where the compact model was as fast or faster"
        )
    why_not = benders_unsupported(problem, backend)
    if why_not:
        return "compact", f"auto: compact, as Benders cannot take {'; '.join(why_not)} ({size})"
    if pairs >= AUTO_BENDERS_PAIRS:
        return "benders", (
            f"auto: benders, {size} >= {AUTO_BENDERS_PAIRS:,}: the compact model would be too "
            "large to hold" + (f" (bbc cannot take {'; '.join(no_bbc)})" if no_bbc else "")
        )
    return "compact", (
        f"auto: compact, {size}; fewer than {AUTO_BENDERS_PAIRS:,} pairs for benders, and bbc "
        f"is not for {'; '.join(no_bbc)}"
    )


def _certify(
    problem: CoverageProblem,
    coverages: list[StandardCoverage],
    reduced: ReducedCoverage,
    milp: MILP,
    result: SolveResult,
    value: Callable[[Evaluation], float],
    floor: float | None = None,
) -> tuple[np.ndarray, Evaluation, float, float | None]:
    """Decode, evaluate on the raw data, check every constraint and the objective and bound.

    ``value`` recomputes the model's objective from the evaluation; ``floor`` (second stage) is
    the first objective the plan must keep. Raises :class:`CheckError` on any failure.
    """
    assert result.x is not None
    open_mask = _decode(reduced, milp, result.x)
    ev = evaluate_plan(problem, coverages, open_mask)
    violations = check_plan(problem, ev)
    tol = _objective_tolerance(milp)
    raw = value(ev)
    solver_obj = (
        float(result.objective) if result.objective is not None else milp.objective_value(result.x)
    )
    maximise = milp.sense == "max"
    if result.status == Status.OPTIMAL and abs(raw - solver_obj) > tol:
        violations.append(
            f"objective mismatch: solver reports {solver_obj:,.6f}, raw data gives {raw:,.6f}"
        )
    elif result.status == Status.FEASIBLE:
        worse = raw < solver_obj - tol if maximise else raw > solver_obj + tol
        if worse:
            violations.append(
                f"objective mismatch: solver reports {solver_obj:,.6f}, raw data gives only {raw:,.6f}"
            )
    bound = result.bound
    if bound is not None:
        beyond = raw > bound + tol if maximise else raw < bound - tol
        if beyond:
            violations.append(
                f"bound {bound:,.6f} is not a valid bound for the raw objective {raw:,.6f}"
            )
    if floor is not None and ev.objective < floor - tol:
        violations.append(f"second stage lost coverage: {ev.objective:,.6f} < {floor:,.6f}")
    if violations:
        raise CheckError(violations)
    if result.status == Status.OPTIMAL and bound is None:
        bound = raw
    return open_mask, ev, raw, bound


def _second_stage(
    problem: CoverageProblem,
    coverages: list[StandardCoverage],
    reduced: ReducedCoverage,
    stage: MILP,
    res: SolveResult,
    ev: Evaluation,
    kind: str,
) -> tuple[np.ndarray | None, Evaluation | None, dict[str, object]]:
    """Certify the second stage: the same coverage as ``ev`` (first stage), then least cost."""
    info: dict[str, object] = {
        "objective": kind,
        "status": res.status.value,
        "runtime_s": res.runtime_s,
    }
    if not res.status.has_solution or res.x is None:
        log.warning(
            "Second stage (%s) found no plan (%s); keeping the first-stage plan",
            kind,
            res.status.value,
        )
        return None, None, info

    def secondary_value(e: Evaluation) -> float:
        return e.total_cost if kind == "min_cost" else float(e.new_mask.sum())

    tol = _objective_tolerance(stage)
    open2, ev2, raw, bound = _certify(
        problem, coverages, reduced, stage, res, secondary_value, ev.objective - tol
    )
    info.update(
        value=raw,
        bound=bound,
        gap=relative_gap(raw, bound) if bound is not None else None,
        first_stage_value=secondary_value(ev),
    )
    log.info(
        "Second stage %s: %s (first-stage plan had %s)",
        kind,
        f"{raw:,.6g}",
        f"{secondary_value(ev):,.6g}",
    )
    return open2, ev2, info


def diagnose_infeasibility(
    problem: CoverageProblem,
    reduced: ReducedCoverage,
    options: SolveOptions,
    backend: str,
) -> list[str]:
    """Solve the elastic model and explain which targets conflict, with numbers."""
    milp = build_coverage_milp(problem, reduced, elastic=True)
    res = solve(
        milp,
        SolveOptions(
            time_limit_s=min(options.time_limit_s, 120.0),
            mip_rel_gap=1e-6,
            threads=options.threads,
            seed=options.seed,
        ),
        backend,
    )
    if res.x is None:
        return [
            "the solver proved the case infeasible; the elastic diagnosis found no explanation "
            f"within its time limit ({res.status.value})"
        ]
    x = res.x
    gw = reduced.group_weight
    out = ["The targets conflict. The least total relaxation that makes the plan feasible is:"]
    for name, block in milp.var_blocks.items():
        if not name.startswith("slack:"):
            continue
        vals = x[block.slice]
        hit = np.flatnonzero(vals > 1e-6)
        if hit.size == 0:
            continue
        row = name.removeprefix("slack:")
        if row.startswith("cover["):
            std = row[len("cover[") : -1]
            rs = next(r for r in reduced.standards if r.standard.name == std)
            groups = np.flatnonzero(rs.applies & ~rs.const)[hit]
            members = np.flatnonzero(np.isin(reduced.group_of, groups))
            ids = ", ".join(map(str, problem.demand.ids[members[:12]]))
            out.append(
                f"- standard '{std}': {members.size:,} demand points ({gw[groups].sum():,.0f} residents) "
                f"stay outside it under the site and budget limits, e.g. {ids}"
            )
        elif row.startswith("share["):
            std = row[len("share[") : -1]
            s = next(r for r in reduced.standards if r.standard.name == std)
            total = float(gw[s.applies].sum())
            short = float(vals[hit].sum())
            target = s.standard.min_share or 0.0
            out.append(
                f"- standard '{std}': min_share {100 * target:.1f}% is out of reach under the limits; "
                f"short by {short:,.0f} residents ({100 * short / max(total, 1):.2f} points), i.e. at most "
                f"{100 * (target - short / max(total, 1)):.2f}%"
            )
        elif row.startswith("zone_share["):
            std = row[len("zone_share[") : -1]
            zones = milp.labels.get(row, [])
            items = [f"{zones[k]} short by {vals[k]:,.0f} residents" for k in hit if k < len(zones)]
            out.append(f"- standard '{std}' zone shares: " + "; ".join(items[:15]))
        elif row.startswith("type_share["):
            units = milp.labels.get(row, [])
            items = [f"{units[k]}" for k in hit if k < len(units)]
            out.append(f"- {row}: the share cannot be reached in " + ", ".join(items[:20]))
        elif row.startswith("zone_rule_max["):
            zones = milp.labels.get(row, [])
            items = [f"{zones[k]} ({vals[k]:.0f} over)" for k in hit if k < len(zones)]
            out.append(
                f"- {row}: more sites than allowed would have to open in " + ", ".join(items[:20])
            )
        elif row.startswith("zone_rule["):
            zones = milp.labels.get(row, [])
            items = [f"{zones[k]} ({vals[k]:.0f} short)" for k in hit if k < len(zones)]
            out.append(f"- {row}: not enough sites can open in " + ", ".join(items[:20]))
        elif row.startswith("max_new_sites"):
            out.append(f"- {row}: {vals[hit].sum():.0f} more new sites would be needed")
        elif row == "budget" or row.startswith("budget["):
            out.append(
                f"- {row}: {vals[hit].sum():,.2f} {problem.sites.cost_unit} more would be needed"
            )
        elif row.startswith("min_new_sites"):
            out.append(
                f"- {row}: {vals[hit].sum():.0f} fewer new sites than asked fit the other limits"
            )
        else:
            out.append(f"- {row}: violated by {vals[hit].sum():,.3g}")
    if len(out) == 1:
        out.append("- (no single block needs relaxing; check numerical scaling of the case)")
    return out
