"""The 编制 quota problem on arrays: instance, exact per-mille bounds, share rows, prechecks."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction

import numpy as np

from .schema import Category, PerMilleNorm, QuotaNorms, ReservedHiresConfig, ShareNorm

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
class HiresInput:
    """The new-hires table as read: hospitals, their new hires, the facilities each may serve."""

    hospitals: list[str]
    new_hires: np.ndarray
    """(H,) whole people hired this year."""
    allowed: dict[str, set[str]] | None
    """Hospital -> facility ids its reserved hires may serve (None: every facility)."""
    config: ReservedHiresConfig
    vacancies: np.ndarray | None = None
    """(F, C) vacant posts as given (``reserved_hires.vacancies``); None: the plan's."""


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
    hires: HiresInput | None = None
    """Lead hospitals' new hires, when the case reserves some for grassroots posts."""

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
    bounds = facility_bounds(inst)
    cur_total = inst.current.sum(axis=1)
    out = _facility_prechecks(inst, bounds, cur_total)
    if not inst.norms.cuts.allowed:
        out += _share_prechecks(inst, bounds, cur_total)
    out += _pool_precheck(inst, bounds, cur_total)
    out += _gp_precheck(inst, bounds)
    return out


def _facility_prechecks(
    inst: QuotaInstance, bounds: list[Bound], cur_total: np.ndarray
) -> list[str]:
    """Facilities with no category, a per-mille window with no whole number, or staff above it."""
    out: list[str] = []
    cuts = inst.norms.cuts.allowed
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
    return out


def _share_prechecks(inst: QuotaInstance, bounds: list[Bound], cur_total: np.ndarray) -> list[str]:
    """Share norms that today's kept staff (no cuts) make unreachable under the ceilings."""
    out: list[str] = []
    allowed = inst.allowed
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
    return out


def _pool_precheck(inst: QuotaInstance, bounds: list[Bound], cur_total: np.ndarray) -> list[str]:
    """The per-mille minima (and kept staff) of the pool's facilities exceed the county pool."""
    pool = inst.norms.pool
    if pool.total is None:
        return []
    cuts = inst.norms.cuts.allowed
    in_pool = inst.applies(pool.facility_types)
    need = [max(b.lo, 0 if cuts else int(cur_total[f])) for f, b in enumerate(bounds)]
    total_min = sum(need[f] for f in np.flatnonzero(in_pool))
    if total_min <= pool.total:
        return []
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
    return [
        f"norm per_mille minima vs norm pool: Σ minimum posts {total_min:,} exceeds the "
        f"county pool of {pool.total:,} at {', '.join(pool.facility_types)} "
        f"({'; '.join(parts)})"
    ]


def _gp_precheck(inst: QuotaInstance, bounds: list[Bound]) -> list[str]:
    """The county GP norm against the facilities that may hold GP posts and the pool."""
    out: list[str] = []
    g_req = gp_required(inst)
    if g_req <= 0:
        return out
    pool = inst.norms.pool
    gp = inst.mask("gp")
    has_gp = (inst.allowed & gp[None, :]).any(axis=1)
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
