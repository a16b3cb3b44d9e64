r"""Norm-based 编制 quota allocation (MODELS.md §4.1, §8.4): integer posts per facility and category.

Facilities :math:`f` (township centres ``thc``, community centres ``chc``, village clinics or
village-clinic groups ``village_clinic`` ...), staff categories :math:`c` with flags
professional / public-health / GP, service population :math:`P_f`, remote flag
:math:`r_f`, current staff :math:`cur_{fc}`, need :math:`n_{fc}` (WISN table) or
:math:`n_f` (facility total; the per-mille midpoint when no table is given).

.. math::

    \text{stage 1:}\; \min\; & \textstyle\sum_{fc} \omega_c\, u_{fc} + \omega_\ast \sum_f u_f \\
    \text{s.t.}\; & u_{fc} \ge n_{fc} - s_{fc},\quad u_f \ge n_f - \textstyle\sum_c s_{fc},
        \quad u \ge 0 \\
    & L_f \le \textstyle\sum_c s_{fc} \le U_f,\quad
        L_f = \lceil \rho^{\min}_k P_f / 1000 \rceil,\;
        U_f = \lfloor \rho^{\max}_k (1 + b\, r_f) P_f / 1000 \rfloor \\
    & q \textstyle\sum_{c \in Prof} s_{fc} - p \sum_c s_{fc} \ge 0
        && (\text{professional} \ge p/q = 90\%) \\
    & q' \textstyle\sum_{c \in PH} s_{fc} - p' \sum_{c \in Prof} s_{fc} \ge 0
        && (\text{public health} \ge p'/q' = 25\% \text{ of professional}) \\
    & \textstyle\sum_{f} \sum_{c \in GP} s_{fc} \ge \lceil g \cdot Pop / 10\,000 \rceil,\quad
      \sum_{f \in pool} \sum_c s_{fc} \le Q \\
    & s_{fc} \ge cur_{fc} \;(\text{no cuts}),\quad s_{fc} \in \mathbb{Z}_+ \\
    \text{stage 2:}\; \min\; & \textstyle\sum_{fc} |s_{fc} - cur_{fc}|
        \quad \text{s.t. the above and stage-1 objective} \le z_1^\ast

Every norm is scaled to integers explicitly: per-mille bounds are computed in exact rational
arithmetic (``fractions.Fraction`` of the decimal values the planner wrote) and rounded to whole
posts; share norms ``≥ p/q`` are multiplied by ``q``. The MILP therefore has integer coefficients
and integer right-hand sides in every norm row, and the checker compares in exact arithmetic.

The objective is lexicographic (two solves): stage 2 keeps the proven stage-1 optimum and
minimises the number of posts moved. When every need and weight is a decimal with a small
denominator (needs in hundredths of a post, say), the shortfall is counted in whole units of
``1/D`` post and the weights scaled to integers: the whole model is then a pure integer program
with integer coefficients (CP-SAT accepts it as is) and the stage-2 cap is the stage-1 optimum
exactly, not up to a tolerance. Otherwise the shortfall is continuous and the cap carries a
``10^{-6}`` relative tolerance. WISN need: WHO *Workload Indicators of Staffing Need*
user's manual (2010); norms: MISSION.md and MODELS.md §5.4, each with its provenance.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from fractions import Fraction

import numpy as np

from ..errors import CheckError
from ..milp import MILP, Block, ModelBuilder
from ..solvers import SolveOptions, Status, relative_gap, solve
from .config import Category, PerMilleNorm, QuotaNorms, ShareNorm

__all__ = [
    "QuotaEvaluation",
    "QuotaInstance",
    "QuotaSolution",
    "build_quota_milp",
    "check_quota_plan",
    "evaluate_quota_plan",
    "facility_bounds",
    "precheck_quota",
    "solve_quota",
]

log = logging.getLogger(__name__)


MAX_DENOMINATOR = 10_000


def frac(value: float | int | str) -> Fraction:
    """The rational of a decimal the planner wrote (0.1 -> 1/10, not the binary float).

    Exact for decimals with up to four places (1.5‰, 0.25, 0.9, 12,345.6 residents); longer
    ones (0.3333...) become the nearest fraction with a denominator up to 10,000 (1/3), which
    keeps the scaled norm rows small integers.
    """
    if isinstance(value, int):
        return Fraction(value)
    return Fraction(str(value)).limit_denominator(MAX_DENOMINATOR)


def round_half_up(x: Fraction) -> int:
    return math.floor(x + Fraction(1, 2))


@dataclass(frozen=True, eq=False)
class QuotaInstance:
    """A quota problem on arrays: facilities x categories (units in the names)."""

    facility_ids: np.ndarray
    names: np.ndarray
    types: np.ndarray
    population: np.ndarray
    """Residents served by each facility (float; estimates must be labelled in ``population_note``)."""
    remote: np.ndarray
    categories: list[Category]
    current: np.ndarray
    """(F, C) current staff, integers."""
    need: np.ndarray
    """(F, C) need in staff (nan: no need entry)."""
    need_total: np.ndarray
    """(F,) need of the facility total (nan: none)."""
    norms: QuotaNorms
    county_population: float
    need_source: str = "midpoint"
    population_note: str = ""
    zones: np.ndarray | None = None
    total_shortfall_weight: float = 1.0
    movement: str = "lexicographic"
    population_source: dict[str, object] | None = None
    """County total, partition types and, from a siting run, the residents each layer assigned."""

    @property
    def n_facilities(self) -> int:
        return int(self.facility_ids.size)

    @property
    def remote_bonus(self) -> np.ndarray:
        """(F,) whether the remote-township bonus raises this facility's ceiling."""
        r = self.norms.remote
        if not r.enabled:
            return np.zeros(self.n_facilities, dtype=bool)
        return np.asarray(self.remote, dtype=bool) & self.applies(r.facility_types)

    @property
    def category_names(self) -> list[str]:
        return [c.name for c in self.categories]

    @property
    def allowed(self) -> np.ndarray:
        """(F, C) whether facility f has category c."""
        out = np.zeros((self.n_facilities, len(self.categories)), dtype=bool)
        for k, c in enumerate(self.categories):
            out[:, k] = True if c.facility_types is None else np.isin(self.types, c.facility_types)
        return out

    def mask(self, flag: str) -> np.ndarray:
        return np.asarray([bool(getattr(c, flag)) for c in self.categories])

    def applies(self, facility_types: Sequence[str]) -> np.ndarray:
        return np.isin(self.types, list(facility_types))

    def label(self, f: int) -> str:
        fid, name = str(self.facility_ids[f]), str(self.names[f])
        return f"{name} ({fid})" if name and name != fid else fid


