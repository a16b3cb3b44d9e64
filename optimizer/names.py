"""Display names beside ids in every output table (ids stay the keys; names sit beside them).

A case may give a ``name`` column for demand (village names), sites (clinic names, OSM ``name``)
and zones (乡镇/街道). :func:`add_names` puts them next to every column that holds such ids:

* ``demand_id`` -> ``name`` after it, ``site_id`` -> ``name`` after it (the row's own name);
* ``zone`` -> ``zone_name`` (when some zone has a name other than its id);
* any other text column whose values are all site ids (``assigned_site``, ``nearest_clinic``,
  ``dominated_by``) or demand ids (``worst_demand_id``) -> ``<column>_name``.

Tables without names are returned unchanged, so runs of cases without names are byte-identical.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

__all__ = ["add_names", "name_map", "named_tables", "shown", "zone_name_map"]


def name_map(ids: np.ndarray | None, names: np.ndarray | None) -> dict[str, str]:
    """``{id: name}`` for the rows with a non-empty name (empty when no names were given)."""
    if ids is None or names is None:
        return {}
    return {str(i): str(n) for i, n in zip(ids, names, strict=True) if str(n) not in ("", "nan")}


def zone_name_map(zones: Any) -> dict[str, str]:
    """``{zone id: name}`` where a zone's name differs from its id."""
    if zones is None:
        return {}
    return {k: v for k, v in name_map(zones.ids, zones.name).items() if v != k}


def _refers_to(col: pd.Series, ids: set[str]) -> bool:
    if pd.api.types.is_numeric_dtype(col) or pd.api.types.is_bool_dtype(col):
        return False
    vals = {str(v) for v in col.tolist() if v is not None and str(v) not in ("", "nan")}
    return bool(vals) and vals <= ids


def _insert(frame: pd.DataFrame, after: str, new: str, values: list[str]) -> None:
    if new in frame.columns:
        return
    frame.insert(int(frame.columns.get_loc(after)) + 1, new, values)  # type: ignore[arg-type]


def add_names(
    frame: pd.DataFrame,
    *,
    demand: Any = None,
    sites: Any = None,
    zones: Any = None,
) -> pd.DataFrame:
    """A copy of ``frame`` with name columns beside its id columns (see the module docstring).

    ``demand``/``sites`` are :class:`geodata.arrays.Demand`/``Sites`` (their ``name`` may be
    ``None``), ``zones`` a :class:`geodata.arrays.Zones` or ``None``."""
    d_names = name_map(getattr(demand, "ids", None), getattr(demand, "name", None))
    s_names = name_map(getattr(sites, "ids", None), getattr(sites, "name", None))
    z_names = zone_name_map(zones)
    if not (d_names or s_names or z_names):
        return frame
    d_ids = set(map(str, getattr(demand, "ids", [])))
    s_ids = set(map(str, getattr(sites, "ids", [])))
    out = frame.copy()
    own = (
        ("demand_id", d_names)
        if "demand_id" in out.columns
        else ("site_id", s_names)
        if "site_id" in out.columns
        else None
    )
    if own is not None and own[1] and "name" not in out.columns:
        key, names = own
        _insert(out, key, "name", [names.get(str(v), "") for v in out[key]])
    for col in list(out.columns):
        if col in ("demand_id", "site_id", "name") or col.endswith("_name"):
            continue
        if col == "zone" and z_names:
            _insert(out, col, "zone_name", [z_names.get(str(v), str(v)) for v in out[col]])
            continue
        for names, ids in ((s_names, s_ids), (d_names, d_ids)):
            if names and _refers_to(out[col], ids):
                _insert(out, col, f"{col}_name", [names.get(str(v), "") for v in out[col]])
                break
    return out


def named_tables(tables: dict[str, pd.DataFrame], problem: Any) -> dict[str, pd.DataFrame]:
    """:func:`add_names` on every table of a run, with the problem's demand, sites and zones."""
    kw = {
        "demand": getattr(problem, "demand", None),
        "sites": getattr(problem, "sites", None),
        "zones": getattr(problem, "zones", None),
    }
    return {name: add_names(frame, **kw) for name, frame in tables.items()}


def shown(key: object, names: dict[str, str]) -> str:
    """How a message shows an id: ``name (id)``; the name alone when it contains the id."""
    k = str(key)
    n = names.get(k, "")
    if not n:
        return k
    return n if k in n else f"{n} ({k})"
