"""OR-Tools backend: the matrix is loaded in one call (``fill_model_from_sparse_data``) and
solved by an OR-Tools engine: SCIP (default), CP-SAT, CBC or HiGHS as compiled into OR-Tools."""

from __future__ import annotations

import logging
import time

import numpy as np

from geodata.progress import Heartbeat

from ..errors import SolverBackendError
from ..milp import MILP
from .base import Feature, SolveOptions, SolveResult, Status

log = logging.getLogger(__name__)

NAME = "ortools"
FEATURES: frozenset[Feature] = frozenset(
    {Feature.BOUND, Feature.WARM_START, Feature.THREADS, Feature.ENGINES}
)
"""What this backend supports (:func:`optimizer.solvers.supports`)."""

_ENGINES = {"SCIP": "scip", "CP-SAT": "sat", "CBC": "cbc", "HIGHS": "highs"}


def available() -> bool:
    try:
        from ortools.linear_solver.python import model_builder  # noqa: F401
    except ImportError:
        return False
    return True


def version() -> str:
    from importlib.metadata import version as dist_version

    return dist_version("ortools")


def _engine_params(engine: str, options: SolveOptions) -> str:
    gap = float(options.mip_rel_gap)
    threads = int(options.threads or 1)
    if engine == "SCIP":
        return f"limits/gap = {gap}\nrandomization/randomseedshift = {int(options.seed)}\n"
    if engine == "CP-SAT":
        return (
            f"relative_gap_limit:{gap}, num_workers:{max(threads, 1)}, "
            f"random_seed:{int(options.seed)}, log_search_progress:{str(options.log).lower()}"
        )
    if engine == "HIGHS":
        return f"mip_rel_gap={gap}\nrandom_seed={int(options.seed)}\n"
    return ""


def solve(milp: MILP, options: SolveOptions) -> SolveResult:
    from ortools.linear_solver.python import model_builder as mb

    engine = options.ortools_engine.upper()
    if engine not in _ENGINES:
        raise SolverBackendError(
            f"solver.ortools_engine: unknown engine (got {options.ortools_engine!r}); "
            f"use one of {', '.join(_ENGINES)}"
        )
    ver = f"{version()} ({engine})"
    if milp.n_cols == 0:
        return SolveResult(Status.OPTIMAL, np.zeros(0), milp.c0, milp.c0, 0.0, NAME, ver)
    model = mb.Model()
    helper = model.helper
    helper.fill_model_from_sparse_data(
        np.asarray(milp.col_lo, dtype=np.float64),  # type: ignore[arg-type]
        np.asarray(milp.col_hi, dtype=np.float64),  # type: ignore[arg-type]
        np.asarray(milp.c, dtype=np.float64),  # type: ignore[arg-type]
        np.asarray(milp.row_lo, dtype=np.float64),  # type: ignore[arg-type]
        np.asarray(milp.row_hi, dtype=np.float64),  # type: ignore[arg-type]
        milp.A.tocsr().astype(np.float64),
    )
    for k in np.flatnonzero(milp.integer).tolist():
        helper.set_var_integrality(k, True)
    helper.set_objective_offset(float(milp.c0))
    helper.set_maximize(milp.sense == "max")
    if options.warm_start is not None:
        for k, v in enumerate(options.warm_start):
            model.add_hint(model.var_from_index(k), float(v))

    solver = mb.Solver(_ENGINES[engine])
    if not solver.solver_is_supported():
        raise SolverBackendError(f"OR-Tools engine {engine} is not available in this build")
    solver.set_time_limit_in_seconds(float(options.time_limit_s))
    params = _engine_params(engine, options)
    if params:
        solver.set_solver_specific_parameters(params)
    solver.enable_output(bool(options.log))
    t0 = time.perf_counter()
    with Heartbeat("OR-Tools"):
        status = solver.solve(model)
    runtime = time.perf_counter() - t0
    S = mb.SolveStatus
    has_x = status in (S.OPTIMAL, S.FEASIBLE)
    x = np.asarray(solver.values(model.get_variables()), dtype=float) if has_x else None
    obj = float(solver.objective_value) if has_x else None
    try:
        bound: float | None = float(solver.best_objective_bound)
    except (RuntimeError, ValueError, TypeError):  # TypeError: pd.NA when there is no bound
        bound = None
    if bound is not None and not np.isfinite(bound):
        bound = None
    if status == S.OPTIMAL:
        st = Status.OPTIMAL
        if bound is None:
            bound = obj
    elif status == S.FEASIBLE:
        st = Status.FEASIBLE
    elif status == S.INFEASIBLE:
        st = Status.INFEASIBLE
    elif status == S.UNBOUNDED:
        st = Status.UNBOUNDED
    elif status == S.NOT_SOLVED:
        st = Status.NO_SOLUTION
    else:
        st = Status.ERROR
    return SolveResult(st, x, obj, bound, runtime, NAME, ver, solver.status_string or str(status))
