"""The solve rounds of the siting algorithms: one time budget, summed runtime, the last solver.

p-median (k-nearest rounds, Benders phases) and p-center (binary-search steps, compact MIP) all
solve a sequence of MILPs under one ``time_limit_s``. :class:`Rounds` runs each of them with the
time that is left (:class:`~optimizer.solvers.Deadline`), adds up the solver time and remembers
the last answer and model size for ``solution.json``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ...milp import MILP
from ...solvers import Deadline, SolveOptions, SolveResult, solve
from .problem import SitingInstance
from .solution import model_size

__all__ = ["Rounds", "open_from"]


@dataclass
class Rounds:
    """Runs the rounds of one algorithm; ``deadline`` starts with the whole solve."""

    options: SolveOptions
    backend: str
    deadline: Deadline
    runtime: float = 0.0
    """Seconds spent in the solver, summed over the rounds."""
    last: SolveResult | None = None
    size: dict[str, int] = field(default_factory=dict)

    @classmethod
    def start(cls, options: SolveOptions, backend: str, t_start: float) -> Rounds:
        """Rounds whose budget is ``options.time_limit_s`` from ``t_start`` (perf_counter)."""
        return cls(options, backend, Deadline(options.time_limit_s, start=t_start))

    def run(self, milp: MILP, warm: np.ndarray | None = None) -> SolveResult:
        """Solve ``milp`` with the remaining time (and a warm start); record what it took."""
        res = solve(milp, self.deadline.options_for(self.options, warm_start=warm), self.backend)
        self.runtime += res.runtime_s
        self.last = res
        self.size = model_size(milp)
        return res

    def solver_fields(self) -> dict[str, Any]:
        """``runtime_s``, ``solver``, ``solver_version`` and ``model_size`` of the rounds so far."""
        last = self.last
        return {
            "runtime_s": self.runtime,
            "solver": last.solver if last else self.backend,
            "solver_version": last.solver_version if last else "",
            "model_size": self.size,
        }

    @property
    def message(self) -> str:
        """The last solver's message ("" before any solve)."""
        return self.last.message if self.last else ""


def open_from(inst: SitingInstance, free_sites: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Open mask of a plan: the kept-open sites and the free sites whose ``y`` value is > 0.5."""
    open_mask = inst.fixed_open.copy()
    open_mask[free_sites[y > 0.5]] = True
    return open_mask
