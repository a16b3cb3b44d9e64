r"""The sent-down (下沉) rotation MILP (MODELS.md §4.3, §8.5): who goes where, when, for how long.

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

import logging
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from ...milp import MILP, Block, ModelBuilder
from .problem import Groups, RotationInstance, _coverage_groups, _stint_columns, doctor_groups

log = logging.getLogger(__name__)


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
    stints = _Stints(n, tau, tau + L, T)
    # Doctors of each specialty at each host and month.
    o_start = _occupancy(b, stints, "O", F * S, f * S + s, np.inf)
    occ = _OccupancyColumns(o_start, S, T)
    _away_rows(b, inst, stints, h * S + s, H * S, elastic)
    _release_rows(b, inst, h, tau, n.index(), elastic)
    _window_rows(b, inst, lay, n, g, tau)
    _host_rows(b, inst, occ, elastic)
    _annual_rows(b, inst, n, tau, elastic)
    if elastic:
        return b.build()
    _need_rows(b, inst, occ)
    K = _cover_rows(b, inst, lay, occ)
    milp = b.build()
    log.info(
        "Built %s: %s doctors in %s groups x %s hosts x %s months, %s stint options, %s resident "
        "groups; %s",
        milp.name,
        f"{inst.n_doctors:,}",
        f"{groups.count.size:,}",
        f"{F:,}",
        T,
        f"{len(cols):,}",
        f"{K:,}",
        milp.summary(),
    )
    return milp


@dataclass(frozen=True)
class _Stints:
    """The ``n`` block with each column's start month ``tau`` and first month after ``end``."""

    n: Block
    tau: np.ndarray
    end: np.ndarray
    months: int


@dataclass(frozen=True)
class _OccupancyColumns:
    """Column of ``O[f, s, t]`` (doctors of specialty s at host f in month t, 1-based)."""

    start: int
    n_specialties: int
    months: int

    def __call__(self, fi: np.ndarray, si: np.ndarray, ti: np.ndarray) -> np.ndarray:
        return self.start + (fi * self.n_specialties + si) * self.months + (ti - 1)


def _occupancy(
    b: ModelBuilder, st: _Stints, name: str, n_units: int, unit: np.ndarray, ub: np.ndarray | float
) -> int:
    """Variables X[unit, t] with X_t - X_{t-1} - starts_t + ends_t = 0; returns the start."""
    T, n, tau, end = st.months, st.n, st.tau, st.end
    ends_inside = end <= T
    X = b.add_vars(name, n_units * T, lb=0.0, ub=ub)
    base = np.arange(n_units * T)
    prev = base % T > 0
    rows = np.concatenate([base, base[prev], unit * T + tau - 1, (unit * T + end - 1)[ends_inside]])
    cols_ = np.concatenate([X.index(), X.index()[prev] - 1, n.index(), n.index()[ends_inside]])
    vals = np.concatenate(
        [
            np.ones(base.size),
            -np.ones(int(prev.sum())),
            -np.ones(n.size),
            np.ones(int(ends_inside.sum())),
        ]
    )
    b.add_rows(f"{name}_def", n_units * T, rows, cols_, vals, lo=0.0, hi=0.0)
    return X.start


def _away_rows(
    b: ModelBuilder,
    inst: RotationInstance,
    st: _Stints,
    dept: np.ndarray,
    n_depts: int,
    elastic: bool,
) -> None:
    """Department share away: ``R[h, s, t] <= floor(kappa_h N_hs)`` (a bound, or a slack row)."""
    T = inst.months
    away = inst.away_cap().ravel().astype(float)
    if not elastic:
        _occupancy(b, st, "R", n_depts, dept, np.repeat(away, T))
        return
    _occupancy(b, st, "R", n_depts, dept, np.inf)
    r0 = b.var_blocks["R"].start
    N = n_depts * T
    sl = b.add_vars("slack:max_share_away", N, lb=0.0, cost=1.0)
    b.add_rows(
        "max_share_away",
        N,
        np.concatenate([np.arange(N)] * 2),
        np.concatenate([r0 + np.arange(N), sl.index()]),
        np.concatenate([np.ones(N), -np.ones(N)]),
        hi=np.repeat(away, T),
    )


def _window_rows(
    b: ModelBuilder, inst: RotationInstance, lay: _Layout, n: Block, g: np.ndarray, tau: np.ndarray
) -> None:
    """(W) One stint per doctor per W months: starts of a group in each window <= its size."""
    T, W, groups = inst.months, inst.window, lay.groups
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
            np.concatenate([np.ones(G * T), -np.ones(n.size)]),
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


def _host_rows(
    b: ModelBuilder, inst: RotationInstance, occ_col: _OccupancyColumns, elastic: bool
) -> None:
    """Host capacity and stationed doctors: ``m_f <= Σ_s O[f, s, t] <= cap_f``."""
    T, F, S = inst.months, inst.n_hosts, len(inst.specialties)
    base = np.arange(F * T)
    fh, th = base // T, base % T + 1
    rows = np.repeat(base, S)
    occ = occ_col(np.repeat(fh, S), np.tile(np.arange(S), F * T), np.repeat(th, S))
    cap = np.repeat(inst.host_capacity.astype(float), T)
    st = np.repeat(inst.stationed_min().astype(float), T)
    if not elastic:
        b.add_rows("host_month", F * T, rows, occ, 1.0, lo=st, hi=cap)
        return
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


def _annual_rows(
    b: ModelBuilder, inst: RotationInstance, n: Block, tau: np.ndarray, elastic: bool
) -> None:
    """Annual total per full plan year: stints started in the year >= N_year."""
    ann = inst.rules.annual_total
    if not (ann.enabled and ann.value > 0):
        return
    for y, (m0, m1) in enumerate(inst.plan_years()):
        m = (tau >= m0) & (tau <= m1)
        c = n.index()[m]
        if elastic:
            sl = b.add_vars(f"slack:annual_total[{y}]", 1, lb=0.0, cost=1.0)
            c = np.concatenate([c, sl.index()])
        b.add_row(f"annual_total[{y}]", c, 1.0, lo=float(ann.value))


def _need_rows(b: ModelBuilder, inst: RotationInstance, occ_col: _OccupancyColumns) -> None:
    """Shortfall against specialty need (``u >= req - O``) and fairness (worst host)."""
    wts = inst.weights
    fi, si, ti = np.nonzero(inst.need > 0)
    ti = ti + 1
    lam_u, lam_phi = wts.shortfall_per_doctor_month, wts.fairness
    if not (fi.size and (lam_u > 0 or lam_phi > 0)):
        return
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


def _cover_rows(
    b: ModelBuilder, inst: RotationInstance, lay: _Layout, occ_col: _OccupancyColumns
) -> int:
    """Specialty coverage of resident groups: ``z[k, s, t] <= Σ_{f in N_k} O[f, s, t]``.

    Returns the number of resident groups.
    """
    T, wts = inst.months, inst.weights
    K = lay.cov.shape[0]
    specs = lay.specs_z
    if not (K and specs.size):
        return K
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
    return K
