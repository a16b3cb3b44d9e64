"""The real cases under configs/: every file validates; Andorra solves; Zhuji needs internet."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml

from optimizer.case.loading import load_case
from optimizer.cli import main

from .conftest import ROOT, shared_path

CONFIGS = sorted((ROOT / "configs").glob("*.yaml"))


@pytest.mark.parametrize("path", CONFIGS, ids=[p.stem for p in CONFIGS])
def test_every_config_passes_schema_and_rules(path):
    head = yaml.safe_load(path.read_text(encoding="utf-8"))
    if head.get("kind") in (
        "staffing_quota",
        "sent_down",
    ):  # staffing cases (python -m optimizer staff)
        from optimizer.staffing.config import load_staffing_case
        from optimizer.staffing.run import prepare_staffing

        service = (head.get("service_population") or {}).get("file")
        if service and not (path.parent / service).exists():
            # reads a siting run's output (tests/test_county_cases.py runs both): schema and rules
            assert load_staffing_case(path).config.name
            return
        assert prepare_staffing(path).case.config.name  # schema, rules and every data file
        return
    case = load_case(path)
    assert case.config.name


def test_andorra_rural_case(tmp_path):
    shared_path("data", "osm-andorra", "andorra_drive.graphml.gz")
    out = tmp_path / "andorra"
    assert main(["run", str(ROOT / "configs" / "andorra.yaml"), "--out", str(out), "-q"]) == 0
    sol = json.loads((out / "solution.json").read_text(encoding="utf-8"))
    assert sol["status"] == "optimal"
    for name in ("clinic_20min", "ems_rural_13min", "ems_rural_10km"):
        assert sol["coverage"][name]["met"] is True, name
    zones = pd.read_csv(out / "zones.csv")
    assert len(zones) == 7 and (zones["sites_ems"] >= 1).all(), "one 120 station per parish"
    assert sol["counts"]["clinic"]["existing"] == 3 and sol["counts"]["clinic"]["new"] <= 7
    assert "ESTIMATE" in sol["demand"]["weight_note"]


def test_zhuji_offline_derivation_uses_real_lists(tmp_path):
    shared_path("data", "cn-county-admin", "townships.csv")
    towns = pd.read_csv(
        ROOT / "configs" / "data" / "zhuji" / "townships.csv", dtype={"zone_id": str}
    )
    assert len(towns) == 23 and towns["remote"].sum() == 6
    assert set(towns.loc[towns["remote"] == 1, "name"]) == {
        "岭北镇",
        "陈宅镇",
        "马剑镇",
        "五泄镇",
        "同山镇",
        "东白湖镇",
    }
    seats = pd.read_csv(ROOT / "configs" / "data" / "zhuji" / "seats.csv", dtype={"zone": str})
    assert len(seats) == 22 and seats["zone"].isin(towns["zone_id"]).all()


@pytest.mark.network
def test_zhuji_online_case(tmp_path):
    """Downloads Zhuji's roads and villages from OSM (never in CI)."""
    proc = subprocess.run(
        [sys.executable, "-m", "configs.data.zhuji.derive", "--online"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=3600,
    )
    assert proc.returncode == 0, proc.stderr
    out = tmp_path / "zhuji"
    assert main(["run", str(ROOT / "configs" / "zhuji.yaml"), "--out", str(out), "-q"]) in (0, 2)
    assert (Path(out) / "solution.json").exists()


def test_andorra_ems_case(tmp_path):
    shared_path("data", "osm-andorra", "andorra_drive.graphml.gz")
    out = tmp_path / "ems"
    assert main(["run", str(ROOT / "configs" / "andorra_ems.yaml"), "--out", str(out), "-q"]) == 0
    sol = json.loads((out / "solution.json").read_text(encoding="utf-8"))
    assert sol["status"] == "optimal"
    fleet = sol["fleet"]
    assert fleet["ambulances"] == 10 and fleet["norm_met"] and fleet["negative_pressure_met"]
    assert fleet["negative_pressure"] >= 2
    assert sol["coverage"]["ems"]["share"] == 1.0
    assert sol["response"]["overall"]["worst_min"] < 15 + 1e-9
    # county capacity norms from given data, recomputed here: have >= min x residents / per
    cap = {r["norm"]: r for r in sol["capacity_compliance"]["table"]}
    residents = sol["demand"]["residents"]
    for name, have, rate, per in (
        ("cdc_staff", 12, 1.75, 10_000),
        ("infectious_disease_beds", 26, 2.5, 10_000),
        ("county_hospital_beds", 330, 3.7, 1_000),
    ):
        row = cap[f"capacity.{name}"]
        assert row["required"] == pytest.approx(rate * residents / per, abs=1e-3)
        assert row["met"] == (have >= rate * residents / per)
    assert not cap["capacity.cdc_staff"]["met"] and cap["capacity.cdc_staff"]["shortfall"] == 2
    html = (out / "report.html").read_text(encoding="utf-8")
    assert "疾控人员（每万人）" in html  # the capacity rows in the compliance table, labelled
    zones = pd.read_csv(out / "zones.csv")
    assert (zones["stations"] >= 1).all()
    demand = pd.read_csv(out / "demand.csv")
    urban = demand["class"] == "urban"
    assert (demand.loc[urban, "response_min"] <= 11 + 1e-9).all()


def test_andorra_ems_rural_township_norm_and_bacop(tmp_path, capsys):
    """Yueqing's rural norm as written (a station in the parish OR everyone within 8 km by
    road) and BACOP-1 backup coverage without a busy fraction: every parish meets the norm,
    some through the radius alone, and the objective is the residents covered twice."""
    shared_path("data", "osm-andorra", "andorra_drive.graphml.gz")
    out = tmp_path / "rural"
    case = ROOT / "configs" / "andorra_ems_rural.yaml"
    assert main(["run", str(case), "--out", str(out), "-q"]) == 0
    assert "Township norm (a station inside or everyone within 8 km): 7 of 7 met" in (
        capsys.readouterr().out
    )
    sol = json.loads((out / "solution.json").read_text(encoding="utf-8"))
    assert sol["status"] == "optimal" and sol["bacop"]["variant"] == "BACOP-1"
    assert sol["objective"] == pytest.approx(sol["bacop"]["covered_twice"])
    rows = sol["station_or_radius_compliance"]["table"]
    assert len(rows) == 7 and all(r["met"] for r in rows)
    assert any(r["achieved"].startswith("0 station") for r in rows)  # the radius branch is used
    html = (out / "report.html").read_text(encoding="utf-8")
    assert "ems.station_or_radius" in html or "every resident within 8 km" in html


def test_andorra_centres_one_per_parish(tmp_path):
    """Qingdao's CHC norm (one per street, a second only in a large street), scaled to
    parishes: every parish has exactly one open clinic except the one over 20,000 residents,
    which may have two; recomputed here from sites.csv and demand.csv."""
    shared_path("data", "osm-andorra", "andorra_drive.graphml.gz")
    out = tmp_path / "centres"
    assert (
        main(["run", str(ROOT / "configs" / "andorra_centres.yaml"), "--out", str(out), "-q"]) == 0
    )
    sol = json.loads((out / "solution.json").read_text(encoding="utf-8"))
    assert sol["status"] == "optimal"
    sites = pd.read_csv(out / "sites.csv")
    open_per = sites[(sites["chosen"] == 1) & (sites["facility_type"] == "clinic")]
    counts = open_per["zone"].value_counts()
    demand = pd.read_csv(out / "demand.csv")
    residents = demand.groupby("zone")["weight"].sum()
    for zone, n in residents.items():
        cap = 2 if n > 20_000 else 1
        assert 1 <= counts.get(zone, 0) <= cap, (zone, counts.get(zone, 0), cap)
    assert sol["model"]["zone_rules"][0]["allowed"] == {
        z: (2 if n > 20_000 else 1) for z, n in residents.items()
    }


def test_andorra_village_tiers_standardised_share(tmp_path):
    """>= 90% of village clinics standardised: upgrades of today's clinics (hosted, no new
    coverage) compete with new standard clinics for the budget; the share is recomputed here
    from sites.csv, and the committed tiers file is what tiers.py derives."""
    from configs.data.andorra.tiers import village_tiers

    data = ROOT / "configs" / "data" / "andorra"
    derived = village_tiers(pd.read_csv(data / "sites.csv", dtype={"site_id": str}))
    committed = pd.read_csv(
        data / "village_tiers.csv", dtype={"site_id": str}, keep_default_na=False
    )
    assert derived.astype(str).equals(committed.astype(str))
    shared_path("data", "osm-andorra", "andorra_drive.graphml.gz")
    out = tmp_path / "tiers"
    case = ROOT / "configs" / "andorra_village_tiers.yaml"
    assert main(["run", str(case), "--out", str(out), "-q"]) == 0
    sol = json.loads((out / "solution.json").read_text(encoding="utf-8"))
    assert sol["status"] == "optimal"
    sites = pd.read_csv(out / "sites.csv")
    open_ = sites[sites["chosen"] == 1]
    chosen = open_["facility_type"].value_counts()
    standard = sum(chosen.get(t, 0) for t in ("vc_std", "vc_smart", "vc_upgrade"))
    clinics = sum(chosen.get(t, 0) for t in ("vc_std", "vc_smart", "vc_basic"))
    assert standard >= 0.9 * clinics and chosen.get("vc_upgrade", 0) >= 1
    row = sol["type_share_compliance"]["table"][0]
    assert row["met"] and row["counts"] == f"{standard} of {clinics}"
    assert sol["cost"]["total"] <= 6_000_000 + 1e-6
    # >= 1 smart village clinic in every parish
    smart = open_[open_["facility_type"] == "vc_smart"]["zone"].nunique()
    assert smart == 7


def test_andorra_aed_density_target(tmp_path):
    """The Yiwu AED story with the density as a target: >= 2 public AEDs per 10,000 residents
    in every parish (venue footfall is not residents); the counts are recomputed here from
    demand.csv residents and sites.csv, and the target binds somewhere."""
    shared_path("data", "osm-andorra", "andorra.osm.pbf")
    out = tmp_path / "aed"
    assert main(["run", str(ROOT / "configs" / "andorra_aed.yaml"), "--out", str(out), "-q"]) == 0
    sol = json.loads((out / "solution.json").read_text(encoding="utf-8"))
    assert sol["status"] == "optimal" and sol["gap"] < 1e-9
    demand = pd.read_csv(out / "demand.csv", keep_default_na=False)
    residents = demand[demand["class"] != "venue"].groupby("zone")["weight"].sum()
    sites = pd.read_csv(out / "sites.csv", keep_default_na=False)
    aeds = sites[(sites["chosen"] == 1) & (sites["facility_type"] == "aed")]
    counts = aeds["zone"].value_counts()
    need = {z: math.ceil(2 * r / 10_000 - 1e-9) for z, r in residents.items()}
    assert sol["model"]["zone_rules"][0]["required"] == need
    assert all(counts.get(z, 0) >= n for z, n in need.items())
    assert any(counts.get(z, 0) == n for z, n in need.items())  # the target binds
    assert len(aeds) <= 40
    html = (out / "report.html").read_text(encoding="utf-8")
    assert "每个乡镇每万居民至少开设 2 个 aed" in html  # the density norm, in the zh page


def test_andorra_joint_case(tmp_path):
    """Clinics, public AEDs (walking round trip on the pedestrian network) and 120 stations
    under one budget on real OSM networks: all three types bought, budget kept, hosted AEDs only
    inside open hosts, AED densities per parish, value per 10,000 yuan per type."""
    shared_path("data", "osm-andorra", "andorra.osm.pbf")
    out = tmp_path / "joint"
    assert main(["run", str(ROOT / "configs" / "andorra_joint.yaml"), "--out", str(out), "-q"]) == 0
    sol = json.loads((out / "solution.json").read_text(encoding="utf-8"))
    assert sol["status"] == "optimal" and sol["gap"] < 1e-9
    assert sol["cost"]["total"] <= sol["cost"]["budget"] + 1e-6
    assert {t for t, v in sol["by_type"].items() if v["new_sites"] > 0} == {"clinic", "aed", "ems"}
    for v in sol["by_type"].values():
        for s in v["standards"].values():
            assert s["per_10k_yuan"] > 0
    sites = pd.read_csv(out / "sites.csv", keep_default_na=False)
    chosen = set(sites.loc[sites["chosen"] == 1, "site_id"])
    hosted = [s for s in chosen if s.startswith("AED@")]
    assert hosted and all(s.removeprefix("AED@") in chosen for s in hosted)
    demand = pd.read_csv(out / "demand.csv", keep_default_na=False)
    venues = demand[demand["class"] == "venue"]
    assert len(venues) > 0
    # venues count for AEDs only (footfall), never as residents
    assert sol["demand"]["residents"] == pytest.approx(
        demand.loc[demand["class"] != "venue", "weight"].sum()
    )
    zones = pd.read_csv(out / "zones.csv")
    assert "per10k_aed" in zones and zones["per10k_aed"].ge(0).all()
