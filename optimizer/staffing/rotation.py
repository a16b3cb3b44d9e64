r"""Sent-down (下沉) doctor rotations (MODELS.md §4.3, §8.5): who goes where, when, for how long.

Doctors :math:`d` (home hospital :math:`h(d)`, specialty :math:`s(d)`, available months),
hosts :math:`f` (township centres, village clinics) with capacity :math:`cap_f` and specialty
need :math:`req_{fst}`, months :math:`t = 1..T` (12-24), stint lengths
:math:`L \in [L_{\min}, L_{\max}]` (≥ 6 months), hospital → host travel :math:`tt_{hf}`.

**Aggregation (exact).** Doctors with the same hospital, specialty and availability are
interchangeable, so the model decides *how many* of group :math:`g` start at host :math:`f` in
month :math:`\tau` for :math:`L` months: :math:`n_{gf\tau L} \in \mathbb{Z}_+` (the block /
tenure variables of §4.3, summed over the identical doctors of a group; this removes the
doctor symmetry). A doctor starts at most one stint in any window of :math:`W \ge L_{\max}`
months (default 12: one stint a year); since :math:`L \le W` this also means one posting at a
time. Each stint occupies the interval :math:`[\tau, \tau + W - 1]` of its doctor; two stints
can share a doctor iff these intervals are disjoint. Interval graphs are perfect, so group
counts can be turned into named doctors iff at every month the group's stints that started in
the last :math:`W` months number at most :math:`|g|` (constraint (W) below); the greedy colouring
in :func:`assign_doctors` does it. The aggregated model is therefore equivalent to the
per-doctor model.

.. math::

    \max\; & \lambda_c \textstyle\sum_{k,s,t} v_s w_k z_{kst}
        - \lambda_t \sum tt_{h(g)f} L\, n_{gf\tau L}
        - \lambda_u \sum_{fst} \omega_{fst} u_{fst} - \lambda_\phi \phi \\
    \text{s.t.}\; & O_{fst} = O_{fs,t-1} + \textstyle\sum_{g \in s, L} n_{gftL}
        - \sum_{g \in s,\, \tau + L = t} n_{gf\tau L}
        && \text{(doctors of } s \text{ at } f \text{ in month } t) \\
    & R_{hst} = R_{hs,t-1} + (\text{starts} - \text{ends of } h, s) \le
        \lfloor \kappa_h N_{hs} \rfloor && \text{(share of a department away)} \\
    & \textstyle\sum_s R_{hst} \le A_h, \quad
        \sum_{g \in h,f,L,\, \tau \in \text{year } y} n_{gf\tau L} \le Y_h
        && \text{(hospital release: at once, per plan year)} \\
    & \textstyle\sum_{f, L,\, \tau \in [t_0, t_0 + W - 1]} n_{gf\tau L} \le |g|
        && \text{(W: one stint per doctor per } W \text{ months)} \\
    & m_f \le \textstyle\sum_s O_{fst} \le cap_f
        && (m_f = 1 \text{ stationed doctor at township centres, NHC 2024}) \\
    & u_{fst} \ge req_{fst} - O_{fst},\; u \ge 0, \quad \phi \ge \textstyle\sum_{s,t} u_{fst}
        && \text{(shortfall; fairness = worst host)} \\
    & \textstyle\sum_{g,f,L,\, \tau \in \text{year } y} n_{gf\tau L} \ge N_{year}
        && \text{(annual total, each full plan year)} \\
    & z_{kst} \le \textstyle\sum_{f \in N_k} O_{fst},\; z \in [0, 1]
        && \text{(specialty coverage of resident group } k) \\
    & n_{gf\tau L} = 0 \text{ unless } tt_{h(g)f} \le tt_{\max},\;
        [\tau, \tau + L - 1] \subseteq \text{availability}(g) \cap [1, T]

:math:`\omega_{fst}` is the weight of the need row (default 1). Doctors who get no stint are
listed with the reason (:func:`unplaced_doctors`): too short an availability, no host within
the travel limit, no reachable host needing their specialty, or not chosen under the rules.

Occupancies are written as month-to-month differences (each stint appears in two rows, its
start and its end, not in all of its months), which keeps the matrix small. Coverage is on
resident groups :math:`k` (demand points merged by the set :math:`N_k` of hosts within the
service circle, e.g. 20 minutes), not on hosts, so a village inside two hosts' circles is
counted once (MODELS.md §4.3). Without demand points each host's own residents form a group.

With one 6-month period, no coverage and no fairness term, the model is a transportation
problem (doctors → host specialty needs, with capacities and travel costs); the tests compare it
with an independent LP. Related models: Cire et al. (POM) clinical-rotation networks; Bard,
Shu & Leykum (2014) *ORHC* 3:200-214; Ross & Soland (1975) GAP.
"""

