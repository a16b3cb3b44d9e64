r"""120 ambulance stations and fleet: where stations go and how many ambulances each gets.

Stations :math:`y_j \in \{0,1\}` (existing ones fixed open), ambulances :math:`x_j \in \mathbb{Z}_+`
and negative-pressure ambulances :math:`n_j \in \mathbb{Z}_+` at each station. Demand group
:math:`g` (villages with the same covering set) is *covered* by station :math:`j` when the drive
from :math:`j` is within its class's response standard minus the dispatch time **and** (when a
radius is given) the road distance is within its class's radius; :math:`N_g` is that set.

.. math::

    & x_j \le \mathrm{cap}_j\, y_j,\quad x_j \ge y_j,\quad n_j \le x_j,\quad
      x_j \ge x^{\mathrm{now}}_j,\ n_j \ge n^{\mathrm{now}}_j \\
    & \textstyle\sum_j x_j \ge \lceil \mathrm{Pop} / 30\,000 \rceil,\qquad
      \sum_j n_j \ge \rho \sum_j x_j \quad (\rho = 0.2) \\
    & \textstyle\sum_{j \in \zeta} y_j \ge 1 \ \ \forall \zeta \text{ (one station per township)},
      \quad \sum_{j\,\mathrm{new}} c_j y_j + a \sum_j (x_j - x^{\mathrm{now}}_j)
      + a_N \sum_j (n_j - n^{\mathrm{now}}_j) \le B

and one of the objectives

* **MEXCLP** (Daskin 1983): :math:`\max \sum_g w_g \sum_{k=1}^{K_g} (1-q) q^{k-1} u_{gk}`
  with :math:`\sum_k u_{gk} \le \sum_{j \in N_g} x_j`, :math:`u \in [0,1]` - the expected
  population covered when each ambulance is busy with probability :math:`q`
  (:math:`q` given, or calls x minutes per call over the fleet's available minutes);
  at the optimum it equals :math:`\sum_g w_g (1 - q^{n_g})`, :math:`n_g` = ambulances covering g;
* **BACOP** (Hogan & ReVelle 1986), the level formulation with the levels kept integral:
  when everyone must be covered (``min_share: 1``) it is **BACOP-1**,
  :math:`\max \sum w_g u^2_g` with :math:`u^2_g \le \sum_{N_g} x_j - 1`, :math:`u^2 \le 1`
  (the residents covered twice; ``backup_weight`` plays no part); otherwise **BACOP-2**,
  :math:`\max \theta \sum w_g u^1_g + (1-\theta) \sum w_g u^2_g` with
  :math:`u^1_g + u^2_g \le \sum_{N_g} x_j`, :math:`u^2 \le u^1 \le 1`. The LP relaxation of
  the levels is exact only while the first level weighs at least the second (theta >= 1/2): a
  once-covered group could otherwise score :math:`u^1 = u^2 = 1/2`, so :math:`u^1` is binary for
  theta < 1/2 (the raw check of every answer recomputes W1 and W2 from the plan);
* **max_coverage**: population covered by at least one ambulance;
* **min_cost**: the cheapest stations and fleet meeting the coverage targets and norms.

``station_or_radius`` adds Yueqing's rural township norm (a station inside, or every resident
within the radius by road; :mod:`.zones`).

Coverage targets (``min_share``; 1 = every resident) and per-township shares act on
:math:`u_{g1}`, which is at most :math:`\min(1, \sum_{N_g} x_j)`. This is the FLEET/hybrid model
of Bianchi & Church (1988) with the norms of MISSION.md (Yueqing, Zhuji).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from ...milp import MILP, Block, ModelBuilder
from ..coverage.problem import group_rows
from .evaluate import bacop_variant
from .problem import EmsProblem
from .zones import add_station_or_radius_rows

__all__ = ["Index", "build_ems_milp", "cost_coefficients", "index"]

log = logging.getLogger(__name__)


@dataclass(frozen=True, eq=False)
class Index:
    stations: np.ndarray  # site index of each station column
    groups_rep: np.ndarray
    group_of: np.ndarray
    group_weight: np.ndarray
    group_zone: np.ndarray | None
    cover: sp.csr_matrix  # groups x station columns
    applies: np.ndarray  # (G,)


def index(
    problem: EmsProblem, coverage: sp.csr_matrix, applies: np.ndarray, aggregate: bool
) -> Index:
    st = np.flatnonzero(problem.stations)
    cov = sp.csr_matrix(coverage[:, st])
    labels = [applies.astype(np.int64)]
    zone_of = problem.demand.zone
    if problem.model.zone_min_share is not None and zone_of is not None:
        labels.append(np.unique(zone_of.astype(str), return_inverse=True)[1])
    if aggregate:
        rep, group_of = group_rows([cov], labels)
    else:
        rep, group_of = np.arange(len(problem.demand)), np.arange(len(problem.demand))
    gw = np.bincount(group_of, weights=problem.demand.weight, minlength=rep.size)
    return Index(
        st,
        rep,
        group_of,
        gw,
        None if zone_of is None else zone_of[rep],
        sp.csr_matrix(cov[rep]),
        applies[rep],
    )


def cost_coefficients(
    problem: EmsProblem, ix: Index
) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """Cost coefficients on (y, x, n) and the constant (existing vehicles are already paid for)."""
    sites, f = problem.sites, problem.model.fleet
    st = ix.stations
    y = np.where(sites.existing[st], 0.0, sites.cost[st])
    x = np.full(st.size, f.vehicle_cost)
    n = np.full(st.size, f.negative_pressure_extra_cost)
    x_now, n_now = problem.vehicles_now()
    const = -f.vehicle_cost * float(x_now[st].sum()) - f.negative_pressure_extra_cost * float(
        n_now[st].sum()
    )
    return y, x, n, const


def build_ems_milp(problem: EmsProblem, ix: Index, *, elastic: bool = False) -> MILP:
    """The 120 MILP of the module docstring on the demand groups of ``ix``.

    ``elastic`` builds the diagnosis model instead: every rule row gets a priced slack column
    (``slack:<row>``) and the objective is the total slack, minimised."""
    m = problem.model
    st = ix.stations
    J = st.size
    cap = problem.capacity()[st]
    x_now, n_now = (v[st] for v in problem.vehicles_now())
    existing = problem.sites.existing[st]
    objective = m.objective
    sense = "min" if elastic or objective == "min_cost" else "max"
    name = f"ems-{objective}{'-elastic' if elastic else ''}"
    b = ModelBuilder(name, sense, elastic=elastic)  # type: ignore[arg-type]
    costs = cost_coefficients(problem, ix)
    cy, cx, cn, const = costs
    minimise_cost = objective == "min_cost" and not elastic
    y = b.add_vars(
        "y", J, lb=existing.astype(float), ub=1.0, integer=True, cost=cy if minimise_cost else 0.0
    )
    x = b.add_vars("x", J, lb=x_now, ub=cap, integer=True, cost=cx if minimise_cost else 0.0)
    n = b.add_vars("n", J, lb=n_now, ub=cap, integer=True, cost=cn if minimise_cost else 0.0)
    if minimise_cost:
        b.c0 = const
    _station_rows(b, y, x, n, cap)
    _norm_rows(b, problem, ix, (y, x, n), costs, existing)
    if m.station_or_radius is not None:
        add_station_or_radius_rows(b, problem, st, y.start)
    first_cols, live = _coverage_columns(b, problem, ix, x, cap)
    if first_cols is not None:
        _share_rows(b, problem, ix, first_cols, live)
    milp = b.build()
    log.info("Built %s: %s", milp.name, milp.summary())
    return milp


def _station_rows(b: ModelBuilder, y: Block, x: Block, n: Block, cap: np.ndarray) -> None:
    """Per station: x <= cap y, x >= y (an open station is staffed), n <= x."""
    J = y.size
    ar = np.arange(J)
    b.add_rows(
        "capacity", J, np.r_[ar, ar], np.r_[x.index(), y.index()], np.r_[np.ones(J), -cap], hi=0.0
    )
    b.add_rows(
        "staffed",
        J,
        np.r_[ar, ar],
        np.r_[x.index(), y.index()],
        np.r_[np.ones(J), -np.ones(J)],
        lo=0.0,
    )
    b.add_rows(
        "np_within",
        J,
        np.r_[ar, ar],
        np.r_[n.index(), x.index()],
        np.r_[np.ones(J), -np.ones(J)],
        hi=0.0,
    )


def _norm_rows(
    b: ModelBuilder,
    problem: EmsProblem,
    ix: Index,
    yxn: tuple[Block, Block, Block],
    costs: tuple[np.ndarray, np.ndarray, np.ndarray, float],
    existing: np.ndarray,
) -> None:
    """Fleet norm and size, the negative-pressure share, new stations, budget, per township."""
    m, f, sites = problem.model, problem.model.fleet, problem.sites
    y, x, n = yxn
    cy, cx, cn, const = costs
    J = y.size
    fmin = problem.fleet_minimum()
    if fmin > 0:
        b.add_row("fleet_norm", x.index(), 1.0, lo=float(fmin), penalty=1.0 / max(fmin, 1))
    if f.fleet_size is not None:
        size = float(f.fleet_size)
        b.add_row("fleet_size", x.index(), 1.0, lo=size, hi=size, penalty=1.0)
    if f.max_vehicles is not None:
        b.add_row("max_vehicles", x.index(), 1.0, hi=float(f.max_vehicles), penalty=1.0)
    if f.negative_pressure_share > 0:
        b.add_row(
            "np_share",
            np.r_[n.index(), x.index()],
            np.r_[np.ones(J), -f.negative_pressure_share * np.ones(J)],
            lo=0.0,
            penalty=1.0,
        )
    if m.max_new_stations is not None:
        new = y.index()[~existing]
        b.add_row("max_new_stations", new, 1.0, hi=float(m.max_new_stations), penalty=1.0)
    if m.budget is not None:
        b.add_row(
            "budget",
            np.r_[y.index(), x.index(), n.index()],
            np.r_[cy, cx, cn],
            hi=float(m.budget) - const,
            penalty=1.0 / max(float(m.budget), 1.0),
        )
    if m.stations_per_zone and sites.zone is not None:
        zone_of = sites.zone[ix.stations]
        for z in problem.station_zones():
            members = np.flatnonzero(zone_of == z)
            lo = float(m.stations_per_zone)
            b.add_row(f"zone_stations[{z}]", y.index()[members], 1.0, lo=lo, penalty=1.0)


def _coverage_columns(
    b: ModelBuilder,
    problem: EmsProblem,
    ix: Index,
    x: Block,
    cap: np.ndarray,
) -> tuple[np.ndarray | None, np.ndarray]:
    """Coverage of the demand groups: ``cover_all``, and the objective's level columns.

    Returns the first-level column of each live group (None when no row needs it) and the
    live groups (those the standard applies to and some station covers)."""
    m = problem.model
    gw, cov = ix.group_weight, ix.cover
    live = np.flatnonzero(ix.applies & (np.diff(cov.indptr) > 0))
    sub = cov[live]
    w_live = gw[live]
    w_total = max(float(gw[ix.applies].sum()), 1.0)
    needs_first = (m.min_share is not None and m.min_share < 1) or m.zone_min_share is not None
    r = np.repeat(np.arange(live.size), np.diff(sub.indptr))  # group row of each coverage entry
    if m.min_share is not None and m.min_share >= 1:
        # everyone covered by at least one ambulance
        penalty = np.maximum(w_live, 1.0) / w_total
        b.add_rows("cover_all", live.size, r, x.start + sub.indices, 1.0, lo=1.0, penalty=penalty)
    scored = not b.elastic and m.objective in ("mexclp", "max_coverage", "bacop")
    cover = (r, x.start + sub.indices, w_live)
    if scored and m.objective == "bacop":
        return _bacop_columns(b, problem, cover), live
    if scored or needs_first:
        levels = (
            _levels(problem, ix, live, cap)
            if scored and m.objective == "mexclp"
            else np.ones(live.size, np.int64)
        )
        return _level_columns(b, problem, cover, levels, scored), live
    return None, live


def _bacop_columns(
    b: ModelBuilder, problem: EmsProblem, cover: tuple[np.ndarray, np.ndarray, np.ndarray]
) -> np.ndarray | None:
    """BACOP's level columns (Hogan & ReVelle 1986); the first level's columns (BACOP-2)."""
    m = problem.model
    r, xcols, w_live = cover
    G = w_live.size
    ag = np.arange(G)
    if bacop_variant(m) == 1:
        # BACOP-1: every live group is covered once (cover_all), u2 <= sum x - 1
        u2 = b.add_vars("u2", G, lb=0.0, ub=1.0, cost=w_live)
        b.add_rows(
            "backup",
            G,
            np.r_[ag, r],
            np.r_[u2.index(), xcols],
            np.r_[np.ones(G), -np.ones(xcols.size)],
            hi=-1.0,
        )
        return None
    theta = m.backup_weight
    u1 = b.add_vars("u1", G, lb=0.0, ub=1.0, cost=theta * w_live, integer=theta < 0.5)
    u2 = b.add_vars("u2", G, lb=0.0, ub=1.0, cost=(1 - theta) * w_live)
    b.add_rows(
        "link",
        G,
        np.r_[ag, ag, r],
        np.r_[u1.index(), u2.index(), xcols],
        np.r_[np.ones(G), np.ones(G), -np.ones(xcols.size)],
        hi=0.0,
    )
    b.add_rows(
        "backup_after_first",
        G,
        np.r_[ag, ag],
        np.r_[u2.index(), u1.index()],
        np.r_[np.ones(G), -np.ones(G)],
        hi=0.0,
    )
    return u1.index()


def _level_columns(
    b: ModelBuilder,
    problem: EmsProblem,
    cover: tuple[np.ndarray, np.ndarray, np.ndarray],
    levels: np.ndarray,
    scored: bool,
) -> np.ndarray:
    """u[g, k] = k-th ambulance covering group g; MEXCLP scores every level, the others level 1.

    Returns the first level's column of each group."""
    r, xcols, w_live = cover
    G = w_live.size
    ag = np.arange(G)
    owner = np.repeat(ag, levels)
    k = np.arange(int(levels.sum())) - np.repeat(np.cumsum(levels) - levels, levels)  # 0-based
    if scored and problem.model.objective == "mexclp":
        q, _ = problem.busy_fraction()
        coef = w_live[owner] * (1 - q) * np.power(q, k)
    elif scored:
        coef = w_live[owner].astype(float)
    else:
        coef = np.zeros(owner.size)
    u = b.add_vars("u", owner.size, lb=0.0, ub=1.0, cost=coef)
    b.add_rows(
        "link",
        G,
        np.r_[owner, r],
        np.r_[u.index(), xcols],
        np.r_[np.ones(owner.size), -np.ones(xcols.size)],
        hi=0.0,
    )
    return u.start + (np.cumsum(levels) - levels)


