"""Village-clinic tier model against brute-force enumeration on tiny random instances, and its
independent raw-data check rejecting wrong plans."""

from __future__ import annotations

import itertools
from dataclasses import replace
from fractions import Fraction

import numpy as np
import pytest

from geodata.arrays import Demand, Sites, TravelTimes
from optimizer.errors import CheckError
from optimizer.models.tiers.evaluate import TierPlan, check_tier_plan, plan_cost
from optimizer.models.tiers.problem import TiersProblem
from optimizer.models.tiers.solve import solve_tiers
from optimizer.schema.tiers import TiersModelConfig
from optimizer.solvers import SolveResult, Status

TIERS = [
    {"name": "central", "label_zh": "中心村卫生室", "minutes": 9.0, "build_cost": 9.0,
     "upgrade_cost": 5.0, "capacity": 260.0, "max_township_minutes": 8.0},
    {"name": "general", "label_zh": "一般村卫生室", "minutes": 6.0, "build_cost": 5.0,
     "upgrade_cost": 3.0, "capacity": 160.0},
    {"name": "point", "label_zh": "服务点", "minutes": 4.0, "build_cost": 2.0,
     "upgrade_cost": 1.0, "capacity": 90.0, "max_village_residents": 60.0,
     "in_standard_share": False},
]  # fmt: skip


def _instance(seed: int, **model: object) -> tuple[TiersProblem, np.ndarray]:
    rng = np.random.default_rng(seed)
    n_v, n_s = 6, 4
    pts, sps = rng.random((n_v, 2)) * 6, rng.random((n_s, 2)) * 6
    times = np.linalg.norm(pts[:, None] - sps[None], axis=2) * 2.0
    times[rng.random(times.shape) < 0.1] = np.inf
    demand = Demand(
        ids=[f"v{i}" for i in range(n_v)],
        weight=rng.integers(10, 100, n_v).astype(float),
        zone=np.asarray([f"z{i % 2}" for i in range(n_v)], dtype=object),
    )
    existing = np.zeros(n_s, dtype=bool)
    existing[0] = True
    sites = Sites(
        ids=[f"s{j}" for j in range(n_s)],
        facility_type=["vc_basic"] + ["candidate"] * (n_s - 1),
        cost=rng.integers(0, 3, n_s).astype(float),
        existing=existing,
        zone=np.asarray([f"z{j % 2}" for j in range(n_s)], dtype=object),
    )
    cfg = {
        "kind": "village_tiers",
        "tiers": TIERS,
        "existing": {"vc_basic": {"tier": "general", "standard": False}},
    } | model
    problem = TiersProblem(
        demand, sites, {"t": TravelTimes.from_dense(times)}, TiersModelConfig(**cfg)
    )
    return problem, times


