"""The coverage core shared by every covering model.

1. :func:`coverage_sets` turns each service standard into a sparse boolean demand x site matrix
   ``t_ij <= T_i`` (``T_i`` may depend on the demand class), restricted to the standard's facility
   types. It touches only the pairs present in the travel-time table: never a dense loop.
2. :func:`~optimizer.models.coverage.precheck.precheck` (its own module) finds what makes a plan
   impossible before any solver runs: demand no site can reach under a mandatory standard (by
   id), zones without enough candidates, coverage targets above what opening *every* site
   achieves.
3. :func:`reduce` is the presolve of MODELS.md §0/§8.2: sites kept open become constants (rows
   they cover drop out), demand points with identical covering sets are merged (weights summed;
   the merge is verified exactly, not trusted to a hash), and candidates dominated in coverage and
   cost are dropped. The reduced problem has the same optimum; results map back to original ids.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp

from geodata.arrays import Demand, Sites, TravelTimes, Zones

from ...schema.coverage import CoverageModelConfig, Standard, TypeShare, ZoneRule

__all__ = [
    "CoverageProblem",
    "ReducedCoverage",
    "ReducedStandard",
    "StandardCoverage",
    "coverage_sets",
    "group_rows",
    "reduce",
    "require_complete",
]

log = logging.getLogger(__name__)


@dataclass(frozen=True, eq=False)
class CoverageProblem:
    """Everything a covering model needs, as arrays (no files)."""

    demand: Demand
    sites: Sites
    travel_times: Mapping[str, TravelTimes]
    model: CoverageModelConfig
    zones: Zones | None = None

    @property
    def standards(self) -> list[Standard]:
        return self.model.resolved_standards()

    def matrix_for(self, standard: Standard) -> TravelTimes:
        if standard.matrix is not None:
            return self.travel_times[standard.matrix]
        return next(iter(self.travel_times.values()))

    def table_thresholds(self) -> dict[str, list[np.ndarray]]:
        """Per travel-time table, the thresholds (minutes or metres per demand point, nan = not
        subject) of every standard that reads it: where the road check samples near."""
        out: dict[str, list[np.ndarray]] = {}
        for s in self.standards:
            out.setdefault(self.matrix_for(s).name, []).append(demand_thresholds(s, self.demand))
        return out

    def zone_ids(self) -> list[str]:
        """All zones: from the zones table if given, else those named by demand or sites."""
        if self.zones is not None:
            return [str(z) for z in self.zones.ids]
        found: set[str] = set()
        if self.demand.zone is not None:
            found.update(map(str, self.demand.zone))
        if self.sites.zone is not None:
            found.update(map(str, self.sites.zone))
        return sorted(found)

    def zones_table(self) -> Zones:
        return self.zones if self.zones is not None else Zones.from_ids(self.zone_ids())

    def rule_zones(self, rule: ZoneRule) -> list[str]:
        zones = self.zones_table()
        ids = [str(z) for z in zones.ids]
        if rule.zones != "all":
            ids = [z for z in ids if z in set(rule.zones)]
        if rule.zone_kinds is not None:
            kinds = dict(zip(map(str, zones.ids), map(str, zones.kind), strict=True))
            ids = [z for z in ids if kinds.get(z, "") in set(rule.zone_kinds)]
        return ids

    def zone_residents(self, zone: str) -> float:
        """Residents of ``zone`` (footfall venues are not residents); 0 without demand zones."""
        if self.demand.zone is None:
            return 0.0
        return float(self.demand.residents[self.demand.zone == zone].sum())

    def rule_need(self, rule: ZoneRule, zone: str) -> int:
        """Open sites ``rule`` asks for in ``zone``: the largest of min_sites, the density target
        ceil(per_10k_residents x residents / 10,000) and ceil(residents / residents_per_site.max)."""
        need = rule.min_sites
        if rule.per_10k_residents is not None and self.demand.zone is not None:
            residents = self.zone_residents(zone)
            need = max(need, math.ceil(rule.per_10k_residents * residents / 10_000 - 1e-9))
        band = rule.residents_per_site
        if band is not None and self.demand.zone is not None:
            need = max(need, math.ceil(self.zone_residents(zone) / band.max - 1e-9))
        return need

    def rule_cap(self, rule: ZoneRule, zone: str) -> int | None:
        """Most open sites ``rule`` allows in ``zone`` (None: no cap): the smaller of max_sites
        (large_zones.max_sites when the zone has more residents than large_zones.over_residents)
        and ceil(residents / residents_per_site.min)."""
        caps: list[int] = []
        if rule.max_sites is not None:
            cap = rule.max_sites
            big = rule.large_zones
            if (
                big is not None
                and self.demand.zone is not None
                and self.zone_residents(zone) > big.over_residents
            ):
                cap = max(rule.max_sites, big.max_sites)
            caps.append(cap)
        band = rule.residents_per_site
        if band is not None and self.demand.zone is not None:
            caps.append(math.ceil(self.zone_residents(zone) / band.min - 1e-9))
        return min(caps) if caps else None

    def share_units(self, share: TypeShare) -> list[tuple[str, np.ndarray]]:
        """(zone id or 'county', site mask) for each unit a type share is required on."""
        if share.scope == "county" or self.sites.zone is None:
            return [("county", np.ones(len(self.sites), dtype=bool))]
        rule = ZoneRule(max_sites=0, zone_kinds=share.zone_kinds)
        return [(z, self.sites.zone == z) for z in self.rule_zones(rule)]

    def active(self, standard: Standard) -> bool:
        """Whether the standard enters the model (objective or a constraint), not just the report."""
        return (
            (self.model.resolved_objective == "max_coverage" and standard.weight > 0)
            or standard.min_share is not None
            or standard.zone_min_share is not None
        )

    def fixed_open(self) -> np.ndarray:
        if self.model.existing == "keep":
            return self.sites.existing.copy()
        return np.zeros(len(self.sites), dtype=bool)

    def type_mask(self, types: list[str] | None) -> np.ndarray:
        if types is None:
            return np.ones(len(self.sites), dtype=bool)
        return np.isin(self.sites.facility_type, np.asarray(types, dtype=object))


@dataclass(frozen=True, eq=False)
class StandardCoverage:
    """Raw coverage of one standard: which sites reach which demand within its threshold."""

    standard: Standard
    threshold: np.ndarray
    applies: np.ndarray
    site_ok: np.ndarray
    matrix: sp.csr_matrix

    def covered_by(self, open_mask: np.ndarray) -> np.ndarray:
        """Demand covered when the sites in ``open_mask`` are open."""
        hits = self.matrix @ np.asarray(open_mask, dtype=np.int64)
        return (np.asarray(hits).ravel() > 0) & self.applies


def demand_thresholds(standard: Standard, demand: Demand) -> np.ndarray:
    """One-way threshold per demand point (``nan`` where the demand class is not subject to it);
    a round-trip standard (fetch an AED and come back) allows half its time each way."""
    thr = standard.threshold
    n = len(demand)
    if isinstance(thr, dict):
        out = np.full(n, np.nan)
        if demand.demand_class is not None:
            for cls, value in thr.items():
                out[demand.demand_class == cls] = float(value)
    else:
        out = np.full(n, float(thr))
    return out / 2.0 if standard.round_trip else out


def require_complete(table: TravelTimes, largest: float, what: str) -> None:
    """A table truncated at a cutoff (or to k nearest sites) must reach the largest threshold
    that reads it; otherwise coverage would be silently under-counted."""
    if np.isfinite(largest) and largest > table.complete_within + 1e-9:
        bound = (
            "k nearest sites per point"
            if table.complete_within == -np.inf
            else f"{table.complete_within:g} {table.unit}"
        )
        raise ValueError(
            f"travel-time table '{table.name}' is complete only up to {bound}, but {what} needs "
            f"{largest:g} {table.unit}; raise its cutoff (or use cutoff: auto) or drop k_nearest"
        )


def coverage_sets(problem: CoverageProblem) -> list[StandardCoverage]:
    out = []
    for s in problem.standards:
        tt = problem.matrix_for(s)
        thr = demand_thresholds(s, problem.demand)
        require_complete(tt, float(np.nanmax(thr, initial=-np.inf)), f"standard '{s.name}'")
        site_ok = problem.type_mask(s.facility_types)
        matrix = tt.within(thr, site_ok)
        out.append(StandardCoverage(s, thr, ~np.isnan(thr), site_ok, matrix))
        log.info(
            "Coverage %s (<= %s %s): %s demand x site pairs",
            s.name,
            s.threshold,
            s.unit,
            f"{matrix.nnz:,}",
        )
    return out


def _zone_share(standard: Standard, zone: str) -> float | None:
    zs = standard.zone_min_share
    if zs is None:
        return None
    if isinstance(zs, dict):
        return zs.get(zone)
    return float(zs)


# ---------------------------------------------------------------------------------------------
# Reduction (presolve)
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class ReducedStandard:
    """One active standard on merged demand groups and the free (decision) columns."""

    coverage: StandardCoverage
    matrix: sp.csr_matrix  # groups x free columns
    applies: np.ndarray  # (G,)
    const: np.ndarray  # (G,) covered by a site that is fixed open

    @property
    def standard(self) -> Standard:
        return self.coverage.standard


@dataclass(frozen=True, eq=False)
class ReducedCoverage:
    free_sites: np.ndarray  # original site index of each model column
    fixed_open: np.ndarray  # (J,) bool
    dominated_by: dict[int, int]
    group_of: np.ndarray  # (I,) group of each demand point
    group_weight: np.ndarray  # (G,)
    group_zone: np.ndarray | None  # (G,)
    group_size: np.ndarray  # (G,)
    standards: list[ReducedStandard]
    stats: dict[str, int] = field(default_factory=dict)

    @property
    def n_groups(self) -> int:
        return int(self.group_weight.shape[0])


def _row_hashes(matrix: sp.csr_matrix, seeds: np.ndarray) -> np.ndarray:
    """Order-independent 64-bit hash of each row's column set (sum of random words, wrapping)."""
    m = matrix.tocsr()
    out = np.zeros(m.shape[0], dtype=np.uint64)
    if m.nnz == 0:
        return out
    words = seeds[m.indices]
    rows = np.repeat(np.arange(m.shape[0]), np.diff(m.indptr))
    np.add.at(out, rows, words)
    return out


