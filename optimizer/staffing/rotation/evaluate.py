"""A sent-down plan recomputed per doctor on the raw data: rules, objective, unplaced doctors."""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from .problem import RotationInstance, Stint


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
    presence = np.zeros((F, S, T), dtype=np.int64)
    away = np.zeros((H, S, T), dtype=np.int64)
    bad, travel_min_months = _stint_checks(inst, stints, presence, away)
    bad += _count_checks(inst, stints, presence, away)
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


def _stint_checks(
    inst: RotationInstance, stints: list[Stint], presence: np.ndarray, away: np.ndarray
) -> tuple[list[str], float]:
    """Each stint's length, horizon, availability and travel limit, and one posting at a time
    per doctor; fills ``presence`` (F, S, T) and ``away`` (H, S, T). Returns the violations and
    the travel in minutes x months."""
    T, F = inst.months, inst.n_hosts
    rules = inst.rules
    bad: list[str] = []
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
    return bad, travel_min_months


def _count_checks(
    inst: RotationInstance, stints: list[Stint], presence: np.ndarray, away: np.ndarray
) -> list[str]:
    """Department share away, host capacity, hospital release, stationed doctors, annual total."""
    rules = inst.rules
    bad: list[str] = []
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
    return bad


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
