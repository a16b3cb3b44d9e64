"""Shared by the p-median and p-center families: input checks, the site-count rule, the pair
table sorted by travel time, and evaluation of an open set on the raw travel-time table.

The evaluation here never looks at a model: it takes the set of open sites and the original
:class:`~geodata.arrays.TravelTimes` and recomputes every demand point's nearest open site, so a
bug in truncation, model building or a backend shows up as a mismatch instead of a wrong answer.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from geodata.arrays import Demand, Sites, TravelTimes

from ...errors import CaseError, Problem, ProblemCollector

__all__ = ["Pairs", "SitingInstance", "by_type", "open_site_ids", "prepare", "travel_summary"]

log = logging.getLogger(__name__)

CountRule = Literal["exactly", "at_most"]


@dataclass(frozen=True, eq=False)
class Pairs:
    """The reachable (demand, allowed site) pairs, sorted by demand, then value, then site."""

    di: np.ndarray
    sj: np.ndarray
    value: np.ndarray
    start: np.ndarray
    """First position of each demand point's pairs (length ``n_demand``)."""
    count: np.ndarray
    """Number of reachable allowed sites per demand point."""

    def __len__(self) -> int:
        return int(self.value.shape[0])

    @classmethod
    def build(cls, di: np.ndarray, sj: np.ndarray, value: np.ndarray, n_demand: int) -> Pairs:
        order = np.lexsort((sj, value, di))
        di, sj, value = di[order], sj[order], value[order]
        if di.size:  # a pair listed twice keeps its smallest value (the first after sorting)
            key = di * (int(sj.max()) + 1) + sj
            _, first = np.unique(key, return_index=True)
            if first.size < key.size:
                keep = np.sort(first)
                di, sj, value = di[keep], sj[keep], value[keep]
        count = np.bincount(di, minlength=n_demand)
        start = np.concatenate([[0], np.cumsum(count)[:-1]]).astype(np.int64)
        return cls(di, sj, value, start, count)

    def rank(self) -> np.ndarray:
        """Position of each pair within its demand point's list (0 = nearest)."""
        return np.arange(len(self)) - self.start[self.di]


