"""report.html: self-contained, offline, in real headless Chromium; section and norm registries."""

from __future__ import annotations

import json
import re

import pandas as pd
import pytest

from optimizer.cli import main
from optimizer.report import (
    NormCheck,
    RunData,
    register_norms,
    register_section,
    render_report,
)
from optimizer.report import norms as norms_mod
from optimizer.report import registry as sections_mod

from .browser import open_page
from .conftest import ROOT

ARTIFACTS = ROOT / "test-artifacts"

COUNTS = {
    "drawn": "document.getElementById('map-run').getAttribute('data-drawn')",
    "demand": "document.querySelectorAll('path.lyr-demand').length",
    "sites": "document.querySelectorAll('path.lyr-site').length",
    "zones": "document.querySelectorAll('path.lyr-zones').length",
    "catchments": "document.querySelectorAll('path.lyr-catchment').length",
    "controls": "document.querySelectorAll('.leaflet-control-layers-overlays label').length",
    "zone_rows": "document.querySelectorAll('#sec-norms table tbody tr').length",
}


def _external_refs(html: str) -> list[str]:
    """Anything the page would load: script src, stylesheet links, CSS imports and urls."""
    found = re.findall(r"<script[^>]*\ssrc=[^>]*>", html)
    found += re.findall(r"<link[^>]*>", html)
    found += re.findall(r"@import[^;]*;", html)
    found += [u for u in re.findall(r"url\(([^)]*)\)", html) if not u.startswith(("data:", "#"))]
    return found


def test_report_is_written_with_the_run_and_is_self_contained(andorra_runs):
    _, _, run = andorra_runs[7]
    html = (run / "report.html").read_text(encoding="utf-8")
    assert html.startswith("<!DOCTYPE html>") and '<html lang="zh-CN">' in html
    assert _external_refs(html) == []
    assert "Leaflet 1.9.3" in html and "Redistribution and use in source and binary forms" in html
    assert "sourceMappingURL" not in html
    sol = json.loads((run / "solution.json").read_text(encoding="utf-8"))
    for text in (
        "求解证书",
        "规范达标情况",
        "分乡镇达标表",
        "OPTIMAL (proven)",
        sol["solver"]["version"],
    ):
        assert text in html, text
    zones = pd.read_csv(run / "zones.csv")
    for name in zones["name"]:
        assert f">{name}<" in html
    manifest = json.loads((run / "manifest.json").read_text(encoding="utf-8"))
    assert "report.html" in manifest["files"] and "layers.gpkg" in manifest["files"]


def test_report_in_chromium_offline(andorra_runs, tmp_path):
    """The map draws every layer it shows, with the network off and no console errors."""
    _, _, run = andorra_runs[7]
    out = tmp_path / "report-en.html"
    assert main(["report", str(run), "--lang", "en", "--out", str(out), "-q"]) == 0
    res = open_page(
        out, evaluate=COUNTS, screenshot=ARTIFACTS / "report-andorra-en.png", height=1700
    )
    assert res.errors == [], res.errors
    assert res.network_requests == [], res.network_requests
    demand = pd.read_csv(run / "demand.csv")
    sites = pd.read_csv(run / "sites.csv")
    zones = pd.read_csv(run / "zones.csv")
    catch = json.loads((run / "geojson" / "catchments.geojson").read_text(encoding="utf-8"))
    first = json.loads((run / "solution.json").read_text(encoding="utf-8"))["model"]["standards"][0]
    n_first = sum(f["properties"]["standard"] == first["name"] for f in catch["features"])
    v = res.values
    assert v["demand"] == len(demand)
    assert v["sites"] == int(sites["chosen"].sum())
    assert v["zones"] == len(zones)
    assert v["catchments"] == n_first > 0
    drawn = json.loads(v["drawn"])
    assert drawn[f"demand-{first['name']}"] == len(demand)
    # every layer has a toggle: zones, catchments and demand per standard, candidates, 2 types
    n_std = len(
        json.loads((run / "solution.json").read_text(encoding="utf-8"))["model"]["standards"]
    )
    assert v["controls"] == 1 + n_std + 1 + 2 + n_std
    assert v["zone_rows"] >= len(zones) + 1
    assert res.screenshot is not None and res.screenshot.stat().st_size > 20_000


