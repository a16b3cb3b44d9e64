r"""The 编制 quota MILP (MODELS.md §4.1, §8.4): integer posts per facility and category.

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
from dataclasses import dataclass

import numpy as np

from ...milp import MILP, Block, ModelBuilder
from .problem import (
    QuotaInstance,
    composition_norm,
    composition_rows,
    facility_bounds,
    frac,
    gp_required,
)

log = logging.getLogger(__name__)


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
    _per_mille_rows(b, inst, col, s, elastic)
    _share_rows(b, inst, col, elastic)
    _county_rows(b, inst, s, ci, fi, elastic)
    if elastic:
        return b.build()
    u, w_int = _need_rows(b, inst, lay, col, stage)
    if stage == 2:
        assert stage1_cap is not None
        b.add_row("stage1_cap", u.index(), w_int, hi=stage1_cap)
        _movement_rows(b, lay, s, cur)
    milp = b.build()
    log.info("Built %s: %s", milp.name, milp.summary())
    return milp


def _slack(b: ModelBuilder, name: str, n: int, scale: float = 1.0) -> Block:
    """Elastic slack of a row block, priced per post (scaled rows divide by their scale)."""
    return b.add_vars(f"slack:{name}", n, lb=0.0, cost=1.0 / scale)


def _per_mille_rows(
    b: ModelBuilder, inst: QuotaInstance, col: np.ndarray, s: Block, elastic: bool
) -> None:
    """``L_f <= Σ_c s_fc <= U_f`` per facility with a per-mille norm (+ ``s >= cur`` when elastic)."""
    F, C = col.shape
    bounds = facility_bounds(inst)
    cuts = inst.norms.cuts.allowed
    K = s.size
    hi_f = np.asarray([np.inf if bd.hi is None else bd.hi for bd in bounds], dtype=float)
    lo_f = np.asarray([bd.lo for bd in bounds], dtype=float)
    has = np.asarray([bd.norm is not None for bd in bounds])
    idx = np.flatnonzero(has)
    rows, cols_ = np.repeat(np.arange(F), C), col.ravel()
    keep = (cols_ >= 0) & has[rows]
    row_of = np.full(F, -1)
    row_of[idx] = np.arange(idx.size)
    r_tot, c_tot = row_of[rows[keep]], cols_[keep]
    if elastic:
        lo_sl = _slack(b, "per_mille_min", idx.size)
        hi_sl = _slack(b, "per_mille_max", idx.size)
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
            lay = _layout(inst)
            cur = inst.current[lay.pairs[:, 0], lay.pairs[:, 1]].astype(float)
            cur_sl = _slack(b, "current", K)
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


def _share_rows(b: ModelBuilder, inst: QuotaInstance, col: np.ndarray, elastic: bool) -> None:
    """Composition (share) norms, scaled to integers: one row per facility, or one county row."""
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
            sl = _slack(b, name, n_rows, float(q))
            r_ = np.concatenate([r_, np.arange(n_rows)])
            c_ = np.concatenate([c_, sl.index()])
            v_ = np.concatenate([v_, np.ones(n_rows)])
        b.add_rows(name, n_rows, r_, c_, v_, lo=0.0)
        b.labels[name] = ["county"] if county else [str(inst.facility_ids[f]) for f in fs]


def _county_rows(
    b: ModelBuilder, inst: QuotaInstance, s: Block, ci: np.ndarray, fi: np.ndarray, elastic: bool
) -> None:
    """The county GP norm (``Σ GP posts >= ⌈g · Pop / 10,000⌉``) and the county pool."""
    g_req = gp_required(inst)
    if g_req > 0:
        gp = inst.mask("gp")
        gcols = s.index()[gp[ci]]
        if elastic:
            sl = _slack(b, "gp_per_10k", 1)
            gcols = np.concatenate([gcols, sl.index()])
        b.add_row("gp_per_10k", gcols, 1.0, lo=float(g_req))
    pool = inst.norms.pool
    if pool.total is not None:
        pcols = s.index()[inst.applies(pool.facility_types)[fi]]
        vals = np.ones(pcols.size)
        if elastic:
            sl = _slack(b, "pool", 1)
            pcols = np.concatenate([pcols, sl.index()])
            vals = np.concatenate([vals, -np.ones(1)])
        b.add_row("pool", pcols, vals, hi=float(pool.total))


def _need_rows(
    b: ModelBuilder, inst: QuotaInstance, lay: _Layout, col: np.ndarray, stage: int
) -> tuple[Block, np.ndarray]:
    """Shortfall against need, per pair and per facility total; returns ``u`` and its weights.

    Integer mode: ``u`` counts units of 1/D staff (D = need_scale); weights x weight_scale.
    """
    P_ = lay.need_pairs.shape[0]
    T_ = lay.need_totals.size
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
    return u, w_int


def _movement_rows(b: ModelBuilder, lay: _Layout, s: Block, cur: np.ndarray) -> None:
    """Stage 2: ``s - move_up + move_down = cur``, moves priced 1 per post."""
    K = lay.pairs.shape[0]
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
