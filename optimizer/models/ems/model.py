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
import math
import time
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import scipy.sparse as sp

from geodata.arrays import Demand, Sites, TravelTimes, Zones

from ...certificate import Certificate
from ...errors import CheckError
from ...milp import MILP, ModelBuilder
from ...schema.ems import EmsModelConfig
from ...solvers import SolveOptions, SolveResult, Status, relative_gap, solve, solve_lexicographic
from ..coverage.problem import group_rows, require_complete
from .zones import (
    add_station_or_radius_rows,
    check_station_or_radius,
    precheck_station_or_radius,
)

__all__ = ["EmsPlan", "EmsProblem", "EmsSolution", "build_ems_milp", "evaluate_ems", "solve_ems"]

log = logging.getLogger(__name__)

MINUTES_PER_YEAR = 365.0 * 24 * 60


def _per_class(value: float | dict[str, float], demand: Demand) -> np.ndarray:
    n = len(demand)
    if isinstance(value, dict):
        out = np.full(n, np.nan)
        if demand.demand_class is not None:
            for cls, v in value.items():
                out[demand.demand_class == cls] = float(v)
        return out
    return np.full(n, float(value))


@dataclass(frozen=True, eq=False)
class EmsProblem:
    demand: Demand
    sites: Sites
    travel_times: Mapping[str, TravelTimes]
    model: EmsModelConfig
    zones: Zones | None = None

    @property
    def stations(self) -> np.ndarray:
        """Mask of the sites that are station candidates or existing stations."""
        return self.sites.facility_type == self.model.station_type

    def time_table(self) -> TravelTimes:
        name = self.model.time_matrix
        return self.travel_times[name] if name else next(iter(self.travel_times.values()))

    def distance_table(self) -> TravelTimes | None:
        name = self.model.distance_matrix
        return self.travel_times[name] if name else None

    def drive_budget_min(self) -> np.ndarray:
        """Driving minutes allowed per demand point: response standard minus dispatch."""
        return _per_class(self.model.response_min, self.demand) - self.model.dispatch_min

    def radius_m(self) -> np.ndarray | None:
        r = self.model.radius_m
        return None if r is None else _per_class(r, self.demand)

    def capacity(self) -> np.ndarray:
        """Ambulances each site can hold: its ``capacity`` cell (0 means none: the site cannot
        be a station), ``fleet.max_per_station`` where the cell is empty or there is no column."""
        cap = np.full(len(self.sites), float(self.model.fleet.max_per_station))
        if self.sites.capacity is not None:
            given = np.asarray(self.sites.capacity, dtype=float)
            cap = np.where(np.isfinite(given), given, cap)
        return np.floor(cap)

    def vehicles_now(self) -> tuple[np.ndarray, np.ndarray]:
        s = self.sites
        x = (
            np.zeros(len(s))
            if s.vehicles is None
            else np.where(s.existing, np.asarray(s.vehicles, float), 0.0)
        )
        n = (
            np.zeros(len(s))
            if s.np_vehicles is None
            else np.where(s.existing, np.asarray(s.np_vehicles, float), 0.0)
        )
        if s.vehicles is None:  # stated in the output and README: one per existing station
            x = np.where(self.stations & s.existing, 1.0, 0.0)
        else:  # as given (0 = the station's first ambulance is bought)
            x = np.where(self.stations & s.existing, x, 0.0)
        return x, np.minimum(n, x) if s.vehicles is None else n

    def population(self) -> float:
        f = self.model.fleet
        if f.population is not None:
            return float(f.population)
        return float(self.demand.residents.sum())  # footfall venues are not residents

    def fleet_minimum(self) -> int:
        f = self.model.fleet
        return (
            0
            if f.per_population is None
            else math.ceil(self.population() / f.per_population - 1e-9)
        )

    def busy_fraction(self) -> tuple[float, str]:
        m = self.model
        if m.busy_fraction is not None:
            return float(m.busy_fraction), "given"
        if m.calls_per_year is None:
            return 0.0, "not used"
        fleet = m.fleet.fleet_size or max(self.fleet_minimum(), 1)  # validation requires fleet_size
        q = m.calls_per_year * m.minutes_per_call / (fleet * MINUTES_PER_YEAR)
        how = (
            f"{m.calls_per_year:,.0f} calls/year x {m.minutes_per_call:g} min per call over "
            f"{fleet} ambulances x {MINUTES_PER_YEAR:,.0f} min/year"
        )
        return q, how

    def zone_ids(self) -> list[str]:
        if self.zones is not None:
            return [str(z) for z in self.zones.ids]
        found: set[str] = set()
        for v in (self.demand.zone, self.sites.zone):
            if v is not None:
                found.update(map(str, v))
        return sorted(found)

    def station_zones(self) -> list[str]:
        """Zones that must hold ``stations_per_zone`` stations (filtered by kind if asked)."""
        ids = self.zone_ids()
        kinds = self.model.zone_kinds
        if kinds is not None and self.zones is not None:
            kind_of = dict(zip(map(str, self.zones.ids), map(str, self.zones.kind), strict=True))
            ids = [z for z in ids if kind_of.get(z, "") in set(kinds)]
        return ids