def _brute(problem: TiersProblem, times: np.ndarray) -> float | tuple[float, float] | None:
    """Best objective by enumerating every site's tier choice and every single-sourced
    assignment, from the dense times and the tier table only (None: infeasible)."""
    m = problem.model
    tiers = m.tiers
    w = problem.demand.weight
    zone_v, zone_s = problem.demand.zone, problem.sites.zone
    centre = {
        z: max((i for i in range(len(w)) if zone_v[i] == z), key=lambda i: (w[i], -i))
        for z in ("z0", "z1")
    }
    choices = []
    for j in range(len(problem.sites)):
        opts = [] if problem.sites.existing[j] else [None]
        for k, t in enumerate(tiers):
            if problem.sites.existing[j]:
                if k > 1:  # below the existing general tier: not allowed
                    continue
                cost = 0.0 if k == 1 else t.upgrade_cost
                opts.append((k, k != 1, cost))  # as-is (non-standard) ...
                if k == 1:
                    opts.append((k, True, t.upgrade_cost))  # ... or standardised in place
                    continue
            else:
                opts.append((k, True, t.build_cost + problem.sites.cost[j]))
            if t.max_township_minutes is not None and opts[-1] is not None:
                keep = opts[-1][2] > 0 or not problem.sites.existing[j]
                if keep and not times[centre[zone_s[j]], j] <= t.max_township_minutes:
                    opts.pop()
        smart = m.smart
        if smart is not None:  # each option of a smart-capable tier also as a smart clinic
            opts += [
                (c[0], c[1], c[2] + smart.cost, "smart")
                for c in opts
                if c is not None and tiers[c[0]].name in smart.tiers
            ]
        choices.append(opts)
    best = None
    maximise = m.objective == "max_coverage"
    for combo in itertools.product(*choices):
        cost = sum(c[2] for c in combo if c is not None)
        if m.budget is not None and cost > m.budget + 1e-9:
            continue
        ok = True
        for k, t in enumerate(tiers):
            for z in ("z0", "z1"):
                n = sum(1 for j, c in enumerate(combo) if c and c[0] == k and zone_s[j] == z)
                ok &= n >= t.min_per_zone
        if m.smart is not None:
            for z in ("z0", "z1"):
                n = sum(1 for j, c in enumerate(combo) if c and len(c) == 4 and zone_s[j] == z)
                ok &= n >= m.smart.min_per_zone
        if m.min_standard_share is not None:
            counted = [c for c in combo if c and tiers[c[0]].in_standard_share]
            std = sum(1 for c in counted if c[1])
            ok &= Fraction(std) >= Fraction(str(m.min_standard_share)) * len(counted)
        if not ok:
            continue
        served = _assign(combo, tiers, times, w, maximise)
        if served is None:
            continue
        value = (served, -cost) if maximise else cost  # most residents, then least cost
        if best is None or (value > best if maximise else value < best):
            best = value
    return best


def _assign(combo, tiers, times, w, maximise) -> float | None:
    """Most residents assignable (all of them required unless maximising), by backtracking."""
    cap = [tiers[c[0]].capacity if c else 0.0 for c in combo]

    def ok(i: int, j: int) -> bool:
        c = combo[j]
        if c is None:
            return False
        t = tiers[c[0]]
        small = t.max_village_residents is None or w[i] <= t.max_village_residents
        return times[i, j] <= t.minutes and small

    def go(i: int, left: list[float]) -> float | None:
        if i == len(w):
            return 0.0
        best = None
        for j in range(len(combo)):
            if ok(i, j) and left[j] >= w[i] - 1e-9:
                left[j] -= w[i]
                rest = go(i + 1, left)
                left[j] += w[i]
                if rest is not None and (best is None or rest + w[i] > best):
                    best = rest + w[i]
        if maximise:
            rest = go(i + 1, left)
            if rest is not None and (best is None or rest > best):
                best = rest
        return best

    return go(0, list(cap))


CASES = {
    "min_cost": {},
    "min_cost_central_per_zone": {"tiers": [TIERS[0] | {"min_per_zone": 1}, *TIERS[1:]]},
    "min_cost_share": {"min_standard_share": 0.9},
    "max_coverage_budget": {"objective": "max_coverage", "budget": 12.0},
    "min_cost_smart_per_zone": {
        "smart": {"tiers": ["central", "general"], "cost": 2.5, "min_per_zone": 1},
        "min_standard_share": 0.6,
    },
    "max_coverage_smart": {
        "objective": "max_coverage",
        "budget": 14.0,
        "smart": {"tiers": ["general"], "cost": 1.5, "min_per_zone": 1},
    },
    "max_coverage_share_zone": {
        "objective": "max_coverage",
        "budget": 16.0,
        "min_standard_share": 0.5,
        "standard_share_scope": "county",
    },
}


@pytest.mark.parametrize("name", sorted(CASES))
@pytest.mark.parametrize("seed", range(5))
def test_tiers_match_brute_force(name, seed):
    problem, times = _instance(seed, **CASES[name])
    expected = _brute(problem, times)
    sol = solve_tiers(problem)
    if expected is None:
        assert sol.status == Status.INFEASIBLE and sol.diagnosis
        return
    assert sol.status == Status.OPTIMAL and sol.checked
    if isinstance(expected, tuple):  # max_coverage, then the least cost (second stage)
        expected, least_cost = expected[0], -expected[1]
        assert sol.secondary["value"] == pytest.approx(least_cost, abs=1e-6)
        assert plan_cost(problem, sol.plan) == pytest.approx(least_cost, abs=1e-6)
    assert sol.objective == pytest.approx(expected, abs=1e-6)
    assert check_tier_plan(problem, sol.plan) == []
    assert all(r["met"] for r in sol.compliance)


