"""The YAML case file: schema, loading and whole-file validation.

A case names its data (demand, sites, zones, travel times), the model with its norms, and the
solver. :func:`load_case` parses the YAML, validates the *whole* file (unknown keys, wrong types,
out-of-range values, missing files, model-specific rules) and raises one :class:`CaseError` that
lists every problem as ``file › field.path: what (got X); how to fix``.

The pydantic classes double as the library's model specification: a Python user can build
``CoverageModelConfig(kind="mclp", standards=[Standard(name="15min", minutes=15)], ...)``
without any YAML.
"""

from __future__ import annotations

import difflib
import hashlib
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    ValidationError,
    field_validator,
    model_validator,
)

from .errors import CaseError, Problem, ProblemCollector

__all__ = [
    "CaseConfig",
    "CoverageModelConfig",
    "DemandConfig",
    "EstimateTravelTimesConfig",
    "LoadedCase",
    "PCenterModelConfig",
    "PMedianModelConfig",
    "SitesConfig",
    "SolverConfig",
    "Standard",
    "TiersModelConfig",
    "TravelTimesConfig",
    "ZoneRule",
    "ZonesConfig",
    "load_case",
    "parse_case",
]


class Strict(BaseModel):
    """Base: unknown keys are errors (typos), values are immutable after validation."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


def _not_bool(value: object) -> object:
    """YAML ``true``/``false`` where a number belongs is a typo, not 1 or 0."""
    if isinstance(value, bool):
        raise ValueError(f"a number is needed here, not {str(value).lower()}")
    return value


NotBool = BeforeValidator(_not_bool)
PositiveFloat = Annotated[float, Field(gt=0, allow_inf_nan=False), NotBool]
Share = Annotated[float, Field(gt=0, le=1, allow_inf_nan=False), NotBool]
NonNegFloat = Annotated[float, Field(ge=0, allow_inf_nan=False), NotBool]
Name = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[^\s,;/\\]+$")]
Count = Annotated[int, Field(ge=0), NotBool]
Names = Annotated[list[Name], Field(min_length=1)]  # an empty list selects nothing: an error


# ---------------------------------------------------------------------------------------------
# Data sources
# ---------------------------------------------------------------------------------------------
class DemandColumns(Strict):
    id: str = "id"
    name: str | None = None
    """Display name column (village name); default: a column called ``name`` when present."""
    weight: str = "population"
    zone: str | None = None
    demand_class: str | None = Field(default=None, alias="class")
    x: str | None = None
    y: str | None = None


class DemandConfig(Strict):
    """Demand points (villages, grid cells): id, weight (residents), zone, class, location."""

    file: str
    layer: str | None = None
    columns: DemandColumns = DemandColumns()
    crs: str | None = None
    footfall_classes: list[str] = []
    """Demand classes that are not residents (e.g. venues weighted by footfall): left out of
    resident totals and of per-10,000-residents densities."""
    weight_note: str | None = Field(
        default=None,
        description="Provenance of the weights, e.g. 'estimate: township totals spread over villages'.",
    )


class SitesColumns(Strict):
    id: str = "id"
    name: str | None = None
    """Display name column (clinic, station); default: a column called ``name`` when present."""
    type: str | None = None
    cost: str | None = None
    zone: str | None = None
    existing: str | None = None
    host: str | None = None
    removal_cost: str | None = None
    relocation_credit: str | None = None
    capacity: str | None = None
    vehicles: str | None = None
    np_vehicles: str | None = None
    x: str | None = None
    y: str | None = None


class SitesConfig(Strict):
    """Candidate sites and existing facilities."""

    file: str
    layer: str | None = None
    columns: SitesColumns = SitesColumns()
    crs: str | None = None
    facility_type: Name = Field(
        default="facility", description="Type of every site when there is no type column."
    )
    cost_unit: str = "yuan"


class ZonesColumns(Strict):
    id: str = "id"
    name: str | None = None
    """Display name column (乡镇/街道 name); default: a column called ``name`` when present."""
    kind: str | None = None


class ZonesConfig(Strict):
    """Optional table of zones (townships/streets): names and kinds (street, town, township)."""

    file: str
    layer: str | None = None
    columns: ZonesColumns = ZonesColumns()
    geometry: str | None = Field(
        default=None,
        description="GIS file with the zones' polygons, for maps and layers (default: the zones "
        "file itself when it has polygons; else each zone's demand points' hull, flagged).",
    )
    geometry_layer: str | None = None
    geometry_id: str | None = Field(
        default=None, description="Zone id column of the geometry file (default: columns.id)."
    )
    geometry_approximate: str | None = Field(
        default=None,
        description="How the polygons were approximated when they are not official boundaries "
        "(e.g. 'Voronoi cells of the villages'): the zones layer and the report flag them.",
    )


class MatrixColumns(Strict):
    demand_id: str = "demand_id"
    site_id: str = "site_id"
    value: str = "minutes"


TimeUnit = Literal["min", "s", "h"]
DistanceUnit = Literal["m", "km"]


class TravelTimesConfig(Strict):
    """A precomputed long table ``demand_id, site_id, value`` (ArcGIS, OSRM, 高德 ...)."""

    file: str
    layer: str | None = None
    columns: MatrixColumns = MatrixColumns()
    unit: TimeUnit | DistanceUnit = "min"
    direction: Literal["site_to_demand", "demand_to_site", "symmetric"] = "demand_to_site"
    complete_within: PositiveFloat | None = None
    """If the table was cut at a search limit (e.g. an ArcGIS OD matrix with a cutoff), that
    limit in ``unit``: standards beyond it are refused instead of silently under-counted."""

    @property
    def quantity(self) -> Literal["time", "distance"]:
        return "time" if self.unit in ("min", "s", "h") else "distance"


class NetworkConfig(Strict):
    """A road network: a local file (offline) or an osmnx download (online, cached)."""

    file: str | None = None
    nodes_file: str | None = None
    place: str | None = None
    polygon: str | None = None
    polygon_layer: str | None = None
    polygon_where: str | None = Field(
        default=None, description="SQL filter on the polygon file, e.g. \"adcode = '330681'\""
    )
    buffer_m: NonNegFloat = 2000.0
    """Download roads this far beyond the polygon, so trips that leave and re-enter still route."""
    bbox: tuple[float, float, float, float] | None = Field(
        default=None, description="west, south, east, north in WGS-84 degrees"
    )
    network_type: Literal["drive", "ebike", "walk", "all"] = "drive"
    attribution: str = "© OpenStreetMap contributors (ODbL 1.0)"

    @model_validator(mode="after")
    def _one_source(self) -> NetworkConfig:
        given = [k for k in ("file", "place", "polygon", "bbox") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError(
                "give exactly one network source: file (GraphML, .osm, .osm.pbf, or an edge CSV "
                "with nodes_file), place, polygon or bbox"
                + (f" (got {', '.join(given)})" if given else "")
            )
        if (
            self.file is not None
            and self.file.lower().endswith((".csv", ".csv.gz"))
            and self.nodes_file is None
        ):
            raise ValueError(
                "an edge table (CSV) needs nodes_file: the node table with osmid, lon, lat"
            )
        return self


class NetworkTravelTimesConfig(Strict):
    """Travel times computed on a road network for one travel mode."""

    network: Name
    mode: Literal["drive", "ebike", "walk"] = "drive"
    measure: Literal["time", "distance"] = "time"
    direction: Literal["site_to_demand", "demand_to_site", "symmetric"] = "demand_to_site"
    speeds_kph: dict[str, NonNegFloat] | None = None
    maxspeed_factor: Annotated[float, Field(gt=0, le=1.5), NotBool] | None = None
    access_kph: PositiveFloat | None = None
    ferry_kph: PositiveFloat | None = None
    ferry_boarding_min: NonNegFloat | None = None
    max_snap_m: PositiveFloat = 1000.0
    snap_exclude: list[str] = ["motorway", "motorway_link"]
    """Road classes points may not be snapped onto (expressways; add trunk for elevated urban roads)."""
    far_points: Literal["error", "unreachable", "estimate"] = "error"
    """Points farther than max_snap_m from a road, or outside the network: an error, unreachable,
    or ``estimate``: their pairs get the calibrated straight-line estimate of this mode (roads
    where the network has them, the estimate elsewhere; flagged in every output)."""
    components: Literal["largest", "all"] = "largest"
    """Snap onto the largest strongly connected part of the network only (default: no point is
    stranded on an island), or onto any part ("all": local walking coverage such as AEDs, on a
    pedestrian network that OSM leaves in pieces; pairs in different parts are unreachable)."""
    cutoff: PositiveFloat | Literal["auto"] | None = "auto"
    k_nearest: Annotated[int, Field(ge=1), NotBool] | None = None
    workers: Annotated[int, Field(ge=1, le=64), NotBool] = 2
    cache: bool = True

    @property
    def unit(self) -> str:
        return "min" if self.measure == "time" else "m"

    @property
    def quantity(self) -> Literal["time", "distance"]:
        return self.measure


Setting = Literal["urban", "rural"]
PerSetting = PositiveFloat | dict[Setting, PositiveFloat]


class EstimateTravelTimesConfig(Strict):
    """Travel times ESTIMATED without a road network (``mode: estimate``): great-circle
    distance x circuity / speed per setting (urban, rural), plus an off-road leg at each end.
    Defaults are calibrated on real networks (``geodata/data/estimate_calibration.csv``)."""

    mode: Literal["estimate"]
    by: Literal["drive", "ebike", "walk"] = "drive"
    """The travel mode whose calibrated circuity and speed apply."""
    measure: Literal["time", "distance"] = "time"
    setting: Literal["urban", "rural", "by_class"] = "by_class"
    """urban (calibrated on central Chengdu) or rural (Andorra's mountain roads) for every pair,
    or by_class: the demand point's class (urban/rural, or an NBS 城乡分类代码: 1xx urban,
    2xx rural; class_settings maps other classes); points without a class are rural."""
    class_settings: dict[str, Setting] | None = None
    circuity: PerSetting | None = None
    """Road distance / straight-line distance (default: calibrated per setting and mode)."""
    speed_kph: PerSetting | None = None
    """Effective speed along the road distance (default: calibrated per setting and mode)."""
    offroad_m: NonNegFloat = 0.0
    """Off-road leg at each end (village centre to the nearest road), in metres."""
    offroad_kph: PositiveFloat = 4.5

    @property
    def unit(self) -> str:
        return "min" if self.measure == "time" else "m"

    @property
    def quantity(self) -> Literal["time", "distance"]:
        return self.measure


def _travel_times_tag(value: Any) -> str:
    if isinstance(value, Mapping):
        if value.get("mode") == "estimate":
            return "estimate"
        return "network" if "network" in value else "file"
    if isinstance(value, EstimateTravelTimesConfig):
        return "estimate"
    return "network" if isinstance(value, NetworkTravelTimesConfig) else "file"


TravelTimesSpec = Annotated[
    Annotated[TravelTimesConfig, Tag("file")]
    | Annotated[NetworkTravelTimesConfig, Tag("network")]
    | Annotated[EstimateTravelTimesConfig, Tag("estimate")],
    Discriminator(_travel_times_tag),
]


# ---------------------------------------------------------------------------------------------
# Model: coverage family (LSCP, MCLP, PSCLP and the general composition)
# ---------------------------------------------------------------------------------------------
Threshold = PositiveFloat | Annotated[dict[str, PositiveFloat], Field(min_length=1)]


class Standard(Strict):
    """A service standard: demand is covered when a site of the given types is within it."""

    name: Name
    minutes: Threshold | None = None
    metres: Threshold | None = None
    matrix: str | None = None
    facility_types: Names | None = None
    weight: NonNegFloat = 1.0
    min_share: Share | None = None
    zone_min_share: Share | dict[str, Share] | None = None
    round_trip: bool = False
    """The threshold is a round trip (an AED fetched and brought back): one-way time is half."""
    source: str | None = None

    @model_validator(mode="after")
    def _one_threshold(self) -> Standard:
        if (self.minutes is None) == (self.metres is None):
            raise ValueError(
                "give exactly one of 'minutes' or 'metres' (a number, or a mapping "
                "demand class -> number such as {urban: 11, rural: 15})"
            )
        return self

    @property
    def threshold(self) -> float | dict[str, float]:
        value = self.minutes if self.minutes is not None else self.metres
        assert value is not None
        return value

    @property
    def quantity(self) -> Literal["time", "distance"]:
        return "time" if self.minutes is not None else "distance"

    @property
    def unit(self) -> str:
        return "min" if self.minutes is not None else "m"

    @property
    def mandatory(self) -> bool:
        """Every subject resident must be covered (hard row per demand point)."""
        return self.min_share is not None and self.min_share >= 1.0


class LargeZoneCap(Strict):
    over_residents: PositiveFloat
    max_sites: Annotated[int, Field(ge=0), NotBool]


class ResidentsPerSite(Strict):
    """Each open site serves between ``min`` and ``max`` residents of its zone: the zone has at
    least ceil(residents / max) and at most ceil(residents / min) of them (Qingdao: one community
    health service centre per 30,000-100,000 residents)."""

    min: PositiveFloat
    max: PositiveFloat

    @model_validator(mode="after")
    def _band(self) -> ResidentsPerSite:
        if self.min > self.max:
            raise ValueError(f"min {self.min:g} is above max {self.max:g}")
        return self


class ZoneRule(Strict):
    """At least ``min_sites`` open sites of the given types in every selected zone, and (with
    ``per_10k_residents``) at least ceil(density x the zone's residents / 10,000) of them, e.g.
    AEDs per 10,000 residents per street/town (footfall demand classes are not residents)."""

    min_sites: Annotated[int, Field(ge=0), NotBool] = 0
    per_10k_residents: PositiveFloat | None = None
    max_sites: Annotated[int, Field(ge=0), NotBool] | None = None
    """At most this many open sites of the types in each zone (e.g. one CHC per street)."""
    large_zones: LargeZoneCap | None = None
    """A higher cap for zones with more residents (streets over 100,000 may add 1-2 CHCs)."""
    residents_per_site: ResidentsPerSite | None = None
    """Between ceil(residents / max) and ceil(residents / min) open sites in each zone; with
    ``min_sites``/``max_sites`` as well, every bound holds."""
    facility_types: Names | None = None
    zones: Literal["all"] | list[str] = "all"
    zone_kinds: list[str] | None = None
    source: str | None = None

    @model_validator(mode="after")
    def _some_target(self) -> ZoneRule:
        if (
            self.min_sites < 1
            and self.per_10k_residents is None
            and self.max_sites is None
            and self.residents_per_site is None
        ):
            raise ValueError(
                "give min_sites (>= 1), per_10k_residents, max_sites or residents_per_site"
            )
        if self.max_sites is not None and self.max_sites < self.min_sites:
            raise ValueError(f"max_sites {self.max_sites} is below min_sites {self.min_sites}")
        if self.large_zones is not None and self.max_sites is None:
            raise ValueError("large_zones raises max_sites: give max_sites too")
        return self


class TypeShare(Strict):
    """Among the open sites of the ``of`` types, at least ``min_share`` are of ``facility_types``
    (e.g. >= 90% of village clinics standardised, Qingdao/Zhuji), county-wide or in every zone."""

    name: Name
    facility_types: Annotated[list[Name], Field(min_length=1)]
    of: Annotated[list[Name], Field(min_length=1)]
    min_share: Share
    scope: Literal["county", "zone"] = "county"
    zone_kinds: list[str] | None = None
    source: str | None = None


class Phase(Strict):
    """One year (or stage) of a phased roll-out."""

    name: str
    budget: NonNegFloat | None = None
    """What may be spent on new sites in this phase."""
    max_new_sites: Count | None = None


class CoverageModelConfig(Strict):
    """LSCP / MCLP / PSCLP and their composition (MODELS.md §1.1-1.3, §8.2)."""

    kind: Literal["lscp", "mclp", "psclp", "coverage"]
    objective: Literal["max_coverage", "min_cost", "min_sites"] | None = None
    standards: Annotated[list[Standard], Field(min_length=1)]
    max_new_sites: Count | dict[str, Count] | None = None
    min_new_sites: Count | dict[str, Count] | None = None
    """At least this many new sites (e.g. >= 600 new AEDs), overall or per type."""
    budget: NonNegFloat | None = None
    budget_by_type: dict[Name, NonNegFloat] | None = None
    """Sub-budgets per facility type, on top of (or instead of) the total budget."""
    existing: Literal["keep", "may_close"] = "keep"
    keep_existing_count: bool = False
    zone_rules: list[ZoneRule] = []
    type_shares: list[TypeShare] = []
    secondary_objective: Literal["none", "min_cost", "min_sites"] = "none"
    """Lexicographic second stage: among plans with optimal coverage, the cheapest / fewest."""
    phases: list[Phase] | None = None
    """Phased roll-out: sites opened in a phase stay open; coverage is summed over the phases;
    the model's own limits and targets apply to the final phase."""

    @property
    def resolved_objective(self) -> str:
        if self.objective is not None:
            return self.objective
        return {"lscp": "min_sites", "mclp": "max_coverage", "psclp": "min_cost"}.get(
            self.kind, "max_coverage"
        )

    def resolved_standards(self) -> list[Standard]:
        """Standards with kind defaults applied (LSCP: every standard must reach everyone)."""
        if self.kind != "lscp":
            return list(self.standards)
        return [
            s if s.min_share is not None else s.model_copy(update={"min_share": 1.0})
            for s in self.standards
        ]


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


# ---------------------------------------------------------------------------------------------
# Model: p-median and p-center (efficiency and equity, MODELS.md §1.4-1.5, §8.3)
# ---------------------------------------------------------------------------------------------
class _SitingModelConfig(Strict):
    """What p-median and p-center share: how many sites, which types, which table."""

    p: Annotated[int, Field(ge=1), NotBool] | None = None
    max_new_sites: Annotated[int, Field(ge=0), NotBool] | None = None
    existing: Literal["keep", "may_close"] = "keep"
    facility_types: Names | None = None
    matrix: Name | None = None

    @model_validator(mode="after")
    def _site_count(self) -> _SitingModelConfig:
        if (self.p is None) == (self.max_new_sites is None):
            raise ValueError(
                "give exactly one of 'p' (sites open in total) or 'max_new_sites' (new sites "
                "besides the existing ones)"
            )
        if self.existing == "may_close" and self.p is None:
            raise ValueError(
                "existing: may_close needs 'p' (sites in total); with max_new_sites closing a "
                "site never shortens a trip"
            )
        return self


class PMedianModelConfig(_SitingModelConfig):
    """p-median (MODELS.md §1.4, §8.3): least total population-weighted travel time.

    YAML (``model:`` section)::

        kind: p_median
        p: 12                    # sites open in total (kept existing ones count); or
        max_new_sites: 4         # at most this many new sites besides the existing ones
        existing: keep           # keep | may_close (relocation; needs p)
        facility_types: [clinic] # the site types placed (default: every site)
        matrix: drive            # travel-time table to use (when there are several)
        capacity: ignore         # ignore | enforce (sites' capacity column, residents)
        k_nearest: auto          # auto | an integer k | null (full model); assignment only
        method: auto             # auto (Benders without capacities) | benders | assignment
    """

    kind: Literal["p_median"]
    capacity: Literal["ignore", "enforce"] = "ignore"
    k_nearest: Annotated[int, Field(ge=1), NotBool] | Literal["auto"] | None = "auto"
    method: Literal["auto", "benders", "assignment"] = "auto"

    @property
    def resolved_objective(self) -> str:
        return "min_total_travel"


class PCenterModelConfig(_SitingModelConfig):
    """p-center (MODELS.md §1.5): the least achievable worst travel time ("circle radius").

    YAML (``model:`` section)::

        kind: p_center
        p: 12                    # sites open in total (kept existing ones count); or
        max_new_sites: 4         # at most this many new sites besides the existing ones
        count: exactly           # exactly | at_most (p): at_most opens the fewest sites that
                                 #   reach the optimal radius
        existing: keep           # keep | may_close (relocation; needs p)
        facility_types: [clinic] # the site types placed (default: every site)
        matrix: drive            # travel-time table to use (when there are several)
        weighted: false          # true: worst residents x travel time instead of travel time
        method: binary_search    # binary_search | compact
    """

    kind: Literal["p_center"]
    weighted: bool = False
    method: Literal["binary_search", "compact"] = "binary_search"
    count: Literal["exactly", "at_most"] = "exactly"
    """How ``p`` counts: exactly p sites open (OR-Library's p-center), or at most p and the
    fewest that reach the optimal radius. ``max_new_sites`` always means at most."""

    @model_validator(mode="after")
    def _count_needs_p(self) -> PCenterModelConfig:
        if "count" in self.model_fields_set and self.p is None and self.count == "exactly":
            raise ValueError(
                "count: exactly needs 'p' (sites in total); max_new_sites is always at most"
            )
        return self

    @property
    def resolved_objective(self) -> str:
        return "min_worst_travel"


# Village-clinic tiers (optimizer.models.tiers): 中心村卫生室 / 一般村卫生室 / 服务点
class Tier(Strict):
    """One tier of the village clinic network."""

    name: Name
    label_zh: str | None = None
    """Chinese name for tables and reports, e.g. 中心村卫生室."""
    minutes: PositiveFloat
    """Service radius: a village may be assigned to a clinic of this tier within this many
    minutes (a central clinic serves a larger radius)."""
    build_cost: NonNegFloat
    """Yuan for a new clinic of this tier (plus the site's own ``cost`` column, if given)."""
    upgrade_cost: NonNegFloat
    """Yuan to bring an existing clinic to a standardised clinic of this tier (in place)."""
    capacity: PositiveFloat | None = None
    """Most residents one clinic of this tier serves (None: no limit)."""
    max_village_residents: PositiveFloat | None = None
    """Largest village (residents) this tier may serve, e.g. service points only small ones."""
    min_per_zone: Count = 0
    """At least this many clinics of this tier in every township (zone)."""
    max_township_minutes: PositiveFloat | None = None
    """A clinic of this tier must be within this many minutes of its township's centre."""
    in_standard_share: bool = True
    """Counted in the standardised share (service points may be left out)."""
    source: str | None = None


class ExistingClinic(Strict):
    """What today's clinics of one site type are: their tier and whether standardised."""

    tier: Name
    standard: bool = False
    smart: bool = False


class SmartClinics(Strict):
    """Smart village clinics (智慧村卫生室: remote consultation and records): which tiers may be
    smart, the extra cost of making a clinic smart (new or existing) and the minimum per township
    (Qingdao: every township/street has >= 1)."""

    tiers: Names
    cost: NonNegFloat
    min_per_zone: Count = 1
    source: str | None = None


class TiersModelConfig(Strict):
    """Tiered village-clinic network (MODELS.md §1.6, successively inclusive hierarchy)."""

    kind: Literal["village_tiers"]
    tiers: Annotated[list[Tier], Field(min_length=1)]
    """From the highest tier (e.g. 中心村卫生室) to the lowest (e.g. 服务点)."""
    existing: dict[Name, ExistingClinic] = Field(default_factory=dict)
    """Site type of today's clinics -> their tier and standard; every existing site needs one."""
    candidate_types: list[Name] | None = None
    """Site types that may become new clinics (None: every site that is not existing)."""
    objective: Literal["min_cost", "max_coverage"] = "min_cost"
    """min_cost: every village assigned, least cost; max_coverage: most residents assigned."""
    budget: NonNegFloat | None = None
    matrix: Name | None = None
    """The travel-time table (demand -> site); default: the only one."""
    township_centres: Literal["largest"] | dict[str, str] = "largest"
    """The demand point standing for each township's centre (for ``max_township_minutes``):
    ``largest`` = the most populous one of the zone, or zone -> demand id."""
    min_standard_share: Share | None = None
    """At least this share of open clinics (tiers ``in_standard_share``) standardised."""
    standard_share_scope: Literal["county", "zone"] = "county"
    standard_share_source: str | None = None
    smart: SmartClinics | None = None

    @model_validator(mode="after")
    def _names(self) -> TiersModelConfig:
        names = [t.name for t in self.tiers]
        if len(set(names)) != len(names):
            raise ValueError(f"tier names repeat: {names}")
        for t in self.smart.tiers if self.smart else []:
            if t not in names:
                raise ValueError(f"smart.tiers: {t!r} is not a tier; use some of {names}")
        for site_type, e in self.existing.items():
            if e.tier not in names:
                raise ValueError(
                    f"existing.{site_type}.tier {e.tier!r} is not a tier; use one of {names}"
                )
        if self.objective == "max_coverage" and self.budget is None:
            raise ValueError("objective max_coverage needs a budget")
        return self

    def rank(self, tier: str) -> int:
        """0 for the highest tier, growing downwards."""
        return [t.name for t in self.tiers].index(tier)


ModelConfig = Annotated[
    CoverageModelConfig
    | EmsModelConfig
    | PMedianModelConfig
    | PCenterModelConfig
    | TiersModelConfig,
    Field(discriminator="kind"),
]


# ---------------------------------------------------------------------------------------------
# Solver and output
# ---------------------------------------------------------------------------------------------
class SolverConfig(Strict):
    backend: Literal["highs", "cbc", "ortools", "scip"] = "highs"
    time_limit_s: PositiveFloat = 600.0
    mip_rel_gap: Annotated[float, Field(ge=0, lt=1), NotBool] = 0.0
    threads: Annotated[int, Field(ge=1, le=256), NotBool] | None = None
    seed: Annotated[int, Field(ge=0), NotBool] = 0
    log: bool = False
    ortools_engine: Literal["SCIP", "CP-SAT", "CBC", "HIGHS"] = "SCIP"
    aggregate_demand: bool = True
    drop_dominated: bool = True
    method: Literal["compact", "benders", "bbc", "auto"] = "auto"
    """Covering models: one compact MILP, a Benders decomposition (Cordeau, Furini & Ljubić
    2019; ``benders`` multi-tree in HiGHS, ``bbc`` branch-and-Benders-cut in SCIP), or ``auto``
    (chosen by the measured size and structure, see ``models.coverage.decide_method``)."""
    cluster: str | None = None
    """Dask scheduler address (``tcp://host:8786``) for sweeps; None = local processes."""

    @field_validator("cluster")
    @classmethod
    def _cluster_address(cls, value: str | None) -> str | None:
        if value is not None and "://" not in value:
            raise ValueError(
                f"must be a Dask scheduler address such as tcp://10.0.0.5:8786 (got {value!r})"
            )
        return value


class OutputConfig(Strict):
    """Where and how a run's files are written."""

    dir: str | None = None
    csv_encoding: Literal["utf-8-sig", "utf-8", "gbk"] = Field(
        default="utf-8-sig",
        description="CSV encoding: UTF-8 with BOM (Excel on Chinese Windows reads it right), "
        "plain UTF-8, or GBK.",
    )
    lang: Literal["zh", "en"] = Field(
        default="zh", description="Language of report.html and of results.xlsx's headers."
    )
    shapefile: bool = Field(
        default=False,
        description="Also write shapefile/<layer>.shp (field names cut to 10 characters; "
        "shapefile/fields.csv maps them back).",
    )


class CapacityCheck(Strict):
    """A county capacity norm checked against given data, not a siting decision: at least
    ``min`` per ``per`` residents (e.g. CDC staff 1.75 per 10,000, Zhuji)."""

    name: Name
    have: NonNegFloat
    """What the county has today (staff, beds), from the planner's data."""
    min: PositiveFloat | None = None
    per: PositiveFloat = 10_000
    min_share: Share | None = None
    """Instead of a rate per residents: at least this share of ``of`` (e.g. >= 5% of the
    lead hospitals' new hires reserved for grassroots posts, Qingdao)."""
    of: NonNegFloat | None = None
    unit: str = ""
    note: str = ""
    """Where ``have`` comes from (statistical yearbook, health commission, estimate)."""
    source: str = ""

    @model_validator(mode="after")
    def _one_form(self) -> CapacityCheck:
        if (self.min is None) == (self.min_share is None):
            raise ValueError("give either min (per `per` residents) or min_share (of `of`)")
        if self.min_share is not None and self.of is None:
            raise ValueError("min_share needs `of`, the count it is a share of")
        return self


class CapacityNorms(Strict):
    """County capacity checks shown in the compliance tables (``capacity_compliance``)."""

    population: PositiveFloat | None = None
    """Residents the norms refer to (default: the demand file's residents)."""
    population_note: str = ""
    checks: Annotated[list[CapacityCheck], Field(min_length=1)]


class CaseConfig(Strict):
    name: str
    description: str = ""
    roads: Literal["network", "estimate"] = "network"
    """``estimate``: every network travel-time table becomes a calibrated straight-line estimate
    of the same mode and measure (offline; no network is loaded). One line switches a case
    between OSM roads and the estimate."""
    demand: DemandConfig
    sites: SitesConfig
    zones: ZonesConfig | None = None
    networks: dict[Name, NetworkConfig] = {}
    travel_times: dict[Name, TravelTimesSpec]
    model: ModelConfig
    capacity_norms: CapacityNorms | None = None
    solver: SolverConfig = SolverConfig()
    output: OutputConfig = OutputConfig()

    @model_validator(mode="after")
    def _estimate_roads(self) -> CaseConfig:
        if self.roads == "network":
            return self
        tables: dict[str, Any] = {}
        for name, t in self.travel_times.items():
            if isinstance(t, NetworkTravelTimesConfig):
                t = EstimateTravelTimesConfig(mode="estimate", by=t.mode, measure=t.measure)
            tables[name] = t
        object.__setattr__(self, "travel_times", tables)
        return self

    @field_validator("travel_times", mode="before")
    @classmethod
    def _single_table(cls, value: Any) -> Any:
        # ``travel_times: {file: ...}`` is one unnamed table; name it "travel_times".
        if isinstance(value, Mapping) and (
            "file" in value or "network" in value or value.get("mode") == "estimate"
        ):
            return {"travel_times": value}
        return value


# ---------------------------------------------------------------------------------------------
# Loading and validation
# ---------------------------------------------------------------------------------------------
class CaseFile:
    """A case file as read: its path (the label in every message), its text (hashed for the
    manifest), and the folder its data paths are relative to. Siting and staffing cases both."""

    def __init__(self, path: Path | None, base_dir: Path, raw_text: str) -> None:
        self.path = path
        self.base_dir = base_dir
        self.raw_text = raw_text

    @property
    def label(self) -> str:
        return str(self.path) if self.path is not None else "<case>"

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.raw_text.encode("utf-8")).hexdigest()

    def resolve(self, file: str) -> Path:
        p = Path(file).expanduser()
        return p if p.is_absolute() else (self.base_dir / p)


