"""The Python API, for notebooks and other tools: load or build a case, solve it, read the answer.

    import optimizer
    case = optimizer.load_case("configs/andorra.yaml")       # a path, or YAML text
    result = optimizer.solve(case, time_limit_s=60)          # validated, solved, certified
    result.tables()["sites"]; result.layers()["sites"]; result.write("results/andorra")

:func:`case_from_data` builds a case without a YAML file, from demand and sites as
(Geo)DataFrames and travel times as a long DataFrame, a dense matrix, or a networkx / osmnx road
graph, plus the model section as a dict (the equivalent of spopt's ``from_geodataframe`` /
``from_cost_matrix``, for every siting family: coverage, phased, p-median, p-center, 120). The data
is written as the files a case names into a private folder and goes through the same loader as
the command line, so a built case gets the same validation (one :class:`CaseError` listing every
problem, by table, column and row), the same model, the same raw-data check and certificate.
"""

from __future__ import annotations

import shutil
import tempfile
import weakref
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from .case.run import load_any, prepare_any, settings_for, solve_prepared
from .errors import CaseError, Problem
from .families import Family, family_of
from .schema.files import CaseFile
from .settings import SolveOverrides, SolveSettings

__all__ = ["Result", "case_from_data", "load_case", "solve"]


def load_case(source: str | Path, *, base_dir: str | Path | None = None) -> CaseFile:
    """Read and validate a case of any kind (schema and model rules; the data is read by
    :func:`solve`). ``source`` is a path or YAML text; data paths in YAML text are relative to
    ``base_dir`` (default: the working folder)."""
    return load_any(source, base_dir=Path(base_dir) if base_dir is not None else None)


@dataclass(eq=False)
class Result:
    """A certified answer with its case: status, objective, bound, gap, and the run folder's
    tables and GIS layers as (Geo)DataFrames."""

    prepared: Any
    solution: Any
    settings: SolveSettings
    _folder: Path | None = field(default=None, repr=False)

    @property
    def family(self) -> Family:
        return family_of(self.prepared)

    @property
    def status(self) -> str:
        return str(self.solution.status.value)

    @property
    def objective(self) -> float | None:
        return self.family.certificate(self.solution)["objective"]

    @property
    def bound(self) -> float | None:
        return self.family.certificate(self.solution)["bound"]

    @property
    def gap(self) -> float | None:
        return self.family.certificate(self.solution)["gap"]

    def summary(self) -> str:
        """The planner-readable summary that ``run`` prints."""
        return self.family.summary(self.prepared, self.solution, None)

    def write(self, out_dir: str | Path) -> Path:
        """Write the run folder (solution.json, tables, layers, report.html, manifest) exactly
        as ``python -m optimizer run`` does; returns the folder."""
        out = Path(out_dir)
        self.family.write(self.prepared, self.solution, out)
        return out

    def _written(self) -> Path:
        if self._folder is None:
            self._folder = _private_folder(self, "optimizer-result-")
            self.write(self._folder / "run")
        return self._folder / "run"

    def tables(self) -> dict[str, pd.DataFrame]:
        """Every CSV table of the run folder by name (``sites``, ``demand``, ``zones``,
        ``posts`` ...), read back from what :meth:`write` writes, ids kept as text."""
        folder = self._written()
        return {
            p.stem: pd.read_csv(p, dtype=dict.fromkeys(_id_columns(p), str))
            for p in sorted(folder.glob("*.csv"))
        }

    def layers(self) -> dict[str, Any]:
        """The GIS layers of the run (``layers.gpkg``) as GeoDataFrames by layer name; empty
        when the case has no coordinates."""
        import geopandas as gpd
        import pyogrio

        gpkg = self._written() / "layers.gpkg"
        if not gpkg.exists():
            return {}
        return {
            str(name): gpd.read_file(gpkg, layer=str(name)) for name, _ in pyogrio.list_layers(gpkg)
        }


def _id_columns(path: Path) -> list[str]:
    head = pd.read_csv(path, nrows=0).columns
    return [c for c in head if c == "id" or c.endswith(("_id", "zone")) or c == "zone"]


