"""Real rural Chinese counties: the committed cases run offline and certified; the 编制 case
reads the siting run; ``prepare county`` builds a case for any county and refuses bad ones."""

from __future__ import annotations

import json
import shutil

import pandas as pd
import pytest
import yaml

from optimizer.case.prepare import prepare_case
from optimizer.case.run import run_case
from optimizer.cli import main
from optimizer.errors import CaseError

from .conftest import ROOT, shared_path

CASES = {
    "fenghuang": ("433123", "廖家桥镇", "廖家桥社区"),
    "yongshun": ("433127", "灵溪镇", None),
    "chongyang": ("421223", "天城镇", None),
}


@pytest.mark.parametrize("slug", sorted(CASES))
def test_rural_county_runs_offline_certified_then_quota(tmp_path, slug):
    configs = tmp_path / "configs"
    shutil.copytree(ROOT / "configs" / "data" / slug, configs / "data" / slug)
    for f in (f"{slug}.yaml", f"{slug}_quota.yaml"):
        shutil.copy(ROOT / "configs" / f, configs / f)
    # the quota case reads ../results/<slug>/demand.csv relative to its own folder
    _, sol, out = run_case(configs / f"{slug}.yaml", tmp_path / "results" / slug)
    assert sol.status.value == "optimal" and sol.checked
    doc = json.loads((out / "solution.json").read_text(encoding="utf-8"))
    assert {t["source"] for t in doc["travel_times"].values()} == {"estimate"}
    assert "ESTIMATE" in doc["demand"]["weight_note"]
    for name in ("clinic_20min", "ems_response", "ems_radius"):
        assert doc["coverage"][name]["met"] is True
    zones = pd.read_csv(out / "zones.csv", dtype={"zone_id": str})
    town = CASES[slug][1]
    assert town in set(zones["name"])
    # >= 1 120 station per township
    assert (zones["sites_ems"] >= 1).all()
    layers = json.loads((out / "layers.json").read_text(encoding="utf-8"))
    zl = next(layer for layer in layers["layers"] if layer["name"] == "zones")
    assert "APPROXIMATE" in zl["note"]
    report = (out / "report.html").read_text(encoding="utf-8")
    assert town in report and "乡镇边界为近似" in report
    villages = pd.read_csv(configs / "data" / slug / "villages.csv", dtype=str)
    assert villages["name"].str.endswith(("村", "社区", "居委会", "合计, 驻地)")).all()
    _, quota, qout = run_case(configs / f"{slug}_quota.yaml", tmp_path / "quota")
    assert quota.status.value == "optimal"
    posts = pd.read_csv(qout / "posts.csv")
    assert posts["facility_id"].str.startswith("THC-").all()


def test_prepare_county_writes_a_case_that_validates(tmp_path, monkeypatch):
    shared_path("data", "cn-village-points-adcode", "coverage_by_county.csv")
    monkeypatch.chdir(tmp_path)
    out = tmp_path / "configs" / "data" / "anlong"
    assert main(["prepare", "county", "522328", "--out", str(out), "--name", "anlong", "-q"]) == 0
    case = yaml.safe_load((out / "case.yaml").read_text(encoding="utf-8"))
    assert case["roads"] == "estimate"
    assert "PLACEHOLDER" in case["demand"]["weight_note"]
    prepared = prepare_case(out / "case.yaml")
    assert len(prepared.problem.demand) == 169  # 安龙县: 169 of 187 villages located
    assert prepared.zone_polygons and len(prepared.zone_polygons) >= 11
    assert (out / "quota.yaml").exists() and (out / "README.md").exists()


@pytest.mark.parametrize(
    ("adcode", "message"),
    [("999999", "unknown county code"), ("330681", "too few located villages")],
)
def test_prepare_county_refuses_bad_counties(tmp_path, adcode, message, capsys):
    shared_path("data", "cn-village-points-adcode", "coverage_by_county.csv")
    assert main(["prepare", "county", adcode, "--out", str(tmp_path / "x")]) == 1
    assert message in capsys.readouterr().err
    from geodata.county import load_county

    with pytest.raises(CaseError, match=message):
        load_county(adcode)


@pytest.mark.network
def test_fenghuang_on_osm_roads_by_changing_one_line(tmp_path):
    """``roads: network`` downloads the county's OSM roads (osmnx, cached); never in CI."""
    configs = tmp_path / "configs"
    shutil.copytree(ROOT / "configs" / "data" / "fenghuang", configs / "data" / "fenghuang")
    text = (ROOT / "configs" / "fenghuang.yaml").read_text(encoding="utf-8")
    assert text.count("roads: estimate\n") == 1
    case = configs / "fenghuang.yaml"
    case.write_text(text.replace("roads: estimate\n", "roads: network\n"), encoding="utf-8")
    _, sol, out = run_case(case, tmp_path / "out")
    doc = json.loads((out / "solution.json").read_text(encoding="utf-8"))
    assert {t.get("source", "network") for t in doc["travel_times"].values()} == {"network"}
    assert sol.checked or sol.status.value == "infeasible"


def test_townships_without_located_villages_get_a_seat_point(tmp_path, monkeypatch):
    """邵阳县 has townships whose villages have no position: their residents sit at the seat."""
    shared_path("data", "cn-village-points-adcode", "coverage_by_county.csv")
    monkeypatch.chdir(tmp_path)
    from geodata.county import build_county

    written = build_county("430523", tmp_path / "sy")
    villages = pd.read_csv(written["villages"], dtype=str)
    seats = villages[villages["village_id"].str.endswith("-seat")]
    assert len(seats) >= 3 and seats["name"].str.contains("未定位村合计").all()
    sites = pd.read_csv(written["sites"], dtype=str)
    assert sites["site_id"].is_unique
    prepared = prepare_case(written["case"])
    assert len(prepared.problem.demand) == len(villages)


def test_prepare_county_refuses_a_negative_population(tmp_path, capsys):
    shared_path("data", "cn-village-points-adcode", "coverage_by_county.csv")
    args = ["prepare", "county", "433123", "--out", str(tmp_path / "x"), "--population", "-5"]
    assert main(args) == 1
    assert "positive number of residents" in capsys.readouterr().err
    assert not (tmp_path / "x").exists()
