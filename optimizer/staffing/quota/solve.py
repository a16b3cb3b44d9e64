"""Solve the 编制 quota MILP in two stages, certify the plan on the raw data, diagnose infeasibility."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field

import numpy as np

from ...diagnosis import diagnose
from ...errors import CheckError
from ...milp import MILP
from ...solvers import Deadline, SolveOptions, SolveResult, Status, relative_gap, solve
from .build import _layout, build_quota_milp
from .evaluate import QuotaEvaluation, evaluate_quota_plan
from .hires import HiresSolution, hires_instance, solve_hires
from .problem import (
    QuotaInstance,
    composition_norm,
    facility_bounds,
    frac,
    gp_required,
    precheck_quota,
)

log = logging.getLogger(__name__)


@dataclass(frozen=True, eq=False)
class QuotaSolution:
    instance: QuotaInstance
    status: Status
    evaluation: QuotaEvaluation | None = None
    shortfall: float | None = None
    """Primary objective (weighted shortfall), recomputed on the raw data."""
    bound: float | None = None
    gap: float | None = None
    movement: float | None = None
    """Secondary objective (posts moved from today), recomputed on the raw data."""
    movement_bound: float | None = None
    movement_gap: float | None = None
    runtime_s: float = 0.0
    total_time_s: float = 0.0
    solver: str = ""
    solver_version: str = ""
    message: str = ""
    model_size: dict[str, int] = field(default_factory=dict)
    diagnosis: list[str] = field(default_factory=list)
    checked: bool = False
    hires: HiresSolution | None = None
    """The reserved-hires plan on the quota plan's vacancies (when the case asks for it)."""

    @property
    def posts(self) -> np.ndarray | None:
        return None if self.evaluation is None else self.evaluation.posts


def _tolerance(milp: MILP) -> float:
    return 1e-6 * (float(np.abs(milp.c).sum()) + abs(milp.c0)) + 1e-6


def _stage2_start(m1: MILP, m2: MILP, x1: np.ndarray) -> np.ndarray:
    """The stage-1 plan as a feasible start of stage 2 (same posts and shortfall)."""
    x2 = np.zeros(m2.n_cols)
    for name in ("s", "shortfall"):
        x2[m2.var_blocks[name].slice] = x1[m1.var_blocks[name].slice]
    s = x1[m1.var_blocks["s"].slice]
    cur = m2.row_lo[m2.row_blocks["movement"].slice]
    x2[m2.var_blocks["move_up"].slice] = np.maximum(s - cur, 0.0)
    x2[m2.var_blocks["move_down"].slice] = np.maximum(cur - s, 0.0)
    return x2


def _decode(inst: QuotaInstance, milp: MILP, x: np.ndarray) -> np.ndarray:
    lay = _layout(inst)
    posts = np.zeros((inst.n_facilities, len(inst.categories)), dtype=np.int64)
    posts[lay.pairs[:, 0], lay.pairs[:, 1]] = np.round(x[milp.var_blocks["s"].slice]).astype(
        np.int64
    )
    return posts


def solve_quota(
    inst: QuotaInstance, options: SolveOptions | None = None, *, backend: str = "highs"
) -> QuotaSolution:
    """Prechecks, stage 1 (shortfall), stage 2 (movement), decode and certify on the raw data."""
    options = options or SolveOptions()
    t_start = time.perf_counter()
    reasons = precheck_quota(inst)
    if reasons:
        log.warning("Quota case is infeasible before solving: %d conflicts", len(reasons))
        return QuotaSolution(
            inst,
            Status.INFEASIBLE,
            diagnosis=reasons,
            total_time_s=time.perf_counter() - t_start,
            message="infeasible: found before solving",
        )
    m1 = build_quota_milp(inst, stage=1)
    r1 = solve(m1, options, backend)
    size = m1.size()
    common = {
        "solver": r1.solver,
        "solver_version": r1.solver_version,
        "model_size": size,
    }
    if not r1.status.has_solution or r1.x is None:
        diagnosis = diagnose_quota(inst, options, backend) if r1.status == Status.INFEASIBLE else []
        return QuotaSolution(
            inst,
            r1.status,
            bound=r1.bound,
            runtime_s=r1.runtime_s,
            total_time_s=time.perf_counter() - t_start,
            message=r1.message,
            diagnosis=diagnosis,
            **common,  # type: ignore[arg-type]
        )
    ev1, bound, tol1 = _certify_stage1(inst, m1, r1)
    status, runtime, message = r1.status, r1.runtime_s, r1.message
    ev, mv_bound = ev1, None
    if inst.movement == "lexicographic":
        ev, mv_bound, status, message, rt2 = _stage2(
            inst, m1, r1, ev1, tol1, options, backend, t_start
        )
        runtime += rt2
    if status == Status.OPTIMAL and bound is None:
        bound = ev.shortfall
    gap = relative_gap(ev.shortfall, bound) if bound is not None else None
    if status == Status.OPTIMAL and mv_bound is None and inst.movement == "lexicographic":
        mv_bound = ev.movement
    mv_gap = relative_gap(ev.movement, mv_bound) if mv_bound is not None else None
    log.info(
        "Checked quota plan on raw data: %s posts, shortfall %s, movement %s, gap %s",
        f"{int(ev.posts.sum()):,}",
        f"{ev.shortfall:,.6g}",
        f"{ev.movement:,.0f}",
        "-" if gap is None else f"{100 * gap:.4f}%",
    )
    return QuotaSolution(
        inst,
        status,
        evaluation=ev,
        shortfall=ev.shortfall,
        bound=bound,
        gap=gap,
        movement=ev.movement,
        movement_bound=mv_bound,
        movement_gap=mv_gap,
        runtime_s=runtime,
        total_time_s=time.perf_counter() - t_start,
        message=message,
        checked=True,
        hires=_reserved_hires(inst, ev.posts, options, backend, t_start),
        **common,  # type: ignore[arg-type]
    )


