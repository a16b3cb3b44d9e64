"""``mode: estimate`` travel times: hand computation, settings, the independent check, the
flags in every output, the roads switch, and the calibration table's reproduction."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from geodata.estimate import (
    EstimateParams,
    default_params,
    error_band,
    estimate_table,
    great_circle_m,
    setting_of_classes,
)
from geodata.estimate_case import check_estimate
from optimizer.case.loading import load_case
from optimizer.case.prepare import prepare_case
from optimizer.case.run import run_case
from optimizer.errors import CaseError, CheckError
from optimizer.schema.data import EstimateTravelTimesConfig

from .conftest import ROOT, shared_path

R = 6_371_008.8
ONE_DEG_M = R * math.pi / 180  # a meridian degree on the sphere: 111,195.08 m


def test_great_circle_matches_hand_computation():
    assert great_circle_m(0.0, 0.0, 0.0, 1.0) == pytest.approx(ONE_DEG_M, rel=1e-12)
    # along the equator, 90 degrees = a quarter of the circumference
    assert great_circle_m(0.0, 0.0, 90.0, 0.0) == pytest.approx(R * math.pi / 2, rel=1e-12)


def test_estimate_table_by_hand():
    params = EstimateParams(
        "ebike", {"urban": 1.2, "rural": 1.5}, {"urban": 15.0, "rural": 20.0}, 100.0, 5.0
    )
    d = (np.array([0.0, 0.0]), np.array([0.0, 0.5]))
    s = (np.array([0.0]), np.array([1.0]))
    settings = np.array(["rural", "urban"], dtype=object)
    tt = estimate_table("t", d, s, settings, params)
    # rural: 1 degree x 1.5 at 20 km/h + 2 x 100 m at 5 km/h
    rural = ONE_DEG_M * 1.5 / 20_000 * 60 + 200 / 5_000 * 60
    urban = ONE_DEG_M / 2 * 1.2 / 15_000 * 60 + 200 / 5_000 * 60
    assert tt.unit == "min" and len(tt) == 2
    np.testing.assert_allclose(tt.to_csr().toarray().ravel(), [rural, urban], rtol=1e-12)
    km = estimate_table("k", d, s, settings, params, measure="distance")
    np.testing.assert_allclose(
        km.to_csr().toarray().ravel(), [ONE_DEG_M * 1.5 + 200, ONE_DEG_M / 2 * 1.2 + 200]
    )


def test_independent_check_catches_a_wrong_value():
    params = default_params("drive")
    d = (np.array([109.5, 109.6]), np.array([28.0, 28.1]))
    s = (np.array([109.55]), np.array([28.05]))
    settings = np.array(["rural", "urban"], dtype=object)
    tt = estimate_table("drive", d, s, settings, params)
    check_estimate(tt, d, s, settings, params, "time")  # agrees
    tt.value[1] *= 1.001
    with pytest.raises(CheckError, match="differ from the independent recomputation"):
        check_estimate(tt, d, s, settings, params, "time")


def test_settings_from_nbs_codes_and_classes():
    got, unknown = setting_of_classes(
        np.array(["111", "121", "210", "220", "urban", "", "venue"], dtype=object), 7, "rural"
    )
    assert got.tolist()[:6] == ["urban", "urban", "rural", "rural", "urban", "rural"]
    assert unknown == ["venue"]
    got, unknown = setting_of_classes(np.array(["venue"]), 1, "rural", {"venue": "urban"})
    assert got.tolist() == ["urban"] and not unknown


def test_defaults_come_from_the_committed_calibration():
    table = pd.read_csv(ROOT / "geodata" / "data" / "estimate_calibration.csv")
    pooled = table[(table["band_km"] == "all") & (table["mode"] == "ebike")].set_index("setting")
    p = default_params("ebike", speed_kph={"rural": 12.0})
    assert p.circuity["rural"] == pooled.loc["rural", "circuity"]
    assert p.circuity["urban"] == pooled.loc["urban", "circuity"]
    assert p.speed_kph == {"urban": pooled.loc["urban", "speed_kph"], "rural": 12.0}
    band = error_band("rural", "drive")
    assert band["calibrated_on"] == "andorra" and band["error_p10_pct"] < 0 < band["error_p90_pct"]


def _case(tmp_path: Path, travel: dict, *, classes: list[str] | None = None) -> Path:
    rows = [("v1", 100, 109.50, 28.00), ("v2", 200, 109.52, 28.01), ("v3", 50, 109.60, 28.05)]
    demand = pd.DataFrame(rows, columns=["id", "population", "lon", "lat"])
    if classes:
        demand["class"] = classes
    demand.to_csv(tmp_path / "d.csv", index=False)
    pd.DataFrame(
        [("s1", "clinic", 109.50, 28.00), ("s2", "clinic", 109.60, 28.05)],
        columns=["id", "type", "lon", "lat"],
    ).to_csv(tmp_path / "s.csv", index=False)
    case = {
        "name": "estimate test",
        "demand": {
            "file": "d.csv",
            "columns": {"id": "id", "x": "lon", "y": "lat"}
            | ({"class": "class"} if classes else {}),
            "crs": "EPSG:4326",
        },
        "sites": {
            "file": "s.csv",
            "columns": {"id": "id", "type": "type", "x": "lon", "y": "lat"},
            "crs": "EPSG:4326",
        },
        "travel_times": travel,
        "model": {
            "kind": "mclp",
            "standards": [{"name": "m15", "minutes": 15, "facility_types": ["clinic"]}],
            "max_new_sites": {"clinic": 1},
        },
    }
    path = tmp_path / "case.yaml"
    path.write_text(yaml.safe_dump(case, allow_unicode=True), encoding="utf-8")
    return path


def test_case_with_explicit_parameters_matches_hand_computation(tmp_path):
    travel = {
        "mode": "estimate",
        "by": "ebike",
        "setting": "rural",
        "circuity": 1.4,
        "speed_kph": 18,
    }
    prepared = prepare_case(_case(tmp_path, travel))
    tt = prepared.problem.travel_times["travel_times"].to_csr().toarray()
    d = great_circle_m(109.52, 28.01, 109.50, 28.00)
    assert tt[1, 0] == pytest.approx(d * 1.4 / 18_000 * 60, rel=1e-9)
    assert prepared.estimates["travel_times"].checked


def test_unknown_class_is_a_clear_error(tmp_path):
    travel = {"mode": "estimate", "by": "walk"}
    with pytest.raises(CaseError, match="class_settings"):
        prepare_case(_case(tmp_path, travel, classes=["220", "111", "market"]))


def test_every_output_says_estimate(tmp_path):
    travel = {"mode": "estimate", "by": "ebike"}
    _, sol, out = run_case(_case(tmp_path, travel), tmp_path / "out")
    assert sol.checked
    tt = json.loads((out / "solution.json").read_text(encoding="utf-8"))["travel_times"]
    rec = tt["travel_times"]
    assert rec["source"] == "estimate" and rec["checked_independently"] is True
    assert rec["error_band"][0]["calibrated_on"] == "andorra"
    assert "ESTIMATE" in (out / "summary.txt").read_text(encoding="utf-8")
    report = (out / "report.html").read_text(encoding="utf-8")
    assert "出行时间为估算（无路网）" in report and "标定路网 andorra" in report
    layers = json.loads((out / "layers.json").read_text(encoding="utf-8"))
    assert "travel_times" in layers["travel_times_estimated"]
    assert all("TRAVEL TIMES" in layer["note"] for layer in layers["layers"])


def test_roads_switch_turns_network_tables_into_estimates():
    case = load_case(ROOT / "configs" / "fenghuang.yaml")
    assert case.config.roads == "estimate"
    tables = case.config.travel_times
    assert all(isinstance(t, EstimateTravelTimesConfig) for t in tables.values())
    assert (tables["ebike"].by, tables["drive_km"].measure) == ("ebike", "distance")
    text = (ROOT / "configs" / "fenghuang.yaml").read_text(encoding="utf-8")
    online = yaml.safe_load(text.replace("roads: estimate", "roads: network"))
    assert online["travel_times"]["ebike"]["network"] == "roads"


def test_calibration_script_reproduces_the_committed_table():
    shared_path("data", "osm-andorra", "andorra_drive.graphml.gz")
    run = subprocess.run(
        [
            sys.executable,
            str(ROOT / "benchmarks" / "estimate_calibration.py"),
            "--networks",
            "andorra",
            "--check",
        ],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
    )
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]
    assert "matches the committed table" in run.stdout


def test_mixed_roads_where_given_estimate_beyond(tmp_path):
    """far_points: estimate - points beyond the roads get the calibrated estimate, the rest is
    routed; the summary and solution.json say which."""
    shared_path("data", "osm-andorra", "andorra_drive.graphml.gz")
    case = yaml.safe_load((ROOT / "configs" / "andorra.yaml").read_text(encoding="utf-8"))
    for part in ("demand", "sites", "zones"):
        for key in ("file", "geometry"):
            if key in case[part]:
                case[part][key] = str(ROOT / "configs" / case[part][key])
    case["networks"]["roads"]["file"] = str(
        shared_path("data", "osm-andorra", "andorra_drive.graphml.gz")
    )
    case["travel_times"]["ebike"].update(max_snap_m=60, far_points="estimate")
    path = tmp_path / "mixed.yaml"
    path.write_text(yaml.safe_dump(case, allow_unicode=True), encoding="utf-8")
    prepared = prepare_case(path)
    rep = prepared.routing["ebike"]
    far = rep.demand_snap.a < 0
    assert 0 < far.sum() < len(far)
    est = prepared.estimates["ebike"]
    assert est.scope.startswith(f"{int(far.sum())} demand points")
    tt = prepared.problem.travel_times["ebike"]
    dem = prepared.problem.demand
    sites = prepared.problem.sites
    i = int(np.flatnonzero(far)[0])
    rows = tt.demand_index == i
    assert rows.any()
    d = great_circle_m(
        dem.x[i], dem.y[i], sites.x[tt.site_index[rows]], sites.y[tt.site_index[rows]]
    )
    p = default_params("ebike")
    np.testing.assert_allclose(
        tt.value[rows], d * p.circuity["rural"] / p.speed_kph["rural"] * 0.06
    )
    doc = rep.to_dict()  # the travel_times.ebike record of solution.json
    assert doc["network"] == "roads" and doc["estimated"]["source"] == "estimate"
    assert "beyond the roads" in doc["note"] and "beyond the roads" in est.note()
    assert "drive" not in prepared.estimates
