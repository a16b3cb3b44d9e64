"""Column readers shared by the staffing loaders: integers, unknown keys, duplicates, row ids.

Every file is read and checked before anything is solved; all problems of all files are
collected (``file line N (id=...): what (got X); fix``) and raised together. The low-level
readers are the project's (:mod:`geodata.tables`): CSV in UTF-8 or GB18030, GIS layers, row
numbers as a planner sees them.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from geodata.columns import need_column, read_numbers
from geodata.reader import Table, read_table

from ...errors import ProblemCollector
from ..config import StaffingCase


def read(case: StaffingCase, file: str, key: str, problems: ProblemCollector) -> Table | None:
    return read_table(case.resolve(file), shown=file, where=f"{key}.file", problems=problems)


def need_all(table: Table, cols: dict[str, str], key: str, problems: ProblemCollector) -> bool:
    ok = True
    for field, col in cols.items():
        ok &= need_column(table, col, f"{key}.columns.{field}", problems)
    return ok


def integers(
    table: Table,
    column: str,
    ids: np.ndarray,
    what: str,
    problems: ProblemCollector,
    *,
    allow_empty: bool = False,
    min_value: float = 0.0,
) -> np.ndarray:
    values = read_numbers(
        table,
        column,
        ids,
        what,
        problems,
        allow_empty=allow_empty,
        min_value=min_value,
        fix="give a whole number",
    )
    frac = np.isfinite(values) & (values != np.round(values))
    if frac.any():
        pos = np.flatnonzero(frac)
        problems.add(
            f"{table.shown} {table.rows(pos, ids[pos].tolist())}",
            f"{what} (column '{column}') is not a whole number",
            got=values[pos[0]],
            fix="give a whole number",
        )
    return values


def unknown(
    table: Table,
    values: np.ndarray,
    known: Sequence[str],
    column: str,
    what: str,
    problems: ProblemCollector,
    ids: np.ndarray | None = None,
) -> np.ndarray:
    """Mask of rows whose ``values`` are in ``known``; a problem lists the others."""
    ok = np.isin(values.astype(str), list(known))
    bad = np.flatnonzero(~ok & (values.astype(str) != ""))
    if bad.size:
        shown = sorted(set(map(str, values[bad])))
        problems.add(
            f"{table.shown} {table.rows(bad, (ids if ids is not None else values)[bad].tolist())}",
            f"unknown {what} in column '{column}'",
            got=", ".join(shown[:8]) + (" ..." if len(shown) > 8 else ""),
            fix=f"use one of: {', '.join(sorted(map(str, known))[:12])}"
            + (" ..." if len(known) > 12 else ""),
        )
    return ok


def duplicates(table: Table, keys: list[np.ndarray], what: str, problems: ProblemCollector) -> None:
    frame = pd.DataFrame({f"k{i}": k.astype(str) for i, k in enumerate(keys)})
    dup = frame.duplicated(keep=False).to_numpy()
    if dup.any():
        pos = np.flatnonzero(dup)
        label = frame.iloc[pos].agg("/".join, axis=1).to_numpy()
        problems.add(
            f"{table.shown} {table.rows(pos, label.tolist())}",
            f"{what} appears more than once",
            fix="give one row per key (sum or delete the duplicates)",
        )


# ---------------------------------------------------------------------------------------------


def row_ids(table: Table) -> np.ndarray:
    return np.asarray(
        [str(k + (2 if table.is_csv else 1)) for k in range(len(table.frame))], dtype=object
    )
