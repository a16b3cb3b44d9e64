"""Staffing case files: schema, loading and whole-file validation.

Two kinds of case share this module, told apart by the top-level ``kind`` key:

``kind: staffing_quota``
    编制 quota allocation (MODELS.md §4.1, §8.4): integer posts per facility and staff category
    within the per-mille, composition, GP, pool and no-layoff norms.
``kind: sent_down``
    Sent-down (下沉) doctor rotations (MODELS.md §4.3, §8.5): stints of hospital doctors at
    township centres and village clinics over a 12-24 month horizon.

Every norm is a named, overridable parameter that carries its provenance (``source``), with the
defaults of MISSION.md / MODELS.md §5.4; ``[U]`` in a source means the value has not been read in
the primary document yet (MODELS.md's verification legend). Validation reuses the project's
pydantic helpers (:func:`optimizer.schema.problems.pydantic_problems`): every problem of the file is
reported at once as ``file › field.path: what (got X); fix``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, Field, ValidationError, field_validator, model_validator

from ..casefile import yaml_mapping
from ..errors import CaseError, Problem, ProblemCollector
from ..schema.case import OutputConfig
from ..schema.fields import Name, NonNegFloat, NotBool, PositiveFloat, Strict
from ..schema.files import CaseFile
from ..schema.problems import pydantic_problems
from ..solvers.base import Backend

__all__ = [
    "Category",
    "QuotaCase",
    "QuotaNorms",
    "RotationCase",
    "RotationRules",
    "StaffingCase",
    "load_staffing_case",
    "parse_staffing_case",
]

Share = Annotated[float, Field(ge=0, le=1, allow_inf_nan=False), NotBool]
PerMilleValue = Annotated[float, Field(ge=0, le=1000, allow_inf_nan=False), NotBool]
Month = Annotated[int, Field(ge=1, le=120), NotBool]


class StaffingSolverConfig(Strict):
    """Solver options (as in siting cases) plus MIP presolve, which the staffing models tune."""

    backend: Backend = Backend.HIGHS
    time_limit_s: PositiveFloat = 600.0
    mip_rel_gap: Annotated[float, Field(ge=0, lt=1), NotBool] = 0.0
    threads: Annotated[int, Field(ge=1, le=256), NotBool] | None = None
    seed: Annotated[int, Field(ge=0), NotBool] = 0
    log: bool = False
    ortools_engine: Literal["SCIP", "CP-SAT", "CBC", "HIGHS"] = "SCIP"
    presolve: bool | None = Field(
        default=None,
        description="MIP presolve; default on for quotas; for sent-down rotations off below "
        "200,000 stint options (HiGHS presolve barely shrinks them but costs 2-4x the solve), "
        "on above (measured in benchmarks/staffing.py).",
    )


# ---------------------------------------------------------------------------------------------
# Quota (编制) case
# ---------------------------------------------------------------------------------------------
class FacilityColumns(Strict):
    id: str = "id"
    name: str | None = None
    type: str | None = None
    population: str | None = None
    remote: str | None = None
    travel_min: str | None = Field(
        default=None,
        description="Travel time to the county seat (minutes), for the remote travel-time rule.",
    )
    zone: str | None = None


class FacilitiesConfig(Strict):
    """Facilities that receive posts: township centres, community centres, village clinics."""

    file: str
    layer: str | None = None
    columns: FacilityColumns = FacilityColumns()
    facility_type: Name = Field(
        default="thc", description="Type of every facility when there is no type column."
    )


class SitingPopulationConfig(Strict):
    """Service populations from a siting run's ``demand.csv`` (nearest open facility)."""

    file: str
    weight_column: str | None = Field(
        default=None,
        description="Residents column; default 'residents' when the file has it, else 'weight'.",
    )
    facility_types: Annotated[list[Name], Field(min_length=1)]
    nearest_columns: dict[Name, str] = Field(
        default_factory=dict,
        description="Column per facility type; default 'nearest_<type>'.",
    )
    time_columns: dict[Name, str] = Field(
        default_factory=dict,
        description="Travel time to that facility, per type; default '<nearest column>_min' "
        "(or _s, _h, _m, _km). Needed when several partition types share the residents.",
    )
    unassigned: Literal["error", "leave_out"] = Field(
        default="error",
        description="Residents with no facility of a type in the run's table: an error, or "
        "left out (reported; the county total then states fewer residents).",
    )