@dataclass(frozen=True, eq=False)
class SitingInstance:
    """A p-median / p-center instance after the input checks."""

    demand: Demand
    sites: Sites
    travel_times: TravelTimes
    allowed: np.ndarray
    """Sites of the facility types the model places (the others are ignored)."""
    fixed_open: np.ndarray
    """Existing sites kept open (constants in the model)."""
    free: np.ndarray
    """Sites the model decides on."""
    count_rule: CountRule
    free_limit: int
    """Free sites to open: exactly or at most this many (``count_rule``)."""
    limit_text: str
    pairs: Pairs
    missing_floor: np.ndarray
    """Per demand point: a lower bound on every allowed site's value that the table leaves out
    (inf when none is left out because the table is complete). A table cut at a cutoff ``C``
    gives ``C``; a k-nearest table the point's largest listed value."""

    @property
    def truncated(self) -> bool:
        """The table may leave out finite values that the model could need."""
        return bool(np.isfinite(self.missing_floor).any())

    @property
    def n_demand(self) -> int:
        return len(self.demand)

    @property
    def weight(self) -> np.ndarray:
        return self.demand.weight

    @property
    def unit(self) -> str:
        return self.travel_times.unit

    def nearest_open(self, open_mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Nearest open allowed site of every demand point on the RAW table (-1 / inf if none)."""
        return self.travel_times.nearest(np.asarray(open_mask, dtype=bool) & self.allowed)

    def check_open_set(self, open_mask: np.ndarray) -> list[str]:
        """Violations of the site rules by ``open_mask`` (empty list: it satisfies them)."""
        out: list[str] = []
        open_mask = np.asarray(open_mask, dtype=bool)
        stray = np.flatnonzero(open_mask & ~self.allowed)
        if stray.size:
            out.append(
                f"sites of other facility types opened: {', '.join(map(str, self.sites.ids[stray[:10]]))}"
            )
        closed = np.flatnonzero(self.fixed_open & ~open_mask)
        if closed.size:
            out.append(
                f"existing sites that must stay open were closed: {', '.join(map(str, self.sites.ids[closed[:10]]))}"
            )
        n_free = int((open_mask & self.free).sum())
        if self.count_rule == "exactly" and n_free != self.free_limit:
            out.append(
                f"{self.limit_text}: {n_free} sites opened among the candidates, must be exactly {self.free_limit}"
            )
        if self.count_rule == "at_most" and n_free > self.free_limit:
            out.append(
                f"{self.limit_text}: {n_free} sites opened among the candidates, at most {self.free_limit} allowed"
            )
        return out

    def unreachable(self, counted: np.ndarray, what: str) -> list[str]:
        """Reasons (by id) that demand points counted in the objective reach no allowed site."""
        bad = np.flatnonzero(counted & (self.pairs.count == 0))
        if bad.size == 0:
            return []
        ids = ", ".join(map(str, self.demand.ids[bad[:15]]))
        more = f" and {bad.size - 15:,} more" if bad.size > 15 else ""
        limit = self.travel_times.complete_within
        table = (
            f" (the travel-time table '{self.travel_times.name}' stops at {limit:g} {self.unit})"
            if np.isfinite(limit)
            else ""
        )
        return [
            f"{bad.size:,} demand points ({self.weight[bad].sum():,.0f} residents) reach no "
            f"candidate or existing site{table}, so no plan can serve them in the {what}: "
            f"{ids}{more}. Add candidate sites near them, extend the travel-time table, or drop "
            "them from the demand file."
        ]


def _names(values: Sequence[str] | np.ndarray) -> str:
    return ", ".join(sorted(set(map(str, values))))


def prepare(
    demand: Demand,
    sites: Sites,
    travel_times: TravelTimes,
    *,
    p: int | None,
    max_new_sites: int | None,
    existing: Literal["keep", "may_close"],
    facility_types: Sequence[str] | None,
    count_rule: CountRule,
    where: str = "model",
) -> SitingInstance:
    """Check the inputs against each other (all problems at once) and build the instance.

    ``count_rule`` applies to ``p`` (sites open in total, kept existing ones included);
    ``max_new_sites`` always means at most that many new sites.
    """
    problems = ProblemCollector()
    _check_table(problems, demand, sites, travel_times)
    allowed = _allowed_sites(problems, sites, facility_types, where)
    existing_allowed = np.asarray(sites.existing, dtype=bool) & allowed
    if existing == "keep":
        fixed = existing_allowed
    else:
        fixed = np.zeros(len(sites), dtype=bool)
    free = allowed & ~fixed
    limit_text = f"{where}.p" if p is not None else f"{where}.max_new_sites"
    free_limit, count_rule = _count_limit(
        problems, p, max_new_sites, existing, count_rule, where, existing_allowed, fixed, free
    )
    problems.raise_if_any()

    keep = allowed[travel_times.site_index] & np.isfinite(travel_times.value)
    pairs = Pairs.build(
        travel_times.demand_index[keep],
        travel_times.site_index[keep],
        travel_times.value[keep],
        len(demand),
    )
    floor = _missing_floor(pairs, travel_times.complete_within, int(allowed.sum()))
    if np.isfinite(floor).any():
        log.info(
            "Travel-time table '%s' is truncated (%s): the model bounds the pairs it leaves out "
            "from below and proves the truncation harmless, or reports a gap",
            travel_times.name,
            "k nearest sites per point"
            if travel_times.complete_within == -np.inf
            else f"cut at {travel_times.complete_within:g} {travel_times.unit}",
        )
    return SitingInstance(
        demand,
        sites,
        travel_times,
        allowed,
        fixed,
        free,
        count_rule,
        max(free_limit, 0),
        limit_text,
        pairs,
        floor,
    )


def _check_table(
    problems: ProblemCollector, demand: Demand, sites: Sites, travel_times: TravelTimes
) -> None:
    """The table's shape (raises at once), its values (>= 0) and the demand weights (>= 0)."""
    if travel_times.n_demand != len(demand) or travel_times.n_sites != len(sites):
        problems.add(
            f"travel_times '{travel_times.name}'",
            "table shape does not match the demand and site lists",
            got=f"{travel_times.n_demand} x {travel_times.n_sites}, lists {len(demand)} x {len(sites)}",
            fix="build the table from the same demand and site files",
        )
        problems.raise_if_any()
    bad_val = np.flatnonzero(~(travel_times.value >= 0))  # negative or nan (inf = unreachable)
    if bad_val.size:
        k = bad_val[0]
        problems.add(
            f"travel_times '{travel_times.name}'",
            f"{bad_val.size:,} values are negative or missing",
            got=f"{travel_times.value[k]} for demand {demand.ids[travel_times.demand_index[k]]}, site {sites.ids[travel_times.site_index[k]]}",
            fix="travel times and distances must be >= 0; leave unreachable pairs out",
        )
    bad_w = np.flatnonzero(~(demand.weight >= 0) | ~np.isfinite(demand.weight))
    if bad_w.size:
        problems.add(
            "demand weights",
            f"{bad_w.size:,} weights are negative or missing",
            got=", ".join(map(str, demand.ids[bad_w[:8]])),
            fix="give every demand point a weight >= 0",
        )


def _allowed_sites(
    problems: ProblemCollector, sites: Sites, facility_types: Sequence[str] | None, where: str
) -> np.ndarray:
    """Mask of the sites of the model's facility types (all when none are named)."""
    types = np.asarray(sites.facility_type)
    if facility_types is None:
        allowed = np.ones(len(sites), dtype=bool)
    else:
        unknown = sorted(set(facility_types) - set(map(str, types)))
        if unknown:
            problems.add(
                f"{where}.facility_types",
                "no site has this facility type",
                got=", ".join(unknown),
                fix=f"use types from the sites file: {_names(types)}",
            )
        allowed = np.isin(types, list(facility_types))
    if not allowed.any():
        problems.add(f"{where}", "there are no candidate or existing sites to choose from")
    return allowed


def _count_limit(
    problems: ProblemCollector,
    p: int | None,
    max_new_sites: int | None,
    existing: Literal["keep", "may_close"],
    count_rule: CountRule,
    where: str,
    existing_allowed: np.ndarray,
    fixed: np.ndarray,
    free: np.ndarray,
) -> tuple[int, CountRule]:
    """How many free sites may open and the count rule on them (``max_new_sites``: at most)."""
    n_exist = int(existing_allowed.sum())
    if (p is None) == (max_new_sites is None):
        problems.add(
            f"{where}",
            "give exactly one of 'p' (sites open in total) or 'max_new_sites'",
            got=f"p={p}, max_new_sites={max_new_sites}",
        )
    free_limit = 0
    if p is not None:
        if existing == "keep" and p < n_exist:
            problems.add(
                f"{where}.p",
                f"fewer sites than the {n_exist} existing ones kept open",
                got=p,
                fix=f"give p >= {n_exist}, or set existing: may_close",
            )
        free_limit = p - int(fixed.sum())
        if count_rule == "exactly" and free_limit > int(free.sum()):
            problems.add(
                f"{where}.p",
                f"more sites than there are ({int(fixed.sum())} kept open + {int(free.sum())} to choose from)",
                got=p,
                fix=f"give p <= {int((fixed | free).sum())}",
            )
    elif max_new_sites is not None:
        if existing == "may_close":
            problems.add(
                f"{where}.existing",
                "'may_close' needs 'p': with max_new_sites closing a site never shortens a trip",
                got=existing,
                fix="give p (sites in total) to relocate, or keep the existing sites",
            )
        free_limit = int(max_new_sites)
        count_rule = "at_most"  # new sites: at most this many
    return free_limit, count_rule


def _missing_floor(pairs: Pairs, complete_within: float, n_allowed: int) -> np.ndarray:
    n = pairs.count.size
    floor = np.full(n, np.inf)
    if complete_within == np.inf:
        return floor
    missing = pairs.count < n_allowed
    if complete_within > -np.inf:  # cut at a search limit
        floor[missing] = complete_within
        return floor
    # k nearest per point: a left-out site is at least as far as the point's farthest listed one
    has = missing & (pairs.count > 0)
    last = pairs.start + pairs.count - 1
    floor[has] = pairs.value[last[has]]
    floor[missing & (pairs.count == 0)] = 0.0
    return floor


def by_type(sites: Sites, mask: np.ndarray, types: Sequence[str]) -> dict[str, list[str]]:
    """Site ids under ``mask`` per facility type (sorted, every type in ``types`` listed)."""
    ftype = np.asarray(sites.facility_type)
    return {t: sorted(map(str, sites.ids[mask & (ftype == t)])) for t in sorted(set(types))}


def open_site_ids(
    sites: Sites, open_mask: np.ndarray | None, facility_type: str | None = None
) -> list[str]:
    """Sorted ids of the open sites (of one facility type, when given)."""
    if open_mask is None:
        return []
    mask = open_mask.copy()
    if facility_type is not None:
        mask &= sites.facility_type == facility_type
    return sorted(map(str, sites.ids[mask]))


def num(x: float | None, nd: int = 6) -> float | None:
    """``x`` rounded to ``nd`` places; None when missing or not finite (JSON has neither)."""
    return None if x is None or not np.isfinite(x) else round(float(x), nd)


def travel_summary(
    demand: Demand, mean_value: np.ndarray, worst_value: np.ndarray, counted: np.ndarray
) -> dict[str, Any]:
    """Population-weighted mean and worst travel value overall and per zone.

    ``mean_value`` is each point's (share-weighted) travel value, ``worst_value`` its longest
    assigned trip; ``counted`` marks the points that count (served ones).
    """
    w = demand.weight

    def block(mask: np.ndarray) -> dict[str, Any]:
        m = mask & counted
        pop = float(w[m].sum())
        out: dict[str, Any] = {
            "points": int(mask.sum()),
            "population": num(pop, 3),
            "mean": num(float((w[m] * mean_value[m]).sum()) / pop) if pop > 0 else None,
            "worst": num(float(worst_value[m].max())) if m.any() else None,
        }
        if m.any():
            k = np.flatnonzero(m)[int(np.argmax(worst_value[m]))]
            out["worst_demand_id"] = str(demand.ids[k])
        unserved = int((mask & ~counted).sum())
        if unserved:
            out["unserved_points"] = unserved
        return out

    everyone = np.ones(len(demand), dtype=bool)
    summary = block(everyone)
    if demand.zone is not None:
        zones = np.asarray(demand.zone)
        summary["zones"] = {str(z): block(zones == z) for z in sorted(set(map(str, zones)))}
    return summary


def capacities(inst: SitingInstance, rule: str) -> np.ndarray | None:
    """Residents each allowed site can serve (``capacity: enforce``); None for ``ignore``."""
    if rule == "ignore":
        return None
    cap = inst.sites.capacity
    if cap is None:
        raise CaseError(
            [
                Problem(
                    "model.capacity",
                    "capacity: enforce needs a capacity column in the sites file",
                    fix="map sites.columns.capacity to a column of residents each site can serve",
                )
            ]
        )
    cap = np.asarray(cap, dtype=float)
    bad = np.flatnonzero(inst.allowed & ~(cap >= 0))
    if bad.size:
        raise CaseError(
            [
                Problem(
                    "sites capacity",
                    f"{bad.size:,} sites have a missing or negative capacity",
                    got=", ".join(map(str, inst.sites.ids[bad[:10]])),
                    fix="give every site a capacity >= 0 (residents it can serve)",
                )
            ]
        )
    return np.where(np.isfinite(cap), cap, 1e30)


def capacity_precheck(inst: SitingInstance, cap: np.ndarray) -> list[str]:
    """Why the capacities cannot serve everyone, found before solving (empty: no reason)."""
    w = inst.weight
    total = float(w.sum())
    fixed_cap = float(cap[inst.fixed_open].sum())
    free_cap = np.sort(cap[inst.free])[::-1][: inst.free_limit]
    best = fixed_cap + float(free_cap.sum())
    out = []
    if best + 1e-9 * max(total, 1.0) < total:
        out.append(
            f"capacity: even the {inst.free_limit} largest candidates plus the kept sites serve at "
            f"most {best:,.0f} residents, but demand totals {total:,.0f}. Raise p or the capacities."
        )
    P = inst.pairs
    reach_cap = np.bincount(P.di, weights=np.minimum(cap[P.sj], 1e15), minlength=inst.n_demand)
    short = np.flatnonzero((w > 0) & (reach_cap + 1e-9 < w) & (P.count > 0))
    if short.size:
        ids = ", ".join(
            f"{inst.demand.ids[i]} ({w[i]:,.0f} > {reach_cap[i]:,.0f})" for i in short[:10]
        )
        out.append(
            f"capacity: {short.size:,} demand points need more than all sites they can reach can "
            f"serve together: {ids}"
        )
    return out
