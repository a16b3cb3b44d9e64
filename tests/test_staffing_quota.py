"""编制 quota model: brute-force optimum, every norm violated once, infeasibility explained, checker."""

from __future__ import annotations

import dataclasses
import functools

import numpy as np
import pytest

from optimizer.errors import CheckError
from optimizer.solvers import SolveOptions, SolveResult, Status
from optimizer.staffing.quota import (
    QuotaInstance,
    check_quota_plan,
    precheck_quota,
    solve_quota,
)
from optimizer.staffing.quota import solve as quota_mod
from optimizer.staffing.quota.schema import (
    Category,
    CategoryShareNorm,
    CutsNorm,
    GPNorm,
    PerMilleNorm,
    PoolNorm,
    PublicHealthNorm,
    QuotaNorms,
    RemoteNorm,
    ShareNorm,
)

from .brute_staffing import QuotaSpec, quota_brute
from .conftest import OBJ_RTOL

NAN = float("nan")


def to_instance(spec: QuotaSpec) -> QuotaInstance:
    cats = [
        Category(
            name=spec.cat_names[c],
            professional=spec.cat_prof[c],
            public_health=spec.cat_ph[c],
            gp=spec.cat_gp[c],
            facility_types=spec.cat_types[c],
            shortfall_weight=spec.cat_weight[c],
        )
        for c in range(len(spec.cat_names))
    ]
    share_types = list(spec.share_types)
    norms = QuotaNorms(
        per_mille={
            t: PerMilleNorm(min=lo, max=hi, source="test") for t, (lo, hi) in spec.per_mille.items()
        },
        remote=RemoteNorm(bonus_share=spec.bonus, facility_types=spec.bonus_types),
        professional_min_share=ShareNorm(
            value=spec.prof_share or 0.0,
            enabled=spec.prof_share is not None,
            facility_types=share_types,
            scope=spec.share_scope,  # type: ignore[arg-type]
        ),
        public_health_min_share=PublicHealthNorm(
            value=spec.ph_share or 0.0,
            enabled=spec.ph_share is not None,
            basis=spec.ph_basis,  # type: ignore[arg-type]
            facility_types=share_types,
            scope=spec.share_scope,  # type: ignore[arg-type]
        ),
        gp_per_10k=GPNorm(per_10k=spec.gp_per_10k or 0.0, enabled=spec.gp_per_10k is not None),
        shares=[
            CategoryShareNorm(
                name=f"x{k}",
                categories=[spec.cat_names[c] for c in num],
                of=None if den is None else [spec.cat_names[c] for c in den],
                value=share,
                facility_types=types,
            )
            for k, (num, den, share, types) in enumerate(spec.extra_shares)
        ],
        pool=PoolNorm(total=spec.pool, facility_types=spec.pool_types),
        cuts=CutsNorm(allowed=spec.cuts),
    )
    F = len(spec.types)
    return QuotaInstance(
        facility_ids=np.asarray([f"f{k}" for k in range(F)], dtype=object),
        names=np.asarray([f"facility {k}" for k in range(F)], dtype=object),
        types=np.asarray(spec.types, dtype=object),
        population=np.asarray(spec.pop, dtype=float),
        remote=np.asarray(spec.remote, dtype=bool),
        categories=cats,
        current=np.asarray(spec.cur, dtype=np.int64),
        need=np.asarray(spec.need, dtype=float),
        need_total=np.asarray(spec.need_total, dtype=float),
        norms=norms,
        county_population=float(spec.county),
        total_shortfall_weight=spec.total_weight,
    )


