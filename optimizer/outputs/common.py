"""What every run folder's solution.json, manifest.json and summary.txt share, for all families.

``common_dict`` is the family-independent part of ``solution.json`` (case, certificate, solver,
data), ``manifest_dict`` the whole ``manifest.json``, ``summary_head`` the first lines of
``summary.txt``; ``rounded``, ``num_text``, ``pct_text`` and ``threshold_text`` are the number
formats they use.
"""

from __future__ import annotations

import platform
import sys
from typing import Any

import numpy as np

from .. import __version__
from ..capacity import capacity_compliance, capacity_summary

__all__ = [
    "common_dict",
    "manifest_dict",
    "num_text",
    "pct_text",
    "rounded",
    "summary_head",
    "threshold_text",
    "travel_check_lines",
]


def rounded(x: float | None, nd: int = 6) -> float | None:
    """``x`` rounded to ``nd`` decimals; None for None, NaN and infinities."""
    return None if x is None or not np.isfinite(x) else round(float(x), nd)


def num_text(x: float | None) -> str:
    """Readable numbers: 53,000,000 rather than 5.3e+07; small ones keep 6 significant digits."""
    if x is None:
        return "-"
    return f"{x:,.0f}" if abs(x) >= 1e4 else f"{x:,.6g}"


def threshold_text(thr: float | dict[str, float]) -> str:
    """A threshold as text: ``15`` or ``15 (urban)/20 (rural)`` for per-class thresholds."""
    if isinstance(thr, dict):
        return "/".join(f"{v:,g} ({k})" for k, v in thr.items())
    return f"{thr:,g}"


def pct_text(x: float | None) -> str:
    """A share as a percentage with 2 decimals ("-" for None)."""
    return "-" if x is None else f"{100 * x:.2f}%"


def _solve_record(prepared: Any) -> dict[str, Any]:
    """What the run was solved with (``prepared.settings``: CLI > case > default), else the
    case's solver section (a prepared case written without going through the front door)."""
    settings = getattr(prepared, "settings", None)
    if settings is not None:
        return dict(settings.record())
    s = prepared.case.config.solver
    return {
        "time_limit_s": s.time_limit_s,
        "mip_rel_gap": s.mip_rel_gap,
        "threads": s.threads,
        "seed": s.seed,
    }


def common_dict(prepared: Any, sol: Any, *, meaning: str, model: dict[str, Any]) -> dict[str, Any]:
    """The part of solution.json every model family shares: case, certificate, solver, data."""
    problem = sol.problem
    cfg = prepared.case.config
    return {
        "case": {
            "name": cfg.name,
            "description": cfg.description,
            "file": prepared.case.label,
            "sha256": prepared.case.sha256,
        },
        "status": sol.status.value,
        "status_text": sol.status.label,
        "checked_on_raw_data": sol.checked,
        "objective": rounded(sol.objective),
        "objective_sense": sol.sense,
        "objective_meaning": meaning,
        "best_bound": rounded(sol.bound),
        "gap": rounded(sol.gap, 9),
        "secondary": sol.secondary,
        "runtime_s": rounded(sol.runtime_s, 3),
        "total_time_s": rounded(sol.total_time_s, 3),
        "solver": {
            "backend": sol.solver or cfg.solver.backend,
            "version": sol.solver_version,
            "message": sol.message,
            **_solve_record(prepared),
            "method": getattr(sol, "method", "compact"),
            "method_reason": getattr(sol, "method_reason", "") or None,
            "warm_start": getattr(sol, "warm_start", None),
            "benders": getattr(sol, "benders", None),
        },
        "model": model,
        "demand": {
            "points": len(problem.demand),
            "total_weight": rounded(problem.demand.total_weight, 3),
            "residents": rounded(float(problem.demand.residents.sum()), 3),
            "footfall_weight": rounded(
                float(problem.demand.total_weight - problem.demand.residents.sum()), 3
            ),
            "weight_note": problem.demand.weight_note,
        },
        "travel_times": {
            name: {
                "pairs": len(tt),
                "unit": tt.unit,
                **(
                    prepared.routing[name].to_dict()
                    if name in prepared.routing
                    else getattr(prepared, "estimates", {})[name].to_dict()
                    if name in getattr(prepared, "estimates", {})
                    else {"source": "table"}
                ),
            }
            for name, tt in problem.travel_times.items()
        },
        "travel_times_check": getattr(prepared, "travel_times_check", {}) or {},
        "model_size": sol.model_size,
        "presolve": sol.presolve,
        "diagnosis": sol.diagnosis,
    } | (
        {
            "capacity_compliance": capacity_compliance(
                cfg.capacity_norms, float(problem.demand.residents.sum())
            )
        }
        if getattr(cfg, "capacity_norms", None) is not None
        else {}
    )


