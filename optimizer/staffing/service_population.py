"""Residents per facility from a siting run's ``demand.csv``, each resident counted once.

The hand-off from siting to staffing (issue 12, item 3). A siting run writes, for every demand
point, its nearest open site of each facility type and the travel time to it
(``nearest_<type>``, ``nearest_<type>_<unit>``). A quota case that reads several types from it
must not give the same residents to a township health centre *and* a community centre: that
double-counts them in every per-mille norm and in the county total of the GP norm.

Rule (stated in the README): the types of ``service_population.facility_types`` that are also
``population.partition_types`` (by default thc and chc, whose service areas partition the county)
share the residents - each demand point goes to the nearest of its nearest facilities of those
types, by the travel time in the run's table (a tie goes to the type listed first). Every other
listed type (e.g. ``village_clinic``) is a second layer: each point also goes to its nearest
facility of that type. Every layer must account for every resident: points with no facility of a
layer within the run's table are an error (or, with ``unassigned: leave_out``, reported and left
out, so the county total states fewer residents).

The numbers are re-derived independently by :func:`optimizer.handoff.check_service_population`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from geodata.columns import id_strings, read_numbers
from geodata.reader import Table

from ..errors import ProblemCollector
from .config import QuotaCase

__all__ = ["ServicePopulation", "assign_residents", "layers_of", "time_column"]

log = logging.getLogger(__name__)

#: Units a siting run writes after ``nearest_<type>_`` (time first, then distance).
UNITS = ("min", "s", "h", "m", "km")


@dataclass(frozen=True, eq=False)
class ServicePopulation:
    """Residents per facility from a siting run, with what was assigned and what was not."""

    population: np.ndarray
    """(F,) residents assigned to each facility (nan: type not read from the siting run)."""
    residents: float
    """Σ residents of the siting run's demand table (the weight or residents column)."""
    layers: list[dict[str, object]] = field(default_factory=list)
    """Per layer: types, rule, residents assigned, residents and points left unassigned."""
    weight_column: str = "weight"


def layers_of(facility_types: list[str], partition_types: list[str]) -> list[list[str]]:
    """Groups of types that share residents: the partition types together, every other alone."""
    shared = [t for t in facility_types if t in partition_types]
    layers = [shared] if shared else []
    return layers + [[t] for t in facility_types if t not in partition_types]


def time_column(frame: pd.DataFrame, nearest_col: str, given: str | None) -> str | None:
    """The travel-time (or distance) column beside ``nearest_col``: given, or ``<col>_<unit>``."""
    if given is not None:
        return given
    for unit in UNITS:
        if f"{nearest_col}_{unit}" in frame.columns:
            return f"{nearest_col}_{unit}"
    return None


def _weight_column(frame: pd.DataFrame, given: str | None) -> str:
    if given is not None:
        return given
    return "residents" if "residents" in frame.columns else "weight"


def assign_residents(
    table: Table,
    cfg: QuotaCase,
    ids: np.ndarray,
    types: np.ndarray,
    problems: ProblemCollector,
    *,
    key: str,
) -> ServicePopulation | None:
    """Residents per facility: each demand point to one facility per layer (module docstring).

    ``key`` names the section in errors (``case.yaml › service_population``)."""
    sp_cfg = cfg.service_population
    assert sp_cfg is not None
    frame = table.frame
    weight_col = _weight_column(frame, sp_cfg.weight_column)
    nearest = {t: sp_cfg.nearest_columns.get(t, f"nearest_{t}") for t in sp_cfg.facility_types}
    layers = layers_of(list(sp_cfg.facility_types), list(cfg.population.partition_types))
    wanted = {"weight_column": weight_col} | {f"nearest_columns.{t}": c for t, c in nearest.items()}
    times: dict[str, str] = {}
    for layer in layers:
        if len(layer) < 2:
            continue
        for t in layer:
            col = time_column(frame, nearest[t], sp_cfg.time_columns.get(t))
            wanted[f"time_columns.{t}"] = col or f"{nearest[t]}_min"
            times[t] = col or f"{nearest[t]}_min"
    if not _columns_present(table, wanted, key, problems):
        return None
    row_ids = np.asarray([f"line {k + 2}" for k in range(len(frame))], dtype=object)
    weight = np.nan_to_num(read_numbers(table, weight_col, row_ids, "residents", problems))
    out = np.full(ids.size, np.nan)
    known = set(map(str, ids))
    info: list[dict[str, object]] = []
    for layer in layers:
        chosen = _nearest_of_layer(table, layer, nearest, times, problems, row_ids)
        if chosen is None:
            continue
        blank = chosen == ""
        unknown = ~blank & ~np.isin(chosen, list(known))
        if unknown.any():
            pos = np.flatnonzero(unknown)
            problems.add(
                f"{table.shown} {table.rows(pos)}",
                (
                    f"column {nearest[layer[0]]!r} names"
                    if len(layer) == 1
                    else f"columns {', '.join(repr(nearest[t]) for t in layer)} name"
                )
                + f" facilities that are not in {cfg.facilities.file}",
                got=", ".join(sorted(set(map(str, chosen[pos])))[:8]),
                fix="use the same facility ids in both files",
            )
        left = blank & (weight > 0)
        _unassigned(table, sp_cfg.unassigned, layer, left, weight, problems)
        ok = ~blank & ~unknown
        sums = pd.Series(weight[ok]).groupby(chosen[ok]).sum()
        zero = []
        for f in np.flatnonzero(np.isin(types, layer)):
            out[f] = float(sums.get(str(ids[f]), 0.0))
            if out[f] <= 0:
                zero.append(str(ids[f]))
        if zero:
            problems.add(
                f"{key}.file",
                f"{len(zero)} '{'/'.join(layer)}' facilities are not the nearest open "
                f"{' or '.join(layer)} of any resident in {sp_cfg.file}",
                got=", ".join(zero[:8]),
                fix="check that the siting run opened them and used the same ids, or drop them",
            )
        info.append(
            {
                "types": list(layer),
                "rule": "nearest by travel time among these types (tie: first listed)"
                if len(layer) > 1
                else "nearest of this type",
                "time_columns": {t: times[t] for t in layer} if len(layer) > 1 else None,
                "assigned": round(float(weight[ok].sum()), 3),
                "unassigned": round(float(weight[left].sum()), 3),
                "unassigned_points": int(left.sum()),
                "unassigned_rows": table.rows(np.flatnonzero(left)) if left.any() else "",
            }
        )
    return ServicePopulation(out, float(weight.sum()), info, weight_col)