def random_spec(seed: int) -> QuotaSpec:
    rng = np.random.default_rng(seed)
    F = int(rng.integers(2, 4))
    types = [str(rng.choice(["thc", "thc", "chc"])) for _ in range(F)]
    pop = [int(rng.integers(1500, 6500)) for _ in range(F)]
    remote = [bool(rng.random() < 0.4) for _ in range(F)]
    names = ["gp", "public_health", "other"]
    cur = [[int(rng.integers(0, 2)) if rng.random() < 0.5 else 0 for _ in names] for _ in range(F)]
    with_cat_need = rng.random() < 0.5
    need = [
        [float(np.round(rng.uniform(0, 4), 1)) if with_cat_need else NAN for _ in names]
        for _ in range(F)
    ]
    need_total = [
        NAN if with_cat_need and rng.random() < 0.5 else float(np.round(p / 1000 * 1.2, 2))
        for p in pop
    ]
    county = sum(pop)
    return QuotaSpec(
        types=types,
        pop=pop,
        remote=remote,
        cat_names=names,
        cat_prof=[True, True, False],
        cat_ph=[False, True, False],
        cat_gp=[True, False, False],
        cat_types=[None, None, None],
        cat_weight=[float(rng.integers(1, 4)), 1.0, 0.5],
        cur=cur,
        need=need,
        need_total=need_total,
        per_mille={"thc": (1.0, 1.5), "chc": (None, 1.0)},
        bonus=0.10,
        prof_share=[None, 0.75, 0.9][int(rng.integers(0, 3))],
        ph_share=[None, 0.25, 1 / 3][int(rng.integers(0, 3))],
        gp_per_10k=[None, 4.0, 6.0][int(rng.integers(0, 3))],
        county=county,
        pool=None if rng.random() < 0.3 else int(county / 1000 * rng.uniform(1.0, 1.4)),
        cuts=bool(rng.random() < 0.3),
        total_weight=float(rng.choice([1.0, 2.0])),
    )


# ---------------------------------------------------------------------------------------------
# Brute force
# ---------------------------------------------------------------------------------------------
@functools.cache
def brute_of_seed(seed: int) -> tuple[float, float] | None:
    return quota_brute(random_spec(seed))


@pytest.mark.parametrize("seed", range(24))
def test_quota_matches_brute_force(seed):
    spec = random_spec(seed)
    expected = brute_of_seed(seed)
    sol = solve_quota(to_instance(spec))
    if expected is None:
        assert sol.status == Status.INFEASIBLE, (sol.status, sol.diagnosis)
        assert sol.diagnosis, "an infeasible case must say why"
        return
    assert sol.status == Status.OPTIMAL, (sol.status, sol.diagnosis)
    assert sol.checked
    assert sol.shortfall == pytest.approx(expected[0], rel=OBJ_RTOL, abs=1e-6)
    assert sol.movement == pytest.approx(expected[1], rel=OBJ_RTOL, abs=1e-6)
    assert sol.gap is not None and sol.gap <= 1e-6
    assert sol.movement_gap is not None and sol.movement_gap <= 1e-6


def test_brute_force_sample_has_both_outcomes():
    """The random sample exercises feasible and infeasible instances (the test can fail)."""
    outcomes = {brute_of_seed(seed) is None for seed in range(24)}
    assert outcomes == {True, False}


# ---------------------------------------------------------------------------------------------
# One hand-checkable instance; each norm violated once
# ---------------------------------------------------------------------------------------------
def base_spec(**over) -> QuotaSpec:
    spec = QuotaSpec(
        types=["thc", "thc", "chc", "village_clinic"],
        pop=[20000, 12000, 30000, 4000],
        remote=[False, True, False, False],
        cat_names=["gp", "public_health", "nursing", "other", "village_doctor"],
        cat_prof=[True, True, True, False, True],
        cat_ph=[False, True, False, False, False],
        cat_gp=[True, False, False, False, False],
        cat_types=[["thc", "chc"]] * 4 + [["village_clinic"]],
        cat_weight=[1.0] * 5,
        cur=[[5, 5, 6, 2, 0], [2, 3, 3, 1, 0], [8, 6, 8, 2, 0], [0, 0, 0, 0, 4]],
        need=[[NAN] * 5 for _ in range(4)],
        need_total=[25.0, 15.0, 30.0, 5.0],
        per_mille={"thc": (1.0, 1.5), "chc": (None, 1.0), "village_clinic": (1.0, 1.5)},
        county=62000,
        pool=80,
    )
    return dataclasses.replace(spec, **over)