# ---------------------------------------------------------------------------------------------
# Exact integer norms
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Bound:
    """Whole-post bounds of one facility from its per-mille norm, with the arithmetic shown."""

    lo: int
    hi: int | None
    norm: PerMilleNorm | None
    lo_text: str
    hi_text: str


def _pm(x: float) -> str:
    return f"{x:g}‰"


def facility_bounds(inst: QuotaInstance) -> list[Bound]:
    """``L_f`` and ``U_f`` in exact arithmetic (see the module docstring)."""
    out = []
    bonus = frac(inst.norms.remote.bonus_share)
    gets_bonus = inst.remote_bonus
    for f in range(inst.n_facilities):
        norm = inst.norms.per_mille.get(str(inst.types[f]))
        if norm is None:
            out.append(Bound(0, None, None, "no per-mille norm", "no per-mille norm"))
            continue
        P = frac(float(inst.population[f]))
        rnd = math.ceil if norm.rounding == "strict" else round_half_up
        rnd_hi = math.floor if norm.rounding == "strict" else round_half_up
        lo, lo_text = 0, "no minimum"
        if norm.min is not None:
            lo = int(rnd(frac(norm.min) * P / 1000))
            lo_text = f"{_pm(norm.min)} × {float(P):,.0f} = {float(frac(norm.min) * P / 1000):,.2f} → {lo}"
        hi: int | None = None
        hi_text = "no ceiling"
        if norm.max is not None:
            factor = 1 + (bonus if bool(gets_bonus[f]) else 0)
            hi = int(rnd_hi(frac(norm.max) * factor * P / 1000))
            extra = f" × {float(factor):g} (remote)" if factor != 1 else ""
            hi_text = (
                f"{_pm(norm.max)} × {float(P):,.0f}{extra} = "
                f"{float(frac(norm.max) * factor * P / 1000):,.2f} → {hi}"
            )
        out.append(Bound(lo, hi, norm, lo_text, hi_text))
    return out


def gp_required(inst: QuotaInstance) -> int:
    n = inst.norms.gp_per_10k
    if not n.enabled:
        return 0
    return math.ceil(frac(n.per_10k) * frac(float(inst.county_population)) / 10000)


def _share_coefs(
    inst: QuotaInstance, num_mask: np.ndarray, base_mask: np.ndarray, share: float
) -> tuple[np.ndarray, int]:
    """Integer coefficients of ``Σ_num s ≥ p/q Σ_base s`` as ``Σ_c coef_c s_c ≥ 0``, and q."""
    a = frac(share)
    p, q = a.numerator, a.denominator
    coef = q * num_mask.astype(np.int64) - p * base_mask.astype(np.int64)
    return coef, q


def composition_rows(inst: QuotaInstance) -> list[tuple[str, np.ndarray, np.ndarray, int]]:
    """(norm name, facility mask, category coefficients, scale q) for each share norm."""
    rows = []
    prof = inst.mask("professional")
    ph = inst.mask("public_health")
    n1 = inst.norms.professional_min_share
    if n1.enabled:
        coef, q = _share_coefs(inst, prof, np.ones(len(inst.categories), bool), n1.value)
        rows.append(("professional_min_share", inst.applies(n1.facility_types), coef, q))
    n2 = inst.norms.public_health_min_share
    if n2.enabled:
        base = prof if n2.basis == "professional" else np.ones(len(inst.categories), bool)
        coef, q = _share_coefs(inst, ph, base, n2.value)
        rows.append(("public_health_min_share", inst.applies(n2.facility_types), coef, q))
    names = np.asarray(inst.category_names, dtype=object)
    for n in inst.norms.shares:
        if n.enabled:
            num = np.isin(names, n.categories)
            base = np.ones(names.size, bool) if n.of is None else np.isin(names, n.of)
            coef, q = _share_coefs(inst, num, base, n.value)
            rows.append((f"shares[{n.name}]", inst.applies(n.facility_types), coef, q))
    return rows


def composition_norm(inst: QuotaInstance, name: str) -> ShareNorm:
    """The norm behind a composition row name (``professional_min_share``, ``shares[x]``)."""
    if name.startswith("shares["):
        return next(n for n in inst.norms.shares if f"shares[{n.name}]" == name)
    norm = getattr(inst.norms, name)
    assert isinstance(norm, ShareNorm)
    return norm


# ---------------------------------------------------------------------------------------------
# Prechecks: the classic conflicts, with numbers
# ---------------------------------------------------------------------------------------------
def _county_share_precheck(
    inst: QuotaInstance,
    name: str,
    fmask: np.ndarray,
    coef: np.ndarray,
    bounds: list[Bound],
    allowed: np.ndarray,
    cur_total: np.ndarray,
) -> list[str]:
    """A county-scope share that today's kept staff make unreachable even if every post up to
    each facility's ceiling went to the norm's numerator (no ceiling: always reachable)."""
    value = 0
    for f in np.flatnonzero(fmask).tolist():
        b = bounds[f]
        pos = allowed[f] & (coef > 0)
        if b.hi is None and pos.any():
            return []
        value += int((coef * inst.current[f]).sum())
        if pos.any() and b.hi is not None:
            value += max(b.hi - int(cur_total[f]), 0) * int(coef[pos].max())
    if value >= 0:
        return []
    norm = composition_norm(inst, name)
    return [
        f"norm {name} ({100 * norm.value:g}%, county-wide over "
        f"{', '.join(norm.facility_types)}) vs current staff: with every facility at its "
        "per-mille ceiling and today's staff kept (no cuts), the county share cannot be reached"
    ]


