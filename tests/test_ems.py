"""120 stations and fleet: MEXCLP, BACOP, coverage and min-cost against brute-force enumeration
of every station/ambulance/negative-pressure allocation; every fleet norm violated once."""

from __future__ import annotations

import itertools
import math
from dataclasses import replace

import numpy as np
import pytest

from geodata.arrays import Demand, Sites, TravelTimes
from optimizer.models.ems.evaluate import EmsPlan, check_ems, evaluate_ems
from optimizer.models.ems.problem import EmsProblem, coverage_matrix
from optimizer.models.ems.solve import solve_ems
from optimizer.schema.ems import EmsModelConfig, FleetConfig, StationOrRadius
from optimizer.solvers import Status

from .conftest import OBJ_RTOL


def instance(seed, model: EmsModelConfig, *, n_dem=10, n_sta=4, cap=2, existing=0, zones=2):
    rng = np.random.default_rng(seed)
    pts = rng.random((n_dem, 2)) * 10
    sp = rng.random((n_sta, 2)) * 10
    times = np.linalg.norm(pts[:, None] - sp[None], axis=2) * 1.5 + 1.0
    dist = np.linalg.norm(pts[:, None] - sp[None], axis=2) * 1000.0
    demand = Demand(
        ids=[f"d{i}" for i in range(n_dem)],
        weight=rng.integers(10, 100, n_dem).astype(float),
        zone=[f"z{i % zones}" for i in range(n_dem)],
        demand_class=["urban" if i % 3 == 0 else "rural" for i in range(n_dem)],
    )
    ex = np.zeros(n_sta, dtype=bool)
    ex[:existing] = True
    sites = Sites(
        ids=[f"s{j}" for j in range(n_sta)],
        facility_type=["ems"] * n_sta,
        cost=rng.integers(1, 4, n_sta).astype(float) * 10,
        existing=ex,
        zone=[f"z{j % zones}" for j in range(n_sta)],
        capacity=np.full(n_sta, cap, dtype=float),
    )
    tables = {
        "drive": TravelTimes.from_dense(times, name="drive"),
        "km": TravelTimes.from_dense(dist, name="km", unit="m"),
    }
    return EmsProblem(demand, sites, tables, model), times, dist


def brute(problem: EmsProblem, times, dist):
    """Best objective over every plan (None if none is feasible)."""
    m = problem.model
    d = problem.demand
    budget_min = np.where(np.asarray(d.demand_class) == "urban", 0, 0) + 0.0
    resp = m.response_min
    travel = np.array(
        [(resp[c] if isinstance(resp, dict) else resp) - m.dispatch_min for c in d.demand_class]
    )
    reach = times <= travel[:, None]
    if m.radius_m is not None:
        rad = np.array(
            [
                (m.radius_m[c] if isinstance(m.radius_m, dict) else m.radius_m)
                for c in d.demand_class
            ]
        )
        reach &= dist <= rad[:, None]
    del budget_min
    w = d.weight
    q = m.busy_fraction or 0.0
    cap = problem.capacity()
    ex = problem.sites.existing
    options = []
    for j in range(len(cap)):
        opts = [] if ex[j] else [(0, 0, 0)]
        for x in range(1, int(cap[j]) + 1):
            for n in range(0, x + 1):
                opts.append((1, x, n))
        options.append(opts)
    f = m.fleet
    need = 0 if f.per_population is None else math.ceil(w.sum() / f.per_population - 1e-9)
    best = None
    for combo in itertools.product(*options):
        y = np.array([c[0] for c in combo], dtype=bool)
        x = np.array([c[1] for c in combo], dtype=float)
        n = np.array([c[2] for c in combo], dtype=float)
        if x.sum() < need or n.sum() < f.negative_pressure_share * x.sum() - 1e-9:
            continue
        if f.fleet_size is not None and x.sum() != f.fleet_size:
            continue
        if f.max_vehicles is not None and x.sum() > f.max_vehicles:
            continue
        if m.max_new_stations is not None and (y & ~ex).sum() > m.max_new_stations:
            continue
        cost = (
            problem.sites.cost[y & ~ex].sum()
            + f.vehicle_cost * x.sum()
            + f.negative_pressure_extra_cost * n.sum()
        )
        cost -= f.vehicle_cost * ex.sum()  # existing stations come with one (paid) ambulance
        if m.budget is not None and cost > m.budget + 1e-9:
            continue
        if m.stations_per_zone:
            zs = np.asarray(problem.sites.zone)
            if any(y[zs == z].sum() < m.stations_per_zone for z in set(zs)):
                continue
        if m.station_or_radius is not None:  # a station inside, or all residents within R
            zs, zd = np.asarray(problem.sites.zone), np.asarray(d.zone)
            R = m.station_or_radius.radius_m
            ok = all(
                (y & (zs == z)).any()
                or all((dist[i, y] <= R).any() for i in np.flatnonzero((zd == z) & (w > 0)))
                for z in set(zd)
            )
            if not ok:
                continue
        k = reach.astype(float) @ x
        covered = k >= 1
        if m.min_share is not None:
            if m.min_share >= 1 and not covered.all():
                continue
            if w[covered].sum() < m.min_share * w.sum() - 1e-9:
                continue
        if m.objective == "mexclp":
            val = float((w * (1 - q**k)).sum())
        elif m.objective == "bacop" and m.min_share is not None and m.min_share >= 1:
            val = float(w[k >= 2].sum())  # BACOP-1: all covered once; residents covered twice
        elif m.objective == "bacop":
            val = float(
                m.backup_weight * w[covered].sum() + (1 - m.backup_weight) * w[k >= 2].sum()
            )
        elif m.objective == "max_coverage":
            val = float(w[covered].sum())
        else:
            val = -float(cost)
        if best is None or val > best + 1e-9:
            best = val
    if best is not None and m.objective == "min_cost":
        best = -best
    return best