def test_hand_instance_optimum_and_compliance():
    spec = base_spec()
    sol = solve_quota(to_instance(spec))
    assert sol.status == Status.OPTIMAL
    # Every total need (25, 15, 30, 5) fits its ceiling (30, 19.8, 30, 6) and the pool (70 ≤ 80),
    # and posts never fall below today's staff: shortfall 0, and the least movement is the growth
    # of the totals, (25 - 18) + (15 - 9) + (30 - 24) + (5 - 4) = 20.
    assert (sol.shortfall, sol.movement) == (0.0, 20.0)
    ev = sol.evaluation
    assert ev is not None and not ev.violations
    assert all(r["met"] for r in ev.compliance)
    norms = {r["norm"] for r in ev.compliance}
    assert {
        "per_mille[thc].min",
        "per_mille[thc].max",
        "per_mille[chc].max",
        "per_mille[village_clinic].min",
        "professional_min_share",
        "public_health_min_share",
        "gp_per_10k",
        "pool",
        "cuts",
    } <= norms


def _plan(inst: QuotaInstance) -> np.ndarray:
    sol = solve_quota(inst)
    assert sol.posts is not None
    return sol.posts.copy()


@pytest.fixture
def solved():
    inst = to_instance(base_spec())
    return inst, _plan(inst)


def _violations(inst, posts):
    return "\n".join(check_quota_plan(inst, posts))


def test_norm_thc_per_mille_min_violation_is_named(solved):
    inst, posts = solved
    posts[0] = [2, 2, 2, 0, 0]  # 6 posts for 20,000 residents < 1‰
    assert "norm per_mille[thc].min at facility f0" in _violations(inst, posts)


def test_norm_thc_per_mille_max_violation_is_named(solved):
    inst, posts = solved
    posts[0] = [12, 8, 11, 0, 0]  # 31 > 1.5‰ × 20,000 = 30
    assert "norm per_mille[thc].max at facility f0" in _violations(inst, posts)


def test_norm_remote_bonus_raises_the_ceiling_only_for_remote(solved):
    inst, posts = solved
    posts[1] = [6, 5, 8, 0, 0]  # 19 posts: > 1.5‰ × 12,000 = 18, ≤ 1.65‰ × 12,000 = 19.8
    text = _violations(inst, posts)
    assert "per_mille[thc].max at facility f1" not in text
    not_remote = dataclasses.replace(inst, remote=np.zeros(4, dtype=bool))
    assert "norm per_mille[thc].max at facility f1" in _violations(not_remote, posts)


def test_norm_remote_by_travel_time_rule(tmp_path):
    from optimizer.errors import ProblemCollector
    from optimizer.staffing.config import parse_staffing_case
    from optimizer.staffing.tables import load_quota_instance

    (tmp_path / "f.csv").write_text("id,type,population,minutes\na,thc,10000,50\nb,thc,10000,20\n")
    case = parse_staffing_case(
        "kind: staffing_quota\nname: t\nfacilities: {file: f.csv, columns: {population: population, "
        "type: type, travel_min: minutes}}\nnorms: {remote: {min_travel_min: 45}}\n",
        base_dir=tmp_path,
    )
    inst = load_quota_instance(case, ProblemCollector())
    assert inst is not None and inst.remote.tolist() == [True, False]


def test_norm_chc_ceiling_violation_is_named(solved):
    inst, posts = solved
    posts[2] = [10, 8, 11, 2, 0]  # 31 > 1‰ × 30,000
    assert "norm per_mille[chc].max at facility f2" in _violations(inst, posts)


def test_norm_village_doctors_per_mille_violation_is_named(solved):
    inst, posts = solved
    posts[3, 4] = 3  # 3 < 1‰ × 4,000
    assert "norm per_mille[village_clinic].min at facility f3" in _violations(inst, posts)


