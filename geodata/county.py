"""A planning case for any Chinese county from its real township and village points.

``python -m optimizer prepare county ADCODE --out DIR`` reads ``cn-village-points-adcode``
(Vonng/adcode, CC BY 4.0: NBS 2016 codes and names, Amap-derived positions converted to WGS-84)
and writes a complete case a county planner can start from:

* ``villages.csv`` - demand: every located village unit (村/社区) with its real name, NBS code,
  township, 城乡分类代码 (``ur_code``) and setting (``urban`` 1xx / ``rural`` 2xx), WGS-84
  position and an **estimated** population (:func:`spread_population`);
* ``sites.csv`` - the township health centres (乡镇卫生院, existing, one per township at the
  township seat point), village-clinic candidates (村卫生室) at every located village, and 120
  station candidates at every township seat and every located village;
* ``townships.csv`` + ``townships.geojson`` - the townships (乡镇/街道) as zones, their
  polygons APPROXIMATED by the Voronoi cells of their villages clipped to the county outline;
* ``facilities.csv`` - the township health centres for the 编制 (staffing quota) case;
* the siting case YAML (``roads: estimate``: straight-line travel times calibrated on real
  roads; ``roads: network`` routes on OSM roads downloaded for the county instead) and the
  quota case YAML that reads the siting run's service populations; ``README.md`` with the
  sources and every estimate.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import shapely

from optimizer.errors import CaseError, Problem

from .county_case import case_yaml, quota_yaml, readme_text
from .zone_shapes import voronoi_zones

__all__ = ["CountyData", "build_county", "load_county", "spread_population"]

log = logging.getLogger(__name__)

UR_WEIGHT = {"111": 4.0, "112": 3.0, "121": 3.0, "122": 2.0, "123": 1.0, "210": 1.5, "220": 1.0}
"""Relative residents of a village unit by its NBS 城乡分类代码 (planning assumption: an urban
community (居委会) of the main town is about four rural villages (村委会), a town-centre one three)."""
PER_UNIT_PLACEHOLDER = 1200.0
"""Residents per weight unit when no county total is given (a placeholder, labelled so)."""
CLINIC_COST = 300_000.0  # yuan: a standard village clinic (村卫生室) building and equipment
EMS_COST = 3_000_000.0  # yuan: a 120 station with its first ambulance
SOURCE_DIR = Path(__file__).resolve().parents[2] / "shared" / "data" / "cn-village-points-adcode"


@dataclass
class CountyData:
    """One county's units (WGS-84 positions where located) and its outline."""

    adcode: str
    name: str
    province: str
    city: str
    county: pd.Series
    townships: pd.DataFrame
    villages: pd.DataFrame
    outline: shapely.Geometry | None
    total_villages: int


def _problem(what: str, got: object, fix: str) -> CaseError:
    return CaseError([Problem("prepare county", what, got=got, fix=fix)])


def load_county(
    adcode: str, source: Path = SOURCE_DIR, *, min_villages: int = 30, min_share: float = 0.5
) -> CountyData:
    """Read a county's units; clear errors for an unknown code or too few located villages."""
    if not (source / "coverage_by_county.csv").exists():
        raise _problem(
            "the village-point data is not found",
            str(source),
            "give --source DIR: the folder cn-village-points-adcode (shared/data)",
        )
    cov = pd.read_csv(source / "coverage_by_county.csv", dtype={"adcode": str})
    row = cov[cov["adcode"] == str(adcode)]
    if row.empty:
        near = cov[cov["adcode"].str[:4] == str(adcode)[:4]].sort_values("share", ascending=False)
        hint = ", ".join(f"{r.adcode} {r.name} ({r.share:.0%})" for r in near.head(5).itertuples())
        raise _problem(
            "unknown county code (NBS 2016 six-digit adcode)",
            adcode,
            "use a code of coverage_by_county.csv"
            + (f"; in that prefecture: {hint}" if hint else ", e.g. 433123 (凤凰县)"),
        )
    info = row.iloc[0]
    located = int(info["with_coord"])
    share = float(info["share"])
    if located < min_villages or share < min_share:
        best = cov[(cov["share"] >= min_share) & (cov["with_coord"] >= min_villages)]
        same = best[best["adcode"].str[:2] == str(adcode)[:2]].sort_values("share", ascending=False)
        hint = ", ".join(f"{r.adcode} {r.name} ({r.share:.0%})" for r in same.head(5).itertuples())
        raise _problem(
            f"too few located villages to plan with: {located} of {int(info['villages'])} "
            f"({share:.0%}); at least {min_villages} and {min_share:.0%} are needed",
            f"{adcode} {info['name']}",
            "add village positions (or lower --min-share at your own risk); counties of the same "
            f"province with enough: {hint or 'none'}",
        )
    units = _units(source, str(adcode))
    county = units[units["unit"] == "county"]
    towns = units[units["unit"] == "township"].copy()
    villages = units[units["unit"] == "village"].copy()
    return CountyData(
        str(adcode),
        str(info["name"]),
        str(info["province"]),
        str(info["city"]),
        county.iloc[0] if len(county) else pd.Series(dtype=object),
        towns.reset_index(drop=True),
        villages.reset_index(drop=True),
        _outline(source, str(adcode)),
        int(info["villages"]),
    )