def test_report_with_osm_basemap_still_draws_offline(andorra_runs, tmp_path):
    """Tiles are optional: with --basemap osm and no network, the overlays still draw."""
    _, _, run = andorra_runs[7]
    out = tmp_path / "report-osm.html"
    assert main(["report", str(run), "--basemap", "osm", "--out", str(out), "-q"]) == 0
    html = out.read_text(encoding="utf-8")
    assert "tile.openstreetmap.org" in html
    res = open_page(out, evaluate={"demand": COUNTS["demand"]})
    assert res.exceptions == [] and [m for m in res.console if m["type"] == "error"] == []
    assert res.values["demand"] == len(pd.read_csv(run / "demand.csv"))
    assert any("tile.openstreetmap.org" in u for u in res.network_requests)


def test_report_command_errors(tmp_path, capsys):
    assert main(["report", str(tmp_path), "-q"]) == 1
    err = capsys.readouterr().err
    assert "has no solution.json" in err and "python -m optimizer run" in err
    (tmp_path / "solution.json").write_text("{}", encoding="utf-8")
    assert main(["report", str(tmp_path), "--basemap", "tianditu", "-q"]) == 1
    assert "needs a key" in capsys.readouterr().err


def _fake_run(tmp_path, solution):
    (tmp_path / "solution.json").write_text(json.dumps(solution), encoding="utf-8")
    pd.DataFrame(
        {"zone_id": ["z1", "z2"], "name": ["东镇", "西镇"], "kind": ["town", "town"]}
    ).to_csv(tmp_path / "zones.csv", index=False)
    return RunData.from_dir(tmp_path)


def test_new_families_add_sections_and_norms(tmp_path, monkeypatch):
    """A model family registers its own section and norms; the report shows them, others not."""
    monkeypatch.setattr(sections_mod, "_SECTIONS", dict(sections_mod._SECTIONS))
    monkeypatch.setattr(norms_mod, "_PROVIDERS", list(norms_mod._PROVIDERS))
    run = _fake_run(
        tmp_path,
        {
            "case": {"name": "staffing example"},
            "status": "optimal",
            "status_text": "OPTIMAL (proven)",
            "travel_time_stats": {"mean_min": 7.25},
            "norm_compliance": {
                "table": [
                    {
                        "scope": "facility",
                        "facility_id": "THC-1",
                        "norm": "per_mille[thc].min",
                        "required": ">= 1 per mille x 20,000 = 20",
                        "achieved": "18 posts",
                        "met": False,
                        "source": "Qingdao",
                    }
                ]
            },
        },
    )

    @register_section("travel_stats", order=45, title="Travel-time statistics")
    def travel_stats(run, ctx):
        stats = run.solution.get("travel_time_stats")
        return None if stats is None else f"<p id='mean'>{stats['mean_min']:.2f} min</p>"

    @register_norms("zone_quota")
    def zone_quota(run):
        return [NormCheck("quota", "posts per township", "zone", "z2", 5.0, 3.0, "", False)]

    html = render_report(run, lang="en")
    assert "<h2>Travel-time statistics</h2>" in html and "7.25 min" in html
    assert "per_mille[thc].min" in html and "18 posts" in html
    assert re.search(r"<td>西镇</td>.*?missed", html, flags=re.S)
    assert 'data-map-ready", "1"' in html  # no map: no Leaflet inlined, ready at once
    assert "a JS library for interactive maps" not in html


def test_render_is_deterministic(andorra_runs):
    _, _, run = andorra_runs[7]
    data = RunData.from_dir(run)
    assert render_report(data, lang="zh") == render_report(data, lang="zh")
    assert render_report(data, lang="en") != render_report(data, lang="zh")


def test_bad_language_is_rejected(andorra_runs):
    _, _, run = andorra_runs[7]
    with pytest.raises(ValueError, match="--lang"):
        render_report(RunData.from_dir(run), lang="fr")
