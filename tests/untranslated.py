"""Find English words in a Chinese report page that are not data (ids, names, units, sources).

Used by tests/test_report_lang.py: a zh page may show Latin letters only for the run's own data
(ids, names, standard and facility-type names, the case's texts, file names), units and a fixed
list of proper names (solvers, licences, CRS codes)."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path

import pandas as pd

WORD = re.compile(r"[A-Za-z][A-Za-z0-9_\-'.]*[A-Za-z0-9]|[A-Za-z]")
FILE = re.compile(r"\.(csv|json|html|gpkg|qgz|geojson|png|svg|xlsx|yaml|txt|gz|shp)$", re.I)

# units, proper names of software, licences and coordinate systems: the same in every language
_ALLOWED_TEXT = """
    min h s m km km2 km² yuan mb gb kph
    HiGHS highs CBC cbc OR-Tools ortools CP-SAT SAT Benders Lagrangian PuLP pulp
    OSM OpenStreetMap ODbL Leaflet BSD-2-Clause MIT CC BY osmnx GeoPackage QGIS GeoJSON geojson
    EPSG EPSG:4326 WGS-84 GCJ-02 BD-09 CRS BSD-2-Clause PNG SVG CSV csv xlsx json html gpkg qgz
    MCLP LSCP PSCLP p-median p-center MEXCLP EMS AED
    Tianditu x y id A B N vs e q k p
"""
ALLOWED = {w.lower() for w in _ALLOWED_TEXT.split()}


DATA_COLUMN = re.compile(
    r"(^|_)(id|name|zone|class|type|kind|hospital|specialty|department|category|source)$|"
    r"^(nearest_[a-z]+|assigned_site|dominated_by)$"
)
"""Columns whose values are the planner's data (ids, names, types, cited sources)."""


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.skip = 0
        self.json = False
        self.chunks: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style"):
            self.skip += 1
            self.json = tag == "script" and dict(attrs).get("type") == "application/json"
        for k, v in attrs:
            if k in ("title", "alt", "aria-label") and v:
                self.chunks.append(v)

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style"):
            self.skip -= 1

    def handle_data(self, data: str) -> None:
        if self.skip and self.json:  # a map's spec: its layer names and popup labels show
            spec = json.loads(data.replace("<\\/", "</"))
            for layer in spec.get("layers", []):
                self.chunks.append(str(layer.get("label", "")))
                self.chunks += [str(p[0]) for p in layer.get("popup", [])]
            self.json = False
        elif not self.skip and data.strip():
            self.chunks.append(data)


def page_text(html: str) -> list[str]:
    p = _Text()
    p.feed(html)
    return p.chunks


def _strings(obj: object) -> list[str]:
    if isinstance(obj, str):
        return [obj]
    if isinstance(obj, dict):
        return [s for v in obj.values() for s in _strings(v)] + [str(k) for k in obj]
    if isinstance(obj, list):
        return [s for v in obj for s in _strings(v)]
    return []


def data_words(run: Path) -> set[str]:
    """Words of the run's own data: every id, name and text of its tables, its case file's
    names, texts and sources (whatever language the planner wrote them in)."""
    words: set[str] = set()
    texts: list[str] = []
    for csv in run.glob("*.csv"):
        frame = pd.read_csv(csv, dtype=str, keep_default_na=False)
        for col in frame.columns:
            if DATA_COLUMN.search(col) and frame[col].str.contains(r"[A-Za-z]").any():
                texts += frame[col].unique().tolist()
    sol = run / "solution.json"
    if sol.is_file():
        data = json.loads(sol.read_text(encoding="utf-8"))
        case = data.get("case", {})
        texts += _strings(case) + _strings(data.get("model", {}).get("standards", []))
        texts += _strings(data.get("norms", {})) + _strings(data.get("demand", {}))
        texts += [str(t) for t in _strings(data.get("model", {}))]
        for key, block in data.items():  # compliance tables: the planner's check names, sources
            if key.endswith("_compliance") and isinstance(block, dict):
                for row in block.get("table") or []:
                    texts += [str(row.get("norm", "")).split(".")[-1], str(row.get("source", ""))]
                    texts.append(str(row.get("note", "")))
        for name, table in (data.get("travel_times") or {}).items():  # table and network names
            texts += [name, str(table.get("network", "")), str(table.get("source", ""))]
    zones = run / "geojson" / "zones.geojson"
    if zones.is_file():  # the case's own note on approximate boundaries (geometry_approximate)
        feats = json.loads(zones.read_text(encoding="utf-8")).get("features") or []
        texts += [str((f.get("properties") or {}).get("geometry_source", "")) for f in feats]
    for t in texts:
        words.update(w.lower() for w in WORD.findall(str(t)))
    return words


def untranslated(html: str, allowed: set[str]) -> list[str]:
    """Text chunks of ``html`` holding a Latin word that is neither data nor in ALLOWED."""
    bad = []
    ok = ALLOWED | allowed
    for chunk in page_text(html):
        words = [w for w in WORD.findall(chunk) if w.lower() not in ok and not FILE.search(w)]
        if words:
            bad.append(f"{' '.join(words)}  <<{chunk.strip()[:120]}>>")
    return bad


RAW_KEY = re.compile(
    r"\b[a-z][a-z0-9]*(?:_[a-z0-9]+)+(?:\[[^\]]*\])?(?:\.[a-z_]+)?|\b[a-z_]+\[[^\]]*\](?:\.[a-z_]+)?"
)


def raw_keys(html: str, allowed: set[str]) -> list[str]:
    """Text chunks of ``html`` showing a configuration key (``fleet_size``, ``zone_rule[0]``,
    ``per_mille[chc].max``) that is not the run's own data (a standard or table name)."""
    bad = []
    for chunk in page_text(html):
        keys = [
            k for k in RAW_KEY.findall(chunk) if k.lower() not in allowed and not FILE.search(k)
        ]
        if keys:
            bad.append(f"{' '.join(keys)}  <<{chunk.strip()[:120]}>>")
    return bad