def _units(source: Path, adcode: str) -> pd.DataFrame:
    """All units of the county (selected counties: also those without a position)."""
    dtype = dict.fromkeys(("code", "parent", "adcode", "ur_code"), str)
    sel = pd.read_csv(source / "selected_counties_units.csv.gz", dtype=dtype)
    units = sel[sel["adcode"] == adcode]
    if units.empty:
        allp = pd.read_csv(source / "china_township_village_points.csv.gz", dtype=dtype)
        units = allp[allp["adcode"] == adcode]
    return units.assign(ur_code=units["ur_code"].fillna("").str.strip())


def _outline(source: Path, adcode: str) -> shapely.Geometry | None:
    import geopandas as gpd

    path = source / "selected_county_fences.gpkg"
    if not path.exists():
        return None
    g = gpd.read_file(path, layer="fence_wgs84")
    g = g[g["adcode"].astype(str) == adcode]
    return shapely.make_valid(g.to_crs("EPSG:4326").union_all()) if len(g) else None


def _kind(name: str) -> str:
    if name.endswith(("街道办事处", "街道")):
        return "street"
    return "town" if name.endswith("镇") else "township"


def _clean(name: str) -> str:
    return name.removesuffix("办事处")


def spread_population(
    townships: pd.DataFrame, villages: pd.DataFrame, total: float | None
) -> tuple[pd.DataFrame, str]:
    """ESTIMATED residents of each located village, and the method as a sentence.

    The county total (or ``PER_UNIT_PLACEHOLDER`` per weight unit when none is given) is spread
    over ALL village units of the county in proportion to ``UR_WEIGHT`` of their 城乡分类代码;
    the share of a unit without a position goes to the located villages of its township (in
    proportion to their weights); a township with no located village gets one demand point at
    its seat. Rounded to whole residents."""
    v = villages.copy()
    v["w"] = v["ur_code"].map(UR_WEIGHT).fillna(1.0)
    per_w = PER_UNIT_PLACEHOLDER if total is None else float(total) / float(v["w"].sum())
    v["share"] = v["w"] * per_w
    located = v["lon_wgs84"].notna()
    extra = v[~located].groupby("parent")["share"].sum()
    wsum = v[located].groupby("parent")["w"].sum()
    out = v[located].copy()
    out["population"] = out["share"] + out["parent"].map(extra).fillna(0.0) * out["w"] / out[
        "parent"
    ].map(wsum)
    orphan = sorted(set(extra.index) - set(wsum.index))
    seats = []
    for code in orphan:
        t = townships[townships["code"] == code]
        if len(t) and pd.notna(t.iloc[0]["lon_wgs84"]):
            r = t.iloc[0]
            seats.append(
                {
                    "code": f"{r['code']}-seat",  # not the township's own id (sites use it)
                    "parent": code,
                    "name": f"{_clean(r['name'])}(未定位村合计, 驻地)",
                    "ur_code": "",
                    "lon_wgs84": r["lon_wgs84"],
                    "lat_wgs84": r["lat_wgs84"],
                    "population": float(extra[code]),
                }
            )
    if seats:
        out = pd.concat([out, pd.DataFrame(seats)], ignore_index=True)
    out["population"] = out["population"].round().astype(int)
    placed = {s["parent"] for s in seats}
    lost = float(sum(extra[c] for c in orphan if c not in placed))
    how = (
        f"county total {total:,.0f}"
        if total is not None
        else f"PLACEHOLDER {PER_UNIT_PLACEHOLDER:,.0f} residents per village-equivalent (no county total given)"
    )
    note = (
        f"ESTIMATE - {how} spread over all {len(v)} village units by 城乡分类代码 weight "
        f"(111:4, 112/121:3, 122:2, 210:1.5, 220/123:1); unlocated villages' share to the "
        f"located villages of their township"
        + (
            f"; {lost:,.0f} residents of townships without any position left out"
            if lost > 0.5
            else ""
        )
    )
    return out, note


