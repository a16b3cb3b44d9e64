"""Write a coverage (or phased) run folder atomically: tables, layers, workbook, report, manifest."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ...outputs.folder import write_run_folder
from .layers import coverage_layers
from .outputs import coverage_summary, demand_table, sites_table, solution_dict, zones_table

__all__ = ["write_coverage_results"]


def write_coverage_results(prepared: Any, sol: Any, out_dir: Path) -> list[str]:
    """Write every output file of a covering (or phased) run, published whole."""
    tables = {"demand.csv": demand_table(sol), "sites.csv": sites_table(sol)}
    if sol.problem.zone_ids():
        tables["zones.csv"] = zones_table(sol)
    return write_run_folder(
        prepared,
        sol,
        out_dir,
        solution=solution_dict(prepared, sol),
        tables=tables,
        layers=lambda: coverage_layers(prepared, sol),
        summary=coverage_summary(prepared, sol),
    )
