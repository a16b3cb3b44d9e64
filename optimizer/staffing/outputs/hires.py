"""Reserved-hires run-folder parts: ``solution.json`` blocks, ``reserved_hires.csv``, summary."""

from __future__ import annotations

from typing import Any

import pandas as pd

from ..quota.hires import HiresSolution
from .common import fmt, pct, rounded

HIRES_COLUMNS = [
    "hospital",
    "facility_id",
    "facility_name",
    "category",
    "vacancies",
    "reserved_hires",
    "service_years",
]


def hires_dict(sol: HiresSolution) -> dict[str, Any]:
    """``solution.json › reserved_hires``: status, objective (weighted unfilled posts), bound,
    gap, per-hospital totals and the band; the compliance rows go to ``reserved_hires_compliance``."""
    h = sol.instance
    cfg = h.config
    lo, hi = h.band()
    out: dict[str, Any] = {
        "status": sol.status.value,
        "objective": rounded(sol.objective),
        "objective_meaning": "weighted grassroots posts left unfilled (category shortfall_weight)",
        "best_bound": rounded(sol.bound),
        "gap": rounded(sol.gap, 9),
        "min_share": cfg.min_share,
        "max_share": cfg.max_share,
        "service_years": cfg.service_years,
        "facility_types": list(cfg.facility_types),
        "vacancies": int(h.vacancies.sum()),
        "message": sol.message,
        "diagnosis": sol.diagnosis,
        "source": cfg.source,
    }
    ev = sol.evaluation
    out["hospitals"] = [
        {
            "hospital": name,
            "new_hires": int(h.new_hires[k]),
            "min_reserved": int(lo[k]),
            "max_reserved": int(hi[k]),
            "reserved": None if ev is None else int(ev.hires[k].sum()),
        }
        for k, name in enumerate(h.hospitals)
    ]
    if ev is not None:
        out["reserved_total"] = int(ev.hires.sum())
        out["unfilled_posts"] = ev.unfilled_posts
    return out


def hires_compliance(sol: HiresSolution) -> dict[str, Any]:
    """``solution.json › reserved_hires_compliance``: the band per hospital, service years."""
    ev = sol.evaluation
    rows = [] if ev is None else ev.compliance
    return {
        "checks": len(rows),
        "met": sum(1 for r in rows if r["met"]),
        "table": rows,
    }


def hires_table(sol: HiresSolution) -> pd.DataFrame:
    """``reserved_hires.csv``: one row per hospital and post with reserved hires."""
    h, ev = sol.instance, sol.evaluation
    rows = []
    if ev is not None:
        for k, g in zip(*ev.hires.nonzero(), strict=True):
            rows.append(
                {
                    "hospital": h.hospitals[k],
                    "facility_id": h.post_facility[g],
                    "facility_name": h.post_name[g],
                    "category": h.post_category[g],
                    "vacancies": int(h.vacancies[g]),
                    "reserved_hires": int(ev.hires[k, g]),
                    "service_years": h.config.service_years,
                }
            )
    frame = pd.DataFrame(rows, columns=HIRES_COLUMNS)
    return frame.sort_values(["hospital", "facility_id", "category"], kind="stable").reset_index(
        drop=True
    )


def hires_compliance_rows(sol: HiresSolution) -> list[dict[str, object]]:
    """The band and service-years checks as ``compliance.csv`` rows."""
    ev = sol.evaluation
    if ev is None:
        return []
    return [
        {
            "scope": r["scope"],
            "facility_id": r["zone"],
            "norm": r["norm"],
            "required": r["required"],
            "achieved": r["achieved"],
            "met": r["met"],
            "source": r["source"],
        }
        for r in ev.compliance
    ]


def hires_summary(sol: HiresSolution) -> list[str]:
    """Summary lines: status, reserved hires per hospital against the band, posts left."""
    h = sol.instance
    cfg = h.config
    lines = [
        f"Reserved hires ({100 * cfg.min_share:g}-{100 * cfg.max_share:g}% of new hires, "
        f">= {cfg.min_service_years} years at {', '.join(cfg.facility_types)}): "
        f"{sol.status.label}; {int(h.vacancies.sum()):,} vacant posts"
    ]
    lines += [f"  {d}" for d in sol.diagnosis]
    ev = sol.evaluation
    if ev is None:
        return lines
    lo, hi = h.band()
    for k, name in enumerate(h.hospitals):
        lines.append(
            f"  {name}: {int(ev.hires[k].sum())} of {int(h.new_hires[k])} new hires "
            f"(band {lo[k]}-{hi[k]})"
        )
    lines.append(
        f"  filled {int(ev.hires.sum()):,}, unfilled {ev.unfilled_posts:,} posts "
        f"(weighted {fmt(sol.objective)}, bound {fmt(sol.bound)}, gap {pct(sol.gap)}); "
        "reserved_hires.csv"
    )
    return lines