def solve(
    case: CaseFile | str | Path,
    *,
    backend: str | None = None,
    time_limit_s: float | None = None,
    threads: int | None = None,
) -> Result:
    """Read and validate the case's data, solve it with its family and check the answer
    (raw-data check and certificate, as ``run``). Settings: these arguments > the case's
    ``solver`` section > defaults. Bad input raises :class:`CaseError`."""
    prepared = prepare_any(case)
    settings = settings_for(prepared, SolveOverrides(backend, time_limit_s, threads))
    prepared = replace(prepared, settings=settings)
    return Result(prepared, solve_prepared(prepared, settings), settings)


# ---------------------------------------------------------------------------------------------
# A case from data: (Geo)DataFrames, travel times as a long table, a matrix or a road graph
# ---------------------------------------------------------------------------------------------
def _points_frame(frame: pd.DataFrame, what: str) -> tuple[pd.DataFrame, dict[str, str], Any]:
    """A plain table with ``x``/``y`` columns from a GeoDataFrame's geometry (points, or a
    polygon's representative point), and its CRS; a DataFrame is returned as it is."""
    geometry = getattr(frame, "geometry", None) if hasattr(frame, "crs") else None
    if geometry is None:
        return pd.DataFrame(frame), {}, None
    if frame.crs is None:
        raise CaseError(
            [Problem(what, "the GeoDataFrame has no CRS", fix="set it, e.g. gdf.set_crs(4326)")]
        )
    pts = geometry.representative_point()
    table = pd.DataFrame(frame.drop(columns=frame.geometry.name))
    table["x"], table["y"] = pts.x.to_numpy(), pts.y.to_numpy()
    return table, {"x": "x", "y": "y"}, frame.crs.to_string()


def _long_table(
    travel: Any, demand: pd.DataFrame, sites: pd.DataFrame, d_id: str, s_id: str
) -> pd.DataFrame:
    """A long ``demand_id, site_id, value`` table from a long DataFrame or a dense matrix
    (rows = demand points, columns = sites; NaN / inf = unreachable)."""
    if isinstance(travel, pd.DataFrame) and {"demand_id", "site_id"} <= set(travel.columns):
        value = next(
            (c for c in ("minutes", "value", "metres") if c in travel.columns),
            next(c for c in travel.columns if c not in ("demand_id", "site_id")),
        )
        return travel[["demand_id", "site_id", value]].set_axis(
            ["demand_id", "site_id", "value"], axis=1
        )
    rows: Any
    cols: Any
    if isinstance(travel, pd.DataFrame):  # a matrix labelled by ids
        matrix, rows, cols = travel.to_numpy(dtype=float), travel.index, travel.columns
    else:
        matrix = np.asarray(travel, dtype=float)
        rows, cols = demand[d_id], sites[s_id]
        if matrix.shape != (len(demand), len(sites)):
            raise CaseError(
                [
                    Problem(
                        "travel_times",
                        "the matrix must have one row per demand point and one column per site",
                        got=f"shape {matrix.shape}",
                        fix=f"give a {len(demand)} x {len(sites)} matrix, or a long table",
                    )
                ]
            )
    i, j = np.nonzero(np.isfinite(matrix))
    return pd.DataFrame(
        {
            "demand_id": np.asarray(rows).astype(str)[i],
            "site_id": np.asarray(cols).astype(str)[j],
            "value": matrix[i, j],
        }
    )


def _private_folder(owner: object, prefix: str) -> Path:
    """A temporary folder removed when ``owner`` is garbage-collected (or at exit)."""
    path = Path(tempfile.mkdtemp(prefix=prefix))
    weakref.finalize(owner, shutil.rmtree, path, ignore_errors=True)
    return path


