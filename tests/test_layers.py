"""GIS layers of a run, read back with pyogrio/geopandas (and ogrinfo when installed)."""

from __future__ import annotations

import json
import shutil
import subprocess

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely

from geodata.catchments import DEFAULT_BUFFER_M
from geodata.crs import gcj02_to_wgs84, wgs84_to_gcj02
from optimizer.case.prepare import prepare_case
from optimizer.case.run import run_case
from optimizer.errors import CaseError
from optimizer.families import family_of
from optimizer.outputs.layers import LAYER_NAMES

from .conftest import ROOT

GEOMETRY = {
    "candidate_sites": "Point",
    "chosen_sites": "Point",
    "demand": "Point",
    "uncovered_demand": "Point",
    "catchments": "MultiPolygon",
    "zones": "MultiPolygon",
    "roads": "LineString",
}


def _roads(run):
    """Streets of the roads layer (read from the GeoJSON; every one a real, valid line)."""
    import shapely

    roads = gpd.read_file(run / "geojson" / "roads.geojson")
    geoms = roads.geometry.to_numpy()
    assert len(roads) > 500 and shapely.is_valid(geoms).all()
    assert (shapely.length(geoms) > 0).all()
    return len(roads)


def _csv(run, name):
    return pd.read_csv(run / name, dtype={"demand_id": str, "site_id": str, "zone_id": str})


def test_andorra_layers_match_the_tables(andorra_runs):
    _, _, run = andorra_runs[7]
    gpkg = run / "layers.gpkg"
    names = [str(n) for n, _ in pyogrio.list_layers(gpkg)]
    assert names == [*LAYER_NAMES, "layer_styles"]  # + QGIS's default style of each layer
    sites, demand, zones = _csv(run, "sites.csv"), _csv(run, "demand.csv"), _csv(run, "zones.csv")
    sol = json.loads((run / "solution.json").read_text(encoding="utf-8"))
    covered = [c for c in demand.columns if c.startswith("covered_")]
    open_ids = sorted(i for ids in sol["chosen_sites"].values() for i in ids)
    by_type = {t: len(ids) for t, ids in sol["chosen_sites"].items()}
    expected_catchments = sum(
        sum(by_type[t] for t in s["facility_types"]) for s in sol["model"]["standards"]
    )
    rows = {
        "candidate_sites": len(sites),
        "chosen_sites": int(sites["chosen"].sum()),
        "demand": len(demand),
        "uncovered_demand": int(sum((demand[c] == 0).sum() for c in covered)),
        "catchments": expected_catchments,
        "zones": len(zones),
        "roads": _roads(run),
    }
    for name in LAYER_NAMES:
        info = pyogrio.read_info(gpkg, layer=name)
        assert info["crs"] == "EPSG:4326", name
        assert info["geometry_type"] == GEOMETRY[name], name
        assert info["features"] == rows[name], name
        gj = gpd.read_file(run / "geojson" / f"{name}.geojson")
        assert len(gj) == rows[name] and gj.crs.to_epsg() == 4326, name
    chosen = gpd.read_file(gpkg, layer="chosen_sites")
    assert sorted(chosen["site_id"]) == open_ids
    # demand points are the input coordinates exactly, with the CSV's coverage flags
    layer = gpd.read_file(gpkg, layer="demand").set_index("demand_id")
    villages = pd.read_csv(ROOT / "configs/data/andorra/villages.csv", dtype={"village_id": str})
    villages = villages.set_index("village_id").loc[layer.index]
    assert np.array_equal(layer.geometry.x.to_numpy(), villages["lon"].to_numpy())
    assert np.array_equal(layer.geometry.y.to_numpy(), villages["lat"].to_numpy())
    d = demand.set_index("demand_id").loc[layer.index]
    for c in covered:
        assert np.array_equal(layer[c].to_numpy(dtype=float), d[c].to_numpy(dtype=float)), c
    # uncovered: every (point, standard) with covered_<s> == 0, nothing else
    unc = gpd.read_file(gpkg, layer="uncovered_demand")
    got = sorted(zip(unc["standard"], unc["demand_id"], strict=True))
    want = sorted(
        (c[len("covered_") :], i) for c in covered for i in demand.loc[demand[c] == 0, "demand_id"]
    )
    assert got == want
    assert (
        unc["nearest_value"].dropna() > unc.loc[unc["nearest_value"].notna(), "threshold"]
    ).all()
    # zones: six parish boundaries from the case, Canillo (no OSM boundary) a flagged hull
    z = gpd.read_file(gpkg, layer="zones").set_index("zone_id")
    assert z.loc["canillo", "approximate"] == 1
    assert (z.drop(index="canillo")["approximate"] == 0).all()
    assert np.allclose(
        z["share_clinic_15min"], zones.set_index("zone_id").loc[z.index, "share_clinic_15min"]
    )
    if shutil.which("ogrinfo"):
        out = subprocess.run(
            ["ogrinfo", "-ro", "-so", "-al", str(gpkg)], capture_output=True, text=True, check=True
        ).stdout
        for name in LAYER_NAMES:
            assert f"Layer name: {name}" in out
        assert f"Feature Count: {rows['demand']}" in out


