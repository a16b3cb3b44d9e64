"""Solver-independent result types: status enum, options, and the result of one solve."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

__all__ = ["SolveOptions", "SolveResult", "Status", "relative_gap"]


class Status(enum.StrEnum):
    """Outcome of a solve, never conflating a proven optimum with a limit-reached incumbent."""

    OPTIMAL = "optimal"
    """Proven optimal within the requested relative gap."""
    FEASIBLE = "feasible"
    """A limit (time, nodes) stopped the search; the incumbent is returned with its bound and gap."""
    INFEASIBLE = "infeasible"
    """Proven: no plan satisfies every constraint."""
    UNBOUNDED = "unbounded"
    NO_SOLUTION = "no_solution"
    """A limit stopped the search before any feasible plan was found."""
    ERROR = "error"

    @property
    def has_solution(self) -> bool:
        return self in (Status.OPTIMAL, Status.FEASIBLE)

    @property
    def label(self) -> str:
        return {
            Status.OPTIMAL: "OPTIMAL (proven)",
            Status.FEASIBLE: "FEASIBLE at limit (not proven optimal)",
            Status.INFEASIBLE: "INFEASIBLE (proven)",
            Status.UNBOUNDED: "UNBOUNDED",
            Status.NO_SOLUTION: "NO SOLUTION found before the limit",
            Status.ERROR: "ERROR",
        }[self]


Backend = Literal["highs", "cbc", "ortools", "scip"]


@dataclass(frozen=True)
class SolveOptions:
    """Options every backend understands (units in the names)."""

    time_limit_s: float = 600.0
    mip_rel_gap: float = 0.0
    threads: int | None = None
    seed: int = 0
    log: bool = False
    ortools_engine: str = "SCIP"
    presolve: bool = True
    """MIP presolve (HiGHS, CBC). Off helps models it cannot shrink but spends long on (staffing)."""
    count_search: bool = False
    """Solve an equal-cost partial covering block as a search over its number of sites
    (:mod:`optimizer.solvers.covering`). Off by default: on the default case's clinic block it
    lost to HiGHS on the block as it is (benchmarks/README.md, ``covering``)."""
    warm_start: np.ndarray | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True, eq=False)
class SolveResult:
    status: Status
    x: np.ndarray | None
    objective: float | None
    bound: float | None
    runtime_s: float
    solver: str
    solver_version: str
    message: str = ""
    node_count: int | None = None
    load_time_s: float | None = None
    """Seconds spent handing the model to the solver (None when the backend does not say)."""

    @property
    def gap(self) -> float | None:
        if self.objective is None or self.bound is None:
            return None
        return relative_gap(self.objective, self.bound)


def relative_gap(objective: float, bound: float) -> float:
    """``|objective - bound| / max(|objective|, 1e-9)`` - one definition for every backend."""
    if not (np.isfinite(objective) and np.isfinite(bound)):
        return float("inf")
    diff = abs(objective - bound)
    if diff <= 1e-9 * max(1.0, abs(objective)):
        return 0.0
    return diff / max(abs(objective), 1e-9)
