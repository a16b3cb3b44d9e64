"""What a case file may say about a p-median or p-center model."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

from .fields import Name, Names, NotBool, Strict


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
