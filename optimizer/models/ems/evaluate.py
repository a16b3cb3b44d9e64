"""A 120 plan evaluated on the raw tables, independent of the MILP: coverage, cost, norms."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from ...schema.ems import EmsModelConfig
from .problem import EmsProblem
from .zones import check_station_or_radius

__all__ = ["EmsEvaluation", "EmsPlan", "bacop_variant", "check_ems", "evaluate_ems"]


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
