"""Trade-off sweeps: every point equals brute force, the frontier is monotone, files are written."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from optimizer.cli import main
from optimizer.scenarios.sweep import parse_values, set_path
from optimizer.schema.coverage import CoverageModelConfig, Standard

from .brute import brute_force
from .conftest import OBJ_RTOL, random_instance


def _write_case(tmp_path, seed=3):
    model = CoverageModelConfig(kind="mclp", standards=[Standard(name="t", minutes=9)], budget=1)
    problem, dense = random_instance(seed, model, n_demand=16, n_sites=8)
    d, s = problem.demand, problem.sites
    pd.DataFrame({"id": d.ids, "pop": d.weight, "zone": d.zone}).to_csv(
        tmp_path / "demand.csv", index=False
    )
    pd.DataFrame({"id": s.ids, "cost": s.cost, "zone": s.zone}).to_csv(
        tmp_path / "sites.csv", index=False
    )
    tt = problem.travel_times["drive"]
    pd.DataFrame({"d": d.ids[tt.demand_index], "s": s.ids[tt.site_index], "min": tt.value}).to_csv(
        tmp_path / "tt.csv", index=False
    )
    (tmp_path / "case.yaml").write_text(
        """
name: sweep test
demand: {file: demand.csv, columns: {id: id, weight: pop, zone: zone}}
sites: {file: sites.csv, columns: {id: id, cost: cost, zone: zone}, facility_type: clinic}
travel_times: {file: tt.csv, columns: {demand_id: d, site_id: s, value: min}}
model: {kind: mclp, standards: [{name: t, minutes: 9}], budget: 1}
"""
    )
    return tmp_path / "case.yaml", dense


def test_budget_sweep_matches_brute_force_and_is_monotone(tmp_path):
    path, dense = _write_case(tmp_path)
    out = tmp_path / "sweep"
    assert (
        main(
            [
                "sweep",
                str(path),
                "--param",
                "model.budget",
                "--values",
                "0:12:3",
                "--out",
                str(out),
                "-q",
            ]
        )
        == 0
    )
    frontier = pd.read_csv(out / "frontier.csv")
    assert list(frontier["value"]) == [0, 3, 6, 9, 12]
    for _, row in frontier.iterrows():
        dense.model = dense.model.model_copy(update={"budget": float(row["value"])})
        assert row["objective"] == pytest.approx(brute_force(dense), rel=OBJ_RTOL)
        assert row["status"] == "optimal" and row["cost"] <= row["value"] + 1e-9
    assert np.all(np.diff(frontier["objective"].to_numpy()) >= -1e-9)
    assert frontier["monotone"].iloc[1:].astype(bool).all()
    for name in ("frontier.png", "frontier.svg"):
        assert (out / name).stat().st_size > 1000
    assert (out / "points" / "004" / "solution.json").exists()


def test_sweep_over_a_standard_and_bad_values(tmp_path):
    path, _ = _write_case(tmp_path)
    out = tmp_path / "sweep2"
    code = main(
        [
            "sweep",
            str(path),
            "--param",
            "model.standards[0].minutes",
            "--values",
            "6,9,12",
            "--out",
            str(out),
            "--workers",
            "1",
            "-q",
        ]
    )
    assert code == 0
    frontier = pd.read_csv(out / "frontier.csv")
    assert np.all(np.diff(frontier["share_t"].to_numpy()) >= -1e-12), (
        "a longer standard never lowers coverage"
    )
    assert (
        main(
            [
                "sweep",
                str(path),
                "--param",
                "model.budget",
                "--values=-5,3",
                "--out",
                str(tmp_path / "x"),
            ]
        )
        == 1
    )


def test_parse_values_and_set_path():
    assert parse_values("1,2.5,4") == [1.0, 2.5, 4.0]
    assert parse_values("0:10:5") == [0.0, 5.0, 10.0]
    with pytest.raises(ValueError):
        parse_values("0:10:0")
    data = {"model": {"standards": [{"minutes": 15}]}}
    set_path(data, "model.standards[0].minutes", 20)
    set_path(data, "model.max_new_sites.clinic", 3)
    assert data["model"]["standards"][0]["minutes"] == 20 and data["model"]["max_new_sites"] == {
        "clinic": 3
    }
    with pytest.raises(KeyError):
        set_path(data, "model.standards[5].minutes", 1)
