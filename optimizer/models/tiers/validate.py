"""Checks of a tier case that need the data: today's clinics have a tier, townships exist."""

from __future__ import annotations

from typing import Any

from geodata.arrays import Demand, Sites, Zones

from ...errors import ProblemCollector

__all__ = ["validate_tiers"]


def validate_tiers(
    case: Any,
    model: Any,
    demand: Demand,
    sites: Sites,
    zones: Zones | None,
    problems: ProblemCollector,
) -> None:
    """Every existing site's type maps to a tier; zone columns where a rule needs them; named
    township centres are demand ids."""
    where = f"{case.label} › model"
    types_now = sorted(set(map(str, sites.facility_type[sites.existing])))
    for t in types_now:
        if t not in model.existing:
            problems.add(
                f"{where}.existing",
                f"existing sites of type '{t}' have no tier",
                got=t,
                fix=f"add existing: {{{t}: {{tier: <one of {', '.join(x.name for x in model.tiers)}>, standard: true|false}}}}",
            )
    zonal = any(t.min_per_zone or t.max_township_minutes for t in model.tiers) or (
        model.min_standard_share is not None and model.standard_share_scope == "zone"
    )
    if zonal and (sites.zone is None or demand.zone is None):
        problems.add(
            f"{where}.tiers",
            "a tier minimum per township, a township-centre reach or a share per township needs "
            "the zone of every village and site",
            fix="set demand.columns.zone and sites.columns.zone",
        )
    if isinstance(model.township_centres, dict):
        ids = set(map(str, demand.ids))
        for z, d in model.township_centres.items():
            if d not in ids:
                problems.add(
                    f"{where}.township_centres.{z}",
                    "no demand point has this id",
                    got=d,
                    fix="name a village id of the demand file",
                )
