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
from pathlib import Path
from typing import Any

import pandas as pd

from optimizer.workbook import write_workbook

from ...atomic import StagedOutput
from ...outputs.common import package_versions
from ..config import StaffingCase
from ..quota import QuotaSolution
from ..rotation import RotationSolution, unplaced_doctors
from .gantt import gantt_png
from .hires import hires_compliance_rows, hires_table
from .quota import (
    capacity_rows,
    compliance_table,
    posts_table,
    quota_solution_dict,
    quota_summary,
)
from .rotation import (
    calendar_table,
    host_coverage_table,
    release_table,
    rotation_compliance,
    rotation_solution_dict,
    rotation_summary,
)

__all__ = ["summary_text", "write_staffing_results"]

log = logging.getLogger(__name__)


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
    versions = package_versions(
        ("numpy", "scipy", "pandas", "highspy", "ortools", "pydantic", "matplotlib")
    )
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


def _with_settings(data: dict[str, Any], settings: Any) -> dict[str, Any]:
    """The solver block records the settings the run used (CLI > case > default)."""
    if settings is not None and isinstance(data.get("solver"), dict):
        data["solver"].update(settings.record())
    return data


def write_staffing_results(
    case: StaffingCase,
    sol: QuotaSolution | RotationSolution,
    out_dir: Path,
    inputs: dict[str, str],
    settings: Any = None,
) -> list[str]:
    """Write every output file atomically (staged, then published together). ``settings``
    (:class:`optimizer.settings.SolveSettings`): what the solver block records, when given."""
    opts = case.config.output
    with StagedOutput(out_dir, csv_encoding=opts.csv_encoding) as out:
        if isinstance(sol, QuotaSolution):
            out.json("solution.json", _with_settings(quota_solution_dict(case, sol), settings))
            out.csv("posts.csv", posts_table(sol))
            if sol.evaluation is not None:
                rows = [*sol.evaluation.compliance, *capacity_rows(case, sol)]
                if sol.hires is not None:
                    rows += hires_compliance_rows(sol.hires)
                    out.csv("reserved_hires.csv", hires_table(sol.hires))
                out.csv("compliance.csv", compliance_table(rows))
        else:
            out.json("solution.json", _with_settings(rotation_solution_dict(case, sol), settings))
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
        out.text("summary.txt", summary_text(case, sol))  # no path, no times: same on a rerun
        from ...report import write_report
        from .. import report as _section  # noqa: F401  (registers the staffing section)

        write_workbook(out, lang=opts.lang)
        write_report(out, lang=opts.lang)  # report.html from the staged files (optimizer.report)
        names = [*out.names, "manifest.json"]
        out.json("manifest.json", manifest_dict(case, sol, inputs, names))
    log.info("Wrote %d files to %s", len(names), out_dir)
    return names