def precheck_quota(inst: QuotaInstance) -> list[str]:
    """Conflicts between one norm and one total that make the case infeasible, with numbers."""
    out: list[str] = []
    bounds = facility_bounds(inst)
    cuts = inst.norms.cuts.allowed
    cur_total = inst.current.sum(axis=1)
    allowed = inst.allowed
    for f, b in enumerate(bounds):
        t = str(inst.types[f])
        if not allowed[f].any():
            out.append(
                f"facility {inst.label(f)}: no staff category applies to type '{t}' "
                "(categories[].facility_types)"
            )
        if b.hi is not None and b.lo > b.hi:
            out.append(
                f"norm per_mille[{t}] at {inst.label(f)}: the minimum {b.lo_text} posts exceeds "
                f"the ceiling {b.hi_text}; no whole number of posts fits "
                "(use rounding: nearest, or group small units)"
            )
        if not cuts and b.hi is not None and cur_total[f] > b.hi:
            out.append(
                f"norm per_mille[{t}] vs current staff at {inst.label(f)}: {int(cur_total[f]):,} "
                f"staff in post exceed the ceiling {b.hi_text} posts, and cuts are not allowed "
                "(norms.cuts.allowed: false)"
            )
    if not cuts:
        for name, fmask, coef, _q in composition_rows(inst):
            if composition_norm(inst, name).scope == "county":
                out += _county_share_precheck(inst, name, fmask, coef, bounds, allowed, cur_total)
                continue
            for f in np.flatnonzero(fmask).tolist():
                b = bounds[f]
                if b.hi is None:
                    continue
                neg = allowed[f] & (coef < 0)
                pos = allowed[f] & (coef > 0)
                # Best case: every post between today's staff and the ceiling goes to the
                # category with the largest coefficient (the norm's numerator).
                room = max(b.hi - int(cur_total[f]), 0)
                value = int((coef * inst.current[f]).sum())
                if pos.any():
                    value += room * int(coef[pos].max())
                if value < 0:
                    share = composition_norm(inst, name)
                    cats = ", ".join(c for c, m in zip(inst.category_names, neg, strict=True) if m)
                    out.append(
                        f"norm {name} ({100 * share.value:g}%) vs current staff at {inst.label(f)}: "
                        f"with at most {b.hi:,} posts ({b.hi_text}) and today's "
                        f"{int(inst.current[f][neg].sum()):,} staff in {cats} kept (no cuts), "
                        "the share cannot be reached"
                    )
    pool = inst.norms.pool
    if pool.total is not None:
        in_pool = inst.applies(pool.facility_types)
        need = [max(b.lo, 0 if cuts else int(cur_total[f])) for f, b in enumerate(bounds)]
        total_min = sum(need[f] for f in np.flatnonzero(in_pool))
        if total_min > pool.total:
            parts = []
            for t in sorted(set(map(str, inst.types[in_pool]))):
                of_t = in_pool & (inst.types == t)
                norm = inst.norms.per_mille.get(t)
                P = float(inst.population[of_t].sum())
                lo_sum = sum(bounds[f].lo for f in np.flatnonzero(of_t))
                if norm is not None and norm.min is not None:
                    parts.append(
                        f"{t}: {_pm(norm.min)} × {P:,.0f} = {norm.min * P / 1000:,.0f} "
                        f"({lo_sum:,} rounded up per facility)"
                    )
            above = total_min - sum(bounds[f].lo for f in np.flatnonzero(in_pool))
            if above:
                parts.append(f"current staff above those minima (no cuts): +{above:,}")
            out.append(
                f"norm per_mille minima vs norm pool: Σ minimum posts {total_min:,} exceeds the "
                f"county pool of {pool.total:,} at {', '.join(pool.facility_types)} "
                f"({'; '.join(parts)})"
            )
    g_req = gp_required(inst)
    if g_req > 0:
        gp = inst.mask("gp")
        has_gp = (allowed & gp[None, :]).any(axis=1)
        caps = [bounds[f].hi for f in np.flatnonzero(has_gp)]
        if not has_gp.any():
            out.append(
                f"norm gp_per_10k: {inst.norms.gp_per_10k.per_10k:g} per 10,000 × "
                f"{inst.county_population:,.0f} = {g_req:,} GP posts, but no facility has a GP category"
            )
        elif all(c is not None for c in caps) and sum(c for c in caps if c is not None) < g_req:
            out.append(
                f"norm gp_per_10k vs per_mille ceilings: {inst.norms.gp_per_10k.per_10k:g} per 10,000 × "
                f"{inst.county_population:,.0f} = {g_req:,} GP posts exceeds the Σ ceilings "
                f"{sum(c for c in caps if c is not None):,} of all facilities with GP posts"
            )
        if pool.total is not None:
            in_pool = inst.applies(pool.facility_types)
            if has_gp.any() and (has_gp <= in_pool).all() and g_req > pool.total:
                out.append(
                    f"norm gp_per_10k vs norm pool: {g_req:,} GP posts needed but the county pool "
                    f"holds {pool.total:,}"
                )
    return out


