"""SCIP backend through PySCIPOpt (a dependency; SCIP is bundled in its wheel).

The matrix reaches SCIP as an MPS file written by HiGHS's C++ writer (``highspy`` is a core
dependency) and read by SCIP's own reader: no Python loop over rows, so a 10^6-nonzero model
loads in about a second. Columns are named ``x<k>`` so the solution vector maps back by name.
"""

from __future__ import annotations

import logging
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from ..milp import MILP
from .base import Feature, SolveOptions, SolveResult, Status

log = logging.getLogger(__name__)

NAME = "scip"
FEATURES: frozenset[Feature] = frozenset({Feature.BOUND, Feature.WARM_START})
"""What this backend supports (:func:`optimizer.solvers.supports`): no thread count."""


PROFILES: dict[str, dict[str, int | float | bool | str]] = {
    "covering": {
        "branching/pscost/priority": 100_000,
        "heuristics/objpscostdiving/freq": -1,
        "separating/aggregation/freq": -1,
    },
}
"""Named SCIP parameter sets (``SolveOptions.scip_profile``).

``covering`` - for an equal-cost partial set covering (a block of one share row, link rows
``z_g <= y(N_g)`` and unit site costs): branch on pseudo-costs instead of SCIP's default
reliability branching, skip the objective pseudo-cost diving heuristic and the aggregation
separator. On the default case's clinic block (1,285 rows x 1,616 columns, 332 binary; optimum
40 sites, LP bound 38.18) the default spends 12.8 of 17.2 s in strong branching (152,760 LP
iterations); pseudo-cost branching proves the optimum in 80-90 nodes, 3.8-4.1 s over random
seeds 0-3 once the diving heuristic (1.8 s there) is dropped (load 1.3-1.6); the aggregation
separator spent 0.26 s there for no cut (4.4 -> 4.2 CPU seconds at load 6). HiGHS 1.16 on the
same block: 16-17 s, 63 nodes.
"""


def available() -> bool:
    try:
        import pyscipopt  # noqa: F401
    except ImportError:
        return False
    return True


def version() -> str:
    import pyscipopt

    return str(pyscipopt.Model().version())


def _write_mps(milp: MILP, path: Path) -> None:
    """The MILP as a free-format MPS file, written by HiGHS (objective sense and offset kept)."""
    import highspy

    from .highs import _new_highs, lp_of

    h = _new_highs()
    h.setOptionValue("output_flag", False)
    lp = lp_of(milp)
    lp.col_names_ = [f"x{k}" for k in range(milp.n_cols)]
    lp.row_names_ = [f"r{k}" for k in range(milp.n_rows)]
    h.passModel(lp)
    if h.writeModel(str(path)) == highspy.HighsStatus.kError:
        raise RuntimeError(f"HiGHS could not write {milp.name} as MPS")


def _status(model: Any, has_x: bool) -> Status:
    st = model.getStatus()
    if st == "optimal":
        return Status.OPTIMAL
    if st in ("infeasible", "inforunbd"):
        return Status.INFEASIBLE
    if st == "unbounded":
        return Status.UNBOUNDED
    if st in (
        "timelimit",
        "nodelimit",
        "totalnodelimit",
        "stallnodelimit",
        "gaplimit",
        "memlimit",
        "sollimit",
        "bestsollimit",
        "restartlimit",
        "userinterrupt",
    ):
        if st == "gaplimit" and has_x:
            return Status.OPTIMAL  # stopped at the requested relative gap
        return Status.FEASIBLE if has_x else Status.NO_SOLUTION
    return Status.ERROR


def solve(milp: MILP, options: SolveOptions) -> SolveResult:
    from pyscipopt import Model

    t_load = time.perf_counter()
    model = Model()
    ver = str(model.version())
    if milp.n_cols == 0:
        return SolveResult(Status.OPTIMAL, np.zeros(0), milp.c0, milp.c0, 0.0, NAME, ver)
    if not options.log:
        model.hideOutput()
    with tempfile.TemporaryDirectory(prefix="scip-") as tmp:
        path = Path(tmp) / "model.mps"
        _write_mps(milp, path)
        model.readProblem(str(path))
    model.setParam("limits/time", max(float(options.time_limit_s), 0.01))
    model.setParam("limits/gap", float(options.mip_rel_gap))
    model.setParam("randomization/randomseedshift", int(options.seed))
    if not options.presolve:
        model.setParam("presolving/maxrounds", 0)
    profile = PROFILES[options.scip_profile] if options.scip_profile else {}
    for key, value in profile.items():
        model.setParam(key, value)
    # SCIP lists variables by type (binaries first): put them back in column order by name
    xs = sorted(model.getVars(), key=lambda v: int(v.name[1:]))
    if len(xs) != milp.n_cols:
        raise RuntimeError(f"SCIP read {len(xs)} columns of {milp.name}, expected {milp.n_cols}")
    if options.warm_start is not None:
        sol = model.createSol()
        for var, value in zip(xs, np.asarray(options.warm_start, dtype=float), strict=True):
            model.setSolVal(sol, var, float(value))
        model.addSol(sol, free=True)
    t0 = time.perf_counter()
    _optimize_interruptible(model)
    runtime = time.perf_counter() - t0
    has_x = model.getNSols() > 0
    x = None
    obj = None
    if has_x:
        best = model.getBestSol()
        x = np.array([model.getSolVal(best, v) for v in xs], dtype=float)
        obj = float(model.getSolObjVal(best))
    st = _status(model, has_x)
    bound = float(model.getDualbound()) if st in (Status.OPTIMAL, Status.FEASIBLE) else None
    if bound is not None and not np.isfinite(bound):
        bound = None
    if st == Status.OPTIMAL and bound is None:
        bound = obj
    nodes = int(model.getNTotalNodes())
    return SolveResult(
        st, x, obj, bound, runtime, NAME, ver, str(model.getStatus()), nodes, t0 - t_load
    )


_RUNNING: set[Any] = set()  # SCIP models solving now (any thread), for cancel_running()


def cancel_running() -> int:
    """Ask every SCIP solve of this process to stop (from a signal handler); return how many."""
    running = list(_RUNNING)
    for model in running:
        model.interruptSolve()
    return len(running)


def _optimize_interruptible(model: Any) -> None:
    """``model.optimize()``, stoppable at once by Ctrl-C or SIGTERM, as the HiGHS backend's
    solve: SCIP leaves SIGINT to Python (``misc/catchctrlc`` off) and solves without the GIL in
    a worker thread while the main thread waits, so the CLI's signal handler runs at once; it
    interrupts the solve and the exception it raises ends the run (nothing is published). In
    other threads the CLI's handler interrupts the solve through :func:`cancel_running`."""
    import threading

    model.setParam("misc/catchctrlc", False)
    _RUNNING.add(model)
    try:
        if threading.current_thread() is not threading.main_thread():
            model.optimizeNogil()
            return
        failed: list[BaseException] = []

        def work() -> None:
            try:
                model.optimizeNogil()
            except BaseException as exc:  # handed to the caller below
                failed.append(exc)

        worker = threading.Thread(target=work, name="scip", daemon=True)
        worker.start()
        try:
            while worker.is_alive():
                worker.join(0.2)
        except BaseException:
            model.interruptSolve()
            worker.join(2.0)  # SCIP stops at its next check; a daemon thread, it ends with us
            raise
        if failed:
            raise failed[0]
    finally:
        _RUNNING.discard(model)
