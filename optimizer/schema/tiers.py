"""The ``model:`` section of a village-clinic tier case (``kind: village_tiers``); no I/O.

Tiers are listed from the highest (e.g. central village clinic 中心村卫生室) to the lowest (e.g.
service point 服务点); each has its own service radius, build and upgrade cost, capacity, the
largest village it may serve and a minimum count per township (Qingdao, Zhuji village networks);
smart clinics (智慧村卫生室) and the standardised share are model-level.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

from .fields import Count, Name, Names, NonNegFloat, PositiveFloat, Share, Strict

__all__ = ["ExistingClinic", "SmartClinics", "Tier", "TiersModelConfig"]


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
    secondary_objective: Literal["min_cost", "none"] = "min_cost"
    """Under max_coverage: among the plans assigning the most residents, the cheapest."""
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