# ---------------------------------------------------------------------------------------------
# Model
# ---------------------------------------------------------------------------------------------
@dataclass
class _Layout:
    pairs: np.ndarray
    """(K, 2) allowed (facility, category) pairs, the order of the ``s`` block."""
    need_pairs: np.ndarray
    need_totals: np.ndarray
    weights: np.ndarray
    """Stage-1 weight of each shortfall (pairs first, then totals)."""
    need_scale: int = 1
    weight_scale: int = 1
    integral: bool = False
    """Shortfall in whole units of 1/need_scale staff and weights x weight_scale are integers:
    the model is a pure integer program with integer coefficients (exact lexicographic cap)."""

    @property
    def objective_scale(self) -> int:
        """Stage-1 model objective = objective_scale x weighted shortfall in staff."""
        return self.need_scale * self.weight_scale if self.integral else 1


def _common_denominator(values: np.ndarray, limit: int = 10**6) -> int | None:
    """Least common denominator of decimals (exactly representable), or None."""
    d = 1
    for v in np.unique(values[np.isfinite(values)]):
        q = frac(float(v))
        if abs(float(q) - float(v)) > 1e-12 * max(1.0, abs(float(v))):
            return None
        d = math.lcm(d, q.denominator)
        if d > limit:
            return None
    return d


def _layout(inst: QuotaInstance) -> _Layout:
    allowed = inst.allowed
    pairs = np.argwhere(allowed)
    need_mask = allowed & np.isfinite(inst.need)
    need_pairs = np.argwhere(need_mask)
    need_totals = np.flatnonzero(np.isfinite(inst.need_total))
    w_cat = np.asarray([c.shortfall_weight for c in inst.categories], dtype=float)
    weights = np.concatenate(
        [w_cat[need_pairs[:, 1]], np.full(need_totals.size, inst.total_shortfall_weight)]
    )
    needs = np.concatenate(
        [inst.need[need_pairs[:, 0], need_pairs[:, 1]], inst.need_total[need_totals]]
    )
    d_need = _common_denominator(needs)
    d_w = _common_denominator(weights)
    if d_need is None or d_w is None or d_need * d_w > 10**6:
        return _Layout(pairs, need_pairs, need_totals, weights)
    return _Layout(pairs, need_pairs, need_totals, weights, d_need, d_w, True)


