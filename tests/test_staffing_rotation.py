"""Sent-down rotations: brute force, the transportation special case, rules, checker, assignment."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import linprog

from optimizer.errors import CheckError
from optimizer.solvers import SolveOptions, SolveResult, Status
from optimizer.staffing.rotation import (
    RotationInstance,
    Stint,
    assign_doctors,
    check_rotation_plan,
    doctor_groups,
    precheck_rotation,
    solve_rotation,
)
from optimizer.staffing.rotation import evaluate as rot_eval
from optimizer.staffing.rotation import solve as rot_mod
from optimizer.staffing.rotation.schema import (
    AwayShareRule,
    HospitalReleaseRule,
    ReleaseLimit,
    RotationRules,
    RotationWeights,
    StationedRule,
    TenureRule,
    ValueRule,
)

from .brute_staffing import RotationSpec, rotation_brute
from .conftest import OBJ_RTOL

INF = float("inf")


def to_instance(spec: RotationSpec) -> RotationInstance:
    H, S = spec.dept.shape
    F = len(spec.host_types)
    rules = RotationRules(
        tenure_months=TenureRule(min=spec.lmin, max=spec.lmax),
        min_months_between_starts=spec.window,
        max_travel_min=ValueRule(value=spec.max_travel),
        max_share_away=AwayShareRule(value=spec.kappa),
        hospital_release=HospitalReleaseRule(
            by_hospital={
                f"H{h}": ReleaseLimit(
                    at_once=None if spec.release_at_once is None else _cap(spec.release_at_once[h]),
                    per_year=None
                    if spec.release_per_year is None
                    else _cap(spec.release_per_year[h]),
                )
                for h in range(H)
            }
        ),
        stationed_per_host=StationedRule(value=spec.stationed, host_types=["thc"]),
        annual_total=ValueRule(value=spec.annual or 0.0, enabled=spec.annual is not None),
    )
    weights = RotationWeights(
        coverage=spec.w_cov,
        travel_per_min_month=spec.w_travel,
        shortfall_per_doctor_month=spec.w_short,
        fairness=spec.w_fair,
    )
    docs = np.asarray(spec.doctors, dtype=np.int64)
    return RotationInstance(
        months=spec.months,
        doctor_ids=np.asarray([f"d{k}" for k in range(len(spec.doctors))], dtype=object),
        doctor_hospital=docs[:, 0],
        doctor_specialty=docs[:, 1],
        available_from=docs[:, 2],
        available_to=docs[:, 3],
        hospitals=[f"H{h}" for h in range(H)],
        specialties=[f"S{s}" for s in range(S)],
        dept_staff=np.asarray(spec.dept, dtype=np.int64),
        host_ids=np.asarray([f"f{k}" for k in range(F)], dtype=object),
        host_names=np.asarray([f"host {k}" for k in range(F)], dtype=object),
        host_types=np.asarray(spec.host_types, dtype=object),
        host_capacity=np.asarray(spec.capacity, dtype=float),
        travel_min=np.asarray(spec.travel, dtype=float),
        need=np.asarray(spec.need, dtype=float),
        value=np.asarray(spec.value, dtype=float),
        cover=sp.csr_matrix(spec.cover),
        weight=np.asarray(spec.weight, dtype=float),
        rules=rules,
        weights=weights,
        need_weight=None if spec.need_weight is None else np.asarray(spec.need_weight, float),
    )


def _cap(v: float) -> int | None:
    return None if not np.isfinite(v) else int(v)


def random_spec(seed: int, *, multi: bool = False) -> RotationSpec:
    """Tiny instances. ``multi``: a 14-month horizon where a doctor may serve two stints."""
    rng = np.random.default_rng(seed)
    H, S = 2, 2
    if multi:
        T, W, lmin, lmax = 14, 6, 6, 6
        D, F = (2, 2) if seed % 2 else (3, 1)
        windows = [(1, 14), (1, 12), (3, 14)]
    else:
        T, W, lmin, lmax = 8, 8, 6, 7
        D, F = 3, 2
        windows = [(1, 8), (1, 7), (2, 8)]
    doctors = []
    for _ in range(D):
        a0, a1 = windows[int(rng.integers(0, len(windows)))]
        doctors.append((int(rng.integers(0, H)), int(rng.integers(0, S)), a0, a1))
    listed = np.zeros((H, S), dtype=np.int64)
    for h, s, _, _ in doctors:
        listed[h, s] += 1
    dept = listed * rng.integers(1, 3, (H, S))
    travel = rng.uniform(10, 80, (H, F)).round(1)
    travel[rng.random((H, F)) < 0.15] = INF
    host_types = [str(rng.choice(["thc", "village_clinic"], p=[0.4, 0.6])) for _ in range(F)]
    n_demand = 4
    cover = rng.random((n_demand, F)) < 0.5
    return RotationSpec(
        months=T,
        window=W,
        lmin=lmin,
        lmax=lmax,
        doctors=doctors,
        dept=dept,
        kappa=float(rng.choice([0.5, 1.0])),
        host_types=host_types,
        capacity=[float(rng.integers(1, 3)) for _ in range(F)],
        stationed=1,
        travel=travel,
        max_travel=60.0,
        need=np.repeat(rng.integers(0, 2, (F, S))[:, :, None], T, axis=2).astype(float),
        value=rng.choice([0.5, 1.0, 1.5], S),
        cover=cover,
        weight=rng.integers(100, 2000, n_demand).astype(float),
        annual=float(rng.integers(1, 3)) if multi and rng.random() < 0.5 else None,
        w_cov=1.0,
        w_travel=float(rng.choice([0.0, 2.0])),
        w_short=float(rng.choice([0.0, 300.0])),
        w_fair=float(rng.choice([0.0, 500.0])),
    )


CASES = [(seed, False) for seed in range(14)] + [(seed, True) for seed in range(8)]


@pytest.mark.parametrize(("seed", "multi"), CASES)
def test_rotation_matches_brute_force(seed, multi):
    spec = random_spec(seed, multi=multi)
    expected = rotation_brute(spec)
    sol = solve_rotation(to_instance(spec))
    if expected is None:
        assert sol.status == Status.INFEASIBLE, sol.status
        assert sol.diagnosis
        return
    assert sol.status == Status.OPTIMAL, (sol.status, sol.diagnosis)
    assert sol.checked
    assert sol.objective == pytest.approx(expected, rel=OBJ_RTOL, abs=1e-6)


def test_brute_force_sample_covers_feasible_infeasible_and_repeat_stints():
    results = {(s, m): rotation_brute(random_spec(s, multi=m)) for s, m in CASES}
    assert any(v is None for v in results.values()) and any(v is not None for v in results.values())
    repeat = False
    for (s, m), v in results.items():
        if m and v is not None:
            sol = solve_rotation(to_instance(random_spec(s, multi=True)))
            doctors = [x.doctor for x in sol.stints]
            repeat |= len(doctors) != len(set(doctors))
    assert repeat, "some multi-stint case should send a doctor twice"


# ---------------------------------------------------------------------------------------------
# One 6-month period, no coverage or fairness: a transportation problem
# ---------------------------------------------------------------------------------------------
def transport_spec(seed: int) -> RotationSpec:
    rng = np.random.default_rng(100 + seed)
    H, S, F, D = 3, 3, 4, 12
    doctors = [(int(rng.integers(0, H)), int(rng.integers(0, S)), 1, 6) for _ in range(D)]
    listed = np.zeros((H, S), dtype=np.int64)
    for h, s, _, _ in doctors:
        listed[h, s] += 1
    travel = rng.uniform(5, 90, (H, F)).round(1)
    travel[rng.random((H, F)) < 0.2] = INF
    return RotationSpec(
        months=6,
        window=6,
        lmin=6,
        lmax=6,
        doctors=doctors,
        dept=listed,
        kappa=1.0,
        host_types=["village_clinic"] * F,
        capacity=[float(rng.integers(1, 5)) for _ in range(F)],
        stationed=0,
        travel=travel,
        max_travel=80.0,
        need=np.repeat(rng.integers(0, 3, (F, S))[:, :, None], 6, axis=2).astype(float),
        value=np.zeros(S),
        cover=np.zeros((0, F), dtype=bool),
        weight=np.zeros(0),
        annual=None,
        w_cov=0.0,
        w_travel=1.0,
        w_short=100.0,
        w_fair=0.0,
    )


def transportation_lp(spec: RotationSpec) -> tuple[float, np.ndarray]:
    """min Σ travel x + λ Σ shortfall per month: doctors → host specialty needs (scipy LP)."""
    D, F = len(spec.doctors), len(spec.host_types)
    S = spec.dept.shape[1]
    pairs = [
        (d, f)
        for d in range(D)
        for f in range(F)
        if np.isfinite(spec.travel[spec.doctors[d][0], f])
        and spec.travel[spec.doctors[d][0], f] <= spec.max_travel
    ]
    nx, ns = len(pairs), F * S
    c = np.concatenate(
        [
            [spec.w_travel * spec.travel[spec.doctors[d][0], f] for d, f in pairs],
            np.full(ns, spec.w_short),
        ]
    )
    A, b = [], []
    for d in range(D):  # each doctor at most once
        A.append([1.0 if p[0] == d else 0.0 for p in pairs] + [0.0] * ns)
        b.append(1.0)
    for f in range(F):  # host capacity
        A.append([1.0 if p[1] == f else 0.0 for p in pairs] + [0.0] * ns)
        b.append(spec.capacity[f])
    for f in range(F):  # -(Σ x of specialty s at f) - short_fs <= -need_fs
        for s in range(S):
            row = [-1.0 if (p[1] == f and spec.doctors[p[0]][1] == s) else 0.0 for p in pairs]
            sh = [0.0] * ns
            sh[f * S + s] = -1.0
            A.append(row + sh)
            b.append(-spec.need[f, s, 0])
    res = linprog(
        c, A_ub=np.asarray(A), b_ub=np.asarray(b), bounds=[(0, 1)] * nx + [(0, None)] * ns
    )
    assert res.status == 0
    return float(res.fun), res.x[:nx]


@pytest.mark.parametrize("seed", range(6))
def test_one_period_case_equals_the_transportation_optimum(seed):
    spec = transport_spec(seed)
    lp_obj, x = transportation_lp(spec)
    assert np.allclose(x, np.round(x), atol=1e-7), "the transportation LP has integral vertices"
    sol = solve_rotation(to_instance(spec))
    assert sol.status == Status.OPTIMAL
    # 6 months of the same one-period assignment: the objective is -6 x the LP cost.
    assert sol.objective == pytest.approx(-6.0 * lp_obj, rel=OBJ_RTOL, abs=1e-6)
    assert len(sol.stints) == round(x.sum())


# ---------------------------------------------------------------------------------------------
# Rules: the checker names every violated rule
# ---------------------------------------------------------------------------------------------
def year_spec(**over) -> RotationSpec:
    """12 months, 2 THCs, 4 doctors of 2 hospitals; annual total 3."""
    spec = RotationSpec(
        months=12,
        window=12,
        lmin=6,
        lmax=12,
        doctors=[(0, 0, 1, 12), (0, 1, 1, 12), (1, 0, 1, 12), (1, 1, 1, 12)],
        dept=np.asarray([[2, 2], [2, 2]]),
        kappa=0.5,
        host_types=["thc", "thc", "village_clinic"],
        capacity=[2.0, 2.0, 1.0],
        stationed=1,
        travel=np.asarray([[20.0, 50.0, 30.0], [45.0, 25.0, INF]]),
        max_travel=60.0,
        need=np.ones((3, 2, 12)),
        value=np.asarray([1.0, 1.5]),
        cover=np.asarray([[1, 0, 0], [0, 1, 0], [0, 1, 1], [0, 0, 1]], dtype=bool),
        weight=np.asarray([1000.0, 800.0, 600.0, 400.0]),
        annual=3.0,
        w_cov=1.0,
        w_travel=1.0,
        w_short=50.0,
        w_fair=0.0,
    )
    return dataclasses.replace(spec, **over)


@pytest.fixture
def year():
    inst = to_instance(year_spec())
    sol = solve_rotation(inst)
    assert sol.status == Status.OPTIMAL and sol.checked
    return inst, list(sol.stints)


def _text(inst, stints) -> str:
    return "\n".join(check_rotation_plan(inst, stints))


def test_year_case_is_optimal_and_compliant(year):
    inst, stints = year
    assert check_rotation_plan(inst, stints) == []
    # The brute force over 4 doctors x 85 schedules is too slow; 3 doctors, 6-month stints:
    small = year_spec(
        doctors=[(0, 0, 1, 12), (0, 1, 1, 12), (1, 0, 1, 12)], lmax=6, window=6, annual=2.0
    )
    sol = solve_rotation(to_instance(small))
    assert sol.status == Status.OPTIMAL
    assert sol.objective == pytest.approx(rotation_brute(small), rel=OBJ_RTOL)


def test_rule_tenure_months_violation_is_named(year):
    inst, stints = year
    x = stints[0]
    stints[0] = Stint(x.doctor, x.host, x.start, 5)
    assert "rule tenure_months" in _text(inst, stints)


def test_rule_one_stint_per_window_violation_is_named(year):
    inst, stints = year
    x = stints[0]
    stints.append(Stint(x.doctor, x.host, min(x.start + 6, 7), 6))
    assert "rule min_months_between_starts" in _text(inst, stints)


def test_rule_max_share_away_violation_is_named(year):
    inst, stints = year
    tight = dataclasses.replace(inst, dept_staff=np.ones_like(inst.dept_staff))  # floor(0.5) = 0
    assert "rule max_share_away" in _text(tight, stints)


def test_host_capacity_violation_is_named(year):
    inst, stints = year
    extra = [Stint(d, 2, 1, 6) for d in (0, 1)]  # village clinic holds 1
    assert "host capacity" in _text(inst, stints + extra)


def test_rule_stationed_doctor_violation_is_named(year):
    inst, stints = year
    kept = [x for x in stints if x.host != 0]
    assert "rule stationed_per_host: host 0 (f0)" in _text(inst, kept)


def test_rule_annual_total_violation_is_named(year):
    inst, stints = year
    assert "rule annual_total" in _text(inst, stints[:2])


def test_rule_max_travel_violation_is_named(year):
    inst, stints = year
    bad = [Stint(3, 2, 1, 6)]  # hospital 1 cannot reach the village clinic
    assert "rule max_travel_min" in _text(inst, stints + bad)


def test_availability_and_horizon_violations_are_named(year):
    inst, stints = year
    short = dataclasses.replace(inst, available_to=np.full(4, 8))
    assert "availability" in _text(short, stints)
    assert "horizon" in _text(inst, [*stints, Stint(0, 0, 10, 6)])


# ---------------------------------------------------------------------------------------------
# Infeasible cases say which rule conflicts with which total
# ---------------------------------------------------------------------------------------------
def test_unreachable_township_centre_is_explained():
    spec = year_spec(travel=np.asarray([[20.0, 95.0, 30.0], [45.0, INF, INF]]))
    sol = solve_rotation(to_instance(spec))
    assert sol.status == Status.INFEASIBLE
    assert "rule stationed_per_host at host 1 (f1)" in "\n".join(sol.diagnosis)
    assert "max_travel_min = 60 min" in "\n".join(sol.diagnosis)


def test_annual_total_above_doctors_is_explained():
    sol = solve_rotation(to_instance(year_spec(annual=5.0)))
    assert sol.status == Status.INFEASIBLE
    text = "\n".join(sol.diagnosis)
    assert "rule annual_total vs doctors" in text and "only 4 listed doctors" in text


def test_annual_total_above_the_share_away_is_explained():
    spec = year_spec(kappa=0.3, dept=np.asarray([[4, 4], [4, 4]]))  # floor(1.2) = 1 away each
    sol = solve_rotation(to_instance(dataclasses.replace(spec, annual=3.0)))
    assert sol.status != Status.INFEASIBLE or sol.diagnosis
    spec2 = dataclasses.replace(spec, kappa=0.2)  # floor(0.8) = 0: nobody may leave
    sol2 = solve_rotation(to_instance(spec2))
    assert sol2.status == Status.INFEASIBLE
    assert "rule annual_total vs rule max_share_away" in "\n".join(sol2.diagnosis)


def test_conflict_found_by_the_solver_gets_an_elastic_diagnosis():
    # Two township centres each need a stationed doctor every month, but only one doctor can
    # serve at a time: each centre alone passes the prechecks.
    spec = year_spec(
        doctors=[(0, 0, 1, 12)],
        dept=np.asarray([[1, 0], [0, 0]]),
        kappa=1.0,
        annual=None,
        host_types=["thc", "thc", "village_clinic"],
    )
    inst = to_instance(spec)
    assert precheck_rotation(inst) == []
    sol = solve_rotation(inst)
    assert sol.status == Status.INFEASIBLE
    text = "\n".join(sol.diagnosis)
    assert "The rules conflict" in text and "rule stationed_per_host" in text
    assert rotation_brute(spec) is None


# ---------------------------------------------------------------------------------------------
# The checker rejects tampered answers; limits are never reported as optimal
# ---------------------------------------------------------------------------------------------
def _patch(monkeypatch, change_x=None, change_obj=0.0, status=None):
    real = rot_mod.solve

    def fake(milp, options=None, backend="highs"):
        res = real(milp, options, backend)
        if res.x is None:
            return res
        x = res.x.copy()
        if change_x is not None:
            change_x(milp, x)
        return SolveResult(
            status or res.status,
            x,
            (res.objective or 0.0) + change_obj,
            res.bound,
            res.runtime_s,
            res.solver,
            res.solver_version,
        )

    monkeypatch.setattr(rot_mod, "solve", fake)


def test_checker_rejects_extra_stints(monkeypatch):
    def change(milp, x):
        n = milp.var_blocks["n"]
        x[n.start : n.stop] = np.minimum(x[n.start : n.stop] + 1, milp.col_hi[n.slice])

    _patch(monkeypatch, change)
    with pytest.raises(CheckError):
        solve_rotation(to_instance(year_spec()))


def test_checker_rejects_a_misreported_objective(monkeypatch):
    _patch(monkeypatch, change_obj=+250.0)
    with pytest.raises(CheckError, match=r"objective mismatch|not a valid bound"):
        solve_rotation(to_instance(year_spec()))


def test_time_limited_answer_stays_feasible_with_a_valid_bound(monkeypatch):
    _patch(monkeypatch, status=Status.FEASIBLE)
    sol = solve_rotation(to_instance(year_spec()))
    assert sol.status == Status.FEASIBLE and sol.checked
    assert sol.bound is not None and sol.objective is not None
    assert sol.bound >= sol.objective - 1e-6


def test_backends_agree_on_a_small_case():
    inst = to_instance(year_spec())
    ref = solve_rotation(inst).objective
    for backend in ("cbc", "ortools"):
        sol = solve_rotation(inst, SolveOptions(time_limit_s=60, presolve=False), backend=backend)
        assert sol.status == Status.OPTIMAL, backend
        assert sol.objective == pytest.approx(ref, rel=OBJ_RTOL), backend


# ---------------------------------------------------------------------------------------------
# Aggregation is exact: any group counts that respect the window rows get named doctors
# ---------------------------------------------------------------------------------------------
@settings(max_examples=60, deadline=None)
@given(
    n_doctors=st.integers(1, 4),
    window=st.integers(6, 9),
    data=st.data(),
)
def test_assign_doctors_always_finds_doctors(n_doctors, window, data):
    T, F = 20, 2
    # Random per-doctor schedules respecting the window rule.
    stints = []
    for d in range(n_doctors):
        t = data.draw(st.integers(1, 6))
        while t + 5 <= T:
            if data.draw(st.booleans()):
                L = data.draw(st.integers(6, min(window, T - t + 1)))
                stints.append((d, data.draw(st.integers(0, F - 1)), t, L))
                t += window + data.draw(st.integers(0, 3))
            else:
                t += data.draw(st.integers(1, 4))
    spec = RotationSpec(
        months=T,
        window=window,
        lmin=6,
        lmax=window,
        doctors=[(0, 0, 1, T)] * n_doctors,
        dept=np.asarray([[n_doctors]]),
        kappa=1.0,
        host_types=["village_clinic"] * F,
        capacity=[INF] * F,
        stationed=0,
        travel=np.zeros((1, F)),
        max_travel=60.0,
        need=np.zeros((F, 1, T)),
        value=np.ones(1),
        cover=np.zeros((0, F), dtype=bool),
        weight=np.zeros(0),
        annual=None,
        w_cov=0.0,
        w_travel=0.0,
        w_short=0.0,
        w_fair=0.0,
    )
    inst = to_instance(spec)
    groups = doctor_groups(inst)
    assert groups.count.tolist() == [n_doctors]
    keys = sorted({(0, f, t, L) for _, f, t, L in stints})
    cols = np.asarray(keys, dtype=np.int64).reshape(-1, 4)
    counts = np.asarray([sum(1 for s in stints if (0, *s[1:]) == k) for k in keys], dtype=np.int64)
    out = assign_doctors(inst, groups, cols, counts)
    assert len(out) == len(stints)
    assert check_rotation_plan(inst, out) == []


def test_default_presolve_follows_model_size():
    from benchmarks.staffing import rotation_instance
    from optimizer.staffing.rotation import PRESOLVE_FROM_STINT_OPTIONS, default_presolve

    assert PRESOLVE_FROM_STINT_OPTIONS == 200_000
    assert default_presolve(rotation_instance(months=12)) is False  # 71,760 stint options
    assert default_presolve(rotation_instance(months=24)) is True  # 467,040 stint options


def capped_spec(seed: int, *, multi: bool = False) -> RotationSpec:
    """random_spec with hospital release caps (at once, per year) and weighted need rows."""
    spec = random_spec(seed, multi=multi)
    rng = np.random.default_rng(1000 + seed)
    H = spec.dept.shape[0]
    F, S, T = spec.need.shape
    spec.release_at_once = [float(rng.choice([1.0, 2.0, INF])) for _ in range(H)]
    spec.release_per_year = [float(rng.choice([0.0, 1.0, 2.0, INF])) for _ in range(H)]
    spec.need_weight = np.repeat(rng.choice([1.0, 3.0], (F, S))[:, :, None], T, axis=2)
    spec.w_short = 300.0
    return spec


CAPPED = [(seed, False) for seed in range(10)] + [(seed, True) for seed in range(6)]


@pytest.mark.parametrize(("seed", "multi"), CAPPED)
def test_hospital_release_caps_and_need_weights_match_brute_force(seed, multi):
    spec = capped_spec(seed, multi=multi)
    expected = rotation_brute(spec)
    sol = solve_rotation(to_instance(spec))
    if expected is None:
        assert sol.status == Status.INFEASIBLE, sol.status
        assert sol.diagnosis
        return
    assert sol.status == Status.OPTIMAL, (sol.status, sol.diagnosis)
    assert sol.checked
    assert sol.objective == pytest.approx(expected, rel=OBJ_RTOL, abs=1e-6)


def test_caps_and_weights_change_some_answers():
    """The capped sample is not vacuous: caps bind or weights move the optimum somewhere."""
    changed = 0
    for seed, multi in CAPPED:
        capped = rotation_brute(capped_spec(seed, multi=multi))
        plain = capped_spec(seed, multi=multi)
        plain.release_at_once = plain.release_per_year = plain.need_weight = None
        changed += capped != rotation_brute(plain)
    assert changed >= 3


def test_hospital_release_violations_are_named():
    spec = capped_spec(0)
    spec.release_at_once = [0.0, 0.0]
    spec.release_per_year = [INF, INF]
    inst = to_instance(spec)
    h0 = [d for d in range(inst.n_doctors) if inst.doctor_hospital[d] == inst.doctor_hospital[0]]
    msg = check_rotation_plan(inst, [Stint(h0[0], 0, 1, spec.lmin)])
    assert any("hospital_release" in m and "at most 0 at once" in m for m in msg), msg
    spec.release_at_once = [INF, INF]
    spec.release_per_year = [0.0, 0.0]
    msg = check_rotation_plan(to_instance(spec), [Stint(h0[0], 0, 1, spec.lmin)])
    assert any("at most 0 a year" in m for m in msg), msg


def test_unplaced_doctors_are_listed_with_the_reason():
    spec = random_spec(3)
    spec.doctors = [(0, 0, 1, 8), (0, 1, 1, 8), (1, 0, 1, 3), (1, 1, 1, 8)]
    spec.dept = np.array([[2, 2], [2, 2]])
    spec.kappa = 1.0
    spec.travel = np.array([[30.0, 40.0], [90.0, INF]])  # H1 reaches nothing within 60 min
    spec.need = np.zeros((2, 2, 8))
    spec.need[:, 0, :] = 1.0  # only specialty S0 is needed
    spec.host_types = ["village_clinic", "village_clinic"]
    spec.capacity = [2.0, 2.0]
    spec.annual = None
    spec.w_cov = 0.0
    spec.w_short, spec.w_fair, spec.w_travel = 300.0, 0.0, 0.01
    inst = to_instance(spec)
    sol = solve_rotation(inst)
    assert sol.status == Status.OPTIMAL
    reasons = {r["doctor_id"]: r["reason"] for r in rot_eval.unplaced_doctors(inst, sol.stints)}
    assert reasons == {"d1": "no_need", "d2": "availability", "d3": "travel"}


def test_unplaced_doctors_name_the_cap_that_kept_them_home():
    spec = random_spec(3)
    spec.doctors = [(0, 0, 1, 8), (0, 0, 1, 8), (1, 1, 1, 8), (1, 1, 1, 8)]
    spec.dept = np.array([[2, 0], [0, 4]])
    spec.kappa = 0.5  # H0/S0: floor(0.5 x 2) = 1 away at once
    spec.travel = np.array([[30.0, 40.0], [30.0, 40.0]])
    spec.need = np.ones((2, 2, 8))
    spec.host_types = ["village_clinic", "village_clinic"]
    spec.capacity = [4.0, 4.0]
    spec.annual = None
    spec.w_cov, spec.w_short, spec.w_fair, spec.w_travel = 0.0, 300.0, 0.0, 0.01
    spec.release_at_once = [INF, 1.0]  # H1 lets one doctor go at a time
    inst = to_instance(spec)
    sol = solve_rotation(inst)
    assert sol.status == Status.OPTIMAL
    reasons = sorted(r["reason"] for r in rot_eval.unplaced_doctors(inst, sol.stints))
    assert reasons == ["department_cap", "hospital_cap"]
