"""Network travel times inside a case file: CRS handling, GCJ-02, bad input named by id."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from geodata.crs import wgs84_to_gcj02
from optimizer.case.prepare import prepare_case
from optimizer.errors import CaseError
from optimizer.models.coverage.solve import solve_coverage
from optimizer.solvers import Status

from .conftest import shared_path


def _setup(
    tmp_path, crs="EPSG:4326", transform=None, extra_points=None, tt_extra="", network_extra=""
):
    base = shared_path("data", "osm-andorra")
    nodes = pd.read_csv(base / "andorra_drive_nodes.csv.gz")
    rng = np.random.default_rng(0)
    pick = rng.choice(len(nodes), 60, replace=False)
    lon = nodes["lon"].to_numpy()[pick] + 0.0003
    lat = nodes["lat"].to_numpy()[pick]
    if transform is not None:
        lon, lat = transform(lon, lat)
    demand = pd.DataFrame(
        {
            "id": [f"v{k}" for k in range(50)],
            "population": rng.integers(50, 500, 50),
            "lon": lon[:50],
            "lat": lat[:50],
        }
    )
    if extra_points is not None:
        demand = pd.concat([demand, extra_points], ignore_index=True)
    sites = pd.DataFrame({"id": [f"s{k}" for k in range(10)], "lon": lon[50:], "lat": lat[50:]})
    demand.to_csv(tmp_path / "demand.csv", index=False)
    sites.to_csv(tmp_path / "sites.csv", index=False)
    case = f"""
name: andorra network case
demand: {{file: demand.csv, columns: {{id: id, weight: population, x: lon, y: lat}}, crs: {crs}}}
sites: {{file: sites.csv, columns: {{id: id, x: lon, y: lat}}, crs: {crs}, facility_type: clinic}}
networks:
  roads: {{file: {base / "andorra_drive_edges.csv.gz"}, nodes_file: {base / "andorra_drive_nodes.csv.gz"}{network_extra}}}
travel_times:
  drive: {{network: roads, mode: drive, direction: demand_to_site, max_snap_m: 800{tt_extra}}}
model:
  kind: mclp
  standards: [{{name: t15, minutes: 15}}]
  max_new_sites: 3
"""
    path = tmp_path / "case.yaml"
    path.write_text(case, encoding="utf-8")
    return path


def test_network_case_solves_and_reports_routing(tmp_path):
    prepared = prepare_case(_setup(tmp_path))
    tt = prepared.problem.travel_times["drive"]
    assert len(tt) > 0 and tt.unit == "min" and tt.value.max() <= 15 + 1e-9
    report = prepared.routing["drive"].to_dict()
    assert report["demand"]["snapped"] == 50 and report["sites"]["snapped"] == 10
    assert report["cutoff"] == 15
    sol = solve_coverage(prepared.problem)
    assert sol.status == Status.OPTIMAL


def test_gcj02_points_are_converted(tmp_path):
    """Villages exported from 高德 (GCJ-02) snap onto the WGS-84 roads only when declared so."""
    # a 6 x 6 street grid (300 m) in Zhuji, in true WGS-84 as OSM has it
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
    wlon = lon0 + rng.uniform(0, 5 * step, 12)
    wlat = lat0 + step * rng.integers(0, 6, 12)  # on east-west streets
    glon, glat = wgs84_to_gcj02(wlon, wlat)
    pd.DataFrame(
        {"id": [f"v{k}" for k in range(8)], "pop": 100, "lon": glon[:8], "lat": glat[:8]}
    ).to_csv(tmp_path / "demand.csv", index=False)
    pd.DataFrame({"id": [f"s{k}" for k in range(4)], "lon": glon[8:], "lat": glat[8:]}).to_csv(
        tmp_path / "sites.csv", index=False
    )

    def case(crs):
        text = f"""