def build_quota_milp(
    inst: QuotaInstance,
    *,
    stage: int = 1,
    stage1_cap: float | None = None,
    elastic: bool = False,
) -> MILP:
    """The quota MILP (module docstring). ``stage=2`` minimises movement under ``stage1_cap``.

    With ``elastic=True`` every norm row gets a penalised slack (in posts) and the objective is
    the total relaxation: the answer names the norms that must give way, and by how much.
    """
    lay = _layout(inst)
    F, C = inst.n_facilities, len(inst.categories)
    bounds = facility_bounds(inst)
    cuts = inst.norms.cuts.allowed
    b = ModelBuilder(f"quota-stage{stage}{'-elastic' if elastic else ''}", "min")
    K = lay.pairs.shape[0]
    fi, ci = lay.pairs[:, 0], lay.pairs[:, 1]
    cur = inst.current[fi, ci].astype(float)
    hi_f = np.asarray([np.inf if bd.hi is None else bd.hi for bd in bounds], dtype=float)
    lb = cur if not (cuts or elastic) else np.zeros(K)
    ub = np.full(K, np.inf) if elastic else np.maximum(hi_f[fi], lb)
    s = b.add_vars("s", K, lb=lb, ub=ub, integer=True)
    col = np.full((F, C), -1, dtype=np.int64)
    col[fi, ci] = s.index()

    def slack(name: str, n: int, scale: float = 1.0) -> Block:
        """Elastic slack of a row block, priced per post (scaled rows divide by their scale)."""
        return b.add_vars(f"slack:{name}", n, lb=0.0, cost=1.0 / scale)

    # Per-mille bounds on facility totals.
    lo_f = np.asarray([bd.lo for bd in bounds], dtype=float)
    has = np.asarray([bd.norm is not None for bd in bounds])
    idx = np.flatnonzero(has)
    rows, cols_ = np.repeat(np.arange(F), C), col.ravel()
    keep = (cols_ >= 0) & has[rows]
    row_of = np.full(F, -1)
    row_of[idx] = np.arange(idx.size)
    r_tot, c_tot = row_of[rows[keep]], cols_[keep]
    if elastic:
        lo_sl = slack("per_mille_min", idx.size)
        hi_sl = slack("per_mille_max", idx.size)
        b.add_rows(
            "per_mille_min",
            idx.size,
            np.concatenate([r_tot, np.arange(idx.size)]),
            np.concatenate([c_tot, lo_sl.index()]),
            np.concatenate([np.ones(r_tot.size), np.ones(idx.size)]),
            lo=lo_f[idx],
        )
        fin = np.isfinite(hi_f[idx])
        b.add_rows(
            "per_mille_max",
            idx.size,
            np.concatenate([r_tot, np.arange(idx.size)]),
            np.concatenate([c_tot, hi_sl.index()]),
            np.concatenate([np.ones(r_tot.size), -np.ones(idx.size)]),
            hi=np.where(fin, hi_f[idx], np.inf),
        )
        if not cuts:
            cur_sl = slack("current", K)
            b.add_rows(
                "current",
                K,
                np.concatenate([np.arange(K), np.arange(K)]),
                np.concatenate([s.index(), cur_sl.index()]),
                1.0,
                lo=cur,
            )
    else:
        b.add_rows("per_mille", idx.size, r_tot, c_tot, 1.0, lo=lo_f[idx], hi=hi_f[idx])
    b.labels["per_mille"] = [str(inst.facility_ids[f]) for f in idx]

    # Composition (share) norms, scaled to integers: one row per facility, or one county row.
    for name, fmask, coef, q in composition_rows(inst):
        fs = np.flatnonzero(fmask)
        county = composition_norm(inst, name).scope == "county"
        n_rows = 1 if county else fs.size
        rr, cc, vv = [], [], []
        for k, f in enumerate(fs):
            m = (col[f] >= 0) & (coef != 0)
            rr.append(np.full(int(m.sum()), 0 if county else k))
            cc.append(col[f][m])
            vv.append(coef[m].astype(float))
        if not fs.size:
            continue
        r_, c_, v_ = np.concatenate(rr), np.concatenate(cc), np.concatenate(vv)
        if elastic:
            sl = slack(name, n_rows, float(q))
            r_ = np.concatenate([r_, np.arange(n_rows)])
            c_ = np.concatenate([c_, sl.index()])
            v_ = np.concatenate([v_, np.ones(n_rows)])
        b.add_rows(name, n_rows, r_, c_, v_, lo=0.0)
        b.labels[name] = ["county"] if county else [str(inst.facility_ids[f]) for f in fs]

    # County GP norm.
    g_req = gp_required(inst)
    if g_req > 0:
        gp = inst.mask("gp")
        gcols = s.index()[gp[ci]]
        if elastic:
            sl = slack("gp_per_10k", 1)
            gcols = np.concatenate([gcols, sl.index()])
        b.add_row("gp_per_10k", gcols, 1.0, lo=float(g_req))

    # County pool.
    pool = inst.norms.pool
    if pool.total is not None:
        pcols = s.index()[inst.applies(pool.facility_types)[fi]]
        vals = np.ones(pcols.size)
        if elastic:
            sl = slack("pool", 1)
            pcols = np.concatenate([pcols, sl.index()])
            vals = np.concatenate([vals, -np.ones(1)])
        b.add_row("pool", pcols, vals, hi=float(pool.total))

    if elastic:
        return b.build()

    # Shortfall against need.
    P_ = lay.need_pairs.shape[0]
    T_ = lay.need_totals.size
    # Integer mode: u counts units of 1/D staff (D = need_scale); weights x weight_scale.
    D = float(lay.need_scale) if lay.integral else 1.0
    w_int = np.round(lay.weights * lay.weight_scale) if lay.integral else lay.weights
    u = b.add_vars(
        "shortfall", P_ + T_, lb=0.0, integer=lay.integral, cost=w_int if stage == 1 else 0.0
    )
    if P_:
        b.add_rows(
            "need",
            P_,
            np.concatenate([np.arange(P_), np.arange(P_)]),
            np.concatenate(
                [u.index(np.arange(P_)), col[lay.need_pairs[:, 0], lay.need_pairs[:, 1]]]
            ),
            np.concatenate([np.ones(P_), np.full(P_, D)]),
            lo=np.round(D * inst.need[lay.need_pairs[:, 0], lay.need_pairs[:, 1]], 9),
        )
    if T_:
        rr, cc = [np.arange(T_)], [u.index(P_ + np.arange(T_))]
        vv = [np.ones(T_)]
        for k, f in enumerate(lay.need_totals):
            m = col[f] >= 0
            rr.append(np.full(int(m.sum()), k))
            cc.append(col[f][m])
            vv.append(np.full(int(m.sum()), D))
        b.add_rows(
            "need_total",
            T_,
            np.concatenate(rr),
            np.concatenate(cc),
            np.concatenate(vv),
            lo=np.round(D * inst.need_total[lay.need_totals], 9),
        )
    if stage == 2:
        assert stage1_cap is not None
        b.add_row("stage1_cap", u.index(), w_int, hi=stage1_cap)
        dp = b.add_vars("move_up", K, lb=0.0, integer=lay.integral, cost=1.0)
        dm = b.add_vars("move_down", K, lb=0.0, integer=lay.integral, cost=1.0)
        b.add_rows(
            "movement",
            K,
            np.concatenate([np.arange(K)] * 3),
            np.concatenate([s.index(), dp.index(), dm.index()]),
            np.concatenate([np.ones(K), -np.ones(K), np.ones(K)]),
            lo=cur,
            hi=cur,
        )
    milp = b.build()
    log.info("Built %s: %s", milp.name, milp.summary())
    return milp


# ---------------------------------------------------------------------------------------------
# Evaluation and check on the raw data (independent of the model builder)
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class QuotaEvaluation:
    posts: np.ndarray
    shortfall: float
    movement: float
    compliance: list[dict[str, object]]
    violations: list[str]


def _share_units(inst: QuotaInstance, norm: ShareNorm) -> list[tuple[str, str, np.ndarray]]:
    """(scope, facility id or '', facility indices) for each unit a share norm is checked on."""
    fs = np.flatnonzero(inst.applies(norm.facility_types))
    if norm.scope == "county":
        return [("county", "", fs)]
    return [("facility", str(inst.facility_ids[f]), np.asarray([f])) for f in fs]


