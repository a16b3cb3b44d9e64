"""What every solved model reports beside its plan: the solver's certificate.

Each model family's solution dataclass (coverage, phased roll-out, 120 stations, ...) inherits
these fields, so results, reports and sweeps read one shape: the objective recomputed on the raw
data, the proven bound and gap, times, the solver and its version, model and presolve sizes, the
diagnosis when no plan exists, and whether the answer passed its check.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from .errors import CheckError
from .solvers.base import Limit, stop_limit

__all__ = [
    "Certificate",
    "check_certificate",
    "solution_limit",
    "status_text",
    "time_line",
]


def status_text(status: Any, limit: Limit) -> str:
    """The status as the summary says it: "FEASIBLE at the time limit (not proven optimal)",
    "NO SOLUTION found before the time limit", else the status's own label."""
    value = getattr(status, "value", str(status))
    if value == "feasible" and limit.phrase:
        return f"FEASIBLE {limit.phrase} (not proven optimal)"
    before = {
        Limit.TIME: "the time limit",
        Limit.NODE: "the node limit",
        Limit.INTERRUPT: "the interrupt",
    }
    if value == "no_solution" and limit in before:
        return f"NO SOLUTION found before {before[limit]}"
    return str(status.label)


def solution_limit(solution: Any, time_limit_s: float | None) -> Limit:
    """:func:`stop_limit` of any family's solution: each carries ``status``, ``gap``,
    ``message``, ``runtime_s`` and ``total_time_s`` (:class:`Certificate` and the staffing
    solutions alike); ``time_limit_s`` is the limit the run was given."""
    return stop_limit(
        status=solution.status,
        gap=solution.gap,
        message=str(solution.message or ""),
        seconds=solution.total_time_s or solution.runtime_s,
        time_limit_s=time_limit_s,
    )


@dataclass(frozen=True, eq=False, kw_only=True)
class Certificate:
    objective: float | None = None
    """Recomputed from the raw data (not the solver's value) once the plan is checked."""
    bound: float | None = None
    gap: float | None = None
    runtime_s: float = 0.0
    """Solver time."""
    total_time_s: float = 0.0
    """Everything from coverage sets to the checked answer."""
    solver: str = ""
    solver_version: str = ""
    message: str = ""
    model_size: dict[str, int] = field(default_factory=dict)
    presolve: dict[str, int] = field(default_factory=dict)
    diagnosis: list[str] = field(default_factory=list)
    """Why no plan exists (elastic model, prechecks), in the planner's terms."""
    checked: bool = False
    """The plan passed every constraint and its objective was recomputed on the raw data."""
    secondary: dict[str, object] | None = None
    """Lexicographic second stage: objective, status, value, bound, gap."""
    time_limit_s: float | None = None
    """The time limit the solve honoured (the case's, or the command line's override)."""

    @property
    def limit(self) -> Limit:
        """Which limit stopped the solve (:func:`stop_limit`)."""
        return stop_limit(
            status=getattr(self, "status"),  # noqa: B009  (declared by each family's subclass)
            gap=self.gap,
            message=self.message,
            seconds=self.total_time_s or self.runtime_s,
            time_limit_s=self.time_limit_s,
        )

    def check(self, *, has_plan: bool) -> None:
        """Bound side, gap, status/plan consistency (:func:`check_certificate`)."""
        check_certificate(
            status=getattr(self, "status"),  # noqa: B009  (declared by each family's subclass)
            objective=self.objective,
            bound=self.bound,
            gap=self.gap,
            sense=str(getattr(self, "sense", "min")),
            has_plan=has_plan,
            checked=self.checked,
            where=type(self).__name__,
        )


def check_certificate(
    *,
    status: Any,
    objective: float | None,
    bound: float | None,
    gap: float | None,
    sense: str,
    has_plan: bool,
    checked: bool,
    where: str,
    rtol: float = 1e-6,
) -> None:
    """The family-independent checks of an answer (python-mip's ``check_optimization_results``):

    * status and plan agree: OPTIMAL / FEASIBLE carry a plan that passed its raw-data check
      (``checked``) and a finite objective; the other statuses carry no plan;
    * the gap is not negative;
    * the bound is on the right side of the recomputed objective for the sense (``min``: bound
      <= objective; ``max``: bound >= objective), within ``rtol`` of the objective's scale.

    Raises :class:`optimizer.errors.CheckError` naming what disagrees. The family's own check
    (every constraint, objective recomputed on the raw data) has run before.
    """
    where = f"{where} ({status.value})"
    if status.has_solution and not has_plan:
        raise CheckError([f"{where}: the status promises a plan but none was returned"])
    if status.has_solution and not checked:
        raise CheckError([f"{where}: the plan was not checked on the raw data"])
    if not status.has_solution and has_plan:
        raise CheckError([f"{where}: a plan was returned with a status that has none"])
    if status.has_solution and (objective is None or not math.isfinite(objective)):
        raise CheckError([f"{where}: no finite objective for a plan"])
    if gap is not None and math.isfinite(gap) and gap < -rtol:
        raise CheckError([f"{where}: negative gap {gap}"])
    if objective is None or bound is None:
        return
    if not (math.isfinite(objective) and math.isfinite(bound)):
        return
    tol = rtol * max(1.0, abs(objective))
    wrong = bound > objective + tol if sense == "min" else bound < objective - tol
    if status.has_solution and wrong:
        raise CheckError(
            [
                f"{where}: the bound {bound} is on the wrong side of the objective {objective} "
                f"for a {sense}imisation"
            ]
        )


def time_line(solution: object) -> str:
    """Run times, printed but not in summary.txt (they are in timings.json): the files of two
    runs of one case are byte-identical."""
    run = getattr(solution, "runtime_s", None)
    total = getattr(solution, "total_time_s", None)
    if not isinstance(run, (int, float)) or not isinstance(total, (int, float)):
        return ""
    return f"Time: solver {run:.2f} s, total {total:.2f} s (timings.json)\n"
