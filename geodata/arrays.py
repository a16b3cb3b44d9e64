"""Array containers the optimiser consumes: demand, sites, zones and travel-time tables.

They are frozen dataclasses of numpy arrays with the ids kept alongside, so every result can be
mapped back to the planner's own ids. Units are in the names (``value`` of a
:class:`TravelTimes` is in ``unit``: minutes or metres).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp

__all__ = ["Demand", "Sites", "TravelTimes", "Zones"]


def _as_str_array(values: object) -> np.ndarray:
    return np.asarray(values, dtype=object)


@dataclass(frozen=True, eq=False)
class Demand:
    """Demand points: ``weight`` is residents unless ``weight_note`` says otherwise."""

    ids: np.ndarray
    weight: np.ndarray
    zone: np.ndarray | None = None
    demand_class: np.ndarray | None = None
    x: np.ndarray | None = None
    y: np.ndarray | None = None
    crs: str | None = None
    weight_note: str | None = None
    footfall: np.ndarray | None = None
    """Points whose weight is footfall at a venue, not residents (left out of resident totals)."""
    name: np.ndarray | None = None
    """Display names (village names, OSM ``name``); "" where unnamed. Ids stay the keys."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "ids", _as_str_array(self.ids))
        object.__setattr__(self, "weight", np.asarray(self.weight, dtype=float))
        if self.name is not None:
            object.__setattr__(self, "name", _as_str_array(self.name))
        if self.zone is not None:
            object.__setattr__(self, "zone", _as_str_array(self.zone))
        if self.demand_class is not None:
            object.__setattr__(self, "demand_class", _as_str_array(self.demand_class))

    def __len__(self) -> int:
        return int(self.ids.shape[0])

    @property
    def total_weight(self) -> float:
        return float(self.weight.sum())

    @property
    def residents(self) -> np.ndarray:
        """Residents of each point (0 for footfall venues)."""
        return self.weight if self.footfall is None else np.where(self.footfall, 0.0, self.weight)