from __future__ import annotations

import itertools
import logging
import math
import time
from dataclasses import dataclass, field, replace
from fractions import Fraction

import numpy as np
import scipy.sparse as sp

from ..certificate import Certificate
from ..errors import CheckError
from ..milp import MILP, ModelBuilder
from ..solvers import SolveOptions, Status, relative_gap, solve
from .config import RotationRules, RotationWeights

__all__ = [
    "RotationEvaluation",
    "RotationInstance",
    "RotationSolution",
    "Stint",
    "assign_doctors",
    "build_rotation_milp",
    "check_rotation_plan",
    "default_presolve",
    "evaluate_rotation_plan",
    "precheck_rotation",
    "solve_rotation",
    "unplaced_doctors",
]

log = logging.getLogger(__name__)


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
# Model
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class _Layout:
    groups: Groups
    cols: np.ndarray
    """(N, 4) group, host, start, length of each ``n`` variable."""
    cov: sp.csr_matrix
    cov_weight: np.ndarray
    specs_z: np.ndarray
    """Specialties with positive coverage value."""


def _layout(inst: RotationInstance) -> _Layout:
    groups = doctor_groups(inst)
    cols = _stint_columns(inst, groups)
    cov, w = _coverage_groups(inst)
    specs = np.flatnonzero(inst.value > 0) if inst.weights.coverage > 0 else np.zeros(0, np.int64)
    return _Layout(groups, cols, cov, w, specs)


def _release_rows(
    b: ModelBuilder,
    inst: RotationInstance,
    h: np.ndarray,
    tau: np.ndarray,
    n_cols: np.ndarray,
    elastic: bool,
) -> None:
    """Hospital release caps: sum_s R[h, s, t] <= A_h every month, stints started by the
    hospital's doctors in each plan year <= Y_h (penalised slacks when ``elastic``)."""
    at_once, per_year = inst.release_caps()
    T, S = inst.months, len(inst.specialties)
    r0 = b.var_blocks["R"].start
    for hh in np.flatnonzero(np.isfinite(at_once)):
        rows = np.repeat(np.arange(T), S)
        cols = r0 + (hh * S + np.tile(np.arange(S), T)) * T + rows
        if elastic:
            sl = b.add_vars(f"slack:hospital_release[{hh}]", T, lb=0.0, cost=1.0)
            rows, cols = np.r_[rows, np.arange(T)], np.r_[cols, sl.index()]
            vals = np.r_[np.ones(T * S), -np.ones(T)]
        else:
            vals = np.ones(T * S)
        b.add_rows(f"hospital_release[{hh}]", T, rows, cols, vals, hi=float(at_once[hh]))
    for hh in np.flatnonzero(np.isfinite(per_year)):
        for y, (m0, m1) in enumerate(inst.release_years()):
            c = n_cols[(h == hh) & (tau >= m0) & (tau <= m1)]
            vals = np.ones(c.size)
            if elastic:
                sl = b.add_vars(f"slack:hospital_release_year[{hh},{y}]", 1, lb=0.0, cost=1.0)
                c, vals = np.r_[c, sl.index()], np.r_[vals, -1.0]
            b.add_row(f"hospital_release_year[{hh},{y}]", c, vals, hi=float(per_year[hh]))


