"""Hand-off checks: the numbers one stage hands to the next, recomputed independently.

Each check re-reads what the producing stage wrote (a siting run's ``demand.csv``, a run folder's
tables, two run folders under ``compare``) with the standard library only - it shares no code
with :mod:`optimizer.outputs`, :mod:`optimizer.staffing.tables` or :mod:`optimizer.report` - and
returns the violations it finds; callers raise :class:`optimizer.errors.CheckError` (exit code 3),
exactly as for an objective mismatch (issue 12).

* :func:`~optimizer.handoff.population.check_service_population` - residents per facility from a
  siting run: each resident counted once per layer, the partition adds up to the county total.
* :func:`~optimizer.handoff.shares.check_run_folder` - the coverage shares of ``solution.json``,
  ``zones.csv`` and ``summary.txt`` equal those recomputed from the folder's ``demand.csv``.
* :func:`~optimizer.handoff.assignment.check_assignment_folder` - a p-median or p-center run's
  per-site points, residents and trips in ``sites.csv`` equal those recomputed from ``demand.csv``.
* :func:`~optimizer.handoff.totals.check_compare_totals` - a ``compare``'s totals equal each run's.
"""

from __future__ import annotations

from pathlib import Path

from ..errors import CheckError
from .assignment import check_assignment_folder
from .population import check_service_population
from .shares import check_run_folder

__all__ = [
    "check_assignment_folder",
    "check_run_folder",
    "check_service_population",
    "require_consistent_folder",
]


def require_consistent_folder(folder: Path) -> None:
    """Raise CheckError when a (staged) run folder's shares disagree with its demand.csv."""
    violations = check_run_folder(folder) + check_assignment_folder(folder)
    if violations:
        raise CheckError(["run folder hand-off: " + v for v in violations])