def coverage_matrix(problem: EmsProblem) -> tuple[sp.csr_matrix, np.ndarray]:
    """Demand x site boolean coverage (drive time and, if given, road distance within the
    demand class's standards, station sites only) and the mask of demand subject to it."""
    budget = problem.drive_budget_min()
    require_complete(
        problem.time_table(), float(np.nanmax(budget, initial=-np.inf)), "the 120 response standard"
    )
    cov = problem.time_table().within(budget, problem.stations)
    radius = problem.radius_m()
    applies = ~np.isnan(budget)
    if radius is not None:
        dist = problem.distance_table()
        assert dist is not None
        require_complete(dist, float(np.nanmax(radius, initial=-np.inf)), "the 120 service radius")
        cov = sp.csr_matrix(cov.multiply(dist.within(radius, problem.stations)), dtype=bool)
        applies &= ~np.isnan(radius)
    cov.eliminate_zeros()
    return cov, applies


@dataclass(frozen=True, eq=False)
class EmsPlan:
    """Stations open and ambulances per site (all sites; zero where not a station)."""

    open: np.ndarray
    vehicles: np.ndarray
    np_vehicles: np.ndarray


@dataclass(frozen=True, eq=False)
class EmsEvaluation:
    plan: EmsPlan
    covering: np.ndarray  # ambulances within standard of each demand point
    covered: np.ndarray
    applies: np.ndarray
    expected: np.ndarray  # 1 - q^n per demand point
    nearest_site: np.ndarray
    travel_min: np.ndarray
    cost: float
    objective: float
    q: float

    @property
    def total_vehicles(self) -> int:
        return int(self.plan.vehicles.sum())

    @property
    def total_np(self) -> int:
        return int(self.plan.np_vehicles.sum())


def bacop_variant(model: EmsModelConfig) -> int:
    """1 when everyone must be covered once (BACOP-1: maximise residents covered twice),
    else 2 (BACOP-2: theta x covered once + (1 - theta) x covered twice)."""
    return 1 if model.min_share is not None and model.min_share >= 1 else 2