def build_rotation_milp(
    inst: RotationInstance, layout: _Layout | None = None, *, elastic: bool = False
) -> MILP:
    """The aggregated block model of the module docstring.

    With ``elastic=True`` the rules (stationed doctors, annual total, department share away,
    host capacity) get penalised slacks and the objective is their total violation.
    """
    lay = layout or _layout(inst)
    T, F, S, H = inst.months, inst.n_hosts, len(inst.specialties), len(inst.hospitals)
    W = inst.window
    groups, cols = lay.groups, lay.cols
    g, f, tau, L = cols[:, 0], cols[:, 1], cols[:, 2], cols[:, 3]
    h = groups.key[g, 0]
    s = groups.key[g, 1]
    wts = inst.weights
    b = ModelBuilder("sent-down" + ("-elastic" if elastic else ""), "min" if elastic else "max")
    travel = inst.travel_min[h, f] if len(cols) else np.zeros(0)
    n_cost = 0.0 if elastic else -wts.travel_per_min_month * travel * L
    n = b.add_vars(
        "n", len(cols), lb=0.0, ub=groups.count[g].astype(float), integer=True, cost=n_cost
    )
    end = tau + L  # first month after the stint
    ends_inside = end <= T

    def occupancy(name: str, n_units: int, unit: np.ndarray, ub: np.ndarray | float) -> int:
        """Variables X[unit, t] with X_t - X_{t-1} - starts_t + ends_t = 0; returns the start."""
        X = b.add_vars(name, n_units * T, lb=0.0, ub=ub)
        base = np.arange(n_units * T)
        prev = base % T > 0
        rows = np.concatenate(
            [base, base[prev], unit * T + tau - 1, (unit * T + end - 1)[ends_inside]]
        )
        cols_ = np.concatenate([X.index(), X.index()[prev] - 1, n.index(), n.index()[ends_inside]])
        vals = np.concatenate(
            [
                np.ones(base.size),
                -np.ones(int(prev.sum())),
                -np.ones(len(cols)),
                np.ones(int(ends_inside.sum())),
            ]
        )
        b.add_rows(f"{name}_def", n_units * T, rows, cols_, vals, lo=0.0, hi=0.0)
        return X.start

    # Doctors of each specialty at each host and month.
    o_start = occupancy("O", F * S, f * S + s, np.inf)

    def occ_col(fi: np.ndarray, si: np.ndarray, ti: np.ndarray) -> np.ndarray:
        return o_start + (fi * S + si) * T + (ti - 1)

    # Department share away.
    away = inst.away_cap().ravel().astype(float)
    if elastic:
        occupancy("R", H * S, h * S + s, np.inf)
        r0 = b.var_blocks["R"].start
        sl = b.add_vars("slack:max_share_away", H * S * T, lb=0.0, cost=1.0)
        b.add_rows(
            "max_share_away",
            H * S * T,
            np.concatenate([np.arange(H * S * T)] * 2),
            np.concatenate([r0 + np.arange(H * S * T), sl.index()]),
            np.concatenate([np.ones(H * S * T), -np.ones(H * S * T)]),
            hi=np.repeat(away, T),
        )
    else:
        occupancy("R", H * S, h * S + s, np.repeat(away, T))
    _release_rows(b, inst, h, tau, n.index(), elastic)

    # One stint per doctor per W months (windows of start months).
    last_start = T - inst.rules.tenure_months.min + 1
    t0s = np.arange(1, max(last_start - W + 1, 1) + 1)
    G = groups.count.size
    rr, cc = [], []
    if t0s.size == 1:  # one window (T ≤ W + L_min - 1): each stint appears once
        for k, t0 in enumerate(t0s):
            m = (tau >= t0) & (tau <= t0 + W - 1)
            rr.append(g[m] * t0s.size + k)
            cc.append(n.index()[m])
    else:
        # Overlapping windows: count starts per group and month once, then sum months.
        starts = b.add_vars("starts", G * T, lb=0.0, ub=np.repeat(groups.count.astype(float), T))
        b.add_rows(
            "starts_def",
            G * T,
            np.concatenate([np.arange(G * T), g * T + tau - 1]),
            np.concatenate([starts.index(), n.index()]),
            np.concatenate([np.ones(G * T), -np.ones(len(cols))]),
            lo=0.0,
            hi=0.0,
        )
        for k, t0 in enumerate(t0s):
            months = np.arange(int(t0), min(int(t0) + W - 1, T) + 1)
            gg = np.repeat(np.arange(G), months.size)
            rr.append(gg * t0s.size + k)
            cc.append(starts.start + gg * T + np.tile(months, G) - 1)
    b.add_rows(
        "one_stint_per_window",
        G * t0s.size,
        np.concatenate(rr),
        np.concatenate(cc),
        1.0,
        hi=np.repeat(groups.count.astype(float), t0s.size),
    )

    # Host capacity and stationed doctors.
    base = np.arange(F * T)
    fh, th = base // T, base % T + 1
    rows = np.repeat(base, S)
    occ = occ_col(np.repeat(fh, S), np.tile(np.arange(S), F * T), np.repeat(th, S))
    cap = np.repeat(inst.host_capacity.astype(float), T)
    st = np.repeat(inst.stationed_min().astype(float), T)
    if elastic:
        sl_c = b.add_vars("slack:capacity", F * T, lb=0.0, cost=1.0)
        sl_s = b.add_vars("slack:stationed_per_host", F * T, lb=0.0, cost=1.0)
        b.add_rows(
            "capacity",
            F * T,
            np.concatenate([rows, base]),
            np.concatenate([occ, sl_c.index()]),
            np.concatenate([np.ones(rows.size), -np.ones(F * T)]),
            hi=cap,
        )
        b.add_rows(
            "stationed_per_host",
            F * T,
            np.concatenate([rows, base]),
            np.concatenate([occ, sl_s.index()]),
            1.0,
            lo=st,
        )
    else:
        b.add_rows("host_month", F * T, rows, occ, 1.0, lo=st, hi=cap)

    # Annual total per full plan year.
    ann = inst.rules.annual_total
    if ann.enabled and ann.value > 0:
        years = inst.plan_years()
        for y, (m0, m1) in enumerate(years):
            m = (tau >= m0) & (tau <= m1)
            c = n.index()[m]
            if elastic:
                sl = b.add_vars(f"slack:annual_total[{y}]", 1, lb=0.0, cost=1.0)
                c = np.concatenate([c, sl.index()])
            b.add_row(f"annual_total[{y}]", c, 1.0, lo=float(ann.value))

    if elastic:
        return b.build()

    # Shortfall against specialty need, and fairness (worst host).
    fi, si, ti = np.nonzero(inst.need > 0)
    ti = ti + 1
    lam_u, lam_phi = wts.shortfall_per_doctor_month, wts.fairness
    if fi.size and (lam_u > 0 or lam_phi > 0):
        u = b.add_vars(
            "shortfall", fi.size, lb=0.0, cost=-lam_u * inst.shortfall_weight()[fi, si, ti - 1]
        )
        kr = np.arange(fi.size)
        b.add_rows(
            "need",
            fi.size,
            np.concatenate([kr, kr]),
            np.concatenate([u.index(), occ_col(fi, si, ti)]),
            1.0,
            lo=inst.need[fi, si, ti - 1],
        )
        if lam_phi > 0:
            phi = b.add_vars("fairness", 1, lb=0.0, cost=-lam_phi)
            hosts = np.unique(fi)
            row_of = np.searchsorted(hosts, fi)
            b.add_rows(
                "fairness_def",
                hosts.size,
                np.concatenate([row_of, np.arange(hosts.size)]),
                np.concatenate([u.index(), np.repeat(phi.start, hosts.size)]),
                np.concatenate([-np.ones(fi.size), np.ones(hosts.size)]),
                lo=0.0,
            )

    # Specialty coverage of resident groups.
    K = lay.cov.shape[0]
    specs = lay.specs_z
    if K and specs.size:
        nz = np.diff(lay.cov.indptr)
        nS = specs.size
        zc = wts.coverage * (lay.cov_weight[:, None, None] * inst.value[specs][None, :, None])
        zc = np.broadcast_to(zc, (K, nS, T)).ravel()
        z = b.add_vars("z", K * nS * T, lb=0.0, ub=1.0, cost=zc)
        grid = np.meshgrid(np.arange(K), np.arange(nS), np.arange(1, T + 1), indexing="ij")
        kk, ss, tt_ = (a.ravel() for a in grid)
        reps = nz[kk]
        row_n = np.repeat(np.arange(K * nS * T), reps)
        first = lay.cov.indptr[kk]
        offs = np.arange(reps.sum()) - np.repeat(np.cumsum(reps) - reps, reps)
        host_n = lay.cov.indices[np.repeat(first, reps) + offs]
        col_n = occ_col(host_n, specs[np.repeat(ss, reps)], np.repeat(tt_, reps))
        b.add_rows(
            "cover",
            K * nS * T,
            np.concatenate([np.arange(K * nS * T), row_n]),
            np.concatenate([z.index(), col_n]),
            np.concatenate([np.ones(K * nS * T), -np.ones(row_n.size)]),
            hi=0.0,
        )
    milp = b.build()
    log.info(
        "Built %s: %s doctors in %s groups x %s hosts x %s months, %s stint options, %s resident "
        "groups; %s",
        milp.name,
        f"{inst.n_doctors:,}",
        f"{G:,}",
        f"{F:,}",
        T,
        f"{len(cols):,}",
        f"{K:,}",
        milp.summary(),
    )
    return milp


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


