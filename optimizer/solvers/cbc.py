"""CBC backend through PuLP (``COIN_CMD`` with the ``cbcbox`` binary, or PuLP's bundled CBC).

PuLP does not report CBC's best bound, so it is read from CBC's own log (``Lower bound:`` /
``Objective value:`` lines of the final summary). With no bound line, an OPTIMAL status means the
bound equals the objective; a limit-stopped run without a bound line reports no bound.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from geodata.progress import Heartbeat

from ..errors import SolverBackendError
from ..milp import MILP
from .base import Feature, SolveOptions, SolveResult, Status

log = logging.getLogger(__name__)

NAME = "cbc"
FEATURES: frozenset[Feature] = frozenset({Feature.BOUND, Feature.WARM_START, Feature.THREADS})
"""What this backend supports (:func:`optimizer.solvers.supports`)."""


def _cbc_path() -> str | None:
    """The CBC executable: cbcbox's (beside this Python, or on PATH), else PuLP's bundled one."""
    here = Path(sys.executable).parent
    for candidate in (here / "cbc", here / "cbc.exe"):
        if candidate.exists():
            return str(candidate)
    found = shutil.which("cbc")
    if found:
        return found
    try:
        from pulp.apis.coin_api import PULP_CBC_CMD

        bundled = str(PULP_CBC_CMD.pulp_cbc_path)
        if os.path.exists(bundled) and os.access(bundled, os.X_OK):
            return bundled
    except ImportError:
        pass
    return None


def available() -> bool:
    try:
        import pulp  # noqa: F401
    except ImportError:
        return False
    return _cbc_path() is not None


def version() -> str:
    path = _cbc_path()
    if path is None:
        return "unavailable"
    try:
        out = subprocess.run(
            [path, "-quit"], capture_output=True, text=True, timeout=30, stdin=subprocess.DEVNULL
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    m = re.search(r"Version:\s*([\w.\-]+)", out) or re.search(
        r"CBC\s+(\S+(?:\s+\(git:\w+\))?)", out
    )
    text = m.group(1) if m else "unknown"
    try:
        from importlib.metadata import version as dist_version

        text += f" (cbcbox {dist_version('cbcbox')})"
    except Exception:  # cbcbox absent: PuLP's bundled binary
        pass
    return text


def _to_pulp(milp: MILP) -> tuple[Any, list[Any]]:
    import pulp

    prob = pulp.LpProblem(
        milp.name.replace(" ", "_") or "model",
        pulp.LpMaximize if milp.sense == "max" else pulp.LpMinimize,
    )

    def bound(v: float) -> float | None:
        return float(v) if np.isfinite(v) else None

    xs = [
        prob.add_variable(
            f"x{k}",
            lowBound=bound(milp.col_lo[k]),
            upBound=bound(milp.col_hi[k]),
            cat=pulp.LpInteger if milp.integer[k] else pulp.LpContinuous,
        )
        for k in range(milp.n_cols)
    ]
    nz = np.flatnonzero(milp.c)
    prob.setObjective(
        pulp.LpAffineExpression([(xs[k], float(milp.c[k])) for k in nz], constant=milp.c0)
    )
    A = milp.A.tocsr()
    for r in range(milp.n_rows):
        lo, hi = milp.row_lo[r], milp.row_hi[r]
        s, e = A.indptr[r], A.indptr[r + 1]
        terms = [(xs[j], float(v)) for j, v in zip(A.indices[s:e], A.data[s:e], strict=True)]
        expr = pulp.LpAffineExpression(terms)
        if np.isfinite(lo) and np.isfinite(hi) and lo == hi:
            prob.addConstraint(pulp.LpConstraint(expr, pulp.LpConstraintEQ, f"r{r}", float(lo)))
            continue
        if np.isfinite(lo):
            prob.addConstraint(pulp.LpConstraint(expr, pulp.LpConstraintGE, f"r{r}", float(lo)))
        if np.isfinite(hi):
            name = f"r{r}u" if np.isfinite(lo) else f"r{r}"
            prob.addConstraint(pulp.LpConstraint(expr, pulp.LpConstraintLE, name, float(hi)))
    return prob, xs


_NUM = r"([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)"


def _parse_log(text: str) -> dict[str, float | str]:
    found: dict[str, float | str] = {}
    m = re.search(r"Result - (.+)", text)
    if m:
        found["result"] = m.group(1).strip()
    for key, pat in (
        ("objective", rf"Objective value:\s*{_NUM}"),
        ("bound", rf"(?:Lower|Upper) bound:\s*{_NUM}"),
        ("nodes", rf"Enumerated nodes:\s*{_NUM}"),
    ):
        m = re.search(pat, text)
        if m:
            found[key] = float(m.group(1))
    return found


def solve(milp: MILP, options: SolveOptions) -> SolveResult:
    try:
        import pulp
    except ImportError as exc:  # pragma: no cover - dependency of the package
        raise SolverBackendError("PuLP is not installed: pip install 'pulp[cbc]'") from exc
    path = _cbc_path()
    if path is None:
        raise SolverBackendError(
            "CBC executable not found; install it with: pip install 'pulp[cbc]' (cbcbox)"
        )
    ver = version()
    if milp.n_cols == 0:
        return SolveResult(Status.OPTIMAL, np.zeros(0), milp.c0, milp.c0, 0.0, NAME, ver)
    t_build = time.perf_counter()
    prob, xs = _to_pulp(milp)
    log.debug("PuLP model built in %.2f s", time.perf_counter() - t_build)
    if options.warm_start is not None:
        for v, val in zip(xs, options.warm_start, strict=True):
            v.setInitialValue(float(round(val)) if v.cat == pulp.LpInteger else float(val))
    with tempfile.TemporaryDirectory(prefix="cbc-") as tmp:
        log_path = os.path.join(tmp, "cbc.log")
        extra = [f"randomCbcSeed {int(options.seed)}"] if options.seed else []
        if not options.presolve:
            extra.append("presolve off")
        solver = pulp.COIN_CMD(
            path=path,
            msg=False,
            timeLimit=float(options.time_limit_s),
            gapRel=float(options.mip_rel_gap),
            threads=int(options.threads) if options.threads else None,
            logPath=log_path,
            warmStart=options.warm_start is not None,
            options=extra,
        )
        cwd = os.getcwd()
        t0 = time.perf_counter()
        try:
            os.chdir(tmp)  # PuLP writes its temporary .mps/.sol files in the working folder
            with Heartbeat("CBC"):
                prob.solve(solver)
        except pulp.PulpSolverError as exc:
            return SolveResult(
                Status.ERROR, None, None, None, time.perf_counter() - t0, NAME, ver, str(exc)
            )
        finally:
            os.chdir(cwd)
        runtime = time.perf_counter() - t0
        text = Path(log_path).read_text(errors="replace") if os.path.exists(log_path) else ""
    if options.log:
        sys.stderr.write(text)
    parsed = _parse_log(text)
    result = str(parsed.get("result", ""))

    has_x = prob.sol_status in (pulp.LpSolutionOptimal, pulp.LpSolutionIntegerFeasible)
    x = np.array([v.varValue if v.varValue is not None else 0.0 for v in xs]) if has_x else None
    obj = milp.objective_value(x) if x is not None else None

    if prob.status == pulp.LpStatusOptimal and prob.sol_status == pulp.LpSolutionOptimal:
        st = Status.OPTIMAL
    elif prob.status == pulp.LpStatusInfeasible or "infeasible" in result.lower():
        st = Status.INFEASIBLE
    elif prob.status == pulp.LpStatusUnbounded:
        st = Status.UNBOUNDED
    elif has_x:
        st = Status.FEASIBLE
    elif prob.status == pulp.LpStatusNotSolved or "Stopped" in result:
        st = Status.NO_SOLUTION
    else:
        st = Status.ERROR

    bound: float | None = None
    if st == Status.OPTIMAL:
        bound = obj
    elif "bound" in parsed and "objective" in parsed and obj is not None:
        # CBC logs objective and bound without the constant PuLP keeps aside: shift both alike.
        offset = obj - float(parsed["objective"])
        bound = float(parsed["bound"]) + offset
        wrong_side = bound < obj - 1e-6 if milp.sense == "max" else bound > obj + 1e-6
        if wrong_side:
            log.warning("ignoring CBC's logged bound %.6g (wrong side of %.6g)", bound, obj)
            bound = None
    nodes = int(parsed["nodes"]) if "nodes" in parsed else None
    return SolveResult(st, x, obj, bound, runtime, NAME, ver, result, nodes)
