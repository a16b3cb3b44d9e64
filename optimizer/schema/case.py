"""What a siting case file may say as a whole: its sections, solver and output options."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, Literal

from pydantic import Field, field_validator, model_validator

from .coverage import CoverageModelConfig
from .data import (
    DemandConfig,
    EstimateTravelTimesConfig,
    NetworkConfig,
    NetworkTravelTimesConfig,
    SitesConfig,
    TravelTimesSpec,
    ZonesConfig,
)
from .ems import EmsModelConfig
from .fields import Name, NonNegFloat, NotBool, PositiveFloat, Share, Strict
from .siting import PCenterModelConfig, PMedianModelConfig
from .tiers import TiersModelConfig

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
