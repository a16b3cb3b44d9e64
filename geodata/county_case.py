"""Text of the case files and README that ``prepare county`` writes (see :mod:`geodata.county`).

The siting case asks the three questions of a county plan: village clinics so that everyone is
within 20 minutes by e-bike (电动车) of a clinic or township health centre and as many as
possible within 15 (the 15-minute medical service circle); 120 stations within the urban /
rural response standard (11 / 15 minutes including 2 minutes dispatch; radius 3.5 / 10 km by
road) with at least one per township; the cheapest such plan. The quota case computes the 编制
of the township health centres from the residents each serves in the siting run.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .county import CountyData

__all__ = ["case_yaml", "quota_yaml", "readme_text"]

ATTRIBUTION = (
    "Villages, townships and outline: Vonng/adcode (github.com/Vonng/adcode), CC BY 4.0 - NBS "
    "2016 codes and names, positions Amap-derived (GCJ-02, converted to WGS-84)"
)


def max_new_clinics(stats: dict[str, Any]) -> int:
    """Limit on new village clinics: one per four located villages (a planning assumption)."""
    return max(5, round(stats["villages"] / 4))


def case_yaml(
    data: CountyData,
    rel: Path,
    stats: dict[str, Any],
    pop_note: str,
    approx: str,
    slug: str,
    out_shown: str = ".",
) -> str:
    d = rel.as_posix().rstrip("/") + "/" if rel.as_posix() not in ("", ".") else ""
    n_new = max_new_clinics(stats)
    return f"""# {data.name} ({data.province}{data.city}, adcode {data.adcode}) - village clinics (村卫生室),
# township health centres (乡镇卫生院) and 120 stations, written by
#     python -m optimizer prepare county {data.adcode} --out {out_shown}
# Run:  python -m optimizer run <this file> --out results/{slug}
#
# {ATTRIBUTION}.
# {stats["villages"]} of {stats["total_villages"]} village units located; {stats["townships"]} townships.
# Residents: {pop_note}.
# Township boundaries: {approx}.
#
# OFFLINE by default (roads: estimate): travel times are ESTIMATED from straight-line distances
# (circuity and speed calibrated on real road networks; every output quotes the error band).
# To route on OpenStreetMap roads instead (needs internet once; osmnx caches the download),
# change the one line below to   roads: network
roads: estimate
name: {data.name} {data.adcode} - village clinics (15/20 min by e-bike) and 120 stations (rural standard)
description: >
  Real village and township names and positions (NBS 2016 codes; Vonng/adcode, CC BY 4.0).
  Residents estimated; township boundaries approximate; travel times estimated unless roads: network.

demand:
  file: {d}villages.csv
  columns: {{id: village_id, weight: population, zone: township, class: setting, x: lon, y: lat}}
  crs: EPSG:4326
  weight_note: "{pop_note}"

sites:
  file: {d}sites.csv
  columns: {{id: site_id, type: type, cost: cost_yuan, existing: existing, zone: township, x: lon, y: lat}}
  crs: EPSG:4326

zones:
  file: {d}townships.csv
  columns: {{id: zone_id, name: name, kind: kind}}
  geometry: {d}townships.geojson
  geometry_approximate: "{approx}"

networks:                     # used with roads: network only (downloaded once, cached)
  roads:
    polygon: {d}county.geojson
    buffer_m: 3000
    network_type: drive

travel_times:                 # with roads: estimate each becomes a calibrated estimate of the same mode
  ebike: {{network: roads, mode: ebike, direction: demand_to_site, max_snap_m: 2000, far_points: unreachable}}
  drive: {{network: roads, mode: drive, direction: site_to_demand, max_snap_m: 2000, far_points: unreachable}}
  drive_km: {{network: roads, mode: drive, measure: distance, direction: site_to_demand, max_snap_m: 2000, far_points: unreachable}}

model:
  kind: mclp
  standards:
    - {{name: clinic_15min, minutes: 15, matrix: ebike, facility_types: [clinic, thc], weight: 1,
       source: "15-minute medical service circle (Yiwu 2024 plan; Qingdao measures)"}}
    - {{name: clinic_20min, minutes: 20, matrix: ebike, facility_types: [clinic, thc], weight: 0, min_share: 1.0,
       source: "20-minute medical service circle (Yueqing): every village"}}
    - {{name: ems_response, minutes: {{urban: 9, rural: 13}}, matrix: drive, facility_types: [ems], weight: 0, min_share: 1.0,
       source: "Yueqing: 120 response < 11 min urban, < 15 min rural (2 min dispatch deducted)"}}
    - {{name: ems_radius, metres: {{urban: 3500, rural: 10000}}, matrix: drive_km, facility_types: [ems], weight: 0, min_share: 1.0,
       source: "Yueqing: 120 service radius <= 3.5 km urban, 8-10 km rural"}}
  max_new_sites: {{clinic: {n_new}}}    # planning assumption: one new clinic per four located villages
  zone_rules:
    - {{min_sites: 1, facility_types: [ems], zone_kinds: [{", ".join(stats["kinds"])}],
       source: "at least one 120 station per township (建制乡镇)"}}
  secondary_objective: min_cost