name: gcj
demand: {{file: demand.csv, columns: {{id: id, weight: pop, x: lon, y: lat}}, crs: {crs}}}
sites: {{file: sites.csv, columns: {{id: id, x: lon, y: lat}}, crs: {crs}}}
networks: {{roads: {{file: edges.csv, nodes_file: nodes.csv}}}}
travel_times: {{drive: {{network: roads, max_snap_m: 60}}}}
model: {{kind: mclp, standards: [{{name: t, minutes: 10}}], max_new_sites: 1}}
"""
        path = tmp_path / f"case-{crs}.yaml"
        path.write_text(text)
        return path

    prepared = prepare_case(case("GCJ-02"))
    rep = prepared.routing["drive"]
    assert rep.demand_snap.distance_m.max() < 1.0, "converted back onto the streets"
    with pytest.raises(CaseError, match="farther than max_snap_m=60"):
        prepare_case(case("EPSG:4326"))  # the ~500 m offset is caught, not silently snapped


def test_missing_crs_is_an_error(tmp_path):
    path = _setup(tmp_path, crs="null")
    with pytest.raises(CaseError, match=r"demand\.crs: coordinates have no CRS"):
        prepare_case(path)


def test_projected_coordinates_declared_as_lonlat(tmp_path):
    path = _setup(tmp_path, transform=lambda lon, lat: (lon * 100000, lat * 100000))
    with pytest.raises(CaseError, match=r"not longitude/latitude|out of range for the lon/lat CRS"):
        prepare_case(path)


def test_points_outside_network_named(tmp_path):
    extra = pd.DataFrame({"id": ["far_away"], "population": [10], "lon": [2.35], "lat": [48.85]})
    with pytest.raises(CaseError) as err:
        prepare_case(_setup(tmp_path, extra_points=extra))
    assert "outside the network's extent: far_away" in str(err.value)


def test_points_far_from_roads_named_or_unreachable(tmp_path):
    extra = pd.DataFrame({"id": ["summit"], "population": [10], "lon": [1.505], "lat": [42.60]})
    with pytest.raises(CaseError) as err:
        prepare_case(_setup(tmp_path, extra_points=extra))
    assert "summit" in str(err.value) and "max_snap_m=800" in str(err.value)
    prepared = prepare_case(
        _setup(tmp_path, extra_points=extra, tt_extra=", far_points: unreachable")
    )
    assert "summit" in prepared.routing["drive"].unreachable_demand


def test_points_no_standard_reads_are_not_routed(tmp_path):
    """A venue far from any road, of a class the table's only standard does not cover, is
    neither an error nor 'unreachable': it is simply not in that table."""
    extra = pd.DataFrame({"id": ["summit"], "population": [10], "lon": [1.505], "lat": [42.60]})
    path = _setup(tmp_path, extra_points=extra)
    demand = pd.read_csv(tmp_path / "demand.csv")
    demand["class"] = np.where(demand["id"] == "summit", "venue", "rural")
    demand.to_csv(tmp_path / "demand.csv", index=False)
    text = path.read_text(encoding="utf-8")
    text = text.replace("weight: population,", "weight: population, class: class,")
    text = text.replace("{name: t15, minutes: 15}", "{name: t15, minutes: {rural: 15}}")
    path.write_text(text, encoding="utf-8")
    prepared = prepare_case(path)
    report = prepared.routing["drive"].to_dict()
    assert report["demand"]["not_used"] == 1 and report["demand"]["snapped"] == 50
    assert report["demand"]["not_snapped"] == 0 and report["unreachable_demand"] == []
    summit = int(np.flatnonzero(prepared.problem.demand.ids == "summit")[0])
    assert summit not in set(prepared.problem.travel_times["drive"].demand_index.tolist())
    # the same point subject to the standard is an error again
    path.write_text(text.replace("{rural: 15}", "{rural: 15, venue: 15}"), encoding="utf-8")
    with pytest.raises(CaseError, match="summit"):
        prepare_case(path)


def test_empty_network_file_is_an_error(tmp_path):
    (tmp_path / "nodes.csv").write_text("osmid,lon,lat\n1,1.5,42.5\n")
    (tmp_path / "edges.csv").write_text("u,v,highway,length_m\n")
    path = _setup(tmp_path)
    text = path.read_text()
    base = shared_path("data", "osm-andorra")
    text = text.replace(str(base / "andorra_drive_edges.csv.gz"), "edges.csv").replace(
        str(base / "andorra_drive_nodes.csv.gz"), "nodes.csv"
    )
    path.write_text(text)
    with pytest.raises(CaseError, match="no edges"):
        prepare_case(path)


def test_unknown_network_and_missing_coordinates(tmp_path):
    path = _setup(tmp_path)
    text = path.read_text().replace("network: roads", "network: highways")
    text = text.replace("columns: {id: id, x: lon, y: lat}", "columns: {id: id}")
    path.write_text(text)
    with pytest.raises(CaseError) as err:
        prepare_case(path)
    msg = str(err.value)
    assert "no network of this name (got 'highways')" in msg
    assert "needs point coordinates" in msg


def test_truncated_table_refused_for_a_longer_standard(tmp_path):
    """A table cut at 10 min must not silently under-count a 15-minute standard."""
    path = _setup(tmp_path, tt_extra=", cutoff: 10")
    with pytest.raises(
        CaseError, match=r"complete only up to 10 min, but model\.standards\[0\] needs 15"
    ):
        prepare_case(path)


def test_unknown_road_class_and_a_mode_with_no_usable_road_are_named(tmp_path):
    path = _setup(tmp_path, tt_extra=", speeds_kph: {高速: 80}")
    with pytest.raises(CaseError, match=r"speeds_kph\.高速: no road of this class") as err:
        prepare_case(path)
    assert "motorway" in str(err.value)
    edges = pd.read_csv(shared_path("data", "osm-andorra", "andorra_drive_edges.csv.gz"))
    zeros = ", ".join(f"'{c}': 0" for c in sorted(set(edges["highway"])))
    path = _setup(tmp_path, tt_extra=f", speeds_kph: {{{zeros}}}")
    with pytest.raises(CaseError, match="mode 'drive' can use no road of network 'roads'"):
        prepare_case(path)


def test_graphml_without_node_coordinates_is_named(tmp_path):
    (tmp_path / "g.graphml").write_text(
        '<?xml version="1.0" encoding="utf-8"?>\n'
        '<graphml xmlns="http://graphml.graphdrawing.org/xmlns">\n'
        '<key id="d0" for="edge" attr.name="length" attr.type="string"/>\n'
        '<key id="d1" for="graph" attr.name="crs" attr.type="string"/>\n'
        '<graph edgedefault="directed"><data key="d1">epsg:4326</data>\n'
        '<node id="1"/><node id="2"/>\n'
        '<edge source="1" target="2"><data key="d0">100</data></edge>\n'
        "</graph></graphml>\n",
        encoding="utf-8",
    )
    (tmp_path / "d.csv").write_text("id,w,x,y\nv1,10,1.5,42.5\n")
    (tmp_path / "s.csv").write_text("id,x,y\ns1,1.5,42.5\n")
    (tmp_path / "case.yaml").write_text(
        "name: gx\n"
        "demand: {file: d.csv, columns: {id: id, weight: w, x: x, y: y}, crs: EPSG:4326}\n"
        "sites: {file: s.csv, columns: {id: id, x: x, y: y}, crs: EPSG:4326, facility_type: clinic}\n"
        "networks:\n  roads: {file: g.graphml}\n"
        "travel_times:\n  drive: {network: roads, mode: drive}\n"
        "model: {kind: mclp, standards: [{name: t15, minutes: 15}], max_new_sites: 1}\n",
        encoding="utf-8",
    )
    with pytest.raises(CaseError, match="lack the attribute 'x'") as err:
        prepare_case(tmp_path / "case.yaml")
    assert "networks.roads" in str(err.value) and "g.graphml" in str(err.value)
