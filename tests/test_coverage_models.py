"""Every covering model against brute-force enumeration on tiny random instances."""

from __future__ import annotations

import numpy as np
import pytest

from optimizer.models.coverage.solve import solve_coverage
from optimizer.schema.coverage import (
    CoverageModelConfig,
    LargeZoneCap,
    ResidentsPerSite,
    Standard,
    TypeShare,
    ZoneRule,
)
from optimizer.solvers import SolveOptions, Status

from .brute import brute_force, brute_force_lexicographic
from .conftest import OBJ_RTOL, random_instance

S15 = Standard(name="t15", minutes=9)
S20 = Standard(name="t20", minutes=14)

MODELS = {
    "lscp": (CoverageModelConfig(kind="lscp", standards=[S20]), {"unreachable_share": 0.0}),
    "lscp_min_cost": (
        CoverageModelConfig(kind="lscp", objective="min_cost", standards=[S20]),
        {"unreachable_share": 0.0},
    ),
    "mclp_p": (CoverageModelConfig(kind="mclp", standards=[S15], max_new_sites=3), {}),
    "mclp_budget": (CoverageModelConfig(kind="mclp", standards=[S15], budget=7), {}),
    "mclp_existing_keep": (
        CoverageModelConfig(kind="mclp", standards=[S15], max_new_sites=2),
        {"n_existing": 2},
    ),
    "mclp_relocate": (
        CoverageModelConfig(
            kind="mclp", standards=[S15], budget=4, existing="may_close", keep_existing_count=True
        ),
        {"n_existing": 3, "with_closure": True},
    ),
    "mclp_may_close_free": (
        CoverageModelConfig(kind="mclp", standards=[S15], max_new_sites=2, existing="may_close"),
        {"n_existing": 3},
    ),
    "psclp": (
        CoverageModelConfig(
            kind="psclp", standards=[Standard(name="t15", minutes=9, min_share=0.7)]
        ),
        {},
    ),
    "two_standards_mandatory": (
        CoverageModelConfig(
            kind="mclp",
            standards=[S15, Standard(name="t20", minutes=16, weight=0, min_share=1.0)],
            max_new_sites=4,
        ),
        {"unreachable_share": 0.0},
    ),
    "two_standards_share": (
        CoverageModelConfig(
            kind="mclp",
            standards=[S15, Standard(name="t20", minutes=14, weight=0, min_share=0.85)],
            max_new_sites=3,
        ),
        {},
    ),
    "weighted_step": (
        CoverageModelConfig(
            kind="mclp",
            standards=[
                Standard(name="t15", minutes=9, weight=0.5),
                Standard(name="t20", minutes=14, weight=0.5),
            ],
            budget=6,
        ),
        {},
    ),
    "per_class": (
        CoverageModelConfig(
            kind="mclp",
            standards=[Standard(name="ems", minutes={"urban": 6, "rural": 12})],
            max_new_sites=3,
        ),
        {"classes": ("urban", "rural")},
    ),
    "per_class_partial": (
        CoverageModelConfig(
            kind="mclp", standards=[Standard(name="ems", minutes={"urban": 6})], max_new_sites=2
        ),
        {"classes": ("urban", "rural", "rural")},
    ),
    "zone_min_sites": (
        CoverageModelConfig(
            kind="mclp", standards=[S15], max_new_sites=4, zone_rules=[ZoneRule(min_sites=1)]
        ),
        {"n_sites": 9},
    ),
    "zone_min_sites_types": (
        CoverageModelConfig(
            kind="mclp",
            standards=[
                Standard(name="vc", minutes=9, facility_types=["clinic"]),
                Standard(name="ems", minutes=12, facility_types=["ems"]),
            ],
            max_new_sites={"clinic": 2, "ems": 3},
            zone_rules=[ZoneRule(min_sites=1, facility_types=["ems"])],
        ),
        {"types": ("clinic", "ems"), "n_sites": 10},
    ),
    "zone_aed_density": (
        CoverageModelConfig(
            kind="mclp",
            standards=[
                Standard(name="aed", minutes=14, facility_types=["aed"], round_trip=True),
                Standard(name="vc", minutes=9, facility_types=["clinic"]),
            ],
            max_new_sites={"clinic": 2, "aed": 4},
            zone_rules=[ZoneRule(per_10k_residents=40, facility_types=["aed"])],
        ),
        {"types": ("clinic", "aed"), "n_sites": 14, "n_zones": 3},
    ),
    "zone_chc_per_street": (
        CoverageModelConfig(
            kind="mclp",
            standards=[S15],
            max_new_sites=5,
            zone_rules=[
                ZoneRule(
                    min_sites=1,
                    max_sites=1,
                    large_zones=LargeZoneCap(over_residents=230, max_sites=2),
                )
            ],
        ),
        {"n_sites": 9},
    ),
    "zone_chc_band": (
        CoverageModelConfig(
            kind="mclp",
            standards=[S15],
            max_new_sites=6,
            zone_rules=[ZoneRule(residents_per_site=ResidentsPerSite(min=100, max=200))],
        ),
        {"n_sites": 10},
    ),
    "zone_chc_band_and_cap": (
        CoverageModelConfig(
            kind="mclp",
            standards=[S15],
            max_new_sites=5,
            zone_rules=[
                ZoneRule(
                    min_sites=1,
                    max_sites=3,
                    residents_per_site=ResidentsPerSite(min=120, max=250),
                )
            ],
        ),
        {"n_sites": 10},
    ),
    "standardised_share_county": (
        CoverageModelConfig(
            kind="mclp",
            standards=[Standard(name="vc", minutes=9)],
            max_new_sites=3,
            type_shares=[
                TypeShare(
                    name="std", facility_types=["vc_std"], of=["vc_std", "vc_basic"], min_share=0.75
                )
            ],
        ),
        {"types": ("vc_basic", "vc_std"), "n_sites": 9, "n_existing": 2},
    ),
    "standardised_share_zone": (
        CoverageModelConfig(
            kind="mclp",
            standards=[Standard(name="vc", minutes=9)],
            max_new_sites=4,
            type_shares=[
                TypeShare(
                    name="std",
                    facility_types=["vc_std"],
                    of=["vc_std", "vc_basic"],
                    min_share=0.5,
                    scope="zone",
                )
            ],
        ),
        {"types": ("vc_basic", "vc_std"), "n_sites": 9},
    ),
    "zone_min_share": (
        CoverageModelConfig(
            kind="mclp",
            standards=[Standard(name="t15", minutes=10, zone_min_share=0.5)],
            max_new_sites=4,
        ),
        {},
    ),
    "min_cost_zone_share": (
        CoverageModelConfig(
            kind="coverage",
            objective="min_cost",
            standards=[
                Standard(name="t15", minutes=10, weight=0, zone_min_share={"z0": 0.8, "z1": 0.6})
            ],
        ),
        {},
    ),
    "min_new_sites_aed": (
        CoverageModelConfig(
            kind="mclp",
            standards=[
                Standard(name="aed", minutes=6, facility_types=["aed"], round_trip=True),
                Standard(name="vc", minutes=9, facility_types=["clinic"]),
            ],
            max_new_sites={"clinic": 2, "aed": 4},
            min_new_sites={"aed": 3},
        ),
        {"types": ("clinic", "aed"), "n_sites": 10},
    ),
    "budget_by_type_hosted": (
        CoverageModelConfig(
            kind="mclp",
            standards=[
                Standard(name="aed", minutes=7, facility_types=["aed"], round_trip=True, weight=2),
                Standard(name="vc", minutes=9, facility_types=["clinic"]),
            ],
            budget=12,
            budget_by_type={"aed": 5},
        ),
        {"types": ("clinic", "aed"), "n_sites": 10, "hosted": 3},
    ),
    "min_sites_zone_rule": (
        CoverageModelConfig(
            kind="coverage",
            objective="min_sites",
            standards=[S15],
            zone_rules=[ZoneRule(min_sites=2, zones=["z0", "z2"])],
        ),
        {"n_sites": 9},
    ),
}