def _reserved_hires(
    inst: QuotaInstance, posts: np.ndarray, options: SolveOptions, backend: str, t_start: float
) -> HiresSolution | None:
    """Reserved hires on the plan's vacancies, in the time left (None: not asked for)."""
    if inst.hires is None:
        return None
    deadline = Deadline(options.time_limit_s, start=t_start)
    return solve_hires(
        hires_instance(inst, posts), deadline.options_for(options, warm_start=None), backend
    )


def _certify_stage1(
    inst: QuotaInstance, m1: MILP, r1: SolveResult
) -> tuple[QuotaEvaluation, float | None, float]:
    """The stage-1 plan recomputed on the raw data: (evaluation, bound in staff, tolerance).

    Raises :class:`CheckError` on a norm violation, an objective mismatch or a bound on the
    wrong side of the raw shortfall.
    """
    assert r1.x is not None
    ev1 = evaluate_quota_plan(inst, _decode(inst, m1, r1.x))
    scale = _layout(inst).objective_scale
    z1 = float(r1.objective) if r1.objective is not None else m1.objective_value(r1.x)
    z1 /= scale
    tol1 = _tolerance(m1) / scale
    violations = list(ev1.violations)
    mismatch = abs(ev1.shortfall - z1) > tol1
    if (r1.status == Status.OPTIMAL and mismatch) or ev1.shortfall > z1 + tol1:
        violations.append(
            f"objective mismatch: solver reports shortfall {z1:,.6f}, raw data gives {ev1.shortfall:,.6f}"
        )
    bound = None if r1.bound is None else r1.bound / scale
    if bound is not None and ev1.shortfall < bound - tol1:
        violations.append(
            f"bound {bound:,.6f} is not a valid bound for the raw shortfall {ev1.shortfall:,.6f}"
        )
    if violations:
        raise CheckError(violations)
    return ev1, bound, tol1


