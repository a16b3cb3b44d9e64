"""Rebuild the small input tables of the staffing examples from ../shared/data/cn-county-admin.

    python configs/data/build_staffing_examples.py [--shared ../shared]

Deterministic (fixed seed). What is real and what is an estimate or synthetic is written into
configs/data/README.md and into each case file:

* township and village names and codes: real (NBS 2022 code lists);
* Qingdao-area township seat coordinates and populations: real GeoNames figures (CC BY 4.0) of
  unknown vintage, not 2020 census values;
* Zhuji populations: ESTIMATE - the published 2020 resident total 1,218,072 [S] split over
  townships by their number of village-level units;
* hospital → host travel times: ESTIMATE from straight-line distance (x 1.3 detour, 50 km/h,
  + 5 min); there is no road network of these counties in ../shared;
* doctors, department headcounts and specialty needs: SYNTHETIC (no such list is public).
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
ZHUJI_TOTAL = 1_218_072  # 2020 resident population, maigoo.com/news/656083.html [S]
ZHUJI_REMOTE = ["岭北镇", "陈宅镇", "马剑镇", "五泄镇", "同山镇", "东白湖镇"]  # MISSION.md
SPECIALTIES = ["cardiology", "emergency", "paediatrics", "rehabilitation", "tcm"]
# Hospitals at the county seats (GeoNames points of the seats); doctors are synthetic.
HOSPITALS = {
    "平度市人民医院": "Pingdu",
    "平度市中医医院": "Pingdu",
    "莱西市人民医院": "Laixi",
    "胶州市人民医院": "Jiaozhou",
    "即墨区人民医院": "Jimo",
}


def zhuji(shared: Path) -> None:
    base = shared / "data" / "cn-county-admin"
    towns = pd.read_csv(base / "townships.csv", dtype=str)
    vill = pd.read_csv(base / "villages.csv.gz", dtype=str)
    towns = towns[towns["county_code"] == "330681"].copy()
    towns["n_village_units"] = towns["n_village_units"].astype(int)
    n_units = int(towns["n_village_units"].sum())
    vz = vill[vill["county_code"] == "330681"]
    villages = vz[vz["kind"] == "village"].groupby("township_code").size()
    rows = []
    for t in towns.sort_values("township_code").itertuples():
        pop = round(ZHUJI_TOTAL * t.n_village_units / n_units)
        centre = "chc" if t.kind == "street" else "thc"
        suffix = "社区卫生服务中心" if centre == "chc" else "卫生院"
        remote = int(t.township_name in ZHUJI_REMOTE)
        rows.append(
            [t.township_code, f"{t.township_name}{suffix}", centre, t.township_name, pop, remote]
        )
        nv = int(villages.get(t.township_code, 0))
        if nv:
            vpop = round(pop * nv / t.n_village_units)
            rows.append(
                [
                    f"{t.township_code}-VC",
                    f"{t.township_name}村卫生室({nv}个村)",
                    "village_clinic",
                    t.township_name,
                    vpop,
                    remote,
                ]
            )
    out = pd.DataFrame(
        rows, columns=["facility_id", "name", "type", "township", "population_estimate", "remote"]
    )
    out.to_csv(HERE / "zhuji_facilities.csv", index=False, lineterminator="\n")
    missing = sorted(set(ZHUJI_REMOTE) - set(towns["township_name"]))
    assert not missing, f"remote townships not in the NBS list: {missing}"


def _km(a: tuple[float, float], b: tuple[float, float]) -> float:
    lon1, lat1, lon2, lat2 = map(math.radians, (*a, *b))
    h = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    )
    return 2 * 6371.0 * math.asin(math.sqrt(h))


def _village_clinic_name(village: str) -> str:
    for suffix in ("村民委员会", "村委会", "居民委员会", "居委会"):
        village = village.removesuffix(suffix)
    return f"{village}{'' if village.endswith('村') else '村'}卫生室"


def qingdao(shared: Path) -> None:
    import geopandas as gpd

    base = shared / "data" / "cn-county-admin"
    places = gpd.read_file(base / "township_seats_geonames.gpkg", layer="places")
    vill = pd.read_csv(base / "villages.csv.gz", dtype=str)
    towns = pd.read_csv(base / "townships.csv", dtype=str)
    qd = places[places["county_code"].isin(["370283", "370285", "370281", "370215"])]
    seats = {
        r.name: (r.geometry.x, r.geometry.y)
        for r in qd.itertuples()
        if r.population_flag == "county_seat_city_figure"
    }
    ok = qd[(qd["population_flag"] == "ok") & qd["nbs_township_code"].notna()].copy()
    ok = ok.sort_values("nbs_township_code")
    units = towns.set_index("township_code")["n_village_units"].astype(int)
    hosts, travel = [], []
    for r in ok.itertuples():
        code = str(r.nbs_township_code)
        pop = int(r.geonames_population)
        n = int(units[code])
        first = vill[(vill["township_code"] == code) & (vill["kind"] == "village")]
        first = first.sort_values("village_code").iloc[0]
        vpop = round(pop / n)
        hosts.append([code, f"{r.nbs_township_name}卫生院", "thc", r.county_name, 8, pop - vpop])
        hosts.append(
            [
                first["village_code"],
                _village_clinic_name(first["village_name"]),
                "village_clinic",
                r.county_name,
                1,
                vpop,
            ]
        )
        for hosp, seat in HOSPITALS.items():
            km = _km(seats[seat], (r.geometry.x, r.geometry.y))
            minutes = round(km * 1.3 / 50 * 60 + 5, 1)
            travel.append([hosp, code, minutes])
            travel.append([hosp, first["village_code"], round(minutes + 8, 1)])
    pd.DataFrame(
        hosts, columns=["host_id", "name", "type", "county", "capacity", "residents_estimate"]
    ).to_csv(HERE / "qingdao_hosts.csv", index=False, lineterminator="\n")
    pd.DataFrame(travel, columns=["hospital", "host_id", "minutes"]).to_csv(
        HERE / "qingdao_travel.csv", index=False, lineterminator="\n"
    )

    rng = np.random.default_rng(2025)
    doctors, depts = [], []
    for k, hosp in enumerate(HOSPITALS):
        for s in SPECIALTIES:
            if hosp.endswith("中医医院") and s != "tcm":
                listed = 4
            elif s == "paediatrics":  # paediatricians are scarce (儿科 is on every list of needs)
                listed = int(rng.integers(3, 6))
            else:
                listed = int(rng.integers(8, 16))
            depts.append([hosp, s, listed * 4])
            for j in range(listed):
                window = rng.choice(3, p=[0.75, 0.15, 0.10])
                a0, a1 = [(1, 12), (1, 8), (5, 12)][window]
                doctors.append([f"H{k + 1}-{s[:3].upper()}-{j + 1:02d}", hosp, s, a0, a1])
    pd.DataFrame(
        doctors, columns=["doctor_id", "hospital", "specialty", "available_from", "available_to"]
    ).to_csv(HERE / "qingdao_doctors.csv", index=False, lineterminator="\n")
    pd.DataFrame(depts, columns=["hospital", "specialty", "staff"]).to_csv(
        HERE / "qingdao_departments.csv", index=False, lineterminator="\n"
    )
    needs = []
    for h in hosts:
        if h[2] == "thc":
            for s in SPECIALTIES:
                want = 1 if s in ("paediatrics", "rehabilitation") else int(rng.integers(0, 2))
                if want:
                    needs.append([h[0], s, "", want])
        else:
            s = SPECIALTIES[int(rng.integers(0, len(SPECIALTIES)))]
            needs.append([h[0], s, "", 1])
    frame = pd.DataFrame(needs, columns=["host_id", "specialty", "month", "need"])
    need_weights(frame, pd.DataFrame(travel, columns=["hospital", "host_id", "minutes"])).to_csv(
        HERE / "qingdao_needs.csv", index=False, lineterminator="\n"
    )


REMOTE_MIN = 45.0
"""Hosts farther than this from every hospital are remote (planner's ILLUSTRATIVE choice)."""


def need_weights(needs: pd.DataFrame, travel: pd.DataFrame) -> pd.DataFrame:
    """Weight 2 on paediatrics needs at remote hosts (no hospital within REMOTE_MIN minutes):
    a child's missing paediatrician there weighs twice one in reach of a county hospital."""
    nearest = travel.groupby(travel["host_id"].astype(str))["minutes"].min()
    remote = needs["host_id"].astype(str).map(nearest) > REMOTE_MIN
    out = needs.copy()
    out["weight"] = np.where(remote & (out["specialty"] == "paediatrics"), "2", "")
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--shared", type=Path, default=HERE.parents[2] / "shared")
    args = p.parse_args()
    zhuji(args.shared)
    qingdao(args.shared)


if __name__ == "__main__":
    main()
