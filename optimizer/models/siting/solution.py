"""The certified p-median and p-center answers and their ``solution.json`` / demand-table views."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from geodata.arrays import Demand, Sites

from ...certificate import Certificate
from ...milp import MILP
from ...schema.siting import PCenterModelConfig, PMedianModelConfig
from ...solvers import Status
from .problem import SitingInstance, by_type, num, open_site_ids, travel_summary

__all__ = ["PCenterSolution", "PMedianSolution", "model_size"]


def model_size(milp: MILP) -> dict[str, int]:
    """Rows, columns, nonzeros and integer columns of ``milp`` (``solution.json``'s model_size)."""
    return {
        "rows": milp.n_rows,
        "columns": milp.n_cols,
        "nonzeros": milp.nnz,
        "integer_columns": milp.n_integer,
    }


def _head(sol: PMedianSolution | PCenterSolution, meaning: str) -> dict[str, Any]:
    """The first keys of ``solution.json``: model, status, objective, bound and gap."""
    return {
        "model": sol.config.model_dump(exclude_none=True),
        "status": sol.status.value,
        "status_text": sol.status.label,
        "checked_on_raw_data": sol.checked,
        "objective": num(sol.objective),
        "objective_sense": "min",
        "objective_meaning": meaning,
        "best_bound": num(sol.bound),
        "gap": num(sol.gap, 9),
    }


def _run(sol: PMedianSolution | PCenterSolution) -> dict[str, Any]:
    """Timings, solver and model size for ``solution.json``."""
    return {
        "runtime_s": num(sol.runtime_s, 3),
        "total_time_s": num(sol.total_time_s, 3),
        "solver": {"backend": sol.solver, "version": sol.solver_version, "message": sol.message},
        "model_size": sol.model_size,
    }


def _plan(sol: PMedianSolution | PCenterSolution, longest: np.ndarray) -> dict[str, Any]:
    """Chosen, new and closed sites per facility type and the travel summary of a plan."""
    inst = sol.instance
    assert sol.open_mask is not None and sol.travel is not None and sol.assigned_site is not None
    types = sorted(set(map(str, inst.sites.facility_type[inst.allowed])))
    existing = inst.sites.existing
    return {
        "chosen_sites": by_type(inst.sites, sol.open_mask, types),
        "new_sites": by_type(inst.sites, sol.open_mask & ~existing, types),
        "closed_sites": by_type(inst.sites, existing & inst.allowed & ~sol.open_mask, types),
        "travel": {"unit": inst.unit}
        | travel_summary(inst.demand, sol.travel, longest, sol.assigned_site >= 0),
    }


def _demand_frame(sol: PMedianSolution | PCenterSolution) -> pd.DataFrame:
    """One row per demand point: id, weight, zone, its site id and travel value."""
    d = sol.instance.demand
    frame = pd.DataFrame({"id": d.ids.astype(str), "weight": d.weight})
    if d.zone is not None:
        frame["zone"] = d.zone.astype(str)
    if sol.assigned_site is not None and sol.travel is not None:
        site = sol.assigned_site
        frame["site_id"] = np.where(site >= 0, sol.sites.ids[np.maximum(site, 0)].astype(str), "")
        frame["travel"] = np.where(site >= 0, sol.travel, np.nan)
    return frame


@dataclass(frozen=True, eq=False)
class PMedianSolution(Certificate):
    """A certified p-median answer (objective recomputed on the raw travel-time table)."""

    instance: SitingInstance
    config: PMedianModelConfig
    status: Status
    open_mask: np.ndarray | None = None
    assigned_site: np.ndarray | None = None
    """Per demand point: its site (largest share when split), -1 when not served."""
    travel: np.ndarray | None = None
    """Per demand point: travel value to its site (share-weighted mean when split)."""
    longest_trip: np.ndarray | None = None
    """Per demand point: its longest assigned trip (= ``travel`` unless split)."""
    shares: pd.DataFrame | None = None
    """Capacitated only: ``demand, site, share, value`` rows of the split assignment."""
    solver_objective: float | None = None
    rounds: list[dict[str, Any]] = field(default_factory=list)
    method: str = "assignment"
    """``assignment`` (k-nearest rounds) or ``benders``."""

    @property
    def sites(self) -> Sites:
        return self.instance.sites

    @property
    def demand(self) -> Demand:
        return self.instance.demand

    def open_ids(self, facility_type: str | None = None) -> list[str]:
        return open_site_ids(self.sites, self.open_mask, facility_type)

    @property
    def truncation_proven(self) -> bool | None:
        """True when the last round's answer is certified for the full (untruncated) model."""
        if not self.rounds or self.method != "assignment":
            return None
        return bool(self.rounds[-1]["certified"])

    def to_dict(self) -> dict[str, Any]:
        """Plain values for ``solution.json``."""
        unit = self.instance.unit
        meaning = f"total population-weighted travel ({'weight x ' + unit}) to the assigned site"
        out = _head(self, meaning) | _run(self) | {"method": self.method}
        if self.method == "assignment":
            out["truncation"] = {"rounds": self.rounds, "proven_exact": self.truncation_proven}
        else:
            out["benders_rounds"] = self.rounds
        out["diagnosis"] = self.diagnosis
        if self.open_mask is not None and self.travel is not None:
            assert self.longest_trip is not None
            out |= _plan(self, self.longest_trip)
            if self.shares is not None:
                out["split_demand_points"] = int(
                    (self.shares.groupby("demand")["share"].size() > 1).sum()
                )
        return out

    def demand_table(self) -> pd.DataFrame:
        """One row per demand point: id, weight, zone, site id, travel value (and split flag)."""
        frame = _demand_frame(self)
        if self.assigned_site is not None and self.travel is not None and self.shares is not None:
            n_sites = self.shares.groupby("demand")["share"].size()
            frame["split"] = frame.index.map(lambda i: int(n_sites.get(i, 0)) > 1)
        return frame


@dataclass(frozen=True, eq=False)
class PCenterSolution(Certificate):
    """A certified p-center answer: radius recomputed on the raw table, bound, gap, steps.

    ``objective`` is the radius: the worst travel value (weighted: worst weight x travel) over
    the counted demand points."""

    instance: SitingInstance
    config: PCenterModelConfig
    status: Status
    open_mask: np.ndarray | None = None
    assigned_site: np.ndarray | None = None
    """Per demand point: its nearest open site (-1 when none is reachable)."""
    travel: np.ndarray | None = None
    """Per demand point: travel value to its nearest open site."""
    sites_needed: int | None = None
    """Fewest new sites that achieve the radius (binary search, when proven)."""
    steps: list[dict[str, Any]] = field(default_factory=list)

    @property
    def radius(self) -> float | None:
        return self.objective

    @property
    def sites(self) -> Sites:
        return self.instance.sites

    def open_ids(self, facility_type: str | None = None) -> list[str]:
        return open_site_ids(self.sites, self.open_mask, facility_type)

    def to_dict(self) -> dict[str, Any]:
        """Plain values for ``solution.json``."""
        unit = self.instance.unit
        meaning = (
            f"worst weight x travel ({unit}) to the nearest open site"
            if self.config.weighted
            else f"worst travel ({unit}) from a demand point to its nearest open site"
        )
        out = _head(self, meaning) | {"sites_needed": self.sites_needed} | _run(self)
        out |= {"steps": self.steps, "diagnosis": self.diagnosis}
        if self.open_mask is not None and self.travel is not None:
            out |= _plan(self, self.travel)
        return out

    def demand_table(self) -> pd.DataFrame:
        """One row per demand point: id, weight, zone, nearest open site id, travel value."""
        return _demand_frame(self)
