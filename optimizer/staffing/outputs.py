"""Result files of a staffing run, written atomically into one folder (``StagedOutput``).

Quota (``kind: staffing_quota``)
    ``solution.json`` status, objective (weighted shortfall, recomputed on the raw data), best
    bound, gap, the movement objective with its own bound and gap, runtimes, solver and version,
    norm parameters with provenance, the norm-compliance table and its summary, population note;
    ``posts.csv`` posts per facility and category beside today's staff, bounds and need;
    ``compliance.csv`` one row per norm and facility (or county): required, achieved, met, source.
Sent-down (``kind: sent_down``)
    ``solution.json`` as above with the objective terms and rule compliance;
    ``calendar.csv`` the rotation calendar (one row per stint, named doctors);
    ``gantt.png`` the calendar as a Gantt chart (doctors when few, host x specialty otherwise);
    ``host_coverage.csv`` per host and specialty: months present, need, unmet need, residents;
    ``release.csv`` per hospital department: headcount, cap away at once, peak away, stints;
    ``unplaced_doctors.csv`` every doctor without a stint and why (availability, travel, no
    need for the specialty, not chosen);
    ``compliance.csv`` every rule with required, achieved, met and source.
Both
    ``summary.txt`` (the planner-readable summary, also printed), ``manifest.json`` and
    ``report.html`` (main's offline report with a staffing section, :mod:`.report`).
"""

from __future__ import annotations

import logging
import platform
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .. import __version__
from ..atomic import StagedOutput
from .config import QuotaCase, RotationCase, StaffingCase
from .quota import QuotaSolution, facility_bounds, gp_required
from .rotation import RotationSolution, unplaced_doctors

__all__ = ["summary_text", "write_staffing_results"]

log = logging.getLogger(__name__)


def _round(x: float | None, nd: int = 6) -> float | None:
    return None if x is None or not np.isfinite(x) else round(float(x), nd)


def _pct(x: float | None) -> str:
    return "-" if x is None else f"{100 * x:.4f}%"


def _header(case: StaffingCase, sol: QuotaSolution | RotationSolution) -> dict[str, Any]:
    cfg = case.config
    return {
        "case": {
            "name": cfg.name,
            "kind": cfg.kind,
            "description": cfg.description,
            "file": case.label,
            "sha256": case.sha256,
        },
        "status": sol.status.value,
        "status_text": sol.status.label,
        "checked_on_raw_data": sol.checked,
        "travel_times_check": _travel_check(cfg),
    }


def _travel_check(cfg: Any) -> dict[str, dict[str, str]]:
    """Staffing cases read travel times as given tables (no roads): say they are not checked."""
    from ..certify_roads import NOT_CHECKED

    out: dict[str, dict[str, str]] = {}
    if isinstance(cfg, RotationCase):
        out["travel"] = {"status": NOT_CHECKED, "file": cfg.travel.file}
        if cfg.coverage is not None:
            out["coverage.travel_times"] = {
                "status": NOT_CHECKED,
                "file": cfg.coverage.travel_times.file,
            }
    elif cfg.facilities.columns.travel_min is not None:
        out["facilities.travel_min"] = {"status": NOT_CHECKED, "file": cfg.facilities.file}
    return out


def _solver(case: StaffingCase, sol: QuotaSolution | RotationSolution) -> dict[str, Any]:
    s = case.config.solver
    return {
        "backend": sol.solver or s.backend,
        "version": sol.solver_version,
        "message": sol.message,
        "time_limit_s": s.time_limit_s,
        "mip_rel_gap": s.mip_rel_gap,
        "threads": s.threads,
        "seed": s.seed,
    }


