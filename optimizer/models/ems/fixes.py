r"""Why a 120 case has no plan, and the least change of each limit that gives it one - verified.

Called after the solver proved a 120 case infeasible (issue 12, item 5). Three steps:

1. **Conflicts in the data** that no limit can relax: an existing station holding more ambulances
   (or negative-pressure ambulances) than its capacity, or more negative-pressure ambulances than
   ambulances. They are named by station with the numbers.
2. **One limit at a time**: for every relaxable row :math:`r` of the model (budget, fleet size and
   norms, new-station limit, coverage targets, stations per township) the elastic model keeps every
   other row hard and minimises only :math:`r`'s slack :math:`s_r \ge 0` (a MILP solved to a zero
   gap, Chinneck 2008 ch. 6 "elastic filtering" restricted to one row). Its optimum is the least
   relaxation of that limit alone; the earlier single weighted elastic objective (1e-7 per yuan
   against other slacks) stopped at points that asked for too much.
3. **Verified before printed**: the case is solved again with that limit moved by the amount
   (a budget raised to the next whole yuan above it; integer limits by whole units); only a
   re-solve that finds a plan - checked on the raw data for limits of the case file - lets the
   figure be printed as verified. A figure the solver could not prove least (a time limit) or a
   re-solve did not confirm is printed as an *estimate*.

When no single limit suffices, the weighted elastic model relaxes several together, and its
figures are verified the same way (all moved at once) or labelled estimates.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from ...diagnosis import DIAGNOSIS_TIME_LIMIT_S, diagnosis_options
from ...milp import MILP
from ...solvers import Deadline, SolveOptions, Status, solve

__all__ = ["Hooks", "data_conflicts", "diagnose_ems_fixes"]

log = logging.getLogger(__name__)

#: Rows a planner sets in the case file, with the config field they move.
_CONFIG_ROWS = {"budget", "max_new_stations", "max_vehicles", "fleet_size", "coverage_share"}


@dataclass(frozen=True)
class Fix:
    """One limit moved by ``amount`` (in its own unit), whether least and whether verified."""

    row: str
    amount: float
    least: bool
    verified: bool


def data_conflicts(problem: Any) -> list[str]:
    """Existing vehicles that no station limit can hold: named by station, with the numbers."""
    sites = problem.sites
    x_now, n_now = problem.vehicles_now()
    cap = problem.capacity()
    out = []
    st = problem.stations & sites.existing
    over = np.flatnonzero(st & (x_now > cap))
    for j in over[:20]:
        out.append(
            f"existing station {sites.ids[j]} has {x_now[j]:.0f} ambulances today but may hold "
            f"at most {cap[j]:.0f} (fleet.max_per_station or its capacity): raise "
            f"fleet.max_per_station to {x_now[j]:.0f} or give the station a capacity of "
            f"{x_now[j]:.0f}"
        )
    for j in np.flatnonzero(st & (n_now > x_now))[:20]:
        out.append(
            f"existing station {sites.ids[j]} has {n_now[j]:.0f} negative-pressure ambulances "
            f"but {x_now[j]:.0f} ambulances in all: correct its vehicles / np_vehicles"
        )
    f = problem.model.fleet
    total_now = float(x_now.sum())
    if f.fleet_size is not None and total_now > f.fleet_size:
        out.append(
            f"the existing stations hold {total_now:.0f} ambulances, more than fleet.fleet_size "
            f"{f.fleet_size}: raise fleet_size to at least {total_now:.0f}"
        )
    if f.max_vehicles is not None and total_now > f.max_vehicles:
        out.append(
            f"the existing stations hold {total_now:.0f} ambulances, more than fleet.max_vehicles "
            f"{f.max_vehicles}: raise max_vehicles to at least {total_now:.0f}"
        )
    return out


def _row_side(milp: MILP, row: str) -> str:
    k = milp.row_blocks[row].start
    return "lo" if np.isfinite(milp.row_lo[k]) else "hi"


def _single_slack(elastic: MILP, slack: str) -> MILP:
    """The elastic model with only ``slack`` free, minimising its sum."""
    c = np.zeros(elastic.n_cols)
    hi = elastic.col_hi.copy()
    for name, blk in elastic.var_blocks.items():
        if name.startswith("slack:") and name != slack:
            hi[blk.slice] = 0.0
    c[elastic.var_blocks[slack].slice] = 1.0
    return replace(elastic, sense="min", c=c, c0=0.0, col_hi=hi, name=f"{elastic.name}-{slack}")


def _rounded(ix: Any, row: str, amount: float) -> float:
    """The amount a planner would set: whole yuan for money, whole units for counts, and for
    ``coverage_share`` (a slack in residents) the share it lowers ``min_share`` by, rounded up
    to 0.01 percentage points."""
    if row == "coverage_share":
        total = max(float(ix.group_weight[ix.applies].sum()), 1.0)
        return math.ceil(amount / total * 1e4 - 1e-9) / 1e4
    return float(math.ceil(amount - 1e-6))


def _moved_model(problem: Any, fixes: list[Fix]) -> Any | None:
    """The case's model with every fix applied, or None when a fix is not a case-file field."""
    m = problem.model
    update: dict[str, Any] = {}
    fleet: dict[str, Any] = {}
    for fx in fixes:
        if fx.row == "budget":
            update["budget"] = float(m.budget) + fx.amount
        elif fx.row == "max_new_stations":
            update["max_new_stations"] = int(m.max_new_stations + fx.amount)
        elif fx.row == "max_vehicles":
            fleet["max_vehicles"] = int(m.fleet.max_vehicles + fx.amount)
        elif fx.row == "fleet_size":
            fleet["fleet_size"] = int(m.fleet.fleet_size - fx.amount)
        elif fx.row == "coverage_share":
            update["min_share"] = max(0.0, float(m.min_share) - fx.amount)
        else:
            return None
    if fleet:
        update["fleet"] = m.fleet.model_copy(update=fleet)
    return m.model_copy(update=update)


