"""Derive the embedded default case (central Chengdu) from ../shared/data/osm-chengdu-mtshare.

Run from the repository root:  python -m optimizer.data.default.derive [--shared ../shared]

Writes, beside this file:
* ``roads_nodes.csv.gz`` / ``roads_edges.csv.gz`` - the real OSM drive network of central Chengdu
  (3,965 nodes, 11,287 arcs), reduced to what routing needs (osmid, lon, lat / u, v, highway,
  maxspeed, length_m, geometry). © OpenStreetMap contributors, ODbL 1.0.
* ``demand.csv`` - 250 m population cells. **Population is an estimate**
  (:func:`geodata.population.population_from_streets`): no census population of central Chengdu
  is available offline. Each cell gets a share of an assumed total proportional to the
  residential-weighted length of street in it, and the total is ``DENSITY_PER_KM2`` x the area of
  the cells that contain streets. ``DENSITY_PER_KM2`` = 13,500 residents/km² is the 2020 census
  population of the five central districts (锦江, 青羊, 金牛, 武侯, 成华: about 5.71 million) over
  their area (about 423 km²), as recalled from the district census bulletins - **not verified
  offline; replace it with real figures before any planning use**.
* ``zones.csv`` + ``zones.geojson`` - the real sub-district streets (街道) of the five central
  districts: names and NBS 2016 codes with their office points from
  ``../shared/data/cn-village-points-adcode`` (Vonng/adcode, CC BY 4.0; Amap-derived positions
  converted to WGS-84). Street boundaries are not available offline: each street's polygon is
  **APPROXIMATE**, the Voronoi cell of its point clipped to the study area (the convex hull of
  the road network), and every cell and site belongs to the street whose point is nearest
  (the same partition). Streets whose point lies within ``STREET_MARGIN_M`` of the study area
  shape the cells; those that receive no population cell are left out.
* ``sites.csv`` - candidate sites generated from the road network
  (:func:`geodata.candidates.candidates_from_network`): community clinic (社区卫生服务站)
  candidates at street junctions, one per 500 m square, not on elevated trunk roads; 120 station
  candidates at junctions of primary/secondary/tertiary roads, one per 700 m square. Both only in
  the drivable strongly connected core. Costs are planning assumptions (``CLINIC_COST``,
  ``EMS_COST``). No existing facilities are marked: their real locations are not available offline.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import pandas as pd
import shapely
from pyproj import Transformer
from scipy.spatial import cKDTree

from geodata.candidates import candidates_from_network
from geodata.network import RoadNetwork
from geodata.population import population_from_streets
from geodata.speeds import profile_for
from geodata.zone_shapes import voronoi_zones

HERE = Path(__file__).resolve().parent
CELL_M = 250.0
CENTRAL_DISTRICTS = ["510104", "510105", "510106", "510107", "510108"]  # 锦江 青羊 金牛 武侯 成华
STREET_MARGIN_M = 1500.0
APPROX = (
    "APPROXIMATE: Voronoi cell of the street office point (街道办事处), clipped to the study area"
)
DENSITY_PER_KM2 = 13_500.0
CLINIC_SPACING_M = 500.0
EMS_SPACING_M = 700.0
CLINIC_COST = 800_000.0  # yuan: fit-out and equipment of a community health service station
EMS_COST = 3_000_000.0  # yuan: a 120 station with its first ambulance
ELEVATED = {"trunk", "trunk_link", "motorway", "motorway_link"}


def streets(shared: Path, net: RoadNetwork) -> tuple[pd.DataFrame, shapely.Geometry]:
    """The 街道 points of central Chengdu near the study area, and the area (WGS-84)."""
    pts = pd.read_csv(
        shared / "data" / "cn-village-points-adcode" / "china_township_village_points.csv.gz",
        dtype={"code": str, "adcode": str},
    )
    pts = pts[(pts["unit"] == "township") & pts["adcode"].isin(CENTRAL_DISTRICTS)]
    area = shapely.convex_hull(shapely.multipoints(np.c_[net.lon, net.lat]))
    fwd = Transformer.from_crs("EPSG:4326", net.crs, always_xy=True)
    x, y = fwd.transform(pts["lon_wgs84"].to_numpy(), pts["lat_wgs84"].to_numpy())
    hull_m = shapely.convex_hull(shapely.multipoints(np.c_[net.x, net.y]))
    near = shapely.distance(shapely.points(np.c_[x, y]), hull_m) <= STREET_MARGIN_M
    out = pts[near].assign(x=np.asarray(x)[near], y=np.asarray(y)[near])
    out["name"] = out["name"].str.removesuffix("办事处")
    return out.sort_values("code").reset_index(drop=True), area


def _zone(st: pd.DataFrame, x: np.ndarray, y: np.ndarray) -> list[str]:
    """The street whose point is nearest (= the Voronoi cell containing the point)."""
    _, k = cKDTree(np.c_[st["x"], st["y"]]).query(np.c_[x, y])
    return st["code"].to_numpy()[k].tolist()


def _zones_geojson(st: pd.DataFrame, area: shapely.Geometry, keep: list[str]) -> str:
    cells = voronoi_zones(
        st["code"].to_numpy(), st["lon_wgs84"].to_numpy(), st["lat_wgs84"].to_numpy(), area
    )
    name = dict(zip(st["code"], st["name"], strict=True))
    feats = [
        {
            "type": "Feature",
            "properties": {"zone_id": z, "name": name[z], "boundary": APPROX},
            "geometry": json.loads(shapely.to_geojson(shapely.set_precision(cells[z], 1e-6))),
        }
        for z in keep
    ]
    doc = {"type": "FeatureCollection", "features": feats}
    return json.dumps(doc, ensure_ascii=False, separators=(",", ":")) + "\n"


def derive(shared: Path) -> None:
    src = shared / "data" / "osm-chengdu-mtshare"
    nodes = pd.read_csv(src / "chengdu_mtshare_drive_nodes.csv.gz")
    edges = pd.read_csv(src / "chengdu_mtshare_drive_edges.csv.gz")
    edges["highway"] = edges["highway"].map(lambda h: str(h).split(";")[0].strip("[]' "))

    nodes_out = nodes[["osmid"]].assign(lon=nodes["lon"].round(7), lat=nodes["lat"].round(7))
    edges_out = edges[["u", "v", "highway", "maxspeed", "length_m", "geometry_wkt"]]
    gz = {"method": "gzip", "mtime": 0}  # byte-reproducible archives
    nodes_out.to_csv(HERE / "roads_nodes.csv.gz", index=False, compression=gz)
    edges_out.to_csv(HERE / "roads_edges.csv.gz", index=False, compression=gz)
    net = RoadNetwork.from_tables(nodes_out, edges_out, "chengdu")
    st, area = streets(shared, net)

    # population cells: each street once (skip osmnx's reversed twin arcs)
    once = ~edges["reversed"].astype(str).str.lower().eq("true").to_numpy()
    cells = population_from_streets(net, cell_m=CELL_M, density_per_km2=DENSITY_PER_KM2, once=once)
    x0, y0 = cells.attrs["x0"], cells.attrs["y0"]
    cx = x0 + (cells["col"] + 0.5) * CELL_M
    cy = y0 + (cells["row"] + 0.5) * CELL_M
    demand = pd.DataFrame(
        {
            "cell_id": [
                f"C{r:03d}{c:03d}" for r, c in zip(cells["row"], cells["col"], strict=True)
            ],
            "population": cells["population"],
            "lon": cells["lon"],
            "lat": cells["lat"],
            "zone": _zone(st, cx.to_numpy(), cy.to_numpy()),
        }
    )
    demand.to_csv(HERE / "demand.csv", index=False)
    zones = sorted(demand["zone"].unique())
    zt = st.set_index("code").loc[zones]
    pd.DataFrame(
        {
            "zone_id": zones,
            "name": zt["name"].to_numpy(),
            "district": zt["county"].to_numpy(),
            "kind": "street",
        }
    ).to_csv(HERE / "zones.csv", index=False)
    (HERE / "zones.geojson").write_text(_zones_geojson(st, area, zones), encoding="utf-8")

    drive = profile_for("drive")
    clinic = candidates_from_network(
        net, spacing_m=CLINIC_SPACING_M, profile=drive, exclude_classes=ELEVATED, prefix="VC"
    ).assign(type="clinic", cost_yuan=CLINIC_COST)
    ems = candidates_from_network(
        net,
        spacing_m=EMS_SPACING_M,
        profile=drive,
        classes={"primary", "secondary", "tertiary"},
        prefix="EMS",
    ).assign(type="ems", cost_yuan=EMS_COST)
    sites = pd.concat([clinic, ems], ignore_index=True)
    pos = pd.Series(np.arange(net.n_nodes), index=net.node_osmid)[sites["osmid"]].to_numpy()
    sites["zone"] = _zone(st, net.x[pos], net.y[pos])
    sites = sites[sites["zone"].isin(zones)]
    sites[["site_id", "type", "cost_yuan", "lon", "lat", "zone"]].to_csv(
        HERE / "sites.csv", index=False
    )
    print(
        f"cells {len(demand):,} ({cells.attrs['area_km2']:.1f} km², {demand['population'].sum():,} residents, "
        f"estimate); streets {len(zones)}; sites: {len(clinic)} clinic, {len(ems)} ems"
    )


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--shared", type=Path, default=HERE.parents[3] / "shared")
    derive(p.parse_args().shared)


if __name__ == "__main__":
    main()
