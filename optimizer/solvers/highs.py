"""HiGHS backend (default): the matrix is passed to HiGHS in one call, column-wise."""

from __future__ import annotations

import contextlib
import logging
import os
import time
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import numpy as np
import scipy.sparse as sp

from ..milp import MILP
from .base import SolveOptions, SolveResult, Status

log = logging.getLogger(__name__)

NAME = "highs"
_banner_shown = False


@contextlib.contextmanager
def _silence_stdout() -> Iterator[None]:
    """HiGHS prints a banner to the C-level stdout when the first instance is created."""
    try:
        fd = os.dup(1)
    except OSError:  # no stdout at all
        yield
        return
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), 1)
            try:
                yield
            finally:
                os.dup2(fd, 1)
    finally:
        os.close(fd)


def _new_highs() -> Any:
    global _banner_shown
    import highspy

    if _banner_shown:
        return highspy.Highs()
    with _silence_stdout():
        h = highspy.Highs()
    _banner_shown = True
    return h


def version() -> str:

    h = _new_highs()
    return f"{h.versionMajor()}.{h.versionMinor()}.{h.versionPatch()}"


def available() -> bool:
    try:
        import highspy  # noqa: F401
    except ImportError:
        return False
    return True


def lp_of(milp: MILP) -> Any:
    """The MILP as a ``highspy.HighsLp`` (column-wise matrix, integrality when any)."""
    import highspy

    lp = highspy.HighsLp()
    lp.num_col_ = milp.n_cols
    lp.num_row_ = milp.n_rows
    lp.col_cost_ = milp.c
    lp.col_lower_ = milp.col_lo
    lp.col_upper_ = milp.col_hi
    lp.row_lower_ = milp.row_lo
    lp.row_upper_ = milp.row_hi
    lp.offset_ = milp.c0
    lp.sense_ = highspy.ObjSense.kMaximize if milp.sense == "max" else highspy.ObjSense.kMinimize
    A = sp.csc_matrix(milp.A)
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.num_col_ = milp.n_cols
    lp.a_matrix_.num_row_ = milp.n_rows
    lp.a_matrix_.start_ = A.indptr.astype(np.int32)
    lp.a_matrix_.index_ = A.indices.astype(np.int32)
    lp.a_matrix_.value_ = A.data.astype(float)
    if milp.integer.any():
        lp.integrality_ = [
            highspy.HighsVarType.kInteger if f else highspy.HighsVarType.kContinuous
            for f in milp.integer
        ]
    return lp


def solve(milp: MILP, options: SolveOptions) -> SolveResult:
    """Solve with HiGHS. A warm-started run whose reported objective disagrees with the
    objective of its own vector (seen with HiGHS 1.16 on a lexicographic second stage: reported
    17.4e6, vector 18.0e6, true optimum 18.0e6) is solved again without the start."""
    res = _solve(milp, options)
    if options.warm_start is None or res.x is None or res.objective is None:
        return res
    value = float(milp.c @ res.x) + milp.c0
    if abs(value - res.objective) <= 1e-6 * (1.0 + abs(value)):
        return res
    log.warning(
        "HiGHS reported objective %.9g but its solution vector gives %.9g (warm start): "
        "solving %s again without the start",
        res.objective,
        value,
        milp.name,
    )
    return _solve(milp, replace(options, warm_start=None))


def _solve(milp: MILP, options: SolveOptions) -> SolveResult:
    import highspy

    t_load = time.perf_counter()
    h = _new_highs()
    ver = f"{h.versionMajor()}.{h.versionMinor()}.{h.versionPatch()}"
    h.setOptionValue("output_flag", bool(options.log))
    h.setOptionValue("log_to_console", bool(options.log))
    h.setOptionValue("time_limit", float(options.time_limit_s))
    h.setOptionValue("mip_rel_gap", float(options.mip_rel_gap))
    h.setOptionValue("random_seed", int(options.seed))
    h.setOptionValue("presolve", "on" if options.presolve else "off")
    if options.threads:
        # HiGHS fixes its thread pool at the first run in a process; later changes are ignored.
        h.setOptionValue("threads", int(options.threads))

    if milp.n_cols == 0:
        return SolveResult(Status.OPTIMAL, np.zeros(0), milp.c0, milp.c0, 0.0, NAME, ver)

    lp = lp_of(milp)
    is_mip = bool(milp.integer.any())
    status = h.passModel(lp)
    if status == highspy.HighsStatus.kError:
        return SolveResult(
            Status.ERROR, None, None, None, 0.0, NAME, ver, "HiGHS rejected the model"
        )
    if options.warm_start is not None and is_mip:
        sol = highspy.HighsSolution()
        sol.col_value = list(np.asarray(options.warm_start, dtype=float))
        sol.value_valid = True
        h.setSolution(sol)

    t0 = time.perf_counter()
    load_time = t0 - t_load
    h.run()
    runtime = time.perf_counter() - t0
    model_status = h.getModelStatus()
    info = h.getInfo()
    has_x = info.primal_solution_status == 2  # kSolutionStatusFeasible
    x = np.asarray(h.getSolution().col_value, dtype=float) if has_x else None
    obj = float(info.objective_function_value) if has_x else None
    if is_mip:
        bound = float(info.mip_dual_bound) if np.isfinite(info.mip_dual_bound) else None
    else:
        bound = obj if model_status == highspy.HighsModelStatus.kOptimal else None
    nodes = int(info.mip_node_count) if is_mip else 0

    S = highspy.HighsModelStatus
    if model_status == S.kOptimal:
        st = Status.OPTIMAL
    elif model_status == S.kInfeasible:
        st = Status.INFEASIBLE
    elif model_status in (S.kUnbounded,):
        st = Status.UNBOUNDED
    elif model_status == S.kUnboundedOrInfeasible:
        # Our models have bounded integer variables; HiGHS's presolve says this for infeasible ones.
        st = Status.INFEASIBLE
    elif model_status in (
        S.kTimeLimit,
        S.kIterationLimit,
        S.kSolutionLimit,
        S.kInterrupt,
        S.kObjectiveBound,
        S.kObjectiveTarget,
        S.kMemoryLimit,
        S.kUnknown,
    ):
        st = Status.FEASIBLE if has_x else Status.NO_SOLUTION
    else:
        st = Status.ERROR
    if st == Status.OPTIMAL and bound is None:
        bound = obj
    message = h.modelStatusToString(model_status)
    return SolveResult(st, x, obj, bound, runtime, NAME, ver, message, nodes, load_time)