def evaluate_quota_plan(inst: QuotaInstance, posts: np.ndarray) -> QuotaEvaluation:
    """Objectives and the norm-compliance table of ``posts`` (F x C), from the raw data."""
    posts = np.asarray(posts)
    F, C = inst.n_facilities, len(inst.categories)
    rows: list[dict[str, object]] = []
    bad: list[str] = []

    def add(scope: str, fid: str, norm: str, required: str, achieved: str, met: bool, src: str):
        rows.append(
            {
                "scope": scope,
                "facility_id": fid,
                "norm": norm,
                "required": required,
                "achieved": achieved,
                "met": bool(met),
                "source": src,
            }
        )
        if not met:
            where = f"{scope} {fid}".strip()
            bad.append(f"norm {norm} at {where}: required {required}, got {achieved}")

    if posts.shape != (F, C):
        return QuotaEvaluation(
            posts, math.inf, math.inf, [], [f"posts table has shape {posts.shape}, not {(F, C)}"]
        )
    if not np.all(np.isfinite(posts)) or np.any(posts != np.round(posts)) or np.any(posts < 0):
        bad.append("posts must be whole non-negative numbers")
    s = np.round(np.nan_to_num(posts)).astype(np.int64)
    allowed = inst.allowed
    for f, c in np.argwhere(~allowed & (s != 0)):
        bad.append(
            f"facility {inst.label(int(f))} has {s[f, c]} posts in category "
            f"'{inst.categories[c].name}', which its type '{inst.types[f]}' does not have"
        )
    total = s.sum(axis=1)
    remote = inst.norms.remote
    bonus = frac(remote.bonus_share)
    gets_bonus = np.asarray(inst.remote, dtype=bool) & np.isin(inst.types, remote.facility_types)
    if not remote.enabled:
        gets_bonus[:] = False
    for f in range(F):
        t = str(inst.types[f])
        norm = inst.norms.per_mille.get(t)
        fid = str(inst.facility_ids[f])
        if norm is None:
            continue
        P = frac(float(inst.population[f]))
        per_mille = float(Fraction(int(total[f]) * 1000) / P) if P > 0 else math.inf
        achieved = f"{int(total[f])} posts ({per_mille:.3f}‰ of {float(P):,.0f})"
        if norm.min is not None:
            need = frac(norm.min) * P / 1000
            ok = total[f] >= need if norm.rounding == "strict" else total[f] >= round_half_up(need)
            add(
                "facility",
                fid,
                f"per_mille[{t}].min",
                f"≥ {norm.min:g}‰ × {float(P):,.0f} = {float(need):,.2f}",
                achieved,
                ok,
                norm.source,
            )
        if norm.max is not None:
            factor = 1 + (bonus if bool(gets_bonus[f]) else 0)
            cap = frac(norm.max) * factor * P / 1000
            ok = total[f] <= cap if norm.rounding == "strict" else total[f] <= round_half_up(cap)
            extra = f" × {float(factor):g} (remote)" if factor != 1 else ""
            add(
                "facility",
                fid,
                f"per_mille[{t}].max",
                f"≤ {norm.max:g}‰ × {float(P):,.0f}{extra} = {float(cap):,.2f}",
                achieved,
                ok,
                norm.source if not extra else f"{norm.source}; remote: {remote.source}",
            )
    prof = inst.mask("professional")
    ph = inst.mask("public_health")
    n1 = inst.norms.professional_min_share
    if n1.enabled:
        for scope, fid, fs in _share_units(inst, n1):
            num, den = int(s[fs][:, prof].sum()), int(total[fs].sum())
            ok = Fraction(num) >= frac(n1.value) * den
            add(
                scope,
                fid,
                "professional_min_share",
                f"≥ {100 * n1.value:g}% of {den} posts",
                f"{num} ({100 * num / den if den else 0:.1f}%)",
                ok,
                n1.source,
            )
    n2 = inst.norms.public_health_min_share
    if n2.enabled:
        for scope, fid, fs in _share_units(inst, n2):
            sub = s[fs]
            base = int(sub[:, prof].sum()) if n2.basis == "professional" else int(total[fs].sum())
            num = int(sub[:, ph].sum())
            ok = Fraction(num) >= frac(n2.value) * base
            add(
                scope,
                fid,
                "public_health_min_share",
                f"≥ {100 * n2.value:g}% of {base} {n2.basis} posts",
                f"{num} ({100 * num / base if base else 0:.1f}%)",
                ok,
                n2.source,
            )
    names = np.asarray(inst.category_names, dtype=object)
    for n in inst.norms.shares:
        if not n.enabled:
            continue
        num_c = np.isin(names, n.categories)
        base_c = np.ones(names.size, bool) if n.of is None else np.isin(names, n.of)
        of_text = "all" if n.of is None else "/".join(n.of)
        for scope, fid, fs in _share_units(inst, n):
            num, base = int(s[fs][:, num_c].sum()), int(s[fs][:, base_c].sum())
            add(
                scope,
                fid,
                f"shares[{n.name}]",
                f"≥ {100 * n.value:g}% of {base} {of_text} posts in {'/'.join(n.categories)}",
                f"{num} ({100 * num / base if base else 0:.1f}%)",
                Fraction(num) >= frac(n.value) * base,
                n.source,
            )
    gpn = inst.norms.gp_per_10k
    if gpn.enabled:
        g = int(s[:, inst.mask("gp")].sum())
        need_g = frac(gpn.per_10k) * frac(float(inst.county_population)) / 10000
        add(
            "county",
            "",
            "gp_per_10k",
            f"≥ {gpn.per_10k:g} per 10,000 × {inst.county_population:,.0f} = {float(need_g):,.1f}",
            f"{g} GP posts ({g * 10000 / inst.county_population:.2f} per 10,000)",
            Fraction(g) >= need_g,
            gpn.source,
        )
    pool = inst.norms.pool
    if pool.total is not None:
        used = int(total[inst.applies(pool.facility_types)].sum())
        add(
            "county",
            "",
            "pool",
            f"≤ {pool.total:,} posts at {', '.join(pool.facility_types)}",
            f"{used:,}",
            used <= pool.total,
            pool.source,
        )
    if not inst.norms.cuts.allowed:
        below = np.argwhere(s < inst.current)
        add(
            "county",
            "",
            "cuts",
            "posts ≥ current staff in every facility and category",
            f"{len(below)} below current"
            + (
                ": "
                + ", ".join(
                    f"{inst.facility_ids[f]}/{inst.categories[c].name} {s[f, c]} < {inst.current[f, c]}"
                    for f, c in below[:5]
                )
                if len(below)
                else ""
            ),
            len(below) == 0,
            inst.norms.cuts.source,
        )
    w_cat = np.asarray([c.shortfall_weight for c in inst.categories], dtype=float)
    need = np.nan_to_num(inst.need, nan=0.0)
    short = np.maximum(need - s, 0.0) * np.isfinite(inst.need)
    shortfall = float((short * w_cat[None, :]).sum())
    need_t = np.nan_to_num(inst.need_total, nan=0.0)
    short_t = np.maximum(need_t - total, 0.0) * np.isfinite(inst.need_total)
    shortfall += inst.total_shortfall_weight * float(short_t.sum())
    movement = float(np.abs(s - inst.current).sum())
    return QuotaEvaluation(s, shortfall, movement, rows, bad)


