"""Demand layers: population raster cells, census totals spread over villages, street-based
estimates. Every estimate is labelled as such in a ``population_source`` column.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pandas as pd

from .crs import to_wgs84, transformer, utm_crs_for
from .network import RoadNetwork

__all__ = ["cells_from_raster", "population_from_streets", "spread_totals"]

log = logging.getLogger(__name__)

#: Weight of a metre of street, by class, as a proxy for residents living along it.
RESIDENTIAL_WEIGHT = {
    "residential": 1.0,
    "living_street": 1.0,
    "unclassified": 0.8,
    "tertiary": 0.6,
    "secondary": 0.4,
    "primary": 0.3,
    "trunk": 0.05,
}


def cells_from_raster(path: Path, *, cell_m: float | None = None, band: int = 1) -> pd.DataFrame:
    """Population cells from a raster of residents per pixel (WorldPop, GHS-POP, 七普 grids).

    Without ``cell_m`` every populated pixel is a demand point at its centre. With ``cell_m``
    pixels are summed into square cells of that size in the local UTM zone, each located at the
    population-weighted centre of its pixels. Returns ``id, population, lon, lat``.
    """
    import rasterio

    with rasterio.open(path) as src:
        data = src.read(band, masked=True).astype(float)
        if src.crs is None:
            raise ValueError(f"{path}: the raster has no CRS; set it (e.g. EPSG:4326) before use")
        crs = src.crs.to_string()
        rows, cols = np.nonzero(~np.ma.getmaskarray(data) & (np.ma.filled(data, 0.0) > 0))
        values = np.ma.filled(data, 0.0)[rows, cols]
        xs, ys = rasterio.transform.xy(src.transform, rows, cols, offset="center")
    x = np.asarray(xs, dtype=float)
    y = np.asarray(ys, dtype=float)
    lon, lat = to_wgs84(x, y, crs)
    if cell_m is None:
        out = pd.DataFrame({"population": values, "lon": lon, "lat": lat})
        out.insert(0, "id", [f"P{r}_{c}" for r, c in zip(rows, cols, strict=True)])
    else:
        utm = utm_crs_for(lon, lat)
        ux, uy = transformer("EPSG:4326", utm).transform(lon, lat)
        gx = np.floor(np.asarray(ux) / cell_m).astype(np.int64)
        gy = np.floor(np.asarray(uy) / cell_m).astype(np.int64)
        frame = pd.DataFrame(
            {"gx": gx, "gy": gy, "w": values, "wx": values * ux, "wy": values * uy}
        )
        agg = frame.groupby(["gy", "gx"], as_index=False).sum()
        cx = agg["wx"] / agg["w"]
        cy = agg["wy"] / agg["w"]
        clon, clat = transformer(utm, "EPSG:4326").transform(cx.to_numpy(), cy.to_numpy())
        out = pd.DataFrame(
            {
                "id": [f"C{int(a)}_{int(b)}" for a, b in zip(agg["gy"], agg["gx"], strict=True)],
                "population": agg["w"].to_numpy(),
                "lon": np.round(clon, 7),
                "lat": np.round(clat, 7),
            }
        )
    out["population_source"] = f"raster {Path(path).name}"
    log.info(
        "Raster %s: %s demand points, %s residents",
        Path(path).name,
        f"{len(out):,}",
        f"{out['population'].sum():,.0f}",
    )
    return out


def spread_totals(
    points: pd.DataFrame,
    totals: pd.DataFrame,
    *,
    zone_col: str,
    total_col: str,
    weight_col: str | None = None,
    source: str = "census total",
) -> pd.DataFrame:
    """Spread zone totals (e.g. township census populations) over the zone's points.

    Each point gets ``total x weight / sum of weights in its zone`` (equal shares without a
    weight column). Points in zones without a total get no population and are reported; zones
    with a total but no point are reported too. The result is marked as an estimate.
    """
    if zone_col not in points.columns or zone_col not in totals.columns:
        raise ValueError(f"both tables need the zone column {zone_col!r}")
    t = totals.set_index(totals[zone_col].astype(str))[total_col].astype(float)
    zones = points[zone_col].astype(str)
    w = points[weight_col].astype(float) if weight_col else pd.Series(1.0, index=points.index)
    share = w / w.groupby(zones).transform("sum")
    pop = share * zones.map(t)
    missing = sorted(set(zones) - set(t.index))
    if missing:
        log.warning("No total for zones %s: their points get population 0", ", ".join(missing[:10]))
    empty = sorted(set(t.index) - set(zones))
    if empty:
        log.warning(
            "Zones with a total but no point (population not placed): %s", ", ".join(empty[:10])
        )
    out = points.copy()
    out["population"] = pop.fillna(0.0).to_numpy()
    how = f"by {weight_col}" if weight_col else "equally"
    out["population_source"] = f"ESTIMATE: {source} of the zone spread {how} over its points"
    return out


def population_from_streets(
    network: RoadNetwork,
    *,
    cell_m: float,
    density_per_km2: float,
    weights: dict[str, float] | None = None,
    once: np.ndarray | None = None,
) -> pd.DataFrame:
    """Estimate residents per square cell from the length of residential street in it.

    The total is ``density_per_km2`` x the area of the cells crossed by weighted streets, split in
    proportion to weighted street length (``RESIDENTIAL_WEIGHT`` by default). ``once`` marks the
    arcs to count (e.g. one arc per two-way street). Returns ``row, col, population, lon, lat``
    with cell centres, and the cell grid origin in the ``attrs``.
    """
    weights = weights or RESIDENTIAL_WEIGHT
    w = np.array([weights.get(str(h), 0.0) for h in network.highway]) * network.length_m
    if once is not None:
        w = np.where(once, w, 0.0)
    mx = (network.x[network.u] + network.x[network.v]) / 2
    my = (network.y[network.u] + network.y[network.v]) / 2
    x0 = np.floor(network.x.min() / cell_m) * cell_m
    y0 = np.floor(network.y.min() / cell_m) * cell_m
    col = np.floor((mx - x0) / cell_m).astype(int)
    row = np.floor((my - y0) / cell_m).astype(int)
    cells = (
        pd.DataFrame({"row": row, "col": col, "w": w})
        .groupby(["row", "col"], as_index=False)["w"]
        .sum()
    )
    cells = cells[cells["w"] > 0].reset_index(drop=True)
    area_km2 = len(cells) * (cell_m / 1000) ** 2
    total = density_per_km2 * area_km2
    cells["population"] = np.round(total * cells["w"] / cells["w"].sum()).astype(int)
    cx = x0 + (cells["col"] + 0.5) * cell_m
    cy = y0 + (cells["row"] + 0.5) * cell_m
    lon, lat = transformer(network.crs, "EPSG:4326").transform(cx.to_numpy(), cy.to_numpy())
    cells["lon"] = np.round(lon, 6)
    cells["lat"] = np.round(lat, 6)
    cells.attrs.update(x0=x0, y0=y0, area_km2=area_km2)
    return cells.drop(columns="w")