def _check(problem, dense, backend="highs", **kw):
    expected = brute_force(dense)
    sol = solve_coverage(problem, backend=backend, **kw)
    if expected is None:
        assert sol.status == Status.INFEASIBLE, sol.status
        assert sol.diagnosis, "an infeasible case must say why"
        return sol
    assert sol.status == Status.OPTIMAL, (sol.status, sol.diagnosis)
    assert sol.objective == pytest.approx(expected, rel=OBJ_RTOL, abs=1e-6)
    assert sol.checked
    assert sol.bound == pytest.approx(expected, rel=1e-6, abs=1e-6)
    return sol


@pytest.mark.parametrize("name", sorted(MODELS))
@pytest.mark.parametrize("seed", range(6))
def test_matches_brute_force(name, seed):
    model, opts = MODELS[name]
    problem, dense = random_instance(seed, model, **opts)
    _check(problem, dense)


@pytest.mark.parametrize("backend", ["cbc", "ortools", "scip"])
@pytest.mark.parametrize(
    "name", ["mclp_budget", "mclp_relocate", "two_standards_mandatory", "zone_min_share", "psclp"]
)
def test_other_backends_match_brute_force(name, backend):
    model, opts = MODELS[name]
    problem, dense = random_instance(11, model, **opts)
    _check(problem, dense, backend=backend)