def _stage2(
    inst: QuotaInstance,
    m1: MILP,
    r1: SolveResult,
    ev1: QuotaEvaluation,
    tol1: float,
    options: SolveOptions,
    backend: str,
    t_start: float,
) -> tuple[QuotaEvaluation, float | None, Status, str, float]:
    """Stage 2 (fewest posts moved) under the stage-1 optimum, certified on the raw data.

    Returns (evaluation, movement bound, status, message, stage-2 runtime); keeps the stage-1
    plan (status at best FEASIBLE) when stage 2 finds none.
    """
    assert r1.x is not None
    scale = _layout(inst).objective_scale
    status = r1.status
    if scale > 1 or _layout(inst).integral:
        # Integer objective: the cap is the stage-1 optimum itself, exactly.
        cap_model = float(round(ev1.shortfall * scale))
        cap = cap_model / scale
    else:
        cap = ev1.shortfall + 1e-6 * max(1.0, abs(ev1.shortfall))
        cap_model = cap
    m2 = build_quota_milp(inst, stage=2, stage1_cap=cap_model)
    deadline = Deadline(options.time_limit_s, start=t_start)
    opts2 = deadline.options_for(options, warm_start=_stage2_start(m1, m2, r1.x))
    r2 = solve(m2, opts2, backend)
    if not (r2.status.has_solution and r2.x is not None):
        log.warning(
            "Stage 2 (movement) found no plan (%s): keeping the stage-1 plan", r2.status.value
        )
        message = f"stage 1: {r1.message}; stage 2: {r2.status.value}"
        status = Status.FEASIBLE if status == Status.OPTIMAL else status
        return ev1, None, status, message, r2.runtime_s
    ev2 = evaluate_quota_plan(inst, _decode(inst, m2, r2.x))
    z2 = float(r2.objective) if r2.objective is not None else m2.objective_value(r2.x)
    tol2 = _tolerance(m2)
    v2 = list(ev2.violations)
    if ev2.shortfall > cap + tol1:
        v2.append(
            f"stage 2 lost the stage-1 optimum: shortfall {ev2.shortfall:,.6f} > {ev1.shortfall:,.6f}"
        )
    if (r2.status == Status.OPTIMAL and abs(ev2.movement - z2) > tol2) or (
        ev2.movement > z2 + tol2
    ):
        v2.append(
            f"objective mismatch: solver reports movement {z2:,.6f}, raw data gives {ev2.movement:,.6f}"
        )
    if r2.bound is not None and ev2.movement < r2.bound - tol2:
        v2.append(
            f"bound {r2.bound:,.6f} is not a valid bound for the raw movement {ev2.movement:,.6f}"
        )
    if v2:
        raise CheckError(v2)
    if r2.status == Status.FEASIBLE:
        status = Status.FEASIBLE
    message = f"stage 1: {r1.message}; stage 2: {r2.message}"
    return ev2, r2.bound, status, message, r2.runtime_s


def diagnose_quota(inst: QuotaInstance, options: SolveOptions, backend: str) -> list[str]:
    """After a proven infeasibility: the least relaxation of the norms, named, with numbers."""
    milp = build_quota_milp(inst, elastic=True)

    def explain(row: str, vals: np.ndarray, hit: np.ndarray) -> list[str]:
        return _explain(inst, milp, row, vals, hit)

    return diagnose(
        milp,
        options,
        backend,
        explain,
        head="The norms conflict. The least total relaxation (in posts) that makes a plan exist:",
        subject="norms",
        nothing="- (no norm needs relaxing; check numerical scaling of the case)",
    )


def _explain(
    inst: QuotaInstance,
    milp: MILP,
    row: str,
    vals: np.ndarray,
    hit: np.ndarray,
) -> list[str]:
    """The lines naming one relaxed row block (``hit``: its rows with a slack, ``vals``)."""
    bounds = facility_bounds(inst)
    lay = _layout(inst)
    out: list[str] = []
    if row in ("per_mille_min", "per_mille_max"):
        facs = np.flatnonzero([bd.norm is not None for bd in bounds])[hit]
        for k, f in zip(hit, facs, strict=True):
            bd = bounds[f]
            text = bd.lo_text if row == "per_mille_min" else bd.hi_text
            side = "minimum" if row == "per_mille_min" else "ceiling"
            out.append(
                f"- norm per_mille[{inst.types[f]}] {side} at {inst.label(int(f))} "
                f"({text} posts) gives way by {vals[k]:,.0f}"
            )
    elif row in ("professional_min_share", "public_health_min_share") or row.startswith("shares["):
        labels = milp.labels.get(row, [])
        norm = composition_norm(inst, row)
        q = frac(norm.value).denominator
        items = [f"{labels[k]} by {vals[k] / q:,.1f} posts" for k in hit if k < len(labels)]
        out.append(f"- norm {row} ({100 * norm.value:g}%) gives way at " + "; ".join(items[:15]))
    elif row == "gp_per_10k":
        g_req = gp_required(inst)
        out.append(
            f"- norm gp_per_10k: {g_req:,} GP posts needed ({inst.norms.gp_per_10k.per_10k:g} "
            f"per 10,000 × {inst.county_population:,.0f}); only {g_req - vals[0]:,.0f} fit"
        )
    elif row == "pool":
        total = inst.norms.pool.total or 0
        out.append(
            f"- norm pool: the other norms need {total + vals[0]:,.0f} posts but the county "
            f"pool is {total:,} (short by {vals[0]:,.0f})"
        )
    elif row == "current":
        pairs = lay.pairs[hit]
        items = [
            f"{inst.facility_ids[f]}/{inst.categories[c].name} by {vals[k]:,.0f}"
            for k, (f, c) in zip(hit, pairs, strict=True)
        ]
        out.append(
            "- norm cuts (no layoffs): current staff must be cut at " + "; ".join(items[:15])
        )
    return out
