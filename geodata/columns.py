"""Read and check one column of a table: ids, numbers, yes/no flags, labels, names, coordinates.

Each reader adds a :class:`optimizer.errors.Problem` per kind of bad cell (naming the file, the
rows as the planner sees them and the ids) instead of raising, so a planner sees every bad cell
of every file at once. Used by the case loaders (:mod:`geodata.tables`) and the staffing tables.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from optimizer.errors import ProblemCollector

from .reader import Table

__all__ = [
    "crs_of",
    "id_strings",
    "need_column",
    "optional_column",
    "positions_of",
    "read_booleans",
    "read_coordinates",
    "read_ids",
    "read_labels",
    "read_names",
    "read_numbers",
]


def need_column(table: Table, column: str | None, key: str, problems: ProblemCollector) -> bool:
    """Whether ``table`` has ``column`` (a problem when it is configured but absent)."""
    if column is None:
        return False
    if column in table.frame.columns:
        return True
    cols = ", ".join(map(str, table.frame.columns[:30]))
    problems.add(
        key,
        f"column not found in {table.shown}",
        got=column,
        fix=f"use one of the file's columns: {cols}",
    )
    return False


def optional_column(
    table: Table, column: str | None, key: str, problems: ProblemCollector
) -> str | None:
    """``column`` if the table has it (adding a problem if it is configured but absent)."""
    return column if need_column(table, column, key, problems) else None


def read_names(
    table: Table, column: str | None, key: str, ids: np.ndarray, problems: ProblemCollector
) -> np.ndarray | None:
    """Display names: the configured column, else a column called ``name`` when the table has one.

    Empty cells stay "" (a name is optional per row); ids remain the keys everywhere."""
    if column is None:
        if "name" not in table.frame.columns:
            return None
        column = "name"
    elif not need_column(table, column, key, problems):
        return None
    vals = id_strings(table.frame[column])
    return np.where(np.isin(vals, ["nan", "None", "<NA>"]), "", vals).astype(object)


def id_strings(series: pd.Series) -> np.ndarray:
    """Ids as clean strings; integral floats from GIS files lose their '.0'."""
    if pd.api.types.is_float_dtype(series):
        vals = series.to_numpy()
        out = np.empty(vals.size, dtype=object)
        for k, v in enumerate(vals):
            out[k] = (
                "" if not np.isfinite(v) else (str(int(v)) if float(v).is_integer() else repr(v))
            )
        return out
    return np.asarray(series.astype(str).str.strip().to_numpy(), dtype=object)


def read_ids(
    table: Table, column: str, key: str, what: str, problems: ProblemCollector
) -> np.ndarray:
    """The ids of column ``column``: a problem per empty and per duplicated id."""
    ids = id_strings(table.frame[column])
    empty = np.flatnonzero((ids == "") | (ids == "nan") | (ids == "None"))
    if empty.size:
        problems.add(
            f"{table.shown} {table.rows(empty)}",
            f"{what} id (column '{column}') is empty",
            fix="give every row an id, or delete the row",
        )
    s = pd.Series(ids)
    dup = s.duplicated(keep=False) & (s != "")
    if dup.any():
        pos = np.flatnonzero(dup.to_numpy())
        problems.add(
            f"{table.shown} {table.rows(pos, ids[pos].tolist())}",
            f"duplicate {what} ids in column '{column}'",
            fix="make ids unique (merge or renumber the rows)",
        )
    return ids


def read_numbers(
    table: Table,
    column: str,
    ids: np.ndarray,
    what: str,
    problems: ProblemCollector,
    *,
    allow_empty: bool = False,
    min_value: float | None = 0.0,
    fix: str = "",
) -> np.ndarray:
    """Numbers of column ``column`` (thousands separators allowed): a problem for empty or
    non-numeric cells (unless ``allow_empty``: NaN), infinities, and values below ``min_value``."""
    raw = table.frame[column]
    if pd.api.types.is_numeric_dtype(raw) and not pd.api.types.is_bool_dtype(raw):
        values = raw.to_numpy(dtype=float)
        empty = np.isnan(values)
    else:
        text = raw.astype(str).str.strip()
        values = pd.to_numeric(text.str.replace(",", "", regex=False), errors="coerce").to_numpy(
            float
        )
        empty = (text == "").to_numpy() | raw.isna().to_numpy()
    bad = np.isnan(values) & ~(empty & allow_empty)
    if bad.any():
        pos = np.flatnonzero(bad)
        got = raw.iloc[pos[0]]
        problems.add(
            f"{table.shown} {table.rows(pos, ids[pos].tolist())}",
            f"{what} (column '{column}') is empty or not a number",
            got=got if str(got) != "" else "empty",
            fix=fix or "give a number",
        )
    inf = np.isinf(values)
    if inf.any():
        pos = np.flatnonzero(inf)
        problems.add(
            f"{table.shown} {table.rows(pos, ids[pos].tolist())}",
            f"{what} (column '{column}') is infinite",
            fix=fix or "give a finite number",
        )
    if min_value is not None:
        neg = np.flatnonzero(values < min_value)
        if neg.size:
            problems.add(
                f"{table.shown} {table.rows(neg, ids[neg].tolist())}",
                f"{what} (column '{column}') is below {min_value:g}",
                got=values[neg[0]],
                fix=fix or f"give a value >= {min_value:g}",
            )
    return values


_TRUE = {"1", "true", "t", "yes", "y", "是", "existing", "x"}
_FALSE = {"0", "false", "f", "no", "n", "否", "", "nan", "none"}


def read_booleans(
    table: Table, column: str, ids: np.ndarray, what: str, problems: ProblemCollector
) -> np.ndarray:
    """Yes/no flags of column ``column`` (1/0, true/false, yes/no, 是/否): a problem otherwise."""
    raw = table.frame[column]
    if pd.api.types.is_bool_dtype(raw):
        return raw.to_numpy(dtype=bool)
    text = raw.astype(str).str.strip().str.lower()
    is_true = text.isin(_TRUE).to_numpy() | text.isin({"1.0"}).to_numpy()
    is_false = text.isin(_FALSE).to_numpy() | text.isin({"0.0"}).to_numpy()
    bad = np.flatnonzero(~(is_true | is_false))
    if bad.size:
        problems.add(
            f"{table.shown} {table.rows(bad, ids[bad].tolist())}",
            f"{what} (column '{column}') is not yes/no",
            got=raw.iloc[bad[0]],
            fix="use 1/0, true/false, yes/no or 是/否",
        )
    return is_true


def read_labels(
    table: Table,
    column: str,
    ids: np.ndarray,
    what: str,
    problems: ProblemCollector,
    *,
    allow_empty: bool = False,
) -> np.ndarray:
    """Text labels of column ``column``: a problem for empty cells unless ``allow_empty``."""
    vals = id_strings(table.frame[column])
    empty = np.flatnonzero((vals == "") | (vals == "nan"))
    if empty.size and not allow_empty:
        problems.add(
            f"{table.shown} {table.rows(empty, ids[empty].tolist())}",
            f"{what} (column '{column}') is empty",
            fix=f"give every row its {what}",
        )
    return vals


def read_coordinates(
    table: Table,
    x_col: str | None,
    y_col: str | None,
    key: str,
    ids: np.ndarray,
    problems: ProblemCollector,
) -> tuple[np.ndarray | None, np.ndarray | None]:
    """x and y from the configured columns, else the GIS geometry's; both or neither."""
    if (x_col is None) != (y_col is None):
        problems.add(
            key,
            "give both x and y columns, or neither",
            got={"x": x_col, "y": y_col},
            fix="e.g. columns: {x: lon, y: lat}",
        )
        return None, None
    if x_col is not None and y_col is not None:
        ok_x = need_column(table, x_col, f"{key}.x", problems)
        ok_y = need_column(table, y_col, f"{key}.y", problems)
        if not (ok_x and ok_y):
            return None, None
        x = read_numbers(table, x_col, ids, "x coordinate", problems, min_value=None)
        y = read_numbers(table, y_col, ids, "y coordinate", problems, min_value=None)
        return x, y
    return table.x, table.y


def crs_of(table: Table, declared: str | None, key: str, problems: ProblemCollector) -> str | None:
    """The declared CRS, else the file's; a problem when both are given and differ."""
    if table.crs and declared:
        from pyproj import CRS

        try:
            same = CRS.from_user_input(declared) == CRS.from_user_input(table.crs)
        except Exception:
            same = declared.strip().upper() in ("GCJ-02", "GCJ02")
        if not same and declared.strip().upper() not in ("GCJ-02", "GCJ02", "BD-09", "BD09"):
            problems.add(
                f"{key}.crs",
                f"declared CRS differs from the CRS stored in {table.shown} ({table.crs})",
                got=declared,
                fix="remove 'crs' to use the file's CRS, or reproject the file",
            )
    return declared or table.crs


def positions_of(ids: np.ndarray, lookup: np.ndarray) -> np.ndarray:
    """Position of each ``lookup`` id in ``ids`` (first occurrence), -1 where unknown."""
    index = pd.Index(pd.Series(ids, dtype=object))
    first = ~index.duplicated()
    where = np.flatnonzero(first)
    found = index[first].get_indexer(pd.Series(lookup, dtype=object))
    return np.where(found >= 0, where[np.maximum(found, 0)], -1)
