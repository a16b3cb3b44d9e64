"""What a ``staffing_quota`` (编制) case file may say: facilities, population, staff, need,
categories and norms, each norm with its provenance (MISSION.md, MODELS.md §5.4)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

from ...schema.case import CapacityNorms, OutputConfig
from ...schema.fields import Name, NonNegFloat, NotBool, PositiveFloat, Strict
from ..fields import PerMilleValue, Share, StaffingSolverConfig


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


class NewHiresColumns(Strict):
    hospital: str = "hospital"
    new_hires: str = Field(default="new_hires", description="The year's new hires (whole people).")


class HirePairsColumns(Strict):
    hospital: str = "hospital"
    facility_id: str = "facility_id"


class HirePairsConfig(Strict):
    """Which facilities each lead hospital's reserved hires may serve (e.g. its 医共体 members)."""

    file: str
    columns: HirePairsColumns = HirePairsColumns()


class VacanciesColumns(Strict):
    facility_id: str = "facility_id"
    category: str = "category"
    vacancies: str = "vacancies"


class VacanciesConfig(Strict):
    """The grassroots posts to fill as known (空编 per facility and category), instead of the
    quota plan's posts - current staff."""

    file: str
    columns: VacanciesColumns = VacanciesColumns()


class ReservedHiresConfig(Strict):
    """County lead hospitals reserve a share of the year's new hires for grassroots posts.

    The posts to fill are the plan's vacancies (posts - current staff) at ``facility_types`` in
    ``categories``; the model decides how many reserved hires of each hospital go to each post.
    """

    file: str
    columns: NewHiresColumns = NewHiresColumns()
    pairs: HirePairsConfig | None = None
    vacancies: VacanciesConfig | None = None
    min_share: Share = 0.05
    max_share: Share = 0.10
    service_years: Annotated[int, Field(ge=0, le=20), NotBool] = 2
    """Years each reserved hire serves at the grassroots post (the hiring contract)."""
    min_service_years: Annotated[int, Field(ge=0, le=20), NotBool] = 2
    facility_types: list[Name] = Field(default_factory=lambda: ["thc"])
    categories: list[Name] | None = Field(
        default=None,
        description="Categories whose vacancies reserved hires fill (default: professional).",
    )
    remote_weight: PositiveFloat = Field(
        default=1.0,
        description="Weight of an unfilled post at a remote facility (facilities.columns.remote), "
        "times the category's shortfall_weight: > 1 sends reserved hires to remote townships first.",
    )
    source: str = (
        "Qingdao: county lead hospitals reserve 5-10% of new hires for grassroots posts, "
        "serving >= 2 years"
    )

    @model_validator(mode="after")
    def _band(self) -> ReservedHiresConfig:
        if self.min_share > self.max_share:
            raise ValueError("min_share must not exceed max_share")
        return self


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
    reserved_hires: ReservedHiresConfig | None = None
    capacity_norms: CapacityNorms | None = Field(
        default=None,
        description="County capacity checks from given figures (CDC staff, infectious-disease "
        "beds, county beds); the residents default to the county population.",
    )
    solver: StaffingSolverConfig = StaffingSolverConfig()
    output: OutputConfig = OutputConfig()