BASE = {
    "kind": "ems",
    "response_min": {"urban": 8, "rural": 12},
    "dispatch_min": 2,
    "time_matrix": "drive",
}

MODELS = {
    "mexclp": EmsModelConfig(
        **BASE,
        objective="mexclp",
        busy_fraction=0.3,
        min_share=None,
        fleet=FleetConfig(per_population=200, max_vehicles=4, max_per_station=2),
    ),
    "mexclp_radius_np": EmsModelConfig(
        **BASE,
        objective="mexclp",
        busy_fraction=0.4,
        min_share=None,
        radius_m={"urban": 4000, "rural": 9000},
        distance_matrix="km",
        fleet=FleetConfig(per_population=150, fleet_size=4, negative_pressure_share=0.25),
    ),
    "bacop": EmsModelConfig(
        **BASE,
        objective="bacop",
        busy_fraction=0.2,
        min_share=None,
        backup_weight=0.6,
        fleet=FleetConfig(per_population=None, max_vehicles=3),
    ),
    "coverage_budget": EmsModelConfig(
        **BASE,
        objective="max_coverage",
        min_share=None,
        budget=60,
        fleet=FleetConfig(per_population=300, vehicle_cost=5, negative_pressure_share=0.2),
    ),
    "min_cost_all": EmsModelConfig(
        **BASE,
        objective="min_cost",
        min_share=1.0,
        fleet=FleetConfig(per_population=200, vehicle_cost=4, negative_pressure_extra_cost=3),
    ),
    "min_cost_zones_share": EmsModelConfig(
        **BASE,
        objective="min_cost",
        min_share=0.8,
        stations_per_zone=1,
        fleet=FleetConfig(per_population=None, vehicle_cost=2),
    ),
}


@pytest.mark.parametrize("name", sorted(MODELS))
@pytest.mark.parametrize("seed", range(4))
def test_ems_matches_brute_force(name, seed):
    model = MODELS[name]
    problem, times, dist = instance(seed, model)
    expected = brute(problem, times, dist)
    sol = solve_ems(problem)
    if expected is None:
        assert sol.status == Status.INFEASIBLE and sol.diagnosis
        return
    assert sol.status == Status.OPTIMAL, sol.diagnosis
    assert sol.objective == pytest.approx(expected, rel=OBJ_RTOL, abs=1e-6)
    assert sol.checked


