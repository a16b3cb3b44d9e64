"""County capacity norms checked against given data (MISSION.md "other capacity").

Not siting decisions: the planner gives what the county has (CDC staff, infectious-disease
beds, county hospital beds) and the norm (1.75 CDC staff and 2.5 infectious-disease beds per
10,000 residents, Zhuji; 3.7 county beds per 1,000, Yueqing). Each check is

.. math::  \\text{have} \\ge \\text{min} \\times \\text{residents} / \\text{per}
           \\quad\\text{or}\\quad \\text{have} \\ge \\text{min\\_share} \\times \\text{of}

(the second for shares of a given count, e.g. >= 5% of the lead hospitals' new hires reserved
for grassroots posts serving >= 2 years, Qingdao)

compared in exact fractions, with the shortfall in whole units
(:math:`\\lceil \\text{required} \\rceil - \\text{have}`). The rows go to ``solution.json ›
capacity_compliance`` and from there into every compliance table of the report and ``compare``.
"""

from __future__ import annotations

import logging
import math
from fractions import Fraction
from typing import Any

from .schema.case import CapacityNorms

__all__ = ["capacity_compliance", "capacity_summary"]

log = logging.getLogger(__name__)


def _frac(x: float) -> Fraction:
    return Fraction(str(float(x)))


def capacity_compliance(norms: CapacityNorms, residents: float) -> dict[str, Any]:
    """The capacity checks as a compliance table: required, achieved, met, shortfall, source."""
    pop = float(norms.population) if norms.population is not None else float(residents)
    rows: list[dict[str, Any]] = []
    for c in norms.checks:
        if c.min is not None:
            required = _frac(c.min) * _frac(pop) / _frac(c.per)
            label = f"{c.name}: >= {c.min:g} per {c.per:,.0f} residents"
        else:
            assert c.min_share is not None and c.of is not None
            required = _frac(c.min_share) * _frac(c.of)
            label = f"{c.name}: >= {100 * c.min_share:g}% of {c.of:,.0f}"
        met = _frac(c.have) >= required
        rows.append(
            {
                "norm": f"capacity.{c.name}",
                "label": label,
                "scope": "county",
                "required": round(float(required), 3),
                "achieved": float(c.have),
                "unit": c.unit,
                "met": bool(met),
                "per": float(c.per),
                "per_population": None
                if c.min is None
                else round(float(_frac(c.have) * _frac(c.per) / _frac(pop)), 4),
                "share": None if c.of is None or c.of == 0 else round(c.have / c.of, 4),
                "shortfall": 0 if met else math.ceil(required) - math.floor(c.have),
                "note": c.note,
                "source": c.source,
            }
        )
    log.info(
        "Capacity norms: %d of %d met for %s residents",
        sum(r["met"] for r in rows),
        len(rows),
        f"{pop:,.0f}",
    )
    return {
        "population": pop,
        "population_note": norms.population_note
        or ("the demand file's residents" if norms.population is None else ""),
        "checks": len(rows),
        "met": sum(1 for r in rows if r["met"]),
        "table": rows,
    }


def capacity_summary(block: dict[str, Any]) -> list[str]:
    """Summary lines: one per check, with the numbers."""
    lines = [f"County capacity norms ({block['population']:,.0f} residents):"]
    for r in block["table"]:
        rate = (
            f"{r['per_population']:g} per {r['per']:,.0f}"
            if r["per_population"] is not None
            else f"{100 * (r['share'] or 0):.1f}%"
        )
        lines.append(
            f"  {'ok ' if r['met'] else 'NO '} {r['label']}: have {r['achieved']:,.0f} "
            f"{r['unit']} ({rate}), need {r['required']:,.1f}"
            + ("" if r["met"] else f" - short by {r['shortfall']:,}")
        )
    return lines
