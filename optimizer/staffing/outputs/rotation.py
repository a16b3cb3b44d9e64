"""Sent-down run-folder parts: ``solution.json`` dict, calendar, host coverage, release,
rule compliance and the summary lines."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..config import RotationCase, StaffingCase
from ..rotation import RotationSolution, unplaced_doctors
from .common import fmt, header, rounded, solver_block, status_line


def rotation_solution_dict(case: StaffingCase, sol: RotationSolution) -> dict[str, Any]:
    inst = sol.instance
    cfg = case.config
    assert isinstance(cfg, RotationCase)
    out = header(case, sol)
    out |= {
        "objective": rounded(sol.objective),
        "objective_sense": "max",
        "objective_meaning": "weighted resident-months within a host's service circle with the "
        "specialty present, minus travel, shortfall and fairness penalties",
        "best_bound": rounded(sol.bound),
        "gap": rounded(sol.gap, 9),
        "build_time_s": rounded(sol.build_time_s, 3),
        "runtime_s": rounded(sol.runtime_s, 3),
        "total_time_s": rounded(sol.total_time_s, 3),
        "solver": solver_block(case, sol),
        "horizon": {"months": inst.months, "first": inst.label(1), "last": inst.label(inst.months)},
        "rules": cfg.rules.model_dump(),
        "weights": cfg.weights.model_dump(),
        "specialty_value": dict(zip(inst.specialties, map(float, inst.value), strict=True)),
        "residents": {
            "total": rounded(float(inst.weight.sum()), 3),
            "within_a_circle": rounded(float(inst.weight[np.diff(inst.cover.indptr) > 0].sum()), 3),
            "note": inst.residents_note,
        },
        "model_size": sol.model_size,
        "diagnosis": sol.diagnosis,
    }
    ev = sol.evaluation
    if ev is not None:
        starts = np.asarray([x.start for x in ev.stints], dtype=np.int64)
        out["objective_terms"] = {k: rounded(v) for k, v in ev.terms.items()}
        out["stints"] = {
            "total": len(ev.stints),
            "doctors_sent": len({x.doctor for x in ev.stints}),
            "doctor_months": int(sum(x.months for x in ev.stints)),
            "by_plan_year": [
                int(((starts >= m0) & (starts <= m1)).sum()) for m0, m1 in inst.plan_years()
            ],
        }
        out["covered_resident_months"] = {
            s: rounded(float(v), 3)
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
    add(*_share_away_row(sol))
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
    add(*_annual_row(sol))
    trav = [float(inst.travel_min[inst.doctor_hospital[x.doctor], x.host]) for x in ev.stints]
    add(
        "max_travel_min",
        f"≤ {r.max_travel_min.value:g} min hospital → host",
        f"max {max(trav, default=0):.0f} min",
        (not r.max_travel_min.enabled) or all(t <= r.max_travel_min.value for t in trav),
        r.max_travel_min.source,
    )
    release = _release_row(sol)
    if release is not None:
        add(*release)
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


_Row = tuple[str, str, str, bool, str]
"""(rule, required, achieved, met, source)."""


def _share_away_row(sol: RotationSolution) -> _Row:
    """Department share away at once: the highest share reached and the departments over."""
    inst, r = sol.instance, sol.instance.rules
    ev = sol.evaluation
    assert ev is not None
    cap = inst.away_cap()
    peak = ev.away.max(axis=2) if ev.away.size else np.zeros_like(cap)
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.where(inst.dept_staff > 0, peak / np.maximum(inst.dept_staff, 1), 0.0)
    worst = np.unravel_index(int(share.argmax()), share.shape) if share.size else (0, 0)
    return (
        "max_share_away",
        f"≤ {100 * r.max_share_away.value:g}% of each department away at once "
        "(floor of the share × headcount)",
        f"highest {100 * float(share.max(initial=0)):.1f}% ({inst.hospitals[worst[0]]} "
        f"{inst.specialties[worst[1]]}: {int(peak[worst])} of {int(inst.dept_staff[worst])}); "
        f"{int((peak > cap).sum())} departments over",
        bool((peak <= cap).all()),
        r.max_share_away.source,
    )


def _annual_row(sol: RotationSolution) -> _Row:
    """Stints starting in each full plan year against the annual total."""
    inst = sol.instance
    ev = sol.evaluation
    assert ev is not None
    starts = np.asarray([x.start for x in ev.stints], dtype=np.int64)
    ann = inst.rules.annual_total
    years = inst.plan_years()
    per_year = [int(((starts >= m0) & (starts <= m1)).sum()) for m0, m1 in years]
    return (
        "annual_total",
        f"≥ {ann.value:,.0f} stints starting in each full plan year"
        if ann.enabled
        else "not enabled",
        (", ".join(f"year {k + 1}: {v:,}" for k, v in enumerate(per_year)) or "no full plan year")
        + ("" if years else f" (horizon {inst.months} months)"),
        (not ann.enabled) or all(v >= ann.value for v in per_year),
        ann.source,
    )


def _release_row(sol: RotationSolution) -> _Row | None:
    """Hospital release caps (at once, per plan year), or None when no hospital has one."""
    inst = sol.instance
    ev = sol.evaluation
    assert ev is not None
    at_once, per_year_cap = inst.release_caps()
    if not (np.isfinite(at_once).any() or np.isfinite(per_year_cap).any()):
        return None
    starts = np.asarray([x.start for x in ev.stints], dtype=np.int64)
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
    capped = [
        k for k in range(at_once.size) if np.isfinite(at_once[k]) or np.isfinite(per_year_cap[k])
    ]
    return (
        "hospital_release",
        "per hospital: "
        + ", ".join(
            f"{inst.hospitals[k]} ≤ {_cap_text(at_once[k])} at once, "
            f"≤ {_cap_text(per_year_cap[k])} stints a year"
            for k in capped
        ),
        "peak away / most stints started in a plan year: "
        + ", ".join(f"{inst.hospitals[k]} {int(away_h[k])} / {int(started[k])}" for k in capped),
        not over_h,
        inst.rules.hospital_release.source,
    )


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
                "unmet_doctor_months": rounded(float(unmet[f, s].sum()), 3),
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
            f"resident groups; {ms['rows']:,} rows x {ms['columns']:,} columns"
        )  # the build time is in timings.json: summary.txt is the same on a rerun
    lines.append(status_line(sol))
    if sol.diagnosis:
        lines.append("Why no rotation exists:")
        lines += [f"  {d}" for d in sol.diagnosis]
    ev = sol.evaluation
    if ev is not None:
        lines.append(
            f"Objective: {sol.objective:,.6g} (recomputed on the raw data; bound {fmt(sol.bound)}) "
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
            "release.csv, unplaced_doctors.csv, compliance.csv, results.xlsx, summary.txt, "
            "report.html, manifest.json)"
        )
    return lines
