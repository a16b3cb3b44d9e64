"""Travel times certified against the roads (issue 12 items 1-2 and the independent router).

Property tests on random small road graphs (curved edges, one-way streets, ferries, off-road
points): the routed table equals the independent router of :mod:`geodata.verify`, which follows
the densified road lines with its own reader, rules and Dijkstra; a point beside a site is within
its direct off-road leg; splitting an edge into two along its shape changes no time. Regression
tests on the real Andorra roads: shapes carried by every loader, village trips that follow them,
a clinic in the village itself, and a run whose table is wrong failing its check.
"""

from __future__ import annotations

import math
from dataclasses import replace
from functools import cache

import networkx as nx
import numpy as np
import pandas as pd
import pyproj
import pytest
import shapely
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from geodata.matrix import network_travel_times
from geodata.network import RoadNetwork
from geodata.osm import graph_from_file, graph_from_pbf
from geodata.snap import snap_points
from geodata.speeds import profile_for
from geodata.verify import IndependentRouter, RouterRules, roads_from_graph
from optimizer.certify_roads import NOT_CHECKED, check_table
from optimizer.errors import CheckError

from .conftest import shared_path

LON0, LAT0 = 104.0, 30.6
M_LON, M_LAT = 1 / 96_000, 1 / 111_000  # degrees per metre here


def rules_for(profile, *, measure="time", max_snap_m=5000.0, components="largest"):
    return RouterRules(
        mode=profile.mode,
        measure=measure,
        speeds_kph=dict(profile.speeds_kph),
        default_kph=profile.default_kph,
        use_maxspeed=profile.use_maxspeed,
        maxspeed_factor=profile.maxspeed_factor,
        overridden=frozenset(profile.overrides),
        ignore_oneway=profile.ignore_oneway,
        ferry_kph=profile.ferry_kph,
        ferry_boarding_min=profile.ferry_boarding_min,
        access_kph=profile.access_kph,
        max_snap_m=max_snap_m,
        snap_exclude=frozenset(),
        components=components,
    )


_UTM = pyproj.Transformer.from_crs(4326, 32648, always_xy=True)  # the zone of LON0


def _line_length_m(coords):
    """Length of a lon/lat line in UTM metres (so split halves keep their shares exactly)."""
    xy = np.c_[_UTM.transform(*np.asarray(coords).T)]
    return float(np.hypot(*np.diff(xy, axis=0).T).sum())


@st.composite
def road_graphs(draw):
    """A jittered 3 x 3 grid of junctions ~600 m apart: some streets curved, some one-way, one
    possibly a ferry, random classes and speed limits."""
    G = nx.MultiDiGraph(crs="epsg:4326")
    for i in range(3):
        for j in range(3):
            dx = draw(st.floats(-150, 150))
            dy = draw(st.floats(-150, 150))
            G.add_node(10 * i + j, x=LON0 + (600 * i + dx) * M_LON, y=LAT0 + (600 * j + dy) * M_LAT)
    pairs = [(10 * i + j, 10 * (i + 1) + j) for i in range(2) for j in range(3)]
    pairs += [(10 * i + j, 10 * i + j + 1) for i in range(3) for j in range(2)]
    ferry_at = draw(st.integers(-1, len(pairs) - 1))
    for k, (a, b) in enumerate(pairs):
        if not draw(st.booleans()) and k % 3:  # keep a spanning-ish backbone
            continue
        pa = (G.nodes[a]["x"], G.nodes[a]["y"])
        pb = (G.nodes[b]["x"], G.nodes[b]["y"])
        bend = draw(st.floats(-250, 250))
        mid = ((pa[0] + pb[0]) / 2 + bend * M_LON, (pa[1] + pb[1]) / 2 - bend * M_LAT)
        coords = [pa, mid, pb] if abs(bend) > 20 else [pa, pb]
        attrs = {
            "highway": draw(st.sampled_from(["primary", "residential", "track", "tertiary"])),
            "length": _line_length_m(coords),
        }
        if draw(st.booleans()):
            attrs["maxspeed"] = str(draw(st.sampled_from([20, 30, 60])))
        if k == ferry_at:
            attrs = {"route": "ferry", "highway": "ferry", "length": attrs["length"]}
            if draw(st.booleans()):
                attrs["duration"] = "00:12"
        one_way = draw(st.integers(0, 3)) == 0
        G.add_edge(a, b, geometry=shapely.LineString(coords), **attrs)
        if not one_way:
            G.add_edge(b, a, geometry=shapely.LineString(coords[::-1]), **attrs)
    return G