# ---------------------------------------------------------------------------------------------
# Evaluation and check on the raw data (per doctor, independent of the aggregated model)
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class RotationEvaluation:
    stints: list[Stint]
    presence: np.ndarray
    """(F, S, T) doctors present."""
    away: np.ndarray
    """(H, S, T) doctors away from each department."""
    coverage: float
    travel: float
    shortfall: float
    fairness: float
    objective: float
    covered_resident_months: np.ndarray
    """(S,) residents × months within the circle of a host with that specialty present."""
    violations: list[str]

    @property
    def terms(self) -> dict[str, float]:
        return {
            "coverage": self.coverage,
            "travel": self.travel,
            "shortfall": self.shortfall,
            "fairness": self.fairness,
        }


def evaluate_rotation_plan(inst: RotationInstance, stints: list[Stint]) -> RotationEvaluation:
    """Recompute every rule and the objective of a per-doctor plan from the raw arrays."""
    T, F, S, H = inst.months, inst.n_hosts, len(inst.specialties), len(inst.hospitals)
    rules = inst.rules
    bad: list[str] = []
    presence = np.zeros((F, S, T), dtype=np.int64)
    away = np.zeros((H, S, T), dtype=np.int64)
    by_doctor: dict[int, list[Stint]] = {}
    travel_min_months = 0.0
    reach = inst.reachable()
    for x in stints:
        d, f = x.doctor, x.host
        who = f"doctor {inst.doctor_ids[d]}"
        if not (0 <= d < inst.n_doctors and 0 <= f < F):
            bad.append(f"stint with unknown doctor or host index ({d}, {f})")
            continue
        h, s_ = int(inst.doctor_hospital[d]), int(inst.doctor_specialty[d])
        tm = rules.tenure_months
        if not tm.min <= x.months <= tm.max:
            bad.append(
                f"rule tenure_months: {who} serves {x.months} months at {inst.host_label(f)}; "
                f"stints last {tm.min}-{tm.max} months"
            )
        if x.start < 1 or x.end > T:
            bad.append(f"horizon: {who}'s stint {x.start}-{x.end} is outside months 1-{T}")
        if x.start < inst.available_from[d] or x.end > inst.available_to[d]:
            bad.append(
                f"availability: {who} is available in months {inst.available_from[d]}-"
                f"{inst.available_to[d]}, not {x.start}-{x.end}"
            )
        if not reach[h, f]:
            bad.append(
                f"rule max_travel_min: {who} ({inst.hospitals[h]}) to {inst.host_label(f)} takes "
                f"{inst.travel_min[h, f]:g} min (limit {rules.max_travel_min.value:g})"
            )
        lo, hi = max(x.start, 1), min(x.end, T)
        if lo <= hi:
            presence[f, s_, lo - 1 : hi] += 1
            away[h, s_, lo - 1 : hi] += 1
        if np.isfinite(inst.travel_min[h, f]):
            travel_min_months += float(inst.travel_min[h, f]) * x.months
        by_doctor.setdefault(d, []).append(x)
    for d, xs in by_doctor.items():
        xs = sorted(xs, key=lambda x: x.start)
        for a, b in itertools.pairwise(xs):
            if b.start - a.start < inst.window or b.start <= a.end:
                bad.append(
                    f"rule min_months_between_starts: doctor {inst.doctor_ids[d]} starts stints in "
                    f"months {a.start} and {b.start} (at least {inst.window} months apart, "
                    "one posting at a time)"
                )
    cap_away = inst.away_cap()
    for hh, ss, tt in np.argwhere(away > cap_away[:, :, None]):
        share = rules.max_share_away.by_hospital.get(inst.hospitals[hh], rules.max_share_away.value)
        bad.append(
            f"rule max_share_away: {inst.hospitals[hh]} {inst.specialties[ss]} has "
            f"{away[hh, ss, tt]} of {inst.dept_staff[hh, ss]} doctors away in {inst.label(tt + 1)} "
            f"(at most {100 * share:g}% = {cap_away[hh, ss]})"
        )
    total = presence.sum(axis=1)
    for ff, tt in np.argwhere(total > inst.host_capacity[:, None]):
        bad.append(
            f"host capacity: {inst.host_label(ff)} has {total[ff, tt]} doctors in "
            f"{inst.label(tt + 1)} (capacity {inst.host_capacity[ff]:g})"
        )
    bad += _release_violations(inst, stints, away)
    st = inst.stationed_min()
    for ff, tt in np.argwhere(total < st[:, None]):
        bad.append(
            f"rule stationed_per_host: {inst.host_label(ff)} has {total[ff, tt]} stationed "
            f"doctors in {inst.label(tt + 1)} (at least {st[ff]})"
        )
    ann = rules.annual_total
    if ann.enabled and ann.value > 0:
        starts = np.asarray([x.start for x in stints], dtype=np.int64)
        for y, (m0, m1) in enumerate(inst.plan_years()):
            k = int(((starts >= m0) & (starts <= m1)).sum())
            if k < ann.value:
                bad.append(
                    f"rule annual_total: plan year {y + 1} starts {k:,} stints (at least "
                    f"{ann.value:,.0f})"
                )
    w = inst.weights
    # Coverage: a resident group is covered for (s, t) when any host in its circle has a doctor.
    cov_mat = sp.csr_matrix(inst.cover, dtype=float)
    covered_rm = np.zeros(S)
    coverage = 0.0
    for s_ in range(S):
        present = (presence[:, s_, :] > 0).astype(float)  # F x T
        hit = (cov_mat @ present) > 0  # I x T
        covered_rm[s_] = float((inst.weight[:, None] * hit).sum())
        coverage += w.coverage * float(inst.value[s_]) * covered_rm[s_]
    unmet = np.maximum(inst.need - presence, 0.0)
    shortfall = float((inst.shortfall_weight() * unmet).sum())
    worst = float(unmet.sum(axis=(1, 2)).max()) if F and (inst.need > 0).any() else 0.0
    travel = w.travel_per_min_month * travel_min_months
    objective = (
        coverage
        - travel
        - w.shortfall_per_doctor_month * shortfall
        - (w.fairness * worst if w.fairness > 0 else 0.0)
    )
    return RotationEvaluation(
        list(stints),
        presence,
        away,
        coverage,
        travel,
        shortfall,
        worst,
        objective,
        covered_rm,
        bad,
    )


