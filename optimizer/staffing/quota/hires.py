r"""Reserved hires (Qingdao): lead hospitals' new hires reserved for grassroots posts, as an IP.

County lead hospitals :math:`h` hire :math:`N_h` people this year and must reserve a share
:math:`a \le \cdot \le b` (5-10%) of them for grassroots posts, each serving :math:`\ge 2` years
there. The posts to fill are the 编制 plan's vacancies at township centres (or the listed types):
post :math:`g = (f, c)` has :math:`V_g = \max(s_{fc} - cur_{fc}, 0)` vacancies (or the vacancies
a table gives, ``reserved_hires.vacancies``) and weight
:math:`w_g` (the category's ``shortfall_weight``, times ``remote_weight`` at remote facilities); hospital :math:`h` may send to the facilities
:math:`A_h` (its 医共体 members when a pairs file is given, else every facility).

.. math::

    \min\; & \textstyle\sum_g w_g u_g \\
    \text{s.t.}\; & \textstyle\sum_{h: f(g) \in A_h} x_{hg} + u_g = V_g
        && \text{(fill; } u_g \text{ = posts left unfilled)} \\
    & \lceil a N_h \rceil \le \textstyle\sum_g x_{hg} \le \lfloor b N_h \rfloor
        && \text{(reserve } a..b \text{ of the new hires, whole people)} \\
    & x_{hg} \in \mathbb{Z}_+,\; u_g \ge 0

Each reserved hire serves ``service_years`` (checked >= ``min_service_years``) at the post. The
matrix is that of a transportation problem (totally unimodular), so the LP bound is the
integer optimum; the plan is still solved as an integer program and recomputed on the raw
numbers (:func:`evaluate_hires`, exact fractions) before it is reported. Source: MISSION.md
(Qingdao: "county lead hospitals reserve 5-10% of new hires for grassroots posts, >= 2 years").
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field
from fractions import Fraction

import numpy as np

from ...errors import CheckError
from ...milp import MILP, ModelBuilder
from ...solvers import SolveOptions, Status, relative_gap, solve
from .problem import HiresInput, QuotaInstance
from .schema import ReservedHiresConfig

__all__ = [
    "HiresEvaluation",
    "HiresInput",
    "HiresInstance",
    "HiresSolution",
    "build_hires_milp",
    "diagnose_hires",
    "evaluate_hires",
    "hires_instance",
    "precheck_hires",
    "solve_hires",
]

log = logging.getLogger(__name__)


@dataclass(frozen=True, eq=False)
class HiresInstance:
    """Hospitals x grassroots posts (facility, category) with vacancies from the quota plan."""

    hospitals: list[str]
    new_hires: np.ndarray
    post_facility: np.ndarray
    post_name: np.ndarray
    post_category: np.ndarray
    vacancies: np.ndarray
    """(G,) whole posts to fill (plan posts - current staff, at least 0)."""
    weight: np.ndarray
    allowed: np.ndarray
    """(H, G) whether hospital h may send a reserved hire to post g."""
    config: ReservedHiresConfig

    def band(self) -> tuple[np.ndarray, np.ndarray]:
        """Whole reserved hires per hospital: ceil(a N_h), floor(b N_h), in exact fractions."""
        a = Fraction(str(self.config.min_share))
        b = Fraction(str(self.config.max_share))
        lo = np.asarray([math.ceil(a * int(n)) for n in self.new_hires], dtype=np.int64)
        hi = np.asarray([math.floor(b * int(n)) for n in self.new_hires], dtype=np.int64)
        return lo, hi


def hires_instance(inst: QuotaInstance, posts: np.ndarray) -> HiresInstance:
    """The posts to fill: vacancies of the plan ``posts`` (F x C) at the configured types."""
    assert inst.hires is not None
    data, cfg = inst.hires, inst.hires.config
    cats = [c.name for c in inst.categories]
    use_c = np.asarray(
        [
            (c.name in cfg.categories) if cfg.categories is not None else bool(c.professional)
            for c in inst.categories
        ]
    )
    if data.vacancies is not None:  # a vacancies table: every row it gives (checked on reading)
        use_c[:] = True
    use = inst.allowed & use_c[None, :] & inst.applies(cfg.facility_types)[:, None]
    vac = (
        np.maximum(np.asarray(posts, dtype=np.int64) - inst.current, 0)
        if data.vacancies is None
        else np.asarray(data.vacancies, dtype=np.int64)
    )
    fi, ci = np.nonzero(use & (vac > 0))
    w_cat = np.asarray([c.shortfall_weight for c in inst.categories], dtype=float)
    w_fac = np.where(np.asarray(inst.remote, dtype=bool), cfg.remote_weight, 1.0)
    fac = inst.facility_ids[fi].astype(str)
    allowed = np.ones((len(data.hospitals), fi.size), dtype=bool)
    if data.allowed is not None:
        for k, h in enumerate(data.hospitals):
            allowed[k] = np.isin(fac, sorted(data.allowed.get(h, set())))
    return HiresInstance(
        hospitals=list(data.hospitals),
        new_hires=np.asarray(data.new_hires, dtype=np.int64),
        post_facility=fac,
        post_name=inst.names[fi].astype(str),
        post_category=np.asarray([cats[c] for c in ci], dtype=object),
        vacancies=vac[fi, ci],
        weight=w_cat[ci] * w_fac[fi],
        allowed=allowed,
        config=cfg,
    )


def precheck_hires(h: HiresInstance) -> list[str]:
    """Bands with no whole number, and hospitals with fewer reachable vacancies than their minimum."""
    out: list[str] = []
    lo, hi = h.band()
    cfg = h.config
    for k, name in enumerate(h.hospitals):
        n = int(h.new_hires[k])
        if lo[k] > hi[k]:
            out.append(
                f"reserved_hires at {name}: {100 * cfg.min_share:g}-{100 * cfg.max_share:g}% of "
                f"{n} new hires is {float(cfg.min_share * n):.2f}-{float(cfg.max_share * n):.2f}: "
                "no whole number of people fits (widen the band or pool small hospitals)"
            )
        reach = int(h.vacancies[h.allowed[k]].sum())
        if lo[k] > reach:
            out.append(
                f"reserved_hires at {name}: at least {lo[k]} reserved hires "
                f"({100 * cfg.min_share:g}% of {n}) but only {reach} vacant grassroots posts "
                "it may serve (pairs file / facility_types / categories)"
            )
    if lo.sum() > h.vacancies.sum():
        out.append(
            f"reserved_hires: the hospitals must reserve at least {int(lo.sum())} hires but the "
            f"plan leaves {int(h.vacancies.sum())} vacant grassroots posts"
        )
    return out


def build_hires_milp(h: HiresInstance) -> MILP:
    """The reserved-hires IP of the module docstring (x per allowed pair, u per post)."""
    lo, hi = h.band()
    H, G = h.allowed.shape
    hk, gk = np.nonzero(h.allowed)
    b = ModelBuilder("reserved-hires", "min")
    x = b.add_vars("x", hk.size, lb=0.0, ub=h.vacancies[gk].astype(float), integer=True)
    u = b.add_vars("unfilled", G, lb=0.0, cost=h.weight)
    b.add_rows(
        "fill",
        G,
        np.concatenate([gk, np.arange(G)]),
        np.concatenate([x.index(), u.index()]),
        1.0,
        lo=h.vacancies.astype(float),
        hi=h.vacancies.astype(float),
    )
    b.add_rows("band", H, hk, x.index(), 1.0, lo=lo.astype(float), hi=hi.astype(float))
    return b.build()


def diagnose_hires(h: HiresInstance, options: SolveOptions, backend: str) -> list[str]:
    """After a proven infeasibility: the hospitals whose minimum reserved hires cannot all be
    placed, by how many (least total shortfall of the minima, ``Σ_h s_h``, with every post's
    vacancies and every pair kept)."""
    lo, _hi = h.band()
    H, G = h.allowed.shape
    hk, gk = np.nonzero(h.allowed)
    b = ModelBuilder("reserved-hires-elastic", "min")
    x = b.add_vars("x", hk.size, lb=0.0, integer=True)
    s = b.add_vars("slack", H, lb=0.0, cost=1.0)
    b.add_rows("fill", G, gk, x.index(), 1.0, hi=h.vacancies.astype(float))
    b.add_rows(
        "band_min",
        H,
        np.concatenate([hk, np.arange(H)]),
        np.concatenate([x.index(), s.index()]),
        1.0,
        lo=lo.astype(float),
    )
    res = solve(b.build(), options, backend)
    if res.x is None:
        return [f"the reserved-hires minima cannot be met ({res.status.value})"]
    short = np.round(res.x[s.slice]).astype(np.int64)
    out = [
        "The hospitals' minimum reserved hires do not fit the vacancies they may serve together "
        f"(they share posts): {int(short.sum())} of {int(lo.sum())} cannot be placed."
    ]
    for k in np.flatnonzero(short > 0):
        out.append(
            f"- {h.hospitals[k]}: at least {lo[k]} reserved hires, {short[k]} without a post "
            f"(its facilities hold {int(h.vacancies[h.allowed[k]].sum())} vacancies, shared)"
        )
    return out


@dataclass(frozen=True, eq=False)
class HiresEvaluation:
    hires: np.ndarray
    """(H, G) reserved hires of hospital h at post g."""
    unfilled: float
    """Σ_g w_g (V_g - filled_g): the objective, recomputed."""
    unfilled_posts: int
    compliance: list[dict[str, object]]
    violations: list[str]


def evaluate_hires(h: HiresInstance, hires: np.ndarray) -> HiresEvaluation:
    """Recompute the plan on the raw numbers: band per hospital (exact fractions), vacancies,
    allowed pairs, whole people, service years; the weighted unfilled posts."""
    cfg = h.config
    x = np.asarray(hires)
    bad: list[str] = []
    rows: list[dict[str, object]] = []
    if np.any(x < 0) or np.any(x != np.round(x)):
        bad.append("reserved hires must be whole non-negative numbers")
    x = np.round(x).astype(np.int64)
    for k, g in np.argwhere((x > 0) & ~h.allowed):
        bad.append(
            f"reserved_hires: {h.hospitals[k]} sends {x[k, g]} to {h.post_facility[g]}, "
            "which it may not serve (pairs file)"
        )
    filled = x.sum(axis=0)
    for g in np.flatnonzero(filled > h.vacancies):
        bad.append(
            f"reserved_hires: {filled[g]} hires at {h.post_facility[g]}/{h.post_category[g]} "
            f"exceed its {h.vacancies[g]} vacancies"
        )
    a, b = Fraction(str(cfg.min_share)), Fraction(str(cfg.max_share))
    for k, name in enumerate(h.hospitals):
        n, r = int(h.new_hires[k]), int(x[k].sum())
        ok = a * n <= r <= b * n
        rows.append(
            {
                "norm": "reserved_hires.share",
                "label": f"reserved hires {100 * cfg.min_share:g}-{100 * cfg.max_share:g}% of new hires",
                "scope": "hospital",
                "zone": name,
                "required": f"{float(a * n):.2f}-{float(b * n):.2f} of {n}",
                "achieved": f"{r} ({100 * r / n if n else 0:.1f}%)",
                "met": bool(ok),
                "source": cfg.source,
            }
        )
        if not ok:
            bad.append(
                f"reserved_hires at {name}: {r} reserved of {n} new hires is outside the band"
            )
    years_ok = cfg.service_years >= cfg.min_service_years
    rows.append(
        {
            "norm": "reserved_hires.service_years",
            "label": "service at the grassroots post",
            "scope": "county",
            "zone": "",
            "required": f">= {cfg.min_service_years} years",
            "achieved": f"{cfg.service_years} years",
            "met": years_ok,
            "source": cfg.source,
        }
    )
    if not years_ok:
        bad.append(f"reserved_hires.service_years {cfg.service_years} < {cfg.min_service_years}")
    left = np.maximum(h.vacancies - filled, 0)
    return HiresEvaluation(x, float((h.weight * left).sum()), int(left.sum()), rows, bad)


@dataclass(frozen=True, eq=False)
class HiresSolution:
    instance: HiresInstance
    status: Status
    evaluation: HiresEvaluation | None = None
    objective: float | None = None
    bound: float | None = None
    gap: float | None = None
    message: str = ""
    diagnosis: list[str] = field(default_factory=list)


def solve_hires(h: HiresInstance, options: SolveOptions, backend: str) -> HiresSolution:
    """Precheck, solve, decode and certify the reserved-hires plan on the raw numbers."""
    reasons = precheck_hires(h)
    if reasons:
        log.warning("Reserved hires are infeasible before solving: %d conflicts", len(reasons))
        return HiresSolution(h, Status.INFEASIBLE, diagnosis=reasons, message="infeasible")
    milp = build_hires_milp(h)
    res = solve(milp, options, backend)
    if not res.status.has_solution or res.x is None:
        why = diagnose_hires(h, options, backend) if res.status == Status.INFEASIBLE else []
        return HiresSolution(h, res.status, bound=res.bound, message=res.message, diagnosis=why)
    hk, gk = np.nonzero(h.allowed)
    x = np.zeros(h.allowed.shape, dtype=np.int64)
    x[hk, gk] = np.round(res.x[milp.var_blocks["x"].slice]).astype(np.int64)
    ev = evaluate_hires(h, x)
    violations = list(ev.violations)
    z = float(res.objective) if res.objective is not None else milp.objective_value(res.x)
    tol = 1e-6 * (1.0 + float(h.weight.sum()))
    if (abs(ev.unfilled - z) > tol and res.status == Status.OPTIMAL) or ev.unfilled > z + tol:
        violations.append(
            f"objective mismatch: solver reports unfilled {z:,.6f}, raw data gives {ev.unfilled:,.6f}"
        )
    if res.bound is not None and ev.unfilled < res.bound - tol:
        violations.append(f"bound {res.bound:,.6f} is above the raw unfilled {ev.unfilled:,.6f}")
    if violations:
        raise CheckError(violations)
    bound = (
        res.bound
        if res.bound is not None
        else (ev.unfilled if res.status == Status.OPTIMAL else None)
    )
    gap = relative_gap(ev.unfilled, bound) if bound is not None else None
    log.info(
        "Checked reserved hires on raw data: %d hires, %d posts left unfilled",
        int(x.sum()),
        ev.unfilled_posts,
    )
    return HiresSolution(h, res.status, ev, ev.unfilled, bound, gap, res.message)
