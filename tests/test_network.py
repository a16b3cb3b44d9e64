"""Road networks on real OSM data: travel-time matrices against networkx Dijkstra, snapping,
one-way streets, unreachable pairs, CRS handling and bad input."""

from __future__ import annotations

from functools import cache

import networkx as nx
import numpy as np
import pandas as pd
import pytest

from geodata.crs import from_wgs84, gcj02_to_wgs84, to_wgs84, utm_crs_for, wgs84_to_gcj02
from geodata.matrix import network_travel_times
from geodata.network import RoadNetwork, parse_duration_min, parse_maxspeed
from geodata.osm import graph_from_file, graph_from_pbf
from geodata.snap import Snapped, snap_points
from geodata.speeds import profile_for

from .conftest import shared_path


@cache
def chengdu() -> RoadNetwork:
    base = shared_path("data", "osm-chengdu-mtshare")
    return RoadNetwork.from_tables(
        pd.read_csv(base / "chengdu_mtshare_drive_nodes.csv.gz"),
        pd.read_csv(base / "chengdu_mtshare_drive_edges.csv.gz"),
        "chengdu",
    )


@cache
def andorra() -> RoadNetwork:
    G = graph_from_file(shared_path("data", "osm-andorra", "andorra_drive.graphml.gz"))
    return RoadNetwork.from_graph(G, "andorra")


def reference(net, profile, origins: Snapped, dests: Snapped, pairs, measure="time"):
    """Independent travel times with networkx on the base graph: leave the origin's edge by
    either end, enter the destination's edge by either end, or travel along a shared edge."""
    g = net.graph(profile, measure)
    coo = g.tocoo()
    G = nx.DiGraph()
    G.add_weighted_edges_from(
        zip(coo.row.tolist(), coo.col.tolist(), coo.data.tolist(), strict=True)
    )
    per = 1.0 if measure == "distance" else 1 / (profile.access_kph * 1000 / 60)

    fwd, back, road = net.road_weights(profile, measure)

    def w(s, k, x, y):
        """Cost of the point's own snapped road from node x to node y."""
        e = s.edge[k]
        return fwd[e] if net.u[e] == x else back[e]

    def ends(s, k, leaving):
        a, b, t, acc = s.a[k], s.b[k], s.t[k], s.distance_m[k] * per
        if leaving:
            return [(b, acc + (1 - t) * w(s, k, a, b)), (a, acc + t * w(s, k, b, a))]
        return [(a, t * w(s, k, a, b) + acc), (b, (1 - t) * w(s, k, b, a) + acc)]

    out = {}
    for oi, di in pairs:
        best = np.inf
        if not (origins.ok[oi] and dests.ok[di]):
            out[(oi, di)] = best
            continue
        for n1, c1 in ends(origins, oi, True):
            if not np.isfinite(c1):
                continue
            dist = nx.single_source_dijkstra_path_length(G, int(n1), weight="weight")
            for n2, c2 in ends(dests, di, False):
                if np.isfinite(c2) and int(n2) in dist:
                    best = min(best, c1 + dist[int(n2)] + c2)
        if road[origins.edge[oi]] == road[dests.edge[di]]:
            a, b = origins.a[oi], origins.b[oi]
            dt = dests.t[di] - origins.t[oi]
            along = dt * w(origins, oi, a, b) if dt >= 0 else -dt * w(origins, oi, b, a)
            best = min(best, (origins.distance_m[oi] + dests.distance_m[di]) * per + along)
        # the direct off-road leg, where shorter than out to the road and back (README rule)
        straight = np.hypot(origins.x[oi] - dests.x[di], origins.y[oi] - dests.y[di])
        if straight < origins.distance_m[oi] + dests.distance_m[di]:
            best = min(best, straight * per)
        out[(oi, di)] = best
    return out


