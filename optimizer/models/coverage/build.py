r"""The compact covering MILP (row families one function each) and the warm-start vector.

:func:`build_coverage_milp` builds the integer program of :mod:`optimizer.models.coverage.solve`'s
docstring (MODELS.md §8.2) on the reduced (presolved) problem, one function per row family:
coverage links and mandatory rows per standard (Church & ReVelle 1974; Toregas et al. 1971),
coverage and zone shares (Cordeau, Furini & Ljubić 2019 for PSCLP), new-site counts, hosted sites,
budgets, zone rules, type shares and the relocation count (maxcovr, after Chan et al.).

``warm_start_vector`` maps a plan (open-site mask over all sites) to a full vector of that MILP:
y from the open sites (dominated sites mapped to their dominator), each coverage variable z at
min(1, sites covering the point). This module sits below :mod:`~optimizer.models.coverage.solve`,
:mod:`~.benders` and :mod:`~.greedy` so that none of them imports another in a circle.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from fractions import Fraction

import numpy as np

from ...milp import MILP, Block, ModelBuilder
from .problem import CoverageProblem, ReducedCoverage, ReducedStandard, _zone_share

__all__ = ["build_coverage_milp", "site_objective", "warm_start_vector"]

log = logging.getLogger(__name__)


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


@dataclass
class _Ctx:
    """What every row family needs: the problem, the builder, the site columns ``y``."""

    problem: CoverageProblem
    reduced: ReducedCoverage
    b: ModelBuilder
    rows: _Rows
    y: Block
    scores: bool
    """True when the coverage variables carry the objective (max_coverage, not elastic)."""

    @property
    def F(self) -> np.ndarray:
        return self.reduced.free_sites

    @property
    def is_new(self) -> np.ndarray:
        return ~self.problem.sites.existing[self.F]

    @property
    def net_close(self) -> np.ndarray:
        return self.problem.sites.closure_cost()[self.F]


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
    """The covering MILP of :mod:`~optimizer.models.coverage.solve`'s docstring on the reduced
    (presolved) problem.

    With ``elastic=True`` every constraint gets a penalised slack and the objective minimises
    the normalised total violation: the answer shows one cheapest way to make a case feasible.
    """
    model = problem.model
    objective = model.resolved_objective
    sense = "min" if elastic or objective != "max_coverage" else "max"
    b = ModelBuilder(f"coverage-{model.kind}{'-elastic' if elastic else ''}", sense)  # type: ignore[arg-type]
    ycost: float | np.ndarray = 0.0
    if not elastic and objective in ("min_cost", "min_sites"):
        ycost, const = site_objective(problem, reduced, objective)
        b.c0 += const
    y = b.add_binary("y", reduced.free_sites.size, cost=ycost)
    ctx = _Ctx(
        problem, reduced, b, _Rows(b, elastic), y, objective == "max_coverage" and not elastic
    )
    for rs in reduced.standards:
        if rs.standard.mandatory:
            _mandatory_rows(ctx, rs)
        else:
            _standard_rows(ctx, rs)
    _new_site_count_rows(ctx)
    _host_rows(ctx)
    _budget_rows(ctx)
    _zone_rule_rows(ctx)
    _type_share_rows(ctx)
    _keep_count_rows(ctx)
    milp = b.build()
    log.info("Built %s: %s", milp.name, milp.summary())
    return milp


def _mandatory_rows(ctx: _Ctx, rs: ReducedStandard) -> None:
    """``sum_{j in N_g^s} y_j >= 1`` for every live group of a mandatory standard."""
    gw = ctx.reduced.group_weight
    s = rs.standard
    live = rs.applies & ~rs.const
    idx = np.flatnonzero(live)
    sub = rs.matrix[idx]
    r = np.repeat(np.arange(idx.size), np.diff(sub.indptr))
    ctx.rows.add(
        f"cover[{s.name}]",
        idx.size,
        r,
        ctx.y.start + sub.indices,
        1.0,
        lo=1.0,
        penalty=np.maximum(gw[idx], 1.0) / max(float(gw.sum()), 1.0),
    )
    if ctx.scores:
        ctx.b.c0 += s.weight * float(gw[rs.applies].sum())


def _standard_rows(ctx: _Ctx, rs: ReducedStandard) -> None:
    """Coverage variables ``z_gs <= sum_{j in N_g^s} y_j``, the share row and the zone shares."""
    b = ctx.b
    gw = ctx.reduced.group_weight
    w_total = max(float(gw.sum()), 1.0)
    s = rs.standard
    name = s.name
    live = rs.applies & ~rs.const
    W_s = float(gw[rs.applies].sum())
    kept = float(gw[rs.applies & rs.const].sum())
    mat = rs.matrix
    coverable = live & (np.diff(mat.indptr) > 0)
    idx = np.flatnonzero(coverable)
    zcost = s.weight * gw[idx] if ctx.scores else 0.0
    z = b.add_vars(f"z[{name}]", idx.size, lb=0.0, ub=1.0, cost=zcost)
    sub = mat[idx]
    nnz_per = np.diff(sub.indptr)
    r = np.concatenate([np.arange(idx.size), np.repeat(np.arange(idx.size), nnz_per)])
    c = np.concatenate([z.index(), ctx.y.start + sub.indices])
    v = np.concatenate([np.ones(idx.size), -np.ones(sub.nnz)])
    b.add_rows(f"link[{name}]", idx.size, r, c, v, hi=0.0)
    if ctx.scores:
        b.c0 += s.weight * kept
    if s.min_share is not None:
        rhs = s.min_share * W_s - kept
        if rhs > 1e-9:
            ctx.rows.add(
                f"share[{name}]",
                1,
                np.zeros(idx.size),
                z.index(),
                gw[idx],
                lo=rhs,
                penalty=1.0 / w_total,
            )
    if s.zone_min_share is not None and ctx.reduced.group_zone is not None:
        _zone_share_rows(ctx, rs, idx, z)


def _zone_share_rows(ctx: _Ctx, rs: ReducedStandard, idx: np.ndarray, z: Block) -> None:
    """``sum_{g in zone} w_g z_gs >= alpha_{s,zone} W_{s,zone} - W^kept`` for every zone."""
    gw = ctx.reduced.group_weight
    zone_of = ctx.reduced.group_zone
    assert zone_of is not None
    s = rs.standard
    zr: list[np.ndarray] = []
    zc: list[np.ndarray] = []
    zv: list[np.ndarray] = []
    zlo: list[float] = []
    znames: list[str] = []
    for zone in sorted(set(map(str, zone_of[rs.applies]))):
        req = _zone_share(s, zone)
        if req is None:
            continue
        in_zone = rs.applies & (zone_of == zone)
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
        ctx.rows.add(
            f"zone_share[{s.name}]",
            len(zlo),
            np.concatenate(zr),
            np.concatenate(zc),
            np.concatenate(zv),
            lo=np.asarray(zlo),
            penalty=1.0 / max(float(gw.sum()), 1.0),
        )
        ctx.b.labels[f"zone_share[{s.name}]"] = znames


def _new_site_count_rows(ctx: _Ctx) -> None:
    """At most ``max_new_sites`` and at least ``min_new_sites`` new sites (in total or per type)."""
    model = ctx.problem.model
    ftypes = ctx.problem.sites.facility_type[ctx.F]
    is_new = ctx.is_new
    for key, limit, side in (
        ("max_new_sites", model.max_new_sites, "hi"),
        ("min_new_sites", model.min_new_sites, "lo"),
    ):
        if limit is None:
            continue
        limits = {None: limit} if isinstance(limit, int) else dict(limit)
        for ftype, p in limits.items():
            mask = is_new if ftype is None else is_new & (ftypes == ftype)
            cols = ctx.y.start + np.flatnonzero(mask)
            label = key if ftype is None else f"{key}[{ftype}]"
            ctx.rows.add(
                label,
                1,
                np.zeros(cols.size),
                cols,
                1.0,
                lo=float(p) if side == "lo" else -np.inf,
                hi=float(p) if side == "hi" else np.inf,
                penalty=1.0 / max(float(p), 1.0),
            )


def _host_rows(ctx: _Ctx) -> None:
    """Hosted sites (an AED inside a clinic or station) open only with their host."""
    sites = ctx.problem.sites
    if sites.host is None:
        return
    F, b, y = ctx.F, ctx.b, ctx.y
    col_of = np.full(len(sites), -1, dtype=np.int64)
    col_of[F] = np.arange(F.size)
    hosted = np.flatnonzero(sites.host[F] >= 0)
    host_site = sites.host[F][hosted]
    host_fixed = ctx.reduced.fixed_open[host_site]
    linked = hosted[~host_fixed]
    host_col = col_of[sites.host[F][linked]]
    if np.any(host_col < 0):  # the host can never open: neither can the hosted site
        never = linked[host_col < 0]
        b.add_rows("host_closed", never.size, np.arange(never.size), y.start + never, 1.0, hi=0.0)
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


def _budget_rows(ctx: _Ctx) -> None:
    """Budget (in total and per type): new sites' cost plus the net cost of closing existing ones."""
    model = ctx.problem.model
    is_new, net_close = ctx.is_new, ctx.net_close
    coef = np.where(is_new, ctx.problem.sites.cost[ctx.F], -net_close)
    if model.budget is not None:
        rhs = float(model.budget) - float(net_close[~is_new].sum())
        nz = np.flatnonzero(coef)
        ctx.rows.add(
            "budget",
            1,
            np.zeros(nz.size),
            ctx.y.start + nz,
            coef[nz],
            hi=rhs,
            penalty=1.0 / max(float(model.budget), 1.0),
        )
    if model.budget_by_type is not None:
        for ftype, sub_budget in sorted(model.budget_by_type.items()):
            of_t = ctx.problem.sites.facility_type[ctx.F] == ftype
            nz = np.flatnonzero(of_t & (coef != 0))
            rhs = float(sub_budget) - float(net_close[~is_new & of_t].sum())
            ctx.rows.add(
                f"budget[{ftype}]",
                1,
                np.zeros(nz.size),
                ctx.y.start + nz,
                coef[nz],
                hi=rhs,
                penalty=1.0 / max(float(sub_budget), 1.0),
            )