def _columns_present(
    table: Table, wanted: dict[str, str], key: str, problems: ProblemCollector
) -> bool:
    ok = True
    for what, col in wanted.items():
        if col not in table.frame.columns:
            problems.add(
                f"{key}.{what}",
                f"column not found in {table.shown}",
                got=col,
                fix="use a siting run's demand.csv (columns weight, nearest_<type> and "
                "nearest_<type>_min), or name the column; the file has: "
                f"{', '.join(map(str, table.frame.columns[:20]))}",
            )
            ok = False
    return ok


def _nearest_of_layer(
    table: Table,
    layer: list[str],
    nearest: dict[str, str],
    times: dict[str, str],
    problems: ProblemCollector,
    row_ids: np.ndarray,
) -> np.ndarray | None:
    """Per row: the id of the nearest facility among the layer's types ('' = none)."""
    frame = table.frame
    ids = np.stack([id_strings(frame[nearest[t]]) for t in layer], axis=1)
    ids = np.where((ids == "nan") | (ids == "None"), "", ids)
    if len(layer) == 1:
        return ids[:, 0]
    units = {times[t].rsplit("_", 1)[-1] for t in layer}
    if len(units) > 1 and units <= set(UNITS):
        problems.add(
            f"{table.shown}",
            f"the travel columns of {', '.join(layer)} are in different units",
            got=", ".join(times[t] for t in layer),
            fix="compare like with like: time columns from one siting run",
        )
        return None
    t_cols: list[np.ndarray] = []
    for k, t in enumerate(layer):
        v = read_numbers(
            table, times[t], row_ids, f"travel to the nearest {t}", problems, allow_empty=True
        )
        t_cols.append(np.where(ids[:, k] == "", np.inf, np.nan_to_num(v, nan=np.inf)))
    tt = np.stack(t_cols, axis=1)
    best = np.argmin(tt, axis=1)  # the first type wins a tie
    rows = np.arange(len(frame))
    chosen = ids[rows, best]
    return np.where(np.isfinite(tt[rows, best]), chosen, "")


def _unassigned(
    table: Table,
    mode: str,
    layer: list[str],
    left: np.ndarray,
    weight: np.ndarray,
    problems: ProblemCollector,
) -> None:
    if not left.any():
        return
    pos = np.flatnonzero(left)
    what = (
        f"{weight[left].sum():,.0f} residents at {pos.size} demand points have no open "
        f"{' or '.join(layer)} in the siting run's table"
    )
    if mode == "leave_out":
        log.warning("%s: %s; left out of the service populations", table.shown, what)
        return
    problems.add(
        f"{table.shown} {table.rows(pos)}",
        what + " (they would be counted nowhere)",
        fix="extend the siting run's travel-time table (travel_times.<name>.cutoff) so every "
        f"resident reaches a {'/'.join(layer)}, or set service_population.unassigned: "
        "leave_out",
    )
