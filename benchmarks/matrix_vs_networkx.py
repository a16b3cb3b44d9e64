"""Travel-time matrices: our bounded multi-source Dijkstra vs networkx, same graph, one run.

    python -m benchmarks.matrix_vs_networkx [--quick] [--json PATH]

For each network (central Chengdu and Andorra from ../shared/data, and a synthetic road-like grid
of >= 50,000 nodes) every demand point is matched against every candidate site:

* ours: snapping is done beforehand (shared by both sides); timed is building the augmented
  graph (a virtual node per point) plus the bounded Dijkstra from every site on 2 threads;
* networkx: ``single_source_dijkstra_path_length`` with the same cutoff from every site, on the
  same augmented graph (built once, not timed), then the same long table.

Both tables must be identical (checked). Printed: seconds, pairs, and the speed-up.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import networkx as nx
import numpy as np
import pandas as pd

from geodata.matrix import augmented_graph, network_travel_times
from geodata.network import RoadNetwork
from geodata.osm import graph_from_file
from geodata.snap import snap_points
from geodata.speeds import profile_for

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("SHARED_DIR", ROOT.parent / "shared"))


def synthetic_grid(side: int, seed: int = 0) -> RoadNetwork:
    """A road-like grid: 100 m blocks with jitter, arterials every 5th/20th line, 8% of blocks
    missing, 10% of local streets one-way; placed near Zhuji."""
    rng = np.random.default_rng(seed)
    n = side * side
    ids = np.arange(n).reshape(side, side)
    x = (np.arange(n) % side) * 100.0 + rng.normal(0, 15, n)
    y = (np.arange(n) // side) * 100.0 + rng.normal(0, 15, n)
    lon = 120.0 + x / 96_500.0
    lat = 29.5 + y / 111_000.0
    h_u, h_v = ids[:, :-1].ravel(), ids[:, 1:].ravel()
    v_u, v_v = ids[:-1, :].ravel(), ids[1:, :].ravel()
    row_h = (h_u // side) % 20 == 0
    row_h5 = (h_u // side) % 5 == 0
    col_v = (v_u % side) % 20 == 0
    col_v5 = (v_u % side) % 5 == 0
    u = np.r_[h_u, v_u]
    v = np.r_[h_v, v_v]
    cls = np.where(
        np.r_[row_h, col_v], "primary", np.where(np.r_[row_h5, col_v5], "secondary", "residential")
    )
    keep = (rng.random(u.size) > 0.08) | (cls != "residential")
    u, v, cls = u[keep], v[keep], cls[keep]
    oneway = (cls == "residential") & (rng.random(u.size) < 0.10)
    length = np.hypot(x[u] - x[v], y[u] - y[v])
    uu = np.r_[u, v[~oneway]]
    vv = np.r_[v, u[~oneway]]
    ll = np.r_[length, length[~oneway]]
    hh = np.r_[cls, cls[~oneway]].astype(object)
    m = uu.size
    return RoadNetwork.from_arrays(
        f"grid{side}x{side}",
        np.arange(n),
        lon,
        lat,
        uu,
        vv,
        ll,
        hh,
        np.full(m, np.nan),
        np.zeros(m, bool),
        np.full(m, np.nan),
    )


def networks(quick: bool) -> list[tuple[RoadNetwork, int, int, float]]:
    """(network, demand points, sites, cutoff minutes)."""
    out = []
    cd = SHARED / "data" / "osm-chengdu-mtshare"
    if cd.exists():
        net = RoadNetwork.from_tables(
            pd.read_csv(cd / "chengdu_mtshare_drive_nodes.csv.gz"),
            pd.read_csv(cd / "chengdu_mtshare_drive_edges.csv.gz"),
            "chengdu",
        )
        out.append((net, 1500 if quick else 5000, 150 if quick else 500, 15.0))
    ad = SHARED / "data" / "osm-andorra" / "andorra_drive.graphml.gz"
    if ad.exists():
        out.append(
            (
                RoadNetwork.from_graph(graph_from_file(ad), "andorra"),
                600 if quick else 2000,
                60 if quick else 200,
                20.0,
            )
        )
    side = 160 if quick else 230  # 230 x 230 = 52,900 nodes
    out.append((synthetic_grid(side), 3000 if quick else 10000, 100 if quick else 1000, 15.0))
    return out


def run_one(net: RoadNetwork, n_dem: int, n_sites: int, cutoff: float) -> dict[str, object]:
    prof = profile_for("drive")
    usable = net.usable_edges(prof)
    rng = np.random.default_rng(7)
    lon = rng.uniform(np.quantile(net.lon, 0.02), np.quantile(net.lon, 0.98), n_dem + n_sites)
    lat = rng.uniform(np.quantile(net.lat, 0.02), np.quantile(net.lat, 0.98), n_dem + n_sites)
    dem = snap_points(net, lon[:n_dem], lat[:n_dem], usable_edges=usable, max_snap_m=1e9)
    sit = snap_points(net, lon[n_dem:], lat[n_dem:], usable_edges=usable, max_snap_m=1e9)
    t0 = time.perf_counter()
    tt = network_travel_times(
        net, prof, dem, sit, direction="site_to_demand", cutoff_min=cutoff, workers=2
    )
    ours = time.perf_counter() - t0
    t0 = time.perf_counter()
    full = network_travel_times(
        net, prof, dem, sit, direction="site_to_demand", cutoff_min=None, workers=2
    )
    ours_full = time.perf_counter() - t0

    graph, (d_vid, s_vid) = augmented_graph(
        net.graph(prof), [dem, sit], access_per_m=1 / (prof.access_kph * 1000 / 60)
    )
    coo = graph.tocoo()
    G = nx.DiGraph()
    G.add_weighted_edges_from(
        zip(coo.row.tolist(), coo.col.tolist(), coo.data.tolist(), strict=True)
    )
    target_of = {int(v): k for k, v in enumerate(d_vid)}
    t0 = time.perf_counter()
    rows = []
    for s, src in enumerate(s_vid):
        for node, dist in nx.single_source_dijkstra_path_length(
            G, int(src), cutoff=cutoff, weight="weight"
        ).items():
            k = target_of.get(node)
            if k is not None:
                rows.append((k, s, dist))
    nx_time = time.perf_counter() - t0
    ref = np.array(sorted(rows)) if rows else np.zeros((0, 3))
    mine = np.c_[tt.demand_index, tt.site_index, tt.value]
    mine = mine[np.lexsort((mine[:, 1], mine[:, 0]))]
    same = ref.shape == mine.shape and np.allclose(ref, mine, atol=1e-9, rtol=0)
    return {
        "network": net.name,
        "nodes": net.n_nodes,
        "edges": net.n_edges,
        "demand": n_dem,
        "sites": n_sites,
        "cutoff_min": cutoff,
        "pairs": len(tt),
        "ours_s": round(ours, 3),
        "networkx_s": round(nx_time, 3),
        "speedup": round(nx_time / ours, 1),
        "identical": bool(same),
        "ours_full_matrix_s": round(ours_full, 3),
        "full_pairs": len(full),
    }


def default_case_seconds() -> float:
    t0 = time.perf_counter()
    subprocess.run(
        [
            sys.executable,
            "-m",
            "optimizer",
            "demo",
            "--out",
            str(ROOT / "results" / "bench-demo"),
            "-q",
        ],
        check=True,
        cwd=ROOT,
        capture_output=True,
    )
    return time.perf_counter() - t0


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true")
    p.add_argument(
        "--json", type=Path, default=ROOT / "benchmarks" / "results" / "matrix_vs_networkx.json"
    )
    p.add_argument("--no-demo", action="store_true", help="skip timing the default case end to end")
    args = p.parse_args()
    rows = [run_one(*cfg) for cfg in networks(args.quick)]
    frame = pd.DataFrame(rows)
    cols = [
        "network",
        "nodes",
        "demand",
        "sites",
        "cutoff_min",
        "pairs",
        "ours_s",
        "networkx_s",
        "speedup",
        "identical",
        "ours_full_matrix_s",
        "full_pairs",
    ]
    print(frame[cols].to_string(index=False))
    result = {"rows": rows, "cpu_count": os.cpu_count(), "quick": args.quick}
    if not args.no_demo:
        result["default_case_end_to_end_s"] = round(default_case_seconds(), 1)
        print(f"default case end to end: {result['default_case_end_to_end_s']} s")
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
