"""SCIP backend through PySCIPOpt (a dependency; SCIP is bundled in its wheel).

The matrix reaches SCIP as an MPS file written by HiGHS's C++ writer (``highspy`` is a core
dependency) and read by SCIP's own reader: no Python loop over rows, so a 10^6-nonzero model
loads in about a second. Columns are named ``x<k>`` so the solution vector maps back by name.
"""

from __future__ import annotations

import logging
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..milp import MILP
from .base import Feature, SolveOptions, SolveResult, Status

log = logging.getLogger(__name__)

NAME = "scip"
FEATURES: frozenset[Feature] = frozenset({Feature.BOUND, Feature.WARM_START})
"""What this backend supports (:func:`optimizer.solvers.supports`): no thread count."""


@dataclass(frozen=True)
class Profile:
    """A named set of SCIP parameters (``SolveOptions.scip_profile``)."""

    params: dict[str, int | float | bool | str]
    heuristics_off: bool = False
    """SCIP's primal heuristics off (``setHeuristics(OFF)``): for solves started from a plan
    that is already good, where the search only has to prove the bound."""


PROFILES: dict[str, Profile] = {
    "covering": Profile(
        {
            "branching/pscost/priority": 100_000,
            "lp/pricing": "s",
            "lp/resolvealgorithm": "p",
            "separating/aggregation/freq": -1,
        },
        heuristics_off=True,
    ),
    "covering_search": Profile(
        {
            "branching/pscost/priority": 100_000,
            "heuristics/objpscostdiving/freq": -1,
            "separating/aggregation/freq": -1,
        }
    ),
}
"""Named SCIP parameter sets.

``covering`` - for an equal-cost partial set covering (a block of one share row, link rows
``z_g <= y(N_g)`` and unit site costs) started from a heuristic plan
(:func:`optimizer.solvers.covering.solve_from_plan`): branch on pseudo-costs instead of SCIP's
default reliability branching, price the dual simplex by steepest edge, re-solve node LPs by
primal simplex, primal heuristics and the aggregation separator off (0.24 s there for no cut). On the default case's clinic block (1,285 rows x 1,616
columns, 332 binary; optimum 40 sites, LP bound 38.18) started from a 40-site plan, mean (max)
over six variable orders (``randomization/permutationseed`` 1-6), idle machine: SCIP's
defaults but the branching, heuristics off 3.9 s (5.1 s); + steepest edge 2.9 s (3.9 s);
+ primal re-solves 2.5 s (3.4 s); primal re-solves without steepest edge 4.2 s (5.2 s); with
SCIP left to find the plan itself (heuristics on) 5.2 s (6.6 s). Reliability branching spent
12.8 of 17.2 s in strong branching there (152,760 LP iterations). HiGHS 1.16 on the same
block: 15-20 s, warm started or not.

``covering_search`` - the same kind of block too large for that route
(:data:`optimizer.solvers.covering.ROUTE_MAX_NONZEROS`), solved as it is: pseudo-cost branching,
the objective pseudo-cost diving heuristic and the aggregation separator off, SCIP's other
primal heuristics on to find the plan (the profile ``auto`` used for every such block before).
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
    if options.scip_profile:
        _apply(model, PROFILES[options.scip_profile])
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


def _apply(model: Any, profile: Profile) -> None:
    from pyscipopt import SCIP_PARAMSETTING

    if profile.heuristics_off:
        model.setHeuristics(SCIP_PARAMSETTING.OFF)
    for key, value in profile.params.items():
        model.setParam(key, value)


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
