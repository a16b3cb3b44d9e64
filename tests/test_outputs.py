"""Planner-ready outputs: names beside ids, CSV encodings, results.xlsx, QGIS styles and project,
Shapefile export, a console that cannot show Chinese."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from optimizer.atomic import csv_encoding_of, write_csv
from optimizer.cli import main
from optimizer.names import add_names
from optimizer.qgis import shapefile_field_map
from optimizer.workbook import column_label

BOM = b"\xef\xbb\xbf"


def _case(folder: Path, model: str, output: str = "") -> Path:
    """12 named villages in 3 named townships, 6 sites (two named), a dense OD table."""
    rng = np.random.default_rng(7)
    d = rng.random((12, 2)) * 0.1 + [120.0, 30.0]
    s = np.vstack([d[0], rng.random((5, 2)) * 0.1 + [120.0, 30.0]])  # s0 sits on village v00
    times = np.round(np.linalg.norm(d[:, None] - s[None], axis=2) * 300.0, 3) + 1.0
    pd.DataFrame(
        {
            "id": [f"v{i:02d}" for i in range(12)],
            "name": [f"王家{i}村" if i != 3 else "" for i in range(12)],
            "pop": rng.integers(50, 500, 12),
            "town": [f"z{i % 3}" for i in range(12)],
            "lon": d[:, 0],
            "lat": d[:, 1],
        }
    ).to_csv(folder / "villages.csv", index=False)
    pd.DataFrame(
        {
            "id": [f"s{j}" for j in range(6)],
            "name": ["中心卫生院", "李村卫生室", "", "", "", ""],
            "existing": [1, 0, 0, 0, 0, 0],
            "town": [f"z{j % 3}" for j in range(6)],
            "lon": s[:, 0],
            "lat": s[:, 1],
        }
    ).to_csv(folder / "sites.csv", index=False)
    pd.DataFrame(
        {"id": ["z0", "z1", "z2"], "name": ["暨阳街道", "陶朱街道", "店口镇"], "kind": "town"}
    ).to_csv(folder / "towns.csv", index=False)
    ii, jj = np.nonzero(np.ones_like(times, dtype=bool))
    pd.DataFrame(
        {"d": [f"v{i:02d}" for i in ii], "s": [f"s{j}" for j in jj], "min": times[ii, jj]}
    ).to_csv(folder / "od.csv", index=False)
    case = folder / "case.yaml"
    case.write_text(
        f"""name: 命名测试 named case
demand:
  file: villages.csv
  columns: {{id: id, weight: pop, zone: town, x: lon, y: lat}}
  crs: EPSG:4326
sites:
  file: sites.csv
  columns: {{id: id, existing: existing, zone: town, x: lon, y: lat}}
  crs: EPSG:4326
  facility_type: clinic
zones:
  file: towns.csv
travel_times:
  file: od.csv
  columns: {{demand_id: d, site_id: s, value: min}}
