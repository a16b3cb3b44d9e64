"""compare: two Andorra plans (7 vs 9 new clinics), diffs recomputed from the runs' own tables."""

from __future__ import annotations

import json
import shutil
from html import unescape

import numpy as np
import pandas as pd
import pytest

from optimizer.atomic import seal_manifest
from optimizer.cli import main

from .browser import open_page
from .conftest import ROOT

ARTIFACTS = ROOT / "test-artifacts"
IDS = {"demand_id": str, "site_id": str, "zone_id": str, "zone": str}


def _read(path):
    return pd.read_csv(path, dtype=IDS)


@pytest.fixture(scope="module")
def compared(andorra_runs, tmp_path_factory):
    a, b = andorra_runs[7][2], andorra_runs[9][2]
    out = tmp_path_factory.mktemp("compare")
    assert main(["compare", str(a), str(b), "--out", str(out), "--lang", "en", "-q"]) == 0
    return a, b, out


def test_sites_added_removed_kept(compared):
    a, b, out = compared
    sa, sb = _read(a / "sites.csv"), _read(b / "sites.csv")
    open_a = set(sa.loc[sa["chosen"] == 1, "site_id"])
    open_b = set(sb.loc[sb["chosen"] == 1, "site_id"])
    diff = _read(out / "sites_diff.csv")
    assert set(diff.loc[diff["change"] == "added", "site_id"]) == open_b - open_a
    assert set(diff.loc[diff["change"] == "removed", "site_id"]) == open_a - open_b
    assert set(diff.loc[diff["change"] == "kept", "site_id"]) == open_a & open_b
    assert len(diff) == len(sa) and list(diff["site_id"]) == sorted(diff["site_id"])
    # 9 new clinics instead of 7: more clinics open, the stations unchanged
    sol_a = json.loads((a / "solution.json").read_text(encoding="utf-8"))
    sol_b = json.loads((b / "solution.json").read_text(encoding="utf-8"))
    added = diff[diff["change"] == "added"]
    assert len(open_b - open_a) - len(open_a - open_b) == 2
    assert set(added["facility_type"]) == {"clinic"}
    assert sol_a["chosen_sites"]["ems"] == sol_b["chosen_sites"]["ems"]


def test_coverage_changes_per_point_and_township(compared):
    a, b, out = compared
    da, db = _read(a / "demand.csv"), _read(b / "demand.csv")
    dd = _read(out / "demand_diff.csv").set_index("demand_id")
    zd = _read(out / "zones_diff.csv").set_index("zone_id")
    m = da.merge(db, on="demand_id", suffixes=("_a", "_b"))
    stds = [c[len("covered_") :] for c in da.columns if c.startswith("covered_")]
    total_gain = 0
    for s in stds:
        ca, cb = m[f"covered_{s}_a"], m[f"covered_{s}_b"]
        gained = set(m.loc[(ca == 0) & (cb == 1), "demand_id"])
        lost = set(m.loc[(ca == 1) & (cb == 0), "demand_id"])
        assert set(dd.index[dd[f"change_{s}"] == "gained"]) == gained, s
        assert set(dd.index[dd[f"change_{s}"] == "lost"]) == lost, s
        total_gain += len(gained)
        # per township: residents gaining, and the share change from the zones tables
        za, zb = (
            _read(a / "zones.csv").set_index("zone_id"),
            _read(b / "zones.csv").set_index("zone_id"),
        )
        for z in zd.index:
            in_z = m["zone_a"] == z
            g = m.loc[in_z & (ca == 0) & (cb == 1), "weight_b"].sum()
            assert zd.loc[z, f"gained_residents_{s}"] == pytest.approx(g)
            assert zd.loc[z, f"share_{s}_change"] == pytest.approx(
                zb.loc[z, f"share_{s}"] - za.loc[z, f"share_{s}"], abs=1e-6
            )
    assert total_gain > 0, "two more clinics bring someone inside the 15-minute circle"
    sol_a = json.loads((a / "solution.json").read_text(encoding="utf-8"))
    sol_b = json.loads((b / "solution.json").read_text(encoding="utf-8"))
    share = {k: sol_b["coverage"][k]["share"] - sol_a["coverage"][k]["share"] for k in stds}
    w = m["weight_a"].sum()
    for s in stds:
        delta = (m[f"covered_{s}_b"] * m["weight_b"]).sum() - (
            m[f"covered_{s}_a"] * m["weight_a"]
        ).sum()
        assert share[s] == pytest.approx(delta / w, abs=1e-6), s
    # nearest clinic: B is never farther where A's nearest clinic is still open in B
    sb = _read(b / "sites.csv")
    open_b = set(sb.loc[sb["chosen"] == 1, "site_id"])
    still = dd["nearest_clinic_a"].isin(open_b)
    change = dd.loc[still, "nearest_clinic_min_change"]
    assert change.notna().all() and (change <= 1e-9).all()
    assert np.allclose(
        change, dd.loc[still, "nearest_clinic_min_b"] - dd.loc[still, "nearest_clinic_min_a"]
    )


