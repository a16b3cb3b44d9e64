"""Write one run folder: every family's solution.json, tables, layers, summary, workbook, report
and manifest, staged and published whole (:class:`optimizer.atomic.StagedOutput`)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pandas as pd

from ..atomic import StagedOutput
from ..handoff import require_consistent_folder
from ..workbook import workbook_bytes, write_workbook
from .common import manifest_dict
from .layers import Layer, write_layers

__all__ = ["write_run_folder"]

log = logging.getLogger(__name__)


def write_run_folder(
    prepared: Any,
    sol: Any,
    out_dir: Path,
    *,
    solution: dict[str, Any],
    tables: Mapping[str, pd.DataFrame],
    layers: Callable[[], list[Layer]],
    summary: str,
    check_handoff: bool = True,
) -> list[str]:
    """Stage ``solution.json``, the ``tables`` (CSV), the GIS ``layers`` (built inside the
    staging, so a failure leaves the old run whole), ``summary.txt`` (no path, no times: the
    same on a rerun), ``results.xlsx``, ``report.html`` (read from the staged files) and
    ``manifest.json``; publish them together. ``check_handoff`` recomputes the residents'
    totals across the staged tables (:func:`optimizer.handoff.require_consistent_folder`).
    Returns the file names written."""
    from ..report import write_report  # the report reads a run folder: above the families

    opts = prepared.case.config.output
    # The layers are built in a thread while this one writes the tables and composes the
    # workbook: their catchment polygons are GEOS work without the GIL, the workbook is
    # openpyxl in Python (default case: 1.7 s and 0.9 s, now overlapped). The files are
    # still written in one order, so the folder is the same file for file.
    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="layers")
    try:
        with StagedOutput(out_dir, csv_encoding=opts.csv_encoding) as out:
            built = pool.submit(layers)
            out.json("solution.json", solution)
            for name, frame in tables.items():
                out.csv(name, frame)
            book = workbook_bytes(out.tables, lang=opts.lang) if out.tables else None
            write_layers(out, prepared, sol, built.result())  # layers.gpkg, geojson/, layers.json
            out.text("summary.txt", summary)
            if book is not None:
                write_workbook(out, data=book)  # results.xlsx: every table as a sheet
            write_report(out, lang=opts.lang)
            if check_handoff:
                require_consistent_folder(out.path("solution.json").parent)
            names = [*out.names, "manifest.json"]
            out.json("manifest.json", manifest_dict(prepared, sol, names))
    finally:
        pool.shutdown(wait=False, cancel_futures=True)
    log.info("Wrote %d files to %s", len(names), out_dir)
    return names
