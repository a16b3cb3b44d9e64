"""Derive the Andorra county-scale case layers from ../shared/data/osm-andorra (OSM, 2013).

Run from the repository root:  python -m configs.data.andorra.derive

Writes beside this file (© OpenStreetMap contributors, ODbL 1.0):
* ``parishes.csv`` / ``parishes.geojson`` - the 7 parishes (parròquies) as zones; Canillo has no
  boundary in this 2013 extract, so settlements outside the six mapped parishes are Canillo's.
* ``villages.csv`` - the 60 OSM settlements (place=town/village/hamlet/neighbourhood) as demand;
  ``area`` is ``urban`` for towns and ``rural`` otherwise (for the 120 standards).
  **Population is an ESTIMATE**: approximate parish totals (``PARISH_POPULATION``, Andorra's
  statistics department, around 2020, as recalled - not verified offline) spread over each
  parish's settlements in proportion to a weight per settlement kind (town 8, village 3,
  neighbourhood 3, hamlet 1).
* ``sites.csv`` - the health facilities OSM had in 2013 (tagged ``amenity=hospital``) as
  *existing* clinics, except those more than ``MAX_FACILITY_ROAD_M`` from a drivable road (four
  first-aid posts high in the ski areas, reachable only on pistes); every settlement except hamlets as a village-clinic candidate; junctions of
  primary/secondary roads (one per 1.5 km square) plus the towns as 120-station candidates.
  Costs are planning assumptions.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import shapely

from geodata.candidates import candidates_from_network, places_from_pbf, pois_from_pbf
from geodata.network import RoadNetwork, graph_from_file
from geodata.snap import snap_points
from geodata.speeds import profile_for

HERE = Path(__file__).resolve().parent
SHARED = HERE.parents[2].parent / "shared" / "data" / "osm-andorra"
PARISH_POPULATION = {
    "Andorra la Vella": 22_600,
    "Escaldes-Engordany": 14_400,
    "Encamp": 11_800,
    "Sant Julià de Lòria": 9_400,
    "La Massana": 10_200,
    "Ordino": 4_900,
    "Canillo": 4_400,
}
KIND_WEIGHT = {"town": 8.0, "village": 3.0, "neighbourhood": 3.0, "hamlet": 1.0}
MAX_FACILITY_ROAD_M = 1000.0
CLINIC_COST = 500_000.0
EMS_COST = 3_000_000.0


def parishes(pbf: Path) -> list[tuple[str, shapely.Geometry]]:
    import osmium

    wkb = osmium.geom.WKBFactory()
    found: list[tuple[str, shapely.Geometry]] = []

    class H(osmium.SimpleHandler):
        def area(self, a: object) -> None:
            tags = {t.k: t.v for t in a.tags}  # type: ignore[attr-defined]
            if tags.get("boundary") == "administrative" and tags.get("admin_level") == "7":
                found.append(
                    (tags["name"], shapely.from_wkb(bytes.fromhex(wkb.create_multipolygon(a))))
                )

    H().apply_file(str(pbf), locations=True)
    return sorted(found, key=lambda t: t[0])


def _slug(name: str) -> str:
    return "".join(c for c in name.lower().replace(" ", "-") if c.isalnum() or c == "-")


def main() -> None:
    pbf = SHARED / "andorra.osm.pbf"
    polys = parishes(pbf)
    names = [n for n, _ in polys]

    def parish_of(lon: np.ndarray, lat: np.ndarray) -> list[str]:
        pts = shapely.points(lon, lat)
        out = np.full(lon.size, "Canillo", dtype=object)
        for name, poly in polys:
            out[shapely.contains(poly, pts)] = name
        return [_slug(n) for n in out]

    zones = pd.DataFrame(
        {
            "zone_id": [_slug(n) for n in PARISH_POPULATION],
            "name": list(PARISH_POPULATION),
            "kind": "parish",
        }
    )
    zones.to_csv(HERE / "parishes.csv", index=False)
    import geopandas as gpd

    gpd.GeoDataFrame(
        {"zone_id": [_slug(n) for n in names], "name": names},
        geometry=[g for _, g in polys],
        crs="EPSG:4326",
    ).to_file(HERE / "parishes.geojson", driver="GeoJSON")

    places = places_from_pbf(pbf)
    places = places[places["kind"].isin(list(KIND_WEIGHT))].reset_index(drop=True)
    places["zone"] = parish_of(places["lon"].to_numpy(), places["lat"].to_numpy())
    places["w"] = places["kind"].map(KIND_WEIGHT)
    total = zones.set_index("zone_id")["name"].map(PARISH_POPULATION)
    places["population"] = np.round(
        places["w"] / places.groupby("zone")["w"].transform("sum") * places["zone"].map(total)
    )
    villages = pd.DataFrame(
        {
            "village_id": [
                f"osm-{t[0]}{i}" for t, i in zip(places["osm_type"], places["osm_id"], strict=True)
            ],
            "name": places["name"],
            "kind": places["kind"],
            "zone": places["zone"],
            "area": np.where(places["kind"] == "town", "urban", "rural"),
            "population": places["population"].astype(int),
            "lon": places["lon"],
            "lat": places["lat"],
        }
    )
    villages.to_csv(HERE / "villages.csv", index=False)

    net = RoadNetwork.from_graph(graph_from_file(SHARED / "andorra_drive.graphml.gz"), "andorra")
    health = pois_from_pbf(pbf, ["health"])
    drive = profile_for("drive")
    snapped = snap_points(
        net,
        health["lon"].to_numpy(),
        health["lat"].to_numpy(),
        usable_edges=net.usable_edges(drive),
        max_snap_m=MAX_FACILITY_ROAD_M,
    )
    for _, row in health[~snapped.ok].iterrows():
        print(
            f"  excluded facility osm {row['osm_type']} {row['osm_id']}: no drivable road within "
            f"{MAX_FACILITY_ROAD_M:.0f} m"
        )
    health = health[snapped.ok]
    existing = pd.DataFrame(
        {
            "site_id": [
                f"HC-{t[0]}{i}" for t, i in zip(health["osm_type"], health["osm_id"], strict=True)
            ],
            "type": "clinic",
            "existing": 1,
            "cost_yuan": 0.0,
            "lon": health["lon"],
            "lat": health["lat"],
        }
    )
    cand_vc = villages[villages["kind"] != "hamlet"]
    new_vc = pd.DataFrame(
        {
            "site_id": "VC-" + cand_vc["village_id"],
            "type": "clinic",
            "existing": 0,
            "cost_yuan": CLINIC_COST,
            "lon": cand_vc["lon"],
            "lat": cand_vc["lat"],
        }
    )
    junctions = candidates_from_network(
        net,
        spacing_m=1500,
        profile=profile_for("drive"),
        classes={"primary", "secondary"},
        prefix="EMS",
    )
    towns = villages[villages["kind"] == "town"]
    ems = pd.concat(
        [
            junctions[["site_id", "lon", "lat"]],
            pd.DataFrame(
                {"site_id": "EMS-" + towns["village_id"], "lon": towns["lon"], "lat": towns["lat"]}
            ),
        ],
        ignore_index=True,
    ).assign(type="ems", existing=0, cost_yuan=EMS_COST)
    sites = pd.concat([existing, new_vc, ems], ignore_index=True)
    sites["zone"] = parish_of(sites["lon"].to_numpy(), sites["lat"].to_numpy())
    sites[["site_id", "type", "existing", "cost_yuan", "zone", "lon", "lat"]].to_csv(
        HERE / "sites.csv", index=False
    )
    print(
        f"{len(zones)} parishes ({len(polys)} with OSM boundaries), {len(villages)} settlements, "
        f"{villages['population'].sum():,} residents (estimate); sites: {len(existing)} existing clinics, "
        f"{len(new_vc)} clinic candidates, {len(ems)} station candidates"
    )


if __name__ == "__main__":
    main()
