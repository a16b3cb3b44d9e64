"""The tier problem as arrays: every (site, tier option) a planner may choose, and who it serves.

Options: a new site may open as a (standardised) clinic of any tier; an existing clinic of tier
``t`` stays as it is (cost 0, its own standard flag) or is upgraded in place to a standardised
clinic of tier ``t`` or any higher tier (the tier's ``upgrade_cost``). A tier with
``max_township_minutes`` is only offered where the site is that close to its township's centre.
A (village, site) pair is *admissible* for an option when the village is within the option's
tier radius and no larger than the tier's ``max_village_residents``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from geodata.arrays import Demand, Sites, TravelTimes, Zones

from ...schema.tiers import TiersModelConfig

__all__ = ["TierOptions", "TiersProblem", "tier_options"]


@dataclass(frozen=True, eq=False)
class TiersProblem:
    """Everything the tier model needs, as arrays (no files)."""

    demand: Demand
    sites: Sites
    travel_times: Mapping[str, TravelTimes]
    """The case's tables by name; the model reads ``model.matrix`` (default: the first)."""
    model: TiersModelConfig
    zones: Zones | None = None

    @property
    def times(self) -> TravelTimes:
        """The travel-time table (demand -> site) the tiers read."""
        if self.model.matrix is not None:
            return self.travel_times[self.model.matrix]
        return next(iter(self.travel_times.values()))

    def largest_minutes(self) -> float:
        """The farthest trip the model reads: the widest tier radius or township reach."""
        values = [t.minutes for t in self.model.tiers]
        values += [t.max_township_minutes for t in self.model.tiers if t.max_township_minutes]
        return max(values)

    def table_thresholds(self) -> dict[str, list[np.ndarray]]:
        """Per table name, the thresholds per demand point that the road check samples near."""
        return {self.times.name: [np.full(len(self.demand), self.largest_minutes())]}

    def zone_ids(self) -> list[str]:
        """Every township: from the zones table if given, else those of villages and sites."""
        if self.zones is not None:
            return [str(z) for z in self.zones.ids]
        found: set[str] = set()
        for z in (self.demand.zone, self.sites.zone):
            if z is not None:
                found.update(map(str, z))
        return sorted(found)

    def centre_of(self, zone: str) -> int | None:
        """Index of the demand point standing for the township centre of ``zone``."""
        d = self.demand
        centres = self.model.township_centres
        if isinstance(centres, dict):
            if zone not in centres:
                return None
            hit = np.flatnonzero(d.ids == centres[zone])
            return int(hit[0]) if hit.size else None
        if d.zone is None:
            return None
        members = np.flatnonzero(np.asarray(d.zone).astype(str) == zone)
        if members.size == 0:
            return None
        return int(members[np.argmax(d.weight[members])])  # first of the most populous


@dataclass(frozen=True, eq=False)
class TierOptions:
    """The decision columns: option ``o`` = site ``site[o]`` as tier ``tier[o]``."""

    site: np.ndarray
    tier: np.ndarray
    """Tier index (0 = highest)."""
    standard: np.ndarray
    cost: np.ndarray
    keep: np.ndarray
    """True for an existing clinic left as it is."""
    admissible: sp.csr_matrix
    """demand x option: the village may be assigned to the option."""
    smart: np.ndarray
    """True for a smart clinic (智慧村卫生室)."""


def _pair_ok(problem: TiersProblem, tier_idx: int) -> sp.csr_matrix:
    """demand x site: within the tier's radius and the village small enough for the tier."""
    tier = problem.model.tiers[tier_idx]
    tt = problem.times
    ok = tt.value <= tier.minutes
    if tier.max_village_residents is not None:
        ok &= problem.demand.weight[tt.demand_index] <= tier.max_village_residents
    hit = np.flatnonzero(ok)
    m = sp.csr_matrix(
        (np.ones(hit.size, dtype=bool), (tt.demand_index[hit], tt.site_index[hit])),
        shape=(tt.n_demand, tt.n_sites),
    )
    m.sort_indices()
    return m


