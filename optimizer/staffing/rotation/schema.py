"""What a ``sent_down`` (下沉) case file may say: horizon, doctors, departments, hosts, needs,
travel, coverage, specialties, rules with their provenance, and objective weights."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator

from ...schema.case import OutputConfig
from ...schema.fields import Name, NonNegFloat, NotBool, Strict
from ..fields import Share, StaffingSolverConfig


class HorizonConfig(Strict):
    months: Annotated[int, Field(ge=6, le=36), NotBool] = 12
    start: str = Field(
        default="", description="First month as YYYY-MM (labels only), e.g. '2025-01'."
    )

    @field_validator("start")
    @classmethod
    def _start_format(cls, value: str) -> str:
        if value:
            parts = value.split("-")
            ok = len(parts) == 2 and parts[0].isdigit() and parts[1].isdigit()
            if not ok or not 1 <= int(parts[1]) <= 12:
                raise ValueError("give the first month as YYYY-MM, e.g. 2025-01")
        return value


class DoctorColumns(Strict):
    id: str = "id"
    hospital: str = "hospital"
    specialty: str = "specialty"
    available_from: str | None = None
    available_to: str | None = None


class DoctorsConfig(Strict):
    file: str
    columns: DoctorColumns = DoctorColumns()


class DepartmentColumns(Strict):
    hospital: str = "hospital"
    specialty: str = "specialty"
    staff: str = "staff"


class DepartmentsConfig(Strict):
    """Department headcounts N_hs (doctors a hospital department has, sent or not)."""

    file: str
    columns: DepartmentColumns = DepartmentColumns()


class HostColumns(Strict):
    id: str = "id"
    name: str | None = None
    type: str | None = None
    capacity: str | None = None
    residents: str | None = None
    zone: str | None = None


class HostsConfig(Strict):
    file: str
    columns: HostColumns = HostColumns()
    facility_type: Name = "thc"


class NeedsColumns(Strict):
    host_id: str = "host_id"
    specialty: str = "specialty"
    month: str | None = None
    need: str = "need"
    weight: str | None = None
    """Optional column: weight of a doctor-month of this row's unmet need (empty = 1), e.g. 3
    for paediatrics in a remote township against 1 in the county town."""


class NeedsConfig(Strict):
    """Specialty needs per host (doctors), per month or (empty month) every month."""

    file: str
    columns: NeedsColumns = NeedsColumns()


class HospitalTravelColumns(Strict):
    hospital: str = "hospital"
    host_id: str = "host_id"
    minutes: str = "minutes"


class HospitalTravelConfig(Strict):
    file: str
    columns: HospitalTravelColumns = HospitalTravelColumns()


class CoverageDemandColumns(Strict):
    id: str = "id"
    weight: str = "population"


class CoverageDemandConfig(Strict):
    file: str
    columns: CoverageDemandColumns = CoverageDemandColumns()
    weight_note: str = ""


class CoverageTravelColumns(Strict):
    demand_id: str = "demand_id"
    host_id: str = "host_id"
    minutes: str = "minutes"


class CoverageTravelConfig(Strict):
    file: str
    columns: CoverageTravelColumns = CoverageTravelColumns()


class CoverageConfig(Strict):
    """Residents (demand points) and their travel times to hosts, for the service circles."""

    demand: CoverageDemandConfig
    travel_times: CoverageTravelConfig


class Specialty(Strict):
    value: NonNegFloat = Field(
        default=1.0, description="Weight of a resident-month of this specialty (need weight)."
    )


class TenureRule(Strict):
    min: Annotated[int, Field(ge=1, le=36), NotBool] = 6
    max: Annotated[int, Field(ge=1, le=36), NotBool] = 12
    source: str = (
        "stints ≥ 6 months (NHC 2024-06-18 [V]; Qingdao: count for promotion); "
        "L ∈ {6..12} (MODELS.md §4.3)"
    )

    @model_validator(mode="after")
    def _order(self) -> TenureRule:
        if self.min > self.max:
            raise ValueError(f"min {self.min} months is above max {self.max}")
        return self


class ValueRule(Strict):
    value: NonNegFloat
    enabled: bool = True
    source: str = ""


class AwayShareRule(Strict):
    """At most ``value`` of a hospital department's doctors away at once (floor(κ·N_hs))."""

    value: Share = 0.3
    by_hospital: dict[str, Share] = Field(default_factory=dict)
    source: str = "planner's choice: departments keep capacity (MODELS.md §4.3 κ_hs) [U]"


class ReleaseLimit(Strict):
    at_once: Annotated[int, Field(ge=0), NotBool] | None = None
    """Most of the hospital's doctors away on stints in any month (all departments together)."""
    per_year: Annotated[int, Field(ge=0), NotBool] | None = None
    """Most stints the hospital's doctors start in each plan year (months 1-12, 13-24, ...)."""


class HospitalReleaseRule(ReleaseLimit):
    """What a hospital can release across its departments, beside each department's share
    away: a default for every hospital and ``by_hospital`` overrides (null: no limit)."""

    by_hospital: dict[str, ReleaseLimit] = Field(default_factory=dict)
    source: str = "planner's choice: a hospital keeps its services running [U]"


class StationedRule(Strict):
    value: Annotated[int, Field(ge=0), NotBool] = 1
    host_types: list[Name] = Field(default_factory=lambda: ["thc"])
    source: str = "NHC 2024-06-18: every township centre ≥ 1 stationed physician [V]"


class RotationRules(Strict):
    tenure_months: TenureRule = TenureRule()
    min_months_between_starts: Annotated[int, Field(ge=1, le=36), NotBool] = Field(
        default=12,
        description="A doctor starts at most one stint in any window of this many months.",
    )
    max_travel_min: ValueRule = ValueRule(
        value=120.0, source="planner's choice: commute / relocation limit [U]"
    )
    max_share_away: AwayShareRule = AwayShareRule()
    hospital_release: HospitalReleaseRule = HospitalReleaseRule()
    stationed_per_host: StationedRule = StationedRule()
    annual_total: ValueRule = ValueRule(
        value=1000.0, source="Qingdao (brief): ≥ 1,000 sent-down doctors a year [U]"
    )
    circle_min: ValueRule = ValueRule(
        value=20.0, source="Yueqing 20-minute medical service circle (brief)"
    )


class RotationWeights(Strict):
    """Objective weights, in weighted resident-months per unit."""

    coverage: NonNegFloat = 1.0
    travel_per_min_month: NonNegFloat = Field(
        default=0.0, description="Per doctor-month away, per minute of hospital → host travel."
    )
    shortfall_per_doctor_month: NonNegFloat = 0.0
    fairness: NonNegFloat = Field(
        default=0.0, description="Per doctor-month of unmet need at the worst-served host."
    )


class RotationCase(Strict):
    kind: Literal["sent_down"]
    name: str
    description: str = ""
    horizon: HorizonConfig = HorizonConfig()
    doctors: DoctorsConfig
    departments: DepartmentsConfig | None = None
    hosts: HostsConfig
    needs: NeedsConfig | None = None
    travel: HospitalTravelConfig
    coverage: CoverageConfig | None = None
    specialties: dict[Name, Specialty] = Field(default_factory=dict)
    rules: RotationRules = RotationRules()
    weights: RotationWeights = RotationWeights()
    solver: StaffingSolverConfig = StaffingSolverConfig()
    output: OutputConfig = OutputConfig()
