"""A ``compare``'s totals against each run's own folder, recomputed apart.

:func:`optimizer.report.compare.compare_runs` builds the side-by-side totals of two runs. Here
each total is taken again from the run folder it describes, without that module: the solver
figures (status, objective, gap, cost) from ``solution.json`` read with :mod:`json`; coverage
shares (residents, footfall apart) recomputed from ``demand.csv``
(:func:`optimizer.handoff.shares.recount`); open and new sites per type counted in ``sites.csv``.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .population import read_rows
from .shares import SHARE_TOL, recount

__all__ = ["check_compare_totals", "run_totals"]


def run_totals(folder: Path) -> dict[str, Any]:
    """The totals of one run folder, keyed as the compare page keys them."""
    sol = json.loads((folder / "solution.json").read_text(encoding="utf-8"))
    out: dict[str, Any] = {
        "status": sol.get("status_text"),
        "objective": sol.get("objective"),
        "gap": sol.get("gap"),
    }
    cost = sol.get("cost") or {}
    out[f"cost ({cost.get('unit', '')})"] = cost.get("total")
    names = list(sol.get("coverage") or {})
    if (folder / "demand.csv").exists() and names:
        rows = read_rows(folder / "demand.csv")
        have = [s for s in names if rows and f"covered_{s}" in rows[0]]
        for s, rc in recount(rows, have).items():
            out[f"share:{s}"] = rc.share
            if rc.footfall > 0:
                out[f"footfall_share:{s}"] = rc.footfall_share
    if (folder / "sites.csv").exists() and sol.get("counts"):
        for row in read_rows(folder / "sites.csv"):
            t = row.get("facility_type", "")
            status = row.get("status", "")
            for key, hit in (
                ("sites_open", status in ("new", "kept")),
                ("sites_new", status == "new"),
            ):
                out[f"{key}:{t}"] = out.get(f"{key}:{t}", 0) + int(hit)
    return out


def _same(a: Any, b: Any, pct: bool) -> bool:
    if a is None or b is None:
        return a is None and b is None
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        tol = SHARE_TOL if pct else 1e-9 * max(1.0, abs(float(b)))
        return abs(float(a) - float(b)) <= tol
    return str(a) == str(b)


def check_compare_totals(
    run_a: Path, run_b: Path, totals: Sequence[tuple[str, Any, Any, str]]
) -> list[str]:
    """Violations: a compare total that differs from the run folder it was taken from."""
    own = {"A": run_totals(Path(run_a)), "B": run_totals(Path(run_b))}
    out = []
    for key, va, vb, kind in totals:
        for side, value in (("A", va), ("B", vb)):
            if key not in own[side]:
                continue
            want = own[side][key]
            if not _same(value, want, kind == "pct"):
                out.append(f"compare total '{key}' of run {side} is {value}, the run has {want}")
    return out
