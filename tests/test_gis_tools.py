"""The demo's GIS files open in the GIS tools planners use: GDAL 3.6 and QGIS 3.22 (issue #16).

Both run in the system Python (Debian's python3-gdal and python3-qgis, ``/usr/bin/python3``),
not in the project's: the helper scripts in ``tests/system_gis/`` print JSON that the tests
read. Skipped, with the reason, when that Python has no GDAL or no QGIS.

* GDAL: every feature of every layer of ``layers.gpkg`` is read with an error handler that
  records each warning, and GDAL's GeoPackage validator runs with warnings as errors; a GCJ-02
  case adds the custom-CRS ``layers.gpkg`` and ``layers_wgs84.gpkg``. Any message fails.
* QGIS: ``project.qgz`` opens headless (``QT_QPA_PLATFORM=offscreen``); every layer is valid,
  has the feature count of layers.json, the renderer the project declares (a categorized one
  reads a field the layer has, with categories), and the same renderer when opened from the
  GeoPackage alone (its default style).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from optimizer.cli import main
from optimizer.outputs.layers import LAYER_NAMES

SYSTEM_PYTHON = Path("/usr/bin/python3")
HELPERS = Path(__file__).parent / "system_gis"


def _system_has(module: str) -> str | None:
    """None when the system Python imports ``module``, else why not."""
    if not SYSTEM_PYTHON.exists():
        return f"{SYSTEM_PYTHON} not found"
    done = subprocess.run(
        [str(SYSTEM_PYTHON), "-c", f"import {module}"], capture_output=True, text=True
    )
    return None if done.returncode == 0 else f"{SYSTEM_PYTHON} cannot import {module}"


def _run_helper(script: str, *args: Path, cwd: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    env["QT_QPA_PLATFORM"] = "offscreen"
    runtime = cwd / "xdg-runtime"  # Qt wants a private runtime folder (mode 0700)
    runtime.mkdir(mode=0o700, exist_ok=True)
    env["XDG_RUNTIME_DIR"] = str(runtime)
    done = subprocess.run(
        [str(SYSTEM_PYTHON), str(HELPERS / script), *map(str, args)],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("gis") / "demo"
    assert main(["demo", "--out", str(out), "-q"]) == 0
    return out


def test_demo_geopackage_opens_in_gdal_without_a_warning(demo_run):
    why = _system_has("osgeo.gdal")
    if why:
        pytest.skip(why)
    got = _run_helper("gdal_open.py", demo_run / "layers.gpkg", cwd=demo_run.parent)
    assert got["messages"] == [], got["messages"]
    index = json.loads((demo_run / "layers.json").read_text(encoding="utf-8"))
    layers = got["files"][str(demo_run / "layers.gpkg")]
    assert {k: v for k, v in layers.items() if k != "layer_styles"} == {
        entry["name"]: entry["rows"] for entry in index["layers"]
    }
    assert layers["layer_styles"] == len(index["layers"])
    if shutil.which("ogrinfo"):  # the command line a GIS analyst would try first
        done = subprocess.run(
            ["ogrinfo", "-ro", "-al", "-q", str(demo_run / "layers.gpkg")],
            capture_output=True,
            text=True,
        )
        assert done.returncode == 0 and done.stderr == "", done.stderr


def test_gcj02_geopackages_open_in_gdal_without_a_warning(tmp_path):
    why = _system_has("osgeo.gdal")
    if why:
        pytest.skip(why)
    from geodata.crs import wgs84_to_gcj02
    from optimizer.case.run import run_case

    from .test_layers import _grid_case

    case, *_ = _grid_case(tmp_path, "GCJ-02", wgs84_to_gcj02)
    _, _, out = run_case(case, tmp_path / "run")
    files = [out / "layers.gpkg", out / "layers_wgs84.gpkg"]
    got = _run_helper("gdal_open.py", *files, cwd=tmp_path)
    assert got["messages"] == [], got["messages"]
    assert all(got["files"][str(f)]["demand"] == 12 for f in files)


def test_demo_project_loads_in_qgis_with_every_layer_valid_and_styled(demo_run):
    why = _system_has("qgis.core")
    if why:
        pytest.skip(why)
    got = _run_helper(
        "qgis_open.py", demo_run / "project.qgz", demo_run / "layers.gpkg", cwd=demo_run.parent
    )
    assert got["opened"], got["error"]
    index = json.loads((demo_run / "layers.json").read_text(encoding="utf-8"))
    rows = {entry["name"]: entry["rows"] for entry in index["layers"]}
    layers = {row["name"]: row for row in got["layers"]}
    assert sorted(layers) == sorted(rows) and set(rows) <= set(LAYER_NAMES)
    for name, row in layers.items():
        assert row["valid"], name
        assert row["features"] == rows[name], name
        assert row["renderer"] == row["declared"] == row["default_style"], row
        if row["renderer"] == "categorizedSymbol":
            assert row["attribute_found"] and row["categories"] > 0, row
    assert layers["demand"]["attribute"].startswith("covered_")
    assert layers["chosen_sites"]["attribute"] == "facility_type"
