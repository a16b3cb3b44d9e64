"""Solver-independent result types: status enum, options, and the result of one solve."""

from __future__ import annotations

import enum
import math
import time
from dataclasses import dataclass, field, replace

import numpy as np

__all__ = [
    "Backend",
    "Deadline",
    "Feature",
    "Limit",
    "SolveOptions",
    "SolveResult",
    "Status",
    "relative_gap",
    "stop_limit",
]


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


class Limit(enum.StrEnum):
    """Which limit stopped a solve, beside its Status (OR-Tools MathOpt's ``Termination.limit``).

    ``none``: the solve ran to its end (proven optimal at gap 0, infeasible, unbounded, an
    error); ``gap``: proven within the requested relative gap (``solver.mip_rel_gap`` > 0);
    ``time``: the time limit; ``node``: a node limit; ``interrupt``: Ctrl-C / SIGTERM / a
    cancelled solve; ``other``: a plan without proof for another reason (a solution or memory
    limit, a bound left open by a truncated travel-time table: ``message`` says which).
    """

    NONE = "none"
    GAP = "gap"
    TIME = "time"
    NODE = "node"
    INTERRUPT = "interrupt"
    OTHER = "other"

    @property
    def phrase(self) -> str:
        """How the summary says it after the status ("FEASIBLE at the time limit")."""
        return {
            Limit.GAP: "at the requested gap",
            Limit.TIME: "at the time limit",
            Limit.NODE: "at the node limit",
            Limit.INTERRUPT: "when interrupted",
        }.get(self, "")


def stop_limit(
    *,
    status: Status,
    gap: float | None,
    message: str,
    seconds: float | None,
    time_limit_s: float | None,
) -> Limit:
    """The limit that stopped a solve, from its certificate: the status, the proven gap, the
    solver's own status text (HiGHS "Time limit reached", SCIP "timelimit" / "nodelimit" /
    "userinterrupt", CBC "Stopped on time", OR-Tools "...time limit...") and the time used
    against the time limit (a solve of several rounds stops when its Deadline runs out)."""
    value = status.value
    if value == "optimal":
        return Limit.GAP if gap is not None and math.isfinite(gap) and gap > 1e-9 else Limit.NONE
    if value not in ("feasible", "no_solution"):
        return Limit.NONE
    text = message.lower()
    if "interrupt" in text or "cancel" in text:
        return Limit.INTERRUPT
    if "node" in text:
        return Limit.NODE
    if "time" in text:
        return Limit.TIME
    if seconds is not None and time_limit_s is not None and seconds >= 0.98 * time_limit_s:
        return Limit.TIME
    return Limit.OTHER


class Backend(enum.StrEnum):
    """The solver backends, spelled once (CLI choices, case schemas, :func:`solve`)."""

    HIGHS = "highs"
    CBC = "cbc"
    ORTOOLS = "ortools"
    SCIP = "scip"


class Feature(enum.StrEnum):
    """What a backend module declares it supports (``FEATURES`` in each backend module)."""

    BOUND = "bound"
    """Reports a proven dual bound at a limit."""
    WARM_START = "warm_start"
    """Accepts a starting plan (``SolveOptions.warm_start``)."""
    THREADS = "threads"
    """Honours ``SolveOptions.threads``."""
    ENGINES = "engines"
    """Chooses among inner engines (``SolveOptions.ortools_engine``: SCIP, CP-SAT, ...)."""


class Deadline:
    """Remaining time of one solve budget, shared by the rounds of an algorithm.

    ``Deadline(options.time_limit_s)`` starts the clock; :meth:`remaining` is the seconds left
    (never below 0) and :meth:`options_for` the options of the next round with the time limit
    set to what is left, floored at ``floor`` seconds so a last round still gets to report its
    incumbent and bound.
    """

    def __init__(self, seconds: float, *, start: float | None = None) -> None:
        self.seconds = float(seconds)
        self.start = time.perf_counter() if start is None else start

    @property
    def end(self) -> float:
        return self.start + self.seconds

    def elapsed(self) -> float:
        return time.perf_counter() - self.start

    def remaining(self) -> float:
        return max(self.seconds - self.elapsed(), 0.0)

    def expired(self) -> bool:
        return self.remaining() <= 0.0

    def options_for(
        self, options: SolveOptions, *, floor: float = 1.0, **changes: object
    ) -> SolveOptions:
        """``options`` with ``time_limit_s`` = the remaining time (at least ``floor``)."""
        return replace(options, time_limit_s=max(self.remaining(), floor), **changes)  # type: ignore[arg-type]


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
    psclp_scip: bool = False
    """Solve an equal-cost partial covering block (:mod:`optimizer.solvers.covering`) from its
    LP bound and a heuristic plan, then in SCIP with the ``covering`` profile
    (:func:`optimizer.solvers.covering.solve_from_plan`) when PySCIPOpt is installed, whatever
    the backend (set by ``solver.method: auto``): on the default case's clinic block about 3 s
    against 15-20 s for HiGHS (benchmarks/README.md, ``covering``)."""
    scip_profile: str | None = None
    """A named set of SCIP parameters (:data:`optimizer.solvers.scip.PROFILES`), or None."""
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

    @property
    def limit(self) -> Limit:
        """Which limit stopped this solve (:func:`stop_limit`, from the backend's status text)."""
        return stop_limit(
            status=self.status,
            gap=self.gap,
            message=self.message,
            seconds=self.runtime_s,
            time_limit_s=None,
        )


def relative_gap(objective: float, bound: float) -> float:
    """``|objective - bound| / max(|objective|, 1e-9)`` - one definition for every backend."""
    if not (np.isfinite(objective) and np.isfinite(bound)):
        return float("inf")
    diff = abs(objective - bound)
    if diff <= 1e-9 * max(1.0, abs(objective)):
        return 0.0
    return diff / max(abs(objective), 1e-9)