@dataclass(frozen=True)
class Hooks:
    """What the diagnosis needs from the 120 model (passed in: this module imports none of it).

    ``build(problem, ix, elastic=...)`` builds the MILP; ``violations(problem, ix, milp, x)``
    decodes a solution and re-checks it on the raw data (empty list = a valid plan)."""

    build: Callable[..., MILP]
    violations: Callable[[Any, Any, MILP, np.ndarray], list[str]]


def _verify(
    problem: Any, ix: Any, fixes: list[Fix], options: SolveOptions, backend: str, hooks: Hooks
) -> bool:
    """Re-solve the case with the fixes applied; True when it then has a plan (raw-data checked
    when every fix is a case-file field)."""
    model = _moved_model(problem, fixes)
    if model is not None:
        moved = replace(problem, model=model)
        milp = hooks.build(moved, ix)
        res = solve(milp, options, backend)
        if not res.status.has_solution or res.x is None:
            return False
        return not hooks.violations(moved, ix, milp, res.x)
    milp = hooks.build(problem, ix)
    lo, hi = milp.row_lo.copy(), milp.row_hi.copy()
    for fx in fixes:
        blk = milp.row_blocks[fx.row]
        if fx.row == "fleet_size":
            lo[blk.slice] -= fx.amount
            hi[blk.slice] -= fx.amount
        elif fx.row in ("cover_all", "coverage_share"):
            return False  # per-group relaxations are reported as estimates
        elif _row_side(milp, fx.row) == "lo":
            lo[blk.slice] -= fx.amount
        else:
            hi[blk.slice] += fx.amount
    res = solve(replace(milp, row_lo=lo, row_hi=hi), options, backend)
    return res.status.has_solution


def diagnose_ems_fixes(
    problem: Any, ix: Any, options: SolveOptions, backend: str, hooks: Hooks
) -> list[str]:
    """Planner-readable reasons a proven-infeasible 120 case has no plan (module docstring)."""
    conflicts = data_conflicts(problem)
    if conflicts:
        return ["The existing stations conflict with the limits (no plan can keep them):"] + [
            f"- {c}" for c in conflicts
        ]
    # the whole diagnosis shares one budget; each solve gets what is left (at least 1 s)
    deadline = Deadline(min(options.time_limit_s, DIAGNOSIS_TIME_LIMIT_S))

    def opts() -> SolveOptions:
        return diagnosis_options(options, time_limit_s=max(deadline.remaining(), 1.0))

    elastic = hooks.build(problem, ix, elastic=True)
    slacks = [n for n in elastic.var_blocks if n.startswith("slack:")]
    singles: list[Fix] = []
    for slack in slacks:
        row = slack.removeprefix("slack:")
        if row == "cover_all" or deadline.expired():
            continue
        res = solve(_single_slack(elastic, slack), opts(), backend)
        if not res.status.has_solution or res.x is None:
            continue
        amount = _rounded(ix, row, float(res.x[elastic.var_blocks[slack].slice].sum()))
        fix = Fix(row, amount, res.status == Status.OPTIMAL, False)
        ok = _verify(problem, ix, [fix], opts(), backend, hooks)
        singles.append(replace(fix, verified=ok))
    if singles:
        return [
            "The norms and limits conflict. Each change below alone makes a plan possible "
            "(the least amount, proven by the solver, and checked by solving the case again "
            "at that value, unless marked as an estimate):"
        ] + [_line(problem, f) for f in singles]
    return _together(problem, ix, elastic, opts, backend, hooks)


