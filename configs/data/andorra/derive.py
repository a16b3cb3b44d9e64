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
from typing import Any

import numpy as np
import pandas as pd
import shapely

from geodata.candidates import candidates_from_network, places_from_pbf, pois_from_pbf
from geodata.network import RoadNetwork
from geodata.osm import graph_from_file
from geodata.population import population_from_streets
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

    joint(pbf, villages, sites, parish_of)


# Joint clinic + AED + 120 case (configs/andorra_joint.yaml). Planning assumptions, not data:
CELL_M = 200.0  # resident cells for walking (AED) coverage
AED_COST = 30_000.0  # free-standing public AED: unit, outdoor cabinet, 5 years' upkeep (yuan)
AED_HOSTED_COST = 12_000.0  # AED inside a chosen clinic or station: unit and upkeep only
FOOTFALL = {  # daily visitors per venue kind (assumption; OHCA risk follows movement, Marijon)
    "station": 1500.0,
    "market": 800.0,
    "school": 600.0,
    "health": 400.0,
    "government": 300.0,
    "pharmacy": 150.0,
}


def joint(pbf: Path, villages: pd.DataFrame, sites: pd.DataFrame, parish_of: Any) -> None:
    """Layers for the joint case: resident cells (walk-network street length, parish totals
    spread - an ESTIMATE) and OSM public venues weighted by footfall as demand; AED sites at
    public venues and settlement centres (village-committee proxies), and cheaper hosted AEDs
    inside every clinic and station site, beside the clinic and station sites of ``sites.csv``."""
    walk = RoadNetwork.from_graph(graph_from_file(pbf, "walk"), "andorra-walk")
    cells = population_from_streets(walk, cell_m=CELL_M, density_per_km2=1.0)
    lon, lat = cells["lon"].to_numpy(), cells["lat"].to_numpy()
    cells["zone"] = parish_of(lon, lat)
    # weights: the street-length shares; totals: the parish estimates used for villages.csv
    w = cells["population"].astype(float).clip(lower=0) + 1e-9
    totals = villages.groupby("zone")["population"].sum()
    share = w / w.groupby(cells["zone"]).transform("sum")
    cells["population"] = np.round(share * cells["zone"].map(totals)).astype(int)
    # urban/rural class: that of the nearest settlement (towns are urban)
    d2 = (lon[:, None] - villages["lon"].to_numpy()[None, :]) ** 2 + (
        (lat[:, None] - villages["lat"].to_numpy()[None, :]) * 1.35
    ) ** 2
    cells["area"] = villages["area"].to_numpy()[d2.argmin(axis=1)]
    resident = pd.DataFrame(
        {
            "demand_id": [
                f"R{r:03d}{c:03d}" for r, c in zip(cells["row"], cells["col"], strict=True)
            ],
            "class": cells["area"],
            "weight": cells["population"],
            "zone": cells["zone"],
            "lon": cells["lon"],
            "lat": cells["lat"],
            "note": "residents (estimate)",
        }
    )
    pois = pois_from_pbf(pbf, list(FOOTFALL))
    pois = pois.drop_duplicates(["osm_type", "osm_id"]).reset_index(drop=True)
    # venues with no drivable road within MAX_FACILITY_ROAD_M (first-aid posts on the ski pistes,
    # as for the existing facilities) are left out: no network here reaches them
    roads = RoadNetwork.from_graph(graph_from_file(SHARED / "andorra_drive.graphml.gz"), "andorra")
    reach = snap_points(
        roads,
        pois["lon"].to_numpy(),
        pois["lat"].to_numpy(),
        usable_edges=roads.usable_edges(profile_for("drive")),
        max_snap_m=MAX_FACILITY_ROAD_M,
    ).ok
    pois = pois[reach].reset_index(drop=True)
    pid = [f"{t[0]}{i}" for t, i in zip(pois["osm_type"], pois["osm_id"], strict=True)]
    venues = pd.DataFrame(
        {
            "demand_id": ["V-" + p for p in pid],
            "class": "venue",
            "weight": pois["kind"].map(FOOTFALL).astype(int),
            "zone": parish_of(pois["lon"].to_numpy(), pois["lat"].to_numpy()),
            "lon": pois["lon"],
            "lat": pois["lat"],
            "note": "footfall: " + pois["kind"] + " (daily visitors, assumption)",
        }
    )
    demand = pd.concat([resident, venues], ignore_index=True)
    demand.to_csv(HERE / "joint_demand.csv", index=False)

    base = sites.assign(host="")
    centres = villages[villages["kind"].isin(["town", "village"])]
    free = pd.concat(
        [
            pd.DataFrame(
                {"site_id": ["AED-" + p for p in pid], "lon": pois["lon"], "lat": pois["lat"]}
            ),
            pd.DataFrame(
                {
                    "site_id": "AED-" + centres["village_id"],
                    "lon": centres["lon"],
                    "lat": centres["lat"],
                }
            ),
        ],
        ignore_index=True,
    ).assign(type="aed", existing=0, cost_yuan=AED_COST, host="")
    free["zone"] = parish_of(free["lon"].to_numpy(), free["lat"].to_numpy())
    hosted = base.assign(
        site_id="AED@" + base["site_id"],
        type="aed",
        existing=0,
        cost_yuan=AED_HOSTED_COST,
        host=base["site_id"],
    )
    out = pd.concat([base, free, hosted], ignore_index=True)
    out[["site_id", "type", "existing", "cost_yuan", "host", "zone", "lon", "lat"]].to_csv(
        HERE / "joint_sites.csv", index=False
    )
    print(
        f"joint: {len(resident):,} resident cells ({resident['weight'].sum():,} residents, estimate), "
        f"{len(venues)} venues; AED sites: {len(free)} free-standing, {len(hosted)} hosted"
    )


if __name__ == "__main__":
    main()