def test_catchments_hold_the_demand_their_site_covers(andorra_runs):
    """A point covered by its nearest clinic within 15 minutes lies in that clinic's catchment,
    or - when it is farther from the road than the buffer - at most its snapping distance minus
    the buffer away (plus the simplification tolerance)."""
    prep, _, run = andorra_runs[7]
    catch = gpd.read_file(run / "layers.gpkg", layer="catchments")
    assert set(catch["method"]) == {"network"}
    c15 = catch[catch["standard"] == "clinic_15min"].set_index("site_id")
    demand = gpd.read_file(run / "layers.gpkg", layer="demand")
    snap = dict(
        zip(
            map(str, prep.problem.demand.ids),
            prep.routing["ebike"].demand_snap.distance_m,
            strict=True,
        )
    )
    utm = "EPSG:32631"
    c15m, dm = c15.to_crs(utm), demand.to_crs(utm)
    near = dm[dm["nearest_clinic_min"] <= 15]
    assert len(near) > 40
    for _, row in near.iterrows():
        d = c15m.loc[row["nearest_clinic"], "geometry"].distance(row.geometry)
        allowed = max(0.0, snap[row["demand_id"]] - DEFAULT_BUFFER_M) + DEFAULT_BUFFER_M / 4 + 1
        assert d <= allowed, (row["demand_id"], d, snap[row["demand_id"]])
    # residents_within equals the sites table's figure
    sites = _csv(run, "sites.csv").set_index("site_id")
    assert np.allclose(
        c15["residents_within"], sites.loc[c15.index, "residents_within_clinic_15min"]
    )
    far = dm[dm["nearest_clinic_min"].isna() | (dm["nearest_clinic_min"] > 15)]
    union = shapely.union_all(c15m.geometry.to_numpy())
    assert (far.geometry.distance(union) > 0).mean() >= 0.5  # some touch the buffer's edge


def test_rerun_gives_byte_identical_layers(andorra_runs, tmp_path):
    prep, sol, run = andorra_runs[7]
    family_of(prep).write(prep, sol, tmp_path)
    for name in ["layers.gpkg", "layers.json", *(f"geojson/{n}.geojson" for n in LAYER_NAMES)]:
        assert (tmp_path / name).read_bytes() == (run / name).read_bytes(), name