def check_quota_plan(inst: QuotaInstance, posts: np.ndarray) -> list[str]:
    """Every norm violation of ``posts`` (empty when the plan is compliant)."""
    return evaluate_quota_plan(inst, posts).violations


# ---------------------------------------------------------------------------------------------
# Solve
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class QuotaSolution:
    instance: QuotaInstance
    status: Status
    evaluation: QuotaEvaluation | None = None
    shortfall: float | None = None
    """Primary objective (weighted shortfall), recomputed on the raw data."""
    bound: float | None = None
    gap: float | None = None
    movement: float | None = None
    """Secondary objective (posts moved from today), recomputed on the raw data."""
    movement_bound: float | None = None
    movement_gap: float | None = None
    runtime_s: float = 0.0
    total_time_s: float = 0.0
    solver: str = ""
    solver_version: str = ""
    message: str = ""
    model_size: dict[str, int] = field(default_factory=dict)
    diagnosis: list[str] = field(default_factory=list)
    checked: bool = False

    @property
    def posts(self) -> np.ndarray | None:
        return None if self.evaluation is None else self.evaluation.posts


def _tolerance(milp: MILP) -> float:
    return 1e-6 * (float(np.abs(milp.c).sum()) + abs(milp.c0)) + 1e-6


def _stage2_start(m1: MILP, m2: MILP, x1: np.ndarray) -> np.ndarray:
    """The stage-1 plan as a feasible start of stage 2 (same posts and shortfall)."""
    x2 = np.zeros(m2.n_cols)
    for name in ("s", "shortfall"):
        x2[m2.var_blocks[name].slice] = x1[m1.var_blocks[name].slice]
    s = x1[m1.var_blocks["s"].slice]
    cur = m2.row_lo[m2.row_blocks["movement"].slice]
    x2[m2.var_blocks["move_up"].slice] = np.maximum(s - cur, 0.0)
    x2[m2.var_blocks["move_down"].slice] = np.maximum(cur - s, 0.0)
    return x2


def _decode(inst: QuotaInstance, milp: MILP, x: np.ndarray) -> np.ndarray:
    lay = _layout(inst)
    posts = np.zeros((inst.n_facilities, len(inst.categories)), dtype=np.int64)
    posts[lay.pairs[:, 0], lay.pairs[:, 1]] = np.round(x[milp.var_blocks["s"].slice]).astype(
        np.int64
    )
    return posts


def solve_quota(
    inst: QuotaInstance, options: SolveOptions | None = None, *, backend: str = "highs"
) -> QuotaSolution:
    """Prechecks, stage 1 (shortfall), stage 2 (movement), decode and certify on the raw data."""
    options = options or SolveOptions()
    t_start = time.perf_counter()
    reasons = precheck_quota(inst)
    if reasons:
        log.warning("Quota case is infeasible before solving: %d conflicts", len(reasons))
        return QuotaSolution(
            inst,
            Status.INFEASIBLE,
            diagnosis=reasons,
            total_time_s=time.perf_counter() - t_start,
            message="infeasible: found before solving",
        )
    m1 = build_quota_milp(inst, stage=1)
    r1 = solve(m1, options, backend)
    size = {
        "rows": m1.n_rows,
        "columns": m1.n_cols,
        "nonzeros": m1.nnz,
        "integer_columns": m1.n_integer,
    }
    common = {
        "solver": r1.solver,
        "solver_version": r1.solver_version,
        "model_size": size,
    }
    if not r1.status.has_solution or r1.x is None:
        diagnosis = diagnose_quota(inst, options, backend) if r1.status == Status.INFEASIBLE else []
        return QuotaSolution(
            inst,
            r1.status,
            bound=r1.bound,
            runtime_s=r1.runtime_s,
            total_time_s=time.perf_counter() - t_start,
            message=r1.message,
            diagnosis=diagnosis,
            **common,  # type: ignore[arg-type]
        )
    ev1 = evaluate_quota_plan(inst, _decode(inst, m1, r1.x))
    scale = _layout(inst).objective_scale
    z1 = float(r1.objective) if r1.objective is not None else m1.objective_value(r1.x)
    z1 /= scale
    tol1 = _tolerance(m1) / scale
    violations = list(ev1.violations)
    mismatch = abs(ev1.shortfall - z1) > tol1
    if (r1.status == Status.OPTIMAL and mismatch) or ev1.shortfall > z1 + tol1:
        violations.append(
            f"objective mismatch: solver reports shortfall {z1:,.6f}, raw data gives {ev1.shortfall:,.6f}"
        )
    bound = None if r1.bound is None else r1.bound / scale
    if bound is not None and ev1.shortfall < bound - tol1:
        violations.append(
            f"bound {bound:,.6f} is not a valid bound for the raw shortfall {ev1.shortfall:,.6f}"
        )
    if violations:
        raise CheckError(violations)
    status, runtime, message = r1.status, r1.runtime_s, r1.message
    ev, mv_bound = ev1, None
    if inst.movement == "lexicographic":
        if scale > 1 or _layout(inst).integral:
            # Integer objective: the cap is the stage-1 optimum itself, exactly.
            cap_model = float(round(ev1.shortfall * scale))
            cap = cap_model / scale
        else:
            cap = ev1.shortfall + 1e-6 * max(1.0, abs(ev1.shortfall))
            cap_model = cap
        m2 = build_quota_milp(inst, stage=2, stage1_cap=cap_model)
        remaining = max(options.time_limit_s - (time.perf_counter() - t_start), 1.0)
        opts2 = replace(options, time_limit_s=remaining, warm_start=_stage2_start(m1, m2, r1.x))
        r2 = solve(m2, opts2, backend)
        runtime += r2.runtime_s
        if r2.status.has_solution and r2.x is not None:
            ev2 = evaluate_quota_plan(inst, _decode(inst, m2, r2.x))
            z2 = float(r2.objective) if r2.objective is not None else m2.objective_value(r2.x)
            tol2 = _tolerance(m2)
            v2 = list(ev2.violations)
            if ev2.shortfall > cap + tol1:
                v2.append(
                    f"stage 2 lost the stage-1 optimum: shortfall {ev2.shortfall:,.6f} > {ev1.shortfall:,.6f}"
                )
            if (r2.status == Status.OPTIMAL and abs(ev2.movement - z2) > tol2) or (
                ev2.movement > z2 + tol2
            ):
                v2.append(
                    f"objective mismatch: solver reports movement {z2:,.6f}, raw data gives {ev2.movement:,.6f}"
                )
            if r2.bound is not None and ev2.movement < r2.bound - tol2:
                v2.append(
                    f"bound {r2.bound:,.6f} is not a valid bound for the raw movement {ev2.movement:,.6f}"
                )
            if v2:
                raise CheckError(v2)
            ev, mv_bound = ev2, r2.bound
            if r2.status == Status.FEASIBLE:
                status = Status.FEASIBLE
            message = f"stage 1: {r1.message}; stage 2: {r2.message}"
        else:
            log.warning(
                "Stage 2 (movement) found no plan (%s): keeping the stage-1 plan", r2.status.value
            )
            message = f"stage 1: {r1.message}; stage 2: {r2.status.value}"
            status = Status.FEASIBLE if status == Status.OPTIMAL else status
    if status == Status.OPTIMAL and bound is None:
        bound = ev.shortfall
    gap = relative_gap(ev.shortfall, bound) if bound is not None else None
    if status == Status.OPTIMAL and mv_bound is None and inst.movement == "lexicographic":
        mv_bound = ev.movement
    mv_gap = relative_gap(ev.movement, mv_bound) if mv_bound is not None else None
    log.info(
        "Checked quota plan on raw data: %s posts, shortfall %s, movement %s, gap %s",
        f"{int(ev.posts.sum()):,}",
        f"{ev.shortfall:,.6g}",
        f"{ev.movement:,.0f}",
        "-" if gap is None else f"{100 * gap:.4f}%",
    )
    return QuotaSolution(
        inst,
        status,
        evaluation=ev,
        shortfall=ev.shortfall,
        bound=bound,
        gap=gap,
        movement=ev.movement,
        movement_bound=mv_bound,
        movement_gap=mv_gap,
        runtime_s=runtime,
        total_time_s=time.perf_counter() - t_start,
        message=message,
        checked=True,
        **common,  # type: ignore[arg-type]
    )