class LoadedCase(CaseFile):
    """A validated siting case: the config, the case file path, and the folder paths are
    relative to."""

    def __init__(
        self, config: CaseConfig, path: Path | None, base_dir: Path, raw_text: str
    ) -> None:
        super().__init__(path, base_dir, raw_text)
        self.config = config


_FIX_BY_TYPE = {
    "extra_forbidden": "remove it or fix its spelling",
    "missing": "add this key",
    "greater_than": "give a positive number",
    "greater_than_equal": "give a number at or above the minimum",
    "less_than_equal": "give a share between 0 and 1 (e.g. 0.9 for 90%)",
    "float_parsing": "give a number",
    "int_parsing": "give a whole number",
    "int_from_float": "give a whole number",
    "bool_parsing": "give true or false",
    "string_type": "give text",
    "literal_error": "",
    "union_tag_invalid": "",
    "finite_number": "give a finite number",
    "too_short": "give at least one entry",
}


def _bound_fix(etype: str, ctx: dict[str, Any]) -> str:
    """The fix for a number out of its range, from the range itself (not a fixed text)."""
    for key, words in (("le", "at most"), ("lt", "below"), ("ge", "at least"), ("gt", "above")):
        if key in ctx and etype.startswith(("less", "greater")):
            limit = ctx[key]
            if key == "le" and limit == 1:
                return "give a share between 0 and 1 (e.g. 0.9 for 90%)"
            return f"give a number {words} {limit}"
    return ""


