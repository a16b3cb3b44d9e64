"""The sent-down (下沉) problem on arrays: instance, doctor groups, stint options, prechecks."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from fractions import Fraction

import numpy as np
import scipy.sparse as sp

from ...errors import CheckError
from .schema import RotationRules, RotationWeights


@dataclass(frozen=True, eq=False)
class RotationInstance:
    """A sent-down problem on arrays (months are 1-based)."""

    months: int
    doctor_ids: np.ndarray
    doctor_hospital: np.ndarray
    """(D,) hospital index into ``hospitals``."""
    doctor_specialty: np.ndarray
    """(D,) specialty index into ``specialties``."""
    available_from: np.ndarray
    available_to: np.ndarray
    hospitals: list[str]
    specialties: list[str]
    dept_staff: np.ndarray
    """(H, S) department headcount N_hs."""
    host_ids: np.ndarray
    host_names: np.ndarray
    host_types: np.ndarray
    host_capacity: np.ndarray
    """(F,) most doctors at once (inf: no limit)."""
    travel_min: np.ndarray
    """(H, F) hospital → host minutes (inf: no route)."""
    need: np.ndarray
    """(F, S, T) doctors of specialty s wanted at host f in month t."""
    value: np.ndarray
    """(S,) weight of a resident-month of each specialty."""
    cover: sp.csr_matrix
    """(I, F) resident group i lies within the service circle of host f."""
    weight: np.ndarray
    """(I,) residents of each group."""
    rules: RotationRules
    weights: RotationWeights
    month_labels: list[str] = field(default_factory=list)
    need_weight: np.ndarray | None = None
    """(F, S, T) weight of a doctor-month of unmet need (None: all 1)."""
    demand_ids: np.ndarray | None = None
    residents_note: str = ""

    @property
    def n_doctors(self) -> int:
        return int(self.doctor_ids.size)

    @property
    def n_hosts(self) -> int:
        return int(self.host_ids.size)

    @property
    def tenures(self) -> list[int]:
        t = self.rules.tenure_months
        return list(range(t.min, t.max + 1))

    @property
    def window(self) -> int:
        return int(self.rules.min_months_between_starts)

    def label(self, t: int) -> str:
        return self.month_labels[t - 1] if self.month_labels else f"month {t}"

    def host_label(self, f: int) -> str:
        fid, name = str(self.host_ids[f]), str(self.host_names[f])
        return f"{name} ({fid})" if name and name != fid else fid

    def away_cap(self) -> np.ndarray:
        """(H, S) floor(κ_h · N_hs): most doctors of a department away at once (exact)."""
        r = self.rules.max_share_away
        out = np.zeros(self.dept_staff.shape, dtype=np.int64)
        for h, name in enumerate(self.hospitals):
            k = Fraction(str(r.by_hospital.get(name, r.value)))
            for s in range(len(self.specialties)):
                out[h, s] = math.floor(k * int(self.dept_staff[h, s]))
        return out

    def shortfall_weight(self) -> np.ndarray:
        """(F, S, T) weight of a doctor-month of unmet need."""
        if self.need_weight is None:
            return np.ones(self.need.shape)
        return np.asarray(self.need_weight, dtype=float)

    def release_caps(self) -> tuple[np.ndarray, np.ndarray]:
        """(H,) most doctors away at once and (H,) most stints started per plan year (inf: no
        limit), from ``rules.hospital_release``."""
        r = self.rules.hospital_release
        at_once = np.full(len(self.hospitals), np.inf)
        per_year = np.full(len(self.hospitals), np.inf)
        for h, name in enumerate(self.hospitals):
            own = r.by_hospital.get(name)
            a = own.at_once if own is not None and own.at_once is not None else r.at_once
            y = own.per_year if own is not None and own.per_year is not None else r.per_year
            at_once[h] = np.inf if a is None else float(a)
            per_year[h] = np.inf if y is None else float(y)
        return at_once, per_year

    def release_years(self) -> list[tuple[int, int]]:
        """Plan years for the per-year release cap: months 1-12, 13-24, ... (the last may be
        shorter)."""
        return [(m0, min(m0 + 11, self.months)) for m0 in range(1, self.months + 1, 12)]

    def stationed_min(self) -> np.ndarray:
        r = self.rules.stationed_per_host
        return np.where(np.isin(self.host_types, r.host_types), r.value, 0).astype(np.int64)

    def plan_years(self) -> list[tuple[int, int]]:
        """Full 12-month plan years (first, last month) where the annual total applies."""
        return [(12 * y + 1, 12 * y + 12) for y in range(self.months // 12)]

    def reachable(self) -> np.ndarray:
        """(H, F) travel allowed."""
        r = self.rules.max_travel_min
        limit = r.value if r.enabled else np.inf
        return np.isfinite(self.travel_min) & (self.travel_min <= limit)


# ---------------------------------------------------------------------------------------------
# Groups of identical doctors
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Groups:
    key: np.ndarray
    """(G, 4) hospital, specialty, available_from, available_to."""
    members: list[np.ndarray]
    """Doctor indices of each group, sorted by doctor id."""

    @property
    def count(self) -> np.ndarray:
        return np.asarray([m.size for m in self.members], dtype=np.int64)


def doctor_groups(inst: RotationInstance) -> Groups:
    keys = np.stack(
        [inst.doctor_hospital, inst.doctor_specialty, inst.available_from, inst.available_to],
        axis=1,
    ).astype(np.int64)
    uniq, inverse = np.unique(keys, axis=0, return_inverse=True)
    inverse = np.asarray(inverse).ravel()
    order = np.argsort(inst.doctor_ids.astype(str), kind="stable")
    members = [order[inverse[order] == g] for g in range(uniq.shape[0])]
    return Groups(uniq, members)


def _stint_columns(inst: RotationInstance, groups: Groups) -> np.ndarray:
    """(N, 4) feasible (group, host, start, length) combinations."""
    reach = inst.reachable()
    out = []
    for g, (h, _s, a0, a1) in enumerate(groups.key):
        hosts = np.flatnonzero(reach[h])
        if hosts.size == 0:
            continue
        for L in inst.tenures:
            last = min(int(a1), inst.months) - L + 1
            taus = np.arange(max(int(a0), 1), last + 1)
            if taus.size == 0:
                continue
            ff, tt = np.meshgrid(hosts, taus, indexing="ij")
            block = np.stack(
                [np.full(ff.size, g), ff.ravel(), tt.ravel(), np.full(ff.size, L)], axis=1
            )
            out.append(block)
    if not out:
        return np.zeros((0, 4), dtype=np.int64)
    return np.concatenate(out).astype(np.int64)


def _coverage_groups(inst: RotationInstance) -> tuple[sp.csr_matrix, np.ndarray]:
    """Merge resident groups with the same set of hosts within the circle (weights summed)."""
    cover = sp.csr_matrix(inst.cover, dtype=bool)
    cover.sort_indices()
    has = np.diff(cover.indptr) > 0
    sig: dict[bytes, int] = {}
    rows: list[np.ndarray] = []
    wts: list[float] = []
    for i in np.flatnonzero(has & (inst.weight > 0)):
        cols = cover.indices[cover.indptr[i] : cover.indptr[i + 1]]
        key = cols.astype(np.int64).tobytes()
        k = sig.get(key)
        if k is None:
            sig[key] = len(rows)
            rows.append(cols)
            wts.append(float(inst.weight[i]))
        else:
            wts[k] += float(inst.weight[i])
    indptr = np.concatenate([[0], np.cumsum([r.size for r in rows])]).astype(np.int64)
    indices = np.concatenate(rows).astype(np.int64) if rows else np.zeros(0, np.int64)
    mat = sp.csr_matrix(
        (np.ones(indices.size, dtype=bool), indices, indptr), shape=(len(rows), inst.n_hosts)
    )
    return mat, np.asarray(wts, dtype=float)


# ---------------------------------------------------------------------------------------------
# Prechecks
# ---------------------------------------------------------------------------------------------
def precheck_rotation(inst: RotationInstance) -> list[str]:
    """Rule-versus-total conflicts found before solving, with numbers."""
    out: list[str] = []
    T = inst.months
    reach = inst.reachable()
    st = inst.stationed_min()
    cap = inst.host_capacity
    rules = inst.rules
    Lmin = rules.tenure_months.min
    for f in np.flatnonzero(st > 0):
        if cap[f] < st[f]:
            out.append(
                f"rule stationed_per_host at {inst.host_label(int(f))}: ≥ {st[f]} stationed doctor(s) "
                f"every month, but the host's capacity is {cap[f]:g}"
            )
        docs = np.flatnonzero(reach[inst.doctor_hospital, f])
        if docs.size == 0:
            out.append(
                f"rule stationed_per_host at {inst.host_label(int(f))}: ≥ {st[f]} stationed doctor(s) "
                f"every month, but no listed doctor's hospital is within "
                f"rules.max_travel_min = {rules.max_travel_min.value:g} min"
            )
            continue
        months = np.zeros(T + 2, dtype=np.int64)
        for d in docs:
            a0, a1 = int(inst.available_from[d]), min(int(inst.available_to[d]), T)
            if a1 - a0 + 1 >= Lmin:
                months[a0 : a1 + 1] += 1
        bare = [t for t in range(1, T + 1) if months[t] < st[f]]
        if bare:
            out.append(
                f"rule stationed_per_host at {inst.host_label(int(f))}: no doctor who can reach it "
                f"is available for a {Lmin}-month stint covering "
                f"{', '.join(inst.label(t) for t in bare[:6])}" + (" ..." if len(bare) > 6 else "")
            )
    ann = rules.annual_total
    if ann.enabled and ann.value > 0:
        per_slot = math.ceil(12 / Lmin)
        away = inst.away_cap()
        for y, (m0, m1) in enumerate(inst.plan_years()):
            first = np.maximum(inst.available_from, m0)
            can_start = (first <= m1) & (first + Lmin - 1 <= np.minimum(inst.available_to, T))
            can_start &= reach[inst.doctor_hospital].any(axis=1)
            n_doc = int(can_start.sum())
            if n_doc < ann.value:
                out.append(
                    f"rule annual_total vs doctors: plan year {y + 1} ({inst.label(m0)}–"
                    f"{inst.label(m1)}) needs ≥ {ann.value:,.0f} stints, but only {n_doc:,} "
                    f"listed doctors can start a {Lmin}-month stint in it (each starts at most "
                    f"one stint per {inst.window} months)"
                )
            slots = int(away.sum())
            if slots * per_slot < ann.value:
                out.append(
                    f"rule annual_total vs rule max_share_away: ≥ {ann.value:,.0f} stints a year, "
                    f"but the departments may have only Σ floor(κ × N_hs) = {slots:,} doctors away "
                    f"at once, i.e. at most {slots:,} × {per_slot} = {slots * per_slot:,} "
                    f"stints of ≥ {Lmin} months a year"
                )
            at_once, per_year = inst.release_caps()
            yearly = float(np.minimum(per_year, at_once * per_slot).sum())
            if yearly < ann.value:
                out.append(
                    f"rule annual_total vs rule hospital_release: ≥ {ann.value:,.0f} stints a "
                    f"year, but the hospitals may release at most {yearly:,.0f} a year (per-year "
                    f"caps, and at-once caps × {per_slot} stints of ≥ {Lmin} months)"
                )
            host_slots = float(np.sum(np.where(np.isfinite(cap), cap, ann.value)))
            if host_slots * per_slot < ann.value:
                out.append(
                    f"rule annual_total vs host capacity: ≥ {ann.value:,.0f} stints a year, but "
                    f"the hosts hold Σ capacity = {host_slots:,.0f} doctors at once, i.e. at most "
                    f"{host_slots * per_slot:,.0f} stints of ≥ {Lmin} months a year"
                )
    return out


# ---------------------------------------------------------------------------------------------
# From counts to named doctors
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Stint:
    doctor: int
    host: int
    start: int
    months: int

    @property
    def end(self) -> int:
        """Last month of the stint (inclusive)."""
        return self.start + self.months - 1


def assign_doctors(
    inst: RotationInstance, groups: Groups, cols: np.ndarray, counts: np.ndarray
) -> list[Stint]:
    """Give each counted stint a doctor of its group (greedy colouring of start windows).

    Stints are taken by start month; each goes to the group's doctor who has been free longest
    (fewest stints, then smallest id). A doctor is free for a stint starting in month τ when
    their previous stint started at or before τ - W. Because the window rows hold, this never
    runs out of doctors (interval graphs are perfect).
    """
    W = inst.window
    out: list[Stint] = []
    for gi in range(groups.count.size):
        rows = np.flatnonzero((cols[:, 0] == gi) & (counts > 0))
        if rows.size == 0:
            continue
        order = rows[np.lexsort((cols[rows, 3], cols[rows, 1], cols[rows, 2]))]
        members = groups.members[gi]
        last = np.full(members.size, -(10**9))
        used = np.zeros(members.size, dtype=np.int64)
        for r in order:
            _, f, tau, L = (int(v) for v in cols[r])
            for _ in range(int(counts[r])):
                free = np.flatnonzero(last <= tau - W)
                if free.size == 0:
                    raise CheckError(
                        [
                            f"group {gi}: more stints start within {W} months than it has doctors "
                            f"({members.size}); the window rows did not hold"
                        ]
                    )
                pick = free[np.lexsort((inst.doctor_ids[members[free]].astype(str), used[free]))[0]]
                last[pick] = tau
                used[pick] += 1
                out.append(Stint(int(members[pick]), f, tau, L))
    out.sort(key=lambda x: (x.start, str(inst.doctor_ids[x.doctor]), x.host))
    return out