def _release_violations(inst: RotationInstance, stints: list[Stint], away: np.ndarray) -> list[str]:
    """Hospital release caps recomputed per doctor: away at once, stints started per year."""
    out: list[str] = []
    at_once, per_year = inst.release_caps()
    total = away.sum(axis=1)  # H x T
    for hh, tt in np.argwhere(total > at_once[:, None]):
        out.append(
            f"rule hospital_release: {inst.hospitals[hh]} has {total[hh, tt]} doctors away in "
            f"{inst.label(tt + 1)} (at most {at_once[hh]:g} at once)"
        )
    hosp = np.asarray([inst.doctor_hospital[x.doctor] for x in stints], dtype=np.int64)
    starts = np.asarray([x.start for x in stints], dtype=np.int64)
    for y, (m0, m1) in enumerate(inst.release_years()):
        k = np.bincount(hosp[(starts >= m0) & (starts <= m1)], minlength=len(inst.hospitals))
        for hh in np.flatnonzero(k > per_year):
            out.append(
                f"rule hospital_release: {inst.hospitals[hh]} starts {k[hh]} stints in plan "
                f"year {y + 1} (at most {per_year[hh]:g} a year)"
            )
    return out


def _not_chosen_reason(
    inst: RotationInstance, stints: list[Stint], h: int, s_: int, a0: int, a1: int
) -> tuple[str, str]:
    """Why a doctor who could go stayed home: the department was at its share-away cap, or the
    hospital at its release cap, in every month a stint could start; else the weights."""
    Lmin = inst.rules.tenure_months.min
    starts = range(a0, a1 - Lmin + 2)
    away = np.zeros(inst.months, dtype=np.int64)
    hosp = np.zeros(inst.months, dtype=np.int64)
    started = 0
    for x in stints:
        if int(inst.doctor_hospital[x.doctor]) != h:
            continue
        lo, hi = max(x.start, 1), min(x.end, inst.months)
        hosp[lo - 1 : hi] += 1
        if int(inst.doctor_specialty[x.doctor]) == s_:
            away[lo - 1 : hi] += 1
        started += 1
    cap = int(inst.away_cap()[h, s_])
    at_once, per_year = inst.release_caps()
    if all((away[t - 1 : t - 1 + Lmin] >= cap).any() for t in starts):
        return (
            f"not chosen: {inst.hospitals[h]} {inst.specialties[s_]} already has its most "
            f"doctors away (floor({inst.rules.max_share_away.value:g} x "
            f"{int(inst.dept_staff[h, s_])}) = {cap}) whenever a stint could run",
            "department_cap",
        )
    if np.isfinite(at_once[h]) and all(
        (hosp[t - 1 : t - 1 + Lmin] >= at_once[h]).any() for t in starts
    ):
        return (
            f"not chosen: {inst.hospitals[h]} is at its release cap of {at_once[h]:g} doctors "
            "away whenever a stint could run",
            "hospital_cap",
        )
    if np.isfinite(per_year[h]) and inst.months <= 12 and started >= per_year[h]:
        return (
            f"not chosen: {inst.hospitals[h]} already starts its {per_year[h]:g} stints a year",
            "hospital_cap",
        )
    return (
        "not chosen: host capacities and the objective's weights (coverage against travel and "
        "need) kept this doctor at the hospital",
        "not_chosen",
    )


