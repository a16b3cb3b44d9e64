"""Siting -> staffing: residents per facility recomputed from the siting run's ``demand.csv``.

Written apart from :mod:`optimizer.staffing.service_population` (plain :mod:`csv`, dictionaries,
no numpy): it applies the documented rule again - the partition types share each demand point's
residents (nearest by travel time, a tie to the type listed first), every other type is a layer of
its own - and compares facility by facility and with the county total the quota case states.
"""

from __future__ import annotations

import csv
import math
from collections import defaultdict
from collections.abc import Mapping, Sequence
from pathlib import Path

__all__ = ["check_service_population", "read_rows"]

UNITS = ("min", "s", "h", "m", "km")


def read_rows(path: Path) -> list[dict[str, str]]:
    """Every row of a CSV as text (UTF-8 with or without BOM, else GB18030)."""
    for enc in ("utf-8-sig", "gb18030"):
        try:
            with open(path, encoding=enc, newline="") as fh:
                return [dict(r) for r in csv.DictReader(fh)]
        except UnicodeDecodeError:
            continue
    raise ValueError(f"{path}: neither UTF-8 nor GB18030")


def _number(text: str | None) -> float | None:
    try:
        v = float(text) if text not in (None, "") else None
    except ValueError:
        return None
    return v if v is not None and math.isfinite(v) else None


def _id(text: str | None) -> str:
    t = (text or "").strip()
    if t in ("nan", "None"):
        return ""
    if t.endswith(".0") and t[:-2].lstrip("-").isdigit():
        return t[:-2]
    return t


def _time_col(header: Sequence[str], nearest: str, given: str | None) -> str:
    if given:
        return given
    return next((f"{nearest}_{u}" for u in UNITS if f"{nearest}_{u}" in header), f"{nearest}_min")


def check_service_population(
    demand_csv: Path,
    *,
    weight_column: str,
    facility_types: Sequence[str],
    partition_types: Sequence[str],
    nearest_columns: Mapping[str, str],
    time_columns: Mapping[str, str],
    facilities: Mapping[str, tuple[str, float]],
    county_total: float,
    county_stated: bool,
    leave_out: bool,
) -> list[str]:
    """Violations of the siting -> staffing hand-off (empty: every resident counted right).

    ``facilities`` maps facility id -> (type, population the quota run uses); ``county_total`` is
    the county population it states (given, or the partition's sum).
    """
    rows = read_rows(demand_csv)
    header = list(rows[0]) if rows else []
    near = {t: nearest_columns.get(t) or f"nearest_{t}" for t in facility_types}
    shared = [t for t in facility_types if t in partition_types]
    layers = ([shared] if shared else []) + [[t] for t in facility_types if t not in shared]
    total = 0.0
    got: dict[str, float] = defaultdict(float)
    out: list[str] = []
    left_by_layer = [0.0] * len(layers)
    for row in rows:
        w = _number(row.get(weight_column)) or 0.0
        total += w
        for k, layer in enumerate(layers):
            best, best_t = "", math.inf
            for t in layer:
                fid = _id(row.get(near[t]))
                if not fid:
                    continue
                tt = (
                    0.0
                    if len(layer) == 1
                    else _number(row.get(_time_col(header, near[t], time_columns.get(t))))
                )
                if tt is not None and tt < best_t:  # strict: the first type listed wins a tie
                    best, best_t = fid, tt
            if best:
                got[best] += w
            else:
                left_by_layer[k] += w
    scale = max(1.0, total)
    for fid, (ftype, pop) in sorted(facilities.items()):
        if ftype not in facility_types:
            continue
        want = got.get(fid, 0.0)
        if abs(want - pop) > 1e-6 * scale:
            out.append(
                f"service population of {fid} ({ftype}): the quota run uses {pop:,.3f} residents, "
                f"{demand_csv.name} gives {want:,.3f}"
            )
    for k, layer in enumerate(layers):
        assigned = sum(p for fid, (t, p) in facilities.items() if t in layer)
        if left_by_layer[k] and not leave_out:
            out.append(
                f"{left_by_layer[k]:,.0f} residents of {demand_csv.name} have no "
                f"{'/'.join(layer)} but the case does not leave them out"
            )
        if abs(assigned + left_by_layer[k] - total) > 1e-6 * scale:
            out.append(
                f"layer {'/'.join(layer)}: {assigned:,.3f} residents assigned + "
                f"{left_by_layer[k]:,.3f} left out != {total:,.3f} in {demand_csv.name} "
                "(residents counted twice or not at all)"
            )
    part = sum(p for t, p in facilities.values() if t in partition_types)
    n_file = sum(1 for t, _ in facilities.values() if t in partition_types and t not in shared)
    tol = (0.5 * n_file + 1e-9 * county_total) if county_stated else 1e-6 * scale
    if any(t in partition_types for t, _ in facilities.values()) and abs(part - county_total) > tol:
        out.append(
            f"the partition types ({', '.join(partition_types)}) serve {part:,.3f} residents, "
            f"the quota run states a county of {county_total:,.3f} "
            f"(difference {part - county_total:+,.3f})"
        )
    return out
