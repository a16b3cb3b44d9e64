"""The totals of two runs side by side (status, objective, cost, sites, coverage, fleet, staff, norms)."""

from __future__ import annotations

from typing import Any

from .norms import NormCheck
from .rundata import RunData

__all__ = ["totals_rows"]


def _staff(sol: dict[str, Any]) -> float | None:
    """Total staff posts when a run has them (staffing families: ``posts.total``)."""
    for key in ("posts", "staff", "staffing"):
        block = sol.get(key)
        if isinstance(block, dict) and isinstance(block.get("total"), (int, float)):
            return float(block["total"])
    return None


def totals_rows(
    a: RunData, b: RunData, standards: list[str], na: list[NormCheck], nb: list[NormCheck]
) -> list[tuple[str, Any, Any, str]]:
    sa, sb = a.solution, b.solution
    rows: list[tuple[str, Any, Any, str]] = [
        ("status", sa.get("status_text"), sb.get("status_text"), "status"),
        ("objective", sa.get("objective"), sb.get("objective"), "num"),
        ("gap", sa.get("gap"), sb.get("gap"), "pct"),
    ]
    unit = (sa.get("cost") or sb.get("cost") or {}).get("unit", "")
    rows.append(
        (
            f"cost ({unit})",
            (sa.get("cost") or {}).get("total"),
            (sb.get("cost") or {}).get("total"),
            "num",
        )
    )
    types = sorted(set(sa.get("counts") or {}) | set(sb.get("counts") or {}))
    for t in types:
        ca, cb = (sa.get("counts") or {}).get(t, {}), (sb.get("counts") or {}).get(t, {})
        rows.append((f"sites_open:{t}", ca.get("open"), cb.get("open"), "num"))
        rows.append((f"sites_new:{t}", ca.get("new"), cb.get("new"), "num"))
    for s in standards:
        rows.append(
            (
                f"share:{s}",
                (a.coverage.get(s) or {}).get("share"),
                (b.coverage.get(s) or {}).get("share"),
                "pct",
            )
        )
    for s in standards:
        fa, fb = (a.coverage.get(s) or {}), (b.coverage.get(s) or {})
        if fa.get("footfall") or fb.get("footfall"):
            rows.append(
                (f"footfall_share:{s}", fa.get("footfall_share"), fb.get("footfall_share"), "pct")
            )
    rows += _fleet_totals(sa, sb)
    staff_a, staff_b = _staff(sa), _staff(sb)
    if staff_a is not None or staff_b is not None:
        rows.append(("staff", staff_a, staff_b, "num"))
    rows.append(
        (
            "norms_met_total",
            f"{sum(c.met is True for c in na)} / {sum(c.met is not None for c in na)}",
            f"{sum(c.met is True for c in nb)} / {sum(c.met is not None for c in nb)}",
            "text",
        )
    )
    return rows


def _fleet_totals(sa: dict[str, Any], sb: dict[str, Any]) -> list[tuple[str, Any, Any, str]]:
    """120 runs: stations open and new, ambulances, negative-pressure ambulances, expected
    coverage and mean response, side by side."""
    if "fleet" not in sa and "fleet" not in sb:
        return []

    def n_sites(sol: dict[str, Any], key: str) -> int | None:
        block = sol.get(key)
        return None if block is None else sum(len(v) for v in block.values())

    def get(sol: dict[str, Any], *path: str) -> Any:
        node: Any = sol
        for k in path:
            node = node.get(k) if isinstance(node, dict) else None
        return node

    return [
        ("sites_open:120", n_sites(sa, "chosen_sites"), n_sites(sb, "chosen_sites"), "num"),
        ("sites_new:120", n_sites(sa, "new_sites"), n_sites(sb, "new_sites"), "num"),
        ("ambulances", get(sa, "fleet", "ambulances"), get(sb, "fleet", "ambulances"), "num"),
        (
            "negative_pressure",
            get(sa, "fleet", "negative_pressure"),
            get(sb, "fleet", "negative_pressure"),
            "num",
        ),
        (
            "expected_covered",
            get(sa, "coverage", "ems", "expected_covered"),
            get(sb, "coverage", "ems", "expected_covered"),
            "num",
        ),
        (
            "mean_response",
            get(sa, "response", "overall", "mean_min"),
            get(sb, "response", "overall", "mean_min"),
            "num",
        ),
    ]


# ---------------------------------------------------------------------------------------------
