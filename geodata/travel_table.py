"""Load a travel-time table (long format: demand id, site id, value) onto demand and site indices."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pandas as pd

from optimizer.errors import ProblemCollector

from .arrays import TravelTimes
from .columns import id_strings, need_column, positions_of, read_numbers
from .reader import CSV_SUFFIXES, Table, read_table, rows_or_none
from .sources import CaseFiles, Section
from .textfiles import csv_header, exists, read_csv_text, suffix

__all__ = ["load_travel_times"]

log = logging.getLogger(__name__)


_UNIT_FACTOR = {
    "min": ("min", 1.0),
    "s": ("min", 1 / 60),
    "h": ("min", 60.0),
    "m": ("m", 1.0),
    "km": ("m", 1000.0),
}


def _read_pairs(cfg: Section, path: Path, key: str, problems: ProblemCollector) -> Table | None:
    """The table of a travel-time file with its three columns (CSV: read typed, only those
    columns); None with a problem when the file, a column or every row is missing."""
    cols = cfg.columns
    kind = suffix(path)
    wanted = [cols.demand_id, cols.site_id, cols.value]
    frame: pd.DataFrame
    is_csv = kind in CSV_SUFFIXES
    try:
        if is_csv:
            header = csv_header(path)
            missing = [c for c in wanted if c not in header]
            if missing:
                for field, c in zip(("demand_id", "site_id", "value"), wanted, strict=True):
                    if c in missing:
                        problems.add(
                            f"{key}.columns.{field}",
                            f"column not found in {cfg.file}",
                            got=c,
                            fix=f"use one of the file's columns: {', '.join(map(str, header))}",
                        )
                return None
            dtypes: dict[str, str] = {
                cols.demand_id: "str",
                cols.site_id: "str",
                cols.value: "float64",
            }
            try:
                frame = read_csv_text(path, usecols=wanted, dtype=dtypes)
            except ValueError as exc:
                if "could not convert" not in str(exc) and "Unable to parse" not in str(exc):
                    raise
                frame = read_csv_text(path, usecols=wanted)  # the values are checked below
            table = Table(frame, path, cfg.file, True)
            if not len(frame):
                rows_or_none(table, f"{key}.file", problems)
                return None
        else:
            table_or_none = read_table(
                path, shown=cfg.file, where=f"{key}.file", problems=problems, layer=cfg.layer
            )
            if table_or_none is None:
                return None
            table = table_or_none
            ok = [
                need_column(table, c, f"{key}.columns.{f}", problems)
                for f, c in zip(("demand_id", "site_id", "value"), wanted, strict=True)
            ]
            if not all(ok):
                return None
    except Exception as exc:
        problems.add(
            f"{key}.file",
            f"cannot read the file: {exc}",
            got=cfg.file,
            fix="check that it is a valid CSV",
        )
        return None
    return table


def _check_pairs(
    table: Table,
    cfg: Section,
    demand_ids: np.ndarray,
    site_ids: np.ndarray,
    problems: ProblemCollector,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Demand and site positions and values of every row, a problem per unknown id, bad value
    and repeated pair; with the mask of the rows that are good."""
    cols = cfg.columns
    frame = table.frame
    d_ids = id_strings(frame[cols.demand_id])
    s_ids = id_strings(frame[cols.site_id])
    values = read_numbers(
        table,
        cols.value,
        d_ids,
        f"travel {('time' if cfg.unit in ('min', 's', 'h') else 'distance')}",
        problems,
        min_value=0.0,
        fix=f"give a non-negative value in {cfg.unit}; leave unreachable pairs out",
    )
    di = positions_of(demand_ids, d_ids)
    sj = positions_of(site_ids, s_ids)
    for idx, ids, what, fix in (
        (di, d_ids, "demand_id", "every demand_id must be an id of the demand file"),
        (sj, s_ids, "site_id", "every site_id must be an id of the sites file"),
    ):
        bad = np.flatnonzero(idx < 0)
        if bad.size:
            unknown = pd.unique(ids[bad])
            problems.add(
                f"{cfg.file} {table.rows(bad)}",
                f"{bad.size:,} {what}s match no point ({len(unknown):,} distinct unknown ids: "
                f"{', '.join(map(str, unknown[:8]))}{' ...' if len(unknown) > 8 else ''})",
                fix=f"{fix}; check the id column and leading zeros",
            )
    good = (di >= 0) & (sj >= 0) & np.isfinite(values)
    # Duplicated pairs make the matrix ambiguous.
    if good.any():
        key_pairs = di[good].astype(np.int64) * max(len(site_ids), 1) + sj[good]
        pos_good = np.flatnonzero(good)
        s = pd.Series(key_pairs)
        dup = s.duplicated(keep=False).to_numpy()
        if dup.any():
            pos = pos_good[dup]
            problems.add(
                f"{cfg.file} {table.rows(pos)}",
                f"{dup.sum():,} rows repeat a (demand_id, site_id) pair",
                got=f"{d_ids[pos[0]]} -> {s_ids[pos[0]]}",
                fix="keep one value per pair (e.g. the shortest route)",
            )
    return di, sj, values, good


def load_travel_times(
    name: str,
    cfg: Section,
    files: CaseFiles,
    demand_ids: np.ndarray,
    site_ids: np.ndarray,
    problems: ProblemCollector,
) -> TravelTimes | None:
    """A long table ``demand_id, site_id, value`` mapped onto demand and site indices."""
    key = f"{files.label} › travel_times.{name}"
    path = files.resolve(cfg.file)
    if not exists(path):
        read_table(path, shown=cfg.file, where=f"{key}.file", problems=problems)
        return None
    table = _read_pairs(cfg, path, key, problems)
    if table is None:
        return None
    di, sj, values, good = _check_pairs(table, cfg, demand_ids, site_ids, problems)
    unit, factor = _UNIT_FACTOR[cfg.unit]
    finite = good & np.isfinite(values)
    complete = np.inf if cfg.complete_within is None else float(cfg.complete_within) * factor
    tt = TravelTimes(
        name=name,
        demand_index=di[finite],
        site_index=sj[finite],
        value=values[finite] * factor,
        n_demand=len(demand_ids),
        n_sites=len(site_ids),
        unit=unit,
        complete_within=complete,
    )
    log.info(
        "Read travel-time table %s: %s pairs (%s unit) from %s",
        name,
        f"{len(tt):,}",
        unit,
        cfg.file,
    )
    return tt
