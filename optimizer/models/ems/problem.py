"""The 120 case's arrays (demand, station sites, tables, fleet norms) and its prechecks."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from geodata.arrays import Demand, Sites, TravelTimes, Zones

from ...schema.ems import EmsModelConfig
from ..coverage.problem import require_complete
from .zones import precheck_station_or_radius

__all__ = ["MINUTES_PER_YEAR", "EmsProblem", "coverage_matrix", "precheck_ems"]


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

    def table_thresholds(self) -> dict[str, list[np.ndarray]]:
        """Per travel-time table, the thresholds per demand point the road check samples near:
        the driving budget on the time table, the service radius on the distance table."""
        out = {self.time_table().name: [self.drive_budget_min()]}
        radius, dist = self.radius_m(), self.distance_table()
        if radius is not None and dist is not None:
            out.setdefault(dist.name, []).append(radius)
        return out

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