class CurrentStaffColumns(Strict):
    facility_id: str = "facility_id"
    category: str = "category"
    staff: str = "staff"


class CurrentStaffConfig(Strict):
    file: str
    columns: CurrentStaffColumns = CurrentStaffColumns()


class NeedColumns(Strict):
    facility_id: str = "facility_id"
    category: str = "category"
    need: str | None = Field(default="need", description="Staff needed (full-time equivalents).")
    annual_workload: str | None = None
    unit_time_min: str | None = None


class WisnCategory(Strict):
    """WHO WISN parameters of one staff category (WHO WISN user's manual, 2010)."""

    available_working_time_h: PositiveFloat = Field(
        description="AWT: hours a full-time worker is available per year."
    )
    category_allowance_percent: Annotated[float, Field(ge=0, lt=100), NotBool] = Field(
        default=0.0, description="Σ CAS%: support activities of all staff; CAF = 1/(1-Σ CAS%/100)."
    )
    individual_allowance_staff: NonNegFloat = Field(
        default=0.0, description="IAF = Σ IAS / AWT, in staff (full-time equivalents)."
    )


class NeedConfig(Strict):
    """Staff need per facility and category: a ``need`` column, or WISN workloads.

    With WISN workloads (``annual_workload`` units of an activity per year, ``unit_time_min``
    minutes per unit) the need of a facility and category is
    ``Σ_a workload_a · unit_time_a / 60 / AWT × CAF + IAF`` (MODELS.md §4.1).
    The category ``*`` means the facility's total over all categories.
    """

    file: str
    columns: NeedColumns = NeedColumns()
    wisn: dict[Name, WisnCategory] = Field(default_factory=dict)


class Category(Strict):
    """A staff category with the flags the composition norms use."""

    name: Name
    professional: bool = True
    public_health: bool = False
    gp: bool = False
    facility_types: list[Name] | None = Field(
        default=None, description="Facility types that have this category (default: all)."
    )
    shortfall_weight: NonNegFloat = 1.0
    need_share: Share | None = Field(
        default=None,
        description="Without a need table: this share of the per-mille midpoint need is the "
        "category's need (the shares of a facility type's categories sum to 1).",
    )


def default_categories() -> list[Category]:
    """The brief's categories at centres, and village doctors at village clinics."""
    centres = ["thc", "chc"]
    return [
        Category(name="professional", facility_types=centres),
        Category(name="public_health", public_health=True, facility_types=centres),
        Category(name="gp", gp=True, facility_types=centres),
        Category(name="nursing", facility_types=centres),
        Category(name="other", professional=False, facility_types=centres),
        Category(name="village_doctor", facility_types=["village_clinic"]),
    ]


class PerMilleNorm(Strict):
    """Posts per 1,000 residents served: ``min‰ × P ≤ posts ≤ max‰ × P``."""

    min: PerMilleValue | None = None
    max: PerMilleValue | None = None
    rounding: Literal["strict", "nearest"] = Field(
        default="strict",
        description=(
            "strict: at least ceil(min‰·P) and at most floor(max‰·P) posts (the literal norm); "
            "nearest: both bounds rounded to the nearest whole post (small village units)."
        ),
    )
    source: str = ""

    @model_validator(mode="after")
    def _order(self) -> PerMilleNorm:
        if self.min is None and self.max is None:
            raise ValueError("give min, max or both (posts per 1,000 residents)")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"min {self.min:g}‰ is above max {self.max:g}‰")
        return self


def default_per_mille() -> dict[str, PerMilleNorm]:
    return {
        "thc": PerMilleNorm(
            min=1.0,
            max=1.5,
            source="Qingdao measures (brief); 中央编办等《关于乡镇卫生院机构编制标准的指导意见》(2011) [U]",
        ),
        "chc": PerMilleNorm(max=1.0, source="Qingdao measures (brief): urban community ≤ 1‰ [U]"),
        "village_clinic": PerMilleNorm(
            min=1.0,
            max=1.5,
            source="Qingdao (brief) 1-1.5‰; 国办发〔2015〕13号 ≥ 1 per 1,000 served [U]",
        ),
    }


