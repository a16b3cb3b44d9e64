"""The 编制 quota plan recomputed on the raw data: objectives and the norm-compliance table."""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction

import numpy as np

from .problem import QuotaInstance, frac, round_half_up
from .schema import ShareNorm


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


class _Compliance:
    """The compliance rows of a plan and the violations among them (one per unmet norm)."""

    def __init__(self) -> None:
        self.rows: list[dict[str, object]] = []
        self.bad: list[str] = []

    def add(
        self, scope: str, fid: str, norm: str, required: str, achieved: str, met: bool, src: str
    ) -> None:
        self.rows.append(
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
            self.bad.append(f"norm {norm} at {where}: required {required}, got {achieved}")


def evaluate_quota_plan(inst: QuotaInstance, posts: np.ndarray) -> QuotaEvaluation:
    """Objectives and the norm-compliance table of ``posts`` (F x C), from the raw data."""
    posts = np.asarray(posts)
    F, C = inst.n_facilities, len(inst.categories)
    if posts.shape != (F, C):
        return QuotaEvaluation(
            posts, math.inf, math.inf, [], [f"posts table has shape {posts.shape}, not {(F, C)}"]
        )
    out = _Compliance()
    if not np.all(np.isfinite(posts)) or np.any(posts != np.round(posts)) or np.any(posts < 0):
        out.bad.append("posts must be whole non-negative numbers")
    s = np.round(np.nan_to_num(posts)).astype(np.int64)
    for f, c in np.argwhere(~inst.allowed & (s != 0)):
        out.bad.append(
            f"facility {inst.label(int(f))} has {s[f, c]} posts in category "
            f"'{inst.categories[c].name}', which its type '{inst.types[f]}' does not have"
        )
    total = s.sum(axis=1)
    _per_mille_checks(inst, total, out)
    _share_checks(inst, s, total, out)
    _county_checks(inst, s, total, out)
    w_cat = np.asarray([c.shortfall_weight for c in inst.categories], dtype=float)
    need = np.nan_to_num(inst.need, nan=0.0)
    short = np.maximum(need - s, 0.0) * np.isfinite(inst.need)
    shortfall = float((short * w_cat[None, :]).sum())
    need_t = np.nan_to_num(inst.need_total, nan=0.0)
    short_t = np.maximum(need_t - total, 0.0) * np.isfinite(inst.need_total)
    shortfall += inst.total_shortfall_weight * float(short_t.sum())
    movement = float(np.abs(s - inst.current).sum())
    return QuotaEvaluation(s, shortfall, movement, out.rows, out.bad)


def _per_mille_checks(inst: QuotaInstance, total: np.ndarray, out: _Compliance) -> None:
    """Per-mille minimum and ceiling (remote bonus included) of every facility, exactly."""
    remote = inst.norms.remote
    bonus = frac(remote.bonus_share)
    gets_bonus = np.asarray(inst.remote, dtype=bool) & np.isin(inst.types, remote.facility_types)
    if not remote.enabled:
        gets_bonus[:] = False
    for f in range(inst.n_facilities):
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
            out.add(
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
            out.add(
                "facility",
                fid,
                f"per_mille[{t}].max",
                f"≤ {norm.max:g}‰ × {float(P):,.0f}{extra} = {float(cap):,.2f}",
                achieved,
                ok,
                norm.source if not extra else f"{norm.source}; remote: {remote.source}",
            )


def _share_checks(inst: QuotaInstance, s: np.ndarray, total: np.ndarray, out: _Compliance) -> None:
    """Professional, public-health and named category shares, per facility or county-wide."""
    prof = inst.mask("professional")
    ph = inst.mask("public_health")
    n1 = inst.norms.professional_min_share
    if n1.enabled:
        for scope, fid, fs in _share_units(inst, n1):
            num, den = int(s[fs][:, prof].sum()), int(total[fs].sum())
            out.add(
                scope,
                fid,
                "professional_min_share",
                f"≥ {100 * n1.value:g}% of {den} posts",
                f"{num} ({100 * num / den if den else 0:.1f}%)",
                Fraction(num) >= frac(n1.value) * den,
                n1.source,
            )
    n2 = inst.norms.public_health_min_share
    if n2.enabled:
        for scope, fid, fs in _share_units(inst, n2):
            sub = s[fs]
            base = int(sub[:, prof].sum()) if n2.basis == "professional" else int(total[fs].sum())
            num = int(sub[:, ph].sum())
            out.add(
                scope,
                fid,
                "public_health_min_share",
                f"≥ {100 * n2.value:g}% of {base} {n2.basis} posts",
                f"{num} ({100 * num / base if base else 0:.1f}%)",
                Fraction(num) >= frac(n2.value) * base,
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
            out.add(
                scope,
                fid,
                f"shares[{n.name}]",
                f"≥ {100 * n.value:g}% of {base} {of_text} posts in {'/'.join(n.categories)}",
                f"{num} ({100 * num / base if base else 0:.1f}%)",
                Fraction(num) >= frac(n.value) * base,
                n.source,
            )


def _county_checks(inst: QuotaInstance, s: np.ndarray, total: np.ndarray, out: _Compliance) -> None:
    """County GP posts per 10,000, the county pool and the no-cuts rule."""
    gpn = inst.norms.gp_per_10k
    if gpn.enabled:
        g = int(s[:, inst.mask("gp")].sum())
        need_g = frac(gpn.per_10k) * frac(float(inst.county_population)) / 10000
        out.add(
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
        out.add(
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
        listed = ", ".join(
            f"{inst.facility_ids[f]}/{inst.categories[c].name} {s[f, c]} < {inst.current[f, c]}"
            for f, c in below[:5]
        )
        out.add(
            "county",
            "",
            "cuts",
            "posts ≥ current staff in every facility and category",
            f"{len(below)} below current" + (": " + listed if len(below) else ""),
            len(below) == 0,
            inst.norms.cuts.source,
        )


def check_quota_plan(inst: QuotaInstance, posts: np.ndarray) -> list[str]:
    """Every norm violation of ``posts`` (empty when the plan is compliant)."""
    return evaluate_quota_plan(inst, posts).violations


# ---------------------------------------------------------------------------------------------