def manifest_dict(prepared: Any, sol: Any, files: list[str]) -> dict[str, Any]:
    """manifest.json: case and input hashes, package and solver versions, seed, status, files."""
    from ..solvers import backend_version

    versions = {
        "county-health-siting": __version__,
        "python": sys.version.split()[0],
        "platform": platform.platform(),
    }
    for mod in ("numpy", "scipy", "pandas", "highspy", "pulp", "ortools", "pydantic"):
        try:
            versions[mod] = __import__(mod).__version__
        except Exception:  # optional packages may be absent or lack __version__
            versions[mod] = "unknown"
    try:
        versions["solver"] = (
            f"{sol.solver or prepared.case.config.solver.backend} {backend_version(sol.solver or prepared.case.config.solver.backend)}"
        )
    except Exception:
        versions["solver"] = sol.solver_version
    return {
        "case_file": prepared.case.label,
        "case_sha256": prepared.case.sha256,
        "inputs_sha256": prepared.input_files,
        "versions": versions,
        "seed": prepared.case.config.solver.seed,
        "status": sol.status.value,
        "gap": sol.gap,
        "runtime_s": sol.runtime_s,
        "files": sorted(files),
    }


def summary_head(prepared: Any, sol: Any, *, kind: str, meaning: str) -> list[str]:
    """The summary lines every family shares: case, data, presolve, certificate, diagnosis."""
    problem = sol.problem
    cfg = prepared.case.config
    lines = [
        f"Case: {cfg.name}  ({prepared.case.label})",
        f"Model: {kind} - {meaning}",
        f"Data: {len(problem.demand):,} demand points ({float(problem.demand.residents.sum()):,.0f} residents"
        + (
            f" + {float(problem.demand.weight[problem.demand.footfall].sum()):,.0f} footfall weight"
            if problem.demand.footfall is not None
            else ""
        )
        + "), "
        f"{len(problem.sites):,} sites ({int(problem.sites.existing.sum()):,} existing)",
    ]
    if problem.demand.weight_note:
        lines.append(f"      residents: {problem.demand.weight_note}")
    if getattr(cfg, "capacity_norms", None) is not None:
        lines += capacity_summary(
            capacity_compliance(cfg.capacity_norms, float(problem.demand.residents.sum()))
        )
    for name, rep in sorted((getattr(prepared, "estimates", None) or {}).items()):
        lines.append(f"  !! Travel times '{name}': {rep.note()}")
    ps = sol.presolve
    if ps and "demand_groups" in ps:
        lines.append(
            f"Presolve: {ps['demand_points']:,} demand points -> {ps['demand_groups']:,} groups"
            + (
                f"; {ps['sites']:,} sites -> {ps['model_site_columns']:,} decisions "
                f"({ps['sites_fixed_open']:,} kept open, {ps['sites_dominated']:,} dominated)"
                if "model_site_columns" in ps
                else ""
            )
        )
    gap = "-" if sol.gap is None else f"{100 * sol.gap:.4f}%"
    lines.append(
        f"Status: {sol.status.label}   gap {gap}   solver {sol.solver} {sol.solver_version}"
    )
    lines += travel_check_lines(getattr(prepared, "travel_times_check", {}) or {})
    if sol.status.value == "feasible":
        lines.append(
            f"  !! A limit stopped the search: the plan below is the best found, within "
            f"{gap} of the proven bound {num_text(sol.bound)}. Raise solver.time_limit_s to prove optimality."
        )
    if sol.secondary is not None:
        sec = sol.secondary
        what = "cost" if sec["objective"] == "min_cost" else "new sites"
        if "value" in sec:
            g = sec.get("gap")
            gap_text = pct_text(float(g)) if isinstance(g, (int, float)) else "-"
            lines.append(
                f"Second stage ({sec['objective']}): {what} {num_text(float(sec['value']))} at the same coverage "
                f"(first-stage plan: {num_text(float(sec['first_stage_value']))}); "
                + (
                    "proven minimal"
                    if sec["status"] == "optimal"
                    else f"{sec['status']}, gap {gap_text}"
                )
            )
        else:
            lines.append(
                f"Second stage ({sec['objective']}): {sec['status']}; first-stage plan kept"
            )
    if sol.diagnosis:
        lines.append("Why no plan exists:")
        lines += [f"  {d}" for d in sol.diagnosis]
    return lines


def travel_check_lines(check: dict[str, dict[str, Any]]) -> list[str]:
    """Summary lines of the travel-time tables' check against the roads."""
    lines = []
    for name, b in check.items():
        if b.get("status") != "checked":
            lines.append(f"Travel times {name}: {b.get('status')}")
            continue
        if not b["pairs_checked"]:
            lines.append(f"Travel times {name}: no demand-site pair to re-route (nothing snapped)")
            continue
        w = b.get("worst_pair") or {}
        lines.append(
            f"Travel times {name} re-routed independently on the roads: {b['pairs_checked']:,} "
            f"pairs ({b['random_pairs']:,} random, {b['near_threshold_checked']:,} of "
            f"{b['near_threshold_found']:,} within {b['band']:g} {b['unit']} of a threshold), "
            f"max deviation {b['max_deviation']:.4f} {b['unit']}, mean {b['mean_deviation']:.4f} "
            f"(tolerance {b['tolerance']:g}); worst {w.get('demand')} - {w.get('site')}"
        )
    return lines