solver: {{backend: highs, time_limit_s: 120}}
"""


def quota_yaml(
    data: CountyData, rel: Path, results: Path, stats: dict[str, Any], pop_note: str
) -> str:
    d = rel.as_posix().rstrip("/") + "/" if rel.as_posix() not in ("", ".") else ""
    return f"""# {data.name} ({data.adcode}) 编制 of the township health centres (乡镇卫生院) from the residents
# each serves in the siting run (nearest centre by the run's travel times). Run the siting case
# first, then:
#     python -m optimizer staff <this file> --out {results.as_posix()}-quota
# Residents are ESTIMATES ({pop_note}).
kind: staffing_quota
name: {data.name} 乡镇卫生院编制 (service populations of the siting run; estimated residents)
description: >
  {stats["townships"]} township health centres of {data.name}; residents served = the villages
  whose nearest centre (travel time of the siting run) it is. Norms written out below.

facilities:
  file: {d}facilities.csv
  columns: {{id: facility_id, name: name, type: type, zone: township}}

service_population:
  file: {results.as_posix()}/demand.csv    # the siting run's demand table
  weight_column: weight
  facility_types: [thc]

population:
  partition_types: [thc]
  note: "{pop_note}; residents served = nearest centre by the siting run's travel times (ESTIMATED from straight-line distances unless that case says roads: network)"

categories:   # need_share splits the per-mille midpoint need: ILLUSTRATIVE mix
  - {{name: professional, professional: true, facility_types: [thc], need_share: 0.12}}
  - {{name: public_health, professional: true, public_health: true, facility_types: [thc], need_share: 0.25}}
  - {{name: gp, professional: true, gp: true, facility_types: [thc], need_share: 0.34}}
  - {{name: nursing, professional: true, facility_types: [thc], need_share: 0.25}}
  - {{name: other, professional: false, facility_types: [thc], need_share: 0.04}}

norms:
  per_mille:
    thc: {{min: 1.0, max: 1.5, rounding: strict,
          source: "中央编办等《关于乡镇卫生院机构编制标准的指导意见》(2011): 1-1.5 per 1,000 served [U]"}}
  professional_min_share: {{value: 0.90, facility_types: [thc], source: "2011 THC staffing guideline [U]"}}
  public_health_min_share: {{value: 0.25, basis: professional, facility_types: [thc],
                            source: "public-health staff >= 25% of professional staff [U]"}}
  gp_per_10k: {{per_10k: 4, source: "4 GPs per 10,000 residents (Qingdao measures) [U]"}}
  cuts: {{allowed: false}}

objective:
  total_shortfall_weight: 1.0
  movement: none

solver: {{backend: highs, time_limit_s: 60}}
"""


def readme_text(
    data: CountyData,
    stats: dict[str, Any],
    pop_note: str,
    approx: str,
    case_path: Path,
    quota_path: Path,
    slug: str,
) -> str:
    return f"""# {data.name} ({data.province}{data.city}, adcode {data.adcode}) - a county case from real places

Written by `python -m optimizer prepare county {data.adcode}` (`geodata/county.py`).

| file | what |
|---|---|
| `villages.csv` | demand: {stats["villages"]} located village units of {stats["total_villages"]} (real names, NBS 2016 codes, 城乡分类代码 `ur_code`, `setting` urban/rural, WGS-84); **population is an ESTIMATE** |
| `sites.csv` | township health centres (`thc`, existing, at the township seat point; `position` says where approximated), 120-station candidates (`ems`) at the same points and at every village, village-clinic candidates (`clinic`) at every village; costs are planning assumptions |
| `townships.csv`, `townships.geojson` | {stats["townships"]} townships as zones; **boundaries {approx}** (no township polygons exist offline) |
| `county.geojson` | the county outline (the download area with `roads: network`) |
| `facilities.csv` | the township health centres for the 编制 case |

Residents: {pop_note}. Replace `villages.csv`'s `population` with census figures (七普 by village or
township) before any planning use.

Run (offline, travel times estimated from straight-line distances with the calibrated error band):

    python -m optimizer run {case_path.as_posix()} --out results/{slug}
    python -m optimizer staff {quota_path.as_posix()} --out results/{slug}-quota

Switch to OpenStreetMap roads (internet once, cached): change `roads: estimate` to
`roads: network` in `{case_path.name}`.

Attribution: {ATTRIBUTION}. Positions are Amap-derived: review their terms before a public
release. Roads (with `roads: network`): © OpenStreetMap contributors, ODbL 1.0.
"""