class RemoteNorm(Strict):
    """Remote townships: the per-mille ceiling is raised by ``bonus_share`` (MODELS.md §4.1).

    A facility is remote when its ``remote`` column says so, or (if ``min_travel_min`` is set)
    when its travel time to the county seat is at least ``min_travel_min`` minutes.
    """

    bonus_share: Share = 0.10
    min_travel_min: PositiveFloat | None = None
    facility_types: list[Name] = Field(
        default_factory=lambda: ["thc"], description="Types whose ceiling the bonus raises."
    )
    enabled: bool = True
    source: str = "Zhuji plan (brief): remote / sparsely populated townships at most +10% [U]"


class ShareNorm(Strict):
    value: Share
    facility_types: list[Name] = Field(default_factory=lambda: ["thc", "chc"])
    scope: Literal["facility", "county"] = Field(
        default="facility",
        description="facility: the share holds at every facility of these types; county: over "
        "their posts summed (a county-wide composition target).",
    )
    enabled: bool = True
    source: str = ""


class PublicHealthNorm(ShareNorm):
    basis: Literal["professional", "total"] = Field(
        default="professional",
        description="Share of professional posts (brief) or of all posts (MODELS.md §4.1).",
    )


class CategoryShareNorm(ShareNorm):
    """At least ``value`` of the posts in the ``of`` categories (default: every category the
    facility has) are in ``categories``, e.g. >= 60% of village doctors licensed (Qingdao)."""

    name: Name
    categories: Annotated[list[Name], Field(min_length=1)]
    of: list[Name] | None = None


class GPNorm(Strict):
    """County-wide GPs: ``Σ GP posts ≥ per_10k × county population / 10,000``."""

    per_10k: NonNegFloat = 4.0
    enabled: bool = True
    source: str = (
        "Qingdao (brief) 4 per 10,000 [U]; national 2-3 by 2020, 5 by 2030 (国办发〔2018〕3号)"
    )


class PoolNorm(Strict):
    """County quota pool (编制周转池): ``Σ posts at these facility types ≤ total``."""

    total: Annotated[int, Field(ge=0), NotBool] | None = None
    facility_types: list[Name] = Field(default_factory=lambda: ["thc", "chc"])
    source: str = "county 编制周转池 (national typical experiences, e.g. Dongfang: 1,557 pooled)"


class CutsNorm(Strict):
    """Current staff are lower bounds (no forced layoffs) unless cuts are allowed."""

    allowed: bool = False
    source: str = "no forced layoffs: s ≥ current (MODELS.md §4.1)"


class QuotaNorms(Strict):
    per_mille: dict[Name, PerMilleNorm] = Field(default_factory=default_per_mille)
    remote: RemoteNorm = RemoteNorm()
    professional_min_share: ShareNorm = ShareNorm(
        value=0.90, source="Qingdao (brief); 2011 THC staffing guideline [U]"
    )
    public_health_min_share: PublicHealthNorm = PublicHealthNorm(
        value=0.25, source="Qingdao (brief): public-health staff ≥ 25% of professional staff [U]"
    )
    gp_per_10k: GPNorm = GPNorm()
    shares: list[CategoryShareNorm] = Field(
        default_factory=list, description="More composition norms between staff categories."
    )
    pool: PoolNorm = PoolNorm()
    cuts: CutsNorm = CutsNorm()


class PopulationConfig(Strict):
    """County resident population (for the GP norm) and the provenance of every population."""

    county_total: PositiveFloat | None = Field(
        default=None,
        description="Residents of the county; default: Σ populations of `partition_types`.",
    )
    partition_types: list[Name] = Field(
        default_factory=lambda: ["thc", "chc"],
        description="Facility types whose service areas partition the county.",
    )
    note: str = Field(
        default="",
        description="Provenance, e.g. 'ESTIMATE: county total split by village counts'.",
    )


class QuotaObjective(Strict):
    """Least weighted shortfall, then least movement from today (lexicographic)."""

    total_shortfall_weight: NonNegFloat = Field(
        default=1.0, description="Weight of a facility-total need (category '*', or midpoint)."
    )
    movement: Literal["lexicographic", "none"] = "lexicographic"


