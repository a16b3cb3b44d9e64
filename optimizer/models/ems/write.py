"""Write a 120 (EMS) run folder atomically: tables, GIS layers, workbook, report, manifest."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from optimizer.workbook import write_workbook

from ...atomic import StagedOutput
from ...handoff import require_consistent_folder
from ...outputs.common import manifest_dict
from ...outputs.layers import write_layers
from .layers import build_ems_layers
from .outputs import ems_solution_dict, ems_summary, ems_tables
from .solve import EmsSolution

__all__ = ["write_ems_results"]


def write_ems_results(prepared: Any, sol: EmsSolution, out_dir: Path) -> list[str]:
    """Write every output file atomically: tables, GIS layers and report.html."""
    from ...report import write_report

    opts = prepared.case.config.output
    with StagedOutput(out_dir, csv_encoding=opts.csv_encoding) as out:
        out.json("solution.json", ems_solution_dict(prepared, sol))
        for name, frame in ems_tables(sol).items():
            out.csv(name, frame)
        write_layers(out, prepared, sol, build_ems_layers(prepared, sol))
        out.text("summary.txt", ems_summary(prepared, sol))  # same on a rerun
        write_workbook(out, lang=opts.lang)
        write_report(out, lang=opts.lang)  # report.html from the staged files (optimizer.report)
        require_consistent_folder(out.path("solution.json").parent)  # optimizer.handoff
        names = [*out.names, "manifest.json"]
        out.json("manifest.json", manifest_dict(prepared, sol, names))
    return names
