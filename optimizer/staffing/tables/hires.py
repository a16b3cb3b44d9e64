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
    return HiresInput(hospitals, np.nan_to_num(n).astype(np.int64), allowed, rh)


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
