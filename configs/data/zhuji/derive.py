"""Derive the Zhuji (诸暨市, 330681) case layers from ../shared/data/cn-county-admin.

    python -m configs.data.zhuji.derive            # offline: townships and seats
    python -m configs.data.zhuji.derive --online   # also: OSM villages in the county (osmnx)

Offline (real data, no download):
* ``townships.csv`` - the 23 township-level units (NBS 2022 codes) as zones, kind street / town /
  township, with ``remote = 1`` for the six remote townships named in Zhuji's plan (岭北、陈宅、
  马剑、五泄、同山、东白湖).
* ``seats.csv`` - the 22 GeoNames township seats in the county (real coordinates). Eight (the
  county seat, and seven with pre-2015 township names such as 直埠, 街亭, 陈蔡) match no current
  township; they are attached to the township of the nearest matched seat and flagged
  ``zone_source = nearest-seat``.

Online (``--online``; needs internet, osmnx with its on-disk cache):
* ``villages.csv`` - OSM ``place=*`` settlements inside the real county outline (WGS-84 layer of
  ``county_boundaries.gpkg``). Names are matched to the NBS village list (村/社区) to get their
  township; unmatched ones take the township of the nearest seat (flagged). **Population is an
  ESTIMATE**: ``ZHUJI_POPULATION`` (2020 census figure as recalled, not verified offline) split
  over townships in proportion to their number of village units, then equally over each
  township's settlements.
* ``sites.csv`` - every village as a village-clinic candidate; every seat as a 120-station
  candidate and as the site of its township health centre (existing, type ``thc``).
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
ADMIN = HERE.parents[2].parent / "shared" / "data" / "cn-county-admin"
ADCODE = "330681"
ZHUJI_POPULATION = 1_218_000
REMOTE = {"岭北镇", "陈宅镇", "马剑镇", "五泄镇", "同山镇", "东白湖镇"}
CLINIC_COST = 600_000.0
EMS_COST = 3_000_000.0
_SUFFIX = re.compile(r"(社区居民委员会|村民委员会|居民委员会|村委会|居委会|社区|村)$")


def _core(name: str) -> str:
    return _SUFFIX.sub("", str(name).strip())


def offline() -> tuple[pd.DataFrame, pd.DataFrame]:
    import geopandas as gpd

    t = pd.read_csv(ADMIN / "townships.csv", dtype=str)
    t = t[t["county_code"] == ADCODE]
    towns = pd.DataFrame(
        {
            "zone_id": t["township_code"],
            "name": t["township_name"],
            "kind": t["kind"],
            "remote": t["township_name"].isin(REMOTE).astype(int),
            "n_village_units": t["n_village_units"].astype(int),
        }
    )
    assert towns["remote"].sum() == 6, "all six remote townships are in the NBS list"
    towns.to_csv(HERE / "townships.csv", index=False)
    g = gpd.read_file(ADMIN / "township_seats_geonames.gpkg", layer="places")
    g = g[g["county_code"].astype(str) == ADCODE].reset_index(drop=True)
    seats = pd.DataFrame(
        {
            "seat_id": "GN-" + g["geonameid"].astype(str),
            "name": g["name_zh"].str.split(";").str[0],
            "zone": g["nbs_township_code"]
            .fillna("")
            .astype(str)
            .str.replace(r"\.0$", "", regex=True),
            "lon": g.geometry.x.round(6),
            "lat": g.geometry.y.round(6),
        }
    )
    seats["zone_source"] = np.where(seats["zone"] != "", "geonames-match", "nearest-seat")
    matched = seats[seats["zone"] != ""]
    for k in np.flatnonzero(seats["zone"] == ""):
        d = np.hypot(matched["lon"] - seats.loc[k, "lon"], matched["lat"] - seats.loc[k, "lat"])
        seats.loc[k, "zone"] = matched["zone"].iloc[int(np.argmin(d.to_numpy()))]
    seats.to_csv(HERE / "seats.csv", index=False)
    return towns, seats


def online(towns: pd.DataFrame, seats: pd.DataFrame) -> None:
    import geopandas as gpd
    import osmnx as ox

    from geodata.osm import cache_dir

    ox.settings.use_cache = True
    ox.settings.cache_folder = str(cache_dir() / "osmnx-http")
    outline = gpd.read_file(
        ADMIN / "county_boundaries.gpkg", layer="county_wgs84", where=f"adcode = '{ADCODE}'"
    )
    places = ox.features_from_polygon(
        outline.union_all(),
        tags={"place": ["town", "village", "hamlet", "neighbourhood", "suburb"]},
    )
    pts = places.geometry.representative_point()
    names = places.get("name:zh", places.get("name", pd.Series("", index=places.index))).fillna(
        places.get("name", "")
    )
    v = pd.read_csv(ADMIN / "villages.csv.gz", dtype=str)
    v = v[v["county_code"] == ADCODE]
    lookup = {
        _core(n): c for n, c in zip(v["village_name"], v["township_code"].str[:9], strict=True)
    }
    rows = []
    matched = seats
    for (osm_type, osm_id), name, p in zip(places.index, names, pts, strict=True):
        zone = lookup.get(_core(name), "")
        source = "nbs-name-match" if zone else "nearest-seat"
        if not zone:
            d = np.hypot(matched["lon"] - p.x, matched["lat"] - p.y)
            zone = matched["zone"].iloc[int(np.argmin(d.to_numpy()))]
        rows.append(
            {
                "village_id": f"osm-{osm_type[0]}{osm_id}",
                "name": name,
                "zone": zone,
                "zone_source": source,
                "lon": round(p.x, 7),
                "lat": round(p.y, 7),
            }
        )
    villages = pd.DataFrame(rows)
    share = towns.set_index("zone_id")["n_village_units"] / towns["n_village_units"].sum()
    per_town = share * ZHUJI_POPULATION
    count = villages.groupby("zone")["village_id"].transform("count")
    villages["population"] = np.round(villages["zone"].map(per_town) / count).fillna(0).astype(int)
    villages.to_csv(HERE / "villages.csv", index=False)
    sites = pd.concat(
        [
            pd.DataFrame(
                {
                    "site_id": "VC-" + villages["village_id"],
                    "type": "clinic",
                    "existing": 0,
                    "cost_yuan": CLINIC_COST,
                    "zone": villages["zone"],
                    "lon": villages["lon"],
                    "lat": villages["lat"],
                }
            ),
            pd.DataFrame(
                {
                    "site_id": "THC-" + seats["seat_id"],
                    "type": "thc",
                    "existing": 1,
                    "cost_yuan": 0.0,
                    "zone": seats["zone"],
                    "lon": seats["lon"],
                    "lat": seats["lat"],
                }
            ),
            pd.DataFrame(
                {
                    "site_id": "EMS-" + seats["seat_id"],
                    "type": "ems",
                    "existing": 0,
                    "cost_yuan": EMS_COST,
                    "zone": seats["zone"],
                    "lon": seats["lon"],
                    "lat": seats["lat"],
                }
            ),
        ],
        ignore_index=True,
    )
    sites.to_csv(HERE / "sites.csv", index=False)
    print(
        f"{len(villages):,} OSM settlements ({(villages['zone_source'] == 'nbs-name-match').sum():,} matched "
        f"to NBS villages), {len(sites):,} sites"
    )


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--online", action="store_true", help="also fetch OSM villages (needs internet)")
    args = p.parse_args()
    towns, seats = offline()
    print(
        f"{len(towns)} townships ({towns['remote'].sum()} remote), {len(seats)} seats "
        f"({(seats['zone_source'] == 'nearest-seat').sum()} attached to the nearest matched seat)"
    )
    if args.online:
        online(towns, seats)


if __name__ == "__main__":
    main()
