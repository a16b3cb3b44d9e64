"""Demand clustering on large maps: above CLUSTER_ABOVE points the demand layer is a
Leaflet.markercluster group (vendored, offline) whose icons count residents, under the catchments
and chosen sites; small maps keep one circle per demand point (headless Chromium DOM checks)."""

from __future__ import annotations

import pytest

from optimizer.report.i18n import Labels
from optimizer.report.mapview import CLUSTER_ABOVE, basemap_spec, map_html
from optimizer.report.page import html_page
from optimizer.report.run_map import report_map_spec
from optimizer.report.rundata import RunData

from .browser import open_page

WEIGHT = 3


def _point(key: str, i: int, x: float, y: float, **props) -> dict:
    return {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [x, y]},
        "properties": {key: f"{key[0]}{i}", **props},
    }


def _run(tmp_path, n: int) -> RunData:
    """n demand points on a grid (weight 3, every third uncovered) and one chosen clinic."""
    side = int(n**0.5) + 1
    demand = [
        _point(
            "demand_id",
            i,
            120 + 0.002 * (i % side),
            30 + 0.002 * (i // side),
            weight=WEIGHT,
            covered_walk=int(i % 3 != 0),
        )
        for i in range(n)
    ]
    site = _point("site_id", 0, 120.01, 30.01, facility_type="clinic", chosen=1, status="new")
    run = RunData(tmp_path, "run", {"model": {"standards": [{"name": "walk"}]}})
    fc = "FeatureCollection"
    run.layers = {
        "demand": {"type": fc, "features": demand},
        "candidate_sites": {"type": fc, "features": [site]},
        "chosen_sites": {"type": fc, "features": [site]},
    }
    return run


def _page(tmp_path, n: int, lang: str = "en"):
    t = Labels(lang)
    spec = report_map_spec(_run(tmp_path, n), t, basemap_spec("none", None, t))
    assert spec is not None
    body = map_html(spec, "map-run")
    out = tmp_path / f"map-{n}.html"
    out.write_text(
        html_page("map", body, t, with_map=True, cluster="cluster" in spec), encoding="utf-8"
    )
    return spec, out


COUNTS = {
    "clusters": "document.querySelectorAll('.demand-cluster').length",
    "cluster_residents": "Array.from(document.querySelectorAll('.demand-cluster'))"
    ".reduce((s, e) => s + Number(e.getAttribute('data-residents')), 0)",
    "cluster_points": "Array.from(document.querySelectorAll('.demand-cluster'))"
    ".reduce((s, e) => s + Number(e.getAttribute('data-points')), 0)",
    "singles": "document.querySelectorAll('path.lyr-demand').length",
    "sites": "document.querySelectorAll('path.lyr-site').length",
    "pane_z": "(document.querySelector('.leaflet-demand-pane') || {style: {}}).style.zIndex",
    "drawn": "document.getElementById('map-run').getAttribute('data-drawn')",
}


def test_spec_clusters_only_large_maps(tmp_path):
    small, _ = _page(tmp_path, 300)
    assert "cluster" not in small and not any(ls.get("cluster") for ls in small["layers"])
    spec, out = _page(tmp_path, CLUSTER_ABOVE + 1, "zh")
    assert spec["cluster"]["lang"] == "zh" and spec["cluster"]["residents"] == "居民"
    assert [ls["id"] for ls in spec["layers"] if ls.get("cluster")] == ["demand-walk"]
    html = out.read_text(encoding="utf-8")
    assert "Leaflet.markercluster 1.5.3" in html and "MarkerClusterGroup" in html
    assert "sourceMappingURL" not in html


@pytest.mark.parametrize("n", [3_000])
def test_large_map_clusters_residents_in_chromium(tmp_path, n):
    _, out = _page(tmp_path, n)
    res = open_page(out, evaluate=COUNTS, settle_s=0.5)
    assert res.errors == [], res.errors
    assert res.network_requests == [], res.network_requests
    v = res.values
    assert v["clusters"] > 0 and v["sites"] == 1  # the chosen site is drawn, not clustered
    # every point is in one cluster icon or drawn alone; the icons count residents, not points
    assert v["cluster_points"] + v["singles"] == n
    assert v["cluster_residents"] == WEIGHT * v["cluster_points"]
    assert v["pane_z"] == "390"  # under the overlay pane (catchments, sites: 400)


def test_small_map_draws_every_point_in_chromium(tmp_path):
    _, out = _page(tmp_path, 400)
    res = open_page(out, evaluate=COUNTS)
    assert res.errors == [], res.errors
    v = res.values
    assert (v["clusters"], v["singles"], v["sites"], v["pane_z"]) == (0, 400, 1, None)