@pytest.mark.parametrize("theta", [0.0, 0.3, 0.5, 0.7, 1.0])
@pytest.mark.parametrize("min_share", [None, 1.0])
@pytest.mark.parametrize("seed", [1, 5, 6])
def test_bacop_every_backup_weight_matches_brute_force(theta, min_share, seed):
    """Hogan & ReVelle's BACOP-2 for every theta (u1 = u2 = 1/2 must not score), BACOP-1 when
    everyone must be covered (seeds where that is feasible); no busy fraction needed."""
    model = EmsModelConfig(
        **{**BASE, "response_min": {"urban": 11, "rural": 13}},
        objective="bacop",
        min_share=min_share,
        backup_weight=theta,
        fleet=FleetConfig(per_population=None, max_vehicles=3, negative_pressure_share=0.0),
    )
    problem, times, dist = instance(seed, model, n_dem=12, cap=2)
    expected = brute(problem, times, dist)
    assert expected is not None
    sol = solve_ems(problem)
    assert sol.status == Status.OPTIMAL, sol.diagnosis
    assert sol.objective == pytest.approx(expected, rel=OBJ_RTOL, abs=1e-6)
    w, k = problem.demand.weight, sol.evaluation.covering
    twice = float(w[k >= 2].sum())
    if min_share == 1.0:
        assert sol.objective == pytest.approx(twice)  # BACOP-1 reports the backup coverage


@pytest.mark.parametrize("seed", range(3))
def test_existing_stations_kept_and_brute_force(seed):
    model = EmsModelConfig(
        **BASE,
        objective="mexclp",
        busy_fraction=0.3,
        min_share=None,
        fleet=FleetConfig(per_population=None, max_vehicles=5),
    )
    problem, times, dist = instance(seed, model, existing=2)
    sol = solve_ems(problem)
    assert sol.status == Status.OPTIMAL
    assert sol.evaluation.plan.open[:2].all()
    assert sol.objective == pytest.approx(brute(problem, times, dist), rel=OBJ_RTOL)


def test_mexclp_value_is_one_minus_q_power():
    model = MODELS["mexclp"]
    problem, _, _ = instance(1, model)
    sol = solve_ems(problem)
    ev = sol.evaluation
    w = problem.demand.weight
    assert sol.objective == pytest.approx(float((w * (1 - 0.3**ev.covering)).sum()), rel=1e-9)


def _plan(problem, open_, veh, npv):
    return EmsPlan(np.asarray(open_, bool), np.asarray(veh, float), np.asarray(npv, float))


@pytest.mark.parametrize(
    ("fleet", "plan", "message"),
    [
        (
            FleetConfig(per_population=100),
            ([1, 0, 0, 0], [1, 0, 0, 0], [1, 0, 0, 0]),
            "below the norm",
        ),
        (
            FleetConfig(per_population=None, negative_pressure_share=0.5),
            ([1, 1, 0, 0], [2, 2, 0, 0], [1, 0, 0, 0]),
            "negative-pressure 1 below 50%",
        ),
        (
            FleetConfig(per_population=None, fleet_size=5),
            ([1, 0, 0, 0], [2, 0, 0, 0], [0, 0, 0, 0]),
            "fleet_size",
        ),
        (
            FleetConfig(per_population=None, max_per_station=2),
            ([1, 0, 0, 0], [3, 0, 0, 0], [0, 0, 0, 0]),
            "capacity",
        ),
        (
            FleetConfig(per_population=None),
            ([1, 0, 0, 0], [0, 0, 0, 0], [0, 0, 0, 0]),
            "no ambulance",
        ),
        (
            FleetConfig(per_population=None, max_vehicles=2),
            ([1, 1, 0, 0], [2, 1, 0, 0], [0, 0, 0, 0]),
            "max_vehicles",
        ),
    ],
)
def test_each_fleet_norm_violation_is_named(fleet, plan, message):
    model = EmsModelConfig(**BASE, objective="max_coverage", min_share=None, fleet=fleet)
    problem, _, _ = instance(0, model)
    cov, applies = coverage_matrix(problem)
    ev = evaluate_ems(problem, cov, applies, _plan(problem, *plan))
    assert any(message in v for v in check_ems(problem, ev)), check_ems(problem, ev)


def test_response_and_coverage_norm_violations_are_named():
    model = EmsModelConfig(
        **BASE,
        objective="max_coverage",
        min_share=1.0,
        stations_per_zone=1,
        budget=5,
        fleet=FleetConfig(per_population=None),
    )
    problem, _, _ = instance(0, model)
    cov, applies = coverage_matrix(problem)
    ev = evaluate_ems(
        problem, cov, applies, _plan(problem, [1, 0, 0, 0], [1, 0, 0, 0], [0, 0, 0, 0])
    )
    text = "\n".join(check_ems(problem, ev))
    assert "outside the standard" in text
    assert "zone z1: 0 stations" in text
    assert "budget" in text


