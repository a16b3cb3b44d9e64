"""Parts shared by the staffing run folders: rounding, the case header, the solver block, status."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from ..config import RotationCase, StaffingCase

if TYPE_CHECKING:
    from ..quota import QuotaSolution
    from ..rotation import RotationSolution


def rounded(x: float | None, nd: int = 6) -> float | None:
    return None if x is None or not np.isfinite(x) else round(float(x), nd)


def pct(x: float | None) -> str:
    return "-" if x is None else f"{100 * x:.4f}%"


def header(case: StaffingCase, sol: QuotaSolution | RotationSolution) -> dict[str, Any]:
    cfg = case.config
    return {
        "case": {
            "name": cfg.name,
            "kind": cfg.kind,
            "description": cfg.description,
            "file": case.label,
            "sha256": case.sha256,
        },
        "status": sol.status.value,
        "status_text": sol.status.label,
        "checked_on_raw_data": sol.checked,
        "travel_times_check": _travel_check(cfg),
    }


def _travel_check(cfg: Any) -> dict[str, dict[str, str]]:
    """Staffing cases read travel times as given tables (no roads): say they are not checked."""
    from ...certify_roads import NOT_CHECKED

    out: dict[str, dict[str, str]] = {}
    if isinstance(cfg, RotationCase):
        out["travel"] = {"status": NOT_CHECKED, "file": cfg.travel.file}
        if cfg.coverage is not None:
            out["coverage.travel_times"] = {
                "status": NOT_CHECKED,
                "file": cfg.coverage.travel_times.file,
            }
    elif cfg.facilities.columns.travel_min is not None:
        out["facilities.travel_min"] = {"status": NOT_CHECKED, "file": cfg.facilities.file}
    return out


def solver_block(case: StaffingCase, sol: QuotaSolution | RotationSolution) -> dict[str, Any]:
    s = case.config.solver
    return {
        "backend": sol.solver or s.backend,
        "version": sol.solver_version,
        "message": sol.message,
        "time_limit_s": s.time_limit_s,
        "mip_rel_gap": s.mip_rel_gap,
        "threads": s.threads,
        "seed": s.seed,
    }


def fmt(v: float | None) -> str:
    return "-" if v is None else f"{v:,.6g}"


def status_line(sol: QuotaSolution | RotationSolution) -> str:
    line = (
        f"Status: {sol.status.label}   gap {pct(sol.gap)}   solver {sol.solver} "
        f"{sol.solver_version}"
    )
    if sol.status.value == "feasible":
        line += (
            f"\n  !! A limit stopped the search: the plan below is the best found, within "
            f"{pct(sol.gap)} of the proven bound {fmt(sol.bound)}. Raise solver.time_limit_s "
            "to prove optimality."
        )
    return line
