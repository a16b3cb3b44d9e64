"""Read a ``staffing_quota`` case's tables (facilities, service population, current staff,
need) into a :class:`QuotaInstance`; all problems of all files are reported together."""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import pandas as pd

from geodata.columns import (
    need_column,
    optional_column,
    read_booleans,
    read_ids,
    read_labels,
    read_numbers,
)
from geodata.reader import Table

from ...errors import ProblemCollector
from ..config import QuotaCase, StaffingCase
from ..quota import QuotaInstance
from ..service_population import ServicePopulation, assign_residents
from .hires import load_new_hires
from .readers import duplicates, integers, need_all, read, row_ids, unknown

__all__ = ["load_quota_instance"]

log = logging.getLogger(__name__)


def load_quota_instance(case: StaffingCase, problems: ProblemCollector) -> QuotaInstance | None:
    """Facilities, populations, current staff and need of a ``staffing_quota`` case."""
    cfg = case.config
    assert isinstance(cfg, QuotaCase)
    fac = _facilities(case, cfg, problems)
    if fac is None:
        return None
    ids, types, population = fac.ids, fac.types, fac.population
    n = ids.size
    cats = cfg.categories
    cat_names = [c.name for c in cats]
    _category_checks(case, cfg, types, problems)
    allowed = np.zeros((n, len(cats)), dtype=bool)
    for k, c in enumerate(cats):
        allowed[:, k] = True if c.facility_types is None else np.isin(types, c.facility_types)
    current = np.zeros((n, len(cats)), dtype=np.int64)
    if cfg.current_staff is not None:
        current = _current_staff(case, cfg, ids, types, cat_names, allowed, problems)
    need, need_total, need_source = _need(case, cfg, fac, allowed, problems)
    county = _county_population(case, cfg, fac, problems)
    hires = (
        load_new_hires(case, cfg, fac.ids, fac.types, problems)
        if cfg.reserved_hires is not None
        else None
    )
    if problems:
        return None
    return QuotaInstance(
        facility_ids=ids,
        names=np.asarray(fac.names, dtype=object),
        types=np.asarray(types, dtype=object),
        population=population,
        remote=fac.remote,
        categories=list(cats),
        current=current,
        need=need,
        need_total=need_total,
        norms=cfg.norms,
        county_population=float(county or 0.0),
        need_source=need_source,
        population_note=cfg.population.note.strip(),
        zones=fac.zones,
        total_shortfall_weight=cfg.objective.total_shortfall_weight,
        movement=cfg.objective.movement,
        population_source=_population_source(cfg, fac.siting),
        hires=hires,
    )


@dataclass(frozen=True, eq=False)
class _Facilities:
    """The facilities file read: ids, names, types, zones, service population, remote flag."""

    ids: np.ndarray
    names: np.ndarray
    types: np.ndarray
    zones: np.ndarray | None
    population: np.ndarray
    remote: np.ndarray
    siting: ServicePopulation | None


def _facilities(
    case: StaffingCase, cfg: QuotaCase, problems: ProblemCollector
) -> _Facilities | None:
    """The facilities file (and the siting run's service population), or None if unreadable."""
    key = f"{case.label} › facilities"
    table = read(case, cfg.facilities.file, key, problems)
    if table is None:
        _touch_other_quota_files(case, cfg, problems)
        return None
    cols = cfg.facilities.columns
    if not need_column(table, cols.id, f"{key}.columns.id", problems):
        return None
    ids = read_ids(table, cols.id, f"{key}.columns.id", "facility", problems)
    n = ids.size
    name_col = optional_column(table, cols.name, f"{key}.columns.name", problems)
    names = (
        read_labels(table, name_col, ids, "name", problems, allow_empty=True) if name_col else ids
    )
    type_col = optional_column(table, cols.type, f"{key}.columns.type", problems)
    types = (
        read_labels(table, type_col, ids, "facility type", problems)
        if type_col
        else np.asarray([cfg.facilities.facility_type] * n, dtype=object)
    )
    zone_col = optional_column(table, cols.zone, f"{key}.columns.zone", problems)
    zones = (
        read_labels(table, zone_col, ids, "zone", problems, allow_empty=True) if zone_col else None
    )
    population, siting = _service_population(case, cfg, table, ids, types, problems)
    remote = np.zeros(n, dtype=bool)
    rem_col = optional_column(table, cols.remote, f"{key}.columns.remote", problems)
    if rem_col:
        remote |= read_booleans(table, rem_col, ids, "remote flag", problems)
    tr_col = optional_column(table, cols.travel_min, f"{key}.columns.travel_min", problems)
    rule = cfg.norms.remote.min_travel_min
    if tr_col and rule is not None:
        minutes = read_numbers(table, tr_col, ids, "travel time", problems, allow_empty=True)
        remote |= np.nan_to_num(minutes, nan=-1.0) >= rule
    return _Facilities(ids, names, types, zones, population, remote, siting)