def test_infeasible_fleet_norm_is_explained():
    model = EmsModelConfig(
        **BASE,
        objective="min_cost",
        min_share=1.0,
        fleet=FleetConfig(per_population=10, max_per_station=1),
    )
    problem, _, _ = instance(0, model)
    sol = solve_ems(problem)
    assert sol.status == Status.INFEASIBLE
    assert "fleet norm needs" in " ".join(sol.diagnosis)


def test_infeasible_budget_is_explained_by_elastic_model():
    model = EmsModelConfig(
        **BASE,
        objective="min_cost",
        min_share=0.5,
        budget=1,
        fleet=FleetConfig(per_population=None, vehicle_cost=10),
    )
    problem, _, _ = instance(2, model)
    sol = solve_ems(problem)
    assert sol.status == Status.INFEASIBLE
    text = " ".join(sol.diagnosis)
    assert "budget" in text or "residents short of min_share 50%" in text


@pytest.mark.parametrize("seed", range(3))
def test_capacity_zero_means_no_ambulance(seed):
    """A station candidate with capacity 0 gets none (an empty cell: max_per_station)."""
    model = MODELS["mexclp"]
    problem, times, dist = instance(seed, model)
    cap = np.array([0.0, 2.0, np.nan, 0.0])
    problem = EmsProblem(
        problem.demand,
        replace(problem.sites, capacity=cap),
        problem.travel_times,
        model,
    )
    assert problem.capacity().tolist() == [0.0, 2.0, 2.0, 0.0]
    sol = solve_ems(problem)
    assert sol.status == Status.OPTIMAL
    assert sol.evaluation.plan.vehicles[[0, 3]].sum() == 0
    assert sol.objective == pytest.approx(brute(problem, times, dist), rel=OBJ_RTOL)


def test_existing_station_over_capacity_is_named():
    model = MODELS["mexclp"]
    problem, _, _ = instance(0, model, existing=1)
    problem = EmsProblem(
        problem.demand,
        replace(problem.sites, capacity=np.array([0.0, 2.0, 2.0, 2.0])),
        problem.travel_times,
        model,
    )
    sol = solve_ems(problem)
    assert sol.status == Status.INFEASIBLE
    assert any("s0 (1 > 0)" in d for d in sol.diagnosis)


def _radius_rule_case(seed, radius):
    model = EmsModelConfig(
        **BASE,
        objective="max_coverage",
        min_share=None,
        distance_matrix="km",
        station_or_radius=StationOrRadius(radius_m=radius),
        fleet=FleetConfig(per_population=None, max_vehicles=2, negative_pressure_share=0.0),
    )
    return instance(seed, model, n_sta=5, zones=3)


@pytest.mark.parametrize("radius", [3000.0, 5000.0])
@pytest.mark.parametrize("seed", range(5))
def test_station_or_radius_township_rule_matches_brute_force(radius, seed):
    """Yueqing rural: per township a station inside, or every resident within the radius."""
    problem, times, dist = _radius_rule_case(seed, radius)
    expected = brute(problem, times, dist)
    sol = solve_ems(problem)
    if expected is None:
        assert sol.status == Status.INFEASIBLE
        return
    assert sol.status == Status.OPTIMAL, sol.diagnosis
    assert sol.objective == pytest.approx(expected, rel=OBJ_RTOL, abs=1e-6)


def test_station_or_radius_binds_and_is_infeasible_somewhere():
    """The sample is not vacuous: the rule lowers an optimum and makes some cases infeasible."""
    outcomes = []
    for seed in range(5):
        problem, times, dist = _radius_rule_case(seed, 3000.0)
        free = problem.model.model_copy(update={"station_or_radius": None})
        unruled = EmsProblem(problem.demand, problem.sites, problem.travel_times, free)
        outcomes.append((brute(problem, times, dist), brute(unruled, times, dist)))
    assert any(a is None for a, _ in outcomes)
    assert any(a is not None and a < b for a, b in outcomes)
