"""County capacity norms checked against given data (MISSION.md "other capacity").

Not siting decisions: the planner gives what the county has (CDC staff, infectious-disease
beds, county hospital beds) and the norm (1.75 CDC staff and 2.5 infectious-disease beds per
10,000 residents, Zhuji; 3.7 county beds per 1,000, Yueqing). Each check is

.. math::  \\text{have} \\ge \\text{min} \\times \\text{residents} / \\text{per}

compared in exact fractions, with the shortfall in whole units
(:math:`\\lceil \\text{required} \\rceil - \\text{have}`). The rows go to ``solution.json ›
capacity_compliance`` and from there into every compliance table of the report and ``compare``.
"""

from __future__ import annotations

import logging
import math
from fractions import Fraction
from typing import Any

from .config import CapacityNorms

__all__ = ["capacity_compliance", "capacity_summary"]

log = logging.getLogger(__name__)


def _frac(x: float) -> Fraction:
    return Fraction(str(float(x)))


def capacity_compliance(norms: CapacityNorms, residents: float) -> dict[str, Any]:
    """The capacity checks as a compliance table: required, achieved, met, shortfall, source."""
    pop = float(norms.population) if norms.population is not None else float(residents)
    rows: list[dict[str, Any]] = []
    for c in norms.checks:
        required = _frac(c.min) * _frac(pop) / _frac(c.per)
        met = _frac(c.have) >= required
        per_text = f"{c.per:,.0f}"
        rows.append(
            {
                "norm": f"capacity.{c.name}",
                "label": f"{c.name}: >= {c.min:g} per {per_text} residents",
                "scope": "county",
                "required": round(float(required), 3),
                "achieved": float(c.have),
                "unit": c.unit,
                "met": bool(met),
                "per": float(c.per),
                "per_population": round(float(_frac(c.have) * _frac(c.per) / _frac(pop)), 4),
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
        lines.append(
            f"  {'ok ' if r['met'] else 'NO '} {r['label']}: have {r['achieved']:,.0f} "
            f"{r['unit']} ({r['per_population']:g} per {r['per']:,.0f}), need {r['required']:,.1f}"
            + ("" if r["met"] else f" - short by {r['shortfall']:,}")
        )
    return lines