def test_norms_side_by_side(compared):
    _, _, out = compared
    norms = pd.read_csv(out / "norms.csv", dtype={"zone": str})
    assert {"clinic_20min.min_share", "max_new_sites.clinic", "zone_rules[0]"} <= set(norms["norm"])
    limit = norms.set_index("norm").loc["max_new_sites.clinic"]
    assert (limit["required_a"], limit["achieved_a"], limit["met_a"]) == (7, 7, 1)
    assert (limit["required_b"], limit["achieved_b"], limit["met_b"]) == (9, 9, 1)
    rules = norms[norms["norm"] == "zone_rules[0]"]
    assert len(rules) == 7 and (rules["met_a"] == 1).all() and (rules["met_b"] == 1).all()


def test_compare_page_in_chromium_prints_on_one_page(compared):
    _, _, out = compared
    diff = _read(out / "sites_diff.csv")
    html = unescape((out / "compare.html").read_text(encoding="utf-8"))
    # the settings diff reads "label: old → new", never Python dict text
    assert "<li>Model › max new sites › clinic: 7 → 9</li>" in html
    assert "{'clinic'" not in html
    res = open_page(
        out / "compare.html",
        evaluate={
            "added": "document.querySelectorAll('path.lyr-added').length",
            "removed": "document.querySelectorAll('path.lyr-removed').length",
            "kept": "document.querySelectorAll('path.lyr-kept').length",
            "roads": "document.querySelectorAll('path.lyr-roads').length",
            "labels": "document.querySelectorAll('.leaflet-tooltip.zone-label').length",
        },
        screenshot=ARTIFACTS / "compare-andorra.png",
        pdf=True,
        height=1300,
    )
    assert res.errors == [] and res.network_requests == [], (res.errors, res.network_requests)
    for ch in ("added", "removed", "kept"):
        assert res.values[ch] == int((diff["change"] == ch).sum()), ch
    # the streets under the plans, and every township named on the map
    assert res.values["roads"] > 500
    assert res.values["labels"] == len(pd.read_csv(out / "zones_diff.csv"))
    assert res.pdf_pages == 1, "the reviewer's one printable page"


def test_runs_of_different_data_are_compared_where_ids_match(andorra_runs, tmp_path):
    a = andorra_runs[7][2]
    b = tmp_path / "b"
    shutil.copytree(andorra_runs[9][2], b)
    demand = _read(b / "demand.csv")
    dropped = demand["demand_id"].iloc[:3].tolist()
    demand = demand.iloc[3:].copy()
    demand.loc[demand.index[0], "weight"] += 1
    extra = demand.iloc[[0]].assign(demand_id="new-village")
    pd.concat([demand, extra]).to_csv(b / "demand.csv", index=False)
    seal_manifest(b)  # as if run B had been solved on this data
    out = tmp_path / "cmp"
    # B's solution.json still states the shares of the full table: compare refuses it (exit 3)
    assert main(["compare", str(a), str(b), "--out", str(out), "-q"]) == 3
    from optimizer.handoff.totals import run_totals

    js = json.loads((b / "solution.json").read_text(encoding="utf-8"))
    for s, c in js["coverage"].items():  # a consistent run of the other data
        c["share"] = run_totals(b)[f"share:{s}"]
    (b / "solution.json").write_text(json.dumps(js), encoding="utf-8")
    seal_manifest(b)
    assert main(["compare", str(a), str(b), "--out", str(out), "-q"]) == 0
    html = (out / "compare.html").read_text(encoding="utf-8")
    # worded in the page's language (zh by default)
    assert "3 个需求点仅在 A 中" in html and dropped[0] in html
    assert "1 个需求点仅在 B 中：new-village" in html
    assert "1 个需求点的人口不同" in html
    dd = _read(out / "demand_diff.csv")
    assert dd.loc[dd["demand_id"].isin(dropped), "in_b"].eq(0).all()
    assert dd.loc[dd["demand_id"] == "new-village", "in_a"].eq(0).all()
    # points in only one run never count as gained or lost
    only = dd.loc[dd["in_a"] + dd["in_b"] < 2, [c for c in dd if c.startswith("change_")]]
    assert (only.astype(object).fillna("") == "").all().all()


def test_incomplete_run_folders_are_named(andorra_runs, tmp_path, capsys):
    a = andorra_runs[7][2]
    empty = tmp_path / "empty"
    empty.mkdir()
    assert main(["compare", str(empty), str(a), "--out", str(tmp_path / "o"), "-q"]) == 1
    err = capsys.readouterr().err
    assert f"RUN_A ({empty}) has no solution.json; run `python -m optimizer run" in err
    partial = tmp_path / "partial"
    shutil.copytree(a, partial)
    (partial / "demand.csv").unlink()
    assert main(["compare", str(a), str(partial), "--out", str(tmp_path / "o"), "-q"]) == 1
    assert "demand.csv is listed in manifest.json but missing" in capsys.readouterr().err
    (partial / "manifest.json").unlink()  # no manifest to check against: the reader names it
    assert main(["compare", str(a), str(partial), "--out", str(tmp_path / "o"), "-q"]) == 1
    assert f"RUN_B ({partial}) has no demand.csv" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()


def test_mismatch_line_of_per_class_thresholds():
    """A 120-style standard (minutes per demand class) is written out, never crashes compare."""
    from optimizer.report.compare_diff import _standard_text

    std = {"minutes": {"urban": 9.0, "rural": 13.0}, "matrix": "drive", "facility_types": ["ems"]}
    assert _standard_text(std) == "urban 9 / rural 13 min, drive, ems"
    assert _standard_text({"metres": 500, "matrix": "walk"}) == "500 m, walk"
