"""What a case file may say about its data: demand, sites, zones, travel-time tables, networks."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, Literal

from pydantic import Discriminator, Field, Tag, model_validator

from .fields import Name, NonNegFloat, NotBool, PositiveFloat, Strict


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
