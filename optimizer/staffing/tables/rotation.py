"""Read a ``sent_down`` case's tables (doctors, hosts, needs, departments, travel, coverage)
into a :class:`RotationInstance`; all problems of all files are reported together."""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
import scipy.sparse as sp

from geodata.columns import need_column, optional_column, read_ids, read_labels, read_numbers

from ...errors import ProblemCollector
from ..config import RotationCase, StaffingCase
from ..rotation import RotationInstance
from .readers import duplicates, integers, need_all, read, row_ids, unknown

__all__ = ["load_rotation_instance", "month_labels"]

log = logging.getLogger(__name__)


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
    T = cfg.horizon.months
    doctors = _doctors(case, cfg, problems)
    hosts = _hosts(case, cfg, problems)
    if doctors is None or hosts is None:
        _touch_other_rotation_files(case, cfg, problems)
        return None
    d_ids, d_h, d_s, a0, a1 = doctors
    h_ids, h_names, h_types, cap, residents = hosts
    hospitals = sorted(set(map(str, d_h)))
    need_rows, need_specs = _needs(case, cfg, h_ids, problems)
    specialties = sorted(set(map(str, d_s)) | set(cfg.specialties) | need_specs)
    need, need_weight = _need_arrays(need_rows, specialties, h_ids.size, T)
    hpos = {h: k for k, h in enumerate(hospitals)}
    spos = {s: k for k, s in enumerate(specialties)}
    listed = np.zeros((len(hospitals), len(specialties)), dtype=np.int64)
    np.add.at(listed, ([hpos[str(h)] for h in d_h], [spos[str(s)] for s in d_s]), 1)
    dept = _departments(case, cfg, hospitals, specialties, listed, problems)
    _check_hospital_names(cfg, case.label, hospitals, problems)
    travel = _travel(case, cfg, hospitals, h_ids, problems)
    got = _resident_groups(case, cfg, h_ids, residents, problems)
    if got is None:
        return None
    demand_ids, weight, cover, note = got
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