# ---------------------------------------------------------------------------------------------
# Quota
# ---------------------------------------------------------------------------------------------
def quota_solution_dict(case: StaffingCase, sol: QuotaSolution) -> dict[str, Any]:
    inst = sol.instance
    cfg = case.config
    assert isinstance(cfg, QuotaCase)
    out = _header(case, sol)
    out |= {
        "objective": _round(sol.shortfall),
        "objective_sense": "min",
        "objective_meaning": "weighted shortfall of posts against need "
        f"({inst.need_source}); then, lexicographically, posts moved from today",
        "best_bound": _round(sol.bound),
        "gap": _round(sol.gap, 9),
        "secondary_objective": {
            "name": "movement",
            "meaning": "Σ |posts - current staff| over facilities and categories",
            "value": _round(sol.movement),
            "best_bound": _round(sol.movement_bound),
            "gap": _round(sol.movement_gap, 9),
            "mode": inst.movement,
        },
        "runtime_s": _round(sol.runtime_s, 3),
        "total_time_s": _round(sol.total_time_s, 3),
        "solver": _solver(case, sol),
        "population": {
            "county_total": inst.county_population,
            "facilities_total": _round(float(np.nansum(inst.population)), 3),
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
    return out


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
    lines.append(_status_line(sol))
    if sol.diagnosis:
        lines.append("Why no plan exists:")
        lines += [f"  {d}" for d in sol.diagnosis]
    ev = sol.evaluation
    if ev is not None:
        lines.append(
            f"Objective: weighted shortfall {sol.shortfall:,.6g} (bound {_fmt(sol.bound)}); "
            f"posts moved {sol.movement:,.0f} (bound {_fmt(sol.movement_bound)}, gap "
            f"{_pct(sol.movement_gap)})"
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
    if out_dir is not None:
        lines.append(
            f"Results: {out_dir}/ (solution.json, posts.csv, compliance.csv, summary.txt, "
            "report.html, manifest.json)"
        )
    return lines


# ---------------------------------------------------------------------------------------------
# Sent-down
# ---------------------------------------------------------------------------------------------
def rotation_solution_dict(case: StaffingCase, sol: RotationSolution) -> dict[str, Any]:
    inst = sol.instance
    cfg = case.config
    assert isinstance(cfg, RotationCase)
    out = _header(case, sol)
    out |= {
        "objective": _round(sol.objective),
        "objective_sense": "max",
        "objective_meaning": "weighted resident-months within a host's service circle with the "
        "specialty present, minus travel, shortfall and fairness penalties",
        "best_bound": _round(sol.bound),
        "gap": _round(sol.gap, 9),
        "build_time_s": _round(sol.build_time_s, 3),
        "runtime_s": _round(sol.runtime_s, 3),
        "total_time_s": _round(sol.total_time_s, 3),
        "solver": _solver(case, sol),
        "horizon": {"months": inst.months, "first": inst.label(1), "last": inst.label(inst.months)},
        "rules": cfg.rules.model_dump(),
        "weights": cfg.weights.model_dump(),
        "specialty_value": dict(zip(inst.specialties, map(float, inst.value), strict=True)),
        "residents": {
            "total": _round(float(inst.weight.sum()), 3),
            "within_a_circle": _round(float(inst.weight[np.diff(inst.cover.indptr) > 0].sum()), 3),
            "note": inst.residents_note,
        },
        "model_size": sol.model_size,
        "diagnosis": sol.diagnosis,
    }
    ev = sol.evaluation
    if ev is not None:
        starts = np.asarray([x.start for x in ev.stints], dtype=np.int64)
        out["objective_terms"] = {k: _round(v) for k, v in ev.terms.items()}
        out["stints"] = {
            "total": len(ev.stints),
            "doctors_sent": len({x.doctor for x in ev.stints}),
            "doctor_months": int(sum(x.months for x in ev.stints)),
            "by_plan_year": [
                int(((starts >= m0) & (starts <= m1)).sum()) for m0, m1 in inst.plan_years()
            ],
        }
        out["covered_resident_months"] = {
            s: _round(float(v), 3)
            for s, v in zip(inst.specialties, ev.covered_resident_months, strict=True)
        }
        rows = rotation_compliance(sol)
        out["rule_compliance"] = {
            "checks": len(rows),
            "met": sum(1 for r in rows if r["met"]),
            "table": rows,
        }
        out["hosts_lacking"] = hosts_lacking(sol)
        unplaced = unplaced_doctors(inst, ev.stints)
        out["unplaced_doctors"] = {
            "total": len(unplaced),
            "by_reason": {
                k: sum(1 for u in unplaced if u["reason"] == k)
                for k in sorted({u["reason"] for u in unplaced})
            },
            "doctors": unplaced,
        }
    return out


def rotation_compliance(sol: RotationSolution) -> list[dict[str, object]]:
    """One row per rule, county-wide: required, achieved (worst case), met, source."""
    inst = sol.instance
    ev = sol.evaluation
    assert ev is not None
    r = inst.rules
    rows: list[dict[str, object]] = []

    def add(rule: str, required: str, achieved: str, met: bool, source: str) -> None:
        rows.append(
            {
                "rule": rule,
                "required": required,
                "achieved": achieved,
                "met": bool(met),
                "source": source,
            }
        )

    lengths = [x.months for x in ev.stints]
    add(
        "tenure_months",
        f"{r.tenure_months.min}-{r.tenure_months.max} months",
        f"{min(lengths, default=0)}-{max(lengths, default=0)} months",
        all(r.tenure_months.min <= m <= r.tenure_months.max for m in lengths),
        r.tenure_months.source,
    )
    cap = inst.away_cap()
    peak = ev.away.max(axis=2) if ev.away.size else np.zeros_like(cap)
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.where(inst.dept_staff > 0, peak / np.maximum(inst.dept_staff, 1), 0.0)
    worst = np.unravel_index(int(share.argmax()), share.shape) if share.size else (0, 0)
    add(
        "max_share_away",
        f"≤ {100 * r.max_share_away.value:g}% of each department away at once "
        "(floor of the share × headcount)",
        f"highest {100 * float(share.max(initial=0)):.1f}% ({inst.hospitals[worst[0]]} "
        f"{inst.specialties[worst[1]]}: {int(peak[worst])} of {int(inst.dept_staff[worst])}); "
        f"{int((peak > cap).sum())} departments over",
        bool((peak <= cap).all()),
        r.max_share_away.source,
    )
    st = inst.stationed_min()
    tot = ev.presence.sum(axis=1)
    short = int(((tot < st[:, None]) * 1).sum())
    add(
        "stationed_per_host",
        f"≥ {r.stationed_per_host.value} doctor every month at {', '.join(r.stationed_per_host.host_types)}",
        f"{int((st > 0).sum())} hosts, {short} host-months below",
        short == 0,
        r.stationed_per_host.source,
    )
    starts = np.asarray([x.start for x in ev.stints], dtype=np.int64)
    ann = r.annual_total
    years = inst.plan_years()
    per_year = [int(((starts >= m0) & (starts <= m1)).sum()) for m0, m1 in years]
    add(
        "annual_total",
        f"≥ {ann.value:,.0f} stints starting in each full plan year"
        if ann.enabled
        else "not enabled",
        (", ".join(f"year {k + 1}: {v:,}" for k, v in enumerate(per_year)) or "no full plan year")
        + ("" if years else f" (horizon {inst.months} months)"),
        (not ann.enabled) or all(v >= ann.value for v in per_year),
        ann.source,
    )
    trav = [float(inst.travel_min[inst.doctor_hospital[x.doctor], x.host]) for x in ev.stints]
    add(
        "max_travel_min",
        f"≤ {r.max_travel_min.value:g} min hospital → host",
        f"max {max(trav, default=0):.0f} min",
        (not r.max_travel_min.enabled) or all(t <= r.max_travel_min.value for t in trav),
        r.max_travel_min.source,
    )
    rel = r.hospital_release
    at_once, per_year_cap = inst.release_caps()
    if np.isfinite(at_once).any() or np.isfinite(per_year_cap).any():
        away_h = ev.away.sum(axis=1).max(axis=1) if ev.away.size else np.zeros(at_once.size)
        hosp = np.asarray([inst.doctor_hospital[x.doctor] for x in ev.stints], dtype=np.int64)
        started = np.zeros(at_once.size)
        for m0, m1 in inst.release_years():
            k = np.bincount(hosp[(starts >= m0) & (starts <= m1)], minlength=at_once.size)
            started = np.maximum(started, k)
        over_h = [
            inst.hospitals[k]
            for k in range(at_once.size)
            if away_h[k] > at_once[k] or started[k] > per_year_cap[k]
        ]
        add(
            "hospital_release",
            "per hospital: "
            + ", ".join(
                f"{inst.hospitals[k]} ≤ {_cap_text(at_once[k])} at once, "
                f"≤ {_cap_text(per_year_cap[k])} stints a year"
                for k in range(at_once.size)
                if np.isfinite(at_once[k]) or np.isfinite(per_year_cap[k])
            ),
            "peak away / most stints started in a plan year: "
            + ", ".join(
                f"{inst.hospitals[k]} {int(away_h[k])} / {int(started[k])}"
                for k in range(at_once.size)
                if np.isfinite(at_once[k]) or np.isfinite(per_year_cap[k])
            ),
            not over_h,
            rel.source,
        )
    over = int((tot > inst.host_capacity[:, None]).sum())
    add(
        "host_capacity",
        "≤ capacity of each host",
        f"{over} host-months over",
        over == 0,
        "hosts file",
    )
    add(
        "min_months_between_starts",
        f"one stint per doctor in any {inst.window} months",
        "checked per doctor" if not ev.violations else f"{len(ev.violations)} violations",
        not any("min_months_between_starts" in v for v in ev.violations),
        "MODELS.md §4.3: one posting at a time, one stint a year",
    )
    return rows


def _cap_text(v: float) -> str:
    return "no limit" if not np.isfinite(v) else f"{v:g}"


def hosts_lacking(sol: RotationSolution) -> list[dict[str, object]]:
    """Host x specialty pairs with unmet need (story 4: which towns still lack a specialty)."""
    inst = sol.instance
    ev = sol.evaluation
    assert ev is not None
    unmet = np.maximum(inst.need - ev.presence, 0)
    out = []
    for f, s in np.argwhere(unmet.sum(axis=2) > 0):
        months = np.flatnonzero(unmet[f, s] > 0) + 1
        out.append(
            {
                "host_id": str(inst.host_ids[f]),
                "host_name": str(inst.host_names[f]),
                "specialty": inst.specialties[s],
                "unmet_doctor_months": _round(float(unmet[f, s].sum()), 3),
                "months": [inst.label(int(t)) for t in months],
            }
        )
    out.sort(key=lambda r: (-float(r["unmet_doctor_months"] or 0), str(r["host_id"])))
    return out


def calendar_table(sol: RotationSolution) -> pd.DataFrame:
    inst = sol.instance
    cols = [
        "doctor_id",
        "hospital",
        "specialty",
        "host_id",
        "host_name",
        "host_type",
        "start_month",
        "end_month",
        "start",
        "months",
        "travel_min",
    ]
    rows = []
    for x in sol.stints:
        h = int(inst.doctor_hospital[x.doctor])
        rows.append(
            [
                str(inst.doctor_ids[x.doctor]),
                inst.hospitals[h],
                inst.specialties[int(inst.doctor_specialty[x.doctor])],
                str(inst.host_ids[x.host]),
                str(inst.host_names[x.host]),
                str(inst.host_types[x.host]),
                inst.label(x.start),
                inst.label(x.end),
                x.start,
                x.months,
                round(float(inst.travel_min[h, x.host]), 3),
            ]
        )
    frame = pd.DataFrame(rows, columns=cols)
    return frame.sort_values(["start", "host_id", "doctor_id"], kind="stable").reset_index(
        drop=True
    )


def host_coverage_table(sol: RotationSolution) -> pd.DataFrame:
    inst = sol.instance
    ev = sol.evaluation
    assert ev is not None
    within = np.asarray(inst.cover.T.astype(float) @ inst.weight).ravel()
    rows = []
    for f in range(inst.n_hosts):
        for s, spec in enumerate(inst.specialties):
            pres = ev.presence[f, s]
            need = inst.need[f, s]
            if pres.sum() == 0 and need.sum() == 0:
                continue
            rows.append(
                {
                    "host_id": str(inst.host_ids[f]),
                    "host_name": str(inst.host_names[f]),
                    "host_type": str(inst.host_types[f]),
                    "specialty": spec,
                    "months_present": int((pres > 0).sum()),
                    "doctor_months": int(pres.sum()),
                    "need_doctor_months": round(float(need.sum()), 3),
                    "unmet_doctor_months": round(float(np.maximum(need - pres, 0).sum()), 3),
                    "residents_within_circle": round(float(within[f]), 3),
                }
            )
    cols = [
        "host_id",
        "host_name",
        "host_type",
        "specialty",
        "months_present",
        "doctor_months",
        "need_doctor_months",
        "unmet_doctor_months",
        "residents_within_circle",
    ]
    return (
        pd.DataFrame(rows, columns=cols)
        .sort_values(["host_id", "specialty"], kind="stable")
        .reset_index(drop=True)
    )


def release_table(sol: RotationSolution) -> pd.DataFrame:
    inst = sol.instance
    ev = sol.evaluation
    assert ev is not None
    cap = inst.away_cap()
    years = inst.plan_years()
    rows = []
    for h, hosp in enumerate(inst.hospitals):
        for s, spec in enumerate(inst.specialties):
            listed = int(((inst.doctor_hospital == h) & (inst.doctor_specialty == s)).sum())
            if listed == 0 and inst.dept_staff[h, s] == 0:
                continue
            away = ev.away[h, s]
            mine = [
                x
                for x in ev.stints
                if inst.doctor_hospital[x.doctor] == h and inst.doctor_specialty[x.doctor] == s
            ]
            row: dict[str, object] = {
                "hospital": hosp,
                "specialty": spec,
                "department_staff": int(inst.dept_staff[h, s]),
                "doctors_listed": listed,
                "max_away_allowed": int(cap[h, s]),
                "max_away": int(away.max(initial=0)),
                "peak_month": inst.label(int(away.argmax()) + 1) if away.size else "",
                "doctor_months_away": int(away.sum()),
                "stints": len(mine),
            }
            for y, (m0, m1) in enumerate(years):
                row[f"stints_started_year{y + 1}"] = sum(1 for x in mine if m0 <= x.start <= m1)
            row["compliant"] = int(away.max(initial=0) <= cap[h, s])
            rows.append(row)
    return pd.DataFrame(rows)


def _font_family() -> str | None:
    """A font with CJK glyphs if one is installed (else labels fall back to ASCII ids)."""
    from matplotlib import font_manager

    wanted = ("Noto Sans CJK", "Noto Serif CJK", "WenQuanYi", "SimHei", "Microsoft YaHei",
              "PingFang", "Source Han Sans", "Droid Sans Fallback", "AR PL")  # fmt: skip
    for f in font_manager.fontManager.ttflist:
        if any(w in f.name for w in wanted):
            return str(f.name)
    return None


def gantt_png(sol: RotationSolution, path: Path) -> None:
    """The rotation calendar as a Gantt chart (matplotlib, Agg canvas; no global state)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.patches import Patch

    inst = sol.instance
    stints = sol.stints
    cjk = _font_family()

    def text(s: str, fallback: str) -> str:
        return s if (s.isascii() or cjk) else fallback

    spec_label = [text(s, f"specialty {k + 1}") for k, s in enumerate(inst.specialties)]
    colours = [
        "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
        "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf",
    ]  # fmt: skip
    by_doctor = len(stints) <= 80
    if by_doctor:
        rows = sorted({x.doctor for x in stints}, key=lambda d: str(inst.doctor_ids[d]))
        ylab = [text(str(inst.doctor_ids[d]), f"doctor {d + 1}") for d in rows]
        pos = {d: k for k, d in enumerate(rows)}
        bars = [
            (pos[x.doctor], x.start, x.months, int(inst.doctor_specialty[x.doctor]),
             text(str(inst.host_ids[x.host]), f"host {x.host + 1}"))
            for x in stints
        ]  # fmt: skip
        title = "Rotation calendar by doctor (bar label: host)"
    else:
        # One row per host x specialty sub-lane: overlapping stints get their own sub-lane
        # (interval partitioning), each stint is its own bar labelled with its doctor.
        lanes: dict[tuple[int, int], list[int]] = {}
        placed: list[tuple[tuple[int, int], int, Any]] = []
        for x in sorted(
            stints, key=lambda x: (x.host, int(inst.doctor_specialty[x.doctor]), x.start)
        ):
            key = (x.host, int(inst.doctor_specialty[x.doctor]))
            ends = lanes.setdefault(key, [])
            lane = next((k for k, e in enumerate(ends) if e < x.start), len(ends))
            if lane == len(ends):
                ends.append(x.end)
            else:
                ends[lane] = x.end
            placed.append((key, lane, x))
        order = sorted(lanes, key=lambda k: (str(inst.host_ids[k[0]]), k[1]))
        row_of: dict[tuple[tuple[int, int], int], int] = {}
        ylab = []
        for key in order:
            f, s_ = key
            for lane in range(len(lanes[key])):
                row_of[(key, lane)] = len(ylab)
                host = (
                    text(str(inst.host_names[f]), str(inst.host_ids[f]))
                    if cjk
                    else str(inst.host_ids[f])
                )
                ylab.append(f"{host} · {spec_label[s_]}" if lane == 0 else "")
        bars = [
            (row_of[(key, lane)], x.start, x.months, key[1],
             text(str(inst.doctor_ids[x.doctor]), ""))
            for key, lane, x in placed
        ]  # fmt: skip
        title = "Rotation calendar by host and specialty (bar label: doctor)"
    n = max(len(ylab), 1)
    fig = Figure(figsize=(11, min(0.28 * n + 1.8, 120)), dpi=100)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot(111)
    if cjk:
        for item in [ax.title, ax.xaxis.label, ax.yaxis.label]:
            item.set_fontfamily(cjk)
    for y, start, length, s, lab in bars:
        ax.barh(y, length, left=start - 0.5, height=0.7, color=colours[s % len(colours)],
                edgecolor="white", linewidth=0.5)  # fmt: skip
        if length >= 2:
            ax.text(start - 0.5 + length / 2, y, lab, ha="center", va="center", fontsize=6,
                    color="white", family=cjk or "sans-serif")  # fmt: skip
    ax.set_yticks(range(len(ylab)))
    ax.set_yticklabels(ylab, fontsize=6, family=cjk or "sans-serif")
    ax.set_ylim(n - 0.5, -0.5)
    ax.set_xlim(0.5, inst.months + 0.5)
    step = 1 if inst.months <= 12 else 2
    ticks = list(range(1, inst.months + 1, step))
    ax.set_xticks(ticks)
    ax.set_xticklabels([inst.label(t) for t in ticks], rotation=45, ha="right", fontsize=7)
    ax.set_title(title, fontsize=9, pad=16)
    ax.grid(axis="x", alpha=0.3)
    handles = [
        Patch(color=colours[k % len(colours)], label=spec_label[k])
        for k in range(len(inst.specialties))
    ]
    ax.legend(
        handles=handles,
        fontsize=7,
        loc="lower center",
        bbox_to_anchor=(0.5, 1.0),
        ncols=min(len(handles), 5),
        frameon=False,
    )
    fig.tight_layout()
    fig.savefig(path, format="png")


def rotation_summary(sol: RotationSolution, out_dir: Path | None) -> list[str]:
    inst = sol.instance
    lines = [
        f"Data: {inst.n_doctors:,} doctors from {len(inst.hospitals)} hospitals, "
        f"{inst.n_hosts:,} hosts, {len(inst.specialties)} specialties, {inst.months} months "
        f"({inst.label(1)}–{inst.label(inst.months)}); {inst.weight.sum():,.0f} residents",
    ]
    if inst.residents_note:
        lines.append(f"      residents: {inst.residents_note}")
    if sol.model_size:
        ms = sol.model_size
        lines.append(
            f"Model: {ms.get('doctor_groups', 0):,} groups of identical doctors, "
            f"{ms.get('stint_options', 0):,} stint options, {ms.get('resident_groups', 0):,} "
            f"resident groups; {ms['rows']:,} rows x {ms['columns']:,} columns; "
            f"built in {sol.build_time_s:.2f} s"
        )
    lines.append(_status_line(sol))
    if sol.diagnosis:
        lines.append("Why no rotation exists:")
        lines += [f"  {d}" for d in sol.diagnosis]
    ev = sol.evaluation
    if ev is not None:
        lines.append(
            f"Objective: {sol.objective:,.6g} (recomputed on the raw data; bound {_fmt(sol.bound)}) "
            f"= coverage {ev.coverage:,.6g} - travel {ev.travel:,.6g} - shortfall "
            f"{inst.weights.shortfall_per_doctor_month * ev.shortfall:,.6g} - fairness "
            f"{inst.weights.fairness * ev.fairness:,.6g}"
        )
        starts = np.asarray([x.start for x in ev.stints], dtype=np.int64)
        per_year = [int(((starts >= a) & (starts <= b)).sum()) for a, b in inst.plan_years()]
        lines.append(
            f"Stints: {len(ev.stints):,} by {len({x.doctor for x in ev.stints}):,} doctors, "
            f"{sum(x.months for x in ev.stints):,} doctor-months"
            + (
                f"; starting per plan year: {', '.join(f'{v:,}' for v in per_year)}"
                if per_year
                else ""
            )
        )
        for r in rotation_compliance(sol):
            lines.append(
                f"  {'ok ' if r['met'] else 'NO '} {r['rule']:<26} {r['achieved']}  (required {r['required']})"
            )
        lack = hosts_lacking(sol)
        if lack:
            lines.append(f"Hosts still lacking a specialty ({len(lack)} host x specialty pairs):")
            for row in lack[:10]:
                lines.append(
                    f"  {row['host_name'] or row['host_id']} {row['specialty']}: "
                    f"{row['unmet_doctor_months']:g} doctor-months unmet"
                )
        unplaced = unplaced_doctors(inst, ev.stints)
        if unplaced:
            lines.append(f"Doctors not sent ({len(unplaced)}; unplaced_doctors.csv):")
            for u in unplaced[:10]:
                lines.append(
                    f"  {u['doctor_id']} ({u['hospital']}, {u['specialty']}): {u['detail']}"
                )
            if len(unplaced) > 10:
                lines.append(f"  ... and {len(unplaced) - 10} more")
    if out_dir is not None:
        lines.append(
            f"Results: {out_dir}/ (solution.json, calendar.csv, gantt.png, host_coverage.csv, "
            "release.csv, unplaced_doctors.csv, compliance.csv, summary.txt, report.html, "
            "manifest.json)"
        )
    return lines


# ---------------------------------------------------------------------------------------------
# Both
# ---------------------------------------------------------------------------------------------
def _fmt(v: float | None) -> str:
    return "-" if v is None else f"{v:,.6g}"


def _status_line(sol: QuotaSolution | RotationSolution) -> str:
    line = (
        f"Status: {sol.status.label}   gap {_pct(sol.gap)}   solver {sol.solver} "
        f"{sol.solver_version}   {sol.runtime_s:.2f} s (total {sol.total_time_s:.2f} s)"
    )
    if sol.status.value == "feasible":
        line += (
            f"\n  !! A limit stopped the search: the plan below is the best found, within "
            f"{_pct(sol.gap)} of the proven bound {_fmt(sol.bound)}. Raise solver.time_limit_s "
            "to prove optimality."
        )
    return line


def summary_text(
    case: StaffingCase, sol: QuotaSolution | RotationSolution, out_dir: Path | None = None
) -> str:
    cfg = case.config
    kind = "编制 quota allocation" if cfg.kind == "staffing_quota" else "sent-down (下沉) rotations"
    lines = [f"Case: {cfg.name}  ({case.label})", f"Model: {kind}"]
    if isinstance(sol, QuotaSolution):
        lines += quota_summary(case, sol, out_dir)
    else:
        lines += rotation_summary(sol, out_dir)
    return "\n".join(lines) + "\n"


def manifest_dict(
    case: StaffingCase,
    sol: QuotaSolution | RotationSolution,
    inputs: dict[str, str],
    files: list[str],
) -> dict[str, Any]:
    versions = {
        "county-health-siting": __version__,
        "python": sys.version.split()[0],
        "platform": platform.platform(),
    }
    for mod in ("numpy", "scipy", "pandas", "highspy", "ortools", "pydantic", "matplotlib"):
        try:
            versions[mod] = __import__(mod).__version__
        except Exception:  # optional packages may be absent or lack __version__
            versions[mod] = "unknown"
    versions["solver"] = f"{sol.solver} {sol.solver_version}".strip()
    return {
        "case_file": case.label,
        "case_sha256": case.sha256,
        "inputs_sha256": inputs,
        "versions": versions,
        "seed": case.config.solver.seed,
        "status": sol.status.value,
        "gap": sol.gap,
        "runtime_s": sol.runtime_s,
        "files": sorted(files),
    }


def write_staffing_results(
    case: StaffingCase,
    sol: QuotaSolution | RotationSolution,
    out_dir: Path,
    inputs: dict[str, str],
) -> list[str]:
    """Write every output file atomically (staged, then published together)."""
    with StagedOutput(out_dir) as out:
        if isinstance(sol, QuotaSolution):
            out.json("solution.json", quota_solution_dict(case, sol))
            out.csv("posts.csv", posts_table(sol))
            if sol.evaluation is not None:
                out.csv("compliance.csv", compliance_table(sol.evaluation.compliance))
        else:
            out.json("solution.json", rotation_solution_dict(case, sol))
            if sol.evaluation is not None:
                out.csv("calendar.csv", calendar_table(sol))
                out.csv("host_coverage.csv", host_coverage_table(sol))
                out.csv("release.csv", release_table(sol))
                out.csv(
                    "unplaced_doctors.csv",
                    pd.DataFrame(
                        unplaced_doctors(sol.instance, sol.stints),
                        columns=["doctor_id", "hospital", "specialty", "reason", "detail"],
                    ),
                )
                rows = rotation_compliance(sol)
                frame = pd.DataFrame(
                    rows, columns=["rule", "required", "achieved", "met", "source"]
                )
                frame["met"] = frame["met"].astype(int)
                out.csv("compliance.csv", frame)
                out.write_with("gantt.png", lambda p: gantt_png(sol, p))
        out.text("summary.txt", summary_text(case, sol, out_dir))
        from ..report import write_report
        from . import report as _section  # noqa: F401  (registers the staffing section)

        write_report(out)  # report.html from the staged files (optimizer.report)
        names = [*out.names, "manifest.json"]
        out.json("manifest.json", manifest_dict(case, sol, inputs, names))
    log.info("Wrote %d files to %s", len(names), out_dir)
    return names