def case_from_data(
    demand: pd.DataFrame,
    sites: pd.DataFrame,
    travel: Any,
    model: dict[str, Any],
    *,
    demand_columns: dict[str, str] | None = None,
    sites_columns: dict[str, str] | None = None,
    facility_type: str = "facility",
    zones: pd.DataFrame | None = None,
    zones_columns: dict[str, str] | None = None,
    unit: str = "min",
    network: dict[str, Any] | None = None,
    solver: dict[str, Any] | None = None,
    name: str = "case from data",
) -> CaseFile:
    """A case built from data, validated like a case file (:func:`load_case`).

    ``demand``, ``sites``: DataFrames or GeoDataFrames (point or polygon geometry, with a CRS:
    their coordinates feed the maps, layers and road snapping). Columns follow the case file's
    ``demand.columns`` / ``sites.columns`` roles; defaults ``id`` and ``population`` for the
    demand, ``id`` for the sites, plus whatever roles ``demand_columns`` / ``sites_columns`` map
    (e.g. ``{"cost": "capex", "existing": "open_today"}``).
    ``travel``: a long DataFrame ``demand_id, site_id, minutes`` (or ``value``); a dense matrix
    (numpy, rows = demand points in order, columns = sites; or a DataFrame indexed by demand
    ids with site ids as columns; NaN = unreachable), in ``unit`` (min, s, h, m, km); or a
    networkx / osmnx road graph, routed by the toolkit (``network``: the options of a network
    travel-time table, e.g. ``{"mode": "drive", "max_snap_m": 1500}``).
    ``model``: the ``model`` section of a case file as a dict (any siting family's kind);
    ``solver``: its ``solver`` section. ``zones``: an optional zones table (``id``; roles such as
    ``{"name": "name", "kind": "kind"}`` in ``zones_columns``); a GeoDataFrame's polygons become
    the zone boundaries of the maps and layers.
    """
    folder = Path(tempfile.mkdtemp(prefix="optimizer-case-"))
    d_table, d_xy, d_crs = _points_frame(demand, "demand")
    s_table, s_xy, s_crs = _points_frame(sites, "sites")
    d_cols = {"id": "id", "weight": "population", **d_xy, **(demand_columns or {})}
    s_cols = {"id": "id", **s_xy, **(sites_columns or {})}
    d_table.to_csv(folder / "demand.csv", index=False)
    s_table.to_csv(folder / "sites.csv", index=False)
    data: dict[str, Any] = {
        "name": name,
        "demand": {"file": "demand.csv", "columns": d_cols} | ({"crs": d_crs} if d_crs else {}),
        "sites": {"file": "sites.csv", "columns": s_cols, "facility_type": facility_type}
        | ({"crs": s_crs} if s_crs else {}),
        "model": model,
    }
    if zones is not None:
        z_cols = {"id": "id", **(zones_columns or {})}
        if hasattr(zones, "crs") and hasattr(zones, "geometry"):
            gdf: Any = zones  # a GeoDataFrame: its polygons are the zone boundaries
            gdf.to_file(folder / "zones.gpkg", driver="GPKG")
            data["zones"] = {"file": "zones.gpkg", "columns": z_cols}
        else:
            pd.DataFrame(zones).to_csv(folder / "zones.csv", index=False)
            data["zones"] = {"file": "zones.csv", "columns": z_cols}
    if _is_graph(travel):
        import osmnx as ox

        ox.save_graphml(travel, folder / "network.graphml")
        data["networks"] = {"roads": {"file": "network.graphml"}}
        data["travel_times"] = {"drive": {"network": "roads", **(network or {})}}
    else:
        table = _long_table(travel, d_table, s_table, d_cols["id"], s_cols["id"])
        table.to_csv(folder / "travel_times.csv", index=False)
        data["travel_times"] = {
            "file": "travel_times.csv",
            "columns": {"demand_id": "demand_id", "site_id": "site_id", "value": "value"},
            "unit": unit,
        }
    if solver:
        data["solver"] = solver
    text = yaml.safe_dump(data, allow_unicode=True, sort_keys=False)
    try:
        case = load_any(text, base_dir=folder, label=f"<{name}>")
    except CaseError:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    weakref.finalize(case, shutil.rmtree, folder, ignore_errors=True)  # files live with the case
    return case


def _is_graph(value: Any) -> bool:
    try:
        import networkx as nx
    except ImportError:  # pragma: no cover - networkx comes with osmnx
        return False
    return isinstance(value, nx.Graph)