def _model_at(model: type[BaseModel], loc: Sequence[str | int]) -> type[BaseModel] | None:
    """The pydantic model class that owns the last key of ``loc`` (to list allowed keys)."""
    current: Any = model
    for part in loc[:-1]:
        if isinstance(part, str) and part in _UNION_TAGS:
            continue  # a union member's tag (e.g. p_median), chosen in _unwrap
        if isinstance(current, type) and issubclass(current, BaseModel):
            field = current.model_fields.get(str(part))
            if field is None:
                field = next(
                    (f for f in current.model_fields.values() if f.alias == str(part)), None
                )
            if field is None:
                return None
            current = _unwrap(field.annotation, loc, part)
        elif isinstance(part, int) or current is None:
            continue
        else:
            current = _unwrap(current, loc, part)
    return current if isinstance(current, type) and issubclass(current, BaseModel) else None


def _unwrap(annotation: Any, loc: Sequence[str | int], part: str | int) -> Any:
    import typing

    origin = typing.get_origin(annotation)
    if origin is None:
        return annotation
    tags = {p for p in loc if isinstance(p, str)}
    for arg in typing.get_args(annotation):  # the member of a tagged union the error is in
        if isinstance(arg, type) and issubclass(arg, BaseModel) and "kind" in arg.model_fields:
            kinds = typing.get_args(arg.model_fields["kind"].annotation)
            if tags & set(map(str, kinds)):
                return arg
    for arg in typing.get_args(annotation):
        found = _unwrap(arg, loc, part)
        if isinstance(found, type) and issubclass(found, BaseModel):
            return found
    return None


