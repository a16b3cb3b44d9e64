"""What a case file may say about a covering model (LSCP, MCLP, PSCLP, compositions, phases)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

from .fields import (
    Count,
    Name,
    Names,
    NonNegFloat,
    NotBool,
    PositiveFloat,
    Share,
    Strict,
    Threshold,
)

# ---------------------------------------------------------------------------------------------
# Model: coverage family (LSCP, MCLP, PSCLP and the general composition)
# ---------------------------------------------------------------------------------------------


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
