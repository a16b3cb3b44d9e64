"""Two objectives in order, block by block, with the time the easy blocks leave going to hard ones.

:func:`lexicographic_blocks` optimises each independent block's first objective, then minimises
a second objective keeping the first at its value (both objectives are separable, so block by
block is exact). Time, like :mod:`optimizer.solvers.blocks` for one objective:

1. **First pass**: one queue of solves sharing the user's ``time_limit_s`` fairly (what is left
   divided by the solves still to run): feasibility blocks (no first objective: a single stage)
   first, then every first stage, then every second stage.
2. **Second pass** while time is left: every block whose first or second stage a limit stopped
   is solved again with a fair share of everything left, warm started from its incumbent. A
   first stage that finds a better plan or a tighter bound is combined with the first run
   (:func:`~optimizer.solvers.blocks.combine_runs`); when its value changed, the second stage
   is solved again under the new value (the old one kept a value that is no longer the best).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace

import numpy as np

from ..milp import MILP, lexicographic_stage
from .base import SolveOptions, SolveResult, Status
from .blocks import MIN_SHARE_S, Deadline, combine_runs, stopped_at_limit

__all__ = ["LexicographicRuns", "lexicographic_blocks"]

Runner = Callable[[MILP, SolveOptions], SolveResult]


@dataclass
class LexicographicRuns:
    """Per block: ``finals`` the first-stage result (zero objective for feasibility blocks) and
    ``seconds`` the second-stage result, whose vector is the block's plan."""

    finals: dict[int, SolveResult] = field(default_factory=dict)
    seconds: dict[int, SolveResult] = field(default_factory=dict)


def _feasibility_stage(sub: MILP, c2: np.ndarray) -> MILP:
    """A block without a first objective: only the second objective, minimised."""
    return replace(sub, name=sub.name + "-2", sense="min", c=c2, c0=0.0)


def _as_final(res: SolveResult) -> SolveResult:
    """A feasibility block's first-stage figure: 0 for a plan, proven when it has one."""
    return replace(
        res,
        objective=0.0 if res.x is not None else None,
        bound=0.0 if res.status.has_solution else None,
    )


def _second_stage(
    sub: MILP, first: SolveResult, c2: np.ndarray, options: SolveOptions, run: Runner
) -> SolveResult:
    """Minimise ``c2`` keeping ``sub``'s first objective at ``first``'s value (a relative
    slack of 1e-9); without a plan it falls back to ``first``'s plan, labelled not minimised."""
    if not first.status.has_solution or first.x is None or first.objective is None:
        return replace(first, objective=None, bound=None)
    slack = max(1e-9 * abs(first.objective), 1e-7)
    floor = first.objective - slack if sub.sense == "max" else first.objective + slack
    stage = lexicographic_stage(sub, floor=floor, c=c2, c0=0.0, sense="min", name=sub.name + "-2")
    res = run(stage, replace(options, warm_start=first.x))
    if res.x is None:  # keep the first-stage plan, honestly labelled as not minimised
        res = replace(
            res, x=first.x, status=Status.FEASIBLE, objective=float(c2 @ first.x), bound=None
        )
    return res


def _first_pass(
    subs: list[MILP],
    costs: list[np.ndarray],
    order: list[int],
    options: SolveOptions,
    warm: list[np.ndarray | None],
    run: Runner,
    deadline: Deadline,
) -> tuple[LexicographicRuns, dict[int, SolveResult]]:
    """Every stage once, in one queue with fair shares; returns the runs and the first stages."""
    feasibility = [k for k in order if not np.any(subs[k].c)]
    ranked = [k for k in order if np.any(subs[k].c)]
    solves_left = len(feasibility) + 2 * len(ranked)
    out = LexicographicRuns()
    firsts: dict[int, SolveResult] = {}
    for k in feasibility:
        opts = replace(options, time_limit_s=deadline.share(solves_left), warm_start=None)
        out.seconds[k] = run(_feasibility_stage(subs[k], costs[k]), opts)
        out.finals[k] = _as_final(out.seconds[k])
        solves_left -= 1
    for k in ranked:
        opts = replace(options, time_limit_s=deadline.share(solves_left), warm_start=warm[k])
        firsts[k] = run(subs[k], opts)
        solves_left -= 1
    for k in ranked:
        opts = replace(options, time_limit_s=deadline.share(solves_left))
        out.finals[k] = firsts[k]
        out.seconds[k] = _second_stage(subs[k], firsts[k], costs[k], opts, run)
        solves_left -= 1
    return out, firsts


def _again(
    k: int,
    sub: MILP,
    c2: np.ndarray,
    runs: LexicographicRuns,
    firsts: dict[int, SolveResult],
    options: SolveOptions,
    run: Runner,
) -> None:
    """Block ``k``'s second-pass solves within ``options.time_limit_s`` (see the module)."""
    gap = options.mip_rel_gap
    clock = Deadline(options.time_limit_s)
    if k not in firsts:  # feasibility block
        old = runs.seconds[k]
        res = run(_feasibility_stage(sub, c2), replace(options, warm_start=old.x))
        runs.seconds[k] = combine_runs("min", old, res, gap)
        runs.finals[k] = _as_final(runs.seconds[k])
        return
    first = firsts[k]
    if stopped_at_limit(first):
        half = replace(options, time_limit_s=options.time_limit_s / 2, warm_start=first.x)
        firsts[k] = runs.finals[k] = combine_runs(sub.sense, first, run(sub, half), gap)
        if firsts[k].objective != first.objective:  # a new value: the old second stage is void
            left = replace(options, time_limit_s=max(clock.left(), MIN_SHARE_S))
            runs.seconds[k] = _second_stage(sub, firsts[k], c2, left, run)
            return
    old = runs.seconds[k]
    if stopped_at_limit(old) and old.x is not None and firsts[k].objective is not None:
        left = replace(options, time_limit_s=max(clock.left(), MIN_SHARE_S))
        res = _second_stage(sub, replace(firsts[k], x=old.x), c2, left, run)
        runs.seconds[k] = combine_runs("min", old, res, gap)


def lexicographic_blocks(
    subs: list[MILP],
    costs: list[np.ndarray],
    order: list[int],
    options: SolveOptions,
    warm: list[np.ndarray | None],
    run: Runner,
) -> LexicographicRuns:
    """Both stages of every block of ``subs`` (in ``order``) within ``options.time_limit_s``.

    ``costs[k]`` is the second objective on block ``k``'s columns, ``warm[k]`` its starting
    plan or None, ``run(milp, options)`` solves one MILP. See the module docstring.
    """
    deadline = Deadline(options.time_limit_s)
    runs, firsts = _first_pass(subs, costs, order, options, warm, run, deadline)
    again = [
        k
        for k in order
        if stopped_at_limit(runs.seconds[k]) or (k in firsts and stopped_at_limit(firsts[k]))
    ]
    for done, k in enumerate(again):
        if deadline.left() < MIN_SHARE_S:
            break
        opts = replace(options, time_limit_s=deadline.share(len(again) - done))
        _again(k, subs[k], costs[k], runs, firsts, opts, run)
    return runs