def _allowed_keys(model: type[BaseModel]) -> list[str]:
    return [f.alias or name for name, f in model.model_fields.items()]


def _pydantic_problems(exc: ValidationError, label: str, root: type[BaseModel]) -> list[Problem]:
    problems = []
    for err in exc.errors(include_url=False):
        loc = [p for p in err["loc"] if not (isinstance(p, str) and _is_type_tag(p))]
        path = _dotted(loc)
        etype = err["type"]
        msg = err["msg"]
        fix = _bound_fix(etype, err.get("ctx") or {}) or _FIX_BY_TYPE.get(etype, "")
        got = err.get("input")
        if etype == "extra_forbidden":
            owner = _model_at(root, err["loc"])
            msg = "unknown key"
            if owner is not None:
                allowed = _allowed_keys(owner)
                close = difflib.get_close_matches(str(loc[-1]), allowed, n=1)
                fix = (f"did you mean '{close[0]}'? " if close else "") + (
                    "allowed keys here: " + ", ".join(allowed)
                )
            got = None
        elif etype == "missing":
            msg = "required key is missing"
            got = None
        elif etype.startswith("value_error"):
            msg = msg.removeprefix("Value error, ")
        if isinstance(got, dict) and etype not in ("union_tag_invalid",):
            got = None if etype == "model_type" else got
        problems.append(Problem(f"{label} › {path}" if path else label, msg, got, fix))
    return problems


