"""Read a staffing case's tables into a :class:`QuotaInstance` or :class:`RotationInstance`.

Every file is read and checked before anything is solved; all problems of all files are
collected (``file line N (id=...): what (got X); fix``) and raised together. The low-level
readers are the project's (:mod:`geodata.reader`, :mod:`geodata.columns`): CSV in UTF-8 or GB18030, GIS layers, row
numbers as a planner sees them.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import numpy as np
import pandas as pd
import scipy.sparse as sp

from geodata.columns import need_column as _need_column
from geodata.columns import optional_column as _column
from geodata.columns import read_booleans as _booleans
from geodata.columns import read_ids as _ids
from geodata.columns import read_labels as _labels
from geodata.columns import read_numbers as _numbers
from geodata.reader import Table, read_table

from ..errors import ProblemCollector
from .config import (
    QuotaCase,
    RotationCase,
    StaffingCase,
)
from .quota import QuotaInstance
from .rotation import RotationInstance
from .service_population import ServicePopulation, assign_residents

__all__ = ["load_quota_instance", "load_rotation_instance", "month_labels"]

log = logging.getLogger(__name__)


def _read(case: StaffingCase, file: str, key: str, problems: ProblemCollector) -> Table | None:
    return read_table(case.resolve(file), shown=file, where=f"{key}.file", problems=problems)


def _need_all(table: Table, cols: dict[str, str], key: str, problems: ProblemCollector) -> bool:
    ok = True
    for field, col in cols.items():
        ok &= _need_column(table, col, f"{key}.columns.{field}", problems)
    return ok


def _integers(
    table: Table,
    column: str,
    ids: np.ndarray,
    what: str,
    problems: ProblemCollector,
    *,
    allow_empty: bool = False,
    min_value: float = 0.0,
) -> np.ndarray:
    values = _numbers(
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


def _unknown(
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


def _duplicates(
    table: Table, keys: list[np.ndarray], what: str, problems: ProblemCollector
) -> None:
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
# Quota
# ---------------------------------------------------------------------------------------------
def load_quota_instance(case: StaffingCase, problems: ProblemCollector) -> QuotaInstance | None:
    """Facilities, populations, current staff and need of a ``staffing_quota`` case."""
    cfg = case.config
    assert isinstance(cfg, QuotaCase)
    label = case.label
    key = f"{label} › facilities"
    table = _read(case, cfg.facilities.file, key, problems)
    if table is None:
        _touch_other_quota_files(case, cfg, problems)
        return None
    cols = cfg.facilities.columns
    if not _need_column(table, cols.id, f"{key}.columns.id", problems):
        return None
    ids = _ids(table, cols.id, f"{key}.columns.id", "facility", problems)
    n = ids.size
    name_col = _column(table, cols.name, f"{key}.columns.name", problems)
    names = _labels(table, name_col, ids, "name", problems, allow_empty=True) if name_col else ids
    type_col = _column(table, cols.type, f"{key}.columns.type", problems)
    types = (
        _labels(table, type_col, ids, "facility type", problems)
        if type_col
        else np.asarray([cfg.facilities.facility_type] * n, dtype=object)
    )
    zone_col = _column(table, cols.zone, f"{key}.columns.zone", problems)
    zones = _labels(table, zone_col, ids, "zone", problems, allow_empty=True) if zone_col else None
    pop_col = _column(table, cols.population, f"{key}.columns.population", problems)
    population = np.full(n, np.nan)
    if pop_col:
        population = _numbers(
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
        sp_key = f"{label} › service_population"
        sp_table = _read(case, sp_cfg.file, sp_key, problems)
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
    remote = np.zeros(n, dtype=bool)
    rem_col = _column(table, cols.remote, f"{key}.columns.remote", problems)
    if rem_col:
        remote |= _booleans(table, rem_col, ids, "remote flag", problems)
    tr_col = _column(table, cols.travel_min, f"{key}.columns.travel_min", problems)
    rule = cfg.norms.remote.min_travel_min
    if tr_col and rule is not None:
        minutes = _numbers(table, tr_col, ids, "travel time", problems, allow_empty=True)
        remote |= np.nan_to_num(minutes, nan=-1.0) >= rule
    cats = cfg.categories
    cat_names = [c.name for c in cats]
    present_types = sorted(set(map(str, types)))
    for t in present_types:
        if not any(c.facility_types is None or t in c.facility_types for c in cats):
            problems.add(
                f"{label} › categories",
                f"no staff category applies to facility type '{t}'",
                got=t,
                fix="add the type to a category's facility_types (or drop facility_types)",
            )
    for t in present_types:
        if t not in cfg.norms.per_mille:
            log.warning(
                "Facility type %s has no per-mille norm: its posts are bounded only by need", t
            )
    allowed = np.zeros((n, len(cats)), dtype=bool)
    for k, c in enumerate(cats):
        allowed[:, k] = True if c.facility_types is None else np.isin(types, c.facility_types)
    current = np.zeros((n, len(cats)), dtype=np.int64)
    if cfg.current_staff is not None:
        current = _current_staff(case, cfg, ids, types, cat_names, allowed, problems)
    need = np.full((n, len(cats)), np.nan)
    need_total = np.full(n, np.nan)
    need_source = "midpoint of the per-mille norm × service population"
    if cfg.need is not None:
        got = _need_table(case, cfg, ids, cat_names, allowed, problems)
        if got is not None:
            need, need_total = got
        need_source = (
            "WISN workloads (" + cfg.need.file + ")"
            if cfg.need.columns.annual_workload is not None
            else f"need table ({cfg.need.file})"
        )
    elif np.all(np.isfinite(population)):
        share = np.asarray([np.nan if c.need_share is None else c.need_share for c in cats])
        for f in range(n):
            norm = cfg.norms.per_mille.get(str(types[f]))
            if norm is None:
                continue
            vals = [v for v in (norm.min, norm.max) if v is not None]
            mid = float(np.mean(vals)) * population[f] / 1000
            here = allowed[f] & np.isfinite(share)
            if here.any():
                need[f, here] = mid * share[here]
            else:
                need_total[f] = mid
        if np.isfinite(share).any():
            need_source += ", split over categories by their need shares"
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
        _check_county_total(case, cfg, types, population, part, siting, problems)
    if county is None:
        county = float(np.nansum(population[part]))
        if cfg.norms.gp_per_10k.enabled and county <= 0:
            problems.add(
                f"{label} › population.county_total",
                "the GP norm needs the county population, and no facility of the partition types "
                f"({', '.join(cfg.population.partition_types)}) has a population",
                fix="give population.county_total",
            )
    if problems:
        return None
    return QuotaInstance(
        facility_ids=ids,
        names=np.asarray(names, dtype=object),
        types=np.asarray(types, dtype=object),
        population=population,
        remote=remote,
        categories=list(cats),
        current=current,
        need=need,
        need_total=need_total,
        norms=cfg.norms,
        county_population=float(county or 0.0),
        need_source=need_source,
        population_note=cfg.population.note.strip(),
        zones=zones,
        total_shortfall_weight=cfg.objective.total_shortfall_weight,
        movement=cfg.objective.movement,
        population_source=_population_source(cfg, siting),
    )


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
    table = _read(case, cs.file, key, problems)
    if table is None:
        return out
    c = cs.columns
    if not _need_all(
        table,
        {"facility_id": c.facility_id, "category": c.category, "staff": c.staff},
        key,
        problems,
    ):
        return out
    fid = _labels(table, c.facility_id, _row_ids(table), "facility id", problems)
    cat = _labels(table, c.category, fid, "category", problems)
    staff = _integers(table, c.staff, fid, "current staff", problems)
    ok = _unknown(table, fid, list(map(str, ids)), c.facility_id, "facility ids", problems)
    ok &= _unknown(table, cat, cat_names, c.category, "categories", problems, fid)
    _duplicates(table, [fid, cat], "facility/category", problems)
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


def _row_ids(table: Table) -> np.ndarray:
    return np.asarray(
        [str(k + (2 if table.is_csv else 1)) for k in range(len(table.frame))], dtype=object
    )


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
    table = _read(case, nc.file, key, problems)
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
    if not _need_all(table, cols, key, problems):
        return None
    fid = _labels(table, c.facility_id, _row_ids(table), "facility id", problems)
    cat = _labels(table, c.category, fid, "category", problems)
    ok = _unknown(table, fid, list(map(str, ids)), c.facility_id, "facility ids", problems)
    ok &= _unknown(table, cat, [*cat_names, "*"], c.category, "categories", problems, fid)
    if wisn:
        assert c.annual_workload is not None and c.unit_time_min is not None
        work = _numbers(table, c.annual_workload, fid, "annual workload", problems)
        unit = _numbers(table, c.unit_time_min, fid, "unit time (minutes)", problems)
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
        value = _numbers(table, c.need, fid, "need", problems)
        _duplicates(table, [fid, cat], "facility/category", problems)
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


# ---------------------------------------------------------------------------------------------
# Sent-down rotations
# ---------------------------------------------------------------------------------------------
def month_labels(start: str, months: int) -> list[str]:
    if not start:
        return [f"M{t:02d}" for t in range(1, months + 1)]
    y, m = (int(p) for p in start.split("-"))
    out = []
    for k in range(months):
        mm = m - 1 + k
        out.append(f"{y + mm // 12:04d}-{mm % 12 + 1:02d}")
    return out


def load_rotation_instance(
    case: StaffingCase, problems: ProblemCollector
) -> RotationInstance | None:
    """Doctors, departments, hosts, needs, travel and coverage of a ``sent_down`` case."""
    cfg = case.config
    assert isinstance(cfg, RotationCase)
    label = case.label
    T = cfg.horizon.months

    # Doctors.
    dkey = f"{label} › doctors"
    dt = _read(case, cfg.doctors.file, dkey, problems)
    doctors = None
    if dt is not None:
        c = cfg.doctors.columns
        if _need_all(
            dt, {"id": c.id, "hospital": c.hospital, "specialty": c.specialty}, dkey, problems
        ):
            d_ids = _ids(dt, c.id, f"{dkey}.columns.id", "doctor", problems)
            d_h = _labels(dt, c.hospital, d_ids, "hospital", problems)
            d_s = _labels(dt, c.specialty, d_ids, "specialty", problems)
            a0 = np.ones(d_ids.size)
            a1 = np.full(d_ids.size, float(T))
            for field, col, arr in (
                ("available_from", c.available_from, a0),
                ("available_to", c.available_to, a1),
            ):
                if _column(dt, col, f"{dkey}.columns.{field}", problems) and col is not None:
                    v = _integers(dt, col, d_ids, field, problems, allow_empty=True, min_value=1)
                    arr[:] = np.where(np.isfinite(v), v, arr)
            late = np.flatnonzero(a1 > T)
            if late.size:
                log.info("%d doctors are available beyond the %d-month horizon", late.size, T)
            bad = np.flatnonzero((a0 > a1) | (a0 > T))
            if bad.size:
                problems.add(
                    f"{dt.shown} {dt.rows(bad, d_ids[bad].tolist())}",
                    f"available_from is after available_to or after month {T}",
                    got=f"{a0[bad[0]]:g}-{a1[bad[0]]:g}",
                    fix=f"give months 1-{T} with from ≤ to",
                )
            doctors = (d_ids, d_h, d_s, a0, a1)

    # Hosts.
    hkey = f"{label} › hosts"
    ht = _read(case, cfg.hosts.file, hkey, problems)
    hosts = None
    if ht is not None:
        c2 = cfg.hosts.columns
        if _need_column(ht, c2.id, f"{hkey}.columns.id", problems):
            h_ids = _ids(ht, c2.id, f"{hkey}.columns.id", "host", problems)
            nm = _column(ht, c2.name, f"{hkey}.columns.name", problems)
            h_names = _labels(ht, nm, h_ids, "name", problems, allow_empty=True) if nm else h_ids
            tc = _column(ht, c2.type, f"{hkey}.columns.type", problems)
            h_types = (
                _labels(ht, tc, h_ids, "host type", problems)
                if tc
                else np.asarray([cfg.hosts.facility_type] * h_ids.size, dtype=object)
            )
            cc = _column(ht, c2.capacity, f"{hkey}.columns.capacity", problems)
            cap = (
                _integers(ht, cc, h_ids, "capacity", problems, allow_empty=True)
                if cc
                else np.full(h_ids.size, np.inf)
            )
            cap = np.where(np.isfinite(cap), cap, np.inf)
            rc = _column(ht, c2.residents, f"{hkey}.columns.residents", problems)
            residents = _numbers(ht, rc, h_ids, "residents", problems) if rc else None
            hosts = (h_ids, h_names, h_types, cap, residents)

    if doctors is None or hosts is None:
        _touch_other_rotation_files(case, cfg, problems)
        return None
    d_ids, d_h, d_s, a0, a1 = doctors
    h_ids, h_names, h_types, cap, residents = hosts
    hospitals = sorted(set(map(str, d_h)))
    spec_set = set(map(str, d_s)) | set(cfg.specialties)

    # Needs.
    F = h_ids.size
    need_rows: list[tuple[int, str, int | None, float, float]] = []
    if cfg.needs is not None:
        nkey = f"{label} › needs"
        nt = _read(case, cfg.needs.file, nkey, problems)
        if nt is not None:
            c3 = cfg.needs.columns
            if _need_all(
                nt,
                {"host_id": c3.host_id, "specialty": c3.specialty, "need": c3.need},
                nkey,
                problems,
            ):
                rid = _row_ids(nt)
                n_host = _labels(nt, c3.host_id, rid, "host id", problems)
                n_spec = _labels(nt, c3.specialty, n_host, "specialty", problems)
                n_val = _numbers(nt, c3.need, n_host, "need", problems)
                wc = _column(nt, c3.weight, f"{nkey}.columns.weight", problems)
                n_wt = (
                    _numbers(nt, wc, n_host, "need weight", problems, allow_empty=True)
                    if wc
                    else np.full(n_host.size, np.nan)
                )
                mc = _column(nt, c3.month, f"{nkey}.columns.month", problems)
                n_month = (
                    _integers(nt, mc, n_host, "month", problems, allow_empty=True, min_value=1)
                    if mc
                    else np.full(n_host.size, np.nan)
                )
                over = np.flatnonzero(np.nan_to_num(n_month) > T)
                if over.size:
                    problems.add(
                        f"{nt.shown} {nt.rows(over, n_host[over].tolist())}",
                        f"month beyond the {T}-month horizon",
                        got=n_month[over[0]],
                        fix=f"give months 1-{T} (empty = every month)",
                    )
                ok = _unknown(nt, n_host, list(map(str, h_ids)), c3.host_id, "host ids", problems)
                _duplicates(nt, [n_host, n_spec, n_month], "host/specialty/month", problems)
                spec_set |= set(map(str, n_spec[ok]))
                pos = {str(v): k for k, v in enumerate(h_ids)}
                for r in np.flatnonzero(ok & np.isfinite(n_val)):
                    m = None if not np.isfinite(n_month[r]) else int(n_month[r])
                    wt = float(n_wt[r]) if np.isfinite(n_wt[r]) else 1.0
                    need_rows.append((pos[str(n_host[r])], str(n_spec[r]), m, float(n_val[r]), wt))
    specialties = sorted(spec_set)
    S = len(specialties)
    spos = {s: k for k, s in enumerate(specialties)}
    need = np.zeros((F, S, T))
    need_weight = np.ones((F, S, T))
    # Rows for every month first, so that month-specific rows override them.
    for fn, sn, mn, val, wt in sorted(need_rows, key=lambda row: row[2] is not None):
        if mn is None:
            need[fn, spos[sn], :] = val
            need_weight[fn, spos[sn], :] = wt
        elif 1 <= mn <= T:
            need[fn, spos[sn], mn - 1] = val
            need_weight[fn, spos[sn], mn - 1] = wt

    # Departments.
    hpos = {h: k for k, h in enumerate(hospitals)}
    listed = np.zeros((len(hospitals), S), dtype=np.int64)
    np.add.at(listed, ([hpos[str(h)] for h in d_h], [spos[str(s)] for s in d_s]), 1)
    dept = listed.copy()
    if cfg.departments is not None:
        ekey = f"{label} › departments"
        et = _read(case, cfg.departments.file, ekey, problems)
        if et is not None:
            c4 = cfg.departments.columns
            if _need_all(
                et,
                {"hospital": c4.hospital, "specialty": c4.specialty, "staff": c4.staff},
                ekey,
                problems,
            ):
                rid = _row_ids(et)
                e_h = _labels(et, c4.hospital, rid, "hospital", problems)
                e_s = _labels(et, c4.specialty, e_h, "specialty", problems)
                e_n = _integers(et, c4.staff, e_h, "department staff", problems)
                _duplicates(et, [e_h, e_s], "hospital/specialty", problems)
                missing = [
                    f"{hospitals[k]}/{specialties[j]} ({listed[k, j]} listed)"
                    for k, j in zip(*np.nonzero(listed), strict=True)
                    if not (
                        (e_h.astype(str) == hospitals[k]) & (e_s.astype(str) == specialties[j])
                    ).any()
                ]
                if missing:
                    problems.add(
                        f"{ekey}.file",
                        f"departments with listed doctors have no row in {cfg.departments.file}, "
                        "so their headcount (and the share that may be away) is unknown",
                        got=", ".join(missing[:8]) + (" ..." if len(missing) > 8 else ""),
                        fix="add a hospital/specialty/staff row for each (the whole department's "
                        "headcount)",
                    )
                small = []
                for row in range(e_h.size):
                    h, sp_ = str(e_h[row]), str(e_s[row])
                    if h not in hpos or sp_ not in spos or not np.isfinite(e_n[row]):
                        continue
                    if e_n[row] < listed[hpos[h], spos[sp_]]:
                        small.append(row)
                    dept[hpos[h], spos[sp_]] = int(e_n[row])
                if small:
                    w = np.asarray(small)
                    problems.add(
                        f"{et.shown} {et.rows(w, [f'{e_h[r]}/{e_s[r]}' for r in w])}",
                        "department staff is below the number of its doctors listed in "
                        f"{cfg.doctors.file}",
                        got=", ".join(
                            f"{e_n[r]:g} < {listed[hpos[str(e_h[r])], spos[str(e_s[r])]]}"
                            for r in w[:5]
                        ),
                        fix="give the whole department's headcount",
                    )

    _check_hospital_names(cfg, label, hospitals, problems)

    # Hospital → host travel.
    travel = np.full((len(hospitals), F), np.inf)
    tkey = f"{label} › travel"
    tt = _read(case, cfg.travel.file, tkey, problems)
    if tt is not None:
        c5 = cfg.travel.columns
        if _need_all(
            tt,
            {"hospital": c5.hospital, "host_id": c5.host_id, "minutes": c5.minutes},
            tkey,
            problems,
        ):
            rid = _row_ids(tt)
            t_h = _labels(tt, c5.hospital, rid, "hospital", problems)
            t_f = _labels(tt, c5.host_id, t_h, "host id", problems)
            t_m = _numbers(tt, c5.minutes, t_h, "minutes", problems)
            ok = _unknown(tt, t_f, list(map(str, h_ids)), c5.host_id, "host ids", problems, t_h)
            known_h = np.isin(t_h.astype(str), hospitals)
            if (~known_h).any():
                log.info(
                    "%s: %d rows name hospitals without listed doctors (ignored)",
                    cfg.travel.file,
                    int((~known_h).sum()),
                )
            _duplicates(tt, [t_h, t_f], "hospital/host pair", problems)
            fpos = {str(v): k for k, v in enumerate(h_ids)}
            for r in np.flatnonzero(ok & known_h & np.isfinite(t_m)):
                travel[hpos[str(t_h[r])], fpos[str(t_f[r])]] = t_m[r]
            none = [h for k, h in enumerate(hospitals) if not np.isfinite(travel[k]).any()]
            if none:
                problems.add(
                    f"{tkey}.file",
                    f"hospitals with doctors but no travel times in {cfg.travel.file}",
                    got=", ".join(none[:8]),
                    fix="add hospital → host rows for them",
                )

    # Coverage (residents within the service circle of each host).
    circle = cfg.rules.circle_min.value
    demand_ids = None
    note = ""
    if cfg.coverage is not None:
        cov = _coverage(case, cfg, h_ids, circle, problems)
        if cov is None:
            return None
        demand_ids, weight, cover = cov
        note = cfg.coverage.demand.weight_note.strip()
    elif residents is not None:
        weight = np.nan_to_num(residents)
        cover = sp.identity(F, format="csr", dtype=bool)
        demand_ids = h_ids
        note = "residents per host (hosts.columns.residents); circles are not checked for overlap"
    else:
        weight = np.zeros(0)
        cover = sp.csr_matrix(np.zeros((0, F), dtype=bool))
    if problems:
        return None
    value = np.asarray(
        [cfg.specialties[s].value if s in cfg.specialties else 1.0 for s in specialties]
    )
    return RotationInstance(
        months=T,
        doctor_ids=d_ids,
        doctor_hospital=np.asarray([hpos[str(h)] for h in d_h], dtype=np.int64),
        doctor_specialty=np.asarray([spos[str(s)] for s in d_s], dtype=np.int64),
        available_from=a0.astype(np.int64),
        available_to=a1.astype(np.int64),
        hospitals=hospitals,
        specialties=specialties,
        dept_staff=dept,
        host_ids=h_ids,
        host_names=np.asarray(h_names, dtype=object),
        host_types=np.asarray(h_types, dtype=object),
        host_capacity=cap.astype(float),
        travel_min=travel,
        need=need,
        value=value,
        cover=sp.csr_matrix(cover),
        weight=np.asarray(weight, dtype=float),
        rules=cfg.rules,
        weights=cfg.weights,
        need_weight=need_weight,
        month_labels=month_labels(cfg.horizon.start, T),
        demand_ids=demand_ids,
        residents_note=note,
    )


def _check_hospital_names(
    cfg: RotationCase, label: str, hospitals: list[str], problems: ProblemCollector
) -> None:
    """Every ``by_hospital`` key must name a hospital of the doctors file (a typo would
    silently drop the rule)."""
    rules = cfg.rules
    for key, names in (
        ("max_share_away", rules.max_share_away.by_hospital),
        ("hospital_release", rules.hospital_release.by_hospital),
    ):
        for name in names:
            if name not in hospitals:
                problems.add(
                    f"{label} › rules.{key}.by_hospital.{name}",
                    f"names no hospital of the doctors file ({cfg.doctors.file})",
                    got=name,
                    fix=f"use one of: {', '.join(hospitals[:12])}",
                )


def _touch_other_rotation_files(
    case: StaffingCase, cfg: RotationCase, problems: ProblemCollector
) -> None:
    label = case.label
    files = [("travel", cfg.travel.file)]
    if cfg.needs is not None:
        files.append(("needs", cfg.needs.file))
    if cfg.departments is not None:
        files.append(("departments", cfg.departments.file))
    if cfg.coverage is not None:
        files += [
            ("coverage.demand", cfg.coverage.demand.file),
            ("coverage.travel_times", cfg.coverage.travel_times.file),
        ]
    for sect, file in files:
        if not case.resolve(file).exists():
            problems.add(
                f"{label} › {sect}.file",
                "file not found",
                got=file,
                fix="check the path; paths are relative to the case file's folder",
            )


def _coverage(
    case: StaffingCase,
    cfg: RotationCase,
    host_ids: np.ndarray,
    circle: float,
    problems: ProblemCollector,
) -> tuple[np.ndarray, np.ndarray, sp.csr_matrix] | None:
    cov = cfg.coverage
    assert cov is not None
    key = f"{case.label} › coverage"
    dt = _read(case, cov.demand.file, f"{key}.demand", problems)
    tt = _read(case, cov.travel_times.file, f"{key}.travel_times", problems)
    if dt is None or tt is None:
        return None
    c = cov.demand.columns
    if not _need_all(dt, {"id": c.id, "weight": c.weight}, f"{key}.demand", problems):
        return None
    ids = _ids(dt, c.id, f"{key}.demand.columns.id", "demand", problems)
    weight = _numbers(dt, c.weight, ids, "residents", problems)
    c2 = cov.travel_times.columns
    if not _need_all(
        tt,
        {"demand_id": c2.demand_id, "host_id": c2.host_id, "minutes": c2.minutes},
        f"{key}.travel_times",
        problems,
    ):
        return None
    rid = _row_ids(tt)
    t_d = _labels(tt, c2.demand_id, rid, "demand id", problems)
    t_f = _labels(tt, c2.host_id, t_d, "host id", problems)
    t_m = _numbers(tt, c2.minutes, t_d, "minutes", problems)
    ok = _unknown(tt, t_d, list(map(str, ids)), c2.demand_id, "demand ids", problems)
    ok &= _unknown(tt, t_f, list(map(str, host_ids)), c2.host_id, "host ids", problems, t_d)
    within = ok & np.isfinite(t_m) & (t_m <= circle)
    dpos = pd.Index(ids.astype(str)).get_indexer(t_d[within].astype(str))
    fpos = pd.Index(host_ids.astype(str)).get_indexer(t_f[within].astype(str))
    cover = sp.csr_matrix(
        (np.ones(dpos.size, dtype=bool), (dpos, fpos)), shape=(ids.size, host_ids.size)
    )
    log.info(
        "Read coverage: %s demand points (%s residents), %s within %g min of a host",
        f"{ids.size:,}",
        f"{np.nansum(weight):,.0f}",
        f"{int((np.diff(cover.indptr) > 0).sum()):,}",
        circle,
    )
    return ids, np.nan_to_num(weight), cover