def _service_population(
    case: StaffingCase,
    cfg: QuotaCase,
    table: Table,
    ids: np.ndarray,
    types: np.ndarray,
    problems: ProblemCollector,
) -> tuple[np.ndarray, ServicePopulation | None]:
    """Residents served per facility: the population column, overridden for the listed types
    by the residents a siting run assigned (``service_population``)."""
    key = f"{case.label} › facilities"
    cols = cfg.facilities.columns
    pop_col = optional_column(table, cols.population, f"{key}.columns.population", problems)
    population = np.full(ids.size, np.nan)
    if pop_col:
        population = read_numbers(
            table,
            pop_col,
            ids,
            "service population",
            problems,
            allow_empty=cfg.service_population is not None,
            fix="give residents served (an estimate is fine; say so in population.note)",
        )
    sp_cfg = cfg.service_population
    siting: ServicePopulation | None = None
    if sp_cfg is not None:
        sp_key = f"{case.label} › service_population"
        sp_table = read(case, sp_cfg.file, sp_key, problems)
        if sp_table is not None:
            siting = assign_residents(sp_table, cfg, ids, types, problems, key=sp_key)
        if siting is not None:
            use = np.isin(types, sp_cfg.facility_types)
            population = np.where(use, siting.population, population)
    missing = np.flatnonzero(~np.isfinite(population))
    if missing.size and (pop_col is not None or sp_cfg is not None):
        problems.add(
            f"{table.shown} {table.rows(missing, ids[missing].tolist())}",
            "no service population",
            fix="give it in the population column, or list its type in "
            "service_population.facility_types",
        )
    return population, siting


def _category_checks(
    case: StaffingCase, cfg: QuotaCase, types: np.ndarray, problems: ProblemCollector
) -> None:
    """Every facility type present has a staff category (and, logged, a per-mille norm)."""
    cats = cfg.categories
    present_types = sorted(set(map(str, types)))
    for t in present_types:
        if not any(c.facility_types is None or t in c.facility_types for c in cats):
            problems.add(
                f"{case.label} › categories",
                f"no staff category applies to facility type '{t}'",
                got=t,
                fix="add the type to a category's facility_types (or drop facility_types)",
            )
    for t in present_types:
        if t not in cfg.norms.per_mille:
            log.warning(
                "Facility type %s has no per-mille norm: its posts are bounded only by need", t
            )


def _need(
    case: StaffingCase,
    cfg: QuotaCase,
    fac: _Facilities,
    allowed: np.ndarray,
    problems: ProblemCollector,
) -> tuple[np.ndarray, np.ndarray, str]:
    """(need per facility and category, need per facility total, where the need comes from):
    the need table (or WISN workloads), else the per-mille midpoint x service population."""
    cats = cfg.categories
    n = fac.ids.size
    need = np.full((n, len(cats)), np.nan)
    need_total = np.full(n, np.nan)
    need_source = "midpoint of the per-mille norm × service population"
    if cfg.need is not None:
        got = _need_table(case, cfg, fac.ids, [c.name for c in cats], allowed, problems)
        if got is not None:
            need, need_total = got
        need_source = (
            "WISN workloads (" + cfg.need.file + ")"
            if cfg.need.columns.annual_workload is not None
            else f"need table ({cfg.need.file})"
        )
    elif np.all(np.isfinite(fac.population)):
        share = np.asarray([np.nan if c.need_share is None else c.need_share for c in cats])
        for f in range(n):
            norm = cfg.norms.per_mille.get(str(fac.types[f]))
            if norm is None:
                continue
            vals = [v for v in (norm.min, norm.max) if v is not None]
            mid = float(np.mean(vals)) * fac.population[f] / 1000
            here = allowed[f] & np.isfinite(share)
            if here.any():
                need[f, here] = mid * share[here]
            else:
                need_total[f] = mid
        if np.isfinite(share).any():
            need_source += ", split over categories by their need shares"
    return need, need_total, need_source


def _county_population(
    case: StaffingCase, cfg: QuotaCase, fac: _Facilities, problems: ProblemCollector
) -> float | None:
    """The county total (stated and checked, or the partition types' sum)."""
    label, types = case.label, fac.types
    unknown_part = sorted(set(cfg.population.partition_types) - set(map(str, types)))
    if unknown_part and "partition_types" in cfg.population.model_fields_set:
        problems.add(
            f"{label} › population.partition_types",
            "no facility has this type, so it cannot partition the county's residents "
            "(a typo would silently drop residents from the GP norm)",
            got=", ".join(unknown_part),
            fix=f"use types of the facilities file: {', '.join(sorted(set(map(str, types))))}",
        )
    county = cfg.population.county_total
    part = np.isin(types, cfg.population.partition_types)
    if county is not None and not problems:
        _check_county_total(case, cfg, types, fac.population, part, fac.siting, problems)
    if county is None:
        county = float(np.nansum(fac.population[part]))
        if cfg.norms.gp_per_10k.enabled and county <= 0:
            problems.add(
                f"{label} › population.county_total",
                "the GP norm needs the county population, and no facility of the partition types "
                f"({', '.join(cfg.population.partition_types)}) has a population",
                fix="give population.county_total",
            )
    return county


