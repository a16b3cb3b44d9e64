"""Service areas on a hand-checkable road: reach, buffer, one-way direction, hull fallback."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import shapely
from pyproj import Geod

from geodata.catchments import (
    DEFAULT_BUFFER_M,
    demand_hull_areas,
    network_service_areas,
    polygon_area_km2,
)
from geodata.crs import transformer
from geodata.network import RoadNetwork
from geodata.snap import snap_points
from geodata.speeds import profile_for

LON0, LAT0, STEP_M = 120.24, 29.71, 100.0
GEOD = Geod(ellps="WGS84")


def _line_network(oneway: bool) -> RoadNetwork:
    """Eleven nodes 100 m apart along a parallel (0..10, west to east); with ``oneway`` the road
    runs east only and a 3 km detour north closes the loop (irrelevant within the thresholds)."""
    lons = [LON0]
    for _ in range(10):
        lon, _, _ = GEOD.fwd(lons[-1], LAT0, 90, STEP_M)
        lons.append(lon)
    far_lon, far_lat, _ = GEOD.fwd(LON0, LAT0, 0, 3000)
    nodes = pd.DataFrame(
        {"osmid": np.arange(12), "lon": [*lons, far_lon], "lat": [LAT0] * 11 + [far_lat]}
    )
    u, v = list(range(10)), list(range(1, 11))
    if oneway:
        u += [10, 11]
        v += [11, 0]
    else:
        u, v = u + v, v + u
    length = [
        GEOD.inv(nodes.lon[a], nodes.lat[a], nodes.lon[b], nodes.lat[b])[2]
        for a, b in zip(u, v, strict=True)
    ]
    edges = pd.DataFrame({"u": u, "v": v, "length_m": length, "highway": "residential"})
    return RoadNetwork.from_tables(nodes, edges)


def _x_extent(net: RoadNetwork, poly: shapely.Geometry, site_lon: float) -> tuple[float, float]:
    """West and east reach of a lon/lat polygon from the site, in metres along the road."""
    fwd = transformer("EPSG:4326", net.crs)
    metric = shapely.transform(poly, lambda xy: np.c_[fwd.transform(xy[:, 0], xy[:, 1])])
    sx, _ = fwd.transform(site_lon, LAT0)
    minx, _, maxx, _ = metric.bounds
    return sx - minx, maxx - sx


def _site(net: RoadNetwork, node: int):
    return snap_points(
        net,
        np.array([net.lon[node]]),
        np.array([net.lat[node] + 1e-7]),
        usable_edges=np.ones(net.n_edges, dtype=bool),
        max_snap_m=50,
    )


def test_walk_reach_is_speed_times_threshold_plus_buffer():
    net = _line_network(oneway=False)
    walk = profile_for("walk")  # residential 4.5 km/h: 75 m per minute
    minutes = 6.0  # 450 m
    areas = network_service_areas(
        net, walk, _site(net, 3), np.array([0]), [minutes], measure="time"
    )
    west, east = _x_extent(net, areas[(0, minutes)], net.lon[3])
    # west: the road ends 300 m away; east: 450 m of road; both plus the 100 m buffer
    tol = DEFAULT_BUFFER_M / 4 + 2
    assert west == pytest.approx(300 + DEFAULT_BUFFER_M, abs=tol)
    assert east == pytest.approx(450 + DEFAULT_BUFFER_M, abs=tol)
    # a distance standard on the same road
    areas = network_service_areas(
        net, walk, _site(net, 3), np.array([0]), [250.0], measure="distance"
    )
    west, east = _x_extent(net, areas[(0, 250.0)], net.lon[3])
    assert west == pytest.approx(250 + DEFAULT_BUFFER_M, abs=tol)
    assert east == pytest.approx(250 + DEFAULT_BUFFER_M, abs=tol)


@pytest.mark.parametrize(
    ("direction", "west_m", "east_m"),
    [("site_to_demand", 0.0, 400.0), ("demand_to_site", 400.0, 0.0)],
)
def test_one_way_street_direction(direction, west_m, east_m):
    """An ambulance leaves eastwards; residents reach the station from the west."""
    net = _line_network(oneway=True)
    drive = profile_for("drive", {"residential": 24.0})  # 400 m per minute
    areas = network_service_areas(
        net, drive, _site(net, 5), np.array([0]), [1.0], measure="time", direction=direction
    )
    west, east = _x_extent(net, areas[(0, 1.0)], net.lon[5])
    tol = DEFAULT_BUFFER_M / 4 + 2
    assert west == pytest.approx(west_m + DEFAULT_BUFFER_M, abs=tol)
    assert east == pytest.approx(east_m + DEFAULT_BUFFER_M, abs=tol)


def test_unsnapped_sites_get_no_polygon_and_hulls_cover_their_points():
    net = _line_network(oneway=False)
    snap = _site(net, 3).without(np.array([True]))
    assert network_service_areas(net, profile_for("walk"), snap, np.array([0]), [5.0]) == {}
    lon = np.array([LON0, LON0 + 0.01, LON0 + 0.005])
    lat = np.array([LAT0, LAT0, LAT0 + 0.01])
    (poly,) = demand_hull_areas(np.array([LON0]), np.array([LAT0]), lon, lat, [np.array([1, 2])])
    assert all(poly.contains(shapely.Point(x, y)) for x, y in zip(lon, lat, strict=True))
    assert polygon_area_km2(poly) > 0.5 * 0.96 * 1.11  # at least the triangle's area
