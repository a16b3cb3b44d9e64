"""Time for independent blocks: the easy blocks' unused seconds go to the hard one.

A MILP that splits into independent blocks (clinics and ambulance stations sharing no row) is
solved block by block; the objective is separable, so the sum of the block optima is the
optimum. The user's ``time_limit_s`` covers all blocks together:

1. **First pass**, smallest block first, each with a fair share of the time left (what is left
   divided by the blocks still to run), so a quick block hands its unused time to the next.
2. **Second pass** while time is left: every block that stopped at its share (a limit, not a
   proof) is solved again with the whole time left (shared fairly if several stopped), warm
   started from its incumbent. Its bound is the better of both runs' bounds, and its plan the
   better of both plans; it counts as optimal only when those meet within the requested gap.

The total never exceeds the user's limit by more than the last solve's own overshoot, and
that limit is what solution.json records.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import replace

import numpy as np

from ..milp import MILP
from .base import SolveOptions, SolveResult, Status, relative_gap

__all__ = ["Deadline", "combine_runs", "schedule_blocks", "stopped_at_limit"]

MIN_SHARE_S = 0.1
"""The shortest time a block solve is given (a solver needs a moment to return anything)."""


class Deadline:
    """The user's time limit as a point in time: seconds left, and a fair share of them."""

    def __init__(self, limit_s: float) -> None:
        self.limit_s = float(limit_s)
        self.t0 = time.perf_counter()

    def elapsed(self) -> float:
        return time.perf_counter() - self.t0

    def left(self) -> float:
        return self.limit_s - self.elapsed()

    def share(self, solves_left: int) -> float:
        """What is left divided by the solves still to run (at least :data:`MIN_SHARE_S`)."""
        return max(self.left() / max(solves_left, 1), MIN_SHARE_S)


def stopped_at_limit(result: SolveResult) -> bool:
    """A block that a limit stopped before its proof (worth more time), not a proven answer."""
    return result.status in (Status.FEASIBLE, Status.NO_SOLUTION)


def combine_runs(
    sense: str, first: SolveResult, second: SolveResult, gap_target: float
) -> SolveResult:
    """Two runs of the same block: the better plan, the better bound, optimal when they meet.

    Both bounds are valid for the block, so the tighter one is kept (the larger lower bound of a
    minimisation, the smaller upper bound of a maximisation). The block is ``OPTIMAL`` only when
    a run proved it or the kept plan and bound meet within ``gap_target``.
    """
    if second.status in (Status.OPTIMAL, Status.INFEASIBLE, Status.UNBOUNDED, Status.ERROR):
        return replace(second, runtime_s=first.runtime_s + second.runtime_s)
    runs = [r for r in (first, second) if r.x is not None and r.objective is not None]
    best = first
    if runs:
        pick = max if sense == "max" else min
        best = pick(runs, key=lambda r: float(r.objective or 0.0))
    bounds = [r.bound for r in (first, second) if r.bound is not None]
    bound = None
    if bounds:
        bound = min(bounds) if sense == "max" else max(bounds)
    status = best.status if best.x is not None else Status.NO_SOLUTION
    met = best.objective is not None and bound is not None
    if met and relative_gap(float(best.objective), float(bound)) <= gap_target:  # type: ignore[arg-type]
        status = Status.OPTIMAL
    nodes = [r.node_count for r in (first, second) if r.node_count is not None]
    return replace(
        best,
        status=status,
        bound=bound,
        runtime_s=first.runtime_s + second.runtime_s,
        node_count=sum(nodes) if nodes else None,
        message=f"{best.message} (re-solved with the time other blocks left)",
    )


def schedule_blocks(
    subs: list[MILP],
    order: list[int],
    options: SolveOptions,
    warm: list[np.ndarray | None],
    run: Callable[[MILP, SolveOptions], SolveResult],
) -> list[SolveResult]:
    """Solve every block of ``subs`` (in ``order``) within ``options.time_limit_s`` in total.

    ``run(milp, options)`` solves one block; ``warm[k]`` is block ``k``'s starting plan or None.
    Returns one result per block, in block order. See the module docstring for the two passes.
    """
    deadline = Deadline(options.time_limit_s)
    found: dict[int, SolveResult] = {}
    for done, k in enumerate(order):
        opts = replace(options, time_limit_s=deadline.share(len(order) - done), warm_start=warm[k])
        found[k] = run(subs[k], opts)
    again = [k for k in order if stopped_at_limit(found[k])]
    for done, k in enumerate(again):
        if deadline.left() < MIN_SHARE_S:
            break
        first = found[k]
        start = first.x if first.x is not None else warm[k]
        opts = replace(options, time_limit_s=deadline.share(len(again) - done), warm_start=start)
        found[k] = combine_runs(subs[k].sense, first, run(subs[k], opts), options.mip_rel_gap)
    return [found[k] for k in range(len(subs))]