def _points(net, n, seed):
    rng = np.random.default_rng(seed)
    lon = rng.uniform(np.quantile(net.lon, 0.05), np.quantile(net.lon, 0.95), n)
    lat = rng.uniform(np.quantile(net.lat, 0.05), np.quantile(net.lat, 0.95), n)
    return lon, lat


CASES = [
    ("chengdu", "drive", "site_to_demand", "time"),
    ("chengdu", "drive", "demand_to_site", "time"),
    ("chengdu", "walk", "demand_to_site", "time"),
    ("chengdu", "drive", "site_to_demand", "distance"),
    ("andorra", "drive", "site_to_demand", "time"),
    ("andorra", "ebike", "demand_to_site", "time"),
]


@pytest.mark.parametrize(("which", "mode", "direction", "measure"), CASES)
def test_matrix_equals_networkx_on_sampled_pairs(which, mode, direction, measure):
    net = chengdu() if which == "chengdu" else andorra()
    prof = profile_for(mode)
    usable = net.usable_edges(prof)
    lon, lat = _points(net, 150, 1)
    dem = snap_points(net, lon, lat, usable_edges=usable, max_snap_m=5000)
    sit = snap_points(net, lon[:30] + 0.0004, lat[:30], usable_edges=usable, max_snap_m=5000)
    tt = network_travel_times(net, prof, dem, sit, direction=direction, measure=measure, workers=2)
    M = np.full((150, 30), np.inf)
    M[tt.demand_index, tt.site_index] = tt.value
    pairs = [(s, d) for s in range(0, 30, 4) for d in range(0, 150, 11)] + [
        (k, k) for k in range(8)
    ]
    if direction == "site_to_demand":
        ref = reference(net, prof, sit, dem, pairs, measure)
        got = {p: M[p[1], p[0]] for p in pairs}
    else:
        ref = reference(net, prof, dem, sit, [(d, s) for s, d in pairs], measure)
        ref = {(s, d): v for (d, s), v in ref.items()}
        got = {p: M[p[1], p[0]] for p in pairs}
    for p in pairs:
        if np.isfinite(ref[p]):
            assert got[p] == pytest.approx(ref[p], abs=1e-9), p
        else:
            assert not np.isfinite(got[p]), p


def test_one_way_streets_change_direction():
    """On real one-way streets, leaving a site and reaching it differ for some pairs."""
    net = chengdu()
    prof = profile_for("drive")
    usable = net.usable_edges(prof)
    lon, lat = _points(net, 200, 3)
    dem = snap_points(net, lon, lat, usable_edges=usable, max_snap_m=3000)
    sit = snap_points(net, lon[:40], lat[:40], usable_edges=usable, max_snap_m=3000)
    out = network_travel_times(net, prof, dem, sit, direction="site_to_demand").to_csr().toarray()
    back = network_travel_times(net, prof, dem, sit, direction="demand_to_site").to_csr().toarray()
    assert np.abs(out - back).max() > 0.5, "one-way streets must make the two directions differ"
    walk = profile_for("walk")
    usable_w = net.usable_edges(walk)
    dem_w = snap_points(net, lon, lat, usable_edges=usable_w, max_snap_m=3000)
    sit_w = snap_points(net, lon[:40], lat[:40], usable_edges=usable_w, max_snap_m=3000)
    a = network_travel_times(net, walk, dem_w, sit_w, direction="site_to_demand").to_csr().toarray()
    b = network_travel_times(net, walk, dem_w, sit_w, direction="demand_to_site").to_csr().toarray()
    assert np.allclose(a, b), "walking ignores one-way tags"


