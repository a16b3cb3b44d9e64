"""Resolve the solve settings of a run once: command line > case file > default.

Every path that solves a case (``run``, ``sweep``, ``batch``, ``staff``, the Python API) calls
:func:`resolve_solve_options` with what the caller overrides (:class:`SolveOverrides`) and the
case's ``solver`` section, and passes the resulting :class:`SolveSettings` down. What
``solution.json`` records under ``solver`` is these settings, so ``--time-limit 1`` is recorded as
1 s, not as the YAML's 600 s (the order of resolution follows geopandas' ``_check_engine``:
explicit argument, then configuration, then default).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .solvers import Backend, SolveOptions

__all__ = ["SolveOverrides", "SolveSettings", "resolve_solve_options"]


@dataclass(frozen=True)
class SolveOverrides:
    """What the command line (or an API call) overrides; None = take the case's value."""

    backend: str | None = None
    time_limit_s: float | None = None
    threads: int | None = None
    presolve: bool | None = None


@dataclass(frozen=True)
class SolveSettings:
    """The settings a run was solved with: the backend options plus the backend's name and the
    covering models' data reductions (which are case-level switches, not solver options)."""

    options: SolveOptions
    backend: Backend
    aggregate_demand: bool = True
    drop_dominated: bool = True
    method: str = "compact"

    def record(self) -> dict[str, Any]:
        """The ``solver`` block of ``solution.json``: what was actually used."""
        return {
            "time_limit_s": self.options.time_limit_s,
            "mip_rel_gap": self.options.mip_rel_gap,
            "threads": self.options.threads,
            "seed": self.options.seed,
        }


def resolve_solve_options(
    cli: SolveOverrides | None, solver: Any, *, default_presolve: bool = True
) -> SolveSettings:
    """CLI > case > default, for every field. ``solver`` is the case's ``solver`` section (a
    siting ``SolverConfig`` or a staffing ``StaffingSolverConfig``; fields it lacks take the
    :class:`SolveOptions` defaults). ``default_presolve`` is the family's choice when neither the
    command line nor the case says (staffing rotations tune it by model size)."""
    cli = cli or SolveOverrides()
    base = SolveOptions()

    def pick(name: str, override: Any, default: Any) -> Any:
        if override is not None:
            return override
        value = getattr(solver, name, None)
        return default if value is None else value

    options = SolveOptions(
        time_limit_s=float(pick("time_limit_s", cli.time_limit_s, base.time_limit_s)),
        mip_rel_gap=float(pick("mip_rel_gap", None, base.mip_rel_gap)),
        threads=cli.threads if cli.threads is not None else getattr(solver, "threads", None),
        seed=int(pick("seed", None, base.seed)),
        log=bool(pick("log", None, base.log)),
        ortools_engine=str(pick("ortools_engine", None, base.ortools_engine)),
        presolve=bool(pick("presolve", cli.presolve, default_presolve)),
    )
    return SolveSettings(
        options=options,
        backend=Backend(pick("backend", cli.backend, Backend.HIGHS.value)),
        aggregate_demand=bool(getattr(solver, "aggregate_demand", True)),
        drop_dominated=bool(getattr(solver, "drop_dominated", True)),
        method=str(getattr(solver, "method", "compact")),
    )