def _setting(ur: str) -> str:
    return "urban" if ur.startswith("1") else "rural"


def _site(
    sid: str, name: str, kind: str, existing: int, cost: float, **where: object
) -> dict[str, object]:
    row: dict[str, object] = {"site_id": sid, "name": name, "type": kind}
    return row | {"existing": existing, "cost_yuan": cost} | where


def _seat_sites(towns: pd.DataFrame, villages: pd.DataFrame) -> list[dict[str, object]]:
    """Per township: its health centre (existing) and a 120 candidate at the seat point, or,
    without one, at its most populous located village (flagged)."""
    heaviest = villages.sort_values(["population", "village_id"], ascending=[False, True])
    heaviest = heaviest.drop_duplicates("township").set_index("township")
    rows = []
    for t in towns.to_dict("records"):
        if pd.notna(t["lon_wgs84"]):
            lon, lat = round(float(t["lon_wgs84"]), 6), round(float(t["lat_wgs84"]), 6)
            where = "township seat point"
        elif t["code"] in heaviest.index:
            h = heaviest.loc[t["code"]]
            lon, lat, where = h["lon"], h["lat"], f"APPROXIMATE: at {h['name']} (no seat point)"
        else:
            continue
        at = {"township": t["code"], "lon": lon, "lat": lat, "position": where}
        rows.append(_site(f"THC-{t['code']}", f"{t['name']}卫生院", "thc", 1, 0.0, **at))
        rows.append(
            _site(f"EMS-{t['code']}", f"{t['name']}120急救站(候选)", "ems", 0, EMS_COST, **at)
        )
    return rows


def _village_sites(villages: pd.DataFrame) -> list[dict[str, object]]:
    """A village-clinic and a 120 candidate at every located village."""
    rows = []
    for v in villages.to_dict("records"):
        at = {"township": v["township"], "lon": v["lon"], "lat": v["lat"]}
        at["position"] = "village point"
        vid, name = v["village_id"], v["name"]
        rows.append(_site(f"EMS-{vid}", f"{name}120急救站(候选)", "ems", 0, EMS_COST, **at))
        rows.append(_site(f"VC-{vid}", f"{name}卫生室(候选)", "clinic", 0, CLINIC_COST, **at))
    return rows