def _points(draw, n):
    lon = [LON0 + draw(st.floats(-100, 1300)) * M_LON for _ in range(n)]
    lat = [LAT0 + draw(st.floats(-100, 1300)) * M_LAT for _ in range(n)]
    return np.array(lon), np.array(lat)


def _table(net, profile, d_ll, s_ll, direction, measure="time", components="largest"):
    usable = net.usable_edges(profile, components=components)
    dem = snap_points(net, *d_ll, usable_edges=usable, max_snap_m=5000)
    sit = snap_points(net, *s_ll, usable_edges=usable, max_snap_m=5000)
    tt = network_travel_times(
        net, profile, dem, sit, direction=direction, measure=measure, workers=1
    )
    table = np.full((d_ll[0].size, s_ll[0].size), np.inf)
    table[tt.demand_index, tt.site_index] = tt.value
    return table, dem, sit


def _independent(G, profile, d_ll, s_ll, direction, measure="time"):
    router = IndependentRouter(roads_from_graph(G), rules_for(profile, measure=measure))
    dem = list(zip(*d_ll, strict=True))
    sit = list(zip(*s_ll, strict=True))
    nd, ns = len(dem), len(sit)
    if direction == "demand_to_site":
        pairs = [(d, s) for d in range(nd) for s in range(ns)]
        found = router.trips(dem, sit, pairs)
    else:
        pairs = [(s, d) for d in range(nd) for s in range(ns)]
        found = router.trips(sit, dem, pairs)
    return {(k // ns, k % ns): c for k, c in enumerate(found)}


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    G=road_graphs(),
    data=st.data(),
    mode=st.sampled_from(["drive", "ebike", "walk"]),
    direction=st.sampled_from(["demand_to_site", "site_to_demand"]),
    measure=st.sampled_from(["time", "time", "distance"]),
)
def test_table_equals_independent_router(G, data, mode, direction, measure):
    profile = profile_for(mode)
    d_ll, s_ll = _points(data.draw, 5), _points(data.draw, 4)
    net = RoadNetwork.from_graph(G, "random")
    table, _, _ = _table(net, profile, d_ll, s_ll, direction, measure)
    ref = _independent(G, profile, d_ll, s_ll, direction, measure)
    for (d, s), cands in ref.items():
        got = table[d, s]
        if math.isfinite(got):
            # the independent router densifies the lines (straight in lon/lat) before projecting
            # them: mm along a 600 m street
            tol = 1e-3 if measure == "time" else 0.05
            assert min(abs(got - c) for c in cands) <= tol, (d, s, got, cands)
        else:
            assert not any(math.isfinite(c) for c in cands), (d, s, cands)


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(G=road_graphs(), data=st.data(), mode=st.sampled_from(["drive", "walk"]))
def test_point_beside_a_site_is_within_its_direct_leg(G, data, mode):
    """A site at or near a demand point: the trip is no longer than the straight off-road leg
    whenever that leg is shorter than going out to the road and back."""
    profile = profile_for(mode)
    d_lon, d_lat = _points(data.draw, 4)
    shift = [data.draw(st.floats(0, 300)) for _ in range(4)]
    s_lon, s_lat = d_lon + np.array(shift) * M_LON, d_lat.copy()
    s_lon[0], s_lat[0] = d_lon[0], d_lat[0]  # one clinic in the village itself
    net = RoadNetwork.from_graph(G, "random")
    table, dem, sit = _table(net, profile, (d_lon, d_lat), (s_lon, s_lat), "demand_to_site")
    per_m = 0.06 / profile.access_kph
    for k in np.flatnonzero(dem.ok & sit.ok):  # points outside the roads' extent: no trips
        straight = math.hypot(dem.x[k] - sit.x[k], dem.y[k] - sit.y[k])
        if straight < dem.distance_m[k] + sit.distance_m[k]:
            assert table[k, k] <= straight * per_m + 1e-9
    if dem.ok[0] and dem.distance_m[0] > 0:
        assert table[0, 0] <= 1e-9


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(G=road_graphs(), data=st.data(), mode=st.sampled_from(["drive", "ebike", "walk"]))
def test_splitting_an_edge_along_its_shape_changes_no_time(G, data, mode):
    curved = [  # a ferry's duration tag is per crossing: not split
        (a, b, k)
        for a, b, k, d in G.edges(keys=True, data=True)
        if len(d["geometry"].coords) == 3 and d.get("route") != "ferry"
    ]
    if not curved:
        return
    a, b, key = curved[0]
    d = dict(G.edges[a, b, key])
    line = list(d["geometry"].coords)
    H = G.copy()
    H.add_node(999, x=line[1][0], y=line[1][1])
    first, second = _line_length_m(line[:2]), _line_length_m(line[1:])
    for u, v, coords, part in ((a, 999, line[:2], first), (999, b, line[1:], second)):
        attrs = {**d, "geometry": shapely.LineString(coords), "length": part}
        H.add_edge(u, v, **attrs)
    H.remove_edge(a, b, key)
    back = [k for k, dd in G.get_edge_data(b, a, default={}).items() if dd["length"] == d["length"]]
    if back:
        rev = dict(G.edges[b, a, back[0]])
        H.remove_edge(b, a, back[0])
        for u, v, coords, part in ((b, 999, line[2:0:-1], second), (999, a, line[1::-1], first)):
            H.add_edge(u, v, **{**rev, "geometry": shapely.LineString(coords), "length": part})
    profile = profile_for(mode)
    d_ll, s_ll = _points(data.draw, 5), _points(data.draw, 3)
    # snapping onto any part: the largest part is counted in junctions, and the new junction can
    # make another part the largest
    g, h = RoadNetwork.from_graph(G, "g"), RoadNetwork.from_graph(H, "h")
    whole, _, _ = _table(g, profile, d_ll, s_ll, "demand_to_site", components="all")
    split, _, _ = _table(h, profile, d_ll, s_ll, "demand_to_site", components="all")
    np.testing.assert_allclose(split, whole, rtol=1e-9, atol=1e-6)


# --- regression on the real Andorra roads (issue 12 items 1 and 2) -----------------------------


@cache
def andorra_graph():
    return graph_from_file(shared_path("data", "osm-andorra", "andorra_drive.graphml.gz"))


def test_every_loader_carries_road_shapes():
    base = shared_path("data", "osm-andorra")
    from_graphml = RoadNetwork.from_graph(andorra_graph(), "graphml")
    assert (from_graphml.n_shaped, from_graphml.n_edges) == (1976, 2388)
    tables = RoadNetwork.from_tables(
        pd.read_csv(base / "andorra_drive_nodes.csv.gz"),
        pd.read_csv(base / "andorra_drive_edges.csv.gz"),
        "csv",
    )
    assert tables.n_shaped == 2388  # the CSV writes every edge's line, straight ones included
    nodes, edges = from_graphml.edge_tables()  # the compact on-disk form round-trips them
    assert RoadNetwork.from_tables(nodes, edges, "again").n_shaped == 1976


@pytest.mark.slow
def test_pbf_loader_carries_road_shapes():
    """The raw extract read with pyosmium: 2,470 of 2,940 drive edges carry a line (~15 s)."""
    base = shared_path("data", "osm-andorra")
    pbf = RoadNetwork.from_graph(graph_from_pbf(base / "andorra.osm.pbf", "drive"), "pbf")
    assert pbf.n_shaped > 0.5 * pbf.n_edges


def test_shape_drawn_backwards_is_turned_and_broken_one_dropped():
    G = nx.MultiDiGraph(crs="epsg:4326")
    G.add_node(1, x=LON0, y=LAT0)
    G.add_node(2, x=LON0 + 500 * M_LON, y=LAT0)
    bent = [(LON0, LAT0), (LON0 + 250 * M_LON, LAT0 + 100 * M_LAT), (LON0 + 500 * M_LON, LAT0)]
    G.add_edge(1, 2, highway="primary", length=540.0, geometry=shapely.LineString(bent[::-1]))
    far = [(LON0 + 0.01, LAT0), (LON0 + 500 * M_LON, LAT0)]
    G.add_edge(2, 1, highway="primary", length=500.0, geometry=shapely.LineString(far))
    net = RoadNetwork.from_graph(G, "g")
    assert net.geometry is not None
    np.testing.assert_allclose(net.geometry[0][0], bent[0])  # now u -> v
    assert net.geometry[1] is None  # ends ~1 km from its nodes: drawn straight


@cache
def andorra_villages():
    from pathlib import Path

    root = Path(__file__).resolve().parents[1] / "configs" / "data" / "andorra"
    v = pd.read_csv(root / "villages.csv")
    s = pd.read_csv(root / "sites.csv")
    return v, s[s["type"] == "clinic"].reset_index(drop=True)


def _nearest(table):
    return np.min(table, axis=1)


def test_andorra_village_trips_follow_the_road_shapes():
    """Nearest-clinic e-bike time of every village (60) against the independent router: none off
    by more than 0.5 min (in fact within the check's 0.05 min)."""
    v, s = andorra_villages()
    profile = profile_for("ebike")
    net = RoadNetwork.from_graph(andorra_graph(), "andorra")
    d_ll = (v["lon"].to_numpy(), v["lat"].to_numpy())
    s_ll = (s["lon"].to_numpy(), s["lat"].to_numpy())
    usable = net.usable_edges(profile)
    dem = snap_points(net, *d_ll, usable_edges=usable, max_snap_m=1500)
    sit = snap_points(net, *s_ll, usable_edges=usable, max_snap_m=1500)
    tt = network_travel_times(net, profile, dem, sit, direction="demand_to_site", workers=1)
    table = np.full((len(v), len(s)), np.inf)
    table[tt.demand_index, tt.site_index] = tt.value
    router = IndependentRouter(
        roads_from_graph(andorra_graph()), rules_for(profile, max_snap_m=1500)
    )
    pairs = [(d, k) for d in range(len(v)) for k in range(len(s))]
    found = router.trips(list(zip(*d_ll, strict=True)), list(zip(*s_ll, strict=True)), pairs)
    ref = np.array([min(c) for c in found]).reshape(len(v), len(s))
    off = np.abs(_nearest(table) - _nearest(ref))
    assert int((off > 0.5).sum()) == 0
    assert off.max() <= 0.05
    # the old chord-only network (shapes dropped) is caught by the check
    chords = replace(net, geometry=None)
    usable = chords.usable_edges(profile)
    dem0 = snap_points(chords, *d_ll, usable_edges=usable, max_snap_m=1500)
    sit0 = snap_points(chords, *s_ll, usable_edges=usable, max_snap_m=1500)
    tt0 = network_travel_times(chords, profile, dem0, sit0, direction="demand_to_site", workers=1)
    old = np.full((len(v), len(s)), np.inf)
    old[tt0.demand_index, tt0.site_index] = tt0.value
    assert np.abs(_nearest(old) - _nearest(ref)).max() > 0.5


class _Points:
    def __init__(self, ids, lon, lat):
        self.ids, self.x, self.y, self.crs = np.asarray(ids), lon, lat, "EPSG:4326"

    def __len__(self):
        return len(self.ids)


def test_check_fails_a_table_routed_on_chords():
    """The run's check (CheckError, exit 3) catches the dropped-shapes table of issue 12."""
    v, s = andorra_villages()
    profile = profile_for("ebike")
    chords = replace(RoadNetwork.from_graph(andorra_graph(), "andorra"), geometry=None)
    d_ll = (v["lon"].to_numpy(), v["lat"].to_numpy())
    s_ll = (s["lon"].to_numpy(), s["lat"].to_numpy())
    usable = chords.usable_edges(profile)
    dem = snap_points(chords, *d_ll, usable_edges=usable, max_snap_m=1500)
    sit = snap_points(chords, *s_ll, usable_edges=usable, max_snap_m=1500)
    tt = network_travel_times(
        chords, profile, dem, sit, direction="demand_to_site", cutoff_min=20, workers=1
    )
    router = IndependentRouter(
        roads_from_graph(andorra_graph()), rules_for(profile, max_snap_m=1500)
    )
    block = check_table(
        tt,
        router,
        direction="demand_to_site",
        demand=_Points(v["village_id"], *d_ll),
        sites=_Points(s["site_id"], *s_ll),
        thresholds=[np.full(len(v), 15.0), np.full(len(v), 20.0)],
        used=(np.ones(len(v), bool), np.ones(len(s), bool)),
    )
    assert not block["passed"] and block["max_deviation"] > 0.05
    assert block["random_pairs"] == 200 and block["pairs_checked"] >= 200
    assert block["worst_pair"]["demand"] in set(v["village_id"])


def _village_case(tmp_path, *, shift_m=0.0, od_file=False):
    """One remote village and a clinic at (or near) its own coordinates, plus the real roads."""
    base = shared_path("data", "osm-andorra")
    lon, lat = 1.4445, 42.4457  # a mountainside 1.32 km from the nearest road
    pd.DataFrame({"id": ["village"], "population": [300], "lon": [lon], "lat": [lat]}).to_csv(
        tmp_path / "demand.csv", index=False
    )
    pd.DataFrame({"id": ["clinic"], "lon": [lon + shift_m * M_LON * 1.27], "lat": [lat]}).to_csv(
        tmp_path / "sites.csv", index=False
    )
    if od_file:
        pd.DataFrame({"from": ["village"], "to": ["clinic"], "minutes": [3.0]}).to_csv(
            tmp_path / "od.csv", index=False
        )
        tables = "od: {file: od.csv, columns: {demand_id: from, site_id: to, value: minutes}}"
        tables += "\n  # no roads"
        nets = ""
    else:
        tables = "ebike: {network: roads, mode: ebike, direction: demand_to_site, max_snap_m: 1500}"
        nets = f"networks:\n  roads: {{file: {base / 'andorra_drive.graphml.gz'}}}\n"
    (tmp_path / "case.yaml").write_text(
        f"""
name: a clinic in the village itself
demand: {{file: demand.csv, columns: {{id: id, weight: population, x: lon, y: lat}}, crs: EPSG:4326}}
sites: {{file: sites.csv, columns: {{id: id, x: lon, y: lat}}, crs: EPSG:4326, facility_type: clinic}}
{nets}travel_times:
  {tables}
model:
  kind: mclp
  standards: [{{name: t15, minutes: 15}}]
  max_new_sites: 1
""",
        encoding="utf-8",
    )
    return tmp_path / "case.yaml"


def test_clinic_in_the_village_itself_covers_it(tmp_path):
    """Issue 12 item 2: a village 1.2-1.4 km from the road and a clinic at its coordinates were
    35 min apart (the off-road leg walked out and back); the direct leg makes it 0 min."""
    from optimizer.case.prepare import prepare_case
    from optimizer.case.run import run_case

    path = _village_case(tmp_path)
    prepared = prepare_case(path)
    snap = prepared.routing["ebike"].demand_snap
    assert 1200 <= snap.distance_m[0] <= 1400
    tt = prepared.problem.travel_times["ebike"]
    assert tt.value.tolist() == [0.0]
    check = prepared.travel_times_check["ebike"]
    assert check["passed"] and check["pairs_checked"] == 1
    _, sol, out = run_case(path, tmp_path / "out")
    assert sol.evaluation.standards[0].share == pytest.approx(1.0)
    solution = (out / "solution.json").read_text(encoding="utf-8")
    assert '"travel_times_check"' in solution and '"max_deviation": 0.0' in solution


def test_od_table_is_reported_not_checked(tmp_path):
    from optimizer.case.prepare import prepare_case

    prepared = prepare_case(_village_case(tmp_path, od_file=True))
    assert prepared.travel_times_check == {"od": {"status": NOT_CHECKED}}


def test_perturbed_table_fails_the_run(tmp_path, monkeypatch):
    """A table value off by more than 0.05 min stops the run with CheckError (exit 3)."""
    import geodata.routing as routing
    from optimizer.case.prepare import prepare_case

    real = routing.network_travel_times

    def off_by_a_minute(*args, **kwargs):
        tt = real(*args, **kwargs)
        return replace(tt, value=tt.value + 0.1)

    monkeypatch.setattr(routing, "network_travel_times", off_by_a_minute)
    path = _village_case(tmp_path, shift_m=200.0)
    with pytest.raises(CheckError, match="deviates from the independent router"):
        prepare_case(path)
    from optimizer.cli import main

    assert main(["run", str(path), "--out", str(tmp_path / "out"), "-q"]) == 3
    assert not (tmp_path / "out" / "solution.json").exists()


def test_road_check_beside_the_solve_equals_the_check_before_it(tmp_path):
    """``run_any`` checks the roads in a thread beside the solve: same block as before it."""
    from optimizer.case.prepare import prepare_case, prepare_case_beside
    from optimizer.case.run import run_case

    path = _village_case(tmp_path, shift_m=200.0)
    before = prepare_case(path).travel_times_check
    prepared, check = prepare_case_beside(path)
    assert prepared.travel_times_check == {}  # not joined yet
    beside = check.result()
    assert {n: {k: v for k, v in b.items() if k != "seconds"} for n, b in beside.items()} == {
        n: {k: v for k, v in b.items() if k != "seconds"} for n, b in before.items()
    }
    prepared_run, _, out = run_case(path, tmp_path / "out")
    assert prepared_run.travel_times_check.keys() == before.keys()
    assert '"travel_times_check"' in (out / "solution.json").read_text(encoding="utf-8")


def test_failed_road_check_is_reported_before_a_failed_solve(tmp_path, monkeypatch):
    """Both fail: the road check's CheckError is raised (the tables are the cause), nothing
    is written."""
    import geodata.routing as routing
    import optimizer.case.run as run

    real = routing.network_travel_times

    def off_by_a_minute(*args, **kwargs):
        tt = real(*args, **kwargs)
        return replace(tt, value=tt.value + 0.1)

    def broken_solve(*args, **kwargs):
        raise RuntimeError("the solver broke")

    monkeypatch.setattr(routing, "network_travel_times", off_by_a_minute)
    monkeypatch.setattr(run, "solve_prepared", broken_solve)
    path = _village_case(tmp_path, shift_m=200.0)
    with pytest.raises(CheckError, match="deviates from the independent router"):
        run.run_case(path, tmp_path / "out")
    assert not (tmp_path / "out" / "solution.json").exists()


@pytest.mark.parametrize("bend_m", [0.0, 200.0])
def test_hand_checked_trip_on_a_straight_and_a_bent_road(bend_m):
    """One residential road A-B, 1,000 m between its junctions, straight or bent 200 m north at
    its middle; a village 300 m north of the middle, the clinic at B. By hand: off-road leg
    (300 - bend) m at 4.5 km/h, then half the road (length / 2) at 20 km/h."""
    east = 1000 * M_LON
    a, b = (LON0, LAT0), (LON0 + east, LAT0)
    mid = (LON0 + east / 2, LAT0 + bend_m * M_LAT)
    coords = [a, mid, b] if bend_m else [a, b]
    length = _line_length_m(coords)
    G = nx.MultiDiGraph(crs="epsg:4326")
    G.add_node(1, x=a[0], y=a[1])
    G.add_node(2, x=b[0], y=b[1])
    for u, v, line in ((1, 2, coords), (2, 1, coords[::-1])):
        G.add_edge(u, v, highway="residential", length=length, geometry=shapely.LineString(line))
    village = (np.array([mid[0]]), np.array([LAT0 + 300 * M_LAT]))
    clinic = (np.array([b[0]]), np.array([b[1]]))
    profile = profile_for("drive")
    off_m = _line_length_m([(mid[0], LAT0 + 300 * M_LAT), mid])
    by_hand = off_m / 75.0 + (length / 2) / (20_000 / 60)
    table, _, _ = _table(RoadNetwork.from_graph(G, "g"), profile, village, clinic, "demand_to_site")
    ref = _independent(G, profile, village, clinic, "demand_to_site")
    assert table[0, 0] == pytest.approx(by_hand, abs=1e-3)
    assert min(ref[(0, 0)]) == pytest.approx(by_hand, abs=1e-3)
    if bend_m:  # the chord would put the village 300 m off the road, not 100 m
        assert by_hand < 300 / 75.0 + 500 / (20_000 / 60)


@pytest.mark.slow
def test_andorra_resident_cells_follow_the_road_shapes():
    """The 516 resident cells of the joint case (issue 12's village siting case): 0 cells whose
    nearest clinic by e-bike is off by more than 0.5 min against the independent router."""
    from pathlib import Path

    root = Path(__file__).resolve().parents[1] / "configs" / "data" / "andorra"
    cells = pd.read_csv(root / "joint_demand.csv")
    cells = cells[cells["class"] != "venue"].reset_index(drop=True)
    _, s = andorra_villages()
    profile = profile_for("ebike")
    net = RoadNetwork.from_graph(andorra_graph(), "andorra")
    d_ll = (cells["lon"].to_numpy(), cells["lat"].to_numpy())
    s_ll = (s["lon"].to_numpy(), s["lat"].to_numpy())
    usable = net.usable_edges(profile)
    dem = snap_points(net, *d_ll, usable_edges=usable, max_snap_m=1500)
    sit = snap_points(net, *s_ll, usable_edges=usable, max_snap_m=1500)
    tt = network_travel_times(net, profile, dem, sit, direction="demand_to_site", workers=1)
    table = np.full((len(cells), len(s)), np.inf)
    table[tt.demand_index, tt.site_index] = tt.value
    router = IndependentRouter(
        roads_from_graph(andorra_graph()), rules_for(profile, max_snap_m=1500)
    )
    pairs = [(d, k) for d in range(len(cells)) for k in range(len(s))]
    found = router.trips(list(zip(*d_ll, strict=True)), list(zip(*s_ll, strict=True)), pairs)
    ref = np.array([min(c) for c in found]).reshape(len(cells), len(s)).min(axis=1)
    got = table.min(axis=1)
    assert len(cells) == 516
    assert int((np.abs(got - ref)[np.isfinite(ref)] > 0.5).sum()) == 0


def test_catchment_follows_the_bent_road():
    """The service area of a clinic at one end of a road bent 300 m north covers the bend, not
    the chord between the junctions (buffer 100 m)."""
    from geodata.catchments import network_service_areas

    east = 1000 * M_LON
    a, b = (LON0, LAT0), (LON0 + east, LAT0)
    apex = (LON0 + east / 2, LAT0 + 300 * M_LAT)
    coords = [a, apex, b]
    G = nx.MultiDiGraph(crs="epsg:4326")
    G.add_node(1, x=a[0], y=a[1])
    G.add_node(2, x=b[0], y=b[1])
    for u, v, line in ((1, 2, coords), (2, 1, coords[::-1])):
        G.add_edge(u, v, highway="residential", length=_line_length_m(coords),
                   geometry=shapely.LineString(line))  # fmt: skip
    net = RoadNetwork.from_graph(G, "g")
    profile = profile_for("drive")
    clinic = snap_points(
        net, np.array([b[0]]), np.array([b[1]]), usable_edges=net.usable_edges(profile)
    )
    areas = network_service_areas(net, profile, clinic, np.array([0]), [10.0])
    poly = areas[(0, 10.0)]
    assert poly.contains(shapely.Point(apex))
    assert not poly.contains(shapely.Point(LON0 + east / 2, LAT0))  # the chord's middle


def test_osm_xml_loader_carries_road_shapes(tmp_path):
    """An OSM XML file (here the small Aguascalientes extract written out as .osm)."""
    import osmium

    src = shared_path("data", "osm-dependency-samples", "aguascalientes_osmnx.osm.pbf")
    xml = tmp_path / "extract.osm"
    writer = osmium.SimpleWriter(str(xml))

    class Copy(osmium.SimpleHandler):
        def node(self, n):
            writer.add_node(n)

        def way(self, w):
            writer.add_way(w)

    Copy().apply_file(str(src), locations=False)
    writer.close()
    net = RoadNetwork.from_graph(graph_from_file(xml, "drive"), "xml")
    assert 0 < net.n_shaped < net.n_edges
