"""Compare two runs (plan A, plan B): what changes, what it costs, which norms each meets.

``python -m optimizer compare RUN_A RUN_B --out DIR`` writes, atomically:

``compare.html``
    one self-contained page (prints on one A4 landscape sheet): totals side by side (status,
    gap, cost, sites, coverage per standard, staff posts when present, norms met), sites added /
    removed / kept per type, coverage change per standard overall and per township with the
    demand points that gain or lose each standard, norms side by side, and a map of both plans.
``sites_diff.csv``
    every site in either run: open in A / in B, status in each, change (added / removed / kept).
``demand_diff.csv``
    every demand point in either run: covered per standard in A and B, change (gained / lost),
    nearest open site of each type in A and B and the change in travel time or distance.
``zones_diff.csv``
    every township: share per standard in A and B and the change; demand points and residents
    gaining / losing each standard; open sites per type in A and B.
``norms.csv``
    every norm check of either run (county and per township): required, achieved, met in A and B.

Runs of different cases are compared where their ids match; everything that does not match
(demand points, sites, zones or standards in only one run, different weights or thresholds) is
listed at the top of the page and counted in the tables.
"""

from __future__ import annotations

import logging
from pathlib import Path

from ..atomic import StagedOutput, check_out_dir
from ..errors import CheckError
from ..handoff.totals import check_compare_totals
from ..workbook import write_workbook
from .compare_diff import STAFFING_KINDS, Comparison, compare_runs
from .compare_page import render_compare
from .compare_staffing import STAFFING_TABLES
from .format import run_kind
from .rundata import RunData

__all__ = ["Comparison", "compare_runs", "render_compare", "write_compare"]

log = logging.getLogger(__name__)


def write_compare(
    run_a: str | Path,
    run_b: str | Path,
    out_dir: str | Path,
    *,
    lang: str = "zh",
    basemap: str = "none",
    tianditu_key: str | None = None,
) -> list[str]:
    """Compare two run folders and write compare.html and the diff tables into ``out_dir``."""
    check_out_dir(out_dir)  # an unusable --out is refused before reading the runs
    a = RunData.from_dir(run_a, "RUN_A", verify=True)
    b = RunData.from_dir(run_b, "RUN_B", verify=True)
    staffing = [run_kind(run.solution) in STAFFING_KINDS for run in (a, b)]
    for run, is_staffing in zip((a, b), staffing, strict=True):
        if not is_staffing:  # a staffing run has posts or a calendar instead
            run.require("sites", "demand")
    comp = compare_runs(a, b)
    violations = check_compare_totals(Path(run_a), Path(run_b), comp.totals)
    if violations:
        raise CheckError(["compare hand-off: " + v for v in violations])
    html = render_compare(comp, lang=lang, basemap=basemap, tianditu_key=tianditu_key)
    with StagedOutput(out_dir) as out:
        if comp.staffing_kind:
            if comp.staffing is not None:
                out.csv(STAFFING_TABLES[comp.staffing_kind][3], comp.staffing)
        else:
            out.csv("sites_diff.csv", comp.sites)
            out.csv("demand_diff.csv", comp.demand)
            out.csv("zones_diff.csv", comp.zones)
        out.csv("norms.csv", comp.norms)
        write_workbook(out, lang=lang, name="compare.xlsx")  # the diff tables for Excel
        out.text("compare.html", html)
        names = out.names
    log.info("Compared %s and %s: %d files in %s", run_a, run_b, len(names), out_dir)
    return names
