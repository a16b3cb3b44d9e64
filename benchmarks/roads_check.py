"""Travel times against the roads (issue 12): what road shapes change, and what the check costs.

    python -m benchmarks.roads_check            # Andorra villages + the two cases below
    python -m benchmarks.roads_check --cases configs/andorra.yaml

Prints three tables:

1. Road shapes carried per loader on the real Andorra drive network (GraphML, edge CSV, PBF).
2. Nearest-clinic e-bike times of the Andorra settlements (``villages.csv``) and of the 510
   resident cells of ``joint_demand.csv``: routed on straight chords between junctions (shapes
   dropped, as before issue 12), on the road shapes, and by the independent router; how many
   moved by more than 2 min, and how many differ from the independent router by more than 0.5 min.
3. Per case: the ``travel_times_check`` of every table (pairs, max and mean deviation) and the
   time the check adds to ``prepare_case`` (travel-time tables from the cache, so the rest is
   loading and routing).
"""

from __future__ import annotations

import argparse
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd

from geodata.matrix import network_travel_times
from geodata.network import RoadNetwork
from geodata.osm import graph_from_file, graph_from_pbf
from geodata.snap import snap_points
from geodata.speeds import profile_for
from geodata.verify import IndependentRouter, RouterRules, roads_from_graph

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data" / "osm-andorra"
DATA = ROOT / "configs" / "data" / "andorra"


def shapes_table() -> pd.DataFrame:
    G = graph_from_file(SHARED / "andorra_drive.graphml.gz")
    rows = []
    for name, net in (
        ("GraphML", RoadNetwork.from_graph(G, "graphml")),
        (
            "edge CSV",
            RoadNetwork.from_tables(
                pd.read_csv(SHARED / "andorra_drive_nodes.csv.gz"),
                pd.read_csv(SHARED / "andorra_drive_edges.csv.gz"),
                "csv",
            ),
        ),
        ("OSM PBF", RoadNetwork.from_graph(graph_from_pbf(SHARED / "andorra.osm.pbf"), "pbf")),
    ):
        rows.append({"loader": name, "edges": net.n_edges, "with shape": net.n_shaped})
    return pd.DataFrame(rows)


def _nearest(net: RoadNetwork, d_ll, s_ll) -> np.ndarray:
    prof = profile_for("ebike")
    usable = net.usable_edges(prof)
    dem = snap_points(net, *d_ll, usable_edges=usable, max_snap_m=1500)
    sit = snap_points(net, *s_ll, usable_edges=usable, max_snap_m=1500)
    tt = network_travel_times(net, prof, dem, sit, direction="demand_to_site", workers=1)
    table = np.full((d_ll[0].size, s_ll[0].size), np.inf)
    table[tt.demand_index, tt.site_index] = tt.value
    return table.min(axis=1)


def villages_table() -> pd.DataFrame:
    G = graph_from_file(SHARED / "andorra_drive.graphml.gz")
    net = RoadNetwork.from_graph(G, "andorra")
    prof = profile_for("ebike")
    rules = RouterRules(
        mode="ebike",
        measure="time",
        speeds_kph=dict(prof.speeds_kph),
        default_kph=prof.default_kph,
        use_maxspeed=prof.use_maxspeed,
        maxspeed_factor=prof.maxspeed_factor,
        overridden=frozenset(),
        ignore_oneway=prof.ignore_oneway,
        ferry_kph=prof.ferry_kph,
        ferry_boarding_min=prof.ferry_boarding_min,
        access_kph=prof.access_kph,
        max_snap_m=1500,
        snap_exclude=frozenset({"motorway", "motorway_link"}),
        components="largest",
    )
    router = IndependentRouter(roads_from_graph(G), rules)
    sites = pd.read_csv(DATA / "sites.csv")
    clinics = sites[sites["type"] == "clinic"]
    s_ll = (clinics["lon"].to_numpy(), clinics["lat"].to_numpy())
    rows = []
    joint = pd.read_csv(DATA / "joint_demand.csv")
    for label, frame in (
        ("villages.csv settlements", pd.read_csv(DATA / "villages.csv")),
        ("joint_demand.csv resident cells", joint[joint["class"] != "venue"]),
    ):
        d_ll = (frame["lon"].to_numpy(), frame["lat"].to_numpy())
        shaped = _nearest(net, d_ll, s_ll)
        chords = _nearest(replace(net, geometry=None), d_ll, s_ll)
        pairs = [(d, s) for d in range(len(frame)) for s in range(len(clinics))]
        found = router.trips(list(zip(*d_ll, strict=True)), list(zip(*s_ll, strict=True)), pairs)
        indep = np.array([min(c) for c in found]).reshape(len(frame), len(clinics)).min(axis=1)
        fin = np.isfinite(shaped) & np.isfinite(chords)
        rows.append(
            {
                "demand": label,
                "points": len(frame),
                "moved > 2 min (chords -> shapes)": int((np.abs(shaped - chords)[fin] > 2).sum()),
                "largest move (min)": round(float(np.abs(shaped - chords)[fin].max()), 2),
                "chords off > 0.5 min vs independent": int(
                    (np.abs(chords - indep)[fin] > 0.5).sum()
                ),
                "shapes off > 0.5 min vs independent": int(
                    (np.abs(shaped - indep)[np.isfinite(shaped)] > 0.5).sum()
                ),
            }
        )
    return pd.DataFrame(rows)


def check_table(cases: list[str]) -> pd.DataFrame:
    from optimizer.case.prepare import prepare_case

    rows = []
    for case in cases:
        prepare_case(case, check_roads=False)  # warm the matrix cache and imports
        t0 = time.perf_counter()
        prepare_case(case, check_roads=False)
        plain = time.perf_counter() - t0
        t0 = time.perf_counter()
        prepared = prepare_case(case)
        checked = time.perf_counter() - t0
        for name, b in prepared.travel_times_check.items():
            rows.append(
                {
                    "case": Path(case).name,
                    "table": name,
                    "pairs": b.get("pairs_checked", "-"),
                    "near found": b.get("near_threshold_found", "-"),
                    "max dev": b.get("max_deviation", "-"),
                    "mean dev": b.get("mean_deviation", "-"),
                    "unit": b.get("unit", "-"),
                    "check s": b.get("seconds", "-"),
                    "prepare s (no check)": round(plain, 2),
                    "prepare s (check)": round(checked, 2),
                }
            )
    return pd.DataFrame(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--cases",
        nargs="*",
        default=[
            str(ROOT / "optimizer/data/default/case.yaml"),
            str(ROOT / "configs/andorra.yaml"),
        ],
    )
    args = parser.parse_args()
    print(shapes_table().to_string(index=False))
    print()
    print(villages_table().to_string(index=False))
    print()
    print(check_table(args.cases).to_string(index=False))


if __name__ == "__main__":
    main()