#: Slack rows that leave residents outside a coverage target (tried only after the limits).
_COVERAGE_ROWS = ("cover_all", "coverage_share", "zone_share[")


def _limits_only(elastic: MILP) -> MILP:
    """The weighted elastic model with the coverage targets hard: only limits may move."""
    hi = elastic.col_hi.copy()
    for name, blk in elastic.var_blocks.items():
        if name.removeprefix("slack:").startswith(_COVERAGE_ROWS) and name.startswith("slack:"):
            hi[blk.slice] = 0.0
    return replace(elastic, col_hi=hi)


def _together(
    problem: Any, ix: Any, elastic: MILP, opts: Any, backend: str, hooks: Hooks
) -> list[str]:
    """No single limit suffices: relax several at once (weighted elastic model), the case's
    limits first (budget, stations, fleet) with every coverage target kept, then everything."""
    for model in (_limits_only(elastic), elastic):
        res = solve(model, opts(), backend)
        if res.x is None:
            continue
        fixes = []
        for name, blk in model.var_blocks.items():
            v = float(res.x[blk.slice].sum()) if name.startswith("slack:") else 0.0
            if v > 1e-6:
                row = name.removeprefix("slack:")
                fixes.append(Fix(row, _rounded(ix, row, v), False, False))
        ok = _verify(problem, ix, fixes, opts(), backend, hooks)
        if not ok and model is not elastic:
            continue
        head = "No single limit can be relaxed enough on its own. Relaxed together " + (
            "(checked by solving the case again with all of them; not proven least):"
            if ok
            else "(estimate: not proven least, and solving again with them found no plan):"
        )
        return [head] + [_line(problem, replace(f, verified=ok)) for f in fixes]
    return [
        "The solver proved the plan infeasible and no relaxation of the case's limits "
        "(budget, fleet, stations, coverage targets) gives a plan; check the station "
        "candidates' capacities and the existing stations' ambulances"
    ]


def _line(problem: Any, fx: Fix) -> str:
    m = problem.model
    unit = problem.sites.cost_unit
    v = fx.amount
    tag = (
        ""
        if fx.least and fx.verified
        else " (estimate: "
        + ("not proven least" if not fx.least else "")
        + (", " if not fx.least and not fx.verified else "")
        + ("solving again at this value found no plan" if not fx.verified else "")
        + ")"
    )
    row = fx.row
    if row == "budget":
        return f"- budget: {v:,.0f} {unit} more, i.e. budget {m.budget + v:,.0f}{tag}"
    if row == "max_new_stations":
        return f"- max_new_stations: {v:.0f} more, i.e. {m.max_new_stations + v:.0f}{tag}"
    if row == "max_vehicles":
        return f"- fleet.max_vehicles: {v:.0f} more, i.e. {m.fleet.max_vehicles + v:.0f}{tag}"
    if row == "fleet_size":
        return f"- fleet.fleet_size: {v:.0f} fewer, i.e. {m.fleet.fleet_size - v:.0f}{tag}"
    if row == "fleet_norm":
        return (
            f"- fleet norm: {v:.0f} ambulances fewer than the norm of "
            f"{problem.fleet_minimum()}{tag}"
        )
    if row == "coverage_share":
        return f"- min_share: {v:.2%} lower, i.e. {m.min_share - v:.2%}{tag}"
    if row == "np_share":
        return f"- negative-pressure share: {v:.2f} negative-pressure ambulances fewer{tag}"
    if row.startswith("zone_share["):
        return f"- {row[len('zone_share[') : -1]}: township target {v:,.0f} residents lower{tag}"
    if row.startswith("station_or_radius["):
        return (
            f"- {row[len('station_or_radius[') : -1]}: the township rule (a station of its own or "
            f"everyone within the radius) waived{tag}"
        )
    if row.startswith("zone_stations["):
        return f"- {row[len('zone_stations[') : -1]}: {v:.0f} station(s) fewer required{tag}"
    if row == "cover_all":
        return f"- {v:,.0f} demand groups outside the standard{tag}"
    return f"- {row}: relaxed by {v:,.3g}{tag}"