def test_checker_rejects_wrong_plans():
    """The raw-data check catches a closed existing clinic, an assignment out of its tier's
    radius, a service point serving a large village and an over-full clinic."""
    problem, times = _instance(1)
    sol = solve_tiers(problem)
    assert sol.status == Status.OPTIMAL
    plan = sol.plan
    closed = TierPlan([None, *plan.tier[1:]], plan.standard, plan.assigned)
    assert any("is closed" in v for v in check_tier_plan(problem, closed))
    far = np.unravel_index(np.argmax(np.where(np.isfinite(times), times, -1)), times.shape)
    tiers = ["point"] * 4
    bad = TierPlan(tiers, np.ones(4, bool), np.full(6, far[1]))
    found = " ".join(check_tier_plan(problem, bad))
    assert "min >" in found or "unreachable" in found
    big = int(np.argmax(problem.demand.weight))
    if problem.demand.weight[big] > 60:
        assert "too large" in found
    assert "capacity" in found


def test_lying_solver_is_caught(monkeypatch):
    import optimizer.models.tiers.solve as mod

    problem, _ = _instance(2)
    real = mod.solve

    def inflated(milp, options, backend):
        res = real(milp, options, backend)
        return SolveResult(res.status, res.x, res.objective - 3.0, res.bound, res.runtime_s,
                           res.solver, res.solver_version)  # fmt: skip

    monkeypatch.setattr(mod, "solve", inflated)
    with pytest.raises(CheckError, match="objective mismatch"):
        solve_tiers(problem)


def test_unreachable_village_is_named_before_solving():
    """min_cost needs every village served: one no tier can reach is named by id."""
    tiny = [t | {"minutes": 0.01} for t in TIERS]
    problem, _ = _instance(3, tiers=tiny)
    sol = solve_tiers(problem)
    assert sol.status == Status.INFEASIBLE
    assert "v0" in sol.diagnosis[0] and "no site of any tier" in sol.diagnosis[0]


def test_andorra_tiers_case(tmp_path):
    """The committed case end to end: every village assigned within its clinic's tier radius
    (recomputed from demand.csv and the tier table), >= 1 central clinic per parish, >= 90% of
    clinics standardised, the cost the sum of sites.csv, the compliance rows in zh and en."""
    import json

    import pandas as pd

    from optimizer.cli import main

    from .conftest import ROOT, shared_path

    shared_path("data", "osm-andorra", "andorra_drive.graphml.gz")
    out = tmp_path / "tiers"
    assert main(["run", str(ROOT / "configs" / "andorra_tiers.yaml"), "--out", str(out), "-q"]) == 0
    sol = json.loads((out / "solution.json").read_text(encoding="utf-8"))
    assert sol["status"] == "optimal" and sol["checked_on_raw_data"]
    tiers = {t["name"]: t for t in sol["model"]["tiers"]}
    sites = pd.read_csv(out / "sites.csv", keep_default_na=False)
    demand = pd.read_csv(out / "demand.csv", keep_default_na=False)
    assert (demand["assigned_site"] != "").all()
    for row in demand.itertuples():
        t = tiers[row.assigned_tier]
        assert row.travel_min <= t["minutes"] + 1e-9
        assert row.weight <= t.get("max_village_residents", float("inf"))
    load = demand.groupby("assigned_site")["weight"].sum()
    chosen = sites[sites["chosen"] == 1].set_index("site_id")
    for sid, w in load.items():
        assert w <= tiers[chosen.loc[sid, "tier"]]["capacity"] + 1e-9
    central = chosen[chosen["tier"] == "central"]["zone"].nunique()
    assert central == len(set(demand["zone"]))
    counted = chosen[chosen["tier"].isin(["central", "general"])]
    assert counted["standard"].sum() >= 0.9 * len(counted)
    assert (chosen[chosen["existing"] == 1]["tier"] != "").all()  # today's clinics all stay
    assert chosen[chosen["smart"] == 1]["zone"].nunique() == len(set(demand["zone"]))
    assert sol["objective"] == pytest.approx(sites["cost_in_plan"].sum())
    rows = sol["tiers_compliance"]["table"]
    assert all(r["met"] and r["label_zh"] and r["label_en"] for r in rows)
    assert any("中心村卫生室" in r["label_zh"] for r in rows)


