"""p-median and p-center cases: the problem a case file describes, and its certified answer.

:class:`SitingProblem` holds the data of a ``kind: p_median`` or ``kind: p_center`` case (the
same arrays as every case); :func:`solve_siting` runs :func:`~optimizer.models.siting.pmedian.
solve_pmedian` or :func:`~optimizer.models.siting.pcenter.solve_pcenter` on the table the model names
and wraps the answer in a :class:`SitingSolution` with the attributes the result writers and
the CLI read from every solution (status, objective, bound, gap, solver, timings, diagnosis).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from geodata.arrays import Demand, Sites, TravelTimes, Zones

from ...schema.siting import PCenterModelConfig, PMedianModelConfig
from ...solvers import SolveOptions, Status
from .pcenter import solve_pcenter
from .pmedian import solve_pmedian
from .solution import PCenterSolution, PMedianSolution

__all__ = ["SitingProblem", "SitingSolution", "solve_siting"]


@dataclass(frozen=True, eq=False)
class SitingProblem:
    demand: Demand
    sites: Sites
    travel_times: dict[str, TravelTimes]
    model: PMedianModelConfig | PCenterModelConfig
    zones: Zones | None = None

    def table(self) -> TravelTimes:
        """The travel-time table the model reads (``model.matrix``, else the only one)."""
        name = self.model.matrix or next(iter(self.travel_times))
        return self.travel_times[name]

    def table_thresholds(self) -> dict[str, list[np.ndarray]]:
        """No threshold: p-median and p-center read every trip, so the road check samples at
        random only."""
        return {}

    def zone_ids(self) -> list[str]:
        if self.zones is not None:
            return sorted(map(str, self.zones.ids))
        if self.demand.zone is not None:
            return sorted(set(map(str, self.demand.zone)))
        return []


@dataclass(frozen=True, eq=False)
class SitingSolution:
    """A certified p-median / p-center answer with its case (the model's solution inside)."""

    problem: SitingProblem
    result: PMedianSolution | PCenterSolution
    sense: str = "min"
    secondary: dict[str, Any] | None = None
    presolve: dict[str, Any] = field(default_factory=dict)

    @property
    def kind(self) -> str:
        return self.problem.model.kind

    @property
    def status(self) -> Status:
        return self.result.status

    @property
    def objective(self) -> float | None:
        return self.result.objective

    @property
    def bound(self) -> float | None:
        return self.result.bound

    @property
    def gap(self) -> float | None:
        return self.result.gap

    @property
    def runtime_s(self) -> float:
        return self.result.runtime_s

    @property
    def total_time_s(self) -> float:
        return self.result.total_time_s

    @property
    def solver(self) -> str:
        return self.result.solver

    @property
    def solver_version(self) -> str:
        return self.result.solver_version

    @property
    def message(self) -> str:
        return self.result.message

    @property
    def model_size(self) -> dict[str, int]:
        return self.result.model_size

    @property
    def time_limit_s(self) -> float | None:
        return self.result.time_limit_s

    @property
    def diagnosis(self) -> list[str]:
        return self.result.diagnosis

    @property
    def checked(self) -> bool:
        return self.result.checked


def solve_siting(
    problem: SitingProblem, options: SolveOptions, *, backend: str = "highs"
) -> SitingSolution:
    """Solve and certify the case's p-median or p-center model on its travel-time table."""
    p = problem
    result: PMedianSolution | PCenterSolution
    if isinstance(p.model, PMedianModelConfig):
        result = solve_pmedian(p.demand, p.sites, p.table(), p.model, options, backend=backend)
    else:
        result = solve_pcenter(p.demand, p.sites, p.table(), p.model, options, backend=backend)
    return SitingSolution(p, result)