def test_unreachable_pairs_are_absent():
    """Two separate components: no pair across them, and the cutoff bounds the table."""
    nodes = pd.DataFrame(
        {"osmid": [1, 2, 3, 4], "lon": [0.0, 0.01, 1.0, 1.01], "lat": [0.0, 0.0, 0.0, 0.0]}
    )
    edges = pd.DataFrame(
        {"u": [1, 2, 3, 4], "v": [2, 1, 4, 3], "highway": "primary", "length_m": [1113.0] * 4}
    )
    net = RoadNetwork.from_tables(nodes, edges, "two-islands")
    prof = profile_for("drive")
    usable = np.ones(net.n_edges, dtype=bool)
    dem = snap_points(
        net, np.array([0.005, 1.005]), np.array([0.0, 0.0]), usable_edges=usable, max_snap_m=100
    )
    sit = snap_points(
        net, np.array([0.002, 1.008]), np.array([0.0, 0.0]), usable_edges=usable, max_snap_m=100
    )
    tt = network_travel_times(net, prof, dem, sit)
    pairs = set(zip(tt.demand_index.tolist(), tt.site_index.tolist(), strict=True))
    assert pairs == {(0, 0), (1, 1)}
    # same edge: straight along it at the primary speed (0.3 of 1113 m at 50 km/h)
    v = tt.value[(tt.demand_index == 0) & (tt.site_index == 0)][0]
    assert v == pytest.approx(0.3 * 1113 / (50 * 1000 / 60), rel=1e-3)
    assert len(network_travel_times(net, prof, dem, sit, cutoff_min=0.01)) == 0


def test_snapping_distances_and_far_points():
    net = andorra()
    prof = profile_for("drive")
    usable = net.usable_edges(prof)
    # points exactly on nodes snap at ~0 m; a point 0.02 deg north of the northernmost node is far
    k = np.argsort(net.lat)[-1]
    nodes = net.u[usable][[0, 100, 1000]]
    on = snap_points(net, net.lon[nodes], net.lat[nodes], usable_edges=usable, max_snap_m=50)
    assert on.distance_m.max() < 1.0 and on.ok.all()
    assert set(np.r_[on.a, on.b]) >= set(nodes.tolist()) or np.all(
        (on.t < 1e-6) | (on.t > 1 - 1e-6)
    )
    gx, gy = np.meshgrid(
        np.linspace(net.lon.min(), net.lon.max(), 40), np.linspace(net.lat.min(), net.lat.max(), 40)
    )
    grid = snap_points(net, gx.ravel(), gy.ravel(), usable_edges=usable, max_snap_m=500)
    assert grid.far.sum() > 50, "Andorra's mountains hold points far from any road"
    assert (grid.distance_m[grid.far] > 500).all() and (grid.distance_m[grid.ok] <= 500).all()
    beyond = snap_points(
        net,
        np.array([net.lon[k]]),
        np.array([net.lat[k] + 0.02]),
        usable_edges=usable,
        max_snap_m=500,
    )
    assert beyond.outside[0] and not beyond.ok[0]
    outside = snap_points(
        net, np.array([10.0]), np.array([45.0]), usable_edges=usable, max_snap_m=500
    )
    assert outside.outside[0]


def test_gcj02_round_trip_and_offset():
    lon = np.array([120.24, 120.07, 104.06])
    lat = np.array([29.71, 29.31, 30.66])
    glon, glat = wgs84_to_gcj02(lon, lat)
    shift = np.hypot((glon - lon) * 96_000, (glat - lat) * 111_000)
    assert np.all((shift > 200) & (shift < 800)), shift
    wlon, wlat = gcj02_to_wgs84(glon, glat)
    assert np.abs(wlon - lon).max() < 1e-9 and np.abs(wlat - lat).max() < 1e-9
    # outside China nothing changes
    assert wgs84_to_gcj02(np.array([1.5]), np.array([42.5]))[0][0] == 1.5