def _share_rows(
    b: ModelBuilder, problem: EmsProblem, ix: Index, first_cols: np.ndarray, live: np.ndarray
) -> None:
    """Coverage targets on the first level: ``min_share`` overall and per township."""
    m = problem.model
    gw = ix.group_weight
    w_live = gw[live]
    w_total = max(float(gw[ix.applies].sum()), 1.0)
    if m.min_share is not None and m.min_share < 1:
        b.add_row(
            "coverage_share",
            first_cols,
            w_live,
            lo=m.min_share * w_total,
            penalty=1.0 / w_total,
        )
    if m.zone_min_share is not None and ix.group_zone is not None:
        zg = ix.group_zone[live]
        for z in sorted(set(map(str, ix.group_zone[ix.applies]))):
            req = (
                m.zone_min_share.get(z) if isinstance(m.zone_min_share, dict) else m.zone_min_share
            )
            zone_total = float(gw[ix.applies & (ix.group_zone == z)].sum())
            members = np.flatnonzero(zg == z)
            if req is not None and zone_total > 0:
                b.add_row(
                    f"zone_share[{z}]",
                    first_cols[members],
                    w_live[members],
                    lo=req * zone_total,
                    penalty=1.0 / w_total,
                )


def _levels(problem: EmsProblem, ix: Index, live: np.ndarray, cap: np.ndarray) -> np.ndarray:
    """K_g: how many ambulances can cover group g at most (its stations' capacity, the fleet)."""
    f = problem.model.fleet
    fleet_max = f.fleet_size or f.max_vehicles or int(cap.sum())
    reach = np.asarray(ix.cover[live] @ cap).ravel()
    return np.maximum(np.minimum(reach, fleet_max), 1).astype(np.int64)
