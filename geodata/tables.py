"""Read the case's tables (CSV, GeoPackage, GeoJSON, Shapefile, Parquet) into arrays.

Every check collects problems instead of raising at the first one: a planner sees every bad
row, column and id of every file in one report. Row numbers are given as the planner sees them:
``line N`` of a CSV file (the header is line 1, as in a text editor or Excel) and ``feature N`` of
a GIS layer.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from optimizer.errors import ProblemCollector, rows_text

from .arrays import Demand, Sites, TravelTimes, Zones
from .crs import check_crs
from .textfiles import csv_header, exists, read_csv_text, suffix

if TYPE_CHECKING:
    from optimizer.schema.data import DemandConfig, SitesConfig, TravelTimesConfig, ZonesConfig
    from optimizer.schema.files import LoadedCase

__all__ = ["Table", "load_demand", "load_sites", "load_travel_times", "load_zones", "read_table"]

log = logging.getLogger(__name__)

GEO_SUFFIXES = {".gpkg", ".geojson", ".json", ".shp", ".fgb", ".gml", ".kml", ".gdb"}
CSV_SUFFIXES = {".csv", ".txt", ".tsv"}


@dataclass
class Table:
    """A table read from disk: text cells (CSV) or typed cells (GIS), plus point coordinates."""

    frame: pd.DataFrame
    path: Path
    shown: str
    is_csv: bool
    x: np.ndarray | None = None
    y: np.ndarray | None = None
    crs: str | None = None

    def row_label(self, positions: Sequence[int]) -> list[int]:
        offset = 2 if self.is_csv else 1
        return [int(p) + offset for p in positions]

    @property
    def row_word(self) -> str:
        return "line" if self.is_csv else "feature"

    def rows(self, positions: np.ndarray, ids: Sequence[object] | None = None) -> str:
        text = rows_text(self.row_label(list(positions)), ids)
        return text.replace("row", self.row_word, 1)


MAX_WEIGHT = 2e9  # more people than any country: a typo or a unit error, not a weight


def read_table(
    path: Path,
    *,
    shown: str,
    where: str,
    problems: ProblemCollector,
    layer: str | None = None,
) -> Table | None:
    """Read a table; on failure add a problem naming ``where`` and return ``None``."""
    try:
        path.stat()
    except FileNotFoundError:
        pass
    except OSError as exc:  # a name too long, a path through a file, no permission
        problems.add(
            where, f"cannot open the file: {exc.strerror}", got=shown, fix="check the path"
        )
        return None
    if not exists(path):
        problems.add(
            where,
            "file not found",
            got=shown,
            fix=f"check the path (looked for {path}); paths are relative to the case file's folder",
        )
        return None
    kind = suffix(path)
    try:
        if kind in CSV_SUFFIXES:
            return _rows_or_none(Table(read_csv_text(path), path, shown, True), where, problems)
        if kind == ".parquet":
            frame = pd.read_parquet(path, engine="pyarrow")
            if "geometry" not in frame.columns:
                return _rows_or_none(Table(frame, path, shown, False), where, problems)
        if kind in GEO_SUFFIXES or kind == ".parquet":
            import geopandas as gpd

            gdf = (
                gpd.read_parquet(path)
                if kind == ".parquet"
                else gpd.read_file(path, layer=layer, engine="pyogrio")
            )
            x = y = None
            if "geometry" in gdf and len(gdf) and gdf.geometry.notna().any():
                geom = gdf.geometry
                pts = geom.where(geom.geom_type == "Point", geom.representative_point())
                x = np.asarray(pts.x, dtype=float)
                y = np.asarray(pts.y, dtype=float)
            crs = gdf.crs.to_string() if gdf.crs is not None else None
            frame = pd.DataFrame(gdf.drop(columns="geometry", errors="ignore"))
            return _rows_or_none(Table(frame, path, shown, False, x, y, crs), where, problems)
    except Exception as exc:  # any reader failure is reported as a problem with the file
        problems.add(
            where,
            f"cannot read the file: {exc}",
            got=shown,
            fix="check that it is a valid CSV or GIS file",
        )
        return None
    problems.add(
        where,
        "unsupported file type",
        got=shown,
        fix="use .csv, .tsv, .parquet, .gpkg, .geojson, .shp or .fgb",
    )
    return None


def _rows_or_none(table: Table, where: str, problems: ProblemCollector) -> Table | None:
    """A table with a header but no rows is a problem (not 0 points that fail later)."""
    if len(table.frame):
        return table
    problems.add(
        where,
        "the file has no rows (a header only, or empty)",
        got=table.shown,
        fix="give a file with one row per point, below its header",
    )
    return None


# ---------------------------------------------------------------------------------------------
# Column helpers
# ---------------------------------------------------------------------------------------------
def _need_column(table: Table, column: str | None, key: str, problems: ProblemCollector) -> bool:
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


def _column(table: Table, column: str | None, key: str, problems: ProblemCollector) -> str | None:
    """``column`` if the table has it (adding a problem if it is configured but absent)."""
    return column if _need_column(table, column, key, problems) else None


def _names(
    table: Table, column: str | None, key: str, ids: np.ndarray, problems: ProblemCollector
) -> np.ndarray | None:
    """Display names: the configured column, else a column called ``name`` when the table has one.

    Empty cells stay "" (a name is optional per row); ids remain the keys everywhere."""
    if column is None:
        if "name" not in table.frame.columns:
            return None
        column = "name"
    elif not _need_column(table, column, key, problems):
        return None
    vals = _id_strings(table.frame[column])
    return np.where(np.isin(vals, ["nan", "None", "<NA>"]), "", vals).astype(object)


def _id_strings(series: pd.Series) -> np.ndarray:
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


def _ids(table: Table, column: str, key: str, what: str, problems: ProblemCollector) -> np.ndarray:
    ids = _id_strings(table.frame[column])
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


def _numbers(
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


def _booleans(
    table: Table, column: str, ids: np.ndarray, what: str, problems: ProblemCollector
) -> np.ndarray:
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


def _labels(
    table: Table,
    column: str,
    ids: np.ndarray,
    what: str,
    problems: ProblemCollector,
    *,
    allow_empty: bool = False,
) -> np.ndarray:
    vals = _id_strings(table.frame[column])
    empty = np.flatnonzero((vals == "") | (vals == "nan"))
    if empty.size and not allow_empty:
        problems.add(
            f"{table.shown} {table.rows(empty, ids[empty].tolist())}",
            f"{what} (column '{column}') is empty",
            fix=f"give every row its {what}",
        )
    return vals


def _coordinates(
    table: Table,
    x_col: str | None,
    y_col: str | None,
    key: str,
    ids: np.ndarray,
    problems: ProblemCollector,
) -> tuple[np.ndarray | None, np.ndarray | None]:
    if (x_col is None) != (y_col is None):
        problems.add(
            key,
            "give both x and y columns, or neither",
            got={"x": x_col, "y": y_col},
            fix="e.g. columns: {x: lon, y: lat}",
        )
        return None, None
    if x_col is not None and y_col is not None:
        ok_x = _need_column(table, x_col, f"{key}.x", problems)
        ok_y = _need_column(table, y_col, f"{key}.y", problems)
        if not (ok_x and ok_y):
            return None, None
        x = _numbers(table, x_col, ids, "x coordinate", problems, min_value=None)
        y = _numbers(table, y_col, ids, "y coordinate", problems, min_value=None)
        return x, y
    return table.x, table.y


# ---------------------------------------------------------------------------------------------
# Loaders
# ---------------------------------------------------------------------------------------------
def load_demand(cfg: DemandConfig, case: LoadedCase, problems: ProblemCollector) -> Demand | None:
    """Demand points from ``cfg`` (a :class:`optimizer.schema.data.DemandConfig`)."""
    key = f"{case.label} › demand"
    table = read_table(
        case.resolve(cfg.file),
        shown=cfg.file,
        where=f"{key}.file",
        problems=problems,
        layer=cfg.layer,
    )
    if table is None:
        return None
    cols = cfg.columns
    ok = all(
        [
            _need_column(table, cols.id, f"{key}.columns.id", problems),
            _need_column(table, cols.weight, f"{key}.columns.weight", problems),
        ]
    )
    zone_col = _column(table, cols.zone, f"{key}.columns.zone", problems)
    class_col = _column(table, cols.demand_class, f"{key}.columns.class", problems)
    if not ok:
        return None
    ids = _ids(table, cols.id, f"{key}.columns.id", "demand", problems)
    weight = _numbers(
        table,
        cols.weight,
        ids,
        "population/weight",
        problems,
        fix="give a non-negative number of residents (0 is allowed)",
    )
    huge = np.flatnonzero(weight > MAX_WEIGHT)
    if huge.size:
        problems.add(
            f"{table.shown} {table.rows(huge, ids[huge].tolist())}",
            f"population/weight (column '{cols.weight}') is above {MAX_WEIGHT:,.0f}",
            got=weight[huge[0]],
            fix="give the residents of the point (a whole country is about 1.4e9)",
        )
    zone = _labels(table, zone_col, ids, "zone", problems) if zone_col else None
    dclass = _labels(table, class_col, ids, "demand class", problems) if class_col else None
    x, y = _coordinates(table, cols.x, cols.y, f"{key}.columns", ids, problems)
    crs = _crs_of(table, cfg.crs, key, problems)
    check_crs(crs, x, y, table.shown, table.rows, key, ids, problems)
    footfall = None
    if cfg.footfall_classes:
        if dclass is None:
            problems.add(
                f"{key}.footfall_classes",
                "footfall classes need a class column",
                fix="set demand.columns.class, with e.g. 'venue' for footfall points",
            )
        else:
            footfall = np.isin(dclass, np.asarray(cfg.footfall_classes, dtype=object))
    log.info(
        "Read demand: %s points, %s total weight from %s",
        f"{len(ids):,}",
        f"{np.nansum(weight):,.0f}",
        cfg.file,
    )
    name = _names(table, cols.name, f"{key}.columns.name", ids, problems)
    return Demand(
        ids, np.nan_to_num(weight), zone, dclass, x, y, crs, cfg.weight_note, footfall, name
    )


def load_sites(cfg: SitesConfig, case: LoadedCase, problems: ProblemCollector) -> Sites | None:
    key = f"{case.label} › sites"
    table = read_table(
        case.resolve(cfg.file),
        shown=cfg.file,
        where=f"{key}.file",
        problems=problems,
        layer=cfg.layer,
    )
    if table is None:
        return None
    cols = cfg.columns
    if not _need_column(table, cols.id, f"{key}.columns.id", problems):
        return None
    ids = _ids(table, cols.id, f"{key}.columns.id", "site", problems)
    n = len(ids)
    type_col = _column(table, cols.type, f"{key}.columns.type", problems)
    ftype = (
        _labels(table, type_col, ids, "facility type", problems)
        if type_col
        else np.asarray([cfg.facility_type] * n, dtype=object)
    )
    cost_col = _column(table, cols.cost, f"{key}.columns.cost", problems)
    has_cost = cost_col is not None
    cost = (
        _numbers(
            table,
            cost_col,
            ids,
            "cost",
            problems,
            allow_empty=False,
            fix=f"give a non-negative cost in {cfg.cost_unit}",
        )
        if cost_col
        else np.ones(n)
    )
    existing_col = _column(table, cols.existing, f"{key}.columns.existing", problems)
    existing = (
        _booleans(table, existing_col, ids, "existing flag", problems)
        if existing_col
        else np.zeros(n, dtype=bool)
    )
    zone_col = _column(table, cols.zone, f"{key}.columns.zone", problems)
    zone = _labels(table, zone_col, ids, "zone", problems) if zone_col else None

    def optional_numbers(column: str | None, field: str, what: str) -> np.ndarray | None:
        col = _column(table, column, f"{key}.columns.{field}", problems)
        if col is None:
            return None
        return _numbers(
            table,
            col,
            ids,
            what,
            problems,
            allow_empty=True,
            min_value=None if field == "relocation_credit" else 0.0,
        )

    host = None
    host_col = _column(table, cols.host, f"{key}.columns.host", problems)
    if host_col is not None:
        host_ids = _labels(table, host_col, ids, "host", problems, allow_empty=True)
        host = _positions(ids, host_ids)
        named = host_ids != ""
        unknown = np.flatnonzero(named & (host < 0))
        if unknown.size:
            problems.add(
                f"{table.shown} {table.rows(unknown, ids[unknown].tolist())}",
                f"host (column '{host_col}') names no site in the file",
                got=host_ids[unknown[0]],
                fix="give the id of the clinic or station the site sits in, or leave it empty",
            )
        selfish = np.flatnonzero(host == np.arange(n))
        if selfish.size:
            problems.add(
                f"{table.shown} {table.rows(selfish, ids[selfish].tolist())}",
                "a site cannot be its own host",
                fix="leave host empty or name another site",
            )
        host = np.where(named, host, -1)
    removal = optional_numbers(cols.removal_cost, "removal_cost", "removal cost")
    credit = optional_numbers(cols.relocation_credit, "relocation_credit", "relocation credit")
    capacity = optional_numbers(cols.capacity, "capacity", "capacity")
    vehicles = optional_numbers(cols.vehicles, "vehicles", "vehicles")
    np_vehicles = optional_numbers(cols.np_vehicles, "np_vehicles", "negative-pressure vehicles")
    x, y = _coordinates(table, cols.x, cols.y, f"{key}.columns", ids, problems)
    crs = _crs_of(table, cfg.crs, key, problems)
    check_crs(crs, x, y, table.shown, table.rows, key, ids, problems)
    log.info(
        "Read sites: %s (%s existing), types %s from %s",
        f"{n:,}",
        f"{int(existing.sum()):,}",
        ", ".join(sorted(set(ftype.tolist()))),
        cfg.file,
    )
    return Sites(
        ids,
        ftype,
        np.nan_to_num(cost),
        existing,
        zone,
        removal,
        credit,
        capacity,
        x,
        y,
        crs,
        cfg.cost_unit,
        has_cost,
        None if vehicles is None else np.nan_to_num(vehicles),
        None if np_vehicles is None else np.nan_to_num(np_vehicles),
        host,
        _names(table, cols.name, f"{key}.columns.name", ids, problems),
    )


def load_zones(cfg: ZonesConfig, case: LoadedCase, problems: ProblemCollector) -> Zones | None:
    key = f"{case.label} › zones"
    table = read_table(
        case.resolve(cfg.file),
        shown=cfg.file,
        where=f"{key}.file",
        problems=problems,
        layer=cfg.layer,
    )
    if table is None:
        return None
    cols = cfg.columns
    if not _need_column(table, cols.id, f"{key}.columns.id", problems):
        return None
    ids = _ids(table, cols.id, f"{key}.columns.id", "zone", problems)
    kind_col = _column(table, cols.kind, f"{key}.columns.kind", problems)
    named = _names(table, cols.name, f"{key}.columns.name", ids, problems)
    name = ids if named is None else np.where(named == "", ids, named)
    kind = (
        _labels(table, kind_col, ids, "zone kind", problems, allow_empty=True)
        if kind_col
        else np.asarray([""] * len(ids), dtype=object)
    )
    return Zones(ids, name, kind)


def _positions(ids: np.ndarray, lookup: np.ndarray) -> np.ndarray:
    """Position of each ``lookup`` id in ``ids`` (first occurrence), -1 where unknown."""
    index = pd.Index(pd.Series(ids, dtype=object))
    first = ~index.duplicated()
    where = np.flatnonzero(first)
    found = index[first].get_indexer(pd.Series(lookup, dtype=object))
    return np.where(found >= 0, where[np.maximum(found, 0)], -1)


_UNIT_FACTOR = {
    "min": ("min", 1.0),
    "s": ("min", 1 / 60),
    "h": ("min", 60.0),
    "m": ("m", 1.0),
    "km": ("m", 1000.0),
}


def load_travel_times(
    name: str,
    cfg: TravelTimesConfig,
    case: LoadedCase,
    demand_ids: np.ndarray,
    site_ids: np.ndarray,
    problems: ProblemCollector,
) -> TravelTimes | None:
    """A long table ``demand_id, site_id, value`` mapped onto demand and site indices."""
    key = f"{case.label} › travel_times.{name}"
    path = case.resolve(cfg.file)
    cols = cfg.columns
    if not exists(path):
        read_table(path, shown=cfg.file, where=f"{key}.file", problems=problems)
        return None
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
                _rows_or_none(table, f"{key}.file", problems)
                return None
        else:
            table_or_none = read_table(
                path, shown=cfg.file, where=f"{key}.file", problems=problems, layer=cfg.layer
            )
            if table_or_none is None:
                return None
            table = table_or_none
            ok = [
                _need_column(table, c, f"{key}.columns.{f}", problems)
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

    frame = table.frame
    d_ids = _id_strings(frame[cols.demand_id])
    s_ids = _id_strings(frame[cols.site_id])
    values = _numbers(
        table,
        cols.value,
        d_ids,
        f"travel {('time' if cfg.unit in ('min', 's', 'h') else 'distance')}",
        problems,
        min_value=0.0,
        fix=f"give a non-negative value in {cfg.unit}; leave unreachable pairs out",
    )
    di = _positions(demand_ids, d_ids)
    sj = _positions(site_ids, s_ids)
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


def _crs_of(table: Table, declared: str | None, key: str, problems: ProblemCollector) -> str | None:
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
