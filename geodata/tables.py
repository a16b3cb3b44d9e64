"""Load the case's demand points, sites and zones (CSV or GIS files) into arrays.

Every check collects problems instead of raising at the first one: a planner sees every bad
row, column and id of every file in one report (column readers: :mod:`geodata.columns`).
"""

from __future__ import annotations

import logging

import numpy as np

from optimizer.errors import ProblemCollector

from .arrays import Demand, Sites, Zones
from .columns import (
    crs_of,
    need_column,
    optional_column,
    positions_of,
    read_booleans,
    read_coordinates,
    read_ids,
    read_labels,
    read_names,
    read_numbers,
)
from .crs import check_crs
from .reader import Table, read_table
from .sources import CaseFiles, Section

__all__ = ["load_demand", "load_sites", "load_zones"]

log = logging.getLogger(__name__)


MAX_WEIGHT = 2e9  # more people than any country: a typo or a unit error, not a weight


def load_demand(cfg: Section, files: CaseFiles, problems: ProblemCollector) -> Demand | None:
    """Demand points from ``cfg`` (the case's ``demand:`` section)."""
    key = f"{files.label} › demand"
    table = read_table(
        files.resolve(cfg.file),
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
            need_column(table, cols.id, f"{key}.columns.id", problems),
            need_column(table, cols.weight, f"{key}.columns.weight", problems),
        ]
    )
    zone_col = optional_column(table, cols.zone, f"{key}.columns.zone", problems)
    class_col = optional_column(table, cols.demand_class, f"{key}.columns.class", problems)
    if not ok:
        return None
    ids = read_ids(table, cols.id, f"{key}.columns.id", "demand", problems)
    weight = read_numbers(
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
    zone = read_labels(table, zone_col, ids, "zone", problems) if zone_col else None
    dclass = read_labels(table, class_col, ids, "demand class", problems) if class_col else None
    x, y = read_coordinates(table, cols.x, cols.y, f"{key}.columns", ids, problems)
    crs = crs_of(table, cfg.crs, key, problems)
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
    name = read_names(table, cols.name, f"{key}.columns.name", ids, problems)
    return Demand(
        ids, np.nan_to_num(weight), zone, dclass, x, y, crs, cfg.weight_note, footfall, name
    )


def _optional_numbers(
    table: Table,
    column: str | None,
    ids: np.ndarray,
    field: tuple[str, str, str],
    problems: ProblemCollector,
) -> np.ndarray | None:
    """An optional numeric column of the sites (``field``: section key, field name, what it
    is); empty cells are NaN; only a relocation credit may be negative."""
    key, name, what = field
    col = optional_column(table, column, f"{key}.columns.{name}", problems)
    if col is None:
        return None
    return read_numbers(
        table,
        col,
        ids,
        what,
        problems,
        allow_empty=True,
        min_value=None if name == "relocation_credit" else 0.0,
    )


def _hosts(
    table: Table, column: str | None, ids: np.ndarray, key: str, problems: ProblemCollector
) -> np.ndarray | None:
    """The position of each site's host site (-1: none), a problem per unknown or own host."""
    host_col = optional_column(table, column, key, problems)
    if host_col is None:
        return None
    host_ids = read_labels(table, host_col, ids, "host", problems, allow_empty=True)
    host = positions_of(ids, host_ids)
    named = host_ids != ""
    unknown = np.flatnonzero(named & (host < 0))
    if unknown.size:
        problems.add(
            f"{table.shown} {table.rows(unknown, ids[unknown].tolist())}",
            f"host (column '{host_col}') names no site in the file",
            got=host_ids[unknown[0]],
            fix="give the id of the clinic or station the site sits in, or leave it empty",
        )
    selfish = np.flatnonzero(host == np.arange(len(ids)))
    if selfish.size:
        problems.add(
            f"{table.shown} {table.rows(selfish, ids[selfish].tolist())}",
            "a site cannot be its own host",
            fix="leave host empty or name another site",
        )
    return np.where(named, host, -1)


def load_sites(cfg: Section, files: CaseFiles, problems: ProblemCollector) -> Sites | None:
    """Candidate and existing sites from ``cfg`` (the case's ``sites:`` section): type, cost,
    existing flag, zone, host, removal cost, relocation credit, capacity, vehicles, coordinates."""
    key = f"{files.label} › sites"
    table = read_table(
        files.resolve(cfg.file),
        shown=cfg.file,
        where=f"{key}.file",
        problems=problems,
        layer=cfg.layer,
    )
    if table is None:
        return None
    cols = cfg.columns
    if not need_column(table, cols.id, f"{key}.columns.id", problems):
        return None
    ids = read_ids(table, cols.id, f"{key}.columns.id", "site", problems)
    n = len(ids)
    type_col = optional_column(table, cols.type, f"{key}.columns.type", problems)
    ftype = (
        read_labels(table, type_col, ids, "facility type", problems)
        if type_col
        else np.asarray([cfg.facility_type] * n, dtype=object)
    )
    cost_col = optional_column(table, cols.cost, f"{key}.columns.cost", problems)
    has_cost = cost_col is not None
    cost = (
        read_numbers(
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
    existing_col = optional_column(table, cols.existing, f"{key}.columns.existing", problems)
    existing = (
        read_booleans(table, existing_col, ids, "existing flag", problems)
        if existing_col
        else np.zeros(n, dtype=bool)
    )
    zone_col = optional_column(table, cols.zone, f"{key}.columns.zone", problems)
    zone = read_labels(table, zone_col, ids, "zone", problems) if zone_col else None

    host = _hosts(table, cols.host, ids, f"{key}.columns.host", problems)

    def optional(column: str | None, field: str, what: str) -> np.ndarray | None:
        return _optional_numbers(table, column, ids, (key, field, what), problems)

    removal = optional(cols.removal_cost, "removal_cost", "removal cost")
    credit = optional(cols.relocation_credit, "relocation_credit", "relocation credit")
    capacity = optional(cols.capacity, "capacity", "capacity")
    vehicles = optional(cols.vehicles, "vehicles", "vehicles")
    np_vehicles = optional(cols.np_vehicles, "np_vehicles", "negative-pressure vehicles")
    x, y = read_coordinates(table, cols.x, cols.y, f"{key}.columns", ids, problems)
    crs = crs_of(table, cfg.crs, key, problems)
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
        read_names(table, cols.name, f"{key}.columns.name", ids, problems),
    )


def load_zones(cfg: Section, files: CaseFiles, problems: ProblemCollector) -> Zones | None:
    key = f"{files.label} › zones"
    table = read_table(
        files.resolve(cfg.file),
        shown=cfg.file,
        where=f"{key}.file",
        problems=problems,
        layer=cfg.layer,
    )
    if table is None:
        return None
    cols = cfg.columns
    if not need_column(table, cols.id, f"{key}.columns.id", problems):
        return None
    ids = read_ids(table, cols.id, f"{key}.columns.id", "zone", problems)
    kind_col = optional_column(table, cols.kind, f"{key}.columns.kind", problems)
    named = read_names(table, cols.name, f"{key}.columns.name", ids, problems)
    name = ids if named is None else np.where(named == "", ids, named)
    kind = (
        read_labels(table, kind_col, ids, "zone kind", problems, allow_empty=True)
        if kind_col
        else np.asarray([""] * len(ids), dtype=object)
    )
    return Zones(ids, name, kind)
