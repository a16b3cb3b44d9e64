"""The Python API: the README example runs; cases from data solve like case files; errors are
CaseErrors; the certificate and outputs are those of ``run``."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import pytest

import optimizer
from optimizer.cli import main
from optimizer.errors import CaseError

from .test_case_validation import CASE, DEMAND, SITES, TT, _files

ROOT = Path(__file__).resolve().parents[1]


def _readme_example() -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    block = re.search(r"<!-- api-example -->\s*```python\n(.*?)```", text, re.S)
    assert block is not None, "README.md lost its Python API example"
    return block.group(1)


def test_readme_example_solves_an_mclp_from_a_geodataframe_in_five_lines():
    code = _readme_example()
    assert len([line for line in code.splitlines() if line.strip()]) <= 5
    scope: dict[str, object] = {}
    exec(compile(code, "README.md", "exec"), scope)
    result = scope["result"]
    assert isinstance(result, optimizer.Result)
    assert result.status == "optimal"
    assert result.objective == pytest.approx(2000.0) and result.bound == pytest.approx(2000.0)
    sites = result.tables()["sites"]
    assert sites.set_index("site_id")["chosen"].to_dict() == {"s1": 1, "s2": 0}
    chosen = result.layers()["chosen_sites"]
    assert isinstance(chosen, gpd.GeoDataFrame) and chosen.crs is not None
    assert list(chosen["site_id"]) == ["s1"]


def test_load_case_from_path_and_from_text_equals_run(tmp_case, tmp_path):
    path = tmp_case(CASE, _files())
    out = tmp_path / "cli"
    assert main(["run", str(path), "--out", str(out), "-q"]) == 0
    cli = json.loads((out / "solution.json").read_text(encoding="utf-8"))
    from_path = optimizer.solve(optimizer.load_case(path))
    from_text = optimizer.solve(optimizer.load_case(CASE, base_dir=path.parent), time_limit_s=9)
    for result in (from_path, from_text):
        assert (result.status, result.objective, result.bound) == (
            cli["status"],
            cli["objective"],
            cli["best_bound"],
        )
    written = from_text.write(tmp_path / "api")
    sol = json.loads((written / "solution.json").read_text(encoding="utf-8"))
    assert sol["objective"] == cli["objective"] and sol["solver"]["time_limit_s"] == 9.0
    assert (written / "sites.csv").read_bytes() == (out / "sites.csv").read_bytes()


def _frames():
    demand = pd.read_csv(io.StringIO(DEMAND)).rename(columns={"vid": "id"})
    sites = pd.read_csv(io.StringIO(SITES)).rename(columns={"sid": "id"})
    tt = pd.read_csv(io.StringIO(TT)).set_axis(["demand_id", "site_id", "minutes"], axis=1)
    return demand, sites, tt


MODELS = {
    "mclp": {"kind": "mclp", "standards": [{"name": "t15", "minutes": 15}], "max_new_sites": 1},
    "p_median": {"kind": "p_median", "p": 3},
    "p_center": {"kind": "p_center", "p": 3},
}


@pytest.mark.parametrize("kind", list(MODELS))
def test_long_table_dense_matrix_and_labelled_matrix_agree(kind):
    demand, sites, tt = _frames()
    columns = {"demand_columns": {"weight": "pop", "zone": "town"}}
    cols = {"sites_columns": {"type": "kind", "zone": "town", "existing": "exist"}}
    long = optimizer.solve(
        optimizer.case_from_data(demand, sites, tt, MODELS[kind], **columns, **cols)
    )
    labelled = tt.pivot_table(index="demand_id", columns="site_id", values="minutes")
    dense = labelled.reindex(index=demand["id"], columns=sites["id"]).to_numpy()
    for travel in (dense, labelled):
        other = optimizer.solve(
            optimizer.case_from_data(demand, sites, travel, MODELS[kind], **columns, **cols)
        )
        assert (other.status, other.objective, other.bound) == (
            long.status,
            long.objective,
            long.bound,
        )
    assert long.status == "optimal"


def test_bad_data_is_a_case_error_naming_the_row_and_column():
    demand, sites, tt = _frames()
    demand.loc[1, "pop"] = -5
    case = optimizer.case_from_data(
        demand, sites, tt, MODELS["mclp"], demand_columns={"weight": "nope"}
    )
    with pytest.raises(CaseError, match="nope"):  # the data is read by solve, as by run
        optimizer.solve(case)
    with pytest.raises(CaseError) as err:
        optimizer.solve(
            optimizer.case_from_data(
                demand, sites, tt, MODELS["mclp"], demand_columns={"weight": "pop"}
            )
        )
    assert "line" in str(err.value) and "v2" in str(err.value)
    with pytest.raises(CaseError, match="one row per demand point"):
        optimizer.case_from_data(demand, sites, np.ones((2, 2)), MODELS["p_median"])
    with pytest.raises(CaseError, match=r"max_new_sites|limit"):
        optimizer.case_from_data(
            demand, sites, tt, {"kind": "mclp", "standards": [{"name": "a", "minutes": 5}]}
        )


def test_road_graph_is_routed_like_a_network_case():
    """A networkx/osmnx graph: the toolkit snaps the points and routes on it."""
    g = nx.MultiDiGraph(crs="EPSG:4326")
    xs = [120.000, 120.010, 120.020, 120.030]
    for k, x in enumerate(xs):
        g.add_node(k, x=x, y=29.7)
    for a, b in zip(range(3), range(1, 4), strict=True):
        for u, v in ((a, b), (b, a)):
            g.add_edge(u, v, length=967.0, highway="residential", oneway=False, osmid=10 + a)
    demand = gpd.GeoDataFrame(
        {"id": ["v0", "v3"], "population": [100, 300]},
        geometry=gpd.points_from_xy([120.0, 120.03], [29.7, 29.7]),
        crs="EPSG:4326",
    )
    sites = gpd.GeoDataFrame(
        {"id": ["s1", "s2"]}, geometry=gpd.points_from_xy([120.01, 120.03], [29.7, 29.7]), crs=4326
    )
    model = {"kind": "p_median", "p": 1}
    result = optimizer.solve(optimizer.case_from_data(demand, sites, g, model))
    assert result.status == "optimal"
    assert result.tables()["sites"].set_index("site_id")["chosen"].to_dict() == {"s1": 0, "s2": 1}


def test_zones_and_phases_from_data():
    """Zone targets and a phased roll-out built from data, with zone polygons for the layers."""
    from shapely.geometry import box

    demand, sites, tt = _frames()
    zones = gpd.GeoDataFrame(
        {"id": ["t1", "t2"], "name": ["Town 1", "Town 2"]},
        geometry=[box(0, 0, 1, 1), box(1, 0, 2, 1)],
        crs="EPSG:4326",
    )
    model = {
        "kind": "mclp",
        "standards": [{"name": "t15", "minutes": 15}],
        "phases": [{"name": "2025", "max_new_sites": 1}, {"name": "2026", "max_new_sites": 1}],
    }
    case = optimizer.case_from_data(
        demand,
        sites,
        tt,
        model,
        demand_columns={"weight": "pop", "zone": "town"},
        sites_columns={"zone": "town", "existing": "exist"},
        zones=zones,
        zones_columns={"name": "name"},
    )
    result = optimizer.solve(case)
    assert result.status == "optimal" and result.family.name == "phased"
    tables = result.tables()
    assert set(tables["zones"]["zone_id"]) == {"t1", "t2"}
    assert "build_phase" in tables["sites"].columns