def evaluate_ems(
    problem: EmsProblem, coverage: sp.csr_matrix, applies: np.ndarray, plan: EmsPlan
) -> EmsEvaluation:
    """Everything about a plan, from the raw demand points and travel-time tables."""
    w = problem.demand.weight
    q, _ = problem.busy_fraction()
    covering = np.asarray(coverage @ plan.vehicles).ravel() * applies
    covered = covering >= 1
    expected = (
        np.where(applies, 1.0 - np.power(q, covering), 0.0) if q > 0 else covered.astype(float)
    )
    staffed = plan.open & (plan.vehicles >= 1)
    nearest, travel = problem.time_table().nearest(staffed)
    m = problem.model
    x_now, n_now = problem.vehicles_now()
    new_open = plan.open & ~problem.sites.existing
    f = m.fleet
    cost = (
        float(problem.sites.cost[new_open].sum())
        + f.vehicle_cost * float((plan.vehicles - x_now).sum())
        + f.negative_pressure_extra_cost * float((plan.np_vehicles - n_now).sum())
    )
    theta = m.backup_weight
    if m.objective == "mexclp":
        objective = float((w * expected).sum())
    elif m.objective == "bacop" and bacop_variant(m) == 1:
        objective = float(w[covering >= 2].sum())
    elif m.objective == "bacop":
        objective = float(theta * w[covered].sum() + (1 - theta) * w[covering >= 2].sum())
    elif m.objective == "max_coverage":
        objective = float(w[covered].sum())
    else:
        objective = cost
    return EmsEvaluation(
        plan, covering, covered, applies, expected, nearest, travel, cost, objective, q
    )


def check_ems(problem: EmsProblem, ev: EmsEvaluation) -> list[str]:
    """Every constraint of the model and every norm set in the case, on the raw data."""
    m, sites, plan = problem.model, problem.sites, ev.plan
    out: list[str] = []
    st = problem.stations
    cap = problem.capacity()
    x_now, n_now = problem.vehicles_now()
    if (plan.open & ~st).any():
        out.append("a site that is not a station candidate is open")
    if (sites.existing & st & ~plan.open).any():
        out.append("an existing station was closed")
    if (plan.vehicles > cap * plan.open + 1e-9).any():
        out.append("a station holds more ambulances than its capacity (or a closed one holds some)")
    if (plan.open & (plan.vehicles < 1)).any():
        out.append("an open station has no ambulance")
    if (
        (plan.np_vehicles > plan.vehicles).any()
        or (plan.vehicles < x_now - 1e-9).any()
        or (plan.np_vehicles < n_now - 1e-9).any()
    ):
        out.append("negative-pressure or existing vehicle counts are violated")
    f = m.fleet
    total, total_np = ev.total_vehicles, ev.total_np
    if total < problem.fleet_minimum():
        out.append(
            f"fleet {total} below the norm of {problem.fleet_minimum()} (1 per {f.per_population:,.0f})"
        )
    if f.fleet_size is not None and total != f.fleet_size:
        out.append(f"fleet {total} differs from fleet_size {f.fleet_size}")
    if f.max_vehicles is not None and total > f.max_vehicles:
        out.append(f"fleet {total} above max_vehicles {f.max_vehicles}")
    if total_np < f.negative_pressure_share * total - 1e-9:
        out.append(f"negative-pressure {total_np} below {f.negative_pressure_share:.0%} of {total}")
    if (
        m.max_new_stations is not None
        and int((plan.open & ~sites.existing).sum()) > m.max_new_stations
    ):
        out.append("more new stations than max_new_stations")
    if m.budget is not None and ev.cost > m.budget + 1e-6 * max(1.0, m.budget):
        out.append(f"budget {m.budget:,.2f} exceeded: {ev.cost:,.2f}")
    w = problem.demand.weight
    pop = float(w[ev.applies].sum())
    if m.min_share is not None and pop > 0:
        share = float(w[ev.covered].sum()) / pop
        if m.min_share >= 1 and (ev.applies & ~ev.covered).any():
            out.append(
                f"{int((ev.applies & ~ev.covered).sum())} demand points outside the standard"
            )
        elif share < m.min_share - 1e-9:
            out.append(f"coverage share {share:.6f} below {m.min_share}")
    if m.zone_min_share is not None and problem.demand.zone is not None:
        for z in problem.zone_ids():
            req = (
                m.zone_min_share.get(z) if isinstance(m.zone_min_share, dict) else m.zone_min_share
            )
            inz = ev.applies & (problem.demand.zone == z)
            zp = float(w[inz].sum())
            if req is not None and zp > 0 and float(w[inz & ev.covered].sum()) < req * zp - 1e-9:
                out.append(f"zone {z}: coverage share below {req}")
    if m.stations_per_zone and sites.zone is not None:
        for z in problem.station_zones():
            n = int((plan.open & (sites.zone == z)).sum())
            if n < m.stations_per_zone:
                out.append(f"zone {z}: {n} stations, needs {m.stations_per_zone}")
    if m.station_or_radius is not None:
        out += check_station_or_radius(problem, plan)
    return out