@dataclass(frozen=True, eq=False)
class Sites:
    """Candidate sites and existing facilities of one or more facility types."""

    ids: np.ndarray
    facility_type: np.ndarray
    cost: np.ndarray
    existing: np.ndarray
    zone: np.ndarray | None = None
    removal_cost: np.ndarray | None = None
    relocation_credit: np.ndarray | None = None
    capacity: np.ndarray | None = None
    x: np.ndarray | None = None
    y: np.ndarray | None = None
    crs: str | None = None
    cost_unit: str = "yuan"
    has_cost: bool = True
    """False when no cost column was given (every site then costs 1, i.e. costs count sites)."""
    vehicles: np.ndarray | None = None
    """Ambulances at each site today (existing 120 stations)."""
    np_vehicles: np.ndarray | None = None
    """Of which negative-pressure (负压) ambulances."""
    host: np.ndarray | None = None
    """Index of the site this one sits inside (an AED in a clinic or station), -1 if none: it
    can only open if its host is open."""
    name: np.ndarray | None = None
    """Display names (clinic names, OSM ``name``); "" where unnamed. Ids stay the keys."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "ids", _as_str_array(self.ids))
        if self.name is not None:
            object.__setattr__(self, "name", _as_str_array(self.name))
        object.__setattr__(self, "facility_type", _as_str_array(self.facility_type))
        object.__setattr__(self, "cost", np.asarray(self.cost, dtype=float))
        object.__setattr__(self, "existing", np.asarray(self.existing, dtype=bool))
        if self.zone is not None:
            object.__setattr__(self, "zone", _as_str_array(self.zone))

    def __len__(self) -> int:
        return int(self.ids.shape[0])

    @property
    def types(self) -> list[str]:
        return sorted(set(self.facility_type.tolist()))

    def closure_cost(self) -> np.ndarray:
        """Net cost of closing each site (removal cost minus relocation credit); 0 if not given."""
        out = np.zeros(len(self))
        if self.removal_cost is not None:
            out += np.nan_to_num(np.asarray(self.removal_cost, dtype=float))
        if self.relocation_credit is not None:
            out -= np.nan_to_num(np.asarray(self.relocation_credit, dtype=float))
        return out


@dataclass(frozen=True, eq=False)
class Zones:
    """Zones (townships 乡镇, streets 街道): ids, display names and kinds."""

    ids: np.ndarray
    name: np.ndarray
    kind: np.ndarray

    def __post_init__(self) -> None:
        object.__setattr__(self, "ids", _as_str_array(self.ids))
        object.__setattr__(self, "name", _as_str_array(self.name))
        object.__setattr__(self, "kind", _as_str_array(self.kind))

    def __len__(self) -> int:
        return int(self.ids.shape[0])

    @classmethod
    def from_ids(cls, ids: list[str]) -> Zones:
        return cls(
            np.asarray(ids, dtype=object),
            np.asarray(ids, dtype=object),
            np.asarray([""] * len(ids), dtype=object),
        )


@dataclass(frozen=True, eq=False)
class TravelTimes:
    """Sparse demand x site table of travel times (``unit='min'``) or distances (``unit='m'``).

    Pairs not present are unreachable (or beyond the largest standard the table was computed for).
    """

    name: str
    demand_index: np.ndarray
    site_index: np.ndarray
    value: np.ndarray
    n_demand: int
    n_sites: int
    unit: str = "min"
    complete_within: float = field(default=np.inf)
    """Every pair with value <= this bound is present (np.inf: the table is not truncated)."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "demand_index", np.asarray(self.demand_index, dtype=np.int64))
        object.__setattr__(self, "site_index", np.asarray(self.site_index, dtype=np.int64))
        object.__setattr__(self, "value", np.asarray(self.value, dtype=float))

    def __len__(self) -> int:
        return int(self.value.shape[0])

    @property
    def quantity(self) -> str:
        return "time" if self.unit == "min" else "distance"

    @classmethod
    def from_dense(
        cls, matrix: np.ndarray, *, name: str = "travel_times", unit: str = "min"
    ) -> TravelTimes:
        """From a dense demand x site array; ``inf`` or ``nan`` marks unreachable pairs."""
        m = np.asarray(matrix, dtype=float)
        if m.ndim != 2:
            raise ValueError(f"from_dense: expected a 2-D demand x site array (got {m.ndim}-D)")
        n_demand, n_sites = m.shape
        finite = np.isfinite(m)
        if finite.all():
            # Every pair present (the usual dense input): the row-major index pattern is known,
            # so build it directly instead of searching the mask and gathering the values.
            i = np.repeat(np.arange(n_demand, dtype=np.int64), n_sites)
            j = np.tile(np.arange(n_sites, dtype=np.int64), n_demand)
            value = m.reshape(-1).copy()
        else:
            flat = np.flatnonzero(finite)
            i, j = np.divmod(flat, n_sites)
            value = m.reshape(-1)[flat]
        return cls(name, i, j, value, n_demand, n_sites, unit)

    def within(
        self, threshold: np.ndarray | float, site_mask: np.ndarray | None = None
    ) -> sp.csr_matrix:
        """Boolean coverage matrix (demand x site): ``value <= threshold`` of the demand row.

        ``threshold`` is a scalar or one value per demand point (``nan`` = not subject).
        """
        thr = np.asarray(threshold, dtype=float)
        if thr.ndim and thr.size and np.all(thr == thr[0]):
            # One threshold for every demand point: compare against a scalar, without a gather.
            thr = thr[:1].reshape(())
        if thr.ndim == 0:
            keep = self.value <= float(thr)
        else:
            keep = self.value <= thr[self.demand_index]
        if site_mask is not None:
            mask = np.asarray(site_mask, dtype=bool)
            if not mask.all():
                keep &= mask[self.site_index]
        hit = np.flatnonzero(keep)  # few pairs are within a standard: gather them, not mask twice
        i, j = self.demand_index[hit], self.site_index[hit]
        m = sp.csr_matrix(
            (np.ones(i.size, dtype=bool), (i, j)), shape=(self.n_demand, self.n_sites)
        )
        m.sort_indices()
        return m

    def to_csr(self) -> sp.csr_matrix:
        """Values as a sparse matrix (missing = unreachable). Zero values are stored explicitly."""
        m = sp.csr_matrix(
            (self.value + 0.0, (self.demand_index, self.site_index)),
            shape=(self.n_demand, self.n_sites),
        )
        return m

    def nearest(self, site_mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """For each demand point, the nearest site among ``site_mask`` and its value.

        Returns ``(site_index, value)`` with ``-1`` / ``inf`` where no such site is reachable.
        Ties go to the lowest site index, so the answer is deterministic.
        """
        keep = np.asarray(site_mask, dtype=bool)[self.site_index]
        di, sj, v = self.demand_index[keep], self.site_index[keep], self.value[keep]
        best_site = np.full(self.n_demand, -1, dtype=np.int64)
        best_val = np.full(self.n_demand, np.inf)
        if v.size:
            order = np.lexsort((sj, v, di))
            di_s = di[order]
            first = np.ones(di_s.size, dtype=bool)
            first[1:] = di_s[1:] != di_s[:-1]
            best_site[di_s[first]] = sj[order][first]
            best_val[di_s[first]] = v[order][first]
        return best_site, best_val