def test_norm_professional_share_violation_is_named(solved):
    inst, posts = solved
    posts[0] = [6, 6, 6, 5, 0]  # 18 of 23 professional = 78%
    assert "norm professional_min_share at facility f0" in _violations(inst, posts)


def test_norm_public_health_share_violation_is_named(solved):
    inst, posts = solved
    posts[0] = [10, 2, 10, 2, 0]  # 2 of 22 professional = 9%
    assert "norm public_health_min_share at facility f0" in _violations(inst, posts)


def test_norm_gp_per_10k_violation_is_named(solved):
    inst, posts = solved
    posts[:, 0] = [5, 2, 8, 0]  # 15 GPs < 4 × 6.2 = 24.8
    assert "norm gp_per_10k" in _violations(inst, posts)


def test_norm_pool_violation_is_named():
    inst = to_instance(base_spec(pool=75))
    posts = _plan(inst)
    posts[0] = [10, 7, 10, 2, 0]
    posts[1] = [6, 5, 7, 1, 0]
    posts[2] = [12, 8, 8, 2, 0]
    text = _violations(inst, posts)
    assert "norm pool" in text and "≤ 75 posts" in text


def test_norm_no_cuts_violation_is_named(solved):
    inst, posts = solved
    posts[2, 3] = 1  # current 'other' staff is 2
    assert "norm cuts" in _violations(inst, posts)
    allowed = dataclasses.replace(
        inst, norms=inst.norms.model_copy(update={"cuts": CutsNorm(allowed=True)})
    )
    assert "norm cuts" not in _violations(allowed, posts)


def test_checker_rejects_fractional_and_foreign_category_posts(solved):
    inst, posts = solved
    bad = posts.astype(float)
    bad[0, 0] += 0.5
    assert "whole" in _violations(inst, bad)
    posts[3, 0] = 1  # a GP post at a village clinic
    assert "does not have" in _violations(inst, posts)


# ---------------------------------------------------------------------------------------------
# Infeasible cases are explained: which norm conflicts with which total, with numbers
# ---------------------------------------------------------------------------------------------
def test_pool_below_sum_of_minimum_posts_is_explained_with_numbers():
    spec = base_spec(
        types=["thc", "thc"],
        pop=[500_000, 312_000],
        remote=[False, False],
        cur=[[0] * 5, [0] * 5],
        need=[[NAN] * 5] * 2,
        need_total=[NAN, NAN],
        county=812_000,
        pool=700,
        gp_per_10k=None,
    )
    sol = solve_quota(to_instance(spec))
    assert sol.status == Status.INFEASIBLE
    text = "\n".join(sol.diagnosis)
    assert "Σ minimum posts 812 exceeds the county pool of 700" in text
    assert "1‰ × 812,000 = 812" in text


def test_current_staff_above_ceiling_without_cuts_is_explained():
    spec = base_spec(cur=[[12, 8, 10, 2, 0], [2, 3, 3, 1, 0], [8, 6, 8, 2, 0], [0, 0, 0, 0, 4]])
    sol = solve_quota(to_instance(spec))
    assert sol.status == Status.INFEASIBLE
    text = "\n".join(sol.diagnosis)
    assert "norm per_mille[thc] vs current staff at facility 0 (f0)" in text
    assert "32 staff in post exceed the ceiling 1.5‰ × 20,000 = 30.00 → 30" in text


def test_professional_share_vs_current_other_staff_is_explained():
    spec = base_spec(cur=[[5, 5, 6, 6, 0], [2, 3, 3, 1, 0], [8, 6, 8, 2, 0], [0, 0, 0, 0, 4]])
    sol = solve_quota(to_instance(spec))
    assert sol.status == Status.INFEASIBLE
    assert "norm professional_min_share (90%) vs current staff at facility 0 (f0)" in "\n".join(
        sol.diagnosis
    )