def _doctors(
    case: StaffingCase, cfg: RotationCase, problems: ProblemCollector
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None:
    """The doctors file: ids, hospital, specialty, available from / to (months, 1-based)."""
    T = cfg.horizon.months
    dkey = f"{case.label} › doctors"
    dt = read(case, cfg.doctors.file, dkey, problems)
    if dt is None:
        return None
    c = cfg.doctors.columns
    if not need_all(
        dt, {"id": c.id, "hospital": c.hospital, "specialty": c.specialty}, dkey, problems
    ):
        return None
    d_ids = read_ids(dt, c.id, f"{dkey}.columns.id", "doctor", problems)
    d_h = read_labels(dt, c.hospital, d_ids, "hospital", problems)
    d_s = read_labels(dt, c.specialty, d_ids, "specialty", problems)
    a0 = np.ones(d_ids.size)
    a1 = np.full(d_ids.size, float(T))
    for field, col, arr in (
        ("available_from", c.available_from, a0),
        ("available_to", c.available_to, a1),
    ):
        if optional_column(dt, col, f"{dkey}.columns.{field}", problems) and col is not None:
            v = integers(dt, col, d_ids, field, problems, allow_empty=True, min_value=1)
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
    return d_ids, d_h, d_s, a0, a1


def _hosts(
    case: StaffingCase, cfg: RotationCase, problems: ProblemCollector
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray | None] | None:
    """The hosts file: ids, names, types, capacity (inf: none) and residents (or None)."""
    hkey = f"{case.label} › hosts"
    ht = read(case, cfg.hosts.file, hkey, problems)
    if ht is None:
        return None
    c2 = cfg.hosts.columns
    if not need_column(ht, c2.id, f"{hkey}.columns.id", problems):
        return None
    h_ids = read_ids(ht, c2.id, f"{hkey}.columns.id", "host", problems)
    nm = optional_column(ht, c2.name, f"{hkey}.columns.name", problems)
    h_names = read_labels(ht, nm, h_ids, "name", problems, allow_empty=True) if nm else h_ids
    tc = optional_column(ht, c2.type, f"{hkey}.columns.type", problems)
    h_types = (
        read_labels(ht, tc, h_ids, "host type", problems)
        if tc
        else np.asarray([cfg.hosts.facility_type] * h_ids.size, dtype=object)
    )
    cc = optional_column(ht, c2.capacity, f"{hkey}.columns.capacity", problems)
    cap = (
        integers(ht, cc, h_ids, "capacity", problems, allow_empty=True)
        if cc
        else np.full(h_ids.size, np.inf)
    )
    cap = np.where(np.isfinite(cap), cap, np.inf)
    rc = optional_column(ht, c2.residents, f"{hkey}.columns.residents", problems)
    residents = read_numbers(ht, rc, h_ids, "residents", problems) if rc else None
    return h_ids, h_names, h_types, cap, residents


_NeedRow = tuple[int, str, int | None, float, float]
"""(host index, specialty, month or None for every month, need, weight)."""


def _needs(
    case: StaffingCase, cfg: RotationCase, h_ids: np.ndarray, problems: ProblemCollector
) -> tuple[list[_NeedRow], set[str]]:
    """The needs file's rows and the specialties it names (of known hosts)."""
    T = cfg.horizon.months
    need_rows: list[_NeedRow] = []
    if cfg.needs is None:
        return need_rows, set()
    nkey = f"{case.label} › needs"
    nt = read(case, cfg.needs.file, nkey, problems)
    if nt is None:
        return need_rows, set()
    c3 = cfg.needs.columns
    if not need_all(
        nt,
        {"host_id": c3.host_id, "specialty": c3.specialty, "need": c3.need},
        nkey,
        problems,
    ):
        return need_rows, set()
    rid = row_ids(nt)
    n_host = read_labels(nt, c3.host_id, rid, "host id", problems)
    n_spec = read_labels(nt, c3.specialty, n_host, "specialty", problems)
    n_val = read_numbers(nt, c3.need, n_host, "need", problems)
    wc = optional_column(nt, c3.weight, f"{nkey}.columns.weight", problems)
    n_wt = (
        read_numbers(nt, wc, n_host, "need weight", problems, allow_empty=True)
        if wc
        else np.full(n_host.size, np.nan)
    )
    mc = optional_column(nt, c3.month, f"{nkey}.columns.month", problems)
    n_month = (
        integers(nt, mc, n_host, "month", problems, allow_empty=True, min_value=1)
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
    ok = unknown(nt, n_host, list(map(str, h_ids)), c3.host_id, "host ids", problems)
    duplicates(nt, [n_host, n_spec, n_month], "host/specialty/month", problems)
    pos = {str(v): k for k, v in enumerate(h_ids)}
    for r in np.flatnonzero(ok & np.isfinite(n_val)):
        m = None if not np.isfinite(n_month[r]) else int(n_month[r])
        wt = float(n_wt[r]) if np.isfinite(n_wt[r]) else 1.0
        need_rows.append((pos[str(n_host[r])], str(n_spec[r]), m, float(n_val[r]), wt))
    return need_rows, set(map(str, n_spec[ok]))


def _need_arrays(
    need_rows: list[_NeedRow], specialties: list[str], F: int, T: int
) -> tuple[np.ndarray, np.ndarray]:
    """(F, S, T) need and its weight; rows for every month first, so month rows override them."""
    spos = {s: k for k, s in enumerate(specialties)}
    need = np.zeros((F, len(specialties), T))
    need_weight = np.ones((F, len(specialties), T))
    for fn, sn, mn, val, wt in sorted(need_rows, key=lambda row: row[2] is not None):
        if mn is None:
            need[fn, spos[sn], :] = val
            need_weight[fn, spos[sn], :] = wt
        elif 1 <= mn <= T:
            need[fn, spos[sn], mn - 1] = val
            need_weight[fn, spos[sn], mn - 1] = wt
    return need, need_weight


def _departments(
    case: StaffingCase,
    cfg: RotationCase,
    hospitals: list[str],
    specialties: list[str],
    listed: np.ndarray,
    problems: ProblemCollector,
) -> np.ndarray:
    """(H, S) department headcounts: the departments file, else the doctors listed."""
    dept = listed.copy()
    if cfg.departments is None:
        return dept
    hpos = {h: k for k, h in enumerate(hospitals)}
    spos = {s: k for k, s in enumerate(specialties)}
    ekey = f"{case.label} › departments"
    et = read(case, cfg.departments.file, ekey, problems)
    if et is None:
        return dept
    c4 = cfg.departments.columns
    if not need_all(
        et,
        {"hospital": c4.hospital, "specialty": c4.specialty, "staff": c4.staff},
        ekey,
        problems,
    ):
        return dept
    rid = row_ids(et)
    e_h = read_labels(et, c4.hospital, rid, "hospital", problems)
    e_s = read_labels(et, c4.specialty, e_h, "specialty", problems)
    e_n = integers(et, c4.staff, e_h, "department staff", problems)
    duplicates(et, [e_h, e_s], "hospital/specialty", problems)
    missing = [
        f"{hospitals[k]}/{specialties[j]} ({listed[k, j]} listed)"
        for k, j in zip(*np.nonzero(listed), strict=True)
        if not ((e_h.astype(str) == hospitals[k]) & (e_s.astype(str) == specialties[j])).any()
    ]
    if missing:
        problems.add(
            f"{ekey}.file",
            f"departments with listed doctors have no row in {cfg.departments.file}, "
            "so their headcount (and the share that may be away) is unknown",
            got=", ".join(missing[:8]) + (" ..." if len(missing) > 8 else ""),
            fix="add a hospital/specialty/staff row for each (the whole department's headcount)",
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
            f"department staff is below the number of its doctors listed in {cfg.doctors.file}",
            got=", ".join(
                f"{e_n[r]:g} < {listed[hpos[str(e_h[r])], spos[str(e_s[r])]]}" for r in w[:5]
            ),
            fix="give the whole department's headcount",
        )
    return dept


def _travel(
    case: StaffingCase,
    cfg: RotationCase,
    hospitals: list[str],
    h_ids: np.ndarray,
    problems: ProblemCollector,
) -> np.ndarray:
    """(H, F) hospital → host travel minutes (inf: no row)."""
    hpos = {h: k for k, h in enumerate(hospitals)}
    travel = np.full((len(hospitals), h_ids.size), np.inf)
    tkey = f"{case.label} › travel"
    tt = read(case, cfg.travel.file, tkey, problems)
    if tt is None:
        return travel
    c5 = cfg.travel.columns
    if not need_all(
        tt,
        {"hospital": c5.hospital, "host_id": c5.host_id, "minutes": c5.minutes},
        tkey,
        problems,
    ):
        return travel
    rid = row_ids(tt)
    t_h = read_labels(tt, c5.hospital, rid, "hospital", problems)
    t_f = read_labels(tt, c5.host_id, t_h, "host id", problems)
    t_m = read_numbers(tt, c5.minutes, t_h, "minutes", problems)
    ok = unknown(tt, t_f, list(map(str, h_ids)), c5.host_id, "host ids", problems, t_h)
    known_h = np.isin(t_h.astype(str), hospitals)
    if (~known_h).any():
        log.info(
            "%s: %d rows name hospitals without listed doctors (ignored)",
            cfg.travel.file,
            int((~known_h).sum()),
        )
    duplicates(tt, [t_h, t_f], "hospital/host pair", problems)
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
    return travel


def _resident_groups(
    case: StaffingCase,
    cfg: RotationCase,
    h_ids: np.ndarray,
    residents: np.ndarray | None,
    problems: ProblemCollector,
) -> tuple[np.ndarray | None, np.ndarray, sp.csr_matrix, str] | None:
    """Residents within the service circle of each host: (demand ids, residents, I x F cover,
    note); the coverage files, else each host's own residents, else none. None: unreadable."""
    F = h_ids.size
    if cfg.coverage is not None:
        cov = _coverage(case, cfg, h_ids, cfg.rules.circle_min.value, problems)
        if cov is None:
            return None
        demand_ids, weight, cover = cov
        return demand_ids, weight, cover, cfg.coverage.demand.weight_note.strip()
    if residents is not None:
        return (
            h_ids,
            np.nan_to_num(residents),
            sp.identity(F, format="csr", dtype=bool),
            "residents per host (hosts.columns.residents); circles are not checked for overlap",
        )
    return None, np.zeros(0), sp.csr_matrix(np.zeros((0, F), dtype=bool)), ""


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
    dt = read(case, cov.demand.file, f"{key}.demand", problems)
    tt = read(case, cov.travel_times.file, f"{key}.travel_times", problems)
    if dt is None or tt is None:
        return None
    c = cov.demand.columns
    if not need_all(dt, {"id": c.id, "weight": c.weight}, f"{key}.demand", problems):
        return None
    ids = read_ids(dt, c.id, f"{key}.demand.columns.id", "demand", problems)
    weight = read_numbers(dt, c.weight, ids, "residents", problems)
    c2 = cov.travel_times.columns
    if not need_all(
        tt,
        {"demand_id": c2.demand_id, "host_id": c2.host_id, "minutes": c2.minutes},
        f"{key}.travel_times",
        problems,
    ):
        return None
    rid = row_ids(tt)
    t_d = read_labels(tt, c2.demand_id, rid, "demand id", problems)
    t_f = read_labels(tt, c2.host_id, t_d, "host id", problems)
    t_m = read_numbers(tt, c2.minutes, t_d, "minutes", problems)
    ok = unknown(tt, t_d, list(map(str, ids)), c2.demand_id, "demand ids", problems)
    ok &= unknown(tt, t_f, list(map(str, host_ids)), c2.host_id, "host ids", problems, t_d)
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