model:
{model}
{output}""",
        encoding="utf-8",
    )
    return case


@pytest.fixture(scope="module")
def pmedian_run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("named")
    case = _case(folder, "  kind: p_median\n  p: 3", "output:\n  shapefile: true\n")
    out = folder / "out"
    assert main(["run", str(case), "--out", str(out), "-q"]) == 0
    return out


def test_names_sit_beside_ids_in_every_table(pmedian_run):
    demand = pd.read_csv(pmedian_run / "demand.csv", dtype=str, keep_default_na=False)
    assert list(demand.columns[:4]) == ["demand_id", "name", "zone", "zone_name"]
    row = demand.set_index("demand_id").loc["v05"]
    assert row["name"] == "王家5村" and row["zone_name"] == "店口镇"
    assert demand.set_index("demand_id").loc["v03", "name"] == ""  # unnamed stays empty
    # the assigned site's name where it has one
    named = demand[demand["assigned_site"] == "s0"]
    assert len(named) and (named["assigned_site_name"] == "中心卫生院").all()
    sites = pd.read_csv(pmedian_run / "sites.csv", dtype=str, keep_default_na=False)
    assert list(sites.columns[:2]) == ["site_id", "name"]
    assert sites.set_index("site_id").loc["s1", "name"] == "李村卫生室"
    zones = pd.read_csv(pmedian_run / "zones.csv", dtype=str, keep_default_na=False)
    assert list(zones["name"]) == ["暨阳街道", "陶朱街道", "店口镇"]
    # the GIS layers carry the same names
    gj = json.loads((pmedian_run / "geojson" / "demand.geojson").read_text(encoding="utf-8"))
    assert {f["properties"]["name"] for f in gj["features"]} >= {"王家5村"}
    summary = (pmedian_run / "summary.txt").read_text(encoding="utf-8")
    assert "暨阳街道 (z0)" in summary or "陶朱街道 (z1)" in summary or "店口镇 (z2)" in summary


def test_add_names_leaves_unnamed_tables_alone():
    frame = pd.DataFrame({"demand_id": ["a"], "zone": ["z"], "weight": [1.0]})
    assert add_names(frame) is frame


def test_every_csv_has_a_bom_and_round_trips(pmedian_run):
    csvs = sorted(pmedian_run.rglob("*.csv"))
    assert {p.name for p in csvs} >= {"demand.csv", "sites.csv", "zones.csv", "fields.csv"}
    for p in csvs:
        assert p.read_bytes().startswith(BOM), p
        assert csv_encoding_of(p) == "utf-8-sig"


def test_gbk_and_plain_utf8_and_an_unencodable_cell(tmp_path):
    frame = pd.DataFrame({"name": ["店口镇"], "x": [1.5]})
    write_csv(tmp_path / "g.csv", frame, encoding="gbk")
    assert (tmp_path / "g.csv").read_bytes().decode("gbk").startswith("name,x\n店口镇")
    assert csv_encoding_of(tmp_path / "g.csv") == "gbk"
    write_csv(tmp_path / "u.csv", frame, encoding="utf-8")
    assert csv_encoding_of(tmp_path / "u.csv") == "utf-8"
    with pytest.raises(ValueError, match=r"column 'name' row 2.*utf-8-sig"):
        write_csv(tmp_path / "bad.csv", pd.DataFrame({"name": ["Sant Julià 🏥"]}), encoding="gbk")
    assert not (tmp_path / "bad.csv").exists()


def test_workbook_has_every_table_with_chinese_headers(pmedian_run):
    import openpyxl

    wb = openpyxl.load_workbook(pmedian_run / "results.xlsx", read_only=True)
    assert wb.sheetnames == ["说明", "需求点", "站点", "乡镇"]
    for sheet, csv in (("需求点", "demand.csv"), ("站点", "sites.csv"), ("乡镇", "zones.csv")):
        rows = list(wb[sheet].iter_rows(values_only=True))
        frame = pd.read_csv(pmedian_run / csv)
        assert len(rows) == len(frame) + 1
        assert [column_label(c, "zh") for c in frame.columns] == list(rows[0])
    head = list(next(wb["需求点"].iter_rows(values_only=True)))
    assert head[:4] == ["需求点编号", "名称", "乡镇编号", "乡镇名称"]
    about = list(wb["说明"].iter_rows(values_only=True))
    assert ("需求点", "demand.csv", "出行时间(分钟)", "travel_min") in about


def test_gpkg_is_version_1_2_with_a_style_for_every_layer(pmedian_run):
    gpkg = pmedian_run / "layers.gpkg"
    with sqlite3.connect(gpkg) as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == 10200
        layers = [
            r[0]
            for r in db.execute("SELECT table_name FROM gpkg_contents WHERE data_type='features'")
        ]
        styles = dict(
            db.execute("SELECT f_table_name, styleQML FROM layer_styles WHERE useAsDefault")
        )
    assert set(layers) == {"candidate_sites", "chosen_sites", "demand", "assignments", "zones"}
    assert set(styles) == set(layers)
    for name, qml in styles.items():
        root = ET.fromstring(qml.split("\n", 1)[1])
        assert root.tag == "qgis" and root.find("renderer-v2") is not None, name
    zones = ET.fromstring(styles["zones"].split("\n", 1)[1])
    assert zones.find("labeling/settings/text-style").get("fieldName") == "name"
    # no zero-length (invalid) line: v00 sits on s0
    import pyogrio

    lines = pyogrio.read_dataframe(gpkg, layer="assignments")
    import shapely

    geoms = lines.geometry.to_numpy()
    assert (shapely.length(geoms) > 0).all() and shapely.is_valid(geoms).all()
    assert "v00" not in set(lines["demand_id"])


def test_project_lists_every_layer_relative_and_styled(pmedian_run):
    with zipfile.ZipFile(pmedian_run / "project.qgz") as z:
        qgs = z.read("project.qgs").decode("utf-8")
    root = ET.fromstring(qgs.split("\n", 1)[1])
    sources = {ml.findtext("layername"): ml.findtext("datasource") for ml in root.iter("maplayer")}
    assert set(sources) == {"candidate_sites", "chosen_sites", "demand", "assignments", "zones"}
    assert all(s == f"./layers.gpkg|layername={n}" for n, s in sources.items())
    assert all(ml.find("renderer-v2") is not None for ml in root.iter("maplayer"))
    tree = [e.get("name") for e in root.find("layer-tree-group").iter("layer-tree-layer")]
    assert tree[0] == "chosen_sites" and tree[-1] == "zones"  # sites on top, zones below


def test_shapefile_fields_are_short_unique_and_mapped(pmedian_run):
    import pyogrio

    fields = pd.read_csv(pmedian_run / "shapefile" / "fields.csv")
    for layer, group in fields.groupby("layer"):
        shp = pmedian_run / "shapefile" / f"{layer}.shp"
        got = list(pyogrio.read_info(shp)["fields"])
        assert got == list(group["shapefile_field"]), layer
        assert all(len(c) <= 10 for c in got) and len({c.lower() for c in got}) == len(got)
    short = shapefile_field_map(["residents_within_a", "residents_within_b", "x"])
    assert len(set(short.values())) == 3 and short["x"] == "x"


def test_cp936_console_does_not_crash(tmp_path):
    case = _case(tmp_path, "  kind: p_median\n  p: 2")
    env = {**os.environ, "PYTHONIOENCODING": "cp936"}
    # a name GBK cannot show, printed in the summary
    villages = pd.read_csv(tmp_path / "sites.csv")
    villages.loc[1, "name"] = "Sant Julià 🏥"
    villages.to_csv(tmp_path / "sites.csv", index=False)
    proc = subprocess.run(
        [sys.executable, "-m", "optimizer", "run", str(case), "--out", str(tmp_path / "o"), "-q"],
        env=env,
        capture_output=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr.decode("cp936", "replace")
    assert b"Traceback" not in proc.stderr
    assert "命名测试".encode("cp936") in proc.stdout


def test_default_case_description_matches_its_data():
    """The demo's description quotes its own counts: they must be the data's."""
    import re

    import yaml

    from optimizer.cli import default_case_path

    path = default_case_path()
    case = yaml.safe_load(path.read_text(encoding="utf-8"))
    text = " ".join(case["description"].split())
    sites = pd.read_csv(path.parent / case["sites"]["file"])
    demand = pd.read_csv(path.parent / case["demand"]["file"])
    type_col = case["sites"]["columns"]["type"]
    counts = sites[type_col].value_counts().to_dict()
    for n, what in re.findall(r"(\d[\d,]*) (clinic|station) candidates", text):
        assert int(n.replace(",", "")) == counts["clinic" if what == "clinic" else "ems"], what
    for n in re.findall(r"(\d[\d,]*) population cells", text):
        assert int(n.replace(",", "")) == len(demand)


class _Tty:
    """A stderr that says it is a terminal and keeps what is written."""

    def __init__(self) -> None:
        import io

        self.buf = io.StringIO()

    def isatty(self) -> bool:
        return True

    def write(self, text: str) -> int:
        return self.buf.write(text)

    def flush(self) -> None:
        pass


def test_progress_is_quiet_off_a_terminal_and_beats_on_one(monkeypatch):
    import time

    from geodata import progress

    assert not progress.enabled()  # pytest's captured stderr is no terminal
    assert list(progress.bar(range(3), desc="x")) == [0, 1, 2]
    tty = _Tty()
    monkeypatch.setattr(sys, "stderr", tty)
    assert progress.enabled()
    with progress.Heartbeat("HiGHS") as beat:
        assert beat.active
        beat.update(120.0, 100.0, 1 / 6)
        time.sleep(1.3)
    out = tty.buf.getvalue()
    assert "HiGHS" in out and "incumbent 120, bound 100, gap 16.67%" in out
    monkeypatch.setenv("COUNTY_SITING_PROGRESS", "0")
    assert not progress.enabled()


def test_sweep_points_keep_the_case_zone_polygons(tmp_path):
    """Every point of a sweep draws the case's own zone boundaries, not demand hulls."""
    import geopandas as gpd
    import shapely

    case = _case(tmp_path, "  kind: p_median\n  p: 2")
    boxes = [shapely.box(119.9 + 0.1 * k, 29.9, 120.0 + 0.1 * k, 30.3) for k in range(3)]
    gpd.GeoDataFrame({"id": ["z0", "z1", "z2"]}, geometry=boxes, crs="EPSG:4326").to_file(
        tmp_path / "towns.geojson", driver="GeoJSON"
    )
    text = case.read_text(encoding="utf-8").replace(
        "  file: towns.csv\n", "  file: towns.csv\n  geometry: towns.geojson\n"
    )
    case.write_text(text, encoding="utf-8")
    out = tmp_path / "sweep"
    args = ["sweep", str(case), "--param", "model.p", "--values", "2:3:1", "--workers", "1"]
    assert main([*args, "--out", str(out), "-q"]) == 0
    for point in ("000", "001"):
        zones = json.loads((out / "points" / point / "geojson" / "zones.geojson").read_text())
        assert [f["properties"]["approximate"] for f in zones["features"]] == [0, 0, 0], point