def _touch_other_quota_files(
    case: StaffingCase, cfg: QuotaCase, problems: ProblemCollector
) -> None:
    """Report missing files of the other sections too (one report for the whole case)."""
    label = case.label
    for sect, file in (
        ("service_population", cfg.service_population.file if cfg.service_population else None),
        ("current_staff", cfg.current_staff.file if cfg.current_staff else None),
        ("need", cfg.need.file if cfg.need else None),
    ):
        if file is not None and not case.resolve(file).exists():
            problems.add(
                f"{label} › {sect}.file",
                "file not found",
                got=file,
                fix="check the path; paths are relative to the case file's folder",
            )


def _check_county_total(
    case: StaffingCase,
    cfg: QuotaCase,
    types: np.ndarray,
    population: np.ndarray,
    part: np.ndarray,
    siting: ServicePopulation | None,
    problems: ProblemCollector,
) -> None:
    """The partition types' service populations must add up to the stated county total.

    Tolerance: half a resident per facility whose population comes from the facilities file
    (whole-number estimates), plus 1e-9 of the total; siting-run populations must match exactly.
    """
    county = cfg.population.county_total
    assert county is not None
    if not part.any():
        return
    total = float(np.nansum(population[part]))
    sp_types = cfg.service_population.facility_types if cfg.service_population else []
    from_file = int((part & ~np.isin(types, sp_types)).sum())
    tol = 0.5 * from_file + 1e-9 * county
    diff = total - county
    if abs(diff) <= tol:
        return
    names = ", ".join(cfg.population.partition_types)
    what = (
        f"the service populations of the {names} facilities add up to {total:,.0f} residents, "
        f"not the stated county total {county:,.0f} ("
        + (
            f"{diff:,.0f} counted twice or too many"
            if diff > 0
            else f"{-diff:,.0f} counted nowhere"
        )
        + ")"
    )
    if siting is not None:
        left = [lay for lay in siting.layers if lay["unassigned_points"]]
        if left:
            what += "; " + "; ".join(
                f"{lay['unassigned']:,.0f} residents at {lay['unassigned_points']} points of "
                f"{cfg.service_population.file if cfg.service_population else ''} have no "
                f"{'/'.join(map(str, lay['types']))} (left out: "  # type: ignore[call-overload]
                f"{lay['unassigned_rows']})"
                for lay in left
            )
        what += f"; the siting run's demand table holds {siting.residents:,.0f} residents"
    problems.add(
        f"{case.label} › population.county_total",
        what,
        got=county,
        fix="state the county total the service populations add up to, or correct the "
        f"populations in {cfg.facilities.file}"
        + (" / the siting run's table" if siting is not None else ""),
    )


def _population_source(cfg: QuotaCase, siting: ServicePopulation | None) -> dict[str, object]:
    """Where the populations come from, for solution.json (and the hand-off check)."""
    out: dict[str, object] = {
        "county_total_stated": cfg.population.county_total is not None,
        "partition_types": list(cfg.population.partition_types),
    }
    sp_cfg = cfg.service_population
    if sp_cfg is not None and siting is not None:
        out["from_siting_run"] = {
            "file": sp_cfg.file,
            "weight_column": siting.weight_column,
            "residents": round(siting.residents, 3),
            "layers": siting.layers,
        }
    return out