def test_gp_norm_above_all_ceilings_is_explained():
    spec = base_spec(gp_per_10k=20.0, pool=None)  # 124 GPs; Σ ceilings 30 + 19 + 30 = 79
    sol = solve_quota(to_instance(spec))
    assert sol.status == Status.INFEASIBLE
    text = "\n".join(sol.diagnosis)
    assert "norm gp_per_10k vs per_mille ceilings" in text and "124 GP posts" in text


def test_village_unit_too_small_for_strict_rounding_is_explained():
    spec = base_spec(pop=[20000, 12000, 30000, 1200])  # 1.2-1.8 village doctors
    spec.cur[3][4] = 1
    sol = solve_quota(to_instance(spec))
    assert sol.status == Status.INFEASIBLE
    assert "no whole number of posts fits" in "\n".join(sol.diagnosis)
    inst = to_instance(spec)
    nearest = inst.norms.per_mille["village_clinic"].model_copy(update={"rounding": "nearest"})
    inst2 = dataclasses.replace(
        inst,
        norms=inst.norms.model_copy(
            update={"per_mille": {**inst.norms.per_mille, "village_clinic": nearest}}
        ),
    )
    assert solve_quota(inst2).status == Status.OPTIMAL


def test_conflict_found_only_by_the_solver_gets_an_elastic_diagnosis():
    # GP posts ≥ 25 force public-health posts ≥ 25/3 (25% of professional) at the same facilities,
    # so the pool of 30 cannot hold them; no single-norm precheck sees it.
    spec = base_spec(
        types=["thc"],
        pop=[20000],
        remote=[False],
        cur=[[0] * 5],
        need=[[NAN] * 5],
        need_total=[NAN],
        county=62500,
        pool=30,
        gp_per_10k=4.0,
    )
    inst = to_instance(spec)
    assert precheck_quota(inst) == []
    sol = solve_quota(inst)
    assert sol.status == Status.INFEASIBLE
    text = "\n".join(sol.diagnosis)
    assert "The norms conflict" in text
    assert any(n in text for n in ("norm pool", "norm gp_per_10k", "norm public_health_min_share"))
    assert quota_brute(spec) is None


# ---------------------------------------------------------------------------------------------
# The checker rejects a tampered answer
# ---------------------------------------------------------------------------------------------
def _tamper(monkeypatch, change):
    real = quota_mod.solve

    def fake(milp, options=None, backend="highs"):
        res = real(milp, options, backend)
        if res.x is None:
            return res
        x = res.x.copy()
        change(milp, x)
        return SolveResult(
            res.status, x, res.objective, res.bound, res.runtime_s, res.solver, res.solver_version
        )

    monkeypatch.setattr(quota_mod, "solve", fake)


def test_checker_rejects_a_plan_that_breaks_a_norm(monkeypatch):
    def change(milp, x):
        s = milp.var_blocks["s"]
        x[s.start] += 50  # far above the facility's ceiling

    _tamper(monkeypatch, change)
    with pytest.raises(CheckError, match="per_mille"):
        solve_quota(to_instance(base_spec()))


def test_checker_rejects_a_misreported_objective(monkeypatch):
    real = quota_mod.solve

    def fake(milp, options=None, backend="highs"):
        res = real(milp, options, backend)
        return SolveResult(
            res.status,
            res.x,
            (res.objective or 0.0) - 3.0,
            (res.bound or 0.0) - 3.0,
            res.runtime_s,
            res.solver,
            res.solver_version,
        )

    monkeypatch.setattr(quota_mod, "solve", fake)
    with pytest.raises(CheckError, match="objective mismatch"):
        solve_quota(to_instance(base_spec()))


def test_time_limited_stage_is_never_reported_optimal(monkeypatch):
    real = quota_mod.solve

    def fake(milp, options=None, backend="highs"):
        res = real(milp, options, backend)
        return SolveResult(
            Status.FEASIBLE,
            res.x,
            res.objective,
            res.bound,
            res.runtime_s,
            res.solver,
            res.solver_version,
            "time limit",
        )

    monkeypatch.setattr(quota_mod, "solve", fake)
    sol = solve_quota(to_instance(base_spec()))
    assert sol.status == Status.FEASIBLE and sol.checked
    assert sol.bound is not None and sol.bound <= sol.shortfall + 1e-9  # type: ignore[operator]


