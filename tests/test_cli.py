"""The command line end to end: outputs, exit codes, atomic writes, reproducibility."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pandas as pd
import pytest

from optimizer.cli import main

from .test_case_validation import CASE, _files


def test_demo_runs_and_writes_every_file(tmp_path, capsys):
    out = tmp_path / "demo"
    assert main(["demo", "--out", str(out), "-q"]) == 0
    stdout = capsys.readouterr().out
    assert "Status: OPTIMAL" in stdout and "Coverage:" in stdout
    sol = json.loads((out / "solution.json").read_text(encoding="utf-8"))
    for key in (
        "status",
        "objective",
        "best_bound",
        "gap",
        "solver",
        "chosen_sites",
        "coverage",
    ):
        assert key in sol, key
    assert sol["status"] == "optimal" and sol["gap"] == 0
    assert sol["checked_on_raw_data"] is True
    times = json.loads((out / "timings.json").read_text(encoding="utf-8"))["solution.json"]
    assert "runtime_s" not in sol and times["runtime_s"] >= 0  # timings apart: reruns identical
    # solver.method auto: the clinic block (equal-cost PSCLP) in SCIP when installed
    assert sol["solver"]["backend"] in ("scip + highs", "highs") and sol["solver"]["version"]
    sites = pd.read_csv(out / "sites.csv")
    assert sites["chosen"].sum() == sum(len(v) for v in sol["chosen_sites"].values())
    demand = pd.read_csv(out / "demand.csv")
    cov = sol["coverage"]["walk15"]
    assert demand.loc[demand["covered_walk15"] == 1, "weight"].sum() == pytest.approx(
        cov["covered"]
    )
    assert (
        sol["coverage"]["ems_9min"]["share"] == 1.0 and sol["coverage"]["ems_9min"]["met"] is True
    )
    assert sol["coverage"]["ems_3_5km"]["met"] is True
    walk = sol["coverage"]["walk15"]
    assert walk["share"] >= 0.95 and walk["met"] is True and walk["min_share"] == 0.95
    assert sol["objective"] == sol["cost"]["total"]
    assert sol["cost"]["total"] == 800_000 * len(sol["chosen_sites"]["clinic"]) + 3_000_000 * len(
        sol["chosen_sites"]["ems"]
    )
    assert sol["travel_times"]["drive"]["mode"] == "drive"
    assert sol["travel_times"]["walk"]["demand"]["not_snapped"] == 0
    assert "ESTIMATE" in sol["demand"]["weight_note"]
    # zoned by the real 街道 of central Chengdu, boundaries flagged approximate; no grid left
    zones = pd.read_csv(out / "zones.csv", dtype={"zone_id": str})
    assert {"春熙路街道", "草市街街道"} <= set(zones["name"]) and zones["name"].str.endswith(
        "街道"
    ).all()
    report = (out / "report.html").read_text(encoding="utf-8")
    assert "春熙路街道" in report and "G0000" not in report and "网格" not in report
    assert "乡镇边界为近似" in report
    assert "街道" in stdout.split("lowest zones:")[1].splitlines()[0]
    layers = json.loads((out / "layers.json").read_text(encoding="utf-8"))
    zl = next(layer for layer in layers["layers"] if layer["name"] == "zones")
    assert "APPROXIMATE" in zl["note"]
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["case_sha256"] and manifest["inputs_sha256"]
    assert not [p for p in out.iterdir() if p.name.startswith(".")], "no staging leftovers"


def test_run_case_with_zones_and_existing(tmp_case, tmp_path, capsys):
    path = tmp_case(CASE, _files())
    out = tmp_path / "out"
    assert main(["run", str(path), "--out", str(out), "-q"]) == 0
    sol = json.loads((out / "solution.json").read_text())
    assert sol["chosen_sites"]["clinic"][0] == "s1", "existing site kept"
    zones = pd.read_csv(out / "zones.csv")
    assert set(zones["zone_id"]) == {"t1", "t2"}
    assert {"share_t15", "sites_clinic", "new_clinic"} <= set(zones.columns)
    demand = pd.read_csv(out / "demand.csv")
    assert {"nearest_clinic", "nearest_clinic_min", "covered_t15"} <= set(demand.columns)


def test_time_limit_override_is_recorded(tmp_case, tmp_path):
    """The limit honoured is the one written: the command line's override, not the case's."""
    path = tmp_case(CASE, _files())
    out = tmp_path / "out"
    assert main(["run", str(path), "--out", str(out), "--time-limit", "7.5", "-q"]) == 0
    sol = json.loads((out / "solution.json").read_text())
    assert sol["solver"]["time_limit_s"] == 7.5
    assert sol["solver"]["method_reason"].startswith("auto: compact")


def test_rerun_is_byte_identical(tmp_case, tmp_path):
    path = tmp_case(CASE, _files())
    a, b = tmp_path / "a", tmp_path / "b"
    assert main(["run", str(path), "--out", str(a), "-q"]) == 0
    assert main(["run", str(path), "--out", str(b), "-q"]) == 0
    for name in ("sites.csv", "demand.csv", "zones.csv"):
        assert (a / name).read_bytes() == (b / name).read_bytes(), name


@pytest.mark.parametrize("backend", ["cbc", "ortools"])
def test_backend_override(tmp_case, tmp_path, backend):
    path = tmp_case(CASE, _files())
    out = tmp_path / backend
    assert main(["run", str(path), "--out", str(out), "--backend", backend, "-q"]) == 0
    sol = json.loads((out / "solution.json").read_text())
    assert sol["solver"]["backend"] == backend and sol["status"] == "optimal"


def test_bad_input_exit_code_and_nothing_written(tmp_case, tmp_path, capsys):
    path = tmp_case(CASE.replace("minutes: 15", "minutes: -1"), _files())
    out = tmp_path / "out"
    out.mkdir()
    (out / "solution.json").write_text('{"previous": true}')
    (out / "manifest.json").write_text("{}")  # an earlier run's folder
    assert main(["run", str(path), "--out", str(out)]) == 1
    err = capsys.readouterr().err
    assert "standards[0].minutes" in err
    assert json.loads((out / "solution.json").read_text()) == {"previous": True}, (
        "earlier results kept"
    )


def test_infeasible_exit_code_and_diagnosis_written(tmp_case, tmp_path, capsys):
    bad = CASE.replace("{name: t15, minutes: 15}", "{name: t15, minutes: 15, min_share: 1.0}")
    path = tmp_case(bad, _files())
    out = tmp_path / "out"
    assert main(["run", str(path), "--out", str(out), "-q"]) == 2
    sol = json.loads((out / "solution.json").read_text())
    assert sol["status"] == "infeasible"
    assert "v2" in " ".join(sol["diagnosis"]) or "v3" in " ".join(sol["diagnosis"])
    assert "Why no plan exists" in capsys.readouterr().out


def test_validate_command(tmp_case, capsys):
    path = tmp_case(CASE, _files())
    assert main(["validate", str(path)]) == 0
    assert "is valid" in capsys.readouterr().out


def test_python_dash_m_entry_point(tmp_case, tmp_path):
    path = tmp_case(CASE, _files())
    out = tmp_path / "m"
    proc = subprocess.run(
        [sys.executable, "-m", "optimizer", "run", str(path), "--out", str(out), "-q"],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "PYTHONWARNINGS": "ignore"},
    )
    assert proc.returncode == 0, proc.stderr
    assert "Running HiGHS" not in proc.stdout, "solver banners must not pollute the summary"
    assert (out / "solution.json").exists()


def test_phased_case_writes_build_order(tmp_case, tmp_path, capsys):
    phased = CASE.replace(
        "  max_new_sites: 1\n",
        "  phases:\n    - {name: '2025', budget: 10}\n    - {name: '2026', budget: 12}\n",
    )
    path = tmp_case(phased, _files())
    out = tmp_path / "phased"
    assert main(["run", str(path), "--out", str(out), "-q"]) == 0
    sol = json.loads((out / "solution.json").read_text())
    assert [p["phase"] for p in sol["phases"]] == ["2025", "2026"]
    assert all(p["spent"] <= p["budget"] for p in sol["phases"])
    sites = pd.read_csv(out / "sites.csv", dtype={"build_phase": str})
    assert sites.loc[sites["site_id"] == "s1", "build_phase"].iloc[0] == "existing"
    assert "Phase 2025" in capsys.readouterr().out
