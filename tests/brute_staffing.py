"""Brute-force oracles for the staffing models: enumerate every plan of a tiny instance.

Written independently of ``optimizer.staffing`` (plain specs, exact fractions, per-doctor
schedules; no aggregation, no model builder), so an error in the package cannot hide in both.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field
from fractions import Fraction

import numpy as np


# ---------------------------------------------------------------------------------------------
# Quota
# ---------------------------------------------------------------------------------------------
@dataclass
class QuotaSpec:
    types: list[str]
    pop: list[int]
    remote: list[bool]
    cat_names: list[str]
    cat_prof: list[bool]
    cat_ph: list[bool]
    cat_gp: list[bool]
    cat_types: list[list[str] | None]
    cat_weight: list[float]
    cur: list[list[int]]
    need: list[list[float]]  # nan = none
    need_total: list[float]  # nan = none
    per_mille: dict[str, tuple[float | None, float | None]]
    bonus: float = 0.10
    bonus_types: list[str] = field(default_factory=lambda: ["thc"])
    prof_share: float | None = 0.90
    ph_share: float | None = 0.25
    ph_basis: str = "professional"
    share_types: list[str] = field(default_factory=lambda: ["thc", "chc"])
    share_scope: str = "facility"  # or "county": the shares over the summed posts
    # (numerator categories, denominator categories or None = all, share, facility types)
    extra_shares: list[tuple[list[int], list[int] | None, float, list[str]]] = field(
        default_factory=list
    )
    gp_per_10k: float | None = 4.0
    county: int = 0
    pool: int | None = None
    pool_types: list[str] = field(default_factory=lambda: ["thc", "chc"])
    cuts: bool = False
    total_weight: float = 1.0


def _f(x: float) -> Fraction:
    return Fraction(str(x))


def quota_brute(spec: QuotaSpec, max_posts: int = 12) -> tuple[float, float] | None:
    """Lexicographic optimum (weighted shortfall, posts moved), or None if infeasible."""
    F, C = len(spec.types), len(spec.cat_names)
    options: list[list[tuple[int, ...]]] = []
    for f in range(F):
        t = spec.types[f]
        allowed = [spec.cat_types[c] is None or t in spec.cat_types[c] for c in range(C)]
        lo_pm, hi_pm = spec.per_mille.get(t, (None, None))
        P = Fraction(spec.pop[f])
        factor = 1 + (_f(spec.bonus) if spec.remote[f] and t in spec.bonus_types else 0)
        ranges = [range(max_posts + 1) if allowed[c] else range(1) for c in range(C)]
        mine = []
        for vec in itertools.product(*ranges):
            total = sum(vec)
            if lo_pm is not None and total * 1000 < _f(lo_pm) * P:
                continue
            if hi_pm is not None and total * 1000 > _f(hi_pm) * factor * P:
                continue
            if not spec.cuts and any(vec[c] < spec.cur[f][c] for c in range(C)):
                continue
            bad_extra = False
            for num_c, den_c, share, types in spec.extra_shares:
                if t in types:
                    num = sum(vec[c] for c in num_c)
                    den = sum(vec[c] for c in (range(C) if den_c is None else den_c))
                    bad_extra |= num < _f(share) * den
            if bad_extra:
                continue
            if t in spec.share_types and spec.share_scope == "facility":
                prof = sum(vec[c] for c in range(C) if spec.cat_prof[c])
                ph = sum(vec[c] for c in range(C) if spec.cat_ph[c])
                if spec.prof_share is not None and prof < _f(spec.prof_share) * total:
                    continue
                base = prof if spec.ph_basis == "professional" else total
                if spec.ph_share is not None and ph < _f(spec.ph_share) * base:
                    continue
            mine.append(vec)
        if not mine:
            return None
        options.append(mine)
    # Each facility's options contribute GP posts, pool posts, shortfall and movement; the
    # county rows and the objectives are sums over facilities (numpy broadcasting over plans).
    gp_sum = np.zeros(())
    pool_sum = np.zeros(())
    prof_sum, ph_sum, tot_sum = np.zeros(()), np.zeros(()), np.zeros(())
    short_sum = np.zeros(())
    moved_sum = np.zeros(())
    for f in range(F):
        vecs = np.asarray(options[f], dtype=float)
        gp = vecs[:, [c for c in range(C) if spec.cat_gp[c]]].sum(axis=1)
        pool = vecs.sum(axis=1) if spec.types[f] in spec.pool_types else np.zeros(len(vecs))
        short = np.zeros(len(vecs))
        for c in range(C):
            if not math.isnan(spec.need[f][c]):
                short += spec.cat_weight[c] * np.maximum(spec.need[f][c] - vecs[:, c], 0.0)
        if not math.isnan(spec.need_total[f]):
            short += spec.total_weight * np.maximum(spec.need_total[f] - vecs.sum(axis=1), 0.0)
        moved = np.abs(vecs - np.asarray(spec.cur[f], dtype=float)).sum(axis=1)
        shape = [1] * F
        shape[f] = len(vecs)
        if spec.types[f] in spec.share_types:
            prof_sum = prof_sum + vecs[:, spec.cat_prof].sum(axis=1).reshape(shape)
            ph_sum = ph_sum + vecs[:, spec.cat_ph].sum(axis=1).reshape(shape)
            tot_sum = tot_sum + vecs.sum(axis=1).reshape(shape)
        gp_sum = gp_sum + gp.reshape(shape)
        pool_sum = pool_sum + pool.reshape(shape)
        short_sum = short_sum + short.reshape(shape)
        moved_sum = moved_sum + moved.reshape(shape)
    ok = np.ones(short_sum.shape, dtype=bool)
    if spec.gp_per_10k is not None:
        # exact: GP posts x 10,000 >= per_10k x county, with integer posts
        need_gp = math.ceil(_f(spec.gp_per_10k) * spec.county / 10000)
        ok &= gp_sum >= need_gp
    if spec.pool is not None:
        ok &= pool_sum <= spec.pool
    if spec.share_scope == "county":
        # exact: integer posts, shares as fractions n/d -> n x base <= d x part
        if spec.prof_share is not None:
            a = _f(spec.prof_share)
            ok &= prof_sum * a.denominator >= a.numerator * tot_sum
        if spec.ph_share is not None:
            a = _f(spec.ph_share)
            base = prof_sum if spec.ph_basis == "professional" else tot_sum
            ok &= ph_sum * a.denominator >= a.numerator * base
    if not ok.any():
        return None
    best_short = float(short_sum[ok].min())
    tie = ok & (short_sum <= best_short + 1e-9)
    return round(best_short, 9), float(moved_sum[tie].min())


# ---------------------------------------------------------------------------------------------
# Sent-down rotations
# ---------------------------------------------------------------------------------------------
@dataclass
class RotationSpec:
    months: int
    window: int
    lmin: int
    lmax: int
    doctors: list[tuple[int, int, int, int]]  # hospital, specialty, available from, to
    dept: np.ndarray  # H x S headcount
    kappa: float
    host_types: list[str]
    capacity: list[float]
    stationed: int
    travel: np.ndarray  # H x F minutes (inf = none)
    max_travel: float
    need: np.ndarray  # F x S x T
    value: np.ndarray  # S
    cover: np.ndarray  # I x F bool
    weight: np.ndarray  # I
    annual: float | None
    w_cov: float
    w_travel: float
    w_short: float
    w_fair: float
    release_at_once: list[float] | None = None  # per hospital (inf = none)
    release_per_year: list[float] | None = None  # per hospital, stints started in months 1-12, ...
    need_weight: np.ndarray | None = None  # F x S x T weight of an unmet doctor-month


def _schedules(spec: RotationSpec, d: int) -> list[list[tuple[int, int, int]]]:
    """Every feasible list of stints (host, start, length) of doctor ``d``."""
    h, _, a0, a1 = spec.doctors[d]
    F = len(spec.host_types)
    single = [
        (f, tau, L)
        for f in range(F)
        if np.isfinite(spec.travel[h, f]) and spec.travel[h, f] <= spec.max_travel
        for L in range(spec.lmin, spec.lmax + 1)
        for tau in range(1, spec.months + 1)
        if tau >= a0 and tau + L - 1 <= min(a1, spec.months)
    ]
    out: list[list[tuple[int, int, int]]] = [[]]

    def extend(prefix: list[tuple[int, int, int]]) -> None:
        for s in single:
            if prefix and s[1] < prefix[-1][1] + spec.window:
                continue
            if prefix and s[1] <= prefix[-1][1] + prefix[-1][2] - 1:
                continue
            nxt = [*prefix, s]
            out.append(nxt)
            extend(nxt)

    extend([])
    return out


def rotation_brute(spec: RotationSpec) -> float | None:
    """Best objective over all per-doctor schedules, or None if no plan meets every rule."""
    D = len(spec.doctors)
    F, S, T = spec.need.shape
    H = spec.dept.shape[0]
    cap_away = np.floor(spec.kappa * spec.dept + 1e-9)
    per_doc = [_schedules(spec, d) for d in range(D)]
    best: float | None = None
    for combo in itertools.product(*per_doc):
        pres = np.zeros((F, S, T))
        away = np.zeros((H, S, T))
        travel = 0.0
        starts = []
        for d, sched in enumerate(combo):
            h, s, _, _ = spec.doctors[d]
            for f, tau, L in sched:
                pres[f, s, tau - 1 : tau - 1 + L] += 1
                away[h, s, tau - 1 : tau - 1 + L] += 1
                travel += spec.travel[h, f] * L
                starts.append(tau)
        if (away > cap_away[:, :, None]).any():
            continue
        if (
            spec.release_at_once is not None
            and (away.sum(axis=1) > np.asarray(spec.release_at_once)[:, None]).any()
        ):
            continue
        if spec.release_per_year is not None:
            started = np.zeros((H, (T + 11) // 12))
            for d, sched in enumerate(combo):
                for _, tau, _ in sched:
                    started[spec.doctors[d][0], (tau - 1) // 12] += 1
            if (started > np.asarray(spec.release_per_year)[:, None]).any():
                continue
        tot = pres.sum(axis=1)
        if (tot > np.asarray(spec.capacity)[:, None]).any():
            continue
        thc = np.asarray([t == "thc" for t in spec.host_types])
        if (tot[thc] < spec.stationed).any():
            continue
        if spec.annual is not None:
            ok = all(
                sum(1 for st in starts if 12 * y + 1 <= st <= 12 * y + 12) >= spec.annual
                for y in range(T // 12)
            )
            if not ok:
                continue
        cov = 0.0
        for s in range(S):
            for t in range(T):
                hosts = pres[:, s, t] > 0
                covered = (spec.cover[:, hosts]).any(axis=1)
                cov += spec.value[s] * float(spec.weight[covered].sum())
        unmet = np.maximum(spec.need - pres, 0)
        worst = float(unmet.sum(axis=(1, 2)).max()) if (spec.need > 0).any() else 0.0
        obj = (
            spec.w_cov * cov
            - spec.w_travel * travel
            - spec.w_short
            * float((unmet * (1.0 if spec.need_weight is None else spec.need_weight)).sum())
            - spec.w_fair * worst
        )
        if best is None or obj > best + 1e-9:
            best = obj
    return best
