"""The real cases under configs/: every file validates; Andorra solves; Zhuji needs internet."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml

from optimizer.cli import main
from optimizer.config import load_case

from .conftest import ROOT, shared_path

CONFIGS = sorted((ROOT / "configs").glob("*.yaml"))


@pytest.mark.parametrize("path", CONFIGS, ids=[p.stem for p in CONFIGS])
def test_every_config_passes_schema_and_rules(path):
    head = yaml.safe_load(path.read_text(encoding="utf-8"))
    if head.get("kind") in (
        "staffing_quota",
        "sent_down",
    ):  # staffing cases (python -m optimizer staff)
        from optimizer.staffing.run import prepare_staffing

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
    zones = pd.read_csv(out / "zones.csv")
    assert (zones["stations"] >= 1).all()
    demand = pd.read_csv(out / "demand.csv")
    urban = demand["class"] == "urban"
    assert (demand.loc[urban, "response_min"] <= 11 + 1e-9).all()


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
