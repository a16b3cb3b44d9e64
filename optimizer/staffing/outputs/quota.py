"""Quota run-folder parts: ``solution.json`` dict, ``posts.csv``, ``compliance.csv``, summary."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ...capacity import capacity_compliance, capacity_summary
from ..config import QuotaCase, StaffingCase
from ..quota import QuotaSolution, facility_bounds, gp_required
from .common import fmt, header, pct, rounded, solver_block, status_line
from .hires import hires_compliance, hires_dict, hires_summary


def quota_solution_dict(case: StaffingCase, sol: QuotaSolution) -> dict[str, Any]:
    inst = sol.instance
    cfg = case.config
    assert isinstance(cfg, QuotaCase)
    out = header(case, sol)
    out |= {
        "objective": rounded(sol.shortfall),
        "objective_sense": "min",
        "objective_meaning": "weighted shortfall of posts against need "
        f"({inst.need_source}); then, lexicographically, posts moved from today",
        "best_bound": rounded(sol.bound),
        "gap": rounded(sol.gap, 9),
        "secondary_objective": {
            "name": "movement",
            "meaning": "Σ |posts - current staff| over facilities and categories",
            "value": rounded(sol.movement),
            "best_bound": rounded(sol.movement_bound),
            "gap": rounded(sol.movement_gap, 9),
            "mode": inst.movement,
        },
        "runtime_s": rounded(sol.runtime_s, 3),
        "total_time_s": rounded(sol.total_time_s, 3),
        "solver": solver_block(case, sol),
        "population": {
            "county_total": inst.county_population,
            "facilities_total": rounded(float(np.nansum(inst.population)), 3),
            "note": inst.population_note,
            **(inst.population_source or {}),
        },
        "need_source": inst.need_source,
        "norms": cfg.norms.model_dump(),
        "categories": [c.model_dump() for c in inst.categories],
        "gp_posts_required": gp_required(inst),
        "model_size": sol.model_size,
        "diagnosis": sol.diagnosis,
    }
    ev = sol.evaluation
    if ev is not None:
        posts = ev.posts
        out["posts"] = {
            "total": int(posts.sum()),
            "by_category": {c.name: int(posts[:, k].sum()) for k, c in enumerate(inst.categories)},
            "by_type": {
                t: int(posts[inst.types == t].sum()) for t in sorted(set(map(str, inst.types)))
            },
            "current_total": int(inst.current.sum()),
        }
        met = [r for r in ev.compliance if r["met"]]
        out["norm_compliance"] = {
            "checks": len(ev.compliance),
            "met": len(met),
            "missed": len(ev.compliance) - len(met),
            "table": ev.compliance,
        }
    if sol.hires is not None:
        out["reserved_hires"] = hires_dict(sol.hires)
        out["reserved_hires_compliance"] = hires_compliance(sol.hires)
    if cfg.capacity_norms is not None:
        out["capacity_compliance"] = capacity_compliance(cfg.capacity_norms, inst.county_population)
    return out


def capacity_rows(case: StaffingCase, sol: QuotaSolution) -> list[dict[str, object]]:
    """The county capacity checks as ``compliance.csv`` rows (scope county)."""
    cfg = case.config
    assert isinstance(cfg, QuotaCase)
    if cfg.capacity_norms is None:
        return []
    block = capacity_compliance(cfg.capacity_norms, sol.instance.county_population)
    return [
        {
            "scope": "county",
            "facility_id": "",
            "norm": r["norm"],
            "required": f"{r['label']} = {r['required']:,.1f} {r['unit']}",
            "achieved": f"{r['achieved']:,.0f} {r['unit']}"
            + (f" ({r['note']})" if r["note"] else ""),
            "met": r["met"],
            "source": r["source"],
        }
        for r in block["table"]
    ]


def posts_table(sol: QuotaSolution) -> pd.DataFrame:
    inst = sol.instance
    bounds = facility_bounds(inst)
    frame: dict[str, Any] = {
        "facility_id": inst.facility_ids,
        "name": inst.names,
        "type": inst.types,
    }
    if inst.zones is not None:
        frame["zone"] = inst.zones
    frame["population"] = np.round(inst.population, 3)
    frame["remote"] = inst.remote.astype(int)
    frame["min_posts"] = [b.lo for b in bounds]
    frame["max_posts"] = [b.hi if b.hi is not None else "" for b in bounds]
    frame["current_total"] = inst.current.sum(axis=1)
    if sol.evaluation is not None:
        posts = sol.evaluation.posts
        total = posts.sum(axis=1)
        frame["posts_total"] = total
        with np.errstate(divide="ignore", invalid="ignore"):
            pm = np.where(inst.population > 0, total * 1000 / inst.population, np.nan)
        frame["posts_per_mille"] = np.round(pm, 4)
        frame["change"] = total - inst.current.sum(axis=1)
        for k, c in enumerate(inst.categories):
            frame[f"posts_{c.name}"] = posts[:, k]
    for k, c in enumerate(inst.categories):
        frame[f"current_{c.name}"] = inst.current[:, k]
    frame["need_total"] = np.round(inst.need_total, 3)
    for k, c in enumerate(inst.categories):
        if np.isfinite(inst.need[:, k]).any():
            frame[f"need_{c.name}"] = np.round(inst.need[:, k], 3)
    return pd.DataFrame(frame).sort_values("facility_id", kind="stable").reset_index(drop=True)


def compliance_table(rows: list[dict[str, object]]) -> pd.DataFrame:
    cols = ["scope", "facility_id", "norm", "required", "achieved", "met", "source"]
    frame = pd.DataFrame(rows, columns=cols)
    frame["met"] = frame["met"].astype(int)
    return frame.sort_values(["scope", "facility_id", "norm"], kind="stable").reset_index(drop=True)


def quota_summary(case: StaffingCase, sol: QuotaSolution, out_dir: Path | None) -> list[str]:
    inst = sol.instance
    lines = [
        f"Data: {inst.n_facilities:,} facilities "
        + ", ".join(
            f"{int((inst.types == t).sum())} {t}" for t in sorted(set(map(str, inst.types)))
        )
        + f"; {len(inst.categories)} categories; county population {inst.county_population:,.0f}",
    ]
    if inst.population_note:
        lines.append(f"      populations: {inst.population_note}")
    siting = (inst.population_source or {}).get("from_siting_run")
    if isinstance(siting, dict):
        for layer in siting.get("layers", []):
            lines.append(
                f"      from {siting['file']}: {'/'.join(layer['types'])} - {layer['rule']}; "
                f"{layer['assigned']:,.0f} residents assigned once"
                + (
                    f", {layer['unassigned']:,.0f} at {layer['unassigned_points']} points left out"
                    if layer["unassigned_points"]
                    else ""
                )
                + " (re-checked from the file)"
            )
    lines.append(f"      need: {inst.need_source}")
    lines.append(status_line(sol))
    if sol.diagnosis:
        lines.append("Why no plan exists:")
        lines += [f"  {d}" for d in sol.diagnosis]
    ev = sol.evaluation
    if ev is not None:
        lines.append(
            f"Objective: weighted shortfall {sol.shortfall:,.6g} (bound {fmt(sol.bound)}); "
            f"posts moved {sol.movement:,.0f} (bound {fmt(sol.movement_bound)}, gap "
            f"{pct(sol.movement_gap)})"
        )
        posts = ev.posts
        lines.append(
            f"Posts: {int(posts.sum()):,} (today {int(inst.current.sum()):,}); "
            + ", ".join(
                f"{c.name} {int(posts[:, k].sum()):,}" for k, c in enumerate(inst.categories)
            )
        )
        pool = inst.norms.pool
        if pool.total is not None:
            used = int(posts[inst.applies(pool.facility_types)].sum())
            lines.append(f"Pool: {used:,} of {pool.total:,} posts used")
        missed = [r for r in ev.compliance if not r["met"]]
        lines.append(
            f"Norms: {len(ev.compliance) - len(missed)} of {len(ev.compliance)} checks met"
            + ("" if not missed else f"; MISSED: {len(missed)}")
        )
        county = [r for r in ev.compliance if r["scope"] == "county"]
        for r in county:
            lines.append(f"  {r['norm']:<22} {r['achieved']}  (required {r['required']})")
    cfg = case.config
    assert isinstance(cfg, QuotaCase)
    if sol.hires is not None:
        lines += hires_summary(sol.hires)
    if cfg.capacity_norms is not None:
        lines += capacity_summary(capacity_compliance(cfg.capacity_norms, inst.county_population))
    if out_dir is not None:
        lines.append(
            f"Results: {out_dir}/ (solution.json, posts.csv, compliance.csv, "
            + ("reserved_hires.csv, " if sol.hires is not None else "")
            + "summary.txt, "
            "results.xlsx, report.html, manifest.json)"
        )
    return lines
