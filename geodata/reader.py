"""Read one table file (CSV, GeoPackage, GeoJSON, Shapefile, Parquet) into a :class:`Table`.

Row numbers are given as the planner sees them: ``line N`` of a CSV file (the header is line 1,
as in a text editor or Excel) and ``feature N`` of a GIS layer.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from optimizer.errors import ProblemCollector, rows_text

from .textfiles import exists, read_csv_text, suffix

__all__ = ["CSV_SUFFIXES", "GEO_SUFFIXES", "Table", "read_table", "rows_or_none"]

log = logging.getLogger(__name__)

GEO_SUFFIXES = {".gpkg", ".geojson", ".json", ".shp", ".fgb", ".gml", ".kml", ".gdb"}
CSV_SUFFIXES = {".csv", ".txt", ".tsv"}


@dataclass
class Table:
    """A table read from disk: text cells (CSV) or typed cells (GIS), plus point coordinates."""

    frame: pd.DataFrame
    path: Path
    shown: str
    is_csv: bool
    x: np.ndarray | None = None
    y: np.ndarray | None = None
    crs: str | None = None

    def row_label(self, positions: Sequence[int]) -> list[int]:
        offset = 2 if self.is_csv else 1
        return [int(p) + offset for p in positions]

    @property
    def row_word(self) -> str:
        return "line" if self.is_csv else "feature"

    def rows(self, positions: np.ndarray, ids: Sequence[object] | None = None) -> str:
        text = rows_text(self.row_label(list(positions)), ids)
        return text.replace("row", self.row_word, 1)


def read_table(
    path: Path,
    *,
    shown: str,
    where: str,
    problems: ProblemCollector,
    layer: str | None = None,
) -> Table | None:
    """Read a table; on failure add a problem naming ``where`` and return ``None``."""
    try:
        path.stat()
    except FileNotFoundError:
        pass
    except OSError as exc:  # a name too long, a path through a file, no permission
        problems.add(
            where, f"cannot open the file: {exc.strerror}", got=shown, fix="check the path"
        )
        return None
    if not exists(path):
        problems.add(
            where,
            "file not found",
            got=shown,
            fix=f"check the path (looked for {path}); paths are relative to the case file's folder",
        )
        return None
    kind = suffix(path)
    try:
        if kind in CSV_SUFFIXES:
            return rows_or_none(Table(read_csv_text(path), path, shown, True), where, problems)
        if kind == ".parquet":
            frame = pd.read_parquet(path, engine="pyarrow")
            if "geometry" not in frame.columns:
                return rows_or_none(Table(frame, path, shown, False), where, problems)
        if kind in GEO_SUFFIXES or kind == ".parquet":
            import geopandas as gpd

            gdf = (
                gpd.read_parquet(path)
                if kind == ".parquet"
                else gpd.read_file(path, layer=layer, engine="pyogrio")
            )
            x = y = None
            if "geometry" in gdf and len(gdf) and gdf.geometry.notna().any():
                geom = gdf.geometry
                pts = geom.where(geom.geom_type == "Point", geom.representative_point())
                x = np.asarray(pts.x, dtype=float)
                y = np.asarray(pts.y, dtype=float)
            crs = gdf.crs.to_string() if gdf.crs is not None else None
            frame = pd.DataFrame(gdf.drop(columns="geometry", errors="ignore"))
            return rows_or_none(Table(frame, path, shown, False, x, y, crs), where, problems)
    except Exception as exc:  # any reader failure is reported as a problem with the file
        problems.add(
            where,
            f"cannot read the file: {exc}",
            got=shown,
            fix="check that it is a valid CSV or GIS file",
        )
        return None
    problems.add(
        where,
        "unsupported file type",
        got=shown,
        fix="use .csv, .tsv, .parquet, .gpkg, .geojson, .shp or .fgb",
    )
    return None


def rows_or_none(table: Table, where: str, problems: ProblemCollector) -> Table | None:
    """A table with a header but no rows is a problem (not 0 points that fail later)."""
    if len(table.frame):
        return table
    problems.add(
        where,
        "the file has no rows (a header only, or empty)",
        got=table.shown,
        fix="give a file with one row per point, below its header",
    )
    return None