def test_bad_tier_cases_are_case_errors(tmp_path):
    """A tier that does not exist for today's clinics, and today's clinics with no tier."""
    from optimizer.case.loading import load_case
    from optimizer.errors import CaseError

    from .conftest import ROOT

    text = (ROOT / "configs" / "andorra_tiers.yaml").read_text(encoding="utf-8")
    text = text.replace("file: data/", f"file: {ROOT}/configs/data/")
    text = text.replace("../../shared/", f"{ROOT.parent}/shared/")
    bad = tmp_path / "bad.yaml"
    bad.write_text(text.replace("{tier: general, standard: false}", "{tier: clinic}"), "utf-8")
    with pytest.raises(CaseError, match="is not a tier"):
        load_case(bad)
    none = tmp_path / "none.yaml"
    none.write_text(text.replace("    clinic: {tier: general, standard: false}\n", "    {}\n").replace("  existing:\n    {}\n", "  existing: {}\n"), "utf-8")  # fmt: skip
    from optimizer.case.prepare import prepare_case

    with pytest.raises(CaseError, match="have no tier"):
        prepare_case(load_case(none))


def test_fenghuang_tiers_case(tmp_path):
    """凤凰县 (real village points, estimated times): every village assigned within its tier's
    radius, a central clinic (or township health centre) and a smart clinic in every township,
    no service point serving a village over 1,200 residents; recomputed from the CSVs."""
    import json

    import pandas as pd

    from optimizer.cli import main

    from .conftest import ROOT

    out = tmp_path / "fh"
    assert (
        main(["run", str(ROOT / "configs" / "fenghuang_tiers.yaml"), "--out", str(out), "-q"]) == 0
    )
    sol = json.loads((out / "solution.json").read_text(encoding="utf-8"))
    assert sol["status"] == "optimal"
    tiers = {t["name"]: t for t in sol["model"]["tiers"]}
    demand = pd.read_csv(out / "demand.csv", keep_default_na=False, dtype={"zone": str})
    sites = pd.read_csv(out / "sites.csv", keep_default_na=False, dtype={"zone": str})
    assert (demand["assigned_site"] != "").all()
    assert (
        demand["travel_min"] <= demand["assigned_tier"].map(lambda t: tiers[t]["minutes"])
    ).all()
    assert (demand[demand["assigned_tier"] == "point"]["weight"] <= 1200).all()
    chosen = sites[sites["chosen"] == 1]
    townships = set(demand["zone"])
    assert set(chosen[chosen["tier"] == "central"]["zone"]) == townships
    assert set(chosen[chosen["smart"] == 1]["zone"]) == townships
    assert sol["objective"] == pytest.approx(sites["cost_in_plan"].sum())


def test_infeasible_after_solving_is_explained():
    """A budget below the cheapest network: the elastic diagnosis gives the least relaxation,
    here villages left without a clinic; as many as the best plan within that budget leaves."""
    plain = [  # no capacity and no village size limit: which villages fit is weight-free
        {k: v for k, v in t.items() if k not in ("capacity", "max_village_residents")}
        for t in TIERS
    ]
    problem, times = _instance(0, budget=1.0, tiers=plain)
    assert _brute(problem, times) is None
    sol = solve_tiers(problem)
    assert sol.status == Status.INFEASIBLE
    text = "\n".join(sol.diagnosis)
    assert "tier rules conflict" in text
    assert "villages cannot be assigned" in text or "yuan more" in text
    if "villages cannot be assigned" in text:
        n_left = int(text.split("- ")[1].split(" villages")[0])
        unit = _instance(0, objective="max_coverage", budget=1.0, tiers=plain)[0]
        unit = TiersProblem(
            replace(unit.demand, weight=np.ones(len(unit.demand))),
            unit.sites,
            unit.travel_times,
            unit.model,
        )
        best = solve_tiers(unit)  # most villages assignable within the budget (weights 1)
        assert n_left == len(unit.demand) - round(best.objective)