def group_rows(
    matrices: list[sp.csr_matrix], labels: list[np.ndarray] | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Group rows that are identical in every matrix and every label array.

    Rows are keyed by two independent 64-bit hashes of their column sets per matrix (plus the
    row length and the labels); the grouping is then **verified exactly** (every member's rows
    equal its representative's), so a hash collision can never merge different rows silently.
    Returns ``(representative row of each group, group of each row)``.
    """
    labels = labels or []
    n = matrices[0].shape[0] if matrices else (labels[0].size if labels else 0)
    if n == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    rng = np.random.default_rng(20240611)
    cols: list[np.ndarray] = []
    for m in matrices:
        m = sp.csr_matrix(m)
        cols.append(_row_hashes(m, rng.integers(0, 2**63, size=m.shape[1], dtype=np.uint64)))
        cols.append(_row_hashes(m, rng.integers(0, 2**63, size=m.shape[1], dtype=np.uint64)))
        cols.append(np.diff(m.indptr).astype(np.uint64))
    cols += [np.asarray(lab).astype(np.int64).astype(np.uint64) for lab in labels]
    if not cols:
        return np.zeros(1, dtype=np.int64), np.zeros(n, dtype=np.int64)
    key = np.stack(cols, axis=1)
    _, rep, group_of = np.unique(key, axis=0, return_index=True, return_inverse=True)
    group_of = group_of.ravel()
    rep_of = rep[group_of]
    for lab in labels:
        if (np.asarray(lab) != np.asarray(lab)[rep_of]).any():
            raise AssertionError("row grouping: hash collision on labels")
    for m in matrices:
        m = sp.csr_matrix(m, dtype=np.float64)
        diff = m - m[rep_of]
        if diff.nnz and np.abs(diff.data).max() > 0:
            raise AssertionError("row grouping: hash collision on covering sets")
    return rep, group_of


def reduce(
    problem: CoverageProblem,
    coverages: list[StandardCoverage],
    *,
    aggregate: bool = True,
    drop_dominated: bool = True,
) -> ReducedCoverage:
    demand, sites = problem.demand, problem.sites
    n_dem, n_sites = len(demand), len(sites)
    fixed = problem.fixed_open()
    free = np.flatnonzero(~fixed)
    active = [c for c in coverages if problem.active(c.standard)]
    const = [c.covered_by(fixed) for c in active]
    # Rows a standard still has to decide: subject to it and not already covered by a kept site.
    free_mats = []
    for c, k in zip(active, const, strict=True):
        live = (c.applies & ~k).astype(np.float64)
        m = sp.csr_matrix(sp.diags_array(live) @ c.matrix[:, free].astype(np.float64), dtype=bool)
        m.eliminate_zeros()
        m.sort_indices()
        free_mats.append(m)

    need_zone = any(c.standard.zone_min_share is not None for c in active)
    zone_codes = None
    if need_zone and demand.zone is not None:
        _, zone_codes = np.unique(demand.zone.astype(str), return_inverse=True)

    # --- merge demand points with identical signatures --------------------------------------
    if aggregate and n_dem > 0:
        labels = [
            c.applies.astype(np.int64) + 2 * k.astype(np.int64)
            for c, k in zip(active, const, strict=True)
        ]
        if zone_codes is not None:
            labels.append(zone_codes)
        rep, group_of = group_rows(free_mats, labels)
    else:
        rep = np.arange(n_dem)
        group_of = np.arange(n_dem)
    n_groups = rep.size
    group_weight = np.bincount(group_of, weights=demand.weight, minlength=n_groups)
    group_size = np.bincount(group_of, minlength=n_groups)
    group_zone = demand.zone[rep] if demand.zone is not None else None

    reduced_std = [
        ReducedStandard(c, m[rep], c.applies[rep], k[rep])
        for c, k, m in zip(active, const, free_mats, strict=True)
    ]

    # --- drop dominated candidates ------------------------------------------------------------
    dominated_by: dict[int, int] = {}
    if drop_dominated and free.size > 1:
        dominated_by = _dominated(problem, reduced_std, free)
    keep_cols = np.ones(free.size, dtype=bool)
    if dominated_by:
        local = {int(j): k for k, j in enumerate(free)}
        for j in dominated_by:
            keep_cols[local[j]] = False
    free_kept = free[keep_cols]
    reduced_std = [
        ReducedStandard(r.coverage, sp.csr_matrix(r.matrix[:, keep_cols]), r.applies, r.const)
        for r in reduced_std
    ]
    stats = {
        "demand_points": n_dem,
        "demand_groups": int(n_groups),
        "sites": n_sites,
        "sites_fixed_open": int(fixed.sum()),
        "sites_dominated": len(dominated_by),
        "model_site_columns": int(free_kept.size),
    }
    log.info(
        "Presolve: %s demand points -> %s groups; %s sites -> %s decision columns "
        "(%s kept open, %s dominated)",
        f"{n_dem:,}",
        f"{n_groups:,}",
        f"{n_sites:,}",
        f"{free_kept.size:,}",
        f"{int(fixed.sum()):,}",
        f"{len(dominated_by):,}",
    )
    return ReducedCoverage(
        free_kept,
        fixed,
        dominated_by,
        group_of,
        group_weight,
        group_zone,
        group_size,
        reduced_std,
        stats,
    )


def _dominated(
    problem: CoverageProblem, reduced: list[ReducedStandard], free: np.ndarray
) -> dict[int, int]:
    """Map each dominated free candidate to a surviving candidate that dominates it.

    ``j'`` dominates ``j`` when both are new sites of the same type, not counted by any
    "at least k sites" rule, ``cover(j) ⊆ cover(j')`` for every active standard on the rows still to be decided,
    ``cost(j') <= cost(j)``, and the two differ (strictly larger cover, strictly lower cost, or,
    on a full tie, a lower index). That relation is a strict partial order, so every dropped
    candidate keeps a surviving dominator, and swapping it in keeps every constraint satisfied
    without losing coverage or adding cost.
    """
    sites = problem.sites
    # Only new sites, and none that an "at least k sites" rule counts: with such a rule the
    # dominator may already be open, and dropping the dominated site would lose a needed count.
    counted = np.zeros(len(sites), dtype=bool)
    for rule in problem.model.zone_rules:
        in_rule = problem.type_mask(rule.facility_types)
        if sites.zone is not None:
            in_rule &= np.isin(sites.zone, np.asarray(problem.rule_zones(rule), dtype=object))
        counted |= in_rule
    for share in problem.model.type_shares:
        counted |= np.isin(sites.facility_type, [*share.facility_types, *share.of])
    if problem.model.keep_existing_count:
        counted |= np.isin(sites.facility_type, sites.facility_type[sites.existing])
    if (
        sites.host is not None
    ):  # hosted sites need their host; hosts carry them: keep both as they are
        counted |= sites.host >= 0
        counted[sites.host[sites.host >= 0]] = True
    is_new = ~sites.existing[free] & ~counted[free]
    if is_new.sum() < 2:
        return {}
    rows = [r.matrix[(r.applies & ~r.const)] for r in reduced]
    if rows:
        M = sp.vstack(rows, format="csc").astype(np.int32)
    else:
        M = sp.csc_matrix((0, free.size), dtype=np.int32)
    size = np.asarray(M.sum(axis=0)).ravel()
    group_key = sites.facility_type[free].astype(str)
    _, group = np.unique(group_key, return_inverse=True)
    cost = sites.cost[free]
    if problem.model.resolved_objective == "min_sites" and problem.model.budget is None:
        cost = np.zeros_like(cost)
    dominated = np.zeros(free.size, dtype=bool)
    dominator = np.full(free.size, -1, dtype=np.int64)

    # Pairs with overlapping cover: |cover(j) ∩ cover(j')| == |cover(j)|.
    inter = (M.T @ M).tocoo()
    a, b, v = inter.row, inter.col, inter.data
    ok = (
        (a != b)
        & is_new[a]
        & is_new[b]
        & (group[a] == group[b])
        & (v == size[a])
        & (cost[b] <= cost[a])
    )
    strict = (size[b] > size[a]) | (cost[b] < cost[a]) | (b < a)
    ok &= strict
    a, b = a[ok], b[ok]
    dominated[a] = True
    dominator[a] = b
    # Candidates that cover nothing still to be decided: dominated by the cheapest peer in group.
    empty = np.flatnonzero((size == 0) & is_new)
    for g in np.unique(group[empty]):
        members = np.flatnonzero((group == g) & is_new)
        best = members[np.lexsort((members, cost[members]))[0]]
        for j in empty[group[empty] == g]:
            # ``best`` is the cheapest (then lowest-index) peer, so it dominates ``j`` strictly.
            if j != best:
                dominated[j] = True
                dominator[j] = best
    if problem.model.min_new_sites is not None:
        for t in np.unique(group_key[dominated]):
            if not _counts_allow_dominance(problem, free, str(t), dominated, cost):
                undo = dominated & (group_key == t)
                dominated[undo] = False
                dominator[undo] = -1
    # Follow chains to a survivor (the relation is transitive, so a survivor always exists).
    result: dict[int, int] = {}
    for j in np.flatnonzero(dominated):
        k = dominator[j]
        seen = 0
        while dominated[k] and seen < free.size:
            k = dominator[k]
            seen += 1
        result[int(free[j])] = int(free[k])
    return result


def _counts_allow_dominance(
    problem: CoverageProblem, free: np.ndarray, ftype: str, dominated: np.ndarray, cost: np.ndarray
) -> bool:
    """Whether dropping the dominated new sites of ``ftype`` stays exact under ``min_new_sites``.

    With a lower count (e.g. exactly p new sites: ``min_new_sites = max_new_sites = p``) a
    dominated site cannot always be swapped for its dominator: the dominator may already be
    open, and the count would drop. The swap stays exact when every plan opens at most ``U``
    new sites of the type (``max_new_sites``) and at least ``U`` candidates of the type survive:
    then a surviving candidate not yet open always exists to restore the count; it adds coverage
    only, and costs the same when the type's new sites cost the same (or cost is not in the
    objective nor in any budget).
    """
    model = problem.model
    sites = problem.sites
    of_type = ~sites.existing[free] & (sites.facility_type[free].astype(str) == ftype)
    limits = model.max_new_sites
    cap: float = np.inf
    if isinstance(limits, int):
        cap = float(limits)
    elif isinstance(limits, dict) and ftype in limits:
        cap = float(limits[ftype])
    survivors = int((of_type & ~dominated).sum())
    if survivors < cap:
        return False
    cost_matters = (
        model.resolved_objective == "min_cost"
        or model.budget is not None
        or model.budget_by_type is not None
        or model.secondary_objective == "min_cost"
    )
    return not cost_matters or bool(np.ptp(cost[of_type]) == 0.0) if of_type.any() else True
