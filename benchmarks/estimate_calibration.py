"""Calibrate the ``mode: estimate`` travel times on real road networks and measure their error.

Run from the repository root::

    python benchmarks/estimate_calibration.py [--shared ../shared] [--origins 300] [--write]

For each network - Andorra (all of it, 2013 OSM: valleys and mountain roads; setting ``rural``)
and central Chengdu (the default case's OSM streets; setting ``urban``) - and each mode (drive,
ebike, walk), shortest paths run from ``--origins`` network nodes drawn with a fixed seed to
every node of the mode's largest strongly connected component: fastest time (minutes, the
toolkit's speed profile; Chengdu driving with the default case's urban speeds) and shortest
road distance (metres). Pairs with a straight-line (great-circle) distance inside the mode's
range are kept. Per distance band and pooled over the range it prints and writes:

* ``circuity`` = median road distance / straight-line distance (P10, P90 beside it);
* ``speed_kph`` = effective speed, median road distance / fastest time;
* on the pooled row, the default the estimate uses: circuity as above and the speed that makes
  the median estimate equal the median network time (``v = 0.06 c / median(t/d)``);
* the error of that default estimate against the network time, estimate / network - 1, as
  P10 / median / P90 and the median absolute error in % and minutes; and the same for the
  estimated road distance (``dist_err_*``).

``--write`` replaces ``geodata/data/estimate_calibration.csv`` (the defaults and error bands the
toolkit reads); without it the script only prints, and ``--check`` exits 1 when the table it
computed differs from the committed one.
"""

from __future__ import annotations

import argparse
import io
import sys
from itertools import pairwise
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.sparse.csgraph import dijkstra

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from geodata.estimate import CALIBRATION_CSV, great_circle_m  # noqa: E402
from geodata.network import RoadNetwork  # noqa: E402
from geodata.osm import graph_from_file  # noqa: E402
from geodata.speeds import profile_for  # noqa: E402

SEED = 17
BANDS_KM = (0.2, 1.0, 2.0, 5.0, 10.0, 20.0, 40.0)
RANGE_KM = {"walk": (0.2, 3.0), "ebike": (0.2, 12.0), "drive": (0.2, 40.0)}
# The default case's urban driving speeds (optimizer/data/default/case.yaml).
CHENGDU_DRIVE_KPH = {
    "trunk": 45.0,
    "primary": 35.0,
    "secondary": 30.0,
    "tertiary": 25.0,
    "unclassified": 20.0,
    "residential": 15.0,
}


def networks(shared: Path) -> dict[str, tuple[str, RoadNetwork]]:
    """name -> (setting, network)."""
    andorra = RoadNetwork.from_graph(
        graph_from_file(shared / "data" / "osm-andorra" / "andorra_drive.graphml.gz"), "andorra"
    )
    d = ROOT / "optimizer" / "data" / "default"
    chengdu = RoadNetwork.from_tables(
        pd.read_csv(d / "roads_nodes.csv.gz"), pd.read_csv(d / "roads_edges.csv.gz"), "chengdu"
    )
    return {"andorra": ("rural", andorra), "chengdu": ("urban", chengdu)}


def pairs(net: RoadNetwork, mode: str, speeds: dict[str, float] | None, n_origins: int):
    """Straight-line metres, road metres and minutes of the sampled pairs within the range."""
    prof = profile_for(mode, speeds)
    scc = np.flatnonzero(net.strongly_connected(prof))
    rng = np.random.default_rng(SEED)
    origins = np.sort(rng.choice(scc, size=min(n_origins, scc.size), replace=False))
    t = dijkstra(net.graph(prof, "time"), indices=origins)[:, scc]
    m = dijkstra(net.graph(prof, "distance"), indices=origins)[:, scc]
    gc = great_circle_m(
        net.lon[origins][:, None], net.lat[origins][:, None], net.lon[scc], net.lat[scc]
    )
    lo, hi = RANGE_KM[mode]
    keep = (gc >= lo * 1000) & (gc <= hi * 1000) & np.isfinite(t) & np.isfinite(m)
    return gc[keep], m[keep], t[keep]