def _zone_rule_rows(ctx: _Ctx) -> None:
    """Zone rules: at least (and at most) k open sites of the rule's types in each zone."""
    problem = ctx.problem
    sites = problem.sites
    if sites.zone is None:
        return
    F, y = ctx.F, ctx.y
    fixed = ctx.reduced.fixed_open
    for k, rule in enumerate(problem.model.zone_rules):
        tmask = problem.type_mask(rule.facility_types)
        zr: list[np.ndarray] = []
        zc: list[np.ndarray] = []
        zlo: list[float] = []
        znames: list[str] = []
        cr: list[np.ndarray] = []
        cc: list[np.ndarray] = []
        chi: list[float] = []
        cnames: list[str] = []
        for zone in problem.rule_zones(rule):
            n_fixed = int((fixed & tmask & (sites.zone == zone)).sum())
            members = np.flatnonzero(tmask[F] & (sites.zone[F] == zone))
            cap = problem.rule_cap(rule, zone)
            if cap is not None:
                cr.append(np.full(members.size, len(chi)))
                cc.append(y.start + members)
                chi.append(float(cap - n_fixed))
                cnames.append(zone)
            need = problem.rule_need(rule, zone) - n_fixed
            if need <= 0:
                continue
            zr.append(np.full(members.size, len(zlo)))
            zc.append(y.start + members)
            zlo.append(float(need))
            znames.append(zone)
        if zlo:
            ctx.rows.add(
                f"zone_rule[{k}]",
                len(zlo),
                np.concatenate(zr),
                np.concatenate(zc),
                1.0,
                lo=np.asarray(zlo),
                penalty=1.0 / max(len(zlo), 1),
            )
            ctx.b.labels[f"zone_rule[{k}]"] = znames
        if chi:
            ctx.rows.add(
                f"zone_rule_max[{k}]",
                len(chi),
                np.concatenate(cr),
                np.concatenate(cc),
                1.0,
                hi=np.asarray(chi),
                penalty=1.0 / max(len(chi), 1),
            )
            ctx.b.labels[f"zone_rule_max[{k}]"] = cnames


