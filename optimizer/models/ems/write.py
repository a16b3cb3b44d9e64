"""Write a 120 (EMS) run folder atomically: tables, GIS layers, workbook, report, manifest."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ...outputs.folder import write_run_folder
from .layers import build_ems_layers
from .outputs import ems_solution_dict, ems_summary, ems_tables
from .solve import EmsSolution

__all__ = ["write_ems_results"]


def write_ems_results(prepared: Any, sol: EmsSolution, out_dir: Path) -> list[str]:
    """Write every output file of a 120 run (tables, GIS layers, report.html), published whole."""
    return write_run_folder(
        prepared,
        sol,
        out_dir,
        solution=ems_solution_dict(prepared, sol),
        tables=ems_tables(sol),
        layers=lambda: build_ems_layers(prepared, sol),
        summary=ems_summary(prepared, sol),
    )