def unplaced_doctors(inst: RotationInstance, stints: list[Stint]) -> list[dict[str, str]]:
    """Every doctor without a stint and why: the availability is shorter than the shortest
    stint, no host is within the travel limit, no reachable host needs the specialty (when
    needs are given), the department's share away or the hospital's release cap was used up
    whenever a stint could run, or none of these (host capacities and the weights)."""
    placed = {x.doctor for x in stints}
    reach = inst.reachable()
    Lmin = inst.rules.tenure_months.min
    needs_given = bool((inst.need > 0).any())
    out = []
    for d in range(inst.n_doctors):
        if d in placed:
            continue
        h, s_ = int(inst.doctor_hospital[d]), int(inst.doctor_specialty[d])
        a0, a1 = int(inst.available_from[d]), min(int(inst.available_to[d]), inst.months)
        hosts = np.flatnonzero(reach[h])
        if a1 - a0 + 1 < Lmin:
            why, code = (
                f"available in months {a0}-{a1} only; stints last at least {Lmin} months",
                "availability",
            )
        elif hosts.size == 0:
            t = inst.travel_min[h]
            near = (
                f"; nearest host {inst.host_label(int(np.argmin(t)))} at {np.min(t):g} min"
                if np.isfinite(t).any()
                else ""
            )
            why, code = (
                f"no host within rules.max_travel_min = {inst.rules.max_travel_min.value:g} min "
                f"of {inst.hospitals[h]}{near}",
                "travel",
            )
        elif needs_given and not (inst.need[hosts, s_, a0 - 1 : a1] > 0).any():
            why, code = (
                f"no host within reach lists a need for {inst.specialties[s_]} in months {a0}-{a1}",
                "no_need",
            )
        else:
            why, code = _not_chosen_reason(inst, stints, h, s_, a0, a1)
        out.append(
            {
                "doctor_id": str(inst.doctor_ids[d]),
                "hospital": inst.hospitals[h],
                "specialty": inst.specialties[s_],
                "reason": code,
                "detail": why,
            }
        )
    return out