def test_crs_round_trip_utm_and_cgcs2000():
    lon, lat = np.array([120.24, 120.30]), np.array([29.71, 29.75])
    utm = utm_crs_for(lon, lat)
    assert utm == "EPSG:32651"
    x, y = from_wgs84(lon, lat, utm)
    lon2, lat2 = to_wgs84(x, y, utm)
    assert np.abs(lon2 - lon).max() < 1e-9 and np.abs(lat2 - lat).max() < 1e-9
    x, y = from_wgs84(lon, lat, "EPSG:4549")  # CGCS2000 / 3-degree GK CM 120E
    lon3, lat3 = to_wgs84(x, y, "EPSG:4549")
    assert np.abs(lon3 - lon).max() < 1e-9 and np.abs(lat3 - lat).max() < 1e-9


def test_graph_without_edges_is_an_error():
    with pytest.raises(ValueError, match="no edges"):
        RoadNetwork.from_tables(
            pd.DataFrame({"osmid": [1], "lon": [0.0], "lat": [0.0]}),
            pd.DataFrame({"u": [], "v": [], "highway": [], "length_m": []}),
            "empty",
        )
    with pytest.raises(ValueError, match="no edges"):
        G = nx.MultiDiGraph(crs="epsg:4326")
        G.add_node(1, x=0.0, y=0.0)
        RoadNetwork.from_graph(G, "empty")


def test_projected_graph_rejected():
    G = nx.MultiDiGraph(crs="epsg:32651")
    G.add_node(1, x=500000.0, y=3300000.0)
    with pytest.raises(ValueError, match="WGS-84"):
        RoadNetwork.from_graph(G, "projected")


@pytest.mark.parametrize("name", ["aguascalientes_osmnx.osm.pbf", "pyrosm_test.osm.pbf"])
def test_pbf_reader_builds_routable_graph(name):
    G = graph_from_pbf(shared_path("data", "osm-dependency-samples", name), "drive")
    net = RoadNetwork.from_graph(G, name)
    assert net.n_edges > 100
    prof = profile_for("drive")
    scc = net.strongly_connected(prof)
    assert scc.mean() > 0.5
    walk = RoadNetwork.from_graph(
        graph_from_pbf(shared_path("data", "osm-dependency-samples", name), "walk"), "w"
    )
    assert walk.n_edges >= net.n_edges * 0.5


def test_speed_profiles_and_tags():
    assert parse_maxspeed("50") == 50 and parse_maxspeed("30 mph") == pytest.approx(48.28, rel=1e-3)
    assert parse_maxspeed(["40", "60"]) == 40 and np.isnan(parse_maxspeed("signals"))
    assert parse_duration_min("01:30") == 90 and parse_duration_min("0:45:30") == pytest.approx(
        45.5
    )
    drive = profile_for("drive")
    hw = np.array(["primary", "track", "residential", "primary"], dtype=object)
    ms = np.array([np.nan, np.nan, np.nan, 80.0])
    sp = drive.edge_speeds(hw, ms)
    assert sp[0] == 50 and sp[1] == 15 and sp[3] == pytest.approx(80 * 0.85)
    custom = profile_for("drive", {"primary": 30})
    assert custom.edge_speeds(hw, ms)[3] == 30, "a case override beats the maxspeed tag"
    assert (
        profile_for("ebike").edge_speeds(np.array(["motorway"], dtype=object), np.array([np.nan]))[
            0
        ]
        == 0
    )
    with pytest.raises(ValueError, match="unknown travel mode"):
        profile_for("boat")


def test_ferry_uses_duration_tag():
    nodes = pd.DataFrame({"osmid": [1, 2], "lon": [120.0, 120.1], "lat": [28.0, 28.0]})
    edges = pd.DataFrame(
        {
            "u": [1],
            "v": [2],
            "highway": [None],
            "route": ["ferry"],
            "duration": ["00:40"],
            "length_m": [9800.0],
        }
    )
    net = RoadNetwork.from_tables(nodes, edges, "ferry")
    prof = profile_for("drive")
    assert net.highway[0] == "ferry"
    assert net.edge_minutes(prof)[0] == pytest.approx(40 + prof.ferry_boarding_min)
