"""What a case file may say about a 120 EMS model (stations, ambulances, response standards)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from .fields import Name, NonNegFloat, NotBool, PositiveFloat, Share, Strict, Threshold


class FleetConfig(Strict):
    """Ambulance fleet norms (MISSION.md: Zhuji; MODELS.md §2.5, §5.2)."""

    per_population: PositiveFloat | None = 30_000.0
    """At least one ambulance per this many residents (null: no fleet-size norm)."""
    population: NonNegFloat | None = None
    """Resident population for the norm (default: the sum of demand weights)."""
    negative_pressure_share: Annotated[float, Field(ge=0, le=1), NotBool] = 0.2
    max_per_station: Annotated[int, Field(ge=1), NotBool] = 4
    """Vehicles a station can hold when the sites file has no capacity column."""
    fleet_size: Annotated[int, Field(ge=1), NotBool] | None = None
    """Exactly this many vehicles in total (MEXCLP's P); default: free within norms and budget."""
    max_vehicles: Annotated[int, Field(ge=1), NotBool] | None = None
    vehicle_cost: NonNegFloat = 0.0
    negative_pressure_extra_cost: NonNegFloat = 0.0
    source: str | None = "Zhuji: >= 1 ambulance per 30,000 residents, >= 20% negative-pressure"


class StationOrRadius(Strict):
    """Per township: at least one 120 station inside it, or every resident of it within
    ``radius_m`` by road of an open station (Yueqing rural norm: radius 8-10 km or >= 1 station
    per 建制乡镇). Needs the case's ``distance_matrix`` and a demand zone column."""

    radius_m: PositiveFloat = 10_000.0
    zone_kinds: list[str] | None = None
    source: str = (
        "Yueqing: rural 120 service radius 8-10 km or >= 1 station per township (建制乡镇)"
    )


class EmsModelConfig(Strict):
    """120 stations and ambulances: response standards by demand class, fleet norms, and
    expected (MEXCLP, Daskin 1983) or backup (BACOP, Hogan & ReVelle 1986) coverage."""

    kind: Literal["ems"]
    station_type: Name = "ems"
    response_min: Threshold
    """Response standard (call to arrival), e.g. {urban: 11, rural: 15}."""
    dispatch_min: NonNegFloat = 2.0
    """Deducted from the response standard to get the driving budget."""
    time_matrix: str | None = None
    radius_m: Threshold | None = None
    """Service radius by road, e.g. {urban: 3500, rural: 10000} (needs a distance table)."""
    distance_matrix: str | None = None
    min_share: Share | None = 1.0
    """Share of residents that must be within the standard of at least one ambulance."""
    zone_min_share: Share | dict[str, Share] | None = None
    objective: Literal["mexclp", "bacop", "max_coverage", "min_cost"] = "mexclp"
    busy_fraction: Annotated[float, Field(gt=0, lt=1), NotBool] | None = None
    calls_per_year: PositiveFloat | None = None
    minutes_per_call: PositiveFloat = 60.0
    backup_weight: Annotated[float, Field(ge=0, le=1), NotBool] = 0.5
    """BACOP-2's theta: weight of first coverage; 1 - theta goes to backup (second) coverage.
    Not used when everyone must be covered (``min_share: 1``): that is BACOP-1, which maximises
    the residents covered twice."""
    max_new_stations: Annotated[int, Field(ge=0), NotBool] | None = None
    budget: NonNegFloat | None = None
    stations_per_zone: Annotated[int, Field(ge=0), NotBool] = 0
    zone_kinds: list[str] | None = None
    station_or_radius: StationOrRadius | None = None
    fleet: FleetConfig = FleetConfig()
    secondary_objective: Literal["none", "min_cost"] = "none"
    source: str | None = "Yueqing: urban < 11 min within 3.5 km; rural < 15 min within 8-10 km"

    @property
    def resolved_objective(self) -> str:
        return self.objective