def test_solve_options_pass_through():
    sol = solve_quota(to_instance(base_spec()), SolveOptions(time_limit_s=30, mip_rel_gap=0.0))
    assert sol.status == Status.OPTIMAL and sol.solver == "highs"


# ---------------------------------------------------------------------------------------------
# County-scope composition norms
# ---------------------------------------------------------------------------------------------
def county_spec(seed: int) -> QuotaSpec:
    spec = random_spec(seed)
    spec.share_scope = "county"
    spec.prof_share = [0.75, 0.9][seed % 2]
    spec.ph_share = [0.25, 1 / 3][(seed // 2) % 2]
    return spec


@pytest.mark.parametrize("seed", range(16))
def test_county_scope_shares_match_brute_force(seed):
    spec = county_spec(seed)
    expected = quota_brute(spec)
    sol = solve_quota(to_instance(spec))
    if expected is None:
        assert sol.status == Status.INFEASIBLE, (sol.status, sol.diagnosis)
        assert sol.diagnosis
        return
    assert sol.status == Status.OPTIMAL, (sol.status, sol.diagnosis)
    assert sol.shortfall == pytest.approx(expected[0], rel=OBJ_RTOL, abs=1e-6)
    assert sol.movement == pytest.approx(expected[1], rel=OBJ_RTOL, abs=1e-6)
    rows = [r for r in sol.evaluation.compliance if r["norm"].endswith("_min_share")]
    assert rows and all(r["scope"] == "county" for r in rows)


def test_county_scope_differs_from_facility_scope_somewhere():
    """The county sum lets one facility fall below the share where another exceeds it."""
    differ = 0
    for seed in range(16):
        spec = county_spec(seed)
        county = quota_brute(spec)
        spec.share_scope = "facility"
        differ += county != quota_brute(spec)
    assert differ >= 2


# ---------------------------------------------------------------------------------------------
# Composition norms between any categories (e.g. >= 60% of village doctors licensed)
# ---------------------------------------------------------------------------------------------
def licensed_spec(seed: int) -> QuotaSpec:
    """Three categories at village clinics: licensed doctors, unlicensed doctors, other."""
    spec = random_spec(seed)
    spec.types = ["village_clinic" if k % 2 else "thc" for k in range(len(spec.types))]
    spec.per_mille = {"thc": (1.0, 1.5), "village_clinic": (1.0, 1.5)}
    spec.cat_names = ["licensed", "unlicensed", "other"]
    spec.cat_prof, spec.cat_ph, spec.cat_gp = [True, True, False], [False] * 3, [True, False, False]
    spec.prof_share = spec.ph_share = None
    spec.extra_shares = [([0], [0, 1], 0.6, ["village_clinic"]), ([0, 1], None, 0.5, ["thc"])]
    return spec


@pytest.mark.parametrize("seed", range(12))
def test_category_share_norms_match_brute_force(seed):
    spec = licensed_spec(seed)
    expected = quota_brute(spec)
    sol = solve_quota(to_instance(spec))
    if expected is None:
        assert sol.status == Status.INFEASIBLE, (sol.status, sol.diagnosis)
        assert sol.diagnosis
        return
    assert sol.status == Status.OPTIMAL, (sol.status, sol.diagnosis)
    assert sol.shortfall == pytest.approx(expected[0], rel=OBJ_RTOL, abs=1e-6)
    assert sol.movement == pytest.approx(expected[1], rel=OBJ_RTOL, abs=1e-6)
    rows = [r for r in sol.evaluation.compliance if r["norm"].startswith("shares[")]
    assert rows and all(r["met"] for r in rows)


def test_category_share_norms_change_some_answers():
    differ = 0
    for seed in range(12):
        spec = licensed_spec(seed)
        with_norm = quota_brute(spec)
        spec.extra_shares = []
        differ += with_norm != quota_brute(spec)
    assert differ >= 2
