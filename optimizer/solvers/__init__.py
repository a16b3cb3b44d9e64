"""Solver backends behind one call: :func:`solve` (MILP, options, backend) -> SolveResult.

Only the modules in this package import ``highspy``, ``pulp``, ``ortools`` or ``pyscipopt``. Backends are
loaded lazily; asking for a missing one raises an error listing what is available.
"""

from __future__ import annotations

import logging
import time
from dataclasses import replace
from types import ModuleType

import numpy as np

from ..errors import SolverBackendError
from ..milp import MILP, split_blocks, sub_milp
from .base import Backend, Deadline, Feature, SolveOptions, SolveResult, Status, relative_gap
from .blocks import schedule_blocks

__all__ = [
    "BACKENDS",
    "Backend",
    "Deadline",
    "Feature",
    "SolveOptions",
    "SolveResult",
    "Status",
    "available_backends",
    "backend_version",
    "relative_gap",
    "solve",
    "solve_lexicographic",
    "supports",
]

log = logging.getLogger(__name__)

BACKENDS = tuple(b.value for b in Backend)


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
    if name == "scip":
        from . import scip

        return scip
    raise SolverBackendError(
        f"solver.backend: unknown backend (got {name!r}); use one of {', '.join(BACKENDS)}"
    )


def supports(backend: str, feature: Feature) -> bool:
    """Whether a backend declares a feature (its module's ``FEATURES``)."""
    return feature in _module(backend).FEATURES


def available_backends() -> list[str]:
    return [b for b in BACKENDS if _module(b).available()]


def backend_version(name: str) -> str:
    return str(_module(name).version())


def _solve_structured(
    milp: MILP, options: SolveOptions, backend: str, *, quiet: bool = False
) -> SolveResult:
    """:func:`_solve_whole`, or the search over the number of sites for an equal-cost PSCLP."""
    from .covering import (
        ROUTE_MAX_NONZEROS,
        detect_equal_cost_psclp,
        solve_equal_cost_psclp,
        solve_from_plan,
    )

    wanted = options.count_search or options.psclp_scip
    found = detect_equal_cost_psclp(milp) if wanted else None
    if found is None:
        return _solve_whole(milp, options, backend, quiet=quiet)
    if options.psclp_scip and backend in ("highs", "scip") and _module("scip").available():
        if milp.nnz > ROUTE_MAX_NONZEROS:
            log.info(
                "Solving %s (equal-cost partial covering: %d sites, %d demand groups, %s "
                "nonzeros, above the %s of the LP-and-plan route) in SCIP with pseudo-cost "
                "branching (solver.method: auto)",
                milp.name,
                found.y.size,
                found.z.size,
                f"{milp.nnz:,}",
                f"{ROUTE_MAX_NONZEROS:,}",
            )
            profile = replace(options, scip_profile="covering_search")
            return _solve_whole(milp, profile, "scip", quiet=True)
        log.info(
            "Solving %s (equal-cost partial covering: %d sites, %d demand groups) in SCIP with "
            "pseudo-cost branching, started from its LP bound and a heuristic plan "
            "(solver.method: auto; the fastest measured on such blocks)",
            milp.name,
            found.y.size,
            found.z.size,
        )
        return solve_from_plan(
            milp,
            found,
            options,
            relax=lambda m, o: _solve_whole(m, o, "highs", quiet=True),
            prove=lambda m, o: _solve_whole(
                m, replace(o, scip_profile="covering"), "scip", quiet=True
            ),
        )
    if not options.count_search:
        return _solve_whole(milp, options, backend, quiet=quiet)
    (log.debug if quiet else log.info)(
        "Solving %s (equal-cost partial covering, %d sites) as a search over the number of sites",
        milp.name,
        found.y.size,
    )
    result = solve_equal_cost_psclp(
        milp, found, options, lambda m, o: _solve_whole(m, o, backend, quiet=True)
    )
    worst, where = milp.max_violation(result.x) if result.x is not None else (0.0, "")
    if worst > 1e-5:
        log.warning("the site-count search returned a vector violating %s by %.3g", where, worst)
    return result


