"""What every solved model reports beside its plan: the solver's certificate.

Each model family's solution dataclass (coverage, phased roll-out, 120 stations, ...) inherits
these fields, so results, reports and sweeps read one shape: the objective recomputed on the raw
data, the proven bound and gap, times, the solver and its version, model and presolve sizes, the
diagnosis when no plan exists, and whether the answer passed its check.
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["Certificate"]


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