@pytest.mark.parametrize("name", sorted(MODELS))
def test_presolve_off_gives_same_optimum(name):
    model, opts = MODELS[name]
    problem, _dense = random_instance(3, model, **opts)
    a = solve_coverage(problem)
    b = solve_coverage(problem, aggregate=False, drop_dominated=False)
    assert a.status == b.status
    if a.status == Status.OPTIMAL:
        assert a.objective == pytest.approx(b.objective, rel=OBJ_RTOL)


def test_lscp_unreachable_demand_named_before_solving():
    model = CoverageModelConfig(kind="lscp", standards=[Standard(name="t20", minutes=5)])
    problem, _ = random_instance(0, model, unreachable_share=0.0)
    sol = solve_coverage(problem)
    assert sol.status == Status.INFEASIBLE
    assert sol.model_size == {}, "must be found before building a model"
    text = " ".join(sol.diagnosis)
    reach = (problem.travel_times["drive"].within(5.0).sum(axis=1) == 0).A.ravel()
    for did in problem.demand.ids[reach][:5]:
        assert did in text


def test_infeasible_after_solving_is_explained():
    # Everyone must be within 14 min but only one new site may open: the elastic model explains.
    model = CoverageModelConfig(
        kind="mclp",
        standards=[S15, Standard(name="t20", minutes=14, weight=0, min_share=1.0)],
        max_new_sites=1,
    )
    problem, dense = random_instance(2, model, unreachable_share=0.0, n_demand=20)
    assert brute_force(dense) is None
    sol = solve_coverage(problem)
    assert sol.status == Status.INFEASIBLE
    text = "\n".join(sol.diagnosis)
    assert "max_new_sites" in text or "t20" in text


def test_time_limit_returns_incumbent_with_bound():
    # A random geometric MCLP that HiGHS cannot prove optimal within 30 s on 2 cores.
    model = CoverageModelConfig(
        kind="mclp", standards=[Standard(name="t", minutes=2.5)], max_new_sites=40
    )
    problem, _ = random_instance(5, model, n_demand=4000, n_sites=400, unreachable_share=0.0)
    sol = solve_coverage(problem, options=SolveOptions(time_limit_s=0.3))
    assert sol.status in (Status.FEASIBLE, Status.NO_SOLUTION)
    if sol.status == Status.FEASIBLE:
        assert sol.checked
        assert sol.bound is not None and sol.bound >= sol.objective - 1e-6
        assert sol.gap is not None and sol.gap > 0
        assert int(sol.evaluation.new_mask.sum()) <= 40
    else:
        assert sol.objective is None and sol.open_mask is None