def diagnose_quota(inst: QuotaInstance, options: SolveOptions, backend: str) -> list[str]:
    """After a proven infeasibility: the least relaxation of the norms, named, with numbers."""
    milp = build_quota_milp(inst, elastic=True)
    res = solve(
        milp,
        replace(options, time_limit_s=min(options.time_limit_s, 120.0), mip_rel_gap=0.0),
        backend,
    )
    if res.x is None:
        return [
            "the solver proved the norms infeasible; the elastic diagnosis found no explanation "
            f"within its time limit ({res.status.value})"
        ]
    x = res.x
    bounds = facility_bounds(inst)
    lay = _layout(inst)
    out = ["The norms conflict. The least total relaxation (in posts) that makes a plan exist:"]
    for name, block in milp.var_blocks.items():
        if not name.startswith("slack:"):
            continue
        vals = x[block.slice]
        hit = np.flatnonzero(vals > 1e-6)
        if hit.size == 0:
            continue
        row = name.removeprefix("slack:")
        if row in ("per_mille_min", "per_mille_max"):
            facs = np.flatnonzero([bd.norm is not None for bd in bounds])[hit]
            for k, f in zip(hit, facs, strict=True):
                bd = bounds[f]
                text = bd.lo_text if row == "per_mille_min" else bd.hi_text
                side = "minimum" if row == "per_mille_min" else "ceiling"
                out.append(
                    f"- norm per_mille[{inst.types[f]}] {side} at {inst.label(int(f))} "
                    f"({text} posts) gives way by {vals[k]:,.0f}"
                )
        elif row in ("professional_min_share", "public_health_min_share") or row.startswith(
            "shares["
        ):
            labels = milp.labels.get(row, [])
            norm = composition_norm(inst, row)
            q = frac(norm.value).denominator
            items = [f"{labels[k]} by {vals[k] / q:,.1f} posts" for k in hit if k < len(labels)]
            out.append(
                f"- norm {row} ({100 * norm.value:g}%) gives way at " + "; ".join(items[:15])
            )
        elif row == "gp_per_10k":
            g_req = gp_required(inst)
            out.append(
                f"- norm gp_per_10k: {g_req:,} GP posts needed ({inst.norms.gp_per_10k.per_10k:g} "
                f"per 10,000 × {inst.county_population:,.0f}); only {g_req - vals[0]:,.0f} fit"
            )
        elif row == "pool":
            total = inst.norms.pool.total or 0
            out.append(
                f"- norm pool: the other norms need {total + vals[0]:,.0f} posts but the county "
                f"pool is {total:,} (short by {vals[0]:,.0f})"
            )
        elif row == "current":
            pairs = lay.pairs[hit]
            items = [
                f"{inst.facility_ids[f]}/{inst.categories[c].name} by {vals[k]:,.0f}"
                for k, (f, c) in zip(hit, pairs, strict=True)
            ]
            out.append(
                "- norm cuts (no layoffs): current staff must be cut at " + "; ".join(items[:15])
            )
    if len(out) == 1:
        out.append("- (no norm needs relaxing; check numerical scaling of the case)")
    return out
