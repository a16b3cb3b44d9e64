"""Write a coverage (or phased) run folder atomically: tables, layers, workbook, report, manifest."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from optimizer.workbook import write_workbook

from ...atomic import StagedOutput
from ...handoff import require_consistent_folder
from ...outputs.common import manifest_dict
from ...outputs.layers import write_layers
from .layers import coverage_layers
from .outputs import coverage_summary, demand_table, sites_table, solution_dict, zones_table

__all__ = ["write_coverage_results"]

log = logging.getLogger(__name__)


def write_coverage_results(prepared: Any, sol: Any, out_dir: Path) -> list[str]:
    """Write every output file of a covering (or phased) run atomically (staged, then
    published together)."""
    from ...report import write_report

    opts = prepared.case.config.output
    with StagedOutput(out_dir, csv_encoding=opts.csv_encoding) as out:
        out.json("solution.json", solution_dict(prepared, sol))
        out.csv("demand.csv", demand_table(sol))
        out.csv("sites.csv", sites_table(sol))
        if sol.problem.zone_ids():
            out.csv("zones.csv", zones_table(sol))
        layers = coverage_layers(prepared, sol)
        write_layers(out, prepared, sol, layers)  # layers.gpkg, geojson/, layers.json
        out.text(
            "summary.txt", coverage_summary(prepared, sol)
        )  # no path, no times: same on a rerun
        write_workbook(out, lang=opts.lang)  # results.xlsx: every table as a sheet
        write_report(out, lang=opts.lang)  # report.html from the staged files (optimizer.report)
        require_consistent_folder(out.path("solution.json").parent)  # optimizer.handoff
        names = [*out.names, "manifest.json"]
        out.json("manifest.json", manifest_dict(prepared, sol, names))
    log.info("Wrote %d files to %s", len(names), out_dir)
    return names