def check_rotation_plan(inst: RotationInstance, stints: list[Stint]) -> list[str]:
    return evaluate_rotation_plan(inst, stints).violations


# ---------------------------------------------------------------------------------------------
# Solve
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class RotationSolution(Certificate):
    instance: RotationInstance
    status: Status
    evaluation: RotationEvaluation | None = None
    build_time_s: float = 0.0

    @property
    def stints(self) -> list[Stint]:
        return [] if self.evaluation is None else self.evaluation.stints


def _tolerance(milp: MILP) -> float:
    return 1e-6 * (float(np.abs(milp.c).sum()) + abs(milp.c0)) + 1e-6


PRESOLVE_FROM_STINT_OPTIONS = 200_000
"""Default MIP presolve for sent-down cases: on from this many stint options (measured in
benchmarks/staffing.py: off is 2-4x faster at 71,760 options, 12 months; at 467,040 options,
24 months, the root LP alone runs > 600 s without presolve and the proof takes ~250 s with it)."""


def default_presolve(inst: RotationInstance) -> bool:
    """HiGHS presolve for this instance when the case does not say (``solver.presolve``)."""
    return len(_stint_columns(inst, doctor_groups(inst))) >= PRESOLVE_FROM_STINT_OPTIONS


def solve_rotation(
    inst: RotationInstance, options: SolveOptions | None = None, *, backend: str = "highs"
) -> RotationSolution:
    """Prechecks, build, solve, assign named doctors, certify on the raw data.

    Without options, MIP presolve follows :func:`default_presolve`: off for county-size
    models (HiGHS's presolve removes under 2% of the rows but its symmetry detection costs 2-4x
    the whole solve), on from ``PRESOLVE_FROM_STINT_OPTIONS`` stint options (benchmarks/staffing.py).
    """
    options = options or SolveOptions(presolve=default_presolve(inst))
    t_start = time.perf_counter()
    reasons = precheck_rotation(inst)
    if reasons:
        log.warning("Sent-down case is infeasible before solving: %d conflicts", len(reasons))
        return RotationSolution(
            inst,
            Status.INFEASIBLE,
            diagnosis=reasons,
            total_time_s=time.perf_counter() - t_start,
            message="infeasible: found before solving",
        )
    t0 = time.perf_counter()
    lay = _layout(inst)
    milp = build_rotation_milp(inst, lay)
    build_s = time.perf_counter() - t0
    res = solve(milp, options, backend)
    size = {
        "rows": milp.n_rows,
        "columns": milp.n_cols,
        "nonzeros": milp.nnz,
        "integer_columns": milp.n_integer,
        "doctor_groups": int(lay.groups.count.size),
        "stint_options": len(lay.cols),
        "resident_groups": int(lay.cov.shape[0]),
    }
    common = {
        "build_time_s": build_s,
        "runtime_s": res.runtime_s,
        "solver": res.solver,
        "solver_version": res.solver_version,
        "message": res.message,
        "model_size": size,
    }
    if not res.status.has_solution or res.x is None:
        diagnosis = (
            diagnose_rotation(inst, lay, options, backend)
            if res.status == Status.INFEASIBLE
            else []
        )
        return RotationSolution(
            inst,
            res.status,
            bound=res.bound,
            diagnosis=diagnosis,
            total_time_s=time.perf_counter() - t_start,
            **common,  # type: ignore[arg-type]
        )
    counts = np.round(res.x[milp.var_blocks["n"].slice]).astype(np.int64)
    stints = assign_doctors(inst, lay.groups, lay.cols, counts)
    ev = evaluate_rotation_plan(inst, stints)
    violations = list(ev.violations)
    tol = _tolerance(milp)
    solver_obj = float(res.objective) if res.objective is not None else milp.objective_value(res.x)
    if res.status == Status.OPTIMAL and abs(ev.objective - solver_obj) > tol:
        violations.append(
            f"objective mismatch: solver reports {solver_obj:,.6f}, raw data gives {ev.objective:,.6f}"
        )
    elif res.status == Status.FEASIBLE and ev.objective < solver_obj - tol:
        violations.append(
            f"objective mismatch: solver reports {solver_obj:,.6f}, raw data gives only {ev.objective:,.6f}"
        )
    bound = res.bound
    if bound is not None and ev.objective > bound + tol:
        violations.append(
            f"bound {bound:,.6f} is not a valid bound for the raw objective {ev.objective:,.6f}"
        )
    if violations:
        raise CheckError(violations)
    if res.status == Status.OPTIMAL and bound is None:
        bound = ev.objective
    gap = relative_gap(ev.objective, bound) if bound is not None else None
    log.info(
        "Checked rotation on raw data: %s stints of %s doctors, objective %s, gap %s",
        f"{len(stints):,}",
        f"{len({x.doctor for x in stints}):,}",
        f"{ev.objective:,.6g}",
        "-" if gap is None else f"{100 * gap:.4f}%",
    )
    return RotationSolution(
        inst,
        res.status,
        evaluation=ev,
        objective=ev.objective,
        bound=bound,
        gap=gap,
        total_time_s=time.perf_counter() - t_start,
        checked=True,
        **common,  # type: ignore[arg-type]
    )


