"""The on-disk travel-time cache shared by processes (batch cases, sweeps): never half-written,
an unreadable file is recomputed, not trusted."""

from __future__ import annotations

import threading

import numpy as np
import pandas as pd

from geodata.arrays import TravelTimes
from geodata.matrix import _load, _save, network_travel_times
from geodata.network import RoadNetwork
from geodata.snap import snap_points
from geodata.speeds import profile_for


def _grid(n: int = 5, step_deg: float = 0.002):
    """An n x n street grid near Chengdu, every street two-way."""
    nodes = pd.DataFrame(
        [
            {"osmid": i * n + j, "lon": 104.0 + j * step_deg, "lat": 30.6 + i * step_deg}
            for i in range(n)
            for j in range(n)
        ]
    )
    edges = []
    for i in range(n):
        for j in range(n):
            for di, dj in ((0, 1), (1, 0)):
                if i + di < n and j + dj < n:
                    a, b = i * n + j, (i + di) * n + j + dj
                    for u, v in ((a, b), (b, a)):
                        edges.append({"u": u, "v": v, "length_m": 200.0, "highway": "residential"})
    return RoadNetwork.from_tables(nodes, pd.DataFrame(edges), "grid")


def _snapped(net, profile, seed, k):
    rng = np.random.default_rng(seed)
    lon = 104.0 + rng.random(k) * 0.008
    lat = 30.6 + rng.random(k) * 0.008
    return snap_points(net, lon, lat, usable_edges=net.usable_edges(profile), max_snap_m=500)


def test_unreadable_cache_is_recomputed_and_replaced(tmp_path):
    net = _grid()
    profile = profile_for("walk")
    demand, sites = _snapped(net, profile, 1, 12), _snapped(net, profile, 2, 4)

    def table():
        return network_travel_times(net, profile, demand, sites, cache=tmp_path, workers=1)

    fresh = table()
    assert len(fresh) == 12 * 4, "a connected grid: every pair"
    (path,) = tmp_path.glob("tt-*.npz")
    path.write_bytes(path.read_bytes()[:40])  # a torn file (e.g. an old non-atomic writer)
    assert _load(path) is None
    again = table()
    np.testing.assert_array_equal(again.value, fresh.value)
    loaded = _load(path)
    assert loaded is not None, "the recomputed table replaced the bad file"
    np.testing.assert_array_equal(loaded["value"], fresh.value)
    assert [p.name for p in tmp_path.iterdir()] == [path.name], "no temporary files left"


def test_concurrent_writers_never_expose_a_partial_file(tmp_path):
    path = tmp_path / "tt-same-key.npz"
    tables = [TravelTimes.from_dense(np.full((300, 40), float(k + 1)), name="t") for k in range(4)]
    seen: list[float] = []
    torn: list[str] = []
    stop = threading.Event()

    def write(tt):
        for _ in range(15):
            _save(path, tt, 30.0)

    def read():  # strict: any unreadable or mixed file is recorded, nothing is forgiven
        while not stop.is_set():
            try:
                with open(path, "rb") as fh, np.load(fh) as data:
                    values = np.asarray(data["value"])
            except FileNotFoundError:
                continue
            except Exception as exc:
                torn.append(repr(exc))
                continue
            if values.size != 300 * 40 or np.unique(values).size != 1:
                torn.append(f"mixed table: {np.unique(values)}")
            else:
                seen.append(float(values[0]))

    reader = threading.Thread(target=read)
    reader.start()
    writers = [threading.Thread(target=write, args=(tt,)) for tt in tables]
    for w in writers:
        w.start()
    for w in writers:
        w.join()
    stop.set()
    reader.join()
    assert not torn, torn[:3]
    assert seen and set(seen) <= {1.0, 2.0, 3.0, 4.0}
    assert _load(path) is not None
    assert [p.name for p in tmp_path.iterdir()] == [path.name], "no temporary files left"