def _is_type_tag(part: str) -> bool:
    """A union member or validator name pydantic puts into an error location."""
    return part in _UNION_TAGS or part.startswith(("function-", "constrained-", "dict[", "list["))


# pydantic inserts union member names into error locations; they mean nothing to a planner
_UNION_TAGS = {
    "p_median",
    "p_center",
    "lscp",
    "mclp",
    "psclp",
    "coverage",
    "float",
    "dict[str,float]",
    "dict[str,constrained-float]",
    "constrained-float",
    "int",
    "dict[str,constrained-int]",
    "dict[str,int]",
    "constrained-int",
    "literal['all']",
    "list[str]",
    "function-after[_one_threshold(), Standard]",
}


def _dotted(loc: Sequence[str | int]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


def yaml_problem(exc: yaml.YAMLError, label: str) -> Problem:
    """A YAML error as a Problem at the line where the broken construct starts (an unclosed
    quote is reported where it opens, not at the end of the file where PyYAML noticed)."""
    mark = getattr(exc, "problem_mark", None)
    start = getattr(exc, "context_mark", None)
    problem = getattr(exc, "problem", None) or str(exc)
    context = getattr(exc, "context", None)
    if start is not None and context and "quoted" in context:
        mark, problem = start, f"{problem} ({context} that starts here)"
    where = f"{label} line {mark.line + 1}, column {mark.column + 1}" if mark else label
    fix = "check indentation and quoting"
    if "given twice" in problem:
        fix = "keep one of the two (YAML would otherwise silently use the last)"
    return Problem(where, f"not valid YAML: {problem}", fix=fix)


def yaml_mapping(text: str, label: str, *, start_from: str) -> dict[str, Any]:
    """The case YAML as a mapping; bad YAML or another top-level shape is a CaseError naming the
    line and column (``start_from`` names an example case to copy)."""
    from .casefile import check_nesting, load_yaml

    check_nesting(text, label)  # thousands of nested brackets: named, not a RecursionError

    try:
        raw = load_yaml(text)  # a key given twice is an error, not "the last one wins"
    except yaml.YAMLError as exc:
        raise CaseError([yaml_problem(exc, label)]) from None
    if not isinstance(raw, dict):
        raise CaseError(
            [
                Problem(
                    label,
                    "a case file must be a YAML mapping of keys",
                    got=type(raw).__name__,
                    fix=f"start from {start_from}",
                )
            ]
        )
    return raw


def parse_case(
    text: str, *, label: str = "<case>", base_dir: Path | None = None, path: Path | None = None
) -> LoadedCase:
    """Parse and validate case YAML text (the schema and the model rules; not the data)."""
    raw = yaml_mapping(text, label, start_from="configs/andorra.yaml")
    try:
        config = CaseConfig.model_validate(raw)
    except ValidationError as exc:
        raise CaseError(_pydantic_problems(exc, label, CaseConfig)) from None
    case = LoadedCase(config, path, base_dir or Path.cwd(), text)
    problems = ProblemCollector()
    check_model_rules(case, problems)
    problems.raise_if_any()
    return case


def load_case(path: str | Path) -> LoadedCase:
    """Read, parse and validate a case file (schema and model rules; data is read later)."""
    from .casefile import read_case_text

    p = Path(path)
    text = read_case_text(p)  # UTF-8, or GBK; a folder, binary or missing file is a CaseError
    return parse_case(text, label=str(p), base_dir=p.resolve().parent, path=p)


def _check_network_refs(case: LoadedCase, problems: ProblemCollector) -> None:
    cfg = case.config
    label = case.label
    for name, tt in cfg.travel_times.items():
        if isinstance(tt, NetworkTravelTimesConfig) and tt.network not in cfg.networks:
            problems.add(
                f"{label} › travel_times.{name}.network",
                "no network of this name",
                got=tt.network,
                fix="define it under 'networks:'"
                + (f" or use one of: {', '.join(cfg.networks)}" if cfg.networks else ""),
            )
        if isinstance(tt, (NetworkTravelTimesConfig, EstimateTravelTimesConfig)):
            how = (
                "estimated from distances"
                if tt.mode == "estimate"
                else "computed on a road network"
            )
            for side in ("demand", "sites"):
                cols = getattr(cfg, side).columns
                src = getattr(cfg, side).file.lower()
                is_geo = not src.endswith((".csv", ".csv.gz", ".tsv", ".txt", ".parquet"))
                if (cols.x is None or cols.y is None) and not is_geo:
                    problems.add(
                        f"{label} › {side}.columns",
                        f"travel_times.{name} is {how}, which needs point coordinates",
                        fix="set columns x and y (e.g. {x: lon, y: lat}) and the crs, or use a GIS file",
                    )


def _check_ems_rules(case: LoadedCase, model: EmsModelConfig, problems: ProblemCollector) -> None:
    cfg = case.config
    where = f"{case.label} › model"
    tables = list(cfg.travel_times)
    for field, quantity in (("time_matrix", "time"), ("distance_matrix", "distance")):
        name = getattr(model, field)
        if name is None:
            continue
        if name not in cfg.travel_times:
            problems.add(
                f"{where}.{field}",
                "no travel-time table of this name",
                got=name,
                fix=f"use one of: {', '.join(tables)}",
            )
        elif cfg.travel_times[name].quantity != quantity:
            problems.add(
                f"{where}.{field}",
                f"this table does not hold {quantity}s",
                got=name,
                fix=f"point it at a table measured in {'minutes' if quantity == 'time' else 'metres'}",
            )
    if model.time_matrix is None and len(tables) > 1:
        problems.add(
            f"{where}.time_matrix",
            "several travel-time tables are given; say which holds driving times",
            fix=f"add 'time_matrix: <name>' with one of: {', '.join(tables)}",
        )
    if model.station_or_radius is not None and model.distance_matrix is None:
        problems.add(
            f"{where}.station_or_radius",
            "the radius-or-station rule needs a road-distance table",
            fix="add a travel_times entry with measure: distance and name it in distance_matrix",
        )
    if model.radius_m is not None and model.distance_matrix is None:
        problems.add(
            f"{where}.distance_matrix",
            "a service radius needs a road-distance table",
            fix="add a travel_times entry with measure: distance (or unit: m) and name it here",
        )
    resp = model.response_min
    values = list(resp.values()) if isinstance(resp, dict) else [resp]
    if any(v <= model.dispatch_min for v in values):
        problems.add(
            f"{where}.dispatch_min",
            "dispatch time uses up the whole response standard",
            got=model.dispatch_min,
            fix="dispatch_min must be below every response_min",
        )
    if (
        model.objective in ("mexclp", "bacop", "max_coverage")
        and model.budget is None
        and model.fleet.fleet_size is None
        and model.fleet.max_vehicles is None
    ):
        problems.add(
            where,
            f"objective {model.objective} needs a limit: more ambulances always help",
            fix="set budget, fleet.fleet_size or fleet.max_vehicles",
        )
    if (
        model.objective == "min_cost"
        and model.min_share is None
        and model.zone_min_share is None
        and model.fleet.per_population is None
    ):
        problems.add(
            f"{where}.objective",
            "min_cost without any coverage or fleet target buys nothing",
            fix="set min_share, zone_min_share or fleet.per_population",
        )
    if model.objective == "mexclp" and model.busy_fraction is None and model.calls_per_year is None:
        problems.add(
            where,
            "expected coverage (MEXCLP) needs the busy fraction of an ambulance",
            fix="set busy_fraction (e.g. 0.2) or calls_per_year (and minutes_per_call)",
        )
    if model.secondary_objective != "none" and model.objective == "min_cost":
        problems.add(
            f"{where}.secondary_objective",
            "min_cost is already the objective",
            got=model.secondary_objective,
            fix="drop it",
        )


def _check_siting_rules(
    case: LoadedCase, model: PMedianModelConfig | PCenterModelConfig, problems: ProblemCollector
) -> None:
    cfg = case.config
    where = f"{case.label} › model"
    tables = list(cfg.travel_times)
    if model.matrix is not None and model.matrix not in cfg.travel_times:
        problems.add(
            f"{where}.matrix",
            "no travel-time table of this name",
            got=model.matrix,
            fix=f"use one of: {', '.join(tables)}",
        )
    if model.matrix is None and len(tables) > 1:
        problems.add(
            f"{where}.matrix",
            "several travel-time tables are given; say which one the model uses",
            fix=f"add 'matrix: <name>' with one of: {', '.join(tables)}",
        )


def check_model_rules(case: LoadedCase, problems: ProblemCollector) -> None:
    """Rules that span several keys: every one found is added to ``problems``. The rules of
    each model kind are looked up in ``MODEL_RULES`` (one entry per family)."""
    _check_network_refs(case, problems)
    model = case.config.model
    MODEL_RULES[model.kind](case, model, problems)


def _check_ems_case(case: LoadedCase, model: EmsModelConfig, problems: ProblemCollector) -> None:
    cfg, label = case.config, case.label
    _check_ems_rules(case, model, problems)
    if cfg.solver.method in ("benders", "bbc"):
        problems.add(
            f"{label} › solver.method",
            "the Benders decomposition is for covering models (lscp, mclp, psclp, coverage)",
            got=cfg.solver.method,
            fix="use solver.method: compact (or auto) for an ambulance model",
        )


def _check_siting_case(
    case: LoadedCase, model: PMedianModelConfig | PCenterModelConfig, problems: ProblemCollector
) -> None:
    cfg, label = case.config, case.label
    _check_siting_rules(case, model, problems)
    if cfg.solver.method in ("benders", "bbc"):
        problems.add(
            f"{label} › solver.method",
            "solver.method chooses the covering models' decomposition; p-median and "
            "p-center choose theirs in the model",
            got=cfg.solver.method,
            fix="drop solver.method (or use auto) and set model.method"
            + (" (p_median: auto | benders | assignment)" if model.kind == "p_median" else ""),
        )


def _check_tiers_case(
    case: LoadedCase, model: TiersModelConfig, problems: ProblemCollector
) -> None:
    """The tier model's rules: its travel-time table exists; no covering decomposition."""
    cfg, label = case.config, case.label
    if model.matrix is not None and model.matrix not in cfg.travel_times:
        problems.add(
            f"{label} › model.matrix",
            "no travel-time table of this name",
            got=model.matrix,
            fix=f"use one of: {', '.join(cfg.travel_times)}",
        )
    if model.matrix is None and len(cfg.travel_times) > 1:
        problems.add(
            f"{label} › model.matrix",
            "the case has several travel-time tables: say which one the tiers read",
            fix=f"set model.matrix to one of: {', '.join(cfg.travel_times)}",
        )
    if cfg.solver.method in ("benders", "bbc"):
        problems.add(
            f"{label} › solver.method",
            "the Benders decomposition is for covering models (lscp, mclp, psclp, coverage)",
            got=cfg.solver.method,
            fix="use solver.method: compact (or auto) for the village-clinic tiers",
        )


def _check_coverage_rules(
    case: LoadedCase, model: CoverageModelConfig, problems: ProblemCollector
) -> None:
    """The covering models' rules (LSCP, MCLP, PSCLP, compositions, phases)."""
    cfg, label = case.config, case.label
    where = f"{label} › model"
    if cfg.solver.method == "benders" and (
        model.secondary_objective != "none" or model.phases is not None
    ):
        problems.add(
            f"{label} › solver.method",
            "the Benders decomposition does not support "
            + ("a secondary_objective" if model.secondary_objective != "none" else "phases"),
            got="benders",
            fix="use solver.method: compact (or auto, which falls back to compact)",
        )
    names = [s.name for s in model.standards]
    for k, s in enumerate(model.standards):
        if names.count(s.name) > 1 and names.index(s.name) != k:
            problems.add(
                f"{where}.standards[{k}].name",
                "duplicate standard name",
                got=s.name,
                fix="give each standard its own name",
            )
        if s.matrix is not None and s.matrix not in cfg.travel_times:
            problems.add(
                f"{where}.standards[{k}].matrix",
                "no travel-time table of this name",
                got=s.matrix,
                fix=f"use one of: {', '.join(cfg.travel_times)}",
            )
        if s.matrix is None and len(cfg.travel_times) > 1:
            problems.add(
                f"{where}.standards[{k}].matrix",
                "several travel-time tables are given; say which one this standard uses",
                fix=f"add 'matrix: <name>' with one of: {', '.join(cfg.travel_times)}",
            )
        table = cfg.travel_times.get(s.matrix or next(iter(cfg.travel_times), ""), None)
        if table is not None:
            table_quantity = table.quantity
            if table_quantity != s.quantity:
                problems.add(
                    f"{where}.standards[{k}]",
                    f"the standard is a {s.quantity} ('{'minutes' if s.quantity == 'time' else 'metres'}') "
                    f"but its table holds {table_quantity}s",
                    fix="use 'minutes' with a time table and 'metres' with a distance table",
                )
    kind = model.kind
    objective = model.resolved_objective
    standards = model.resolved_standards()
    if kind == "lscp":
        for k, s in enumerate(standards):
            if s.min_share is not None and s.min_share < 1:
                problems.add(
                    f"{where}.standards[{k}].min_share",
                    "an LSCP covers everyone (share 1)",
                    got=s.min_share,
                    fix="use kind: psclp to reach a share below 1",
                )
        if objective == "max_coverage":
            problems.add(
                f"{where}.objective",
                "LSCP minimises sites or cost",
                got=objective,
                fix="use min_sites or min_cost, or kind: mclp",
            )
    if kind == "psclp" and not any(
        s.min_share is not None or s.zone_min_share is not None for s in standards
    ):
        problems.add(
            f"{where}.standards",
            "a PSCLP needs a coverage target",
            fix="add min_share (e.g. 0.9) to at least one standard",
        )
    if objective == "max_coverage":
        if not any(s.weight > 0 for s in standards):
            problems.add(
                f"{where}.standards",
                "nothing to maximise: every standard has weight 0",
                fix="give at least one standard a positive weight",
            )
        if (
            model.max_new_sites is None
            and model.budget is None
            and model.budget_by_type is None
            and model.phases is None
        ):
            problems.add(
                where,
                "maximising coverage needs a limit, otherwise every candidate opens",
                fix="set max_new_sites (p), budget or budget_by_type",
            )
    if (
        objective in ("min_cost", "min_sites")
        and not any(s.min_share is not None or s.zone_min_share is not None for s in standards)
        and not model.zone_rules
    ):
        problems.add(
            f"{where}.objective",
            f"{objective} without any coverage target opens nothing",
            got=objective,
            fix="add min_share to a standard (1.0 = everyone), or zone_rules",
        )
    if model.secondary_objective != "none" and objective != "max_coverage":
        problems.add(
            f"{where}.secondary_objective",
            "a second stage follows a coverage objective",
            got=model.secondary_objective,
            fix="use it with kind: mclp, or drop it",
        )
    if model.phases is not None:
        if objective != "max_coverage":
            problems.add(
                f"{where}.phases",
                "a phased roll-out maximises coverage summed over the phases",
                got=objective,
                fix="use kind: mclp (or objective: max_coverage)",
            )
        if model.existing != "keep":
            problems.add(
                f"{where}.phases",
                "phases build on today's sites, which stay open",
                fix="use existing: keep",
            )
        if model.secondary_objective != "none":
            problems.add(f"{where}.secondary_objective", "not available with phases", fix="drop it")
        if len(model.phases) < 2:
            problems.add(f"{where}.phases", "give at least two phases", got=len(model.phases))
        if all(ph.budget is None and ph.max_new_sites is None for ph in model.phases):
            problems.add(
                f"{where}.phases",
                "every phase is unlimited: everything opens in the first",
                fix="give each phase a budget or max_new_sites",
            )
    if model.keep_existing_count and model.existing != "may_close":
        problems.add(
            f"{where}.keep_existing_count",
            "only meaningful with existing: may_close",
            got=True,
            fix="set existing: may_close, or drop keep_existing_count",
        )


MODEL_RULES: dict[str, Callable[[LoadedCase, Any, ProblemCollector], None]] = {
    "ems": _check_ems_case,
    "p_median": _check_siting_case,
    "p_center": _check_siting_case,
    **dict.fromkeys(("lscp", "mclp", "psclp", "coverage"), _check_coverage_rules),
    "village_tiers": _check_tiers_case,
}
"""model.kind -> its cross-field rules (the ``check_rules`` of optimizer.families' table)."""