def _grid_case(tmp_path, crs: str, transform) -> tuple:
    """A 6 x 6 street grid (300 m) in Zhuji in true WGS-84; points given in ``crs``."""
    lon0, lat0, step = 120.24, 29.71, 0.0031
    ids = np.arange(36).reshape(6, 6) + 1
    flat = ids.ravel()
    nodes = pd.DataFrame(
        {
            "osmid": flat,
            "lon": lon0 + step * ((flat - 1) % 6),
            "lat": lat0 + step * ((flat - 1) // 6),
        }
    )
    u = np.r_[ids[:, :-1].ravel(), ids[:, 1:].ravel(), ids[:-1, :].ravel(), ids[1:, :].ravel()]
    v = np.r_[ids[:, 1:].ravel(), ids[:, :-1].ravel(), ids[1:, :].ravel(), ids[:-1, :].ravel()]
    edges = pd.DataFrame({"u": u, "v": v, "highway": "residential", "length_m": 300.0})
    nodes.to_csv(tmp_path / "nodes.csv", index=False)
    edges.to_csv(tmp_path / "edges.csv", index=False)
    rng = np.random.default_rng(1)
    wlon = lon0 + rng.uniform(0, 5 * step, 16)
    wlat = lat0 + step * rng.integers(0, 6, 16)
    x, y = transform(wlon, wlat)
    zone = np.where(wlon < lon0 + 2.5 * step, "west", "east")
    pd.DataFrame(
        {
            "id": [f"v{k:02d}" for k in range(12)],
            "pop": 100,
            "zone": zone[:12],
            "x": x[:12],
            "y": y[:12],
        }
    ).to_csv(tmp_path / "demand.csv", index=False)
    pd.DataFrame(
        {"id": [f"s{k}" for k in range(4)], "zone": zone[12:], "x": x[12:], "y": y[12:]}
    ).to_csv(tmp_path / "sites.csv", index=False)
    text = f"""
name: grid {crs}
demand: {{file: demand.csv, columns: {{id: id, weight: pop, zone: zone, x: x, y: y}}, crs: "{crs}"}}
sites: {{file: sites.csv, columns: {{id: id, zone: zone, x: x, y: y}}, crs: "{crs}"}}
networks: {{roads: {{file: edges.csv, nodes_file: nodes.csv}}}}
travel_times: {{walk: {{network: roads, mode: walk, max_snap_m: 60}}}}
model: {{kind: mclp, standards: [{{name: t10, minutes: 10}}], max_new_sites: 2}}
"""
    path = tmp_path / "case.yaml"
    path.write_text(text, encoding="utf-8")
    return path, x, y, wlon, wlat


def test_gcj02_case_round_trips(tmp_path):
    """高德 coordinates come back as written (custom 'GCJ-02' CRS) and as true WGS-84."""
    case, gx, gy, wlon, wlat = _grid_case(tmp_path, "GCJ-02", wgs84_to_gcj02)
    _, sol, out = run_case(case, tmp_path / "run")
    gpkg = gpd.read_file(out / "layers.gpkg", layer="demand").sort_values("demand_id")
    assert "GCJ-02" in gpkg.crs.name and gpkg.crs.to_epsg() is None
    assert np.array_equal(gpkg.geometry.x.to_numpy(), gx[:12])
    assert np.array_equal(gpkg.geometry.y.to_numpy(), gy[:12])
    wgs = gpd.read_file(out / "layers_wgs84.gpkg", layer="demand").sort_values("demand_id")
    assert wgs.crs.to_epsg() == 4326
    assert np.allclose(wgs.geometry.x, wlon[:12], atol=1e-8)
    assert np.allclose(wgs.geometry.y, wlat[:12], atol=1e-8)
    gj = gpd.read_file(out / "geojson" / "demand.geojson").sort_values("demand_id")
    assert np.allclose(gj.geometry.x, wlon[:12], atol=1e-7)
    # sites and catchments: GCJ-02 in layers.gpkg is the WGS-84 layer shifted by GCJ-02
    s_g = gpd.read_file(out / "layers.gpkg", layer="candidate_sites").sort_values("site_id")
    assert np.array_equal(s_g.geometry.x.to_numpy(), gx[12:])
    c_g = gpd.read_file(out / "layers.gpkg", layer="catchments")
    c_w = gpd.read_file(out / "layers_wgs84.gpkg", layer="catchments")
    assert len(c_g) == len(c_w) == 2
    xy_g = shapely.get_coordinates(c_g.geometry.to_numpy())
    xy_w = shapely.get_coordinates(c_w.geometry.to_numpy())
    back = np.c_[gcj02_to_wgs84(xy_g[:, 0], xy_g[:, 1])]
    assert np.allclose(back, xy_w, atol=1e-8)
    index = json.loads((out / "layers.json").read_text(encoding="utf-8"))
    assert index["crs"] == "GCJ-02" and "layers_wgs84.gpkg" in index["files"]
    z = gpd.read_file(out / "layers.gpkg", layer="zones")
    assert sorted(z["zone_id"]) == ["east", "west"] and (z["approximate"] == 1).all()
    assert sol.status.has_solution


def test_projected_crs_case(tmp_path):
    """A case in a projected CRS (CGCS2000 / 3-degree GK CM 120E) gets its layers in that CRS."""
    from geodata.crs import from_wgs84

    case, x, y, _, _ = _grid_case(
        tmp_path, "EPSG:4549", lambda lon, lat: from_wgs84(lon, lat, "EPSG:4549")
    )
    _, _, out = run_case(case, tmp_path / "run")
    layer = gpd.read_file(out / "layers.gpkg", layer="demand").sort_values("demand_id")
    assert layer.crs.to_epsg() == 4549
    assert np.array_equal(layer.geometry.x.to_numpy(), x[:12])
    assert np.array_equal(layer.geometry.y.to_numpy(), y[:12])
    assert not (out / "layers_wgs84.gpkg").exists()
    assert gpd.read_file(out / "geojson" / "demand.geojson").crs.to_epsg() == 4326


def test_zone_geometry_file_errors_are_named(tmp_path):
    text = (ROOT / "configs" / "andorra.yaml").read_text(encoding="utf-8")
    text = text.replace("data/andorra/", str(ROOT / "configs" / "data" / "andorra") + "/")
    text = text.replace("../../shared", str(ROOT.parent / "shared"))
    bad = text.replace("parishes.geojson", "nowhere.geojson")
    path = tmp_path / "case.yaml"
    path.write_text(bad, encoding="utf-8")
    with pytest.raises(CaseError, match=r"zones\.geometry: file not found"):
        prepare_case(path)
    path.write_text(text.replace("parishes.geojson", "villages.csv"), encoding="utf-8")
    with pytest.raises(CaseError, match=r"zones\.geometry: not a GIS file"):
        prepare_case(path)
