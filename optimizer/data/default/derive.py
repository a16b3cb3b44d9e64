"""Derive the embedded default case (central Chengdu) from ../shared/data/osm-chengdu-mtshare.

Run from the repository root:  python -m optimizer.data.default.derive [--shared ../shared]

Writes, beside this file:
* ``roads_nodes.csv.gz`` / ``roads_edges.csv.gz`` - the real OSM drive network of central Chengdu
  (3,965 nodes, 11,287 arcs), reduced to what routing needs (osmid, lon, lat / u, v, highway,
  maxspeed, length_m). © OpenStreetMap contributors, ODbL 1.0.
* ``demand.csv`` - 250 m population cells. **Population is an estimate**: no census population of
  central Chengdu is available offline. Each cell gets a share of an assumed total proportional to
  the residential-weighted length of street in it (residential/living streets count fully, larger
  roads less, elevated trunks and links hardly), and the total is ``DENSITY_PER_KM2`` x the area of
  the cells that contain streets. ``DENSITY_PER_KM2`` = 13,500 residents/km² is the 2020 census
  population of the five central districts (锦江, 青羊, 金牛, 武侯, 成华: about 5.71 million) over
  their area (about 423 km²), as recalled from the district census bulletins - **not verified
  offline; replace it with real figures before any planning use**.
* ``zones.csv`` - 2 km x 2 km planning grid blocks (网格), *not* administrative streets (街道),
  whose boundaries are not available offline.
* ``sites.csv`` - candidate sites generated from the road network: community clinic
  (社区卫生服务站) candidates at street intersections, one per 500 m cell (not on elevated trunk
  roads); 120 station candidates at intersections on primary/secondary/tertiary roads, one per
  700 m cell (only nodes an ambulance can reach and leave).
  Costs are planning assumptions (see ``CLINIC_COST``, ``EMS_COST``). No existing facilities are
  marked: their real locations are not available offline.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd

from geodata.crs import transformer, utm_crs_for

HERE = Path(__file__).resolve().parent
CELL_M = 250.0
ZONE_M = 2000.0
DENSITY_PER_KM2 = 13_500.0
CLINIC_CELL_M = 500.0
EMS_CELL_M = 700.0
CLINIC_COST = 800_000.0  # yuan: fit-out and equipment of a community health service station
EMS_COST = 3_000_000.0  # yuan: a 120 station with its first ambulance
RESIDENTIAL_WEIGHT = {
    "residential": 1.0,
    "living_street": 1.0,
    "unclassified": 0.8,
    "tertiary": 0.6,
    "secondary": 0.4,
    "primary": 0.3,
    "trunk": 0.05,
}


def _first_class(h: str) -> str:
    return str(h).split(";")[0].strip("[]' ")


def derive(shared: Path) -> None:
    src = shared / "data" / "osm-chengdu-mtshare"
    nodes = pd.read_csv(src / "chengdu_mtshare_drive_nodes.csv.gz")
    edges = pd.read_csv(src / "chengdu_mtshare_drive_edges.csv.gz")
    edges["highway"] = edges["highway"].map(_first_class)

    # 1. compact network
    nodes_out = nodes[["osmid"]].assign(lon=nodes["lon"].round(7), lat=nodes["lat"].round(7))
    edges_out = edges[["u", "v", "highway", "maxspeed", "length_m", "geometry_wkt"]]
    nodes_out.to_csv(HERE / "roads_nodes.csv.gz", index=False)
    edges_out.to_csv(HERE / "roads_edges.csv.gz", index=False)

    # 2. project
    crs = utm_crs_for(nodes["lon"].to_numpy(), nodes["lat"].to_numpy())
    fwd = transformer("EPSG:4326", crs)
    inv = transformer(crs, "EPSG:4326")
    nx_, ny_ = fwd.transform(nodes["lon"].to_numpy(), nodes["lat"].to_numpy())
    pos = pd.Series(np.arange(len(nodes)), index=nodes["osmid"])
    iu = pos[edges["u"]].to_numpy()
    iv = pos[edges["v"]].to_numpy()
    x0, y0 = np.floor(nx_.min() / CELL_M) * CELL_M, np.floor(ny_.min() / CELL_M) * CELL_M

    # 3. population cells (each street counted once: skip osmnx's reversed twin arcs)
    once = ~edges["reversed"].astype(str).str.lower().eq("true").to_numpy()
    mx = (nx_[iu] + nx_[iv]) / 2
    my = (ny_[iu] + ny_[iv]) / 2
    w = (
        edges["highway"].map(RESIDENTIAL_WEIGHT).fillna(0.0).to_numpy()
        * edges["length_m"].to_numpy()
    )
    w = np.where(once, w, 0.0)
    col = np.floor((mx - x0) / CELL_M).astype(int)
    row = np.floor((my - y0) / CELL_M).astype(int)
    cells = (
        pd.DataFrame({"row": row, "col": col, "w": w})
        .groupby(["row", "col"], as_index=False)["w"]
        .sum()
    )
    cells = cells[cells["w"] > 0].reset_index(drop=True)
    area_km2 = len(cells) * (CELL_M / 1000) ** 2
    total = DENSITY_PER_KM2 * area_km2
    cells["population"] = np.round(total * cells["w"] / cells["w"].sum()).astype(int)
    cx = x0 + (cells["col"] + 0.5) * CELL_M
    cy = y0 + (cells["row"] + 0.5) * CELL_M
    lon, lat = inv.transform(cx.to_numpy(), cy.to_numpy())
    zr = np.floor((cy - y0) / ZONE_M).astype(int)
    zc = np.floor((cx - x0) / ZONE_M).astype(int)
    demand = pd.DataFrame(
        {
            "cell_id": [
                f"C{r:03d}{c:03d}" for r, c in zip(cells["row"], cells["col"], strict=True)
            ],
            "population": cells["population"],
            "lon": np.round(lon, 6),
            "lat": np.round(lat, 6),
            "zone": [f"G{r:02d}{c:02d}" for r, c in zip(zr, zc, strict=True)],
        }
    )
    demand.to_csv(HERE / "demand.csv", index=False)
    zones = sorted(demand["zone"].unique())
    pd.DataFrame(
        {"zone_id": zones, "name": [f"网格 {z}" for z in zones], "kind": "planning_grid"}
    ).to_csv(HERE / "zones.csv", index=False)

    # 4. candidate sites at intersections
    classes_at = pd.concat(
        [
            pd.DataFrame({"n": iu, "h": edges["highway"]}),
            pd.DataFrame({"n": iv, "h": edges["highway"]}),
        ]
    )
    local = classes_at[~classes_at["h"].isin(["trunk", "trunk_link", "motorway", "motorway_link"])]
    street_node = np.zeros(len(nodes), dtype=bool)
    street_node[local["n"].unique()] = True
    arterial = classes_at[classes_at["h"].isin(["primary", "secondary", "tertiary"])]
    arterial_node = np.zeros(len(nodes), dtype=bool)
    arterial_node[arterial["n"].unique()] = True
    junction = nodes["street_count"].to_numpy() >= 3
    # only nodes an ambulance can both reach and leave (largest strongly connected component)
    from geodata.network import RoadNetwork
    from geodata.speeds import profile_for

    net = RoadNetwork.from_tables(nodes_out, edges_out, "chengdu")
    in_scc = net.strongly_connected(profile_for("drive"))
    junction &= in_scc

    def thin(mask: np.ndarray, cell: float) -> np.ndarray:
        idx = np.flatnonzero(mask)
        gx = np.floor((nx_[idx] - x0) / cell)
        gy = np.floor((ny_[idx] - y0) / cell)
        centre_d = np.hypot(
            nx_[idx] - (x0 + (gx + 0.5) * cell), ny_[idx] - (y0 + (gy + 0.5) * cell)
        )
        frame = pd.DataFrame({"i": idx, "gx": gx, "gy": gy, "d": centre_d}).sort_values(
            ["gx", "gy", "d", "i"]
        )
        return frame.drop_duplicates(["gx", "gy"])["i"].to_numpy()

    clinic = thin(junction & street_node, CLINIC_CELL_M)
    ems = thin(junction & arterial_node, EMS_CELL_M)
    rows = []
    for kind, idx, cost in (("clinic", clinic, CLINIC_COST), ("ems", ems, EMS_COST)):
        for i in sorted(idx):
            zr_i = int(np.floor((ny_[i] - y0) / ZONE_M))
            zc_i = int(np.floor((nx_[i] - x0) / ZONE_M))
            rows.append(
                {
                    "site_id": f"{'VC' if kind == 'clinic' else 'EMS'}-{int(nodes['osmid'][i])}",
                    "type": kind,
                    "cost_yuan": cost,
                    "lon": round(float(nodes["lon"][i]), 7),
                    "lat": round(float(nodes["lat"][i]), 7),
                    "zone": f"G{zr_i:02d}{zc_i:02d}",
                }
            )
    sites = pd.DataFrame(rows)
    sites = sites[sites["zone"].isin(zones)]
    sites.to_csv(HERE / "sites.csv", index=False)
    print(
        f"cells {len(demand):,} ({area_km2:.1f} km², {demand['population'].sum():,} residents, estimate); "
        f"zones {len(zones)}; sites: {int((sites['type'] == 'clinic').sum())} clinic, "
        f"{int((sites['type'] == 'ems').sum())} ems"
    )


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--shared", type=Path, default=HERE.parents[3] / "shared")
    derive(p.parse_args().shared)


if __name__ == "__main__":
    main()