def _type_share_rows(ctx: _Ctx) -> None:
    """Type shares: ``q * #open(num) - p * #open(of) >= 0`` per unit (share p/q exact), fixed
    sites moved to the right-hand side."""
    problem = ctx.problem
    sites = problem.sites
    F = ctx.F
    for share in problem.model.type_shares:
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
            fixed_value = float(coef_all[ctx.reduced.fixed_open & mask].sum())
            cols = np.flatnonzero(mask[F] & (coef_all[F] != 0))
            tr.append(np.full(cols.size, len(tlo)))
            tc.append(ctx.y.start + cols)
            tv.append(coef_all[F][cols])
            tlo.append(-fixed_value)
            names.append(unit)
        if tlo:
            ctx.rows.add(
                f"type_share[{share.name}]",
                len(tlo),
                np.concatenate(tr),
                np.concatenate(tc),
                np.concatenate(tv),
                lo=np.asarray(tlo),
                penalty=1.0 / q_,
            )
            ctx.b.labels[f"type_share[{share.name}]"] = names


def _keep_count_rows(ctx: _Ctx) -> None:
    """Relocation keeps the count: ``sum_{j of type k} y_j >= |E_k|`` per existing type."""
    sites = ctx.problem.sites
    if not ctx.problem.model.keep_existing_count:
        return
    for t in sorted(set(sites.facility_type[sites.existing].tolist())):
        of_type = sites.facility_type == t
        need = int((sites.existing & of_type).sum()) - int((ctx.reduced.fixed_open & of_type).sum())
        if need <= 0:
            continue
        cols = ctx.y.start + np.flatnonzero(sites.facility_type[ctx.F] == t)
        ctx.rows.add(f"keep_count[{t}]", 1, np.zeros(cols.size), cols, 1.0, lo=float(need))


def warm_start_vector(milp: MILP, reduced: ReducedCoverage, open_mask: np.ndarray) -> np.ndarray:
    """A full MILP vector for a plan: y from the open sites (dominated ones mapped to their
    dominator), every coverage variable at the value the plan gives it."""
    x = np.zeros(milp.n_cols)
    mask = np.asarray(open_mask, dtype=bool).copy()
    for j, k in reduced.dominated_by.items():
        if mask[j]:
            mask[k] = True
    y = mask[reduced.free_sites].astype(float)
    x[milp.var_blocks["y"].slice] = y
    for rs in reduced.standards:
        block = milp.var_blocks.get(f"z[{rs.standard.name}]")
        if block is None:
            continue
        live = rs.applies & ~rs.const
        idx = np.flatnonzero(live & (np.diff(rs.matrix.indptr) > 0))
        hits = np.asarray(rs.matrix[idx] @ y).ravel()
        x[block.slice] = np.minimum(hits, 1.0)
    return np.clip(x, milp.col_lo, milp.col_hi)