def _near_centre(problem: TiersProblem, limit: float) -> np.ndarray:
    """Sites within ``limit`` minutes of their township's centre (a demand point)."""
    sites = problem.sites
    near = np.zeros(len(sites), dtype=bool)
    if sites.zone is None:
        return near
    tt = problem.times
    site_zone = np.asarray(sites.zone).astype(str)
    for zone in problem.zone_ids():
        c = problem.centre_of(zone)
        if c is None:
            continue
        hit = tt.site_index[(tt.demand_index == c) & (tt.value <= limit)]
        near[hit[site_zone[hit] == zone]] = True
    return near


def tier_options(problem: TiersProblem) -> TierOptions:
    """Every (site, tier) option with its cost, standard flag and admissible villages."""
    model, sites = problem.model, problem.sites
    extra = sites.cost if sites.has_cost else np.zeros(len(sites))
    pair_ok = [_pair_ok(problem, k).tocsc() for k in range(len(model.tiers))]
    near = {
        k: _near_centre(problem, t.max_township_minutes)
        for k, t in enumerate(model.tiers)
        if t.max_township_minutes is not None
    }
    rows: list[tuple[int, int, bool, float, bool, bool]] = []  # site, tier, std, cost, keep, smart
    for j in range(len(sites)):
        if sites.existing[j]:
            rows += _existing_options(problem, j, near)
            continue
        if (
            model.candidate_types is not None
            and sites.facility_type[j] not in model.candidate_types
        ):
            continue
        for k, t in enumerate(model.tiers):
            if k in near and not near[k][j]:
                continue
            rows += _with_smart(problem, (j, k, True, t.build_cost + float(extra[j]), False, False))
    site, tier, std, cost, keep, smart = (
        (list(c) for c in zip(*rows, strict=True)) if rows else ([],) * 6
    )
    site_a = np.asarray(site, dtype=np.int64)
    tier_a = np.asarray(tier, dtype=np.int64)
    cols = [pair_ok[k][:, [j]] for j, k in zip(site_a, tier_a, strict=True)]
    admissible = sp.hstack(cols, format="csr") if cols else sp.csr_matrix((len(problem.demand), 0))
    return TierOptions(
        site_a,
        tier_a,
        np.asarray(std, dtype=bool),
        np.asarray(cost, dtype=float),
        np.asarray(keep, dtype=bool),
        admissible,
        np.asarray(smart, dtype=bool),
    )


Option = tuple[int, int, bool, float, bool, bool]


def _existing_options(problem: TiersProblem, j: int, near: dict[int, np.ndarray]) -> list[Option]:
    """Today's clinic ``j``: as it is (free), standardised in place, or upgraded to a higher
    tier (each also made smart, where smart clinics are asked for)."""
    model = problem.model
    now = model.existing[str(problem.sites.facility_type[j])]
    t_now = model.rank(now.tier)
    smart_tiers = set(model.smart.tiers) if model.smart else set()
    rows = _with_smart(problem, (j, t_now, now.standard, 0.0, True, now.smart))
    for k in range(t_now + 1):
        if (k == t_now and now.standard) or (k in near and not near[k][j]):
            continue
        smart = now.smart and model.tiers[k].name in smart_tiers
        rows += _with_smart(problem, (j, k, True, model.tiers[k].upgrade_cost, False, smart))
    return rows


def _with_smart(problem: TiersProblem, option: Option) -> list[Option]:
    """The option, and its smart variant (extra ``smart.cost``) where its tier may be smart and
    it is not smart already."""
    smart = problem.model.smart
    j, k, std, cost, _keep, is_smart = option
    if smart is None or is_smart or problem.model.tiers[k].name not in smart.tiers:
        return [option]
    return [option, (j, k, std, cost + smart.cost, False, True)]