# ---------------------------------------------------------------------------------------------
# Model
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class _Index:
    stations: np.ndarray  # site index of each station column
    groups_rep: np.ndarray
    group_of: np.ndarray
    group_weight: np.ndarray
    group_zone: np.ndarray | None
    cover: sp.csr_matrix  # groups x station columns
    applies: np.ndarray  # (G,)


def _index(
    problem: EmsProblem, coverage: sp.csr_matrix, applies: np.ndarray, aggregate: bool
) -> _Index:
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
    return _Index(
        st,
        rep,
        group_of,
        gw,
        None if zone_of is None else zone_of[rep],
        sp.csr_matrix(cov[rep]),
        applies[rep],
    )


def _cost_coefficients(
    problem: EmsProblem, ix: _Index
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


def build_ems_milp(problem: EmsProblem, ix: _Index, *, elastic: bool = False) -> MILP:
    m, sites, f = problem.model, problem.sites, problem.model.fleet
    st = ix.stations
    J = st.size
    cap = problem.capacity()[st]
    x_now, n_now = (v[st] for v in problem.vehicles_now())
    existing = sites.existing[st]
    objective = m.objective
    sense = "min" if elastic or objective == "min_cost" else "max"
    b = ModelBuilder(f"ems-{objective}{'-elastic' if elastic else ''}", sense)  # type: ignore[arg-type]
    cy, cx, cn, const = _cost_coefficients(problem, ix)
    minimise_cost = objective == "min_cost" and not elastic
    y = b.add_vars(
        "y", J, lb=existing.astype(float), ub=1.0, integer=True, cost=cy if minimise_cost else 0.0
    )
    x = b.add_vars("x", J, lb=x_now, ub=cap, integer=True, cost=cx if minimise_cost else 0.0)
    n = b.add_vars("n", J, lb=n_now, ub=cap, integer=True, cost=cn if minimise_cost else 0.0)
    if minimise_cost:
        b.c0 = const
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

    def row(
        name: str,
        cols: np.ndarray,
        vals: np.ndarray | float,
        *,
        lo: float = -np.inf,
        hi: float = np.inf,
        penalty: float = 1.0,
    ) -> None:
        cols = np.asarray(cols)
        vals_arr = np.broadcast_to(np.asarray(vals, dtype=float), cols.shape)
        if elastic:
            s = b.add_vars(f"slack:{name}", 1, lb=0.0, cost=penalty)
            cols = np.r_[cols, s.index()]
            vals_arr = np.r_[vals_arr, 1.0 if np.isfinite(lo) else -1.0]
        b.add_row(name, cols, vals_arr, lo=lo, hi=hi)

    fmin = problem.fleet_minimum()
    if fmin > 0:
        row("fleet_norm", x.index(), 1.0, lo=float(fmin), penalty=1.0 / max(fmin, 1))
    if f.fleet_size is not None:
        row(
            "fleet_size",
            x.index(),
            1.0,
            lo=float(f.fleet_size),
            hi=float(f.fleet_size),
            penalty=1.0,
        )
    if f.max_vehicles is not None:
        row("max_vehicles", x.index(), 1.0, hi=float(f.max_vehicles), penalty=1.0)
    if f.negative_pressure_share > 0:
        row(
            "np_share",
            np.r_[n.index(), x.index()],
            np.r_[np.ones(J), -f.negative_pressure_share * np.ones(J)],
            lo=0.0,
            penalty=1.0,
        )
    if m.max_new_stations is not None:
        row(
            "max_new_stations", y.index()[~existing], 1.0, hi=float(m.max_new_stations), penalty=1.0
        )
    if m.budget is not None:
        row(
            "budget",
            np.r_[y.index(), x.index(), n.index()],
            np.r_[cy, cx, cn],
            hi=float(m.budget) - const,
            penalty=1.0 / max(float(m.budget), 1.0),
        )
    if m.stations_per_zone and sites.zone is not None:
        zone_of = sites.zone[st]
        for z in problem.station_zones():
            members = np.flatnonzero(zone_of == z)
            row(
                f"zone_stations[{z}]",
                y.index()[members],
                1.0,
                lo=float(m.stations_per_zone),
                penalty=1.0,
            )

    if m.station_or_radius is not None:
        add_station_or_radius_rows(b, problem, st, y.start, elastic)

    # coverage blocks on demand groups
    gw, cov = ix.group_weight, ix.cover
    live = np.flatnonzero(ix.applies & (np.diff(cov.indptr) > 0))
    sub = cov[live]
    w_live = gw[live]
    w_total = max(float(gw[ix.applies].sum()), 1.0)
    q, _ = problem.busy_fraction()
    needs_first = (m.min_share is not None and m.min_share < 1) or m.zone_min_share is not None
    if m.min_share is not None and m.min_share >= 1:
        # everyone covered by at least one ambulance
        r = np.repeat(np.arange(live.size), np.diff(sub.indptr))
        if elastic:
            s = b.add_vars(
                "slack:cover_all", live.size, lb=0.0, cost=np.maximum(w_live, 1.0) / w_total
            )
            b.add_rows(
                "cover_all",
                live.size,
                np.r_[r, np.arange(live.size)],
                np.r_[x.start + sub.indices, s.index()],
                np.r_[np.ones(sub.nnz), np.ones(live.size)],
                lo=1.0,
            )
        else:
            b.add_rows("cover_all", live.size, r, x.start + sub.indices, 1.0, lo=1.0)
    r = np.repeat(np.arange(live.size), np.diff(sub.indptr))  # group row of each coverage entry
    ag = np.arange(live.size)
    scored = not elastic and objective in ("mexclp", "max_coverage", "bacop")
    first_cols: np.ndarray | None = None
    if scored and objective == "bacop" and bacop_variant(m) == 1:
        # BACOP-1: every live group is covered once (cover_all), u2 <= sum x - 1
        u2 = b.add_vars("u2", live.size, lb=0.0, ub=1.0, cost=w_live)
        b.add_rows(
            "backup",
            live.size,
            np.r_[ag, r],
            np.r_[u2.index(), x.start + sub.indices],
            np.r_[np.ones(live.size), -np.ones(sub.nnz)],
            hi=-1.0,
        )
    elif scored and objective == "bacop":
        theta = m.backup_weight
        u1 = b.add_vars("u1", live.size, lb=0.0, ub=1.0, cost=theta * w_live, integer=theta < 0.5)
        u2 = b.add_vars("u2", live.size, lb=0.0, ub=1.0, cost=(1 - theta) * w_live)
        b.add_rows(
            "link",
            live.size,
            np.r_[ag, ag, r],
            np.r_[u1.index(), u2.index(), x.start + sub.indices],
            np.r_[np.ones(live.size), np.ones(live.size), -np.ones(sub.nnz)],
            hi=0.0,
        )
        b.add_rows(
            "backup_after_first",
            live.size,
            np.r_[ag, ag],
            np.r_[u2.index(), u1.index()],
            np.r_[np.ones(live.size), -np.ones(live.size)],
            hi=0.0,
        )
        first_cols = u1.index()
    elif scored or needs_first:
        # u[g, k] = k-th ambulance covering group g; MEXCLP scores every level, the others level 1
        levels = (
            _levels(problem, ix, live, cap)
            if scored and objective == "mexclp"
            else np.ones(live.size, np.int64)
        )
        owner = np.repeat(ag, levels)
        k = np.arange(int(levels.sum())) - np.repeat(np.cumsum(levels) - levels, levels)  # 0-based
        if scored and objective == "mexclp":
            coef = w_live[owner] * (1 - q) * np.power(q, k)
        elif scored:
            coef = w_live[owner].astype(float)
        else:
            coef = np.zeros(owner.size)
        u = b.add_vars("u", owner.size, lb=0.0, ub=1.0, cost=coef)
        b.add_rows(
            "link",
            live.size,
            np.r_[owner, r],
            np.r_[u.index(), x.start + sub.indices],
            np.r_[np.ones(owner.size), -np.ones(sub.nnz)],
            hi=0.0,
        )
        first_cols = u.start + (np.cumsum(levels) - levels)
    if first_cols is not None:
        if m.min_share is not None and m.min_share < 1:
            row(
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
                    m.zone_min_share.get(z)
                    if isinstance(m.zone_min_share, dict)
                    else m.zone_min_share
                )
                zone_total = float(gw[ix.applies & (ix.group_zone == z)].sum())
                members = np.flatnonzero(zg == z)
                if req is not None and zone_total > 0:
                    row(
                        f"zone_share[{z}]",
                        first_cols[members],
                        w_live[members],
                        lo=req * zone_total,
                        penalty=1.0 / w_total,
                    )
    milp = b.build()
    log.info("Built %s: %s", milp.name, milp.summary())
    return milp


def _levels(problem: EmsProblem, ix: _Index, live: np.ndarray, cap: np.ndarray) -> np.ndarray:
    """K_g: how many ambulances can cover group g at most (its stations' capacity, the fleet)."""
    f = problem.model.fleet
    fleet_max = f.fleet_size or f.max_vehicles or int(cap.sum())
    reach = np.asarray(ix.cover[live] @ cap).ravel()
    return np.maximum(np.minimum(reach, fleet_max), 1).astype(np.int64)


# ---------------------------------------------------------------------------------------------
# Solve and certify
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class EmsSolution(Certificate):
    problem: EmsProblem
    status: Status
    evaluation: EmsEvaluation | None = None

    @property
    def sense(self) -> str:
        return "min" if self.problem.model.objective == "min_cost" else "max"


def precheck_ems(problem: EmsProblem, coverage: sp.csr_matrix, applies: np.ndarray) -> list[str]:
    m, f = problem.model, problem.model.fleet
    out = []
    if not problem.stations.any():
        out.append(f"no site has facility type '{m.station_type}': no station can open")
        return out
    reach = np.asarray(coverage.sum(axis=1)).ravel() > 0
    if m.min_share is not None and m.min_share >= 1:
        bad = np.flatnonzero(applies & ~reach)
        if bad.size:
            ids = ", ".join(map(str, problem.demand.ids[bad[:15]]))
            out.append(
                f"every resident must be within the 120 standard, but {bad.size:,} demand points "
                f"({problem.demand.weight[bad].sum():,.0f} residents) have no station candidate that close: {ids}"
                + (" ..." if bad.size > 15 else "")
                + ". Add station candidates near them or lower min_share."
            )
    x_now, _ = problem.vehicles_now()
    over = np.flatnonzero(problem.stations & (x_now > problem.capacity()))
    if over.size:
        out.append(
            "existing stations hold more ambulances than their capacity: "
            + ", ".join(
                f"{problem.sites.ids[j]} ({x_now[j]:.0f} > {problem.capacity()[j]:.0f})"
                for j in over[:15]
            )
            + "; fix the sites file's capacity (or vehicles) column"
        )
    cap_total = float(problem.capacity()[problem.stations].sum())
    need = problem.fleet_minimum()
    if f.fleet_size is not None:
        need = max(need, f.fleet_size)
    if cap_total < need:
        out.append(
            f"the fleet norm needs {need} ambulances but all station candidates together hold only "
            f"{cap_total:.0f}; raise capacities or add candidates"
        )
    if m.stations_per_zone and problem.sites.zone is not None:
        short = [
            z
            for z in problem.station_zones()
            if int((problem.stations & (problem.sites.zone == z)).sum()) < m.stations_per_zone
        ]
        if short:
            out.append(
                f"{len(short)} zones have fewer station candidates than the {m.stations_per_zone} required: "
                + ", ".join(short[:20])
            )
    rule = m.station_or_radius
    dist = problem.distance_table()
    if rule is not None and dist is not None:
        require_complete(dist, rule.radius_m, "the 120 township radius (station_or_radius)")
        out += precheck_station_or_radius(problem)
    from .fixes import data_conflicts

    out += data_conflicts(problem)
    q, _ = problem.busy_fraction()
    if q >= 1:
        out.append(
            f"the busy fraction is {q:.2f} >= 1: the call volume exceeds what the fleet can serve"
        )
    return out


def _decode(problem: EmsProblem, ix: _Index, milp: MILP, x: np.ndarray) -> EmsPlan:
    n_sites = len(problem.sites)
    open_ = np.zeros(n_sites, dtype=bool)
    veh = np.zeros(n_sites)
    npv = np.zeros(n_sites)
    open_[ix.stations] = x[milp.var_blocks["y"].slice] > 0.5
    veh[ix.stations] = np.round(x[milp.var_blocks["x"].slice])
    npv[ix.stations] = np.round(x[milp.var_blocks["n"].slice])
    return EmsPlan(open_, veh, npv)


def _certify(
    problem: EmsProblem,
    cov: sp.csr_matrix,
    applies: np.ndarray,
    ix: _Index,
    milp: MILP,
    result: SolveResult,
    value: Any,
    floor: float | None = None,
) -> tuple[EmsEvaluation, float, float | None]:
    assert result.x is not None
    plan = _decode(problem, ix, milp, result.x)
    ev = evaluate_ems(problem, cov, applies, plan)
    violations = check_ems(problem, ev)
    raw = float(value(ev))
    solver_obj = (
        float(result.objective) if result.objective is not None else milp.objective_value(result.x)
    )
    tol = 1e-6 * (float(np.abs(milp.c).sum()) + abs(milp.c0)) + 1e-6
    maximise = milp.sense == "max"
    if result.status == Status.OPTIMAL and abs(raw - solver_obj) > tol:
        violations.append(f"objective mismatch: solver {solver_obj:,.6f}, raw data {raw:,.6f}")
    elif result.status == Status.FEASIBLE and (
        raw < solver_obj - tol if maximise else raw > solver_obj + tol
    ):
        violations.append(f"objective mismatch: solver {solver_obj:,.6f}, raw data only {raw:,.6f}")
    bound = result.bound
    if bound is not None and (raw > bound + tol if maximise else raw < bound - tol):
        violations.append(f"bound {bound:,.6f} invalid for the raw objective {raw:,.6f}")
    if floor is not None and ev.objective < floor - tol:
        violations.append(f"second stage lost coverage: {ev.objective:,.6f} < {floor:,.6f}")
    if violations:
        raise CheckError(violations)
    if result.status == Status.OPTIMAL and bound is None:
        bound = raw
    return ev, raw, bound


def solve_ems(
    problem: EmsProblem,
    options: SolveOptions | None = None,
    *,
    backend: str = "highs",
    aggregate: bool = True,
) -> EmsSolution:
    options = options or SolveOptions()
    t0 = time.perf_counter()
    cov, applies = coverage_matrix(problem)
    reasons = precheck_ems(problem, cov, applies)
    if reasons:
        return EmsSolution(
            problem,
            Status.INFEASIBLE,
            diagnosis=reasons,
            total_time_s=time.perf_counter() - t0,
            message="infeasible: found before solving",
        )
    ix = _index(problem, cov, applies, aggregate)
    milp = build_ems_milp(problem, ix)
    presolve = {
        "demand_points": len(problem.demand),
        "demand_groups": int(ix.group_weight.size),
        "sites": len(problem.sites),
        "station_columns": int(ix.stations.size),
    }
    size = {
        "rows": milp.n_rows,
        "columns": milp.n_cols,
        "nonzeros": milp.nnz,
        "integer_columns": milp.n_integer,
    }
    second: SolveResult | None = None
    if problem.model.secondary_objective == "min_cost":
        cy, cx, cn, const = _cost_coefficients(problem, ix)
        c2 = np.zeros(milp.n_cols)
        (
            c2[milp.var_blocks["y"].slice],
            c2[milp.var_blocks["x"].slice],
            c2[milp.var_blocks["n"].slice],
        ) = cy, cx, cn
        result, second = solve_lexicographic(milp, c2, const, options, backend)
        stage2 = replace(milp, sense="min", c=c2, c0=const)
    else:
        result = solve(milp, options, backend)
    common: dict[str, Any] = {
        "runtime_s": result.runtime_s,
        "solver": result.solver,
        "solver_version": result.solver_version,
        "message": result.message,
        "model_size": size,
        "presolve": presolve,
    }
    if not result.status.has_solution or result.x is None:
        diagnosis = (
            diagnose_ems(problem, ix, options, backend)
            if result.status == Status.INFEASIBLE
            else []
        )
        return EmsSolution(
            problem,
            result.status,
            bound=result.bound,
            diagnosis=diagnosis,
            total_time_s=time.perf_counter() - t0,
            **common,
        )
    ev, _, bound = _certify(problem, cov, applies, ix, milp, result, lambda e: e.objective)
    status = result.status
    secondary: dict[str, object] | None = None
    if second is not None:
        secondary = {
            "objective": "min_cost",
            "status": second.status.value,
            "first_stage_value": ev.cost,
        }
        if second.status.has_solution and second.x is not None:
            ev2, cost2, b2 = _certify(
                problem, cov, applies, ix, stage2, second, lambda e: e.cost, ev.objective
            )
            secondary.update(
                value=cost2, bound=b2, gap=relative_gap(cost2, b2) if b2 is not None else None
            )
            ev = ev2
        if second.status != Status.OPTIMAL:
            status = Status.FEASIBLE
    gap = relative_gap(ev.objective, bound) if bound is not None else None
    log.info(
        "Checked 120 plan on raw data: %d stations, %d ambulances (%d negative-pressure), objective %s",
        int(ev.plan.open.sum()),
        ev.total_vehicles,
        ev.total_np,
        f"{ev.objective:,.6g}",
    )
    return EmsSolution(
        problem,
        status,
        ev,
        objective=ev.objective,
        bound=bound,
        gap=gap,
        total_time_s=time.perf_counter() - t0,
        checked=True,
        secondary=secondary,
        **common,
    )


def diagnose_ems(problem: EmsProblem, ix: _Index, options: SolveOptions, backend: str) -> list[str]:
    """Why no plan exists, with each fix re-solved before it is printed (models.ems.fixes)."""
    from .fixes import Hooks, diagnose_ems_fixes

    return diagnose_ems_fixes(problem, ix, options, backend, Hooks(build_ems_milp, _violations))


def _violations(problem: EmsProblem, ix: _Index, milp: MILP, x: np.ndarray) -> list[str]:
    """A solution of ``milp`` decoded and checked on the raw data (empty = a valid plan)."""
    cov, applies = coverage_matrix(problem)
    return check_ems(problem, evaluate_ems(problem, cov, applies, _decode(problem, ix, milp, x)))
