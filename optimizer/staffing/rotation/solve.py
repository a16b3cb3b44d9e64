"""Solve the sent-down MILP, name the doctors, certify on the raw data, diagnose infeasibility."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, replace

import numpy as np

from ...certificate import Certificate
from ...errors import CheckError
from ...milp import MILP
from ...solvers import SolveOptions, Status, relative_gap, solve
from .build import _Layout, _layout, build_rotation_milp
from .evaluate import RotationEvaluation, evaluate_rotation_plan
from .problem import (
    RotationInstance,
    Stint,
    _stint_columns,
    assign_doctors,
    doctor_groups,
    precheck_rotation,
)

log = logging.getLogger(__name__)


# ---------------------------------------------------------------------------------------------
# Solve
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class RotationSolution(Certificate):
    instance: RotationInstance
    status: Status
    evaluation: RotationEvaluation | None = None
    build_time_s: float = 0.0

    @property
    def stints(self) -> list[Stint]:
        return [] if self.evaluation is None else self.evaluation.stints


def _tolerance(milp: MILP) -> float:
    return 1e-6 * (float(np.abs(milp.c).sum()) + abs(milp.c0)) + 1e-6


PRESOLVE_FROM_STINT_OPTIONS = 200_000
"""Default MIP presolve for sent-down cases: on from this many stint options (measured in
benchmarks/staffing.py: off is 2-4x faster at 71,760 options, 12 months; at 467,040 options,
24 months, the root LP alone runs > 600 s without presolve and the proof takes ~250 s with it)."""


def default_presolve(inst: RotationInstance) -> bool:
    """HiGHS presolve for this instance when the case does not say (``solver.presolve``)."""
    return len(_stint_columns(inst, doctor_groups(inst))) >= PRESOLVE_FROM_STINT_OPTIONS


def solve_rotation(
    inst: RotationInstance, options: SolveOptions | None = None, *, backend: str = "highs"
) -> RotationSolution:
    """Prechecks, build, solve, assign named doctors, certify on the raw data.

    Without options, MIP presolve follows :func:`default_presolve`: off for county-size
    models (HiGHS's presolve removes under 2% of the rows but its symmetry detection costs 2-4x
    the whole solve), on from ``PRESOLVE_FROM_STINT_OPTIONS`` stint options (benchmarks/staffing.py).
    """
    options = options or SolveOptions(presolve=default_presolve(inst))
    t_start = time.perf_counter()
    reasons = precheck_rotation(inst)
    if reasons:
        log.warning("Sent-down case is infeasible before solving: %d conflicts", len(reasons))
        return RotationSolution(
            inst,
            Status.INFEASIBLE,
            diagnosis=reasons,
            total_time_s=time.perf_counter() - t_start,
            message="infeasible: found before solving",
        )
    t0 = time.perf_counter()
    lay = _layout(inst)
    milp = build_rotation_milp(inst, lay)
    build_s = time.perf_counter() - t0
    res = solve(milp, options, backend)
    size = {
        "rows": milp.n_rows,
        "columns": milp.n_cols,
        "nonzeros": milp.nnz,
        "integer_columns": milp.n_integer,
        "doctor_groups": int(lay.groups.count.size),
        "stint_options": len(lay.cols),
        "resident_groups": int(lay.cov.shape[0]),
    }
    common = {
        "build_time_s": build_s,
        "runtime_s": res.runtime_s,
        "solver": res.solver,
        "solver_version": res.solver_version,
        "message": res.message,
        "model_size": size,
    }
    if not res.status.has_solution or res.x is None:
        diagnosis = (
            diagnose_rotation(inst, lay, options, backend)
            if res.status == Status.INFEASIBLE
            else []
        )
        return RotationSolution(
            inst,
            res.status,
            bound=res.bound,
            diagnosis=diagnosis,
            total_time_s=time.perf_counter() - t_start,
            **common,  # type: ignore[arg-type]
        )
    counts = np.round(res.x[milp.var_blocks["n"].slice]).astype(np.int64)
    stints = assign_doctors(inst, lay.groups, lay.cols, counts)
    ev = evaluate_rotation_plan(inst, stints)
    violations = list(ev.violations)
    tol = _tolerance(milp)
    solver_obj = float(res.objective) if res.objective is not None else milp.objective_value(res.x)
    if res.status == Status.OPTIMAL and abs(ev.objective - solver_obj) > tol:
        violations.append(
            f"objective mismatch: solver reports {solver_obj:,.6f}, raw data gives {ev.objective:,.6f}"
        )
    elif res.status == Status.FEASIBLE and ev.objective < solver_obj - tol:
        violations.append(
            f"objective mismatch: solver reports {solver_obj:,.6f}, raw data gives only {ev.objective:,.6f}"
        )
    bound = res.bound
    if bound is not None and ev.objective > bound + tol:
        violations.append(
            f"bound {bound:,.6f} is not a valid bound for the raw objective {ev.objective:,.6f}"
        )
    if violations:
        raise CheckError(violations)
    if res.status == Status.OPTIMAL and bound is None:
        bound = ev.objective
    gap = relative_gap(ev.objective, bound) if bound is not None else None
    log.info(
        "Checked rotation on raw data: %s stints of %s doctors, objective %s, gap %s",
        f"{len(stints):,}",
        f"{len({x.doctor for x in stints}):,}",
        f"{ev.objective:,.6g}",
        "-" if gap is None else f"{100 * gap:.4f}%",
    )
    return RotationSolution(
        inst,
        res.status,
        evaluation=ev,
        objective=ev.objective,
        bound=bound,
        gap=gap,
        total_time_s=time.perf_counter() - t_start,
        checked=True,
        **common,  # type: ignore[arg-type]
    )


def diagnose_rotation(
    inst: RotationInstance, lay: _Layout, options: SolveOptions, backend: str
) -> list[str]:
    """After a proven infeasibility: the least violation of the rules, named, with numbers."""
    milp = build_rotation_milp(inst, lay, elastic=True)
    res = solve(
        milp,
        replace(options, time_limit_s=min(options.time_limit_s, 120.0), mip_rel_gap=0.0),
        backend,
    )
    if res.x is None:
        return [
            "the solver proved the rules infeasible; the elastic diagnosis found no explanation "
            f"within its time limit ({res.status.value})"
        ]
    x = res.x
    T, S = inst.months, len(inst.specialties)
    out = ["The rules conflict. The least total relaxation that makes a rotation exist:"]
    for name, block in milp.var_blocks.items():
        if not name.startswith("slack:"):
            continue
        vals = x[block.slice]
        hit = np.flatnonzero(vals > 1e-6)
        if hit.size == 0:
            continue
        rule = name.removeprefix("slack:")
        if rule in ("capacity", "stationed_per_host"):
            hosts_hit = hit // T
            shown = np.unique(hosts_hit)[:12]
            text = "; ".join(
                f"{inst.host_label(int(ff))} short by {vals[hit][hosts_hit == ff].sum():,.0f} "
                f"doctor-months in {int((hosts_hit == ff).sum())} months"
                for ff in shown
            )
            what = "host capacity" if rule == "capacity" else "rule stationed_per_host"
            out.append(f"- {what}: {text}")
        elif rule == "max_share_away":
            hs = hit // T
            away = inst.away_cap().ravel()
            text = "; ".join(
                f"{inst.hospitals[int(k) // S]} {inst.specialties[int(k) % S]} needs "
                f"{away[int(k)] + vals[hit][hs == k].max():,.0f} away (cap {away[int(k)]:,})"
                for k in np.unique(hs)[:12]
            )
            out.append(f"- rule max_share_away: {text}")
        elif rule.startswith("hospital_release"):
            k = int(rule[rule.index("[") + 1 :].split(",")[0].rstrip("]"))
            out.append(
                f"- rule hospital_release: {inst.hospitals[k]} would have to release "
                f"{vals[hit].max():,.0f} more doctor(s)"
                + (" a year" if "year" in rule else " at once")
            )
        elif rule.startswith("annual_total["):
            y = int(rule[len("annual_total[") : -1])
            ann = inst.rules.annual_total.value
            out.append(
                f"- rule annual_total: plan year {y + 1} can start only {ann - vals[0]:,.0f} of "
                f"the {ann:,.0f} stints under the other rules"
            )
    if len(out) == 1:
        out.append("- (no rule needs relaxing; check the availability windows and travel limits)")
    return out