@pytest.mark.parametrize(("n", "canvas"), [(1_290, False), (6_000, True)])
def test_map_draws_many_points_on_a_canvas(tmp_path, n, canvas):
    """10^3 demand points stay SVG (the DOM tests count them); 10^4 go on a canvas."""
    from optimizer.report.i18n import Labels
    from optimizer.report.mapview import basemap_spec
    from optimizer.report.run_map import report_map_spec
    from optimizer.report.rundata import RunData

    feats = [
        {
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [120 + 1e-4 * i, 30.0]},
            "properties": {"demand_id": f"d{i}", "weight": 1 + i % 7},
        }
        for i in range(n)
    ]
    run = RunData(tmp_path, "run", {"model": {"standards": []}})
    run.layers = {"demand": {"type": "FeatureCollection", "features": feats}}
    t = Labels("zh")
    spec = report_map_spec(run, t, basemap_spec("none", None, t))
    assert spec is not None and spec["canvas"] is canvas
    radii = [f["r"] for f in spec["pools"]["demand"]]
    assert min(radii) >= 1.5 and max(radii) <= 6.0  # small dots, sized by weight


def test_report_pages_show_names_beside_ids(pmedian_run):
    html = (pmedian_run / "report.html").read_text(encoding="utf-8")
    sites = pd.read_csv(pmedian_run / "sites.csv", dtype=str, keep_default_na=False)
    towns = {"z0": "暨阳街道", "z1": "陶朱街道", "z2": "店口镇"}
    section = html.split('<section id="sec-sites">', 1)[1].split("</section>", 1)[0]
    for r in sites[sites["status"] == "new"].itertuples():
        assert f"<td>{towns[r.zone]} ({r.zone})</td>" in section
    # the map's popups carry the names (village, site and township)
    assert '"name":"王家5村"' in html and '"name":"中心卫生院"' in html
