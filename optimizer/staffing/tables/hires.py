"""Read a quota case's reserved-hires tables: lead hospitals' new hires and the facilities
each may serve (its 医共体 members); all problems are reported together."""

from __future__ import annotations

import numpy as np

from geodata.columns import read_labels

from ...errors import ProblemCollector
from ..config import QuotaCase, StaffingCase
from ..quota.problem import HiresInput
from ..quota.schema import HirePairsColumns
from .readers import duplicates, integers, need_all, read, row_ids, unknown

__all__ = ["load_new_hires"]


def load_new_hires(
    case: StaffingCase,
    cfg: QuotaCase,
    ids: np.ndarray,
    types: np.ndarray,
    problems: ProblemCollector,
) -> HiresInput | None:
    """The lead hospitals' new hires this year and, when given, the facilities each may serve."""
    rh = cfg.reserved_hires
    assert rh is not None
    key = f"{case.label} › reserved_hires"
    unknown_types = sorted(set(rh.facility_types) - set(map(str, types)))
    if unknown_types:
        problems.add(
            f"{key}.facility_types",
            "no facility has this type",
            got=", ".join(unknown_types),
            fix=f"use types of the facilities file: {', '.join(sorted(set(map(str, types))))}",
        )
    table = read(case, rh.file, key, problems)
    if table is None:
        return None
    c = rh.columns
    if not need_all(table, {"hospital": c.hospital, "new_hires": c.new_hires}, key, problems):
        return None
    hosp = read_labels(table, c.hospital, row_ids(table), "hospital", problems)
    n = integers(table, c.new_hires, hosp, "new hires", problems)
    duplicates(table, [hosp], "hospital", problems)
    hospitals = [str(h) for h in hosp]
    allowed = None
    if rh.pairs is not None:
        allowed = _hire_pairs(
            case, rh.pairs.file, rh.pairs.columns, hospitals, ids, types, problems
        )
    vacancies = None
    if rh.vacancies is not None:
        vacancies = _vacancies(case, cfg, ids, types, problems)
    return HiresInput(hospitals, np.nan_to_num(n).astype(np.int64), allowed, rh, vacancies)


def _hire_pairs(
    case: StaffingCase,
    file: str,
    c: HirePairsColumns,
    hospitals: list[str],
    ids: np.ndarray,
    types: np.ndarray,
    problems: ProblemCollector,
) -> dict[str, set[str]] | None:
    """Hospital -> facility ids its reserved hires may serve (e.g. its 医共体 members)."""
    key = f"{case.label} › reserved_hires.pairs"
    table = read(case, file, key, problems)
    if table is None:
        return None
    if not need_all(table, {"hospital": c.hospital, "facility_id": c.facility_id}, key, problems):
        return None
    rid = row_ids(table)
    hosp = read_labels(table, c.hospital, rid, "hospital", problems)
    fid = read_labels(table, c.facility_id, hosp, "facility id", problems)
    ok = unknown(table, hosp, hospitals, c.hospital, "hospitals (of the new-hires file)", problems)
    ok &= unknown(table, fid, list(map(str, ids)), c.facility_id, "facility ids", problems, hosp)
    duplicates(table, [hosp, fid], "hospital/facility pair", problems)
    assert isinstance(case.config, QuotaCase) and case.config.reserved_hires is not None
    rh_types = case.config.reserved_hires.facility_types
    type_of = {str(i): str(t) for i, t in zip(ids, types, strict=True)}
    other = np.flatnonzero(ok & ~np.isin([type_of.get(str(f), "") for f in fid], rh_types))
    if other.size:
        problems.add(
            f"{table.shown} {table.rows(other, fid[other].tolist())}",
            "facility is not of a reserved_hires.facility_types type, so no post there is filled",
            got=", ".join(sorted({type_of[str(fid[r])] for r in other})),
            fix="list only facilities of those types, or add the type to facility_types",
        )
    out: dict[str, set[str]] = {h: set() for h in hospitals}
    for r in np.flatnonzero(ok):
        out[str(hosp[r])].add(str(fid[r]))
    return out


def _vacancies(
    case: StaffingCase,
    cfg: QuotaCase,
    ids: np.ndarray,
    types: np.ndarray,
    problems: ProblemCollector,
) -> np.ndarray | None:
    """(F, C) vacant posts from ``reserved_hires.vacancies`` (facility, category, whole posts)."""
    rh = cfg.reserved_hires
    assert rh is not None and rh.vacancies is not None
    vc = rh.vacancies
    key = f"{case.label} › reserved_hires.vacancies"
    table = read(case, vc.file, key, problems)
    if table is None:
        return None
    c = vc.columns
    cols = {"facility_id": c.facility_id, "category": c.category, "vacancies": c.vacancies}
    if not need_all(table, cols, key, problems):
        return None
    cats = [k.name for k in cfg.categories]
    fid = read_labels(table, c.facility_id, row_ids(table), "facility id", problems)
    cat = read_labels(table, c.category, fid, "category", problems)
    n = integers(table, c.vacancies, fid, "vacancies", problems)
    ok = unknown(table, fid, list(map(str, ids)), c.facility_id, "facility ids", problems)
    ok &= unknown(table, cat, cats, c.category, "categories", problems, fid)
    duplicates(table, [fid, cat], "facility/category", problems)
    out = np.zeros((ids.size, len(cats)), dtype=np.int64)
    pos = {str(v): k for k, v in enumerate(ids)}
    wrong = []
    for r in np.flatnonzero(ok & np.isfinite(n)):
        f, k = pos[str(fid[r])], cats.index(str(cat[r]))
        c_types = cfg.categories[k].facility_types
        if str(types[f]) not in rh.facility_types or (
            c_types is not None and str(types[f]) not in c_types
        ):
            wrong.append(r)
        out[f, k] = int(n[r])
    if wrong:
        w = np.asarray(wrong)
        problems.add(
            f"{table.shown} {table.rows(w, [f'{fid[r]}/{cat[r]}' for r in w])}",
            "vacancies at a facility not of reserved_hires.facility_types, or in a category its "
            "type does not have",
            fix="list only posts reserved hires may fill (or add the type to facility_types)",
        )
    return out