def _current_staff(
    case: StaffingCase,
    cfg: QuotaCase,
    ids: np.ndarray,
    types: np.ndarray,
    cat_names: list[str],
    allowed: np.ndarray,
    problems: ProblemCollector,
) -> np.ndarray:
    cs = cfg.current_staff
    assert cs is not None
    key = f"{case.label} › current_staff"
    out = np.zeros((ids.size, len(cat_names)), dtype=np.int64)
    table = read(case, cs.file, key, problems)
    if table is None:
        return out
    c = cs.columns
    if not need_all(
        table,
        {"facility_id": c.facility_id, "category": c.category, "staff": c.staff},
        key,
        problems,
    ):
        return out
    fid = read_labels(table, c.facility_id, row_ids(table), "facility id", problems)
    cat = read_labels(table, c.category, fid, "category", problems)
    staff = integers(table, c.staff, fid, "current staff", problems)
    ok = unknown(table, fid, list(map(str, ids)), c.facility_id, "facility ids", problems)
    ok &= unknown(table, cat, cat_names, c.category, "categories", problems, fid)
    duplicates(table, [fid, cat], "facility/category", problems)
    pos = {str(v): k for k, v in enumerate(ids)}
    cpos = {v: k for k, v in enumerate(cat_names)}
    wrong = []
    for r in np.flatnonzero(ok & np.isfinite(staff)):
        f, k = pos[str(fid[r])], cpos[str(cat[r])]
        if not allowed[f, k] and staff[r] > 0:
            wrong.append(r)
            continue
        out[f, k] = int(staff[r])
    if wrong:
        w = np.asarray(wrong)
        problems.add(
            f"{table.shown} {table.rows(w, [f'{fid[r]}/{cat[r]}' for r in w])}",
            "staff in a category the facility's type does not have",
            fix="fix the category, or add the type to the category's facility_types",
        )
    log.info(
        "Read current staff: %s in post at %d facilities",
        f"{int(out.sum()):,}",
        int((out.sum(axis=1) > 0).sum()),
    )
    return out


def _need_table(
    case: StaffingCase,
    cfg: QuotaCase,
    ids: np.ndarray,
    cat_names: list[str],
    allowed: np.ndarray,
    problems: ProblemCollector,
) -> tuple[np.ndarray, np.ndarray] | None:
    nc = cfg.need
    assert nc is not None
    key = f"{case.label} › need"
    table = read(case, nc.file, key, problems)
    if table is None:
        return None
    c = nc.columns
    wisn = c.annual_workload is not None and c.unit_time_min is not None
    cols = {"facility_id": c.facility_id, "category": c.category}
    if wisn:
        assert c.annual_workload is not None and c.unit_time_min is not None
        cols |= {"annual_workload": c.annual_workload, "unit_time_min": c.unit_time_min}
    elif c.need is not None:
        cols["need"] = c.need
    if not need_all(table, cols, key, problems):
        return None
    fid = read_labels(table, c.facility_id, row_ids(table), "facility id", problems)
    cat = read_labels(table, c.category, fid, "category", problems)
    ok = unknown(table, fid, list(map(str, ids)), c.facility_id, "facility ids", problems)
    ok &= unknown(table, cat, [*cat_names, "*"], c.category, "categories", problems, fid)
    if wisn:
        assert c.annual_workload is not None and c.unit_time_min is not None
        work = read_numbers(table, c.annual_workload, fid, "annual workload", problems)
        unit = read_numbers(table, c.unit_time_min, fid, "unit time (minutes)", problems)
        missing = sorted(set(map(str, cat[ok])) - set(nc.wisn))
        if missing:
            problems.add(
                f"{case.label} › need.wisn",
                "WISN parameters missing for categories in the workload table",
                got=", ".join(missing),
                fix="add need.wisn.<category>: {available_working_time_h: ..., ...}",
            )
            return None
        hours = work * unit / 60.0
        value = np.zeros(len(fid))
        caf = {k: 1.0 / (1.0 - p.category_allowance_percent / 100.0) for k, p in nc.wisn.items()}
        for r in np.flatnonzero(ok):
            p = nc.wisn[str(cat[r])]
            value[r] = hours[r] / p.available_working_time_h * caf[str(cat[r])]
        frame = pd.DataFrame({"f": fid[ok], "c": cat[ok], "v": value[ok]})
        agg = frame.groupby(["f", "c"], sort=False)["v"].sum()
        extra = {k: p.individual_allowance_staff for k, p in nc.wisn.items()}
        agg = agg + np.asarray([extra.get(str(k[1]), 0.0) for k in agg.index])
    else:
        assert c.need is not None
        value = read_numbers(table, c.need, fid, "need", problems)
        duplicates(table, [fid, cat], "facility/category", problems)
        frame = pd.DataFrame({"f": fid[ok], "c": cat[ok], "v": value[ok]})
        agg = frame.groupby(["f", "c"], sort=False)["v"].sum()
    need = np.full((ids.size, len(cat_names)), np.nan)
    need_total = np.full(ids.size, np.nan)
    pos = {str(v): k for k, v in enumerate(ids)}
    cpos = {v: k for k, v in enumerate(cat_names)}
    for key, v in zip(agg.index.tolist(), agg.to_numpy(), strict=True):
        need_f, c_id = str(key[0]), str(key[1])
        f = pos[need_f]
        if c_id == "*":
            need_total[f] = float(v)
            continue
        k = cpos[str(c_id)]
        if not allowed[f, k]:
            problems.add(
                f"{table.shown} (facility {need_f}, category {c_id})",
                "need in a category the facility's type does not have",
                fix="fix the category, or add the type to the category's facility_types",
            )
            continue
        need[f, k] = float(v)
    return need, need_total