class QuotaCase(Strict):
    kind: Literal["staffing_quota"]
    name: str
    description: str = ""
    facilities: FacilitiesConfig
    service_population: SitingPopulationConfig | None = None
    population: PopulationConfig = PopulationConfig()
    current_staff: CurrentStaffConfig | None = None
    need: NeedConfig | None = None
    categories: Annotated[list[Category], Field(min_length=1)] = Field(
        default_factory=default_categories
    )
    norms: QuotaNorms = QuotaNorms()
    objective: QuotaObjective = QuotaObjective()
    solver: StaffingSolverConfig = StaffingSolverConfig()
    output: OutputConfig = OutputConfig()


# ---------------------------------------------------------------------------------------------
# Sent-down (下沉) case
# ---------------------------------------------------------------------------------------------
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


KINDS: dict[str, type[BaseModel]] = {"staffing_quota": QuotaCase, "sent_down": RotationCase}


# ---------------------------------------------------------------------------------------------
# Loading
# ---------------------------------------------------------------------------------------------
class StaffingCase(CaseFile):
    """A validated staffing case: config, file label and the folder its paths are relative to."""

    def __init__(
        self, config: QuotaCase | RotationCase, path: Path | None, base_dir: Path, raw_text: str
    ) -> None:
        super().__init__(path, base_dir, raw_text)
        self.config = config

    @property
    def kind(self) -> str:
        return self.config.kind


def parse_staffing_case(
    text: str, *, label: str = "<case>", base_dir: Path | None = None, path: Path | None = None
) -> StaffingCase:
    """Parse and validate staffing case YAML (schema and cross-field rules; not the data)."""
    raw = yaml_mapping(
        text, label, start_from="configs/zhuji_quota.yaml or configs/qingdao_sent_down.yaml"
    )
    kind = raw.get("kind")
    if kind not in KINDS:
        raise CaseError(
            [
                Problem(
                    f"{label} › kind",
                    "unknown or missing staffing case kind",
                    got=kind,
                    fix=f"use one of: {', '.join(KINDS)}",
                )
            ]
        )
    model = KINDS[kind]
    try:
        config = model.model_validate(raw)
    except ValidationError as exc:
        raise CaseError(pydantic_problems(exc, label, model)) from None
    assert isinstance(config, QuotaCase | RotationCase)
    case = StaffingCase(config, path, base_dir or Path.cwd(), text)
    problems = ProblemCollector()
    if isinstance(config, QuotaCase):
        _check_quota_rules(case, config, problems)
    else:
        _check_rotation_rules(case, config, problems)
    problems.raise_if_any()
    return case


def load_staffing_case(path: str | Path) -> StaffingCase:
    from ..casefile import read_case_text

    p = Path(path)
    text = read_case_text(p)  # UTF-8, or GBK; a folder, binary or missing file is a CaseError
    return parse_staffing_case(text, label=str(p), base_dir=p.resolve().parent, path=p)