def _tables(data: CountyData, demand: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """villages (demand), sites, townships (zones) and facilities (编制) tables."""
    towns = data.townships.copy()
    towns["name"] = towns["name"].map(_clean)
    villages = demand.assign(
        village_id=demand["code"],
        township=demand["parent"],
        setting=demand["ur_code"].map(_setting),
        lon=demand["lon_wgs84"].round(6),
        lat=demand["lat_wgs84"].round(6),
    )[["village_id", "name", "township", "ur_code", "setting", "population", "lon", "lat"]]
    villages = villages.sort_values("village_id")
    sites = pd.DataFrame(_seat_sites(towns, villages) + _village_sites(villages))
    sites = sites[
        ["site_id", "name", "type", "existing", "cost_yuan", "township", "lon", "lat", "position"]
    ].sort_values("site_id")
    zones = pd.DataFrame(
        {
            "zone_id": towns["code"],
            "name": towns["name"],
            "kind": towns["name"].map(_kind),
            "approximate_boundary": 1,
        }
    ).sort_values("zone_id")
    zones = zones[zones["zone_id"].isin(set(villages["township"]) | set(sites["township"]))]
    thc = sites[sites["type"] == "thc"]
    names = dict(zip(zones["zone_id"], zones["name"], strict=True))
    facilities = pd.DataFrame(
        {
            "facility_id": thc["site_id"],
            "name": thc["name"],
            "type": "thc",
            "township": thc["township"].map(names),
        }
    )
    return {"villages": villages, "sites": sites, "townships": zones, "facilities": facilities}


def _geojson(features: list[tuple[dict[str, object], shapely.Geometry]]) -> str:
    feats = [
        {"type": "Feature", "properties": p, "geometry": json.loads(shapely.to_geojson(g))}
        for p, g in features
    ]
    doc = {"type": "FeatureCollection", "features": feats}
    return json.dumps(doc, ensure_ascii=False, separators=(",", ":")) + "\n"


def build_county(
    adcode: str,
    out: Path,
    *,
    source: Path = SOURCE_DIR,
    case_path: Path | None = None,
    slug: str | None = None,
    population: float | None = None,
    population_source: str | None = None,
    min_villages: int = 30,
    min_share: float = 0.5,
) -> dict[str, Path]:
    """Write the county's tables, polygons, cases and README; return the written paths."""
    if population is not None and not population > 0:
        raise _problem(
            "the county population must be a positive number of residents",
            population,
            "give the county's resident total, e.g. --population 350195 (七普)",
        )
    data = load_county(adcode, source, min_villages=min_villages, min_share=min_share)
    demand, pop_note = spread_population(data.townships, data.villages, population)
    if population is not None and population_source:
        pop_note += f"; county total: {population_source}"
    tables = _tables(data, demand)
    v = tables["villages"]
    pts = pd.concat(
        [
            v[["township", "lon", "lat"]],
            data.townships.dropna(subset=["lon_wgs84"]).rename(
                columns={"code": "township", "lon_wgs84": "lon", "lat_wgs84": "lat"}
            )[["township", "lon", "lat"]],
        ]
    )
    pts = pts[pts["township"].isin(tables["townships"]["zone_id"])]
    polys = voronoi_zones(
        pts["township"].to_numpy(), pts["lon"].to_numpy(), pts["lat"].to_numpy(), data.outline
    )
    names = dict(zip(tables["townships"]["zone_id"], tables["townships"]["name"], strict=True))
    area = data.outline if data.outline is not None else shapely.union_all(list(polys.values()))
    out.mkdir(parents=True, exist_ok=True)
    written: dict[str, Path] = {}
    for key, frame in tables.items():
        written[key] = out / f"{key}.csv"
        frame.to_csv(written[key], index=False, lineterminator="\n")
    approx = "APPROXIMATE: Voronoi cells of the township's village points" + (
        ", clipped to the county outline" if data.outline is not None else ""
    )
    written["townships_geo"] = out / "townships.geojson"
    written["townships_geo"].write_text(
        _geojson(
            [
                ({"zone_id": z, "name": names[z], "boundary": approx}, g)
                for z, g in sorted(polys.items())
            ]
        ),
        encoding="utf-8",
    )
    written["county_geo"] = out / "county.geojson"
    written["county_geo"].write_text(
        _geojson([({"adcode": data.adcode, "name": data.name}, area)]), encoding="utf-8"
    )
    slug = slug or f"county-{data.adcode}"
    case_path = case_path or out / "case.yaml"
    rel = Path(os.path.relpath(out, case_path.parent))
    results = Path(os.path.relpath(Path.cwd() / "results" / slug, case_path.parent))
    quota_path = case_path.with_name(case_path.stem + "_quota.yaml")
    if case_path.name == "case.yaml":
        quota_path = case_path.with_name("quota.yaml")
    stats = {
        "villages": len(v),
        "townships": len(tables["townships"]),
        "population": int(v["population"].sum()),
        "total_villages": data.total_villages,
        "kinds": sorted(set(tables["townships"]["kind"])),
    }
    out_shown = Path(os.path.relpath(out.resolve(), Path.cwd())).as_posix()
    case_path.write_text(
        case_yaml(data, rel, stats, pop_note, approx, slug, out_shown), encoding="utf-8"
    )
    quota_path.write_text(quota_yaml(data, rel, results, stats, pop_note), encoding="utf-8")
    shown = [Path(os.path.relpath(Path(q).resolve(), Path.cwd())) for q in (case_path, quota_path)]
    (out / "README.md").write_text(
        readme_text(data, stats, pop_note, approx, shown[0], shown[1], slug), encoding="utf-8"
    )
    written |= {"case": case_path, "quota": quota_path, "readme": out / "README.md"}
    log.info(
        "County %s %s: %s villages, %s townships, %s residents (estimate) -> %s",
        data.adcode,
        data.name,
        f"{len(v):,}",
        len(tables["townships"]),
        f"{stats['population']:,}",
        out,
    )
    return written