@pytest.mark.parametrize("secondary", ["min_cost", "min_sites"])
@pytest.mark.parametrize("seed", range(5))
def test_lexicographic_second_stage_matches_brute_force(secondary, seed):
    model = CoverageModelConfig(
        kind="mclp",
        standards=[S15, Standard(name="t20", minutes=16, weight=0, min_share=0.8)],
        max_new_sites=5,
        secondary_objective=secondary,
    )
    problem, dense = random_instance(seed, model, n_sites=9, n_existing=1)
    expected = brute_force_lexicographic(dense, secondary)
    sol = solve_coverage(problem)
    if expected is None:
        assert sol.status == Status.INFEASIBLE
        return
    assert sol.status == Status.OPTIMAL
    assert sol.objective == pytest.approx(expected[0], rel=OBJ_RTOL)
    assert sol.secondary["value"] == pytest.approx(expected[1], rel=OBJ_RTOL, abs=1e-9)
    assert sol.secondary["value"] <= sol.secondary["first_stage_value"] + 1e-9


def test_aed_density_per_10k_residents_moves_the_plan():
    """>= 0.5 AED per 10,000 residents per town: town z0 (30,000 residents) needs 2, town z1
    (5,000 residents; its venues' footfall is not residents) needs 1. Without the rule the
    three AEDs go where the footfall is."""
    from geodata.arrays import Demand, Sites, TravelTimes
    from optimizer.models.coverage.evaluate import check_plan, evaluate_plan
    from optimizer.models.coverage.problem import CoverageProblem

    inf = np.inf
    times = np.array(
        [  # s0 s1 s2 s3 (s0, s1 in z0; s2, s3 in z1)
            [2, inf, inf, inf],  # a: 20,000 residents, z0
            [inf, 2, inf, inf],  # b: 10,000 residents, z0
            [inf, inf, 2, 2],  # c: 5,000 residents, z1
            [inf, inf, 2, inf],  # v1: venue, footfall 50,000, z1
            [inf, inf, inf, 2],  # v2: venue, footfall 40,000, z1
        ]
    )
    demand = Demand(
        ids=["a", "b", "c", "v1", "v2"],
        weight=np.array([20000, 10000, 5000, 50000, 40000], float),
        zone=["z0", "z0", "z1", "z1", "z1"],
        footfall=np.array([False, False, False, True, True]),
    )
    sites = Sites(
        ids=["s0", "s1", "s2", "s3"],
        facility_type=["aed"] * 4,
        cost=np.ones(4),
        existing=np.zeros(4, bool),
        zone=["z0", "z0", "z1", "z1"],
    )
    tables = {"walk": TravelTimes.from_dense(times, name="walk")}

    def run(rules):
        model = CoverageModelConfig(
            kind="mclp",
            standards=[Standard(name="aed", minutes=4)],
            max_new_sites=3,
            zone_rules=rules,
        )
        return solve_coverage(CoverageProblem(demand, sites, tables, model))

    free = run([])
    assert free.status == Status.OPTIMAL and free.objective == 115000
    rule = ZoneRule(per_10k_residents=0.5, facility_types=["aed"])
    ruled = run([rule])
    assert ruled.status == Status.OPTIMAL and ruled.objective == 85000
    assert ruled.problem.rule_need(rule, "z0") == 2 and ruled.problem.rule_need(rule, "z1") == 1
    # the free plan breaks the rule, and the independent checker says where
    prob = ruled.problem
    ev = evaluate_plan(prob, free.coverages, free.evaluation.open_mask)
    assert "zone_rules[0]: zone z0 has 1 open sites, needs 2" in check_plan(prob, ev)