def _check_quota_rules(case: StaffingCase, cfg: QuotaCase, problems: ProblemCollector) -> None:
    label = case.label
    names = [c.name for c in cfg.categories]
    for k, c in enumerate(cfg.categories):
        if names.index(c.name) != k:
            problems.add(
                f"{label} › categories[{k}].name",
                "duplicate category name",
                got=c.name,
                fix="give each category its own name",
            )
        if c.name == "*":
            problems.add(
                f"{label} › categories[{k}].name",
                "'*' is reserved for facility totals",
                fix="choose another name",
            )
    shares = [c for c in cfg.categories if c.need_share is not None]
    if shares and cfg.need is None:
        types = sorted(
            {t for c in cfg.categories for t in (c.facility_types or [])} | set(cfg.norms.per_mille)
        )
        for t in types:
            here = [c for c in cfg.categories if c.facility_types is None or t in c.facility_types]
            given = [c for c in here if c.need_share is not None]
            total = sum(c.need_share or 0.0 for c in given)
            if given and (len(given) != len(here) or abs(total - 1.0) > 1e-6):
                problems.add(
                    f"{label} › categories",
                    f"need_share of the categories at type '{t}' must be given for all of them "
                    f"and sum to 1",
                    got=", ".join(f"{c.name}={c.need_share}" for c in here),
                    fix="give every category of the type a need_share, summing to 1",
                )
    norms = cfg.norms
    if norms.public_health_min_share.enabled and not any(c.public_health for c in cfg.categories):
        problems.add(
            f"{label} › norms.public_health_min_share",
            "no category is marked public_health: true",
            fix="mark one category public_health: true, or set enabled: false",
        )
    if norms.gp_per_10k.enabled and not any(c.gp for c in cfg.categories):
        problems.add(
            f"{label} › norms.gp_per_10k",
            "no category is marked gp: true",
            fix="mark one category gp: true, or set enabled: false",
        )
    if norms.remote.min_travel_min is not None and cfg.facilities.columns.travel_min is None:
        problems.add(
            f"{label} › norms.remote.min_travel_min",
            "the travel-time rule needs a travel-time column",
            fix="set facilities.columns.travel_min (minutes to the county seat)",
        )
    if cfg.need is not None:
        cols = cfg.need.columns
        wisn = cols.annual_workload is not None or cols.unit_time_min is not None
        if wisn and (cols.annual_workload is None or cols.unit_time_min is None):
            problems.add(
                f"{label} › need.columns",
                "WISN workloads need both annual_workload and unit_time_min",
                fix="name both columns, or give a need column instead",
            )
        if wisn:
            unknown = sorted(set(cfg.need.wisn) - set(names))
            if unknown:
                problems.add(
                    f"{label} › need.wisn",
                    "unknown categories",
                    got=", ".join(unknown),
                    fix=f"use: {', '.join(names)}",
                )
        elif cols.need is None:
            problems.add(
                f"{label} › need.columns.need",
                "give a need column or the WISN workload columns",
                fix="e.g. need: need",
            )
    seen: set[str] = set()
    for k, share in enumerate(cfg.norms.shares):
        where = f"{label} › norms.shares[{k}]"
        if share.name in seen:
            problems.add(f"{where}.name", "duplicate share norm name", got=share.name)
        seen.add(share.name)
        for key in ("categories", "of"):
            unknown = sorted(set(getattr(share, key) or []) - set(names))
            if unknown:
                problems.add(
                    f"{where}.{key}",
                    "unknown categories",
                    got=", ".join(unknown),
                    fix=f"use: {', '.join(names)}",
                )
    sp = cfg.service_population
    if sp is not None:
        unknown = sorted(set(sp.nearest_columns) - set(sp.facility_types))
        if unknown:
            problems.add(
                f"{label} › service_population.nearest_columns",
                "types not listed in service_population.facility_types",
                got=", ".join(unknown),
                fix="add them to facility_types or remove them",
            )
    if sp is None and cfg.facilities.columns.population is None:
        problems.add(
            f"{label} › facilities.columns.population",
            "no service population: give a population column or service_population",
            fix="set facilities.columns.population, or service_population.file (a siting demand.csv)",
        )


def _check_rotation_rules(
    case: StaffingCase, cfg: RotationCase, problems: ProblemCollector
) -> None:
    label = case.label
    r = cfg.rules
    months = cfg.horizon.months
    if r.tenure_months.min > months:
        problems.add(
            f"{label} › rules.tenure_months.min",
            f"a stint of {r.tenure_months.min} months does not fit the {months}-month horizon",
            got=r.tenure_months.min,
            fix="lengthen horizon.months or shorten the minimum stint",
        )
    if r.min_months_between_starts < r.tenure_months.max:
        problems.add(
            f"{label} › rules.min_months_between_starts",
            "must be at least the longest stint (a doctor serves one stint at a time)",
            got=r.min_months_between_starts,
            fix=f"give at least {r.tenure_months.max}",
        )
    if cfg.coverage is None and cfg.hosts.columns.residents is None and cfg.weights.coverage > 0:
        problems.add(
            f"{label} › weights.coverage",
            "coverage is weighted but no residents are given",
            got=cfg.weights.coverage,
            fix="add a coverage section (demand + travel times) or hosts.columns.residents, "
            "or set weights.coverage: 0",
        )
