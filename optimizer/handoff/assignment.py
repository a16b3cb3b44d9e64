"""Per-site figures of an assignment run folder (p-median, p-center), recomputed from its
``demand.csv`` alone.

A p-median or p-center run states, per open site, the demand points and residents it serves and
their mean and worst trip (``sites.csv``); each demand point's site and trip are in
``demand.csv``. This module re-reads both files (plain :mod:`csv`) and recomputes the per-site
figures from the demand rows, so a writer that misaligns a column or a sort is caught. Runs that
split a demand point between sites (capacitated, ``split`` column) are left out: the shares are
not in the folder.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

from .population import read_rows

__all__ = ["check_assignment_folder"]

#: Residents are written rounded to 3 decimals, trips to 6.
COUNT_TOL = 2e-3
TRIP_TOL = 2e-6


def _num(text: str | None) -> float | None:
    try:
        return float(text) if text not in (None, "") else None
    except ValueError:
        return None


def _unit(columns: list[str]) -> str | None:
    for unit in ("min", "m"):
        if f"travel_{unit}" in columns:
            return unit
    return None


def check_assignment_folder(folder: Path) -> list[str]:
    """Violations between ``sites.csv``'s per-site figures and ``demand.csv``'s assignments."""
    demand_csv, sites_csv = folder / "demand.csv", folder / "sites.csv"
    if not demand_csv.exists() or not sites_csv.exists():
        return []
    rows, sites = read_rows(demand_csv), read_rows(sites_csv)
    if not rows or not sites or "split" in rows[0]:
        return []
    if not {"assigned_site", "weight"} <= set(rows[0]) or "site_id" not in sites[0]:
        return []
    unit = _unit(list(rows[0]))
    if unit is None or "residents_assigned" not in sites[0]:
        return []
    served: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0, 0.0, -1.0])
    for row in rows:
        sid, trip, weight = row["assigned_site"], _num(row[f"travel_{unit}"]), _num(row["weight"])
        if not sid or trip is None or weight is None:
            continue
        s = served[sid]  # points, residents, residents x trip, worst trip
        s[0] += 1
        s[1] += weight
        s[2] += weight * trip
        s[3] = max(s[3], trip)
    out: list[str] = []
    for site in sites:
        points, residents, weighted, worst = served.get(site["site_id"], [0.0, 0.0, 0.0, -1.0])
        stated = (_num(site.get("demand_points")) or 0.0, _num(site["residents_assigned"]) or 0.0)
        if stated[0] != points or abs(stated[1] - residents) > COUNT_TOL + 1e-9 * residents:
            out.append(
                f"sites.csv {site['site_id']}: {stated[0]:g} points, {stated[1]:,.3f} residents "
                f"but demand.csv assigns {points:g} points, {residents:,.3f} residents"
            )
            continue
        mean, worst_stated = (
            _num(site.get(f"mean_travel_{unit}")),
            _num(site.get(f"worst_travel_{unit}")),
        )
        if residents > 0 and mean is not None and abs(mean - weighted / residents) > 1e-5:
            out.append(
                f"sites.csv {site['site_id']}: mean_travel_{unit} {mean} but demand.csv gives "
                f"{weighted / residents:.6f}"
            )
        if points > 0 and worst_stated is not None and abs(worst_stated - worst) > TRIP_TOL:
            out.append(
                f"sites.csv {site['site_id']}: worst_travel_{unit} {worst_stated} but demand.csv "
                f"gives {worst:.6f}"
            )
    return out