def _solve_whole(
    milp: MILP, options: SolveOptions, backend: str, *, quiet: bool = False
) -> SolveResult:
    from geodata.matrix import note_native_threads

    note_native_threads()  # solver thread pools: no fork of this process from now on
    mod = _module(backend)
    if not mod.available():
        raise SolverBackendError(
            f"solver backend {backend!r} is not installed; available: "
            f"{', '.join(available_backends()) or 'none'}"
        )
    (log.debug if quiet else log.info)(
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
        result = replace(result, x=x)
    return result


_ORDER = [
    Status.ERROR,
    Status.INFEASIBLE,
    Status.UNBOUNDED,
    Status.NO_SOLUTION,
    Status.FEASIBLE,
    Status.OPTIMAL,
]


def _merge(
    milp: MILP,
    blocks: list[tuple[np.ndarray, np.ndarray]],
    results: list[SolveResult],
    runtime: float,
    c0: float,
) -> SolveResult:
    """Combine block results: the worst status, summed objectives and bounds, one vector."""
    status = min((r.status for r in results), key=_ORDER.index)
    x = None
    if all(r.x is not None for r in results):
        x = np.zeros(milp.n_cols)
        for (cols, _), r in zip(blocks, results, strict=True):
            assert r.x is not None
            x[cols] = r.x
    objective = (
        c0 + sum(r.objective for r in results if r.objective is not None) if x is not None else None
    )
    bounds = [r.bound for r in results]
    bound = (
        c0 + sum(b for b in bounds if b is not None) if all(b is not None for b in bounds) else None
    )
    nodes = [r.node_count for r in results if r.node_count is not None]
    used = dict.fromkeys((r.solver, r.solver_version) for r in results)
    return SolveResult(
        status,
        x,
        objective,
        bound,
        runtime,
        " + ".join(name for name, _ in used),
        " + ".join(version for _, version in used),
        f"{len(results)} independent blocks: "
        + ", ".join(r.status.value for r in results[:8])
        + (" ..." if len(results) > 8 else ""),
        sum(nodes) if nodes else None,
    )


def _by_size(milp: MILP, blocks: list[tuple[np.ndarray, np.ndarray]]) -> list[int]:
    """Block order: smallest first, so quick blocks finish and leave their time to big ones."""
    nnz = [int(milp.A[rows].nnz) + cols.size for cols, rows in blocks]
    return sorted(range(len(blocks)), key=lambda k: (nnz[k], k))


def solve(
    milp: MILP,
    options: SolveOptions | None = None,
    backend: str = "highs",
    *,
    decompose: bool = True,
) -> SolveResult:
    """Solve ``milp`` with ``backend``, block by block when it splits into independent parts.

    A MILP whose rows and columns fall into independent blocks (e.g. clinics and ambulance
    stations that share no constraint) is solved one block at a time - exact, because the
    objective is separable - with the time limit shared across blocks: smallest first with a
    fair share each, then the blocks a limit stopped get the time the others left, warm
    started from their incumbents (:mod:`optimizer.solvers.blocks`).
    """
    options = options or SolveOptions()
    blocks = split_blocks(milp) if decompose and milp.n_cols else []
    if len(blocks) <= 1:
        result = _solve_structured(milp, options, backend)
    else:
        log.info("Solving %s as %d independent blocks (%s)", milp.name, len(blocks), milp.summary())
        t0 = time.perf_counter()
        subs = [
            sub_milp(milp, cols, rows, f"{milp.name}#{k}") for k, (cols, rows) in enumerate(blocks)
        ]
        warm = [
            None if options.warm_start is None else options.warm_start[cols] for cols, _ in blocks
        ]
        results = schedule_blocks(
            subs,
            _by_size(milp, blocks),
            options,
            warm,
            lambda sub, opts: _solve_structured(sub, opts, backend, quiet=True),
        )
        result = _merge(milp, blocks, results, time.perf_counter() - t0, milp.c0)
    log.info(
        "Solver %s: %s, objective %s, bound %s, %.2f s",
        result.solver,
        result.status.value,
        _fmt(result.objective),
        _fmt(result.bound),
        result.runtime_s,
    )
    return result


def solve_lexicographic(
    milp: MILP,
    second_c: np.ndarray,
    second_c0: float,
    options: SolveOptions | None = None,
    backend: str = "highs",
) -> tuple[SolveResult, SolveResult]:
    """Optimise ``milp``'s objective, then minimise ``second_c x + second_c0`` keeping it.

    Works block by block (both objectives are separable): each block's first-stage value is
    kept in its own second stage. Blocks without a first objective (pure feasibility, e.g.
    mandatory ambulance coverage) go straight to the second stage. The time limit is shared
    across all stages, and what a quick stage leaves goes to the stages a limit stopped
    (:mod:`optimizer.solvers.lexicographic`). Returns the merged results of both stages; the
    second stage's vector is the final plan.
    """
    from .lexicographic import lexicographic_blocks

    options = options or SolveOptions()
    blocks = split_blocks(milp) if milp.n_cols else [(np.arange(0), np.arange(0))]
    t0 = time.perf_counter()
    subs = [sub_milp(milp, cols, rows, f"{milp.name}#{k}") for k, (cols, rows) in enumerate(blocks)]
    costs = [np.asarray(second_c, dtype=float)[cols] for cols, _ in blocks]
    warm = [None if options.warm_start is None else options.warm_start[c] for c, _ in blocks]
    runs = lexicographic_blocks(
        subs,
        costs,
        _by_size(milp, blocks),
        options,
        warm,
        lambda m, o: _solve_structured(m, o, backend, quiet=True),
    )
    runtime = time.perf_counter() - t0
    stage1 = _merge(milp, blocks, [runs.finals[k] for k in range(len(blocks))], runtime, milp.c0)
    second_list = [runs.seconds[k] for k in range(len(blocks))]
    stage2 = _merge(milp, blocks, second_list, runtime, float(second_c0))
    log.info(
        "Lexicographic solve of %s in %d blocks: first %s (%s), second %s (%s), %.2f s",
        milp.name,
        len(blocks),
        stage1.status.value,
        _fmt(stage1.objective),
        stage2.status.value,
        _fmt(stage2.objective),
        runtime,
    )
    return stage1, stage2


def _fmt(v: float | None) -> str:
    return "-" if v is None else f"{v:,.6g}"
