"""The tier family's parts for the family table (:mod:`optimizer.families`): load the problem,
check its data, solve, write, summarise, a sweep row."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from geodata.arrays import Demand, Sites, TravelTimes, Zones

__all__ = [
    "auto_cutoff",
    "make_problem",
    "maximise",
    "solve",
    "summary",
    "sweep_row",
    "table_checks",
    "validate_data",
    "validated",
    "write",
]


def make_problem(
    demand: Demand, sites: Sites, tables: dict[str, TravelTimes], model: Any, zones: Zones | None
) -> Any:
    from .problem import TiersProblem

    return TiersProblem(demand, sites, tables, model, zones)


def validate_data(*args: Any) -> None:
    from .validate import validate_tiers

    validate_tiers(*args)


def table_checks(problem: Any) -> list[tuple[TravelTimes, np.ndarray, str]]:
    """The table must be complete up to the widest tier radius (or township reach)."""
    far = np.full(len(problem.demand), problem.largest_minutes())
    return [(problem.times, far, "model.tiers")]


def auto_cutoff(case: Any, name: str) -> float | None:
    """``cutoff: auto``: the widest tier radius or township reach."""
    model: Any = case.config.model
    values = [t.minutes for t in model.tiers]
    values += [t.max_township_minutes for t in model.tiers if t.max_township_minutes]
    return max(values)


def solve(prepared: Any, st: Any, warm: Any) -> Any:
    from .solve import solve_tiers

    return solve_tiers(prepared.problem, st.options, backend=st.backend)


def write(prepared: Any, sol: Any, out: Path) -> list[str]:
    from .outputs import write_tiers_results

    return write_tiers_results(prepared, sol, out)


def summary(prepared: Any, sol: Any, out: Path | None) -> str:
    from .outputs import tiers_summary

    return tiers_summary(prepared, sol, out)


def sweep_row(sol: Any) -> dict[str, Any]:
    """Cost, clinics per tier and residents assigned."""
    if sol.plan is None:
        return {}
    from .evaluate import plan_cost

    row: dict[str, Any] = {"cost": plan_cost(sol.problem, sol.plan)}
    for t in sol.problem.model.tiers:
        row[f"sites_{t.name}"] = sum(n == t.name for n in sol.plan.tier)
    row["residents_assigned"] = float(sol.problem.demand.weight[sol.plan.assigned >= 0].sum())
    return row


def validated(prepared: Any) -> str:
    p = prepared.problem
    return (
        f"{len(p.demand):,} villages, {len(p.sites):,} sites, "
        f"{len(p.times):,} travel-time pairs, model village_tiers"
    )


def maximise(prepared: Any) -> bool:
    return bool(prepared.problem.model.objective == "max_coverage")