def diagnose_rotation(
    inst: RotationInstance, lay: _Layout, options: SolveOptions, backend: str
) -> list[str]:
    """After a proven infeasibility: the least violation of the rules, named, with numbers."""
    milp = build_rotation_milp(inst, lay, elastic=True)
    res = solve(
        milp,
        replace(options, time_limit_s=min(options.time_limit_s, 120.0), mip_rel_gap=0.0),
        backend,
    )
    if res.x is None:
        return [
            "the solver proved the rules infeasible; the elastic diagnosis found no explanation "
            f"within its time limit ({res.status.value})"
        ]
    x = res.x
    T, S = inst.months, len(inst.specialties)
    out = ["The rules conflict. The least total relaxation that makes a rotation exist:"]
    for name, block in milp.var_blocks.items():
        if not name.startswith("slack:"):
            continue
        vals = x[block.slice]
        hit = np.flatnonzero(vals > 1e-6)
        if hit.size == 0:
            continue
        rule = name.removeprefix("slack:")
        if rule in ("capacity", "stationed_per_host"):
            hosts_hit = hit // T
            shown = np.unique(hosts_hit)[:12]
            text = "; ".join(
                f"{inst.host_label(int(ff))} short by {vals[hit][hosts_hit == ff].sum():,.0f} "
                f"doctor-months in {int((hosts_hit == ff).sum())} months"
                for ff in shown
            )
            what = "host capacity" if rule == "capacity" else "rule stationed_per_host"
            out.append(f"- {what}: {text}")
        elif rule == "max_share_away":
            hs = hit // T
            away = inst.away_cap().ravel()
            text = "; ".join(
                f"{inst.hospitals[int(k) // S]} {inst.specialties[int(k) % S]} needs "
                f"{away[int(k)] + vals[hit][hs == k].max():,.0f} away (cap {away[int(k)]:,})"
                for k in np.unique(hs)[:12]
            )
            out.append(f"- rule max_share_away: {text}")
        elif rule.startswith("hospital_release"):
            k = int(rule[rule.index("[") + 1 :].split(",")[0].rstrip("]"))
            out.append(
                f"- rule hospital_release: {inst.hospitals[k]} would have to release "
                f"{vals[hit].max():,.0f} more doctor(s)"
                + (" a year" if "year" in rule else " at once")
            )
        elif rule.startswith("annual_total["):
            y = int(rule[len("annual_total[") : -1])
            ann = inst.rules.annual_total.value
            out.append(
                f"- rule annual_total: plan year {y + 1} can start only {ann - vals[0]:,.0f} of "
                f"the {ann:,.0f} stints under the other rules"
            )
    if len(out) == 1:
        out.append("- (no rule needs relaxing; check the availability windows and travel limits)")
    return out
