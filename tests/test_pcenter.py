"""p-center: published OR-Library radii, compact MIP cross-check, brute force, checker."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

import optimizer.models.siting.rounds as pc_mod
from geodata.arrays import Demand, Sites, TravelTimes
from optimizer.errors import CheckError
from optimizer.models.siting.pcenter import PCenterModelConfig, solve_pcenter
from optimizer.solvers import SolveOptions, SolveResult, Status, available_backends

from .brute_siting import brute_pcenter
from .siting_cases import PCENTER_RADII, orlib, tiny_instance

PROFILE = settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def cfg(**kw) -> PCenterModelConfig:
    return PCenterModelConfig(kind="p_center", **kw)


def _solve(t, config, **kw):
    return solve_pcenter(t.demand, t.sites, t.tt, config, **kw)


# ---------------------------------------------------------------------------------------------
# OR-Library radii
# ---------------------------------------------------------------------------------------------
def _orlib_pcenter(name: str, **kw):
    inst = orlib(name)
    return inst, solve_pcenter(
        inst.demand(), inst.sites(), inst.travel_times(), cfg(p=inst.p, **kw), SolveOptions()
    )


@pytest.mark.parametrize("name", ["pmed2", "pmed4", "pmed5", "pmed10"])
def test_orlib_published_radius(name):
    inst, sol = _orlib_pcenter(name, count="at_most")
    assert sol.status == Status.OPTIMAL and sol.checked
    assert sol.objective == PCENTER_RADII[int(name[4:]) - 1]
    assert sol.bound == sol.objective and sol.gap == 0.0
    assert sol.sites_needed is not None and sol.sites_needed <= inst.p
    assert int(sol.open_mask.sum()) == sol.sites_needed  # at most p: the fewest that reach it
    # every village is within the radius of an open site, and one is exactly at it
    assert sol.travel.max() == sol.objective


@pytest.mark.slow
@pytest.mark.parametrize("name", [f"pmed{k}" for k in range(1, 41)])
def test_orlib_published_radius_all(name):
    _, sol = _orlib_pcenter(name)
    assert sol.status == Status.OPTIMAL
    assert sol.objective == PCENTER_RADII[int(name[4:]) - 1]


def _orlib_sub(name: str, n: int, p: int):
    """The first ``n`` vertices of an OR-Library graph (its shortest-path distances), p sites."""
    inst = orlib(name)
    ids = inst.ids[:n]
    demand = Demand(ids=ids, weight=np.ones(n))
    sites = Sites(
        ids=ids,
        facility_type=np.full(n, "c", dtype=object),
        cost=np.ones(n),
        existing=np.zeros(n, dtype=bool),
    )
    return demand, sites, TravelTimes.from_dense(inst.distance[:n, :n]), p


@pytest.mark.parametrize(
    ("name", "n", "p"),
    [
        ("pmed1", 20, 3),
        ("pmed11", 20, 2),
        pytest.param("pmed1", 30, 3, marks=pytest.mark.slow),
        pytest.param("pmed3", 24, 4, marks=pytest.mark.slow),
        pytest.param("pmed7", 25, 4, marks=pytest.mark.slow),
    ],
)
def test_compact_mip_agrees_with_binary_search_on_orlib_subgraphs(name, n, p):
    demand, sites, tt, p = _orlib_sub(name, n, p)
    a = solve_pcenter(demand, sites, tt, cfg(p=p))
    b = solve_pcenter(demand, sites, tt, cfg(p=p, method="compact"))
    assert a.status == b.status == Status.OPTIMAL
    assert a.objective == b.objective


@pytest.mark.slow
@pytest.mark.parametrize("name", ["pmed4", "pmed5"])
def test_compact_mip_reproduces_published_radius(name):
    _, sol = _orlib_pcenter(name, method="compact")
    assert sol.status == Status.OPTIMAL
    assert sol.objective == PCENTER_RADII[int(name[4:]) - 1]


# ---------------------------------------------------------------------------------------------
# Brute force and properties
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("method", ["binary_search", "compact"])
@pytest.mark.parametrize(
    ("n_existing", "config"),
    [
        (0, {"p": 2}),
        (0, {"p": 3, "weighted": True}),
        (2, {"p": 3}),
        (2, {"max_new_sites": 1}),
        (2, {"p": 2, "existing": "may_close"}),
    ],
)
def test_matches_brute_force(seed, method, n_existing, config):
    t = tiny_instance(seed, n_existing=n_existing, integer_times=seed % 2 == 0)
    sol = _solve(t, cfg(method=method, **config))
    expected = brute_pcenter(
        t.times,
        t.demand.weight,
        t.sites.existing,
        p=config.get("p"),
        max_new=config.get("max_new_sites"),
        keep=config.get("existing", "keep") == "keep",
        weighted=config.get("weighted", False),
    )
    if expected is None:
        assert sol.status == Status.INFEASIBLE
        return
    assert sol.status == Status.OPTIMAL and sol.checked
    assert sol.objective == pytest.approx(expected, rel=1e-9)


@PROFILE
@given(st.integers(0, 10_000), st.integers(1, 4), st.booleans())
def test_binary_search_equals_compact_and_more_sites_never_hurt(seed, p, weighted):
    t = tiny_instance(seed, n_demand=12, n_sites=7, integer_times=seed % 3 == 0)
    a = _solve(t, cfg(p=p, weighted=weighted))
    b = _solve(t, cfg(p=p, weighted=weighted, method="compact"))
    c = _solve(t, cfg(p=p + 1, weighted=weighted))
    assert a.status == b.status
    if a.status == Status.OPTIMAL:
        assert a.objective == pytest.approx(b.objective, rel=1e-9)
        assert c.objective <= a.objective
        assert a.sites_needed is not None and a.sites_needed <= p


def test_unreachable_demand_is_named_before_solving():
    t = tiny_instance(0)
    times = t.times.copy()
    times[4, :] = np.inf
    sol = solve_pcenter(t.demand, t.sites, TravelTimes.from_dense(times), cfg(p=2))
    assert sol.status == Status.INFEASIBLE
    assert "d04" in sol.diagnosis[0]


def test_no_plan_reaches_everyone_is_infeasible():
    """Two far-apart clusters, each served by its own sites only, and p = 1."""
    times = np.array([[1.0, np.inf], [2.0, np.inf], [np.inf, 1.0]])
    demand = Demand(ids=np.array(["a", "b", "c"], dtype=object), weight=np.ones(3))
    sites = Sites(
        ids=np.array(["s", "t"], dtype=object),
        facility_type=np.array(["c", "c"], dtype=object),
        cost=np.ones(2),
        existing=np.zeros(2, dtype=bool),
    )
    for method in ("binary_search", "compact"):
        sol = solve_pcenter(demand, sites, TravelTimes.from_dense(times), cfg(p=1, method=method))
        assert sol.status == Status.INFEASIBLE


# ---------------------------------------------------------------------------------------------
# Checker and limits
# ---------------------------------------------------------------------------------------------
def test_checker_rejects_a_wrong_cover(monkeypatch):
    t = tiny_instance(2)
    real = pc_mod.solve

    def lying(milp, options, backend):
        res = real(milp, options, backend)
        x = res.x.copy()
        x[milp.var_blocks["y"].slice] = 0.0  # claims a cover with no site at all
        x[milp.var_blocks["y"].start] = 1.0
        return SolveResult(res.status, x, 1.0, 1.0, res.runtime_s, res.solver, res.solver_version)

    monkeypatch.setattr(pc_mod, "solve", lying)
    with pytest.raises(CheckError, match="no open site within reach"):
        _solve(t, cfg(p=3, count="at_most"))


def test_checker_rejects_a_wrong_compact_answer(monkeypatch):
    t = tiny_instance(2)
    real = pc_mod.solve

    def lying(milp, options, backend):
        res = real(milp, options, backend)
        x = res.x.copy()
        x[milp.var_blocks["y"].slice] = 1.0  # opens every candidate: breaks p
        return SolveResult(res.status, x, res.objective, res.bound, res.runtime_s, res.solver, "")

    monkeypatch.setattr(pc_mod, "solve", lying)
    with pytest.raises(CheckError, match="must be exactly 2"):
        _solve(t, cfg(p=2, method="compact"))
    with pytest.raises(CheckError, match="at most 2 allowed"):
        _solve(t, cfg(p=2, method="compact", count="at_most"))


def test_undecided_steps_are_reported_not_proven(monkeypatch):
    """Steps stopped by the time limit without a verdict: FEASIBLE, and the bound stays honest."""
    t = tiny_instance(8, n_demand=14, n_sites=7, integer_times=False)
    honest = _solve(t, cfg(p=2, method="compact"))
    real = pc_mod.solve

    def stopped(milp, options, backend):
        res = real(milp, options, backend)
        if res.objective is None or res.objective > 2.5:  # every "too many sites" step
            return SolveResult(Status.NO_SOLUTION, None, None, 1.0, 0.1, res.solver, "")
        return res

    monkeypatch.setattr(pc_mod, "solve", stopped)
    sol = _solve(t, cfg(p=2))
    assert any(not s["decided"] for s in sol.steps)
    assert sol.status == Status.FEASIBLE and sol.checked
    assert sol.bound < honest.objective == pytest.approx(sol.objective)
    assert sol.gap > 0 and sol.sites_needed is None
    assert "not proven" in sol.message


def test_to_dict_is_json_with_zone_summaries():
    t = tiny_instance(6, n_existing=1)
    sol = _solve(t, cfg(max_new_sites=2))
    out = json.loads(json.dumps(sol.to_dict()))
    assert out["status"] == "optimal"
    assert out["objective"] == out["travel"]["worst"] == pytest.approx(sol.objective)
    assert "s00" in out["chosen_sites"]["clinic"]
    assert set(out["travel"]["zones"]) == {"z0", "z1"}
    assert out["steps"] and all("radius" in s for s in out["steps"])


def test_config_validation():
    with pytest.raises(ValidationError, match="exactly one of"):
        cfg(p=2, max_new_sites=1)
    with pytest.raises(ValidationError, match="may_close needs"):
        cfg(max_new_sites=1, existing="may_close")
    with pytest.raises(ValidationError):
        cfg(p=2, method="lagrange")


@pytest.mark.parametrize("backend", ["highs", "cbc", "ortools"])
def test_backends_agree(backend):
    if backend not in available_backends():
        pytest.skip(f"{backend} not installed")
    t = tiny_instance(9, n_existing=1)
    expected = brute_pcenter(t.times, t.demand.weight, t.sites.existing, p=3)
    for method in ("binary_search", "compact"):
        sol = _solve(t, cfg(p=3, method=method), backend=backend)
        assert sol.status == Status.OPTIMAL
        assert sol.objective == pytest.approx(expected)


# ---------------------------------------------------------------------------------------------
# exactly p / at most p, and points without residents
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", [f"pmed{k}" for k in range(1, 11)])
def test_orlib_exactly_p_open_with_published_radius(name):
    """OR-Library pmed1-10 p-center (Pullan 2008's table): exactly p sites open."""
    inst, sol = _orlib_pcenter(name)
    assert sol.status == Status.OPTIMAL and sol.checked
    assert sol.objective == PCENTER_RADII[int(name[4:]) - 1]
    assert int(sol.open_mask.sum()) == inst.p
    # recomputed here from the distance matrix, not from the solver's travel values
    assert inst.distance[:, sol.open_mask].min(axis=1).max() == sol.objective


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("method", ["binary_search", "compact"])
@pytest.mark.parametrize("count", ["exactly", "at_most"])
@pytest.mark.parametrize(("n_existing", "p", "existing"), [(0, 3, "keep"), (2, 3, "may_close")])
def test_count_rule_matches_brute_force(seed, method, count, n_existing, p, existing):
    t = tiny_instance(seed, n_existing=n_existing, integer_times=seed % 2 == 0)
    sol = _solve(t, cfg(method=method, p=p, count=count, existing=existing))
    expected = brute_pcenter(
        t.times,
        t.demand.weight,
        t.sites.existing,
        p=p,
        keep=existing == "keep",
        exactly=count == "exactly",
    )
    if expected is None:
        assert sol.status == Status.INFEASIBLE
        return
    assert sol.status == Status.OPTIMAL and sol.checked
    assert sol.objective == pytest.approx(expected, rel=1e-9)
    n_open = int(sol.open_mask.sum())
    if count == "exactly":
        assert n_open == p
    elif method == "binary_search":
        assert n_open == sol.sites_needed + (n_existing if existing == "keep" else 0) <= p


@pytest.mark.parametrize("method", ["binary_search", "compact"])
def test_points_without_residents_set_no_radius(method):
    """A weight-0 point far from every site must not set the unweighted radius."""
    times = np.array([[1.0, 9.0], [9.0, 2.0], [30.0, 40.0]])
    demand = Demand(ids=["a", "b", "empty"], weight=np.array([5.0, 7.0, 0.0]))
    sites = Sites(
        ids=["s0", "s1"],
        facility_type=np.array(["c", "c"], dtype=object),
        cost=np.ones(2),
        existing=np.zeros(2, dtype=bool),
    )
    sol = solve_pcenter(demand, sites, TravelTimes.from_dense(times), cfg(p=2, method=method))
    assert sol.status == Status.OPTIMAL
    assert sol.objective == 2.0


def test_count_exactly_needs_p():
    with pytest.raises(ValidationError, match="count: exactly needs 'p'"):
        cfg(max_new_sites=2, count="exactly")
    assert cfg(max_new_sites=2).count == "exactly"  # the default is harmless there
