"""A run folder read back from disk: what the reports are built from.

Reports are made from the files a run wrote (never from solver objects), so
``python -m optimizer report RUN_DIR`` long after the run gives the same page as the run itself.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from ..atomic import csv_encoding_of, verify_manifest
from ..errors import ToolkitError

__all__ = ["RunData", "RunFolderError"]

_ID_COLUMNS = {
    "demand_id": str,
    "site_id": str,
    "zone": str,
    "zone_id": str,
    "class": str,
    "name": str,
    "zone_name": str,
    "kind": str,
    "dominated_by": str,
    "facility_type": str,
    "status": str,
}


class RunFolderError(ToolkitError, ValueError):
    """A run folder is missing or incomplete (exit code 1, like bad input)."""


def _read_csv(path: Path) -> pd.DataFrame:
    enc = csv_encoding_of(path)
    head = pd.read_csv(path, nrows=0, encoding=enc)
    dtypes = {c: str for c in head.columns if c in _ID_COLUMNS or c.startswith("nearest_")}
    for c in head.columns:  # nearest_<type>_<unit> are numbers
        if c.startswith("nearest_") and c.rsplit("_", 1)[-1] in ("min", "m"):
            dtypes.pop(c, None)
    frame = pd.read_csv(path, dtype=dtypes, keep_default_na=False, na_values=[""], encoding=enc)
    for c, t in dtypes.items():
        if t is str:
            frame[c] = frame[c].fillna("")
    return frame


@dataclass
class RunData:
    """Everything a run folder holds that the reports use."""

    folder: Path
    label: str
    solution: dict[str, Any]
    sites: pd.DataFrame | None = None
    demand: pd.DataFrame | None = None
    zones: pd.DataFrame | None = None
    manifest: dict[str, Any] | None = None
    layers_index: dict[str, Any] | None = None
    layers: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Layer name -> GeoJSON FeatureCollection (WGS-84) from ``geojson/``."""

    @classmethod
    def from_dir(
        cls, folder: str | Path, label: str = "RUN_DIR", *, verify: bool = False
    ) -> RunData:
        """Read a run folder; ``verify`` first checks every file against ``manifest.json``."""
        folder = Path(folder)
        if not folder.is_dir():
            raise RunFolderError(
                f"{label} ({folder}) is not a folder; give the --out folder of "
                "`python -m optimizer run`"
            )
        if verify:
            verify_manifest(folder, label)
        sol_path = folder / "solution.json"
        if not sol_path.is_file():
            raise RunFolderError(
                f"{label} ({folder}) has no solution.json; run `python -m optimizer run "
                f"CASE.yaml --out {folder}` first"
            )
        try:
            solution = json.loads(sol_path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise RunFolderError(f"{label}: cannot read {sol_path}: {exc}") from exc
        if not isinstance(solution, dict) or not isinstance(solution.get("model", {}), dict):
            raise RunFolderError(
                f"{label}: {sol_path} is not the solution.json of a run (a JSON object with "
                f"status, objective and model; got {type(solution).__name__}); run the case "
                "again into this folder"
            )
        run = cls(folder, label, solution)
        p = sol_path
        try:
            for name in ("sites", "demand", "zones"):
                p = folder / f"{name}.csv"
                if p.is_file():
                    setattr(run, name, _read_csv(p))
            for name, attr in (("manifest.json", "manifest"), ("layers.json", "layers_index")):
                p = folder / name
                if p.is_file():
                    setattr(run, attr, json.loads(p.read_text(encoding="utf-8")))
            gj = folder / "geojson"
            if gj.is_dir():
                for p in sorted(gj.glob("*.geojson")):
                    run.layers[p.stem] = json.loads(p.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:  # a damaged file (JSON, CSV, encoding)
            raise RunFolderError(
                f"{label}: cannot read {p}: {exc}; run the case again into this folder"
            ) from None
        if run.is_ems:
            run._ems_aliases()
        return run

    def _ems_aliases(self) -> None:
        """A 120 run's tables under the names the coverage reports read (``chosen``,
        ``covered_ems``, ``share_ems``, ``sites_<station type>``); the files are unchanged."""
        st = str(self.solution.get("model", {}).get("station_type", "ems"))
        if self.sites is not None and "open" in self.sites and "chosen" not in self.sites:
            self.sites["chosen"] = self.sites["open"]
        if self.demand is not None and "covered" in self.demand:
            self.demand["covered_ems"] = pd.to_numeric(self.demand["covered"], errors="coerce")
        if self.zones is not None:
            if "covered_share" in self.zones:
                self.zones["share_ems"] = self.zones["covered_share"]
            if "stations" in self.zones:
                self.zones[f"sites_{st}"] = self.zones["stations"]

    def require(self, *names: str) -> None:
        """Raise a clear error when the run lacks a table the caller needs."""
        for name in names:
            if getattr(self, name) is None:
                raise RunFolderError(
                    f"{self.label} ({self.folder}) has no {name}.csv; it is incomplete - rerun "
                    "`python -m optimizer run` into it"
                )

    # convenience -----------------------------------------------------------------------------
    @property
    def has_plan(self) -> bool:
        return "chosen_sites" in self.solution

    @property
    def is_ems(self) -> bool:
        return self.solution.get("model", {}).get("kind") == "ems"

    @property
    def standards(self) -> list[dict[str, Any]]:
        model = self.solution.get("model", {})
        if self.is_ems:  # the 120 response standard (dispatch included), as one standard
            std: dict[str, Any] = {
                "name": "ems",
                "minutes": model.get("response_min"),
                "matrix": model.get("time_matrix"),
                "facility_types": [model.get("station_type", "ems")],
            }
            for key in ("min_share", "source"):
                if model.get(key) is not None:
                    std[key] = model[key]
            return [std]
        return list(model.get("standards", []))

    @property
    def coverage(self) -> dict[str, Any]:
        return dict(self.solution.get("coverage", {}) or {})

    @property
    def case_name(self) -> str:
        return str(self.solution.get("case", {}).get("name", self.folder.name))

    def shown(self, table: str, key: object) -> str:
        """An id of ``demand``, ``sites`` or ``zones`` as people read it: ``name (id)`` where
        the run's table has a name (the name alone when it contains the id), else the id."""
        from ..names import shown

        k = str(key)
        if table == "zones":
            return shown(k, {z: n for z, n in self.zone_names().items() if n != z})
        frame = getattr(self, table, None)
        col = {"demand": "demand_id", "sites": "site_id"}[table]
        if frame is None or "name" not in frame or col not in frame:
            return k
        hit = frame.loc[frame[col].astype(str) == k, "name"]
        name = str(hit.iloc[0]) if len(hit) and str(hit.iloc[0]) not in ("", "nan") else ""
        return shown(k, {k: name} if name else {})

    def zone_names(self) -> dict[str, str]:
        if self.zones is None or "zone_id" not in self.zones:
            return {}
        names = self.zones["name"] if "name" in self.zones else self.zones["zone_id"]
        return dict(zip(self.zones["zone_id"].astype(str), names.astype(str), strict=True))
