"""Qingdao's per-population CHC norm as a zone rule: between ceil(R / max) and ceil(R / min)
open sites in every zone (``residents_per_site``); brute force lives in test_coverage_models."""

from __future__ import annotations

import json
import math

import pandas as pd
import pytest

from optimizer.cli import main
from optimizer.errors import CaseError
from optimizer.models.coverage.solve import solve_coverage
from optimizer.schema.coverage import CoverageModelConfig, ResidentsPerSite, Standard, ZoneRule
from optimizer.solvers import Status

from .conftest import ROOT, random_instance, shared_path


def test_band_bounds_are_exact_at_the_edges():
    """A zone of exactly ``max`` residents needs 1 site, one more resident needs 2; the cap
    ceil(R / min) likewise."""
    model = CoverageModelConfig(
        kind="mclp",
        standards=[Standard(name="t", minutes=9)],
        zone_rules=[ZoneRule(residents_per_site=ResidentsPerSite(min=50, max=200))],
    )
    problem, _ = random_instance(0, model, n_zones=1)
    rule = model.zone_rules[0]
    residents = problem.zone_residents("z0")
    assert problem.rule_need(rule, "z0") == math.ceil(residents / 200)
    assert problem.rule_cap(rule, "z0") == math.ceil(residents / 50)
    exact = ZoneRule(residents_per_site=ResidentsPerSite(min=residents, max=residents))
    assert problem.rule_need(exact, "z0") == 1 and problem.rule_cap(exact, "z0") == 1


def test_band_below_the_minimum_count_is_explained_before_solving():
    """max_sites 1 with a band asking for 2 or more in a zone: the precheck names the zone."""
    model = CoverageModelConfig(
        kind="mclp",
        standards=[Standard(name="t", minutes=9)],
        max_new_sites=8,
        zone_rules=[
            ZoneRule(max_sites=1, residents_per_site=ResidentsPerSite(min=50, max=100)),
        ],
    )
    problem, _ = random_instance(2, model, n_sites=9)
    sol = solve_coverage(problem)
    assert sol.status == Status.INFEASIBLE
    assert any("needs at least" in r and "at most 1" in r for r in sol.diagnosis)


def test_band_min_above_max_is_a_case_error():
    with pytest.raises(ValueError, match="min 5000 is above max 3000"):
        ResidentsPerSite(min=5000, max=3000)


def test_band_needs_demand_zones(tmp_path):
    """Without demand zones the band has no residents to count: a CaseError naming the field."""
    text = (ROOT / "configs" / "andorra_centres_band.yaml").read_text(encoding="utf-8")
    text = text.replace("zone: zone, x: lon", "x: lon", 1)  # the demand's zone column
    text = text.replace("file: data/", f"file: {ROOT}/configs/data/")
    text = text.replace("../../shared/", f"{ROOT.parent}/shared/")  # configs/../../shared
    shared_path("data", "osm-andorra", "andorra_drive.graphml.gz")
    case = tmp_path / "band.yaml"
    case.write_text(text, encoding="utf-8")
    from optimizer.case.loading import load_case
    from optimizer.case.prepare import prepare_case

    with pytest.raises(CaseError, match="residents_per_site"):
        prepare_case(load_case(case))


def test_andorra_centres_band(tmp_path):
    """The committed case: in every parish between ceil(R / 20,000) and ceil(R / 6,000) open
    clinics, recomputed here from demand.csv and sites.csv, and shown in the compliance rows."""
    shared_path("data", "osm-andorra", "andorra_drive.graphml.gz")
    out = tmp_path / "band"
    case = ROOT / "configs" / "andorra_centres_band.yaml"
    assert main(["run", str(case), "--out", str(out), "-q"]) == 0
    sol = json.loads((out / "solution.json").read_text(encoding="utf-8"))
    assert sol["status"] == "optimal"
    sites = pd.read_csv(out / "sites.csv")
    counts = sites[(sites["chosen"] == 1) & (sites["facility_type"] == "clinic")][
        "zone"
    ].value_counts()
    residents = pd.read_csv(out / "demand.csv").groupby("zone")["weight"].sum()
    rule = sol["model"]["zone_rules"][0]
    for zone, r in residents.items():
        lo, hi = math.ceil(r / 20_000), math.ceil(r / 6_000)
        assert lo <= counts.get(zone, 0) <= hi, (zone, counts.get(zone, 0), lo, hi)
        assert rule["required"][zone] == lo and rule["allowed"][zone] == hi
    assert rule["required"]["andorra-la-vella"] == 2  # 22,599 residents
    from optimizer.report.norms import norm_checks
    from optimizer.report.rundata import RunData

    rows = [n for n in norm_checks(RunData.from_dir(out)) if n.norm.startswith("zone_rules")]
    assert len(rows) == 2 * len(residents) and all(n.met for n in rows)
    assert all("30,000-100,000" in n.source for n in rows)
