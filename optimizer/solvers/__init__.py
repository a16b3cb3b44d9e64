"""Solver backends behind one call: :func:`solve` (MILP, options, backend) -> SolveResult.

Only the modules in this package import ``highspy``, ``pulp`` or ``ortools``. Backends are
loaded lazily; asking for a missing one raises an error listing what is available.
"""

from __future__ import annotations

import dataclasses
import logging
from types import ModuleType

import numpy as np

from ..errors import SolverBackendError
from ..milp import MILP
from .base import SolveOptions, SolveResult, Status, relative_gap

__all__ = [
    "BACKENDS",
    "SolveOptions",
    "SolveResult",
    "Status",
    "available_backends",
    "backend_version",
    "relative_gap",
    "solve",
]

log = logging.getLogger(__name__)

BACKENDS = ("highs", "cbc", "ortools")

#: Feature flags: what each backend reports or accepts.
FEATURES = {
    "highs": {"bound": True, "warm_start": True, "threads": True},
    "cbc": {"bound": True, "warm_start": True, "threads": True},
    "ortools": {"bound": True, "warm_start": True, "threads": True},
}


def _module(name: str) -> ModuleType:
    if name == "highs":
        from . import highs

        return highs
    if name == "cbc":
        from . import cbc

        return cbc
    if name == "ortools":
        from . import ortools_backend

        return ortools_backend
    raise SolverBackendError(
        f"solver.backend: unknown backend (got {name!r}); use one of {', '.join(BACKENDS)}"
    )


def available_backends() -> list[str]:
    return [b for b in BACKENDS if _module(b).available()]


def backend_version(name: str) -> str:
    return str(_module(name).version())


def solve(milp: MILP, options: SolveOptions | None = None, backend: str = "highs") -> SolveResult:
    """Solve ``milp`` with ``backend``; sanity-check the returned vector against the matrix."""
    options = options or SolveOptions()
    mod = _module(backend)
    if not mod.available():
        raise SolverBackendError(
            f"solver backend {backend!r} is not installed; available: "
            f"{', '.join(available_backends()) or 'none'}"
        )
    log.info(
        "Solving %s with %s: %s (time limit %.0f s, gap %.2g)",
        milp.name,
        backend,
        milp.summary(),
        options.time_limit_s,
        options.mip_rel_gap,
    )
    result: SolveResult = mod.solve(milp, options)
    if result.x is not None:
        x = result.x.copy()
        x[milp.integer] = np.round(x[milp.integer])
        worst, where = milp.max_violation(result.x)
        if worst > 1e-5:
            log.warning("%s returned a vector violating %s by %.3g", backend, where, worst)
        result = dataclasses.replace(result, x=x)
    log.info(
        "Solver %s: %s, objective %s, bound %s, %.2f s",
        backend,
        result.status.value,
        _fmt(result.objective),
        _fmt(result.bound),
        result.runtime_s,
    )
    return result


def _fmt(v: float | None) -> str:
    return "-" if v is None else f"{v:,.6g}"