def _pct(x: np.ndarray, q: float) -> float:
    return round(float(np.percentile(x, q)) * 100, 1)


def rows_for(name: str, setting: str, mode: str, gc, m, t) -> list[dict[str, object]]:
    circ = m / gc
    c = float(np.median(circ))
    v = 0.06 * c / float(np.median(t / gc))
    est_t = 0.06 * gc * c / v
    err = est_t / t - 1
    derr = gc * c / m - 1
    lo, hi = RANGE_KM[mode]
    out = []
    edges = [b for b in BANDS_KM if lo <= b <= hi]
    edges = sorted({lo, *edges, hi})
    bands = [(a, b, f"{a:g}-{b:g}") for a, b in pairwise(edges)]
    for a, b, label in [*bands, (lo, hi, "all")]:
        sel = (gc >= a * 1000) & (gc <= b * 1000)
        if sel.sum() < 20:
            continue
        out.append(
            {
                "network": name,
                "setting": setting,
                "mode": mode,
                "band_km": label,
                "range_km": f"{lo:g}-{hi:g}",
                "pairs": int(sel.sum()),
                "circuity": round(c if label == "all" else float(np.median(circ[sel])), 3),
                "circuity_p10": round(float(np.percentile(circ[sel], 10)), 3),
                "circuity_p90": round(float(np.percentile(circ[sel], 90)), 3),
                "speed_kph": round(
                    v if label == "all" else float(np.median(m[sel] / t[sel] * 0.06)), 2
                ),
                "err_p10_pct": _pct(err[sel], 10),
                "err_median_pct": _pct(err[sel], 50),
                "err_p90_pct": _pct(err[sel], 90),
                "abs_err_median_pct": _pct(np.abs(err[sel]), 50),
                "abs_err_median_min": round(float(np.median(np.abs(est_t - t)[sel])), 2),
                "dist_err_p10_pct": _pct(derr[sel], 10),
                "dist_err_p90_pct": _pct(derr[sel], 90),
            }
        )
    return out


def calibrate(shared: Path, n_origins: int, only: list[str] | None = None) -> pd.DataFrame:
    rows: list[dict[str, object]] = []
    for name, (setting, net) in networks(shared).items():
        if only and name not in only:
            continue
        for mode in ("drive", "ebike", "walk"):
            speeds = CHENGDU_DRIVE_KPH if (name == "chengdu" and mode == "drive") else None
            gc, m, t = pairs(net, mode, speeds, n_origins)
            rows += rows_for(name, setting, mode, gc, m, t)
    return pd.DataFrame(rows)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--shared", type=Path, default=ROOT.parent / "shared")
    p.add_argument("--origins", type=int, default=300)
    p.add_argument("--networks", help="comma list (andorra,chengdu); default both")
    p.add_argument("--write", action="store_true", help="replace the committed table")
    p.add_argument("--check", action="store_true", help="exit 1 if it differs from the table")
    a = p.parse_args()
    only = a.networks.split(",") if a.networks else None
    table = calibrate(a.shared, a.origins, only)
    text = table.to_csv(index=False, lineterminator="\n")
    print(table.to_string(index=False))
    if a.write:
        CALIBRATION_CSV.parent.mkdir(parents=True, exist_ok=True)
        CALIBRATION_CSV.write_text(text, encoding="utf-8")
        print(f"wrote {CALIBRATION_CSV}")
    if a.check:
        committed = pd.read_csv(CALIBRATION_CSV)
        committed = committed[committed["network"].isin(table["network"].unique())]
        same = committed.reset_index(drop=True).equals(pd.read_csv(io.StringIO(text)))
        print("matches the committed table" if same else "DIFFERS from the committed table")
        return 0 if same else 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
