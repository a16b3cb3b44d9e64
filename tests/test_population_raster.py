"""Population rasters (WorldPop / GHS-POP style GeoTIFFs) to demand points and cells."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from geodata.crs import transformer
from geodata.population import cells_from_raster
from optimizer.cli import main

# rasterio 1.4 writing a GeoTIFF calls affine's deprecated ``*`` (third-party, write side only)
pytestmark = pytest.mark.filterwarnings(
    "ignore:Use `@` matmul instead of `\\*` mul:PendingDeprecationWarning"
)

X0, Y0, PX = 230_000.0, 3_292_000.0, 100.0  # UTM 50N (Zhuji), 100 m pixels, 500 m aligned


def _raster(path, *, crs="EPSG:32650", nodata=-1.0):
    import rasterio
    from rasterio.transform import from_origin

    rng = np.random.default_rng(3)
    data = rng.integers(0, 40, (20, 20)).astype("float32")
    data[rng.random(data.shape) < 0.3] = 0.0  # empty pixels
    data[0, :3] = nodata  # no data
    with rasterio.open(
        path,
        "w",
        driver="GTiff",
        height=20,
        width=20,
        count=1,
        dtype="float32",
        crs=crs,
        transform=from_origin(X0, Y0, PX, PX),
        nodata=nodata,
    ) as dst:
        dst.write(data, 1)
    valid = data.copy()
    valid[0, :3] = 0.0
    return valid


def test_pixels_become_points_at_their_centres(tmp_path):
    data = _raster(tmp_path / "pop.tif")
    out = cells_from_raster(tmp_path / "pop.tif")
    assert len(out) == int((data > 0).sum())
    assert out["population"].sum() == pytest.approx(data.sum())
    # the first populated pixel's centre, back in UTM
    r, c = map(int, np.argwhere(data > 0)[0])
    row = out[out["id"] == f"P{r}_{c}"].iloc[0]
    x, y = transformer("EPSG:4326", "EPSG:32650").transform(row["lon"], row["lat"])
    assert x == pytest.approx(X0 + (c + 0.5) * PX, abs=0.01)
    assert y == pytest.approx(Y0 - (r + 0.5) * PX, abs=0.01)
    assert row["population"] == data[r, c]


def test_cells_sum_pixels_at_their_weighted_centre(tmp_path):
    data = _raster(tmp_path / "pop.tif")
    out = cells_from_raster(tmp_path / "pop.tif", cell_m=500)
    assert len(out) == 16  # a 2 km square in 500 m cells, every cell populated
    assert out["population"].sum() == pytest.approx(data.sum())
    # the cell of pixels rows 0-4, cols 0-4 (north-west corner)
    block = data[:5, :5]
    cx = X0 + ((np.arange(5) + 0.5) * PX * block.sum(axis=0)).sum() / block.sum()
    cy = Y0 - ((np.arange(5) + 0.5) * PX * block.sum(axis=1)).sum() / block.sum()
    lon, lat = transformer("EPSG:32650", "EPSG:4326").transform(cx, cy)
    nw = out.loc[(out["lon"] - lon).abs().add((out["lat"] - lat).abs()).idxmin()]
    assert nw["population"] == pytest.approx(block.sum())
    assert nw["lon"] == pytest.approx(lon, abs=1e-6) and nw["lat"] == pytest.approx(lat, abs=1e-6)


def test_prepare_cells_command_and_missing_crs(tmp_path, capsys):
    data = _raster(tmp_path / "pop.tif")
    out = tmp_path / "demand.csv"
    assert (
        main(
            [
                "prepare",
                "cells",
                str(tmp_path / "pop.tif"),
                "--cell-m",
                "500",
                "--out",
                str(out),
                "-q",
            ]
        )
        == 0
    )
    frame = pd.read_csv(out)
    assert {"id", "population", "lon", "lat"} <= set(frame.columns)
    assert frame["population"].sum() == pytest.approx(data.sum())
    _raster(tmp_path / "nocrs.tif", crs=None)
    with pytest.raises(ValueError, match="no CRS"):
        cells_from_raster(tmp_path / "nocrs.tif")
