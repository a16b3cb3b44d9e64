"""QGIS styles and project for a run's layers: QML in ``layers_styles``, ``project.qgz``, Shapefiles.

* Every layer of ``layers.gpkg`` gets a default QML style in the GeoPackage's ``layer_styles``
  table (the QGIS convention, read by QGIS and by GDAL-based tools): chosen sites coloured by
  facility type (the report's colours, :func:`optimizer.report.mapview.type_colours`), demand by
  coverage (covered green, uncovered red, not subject grey) and sized by weight, catchments as
  light fills of their site's colour, zones as outlines labelled with their names.
* ``project.qgz`` is a QGIS project (zipped ``.qgs`` XML) that opens every layer of
  ``layers.gpkg`` (relative path, so the run folder can be moved) with the same styles, zones at
  the bottom and sites on top.
* ``shapefile/<layer>.shp`` (``output.shapefile: true``): Shapefile field names hold at most 10
  characters, so each long name becomes a short unique one; ``shapefile/fields.csv`` maps every
  short name back to the full column of the GeoPackage and the CSVs.
"""

from __future__ import annotations

import io
import re
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path
from typing import Any

import pandas as pd

from optimizer.report.mapview import COVERED, NOT_SUBJECT, UNCOVERED, type_colours

__all__ = [
    "STYLE_TIME",
    "layer_qml",
    "project_qgs",
    "shapefile_field_map",
    "write_layer_styles",
    "write_project",
]

STYLE_TIME = "2000-01-01T00:00:00.000Z"
"""``layer_styles.update_time``: fixed so that reruns are byte-identical."""
QGIS_VERSION = "3.22.16-Białowieża"
LAYER_ORDER = (
    "roads",
    "zones",
    "catchments",
    "assignments",
    "demand",
    "uncovered_demand",
    "candidate_sites",
    "chosen_sites",
)
"""Drawing order, bottom first."""


def _rgba(hex_colour: str, alpha: int = 255) -> str:
    h = hex_colour.lstrip("#")
    return f"{int(h[0:2], 16)},{int(h[2:4], 16)},{int(h[4:6], 16)},{alpha}"


def _symbol(parent: ET.Element, name: str, kind: str, props: dict[str, str]) -> ET.Element:
    """A QGIS symbol with one symbol layer (``<prop k v>`` form, read by every QGIS 3)."""
    sym = ET.SubElement(
        parent,
        "symbol",
        {"type": kind, "name": name, "alpha": "1", "clip_to_extent": "1", "force_rhr": "0"},
    )
    cls = {"marker": "SimpleMarker", "line": "SimpleLine", "fill": "SimpleFill"}[kind]
    layer = ET.SubElement(sym, "layer", {"class": cls, "enabled": "1", "pass": "0", "locked": "0"})
    for k, v in props.items():
        if k != "size_expression":
            ET.SubElement(layer, "prop", {"k": k, "v": v})
    if "size_expression" in props:  # data-defined size (e.g. demand by weight)
        dd = ET.SubElement(layer, "data_defined_properties")
        top = ET.SubElement(dd, "Option", {"type": "Map"})
        ET.SubElement(top, "Option", {"name": "name", "type": "QString", "value": ""})
        ps = ET.SubElement(top, "Option", {"name": "properties", "type": "Map"})
        size = ET.SubElement(ps, "Option", {"name": "size", "type": "Map"})
        ET.SubElement(size, "Option", {"name": "active", "type": "bool", "value": "true"})
        ET.SubElement(
            size,
            "Option",
            {"name": "expression", "type": "QString", "value": props["size_expression"]},
        )
        ET.SubElement(size, "Option", {"name": "type", "type": "int", "value": "3"})
        ET.SubElement(top, "Option", {"name": "type", "type": "QString", "value": "collection"})
    return sym


def _marker(colour: str, size: float, outline: str = "#000000", **extra: str) -> dict[str, str]:
    return {
        "name": "circle",
        "color": _rgba(colour),
        "outline_color": _rgba(outline),
        "outline_width": "0.2",
        "outline_width_unit": "MM",
        "size": f"{size:g}",
        "size_unit": "MM",
        **extra,
    }


def _fill(colour: str, alpha: int, outline: str, width: float) -> dict[str, str]:
    return {
        "color": _rgba(colour, alpha),
        "style": "solid" if alpha > 0 else "no",
        "outline_color": _rgba(outline),
        "outline_style": "solid",
        "outline_width": f"{width:g}",
        "outline_width_unit": "MM",
    }


def _categorized(
    root: ET.Element, attr: str, cats: list[tuple[str, str, str, dict[str, str]]]
) -> None:
    """``cats``: (value, label, symbol kind, symbol props); value "" is the catch-all."""
    r = ET.SubElement(
        root,
        "renderer-v2",
        {"type": "categorizedSymbol", "attr": attr, "symbollevels": "0", "forceraster": "0"},
    )
    cs = ET.SubElement(r, "categories")
    syms = ET.SubElement(r, "symbols")
    for k, (value, label, kind, props) in enumerate(cats):
        ET.SubElement(
            cs, "category", {"render": "true", "symbol": str(k), "value": value, "label": label}
        )
        _symbol(syms, str(k), kind, props)


def _single(root: ET.Element, kind: str, props: dict[str, str]) -> None:
    r = ET.SubElement(
        root, "renderer-v2", {"type": "singleSymbol", "symbollevels": "0", "forceraster": "0"}
    )
    _symbol(ET.SubElement(r, "symbols"), "0", kind, props)


def _labels(root: ET.Element, field: str, *, size: float, polygon: bool) -> None:
    lab = ET.SubElement(root, "labeling", {"type": "simple"})
    st = ET.SubElement(lab, "settings", {"calloutType": "simple"})
    ET.SubElement(
        st,
        "text-style",
        {
            "fieldName": field,
            "isExpression": "0",
            "fontSize": f"{size:g}",
            "fontSizeUnit": "Point",
            "textColor": "40,40,40,255",
            "fontFamily": "Noto Sans CJK SC",
        },
    )
    ET.SubElement(
        st,
        "text-buffer",
        {"bufferDraw": "1", "bufferSize": "0.8", "bufferColor": "255,255,255,255"},
    )
    # polygons: horizontal label inside (QGIS placement 1 = OverPoint / around centroid)
    ET.SubElement(st, "placement", {"placement": "1" if polygon else "0", "dist": "1"})
    ET.SubElement(st, "rendering", {"obstacle": "1", "scaleVisibility": "0"})
    ET.SubElement(root, "labelsEnabled").text = "1"


def _label_field(fields: list[str], *candidates: str) -> str | None:
    return next((c for c in candidates if c in fields), None)


def layer_qml(name: str, fields: list[str], geometry_type: str, facility_types: list[str]) -> str:
    """The QML style of one layer (``name`` as in :data:`optimizer.outputs.layers.LAYER_NAMES`)."""
    colours = type_colours(facility_types)
    root = ET.Element(
        "qgis", {"version": QGIS_VERSION, "styleCategories": "Symbology|Labeling|Rendering"}
    )
    by_type = [(t, t, "marker", _marker(colours[t], 3.4, "#000000")) for t in sorted(colours)] + [
        ("", "", "marker", _marker("#9e9e9e", 3.0))
    ]
    if name == "chosen_sites":
        _categorized(root, "facility_type", by_type)
        label = _label_field(fields, "name", "site_id")
        if label:
            _labels(root, label, size=8, polygon=False)
    elif name == "candidate_sites":
        _single(root, "marker", _marker("#bdbdbd", 1.6, "#616161"))
    elif name in ("demand", "uncovered_demand"):
        size = 'coalesce(1.0 + 3.0 * sqrt("weight" / maximum("weight")), 1.5)'
        first = next((c for c in fields if c.startswith("covered")), None)
        if name == "uncovered_demand":
            _single(root, "marker", _marker(UNCOVERED, 2.0, "#7f0000"))
        elif first is None:
            _single(root, "marker", _marker("#1565c0", 1.5, "#0d47a1", size_expression=size))
        else:
            _categorized(
                root,
                first,
                [
                    ("1", "covered", "marker", _marker(COVERED, 1.5, "#1b5e20", size_expression=size)),
                    ("0", "not covered", "marker", _marker(UNCOVERED, 1.8, "#7f0000", size_expression=size)),
                    ("", "not subject", "marker", _marker(NOT_SUBJECT, 1.2, "#616161", size_expression=size)),
                ],
            )  # fmt: skip
    elif name == "catchments":
        _categorized(
            root,
            "facility_type",
            [(t, t, "fill", _fill(colours[t], 40, colours[t], 0.3)) for t in sorted(colours)]
            + [("", "", "fill", _fill("#9e9e9e", 40, "#616161", 0.3))],
        )
    elif name == "zones":
        _single(root, "fill", _fill("#90a4ae", 0, "#37474f", 0.6))
        label = _label_field(fields, "name", "zone_id")
        if label:
            _labels(root, label, size=9, polygon=True)
    elif name == "roads":
        _categorized(
            root,
            "major",
            [
                ("1", "major", "line", {"line_color": _rgba("#808080"), "line_width": "0.45"}),
                ("", "minor", "line", {"line_color": _rgba("#b0b0b0"), "line_width": "0.2"}),
            ],
        )
    elif geometry_type.endswith("LineString"):
        _single(root, "line", {"line_color": _rgba("#78909c"), "line_width": "0.25"})
    else:
        kind = {"Point": "marker", "MultiPolygon": "fill"}.get(geometry_type, "marker")
        props = (
            _marker("#1565c0", 2.0) if kind == "marker" else _fill("#1565c0", 40, "#1565c0", 0.3)
        )
        _single(root, kind, props)
    ET.SubElement(root, "layerGeometryType").text = (
        "0" if "Point" in geometry_type else "1" if "Line" in geometry_type else "2"
    )
    ET.indent(root)
    return "<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>\n" + ET.tostring(
        root, encoding="unicode"
    )


def _facility_types(layers: list[Any]) -> list[str]:
    found: set[str] = set()
    for layer in layers:
        if "facility_type" in layer.frame.columns:
            found.update(map(str, layer.frame["facility_type"].dropna()))
    return sorted(found)


def styles_frame(layers: list[Any]) -> pd.DataFrame:
    """One ``layer_styles`` row per layer (QGIS columns), the default style of each."""
    types = _facility_types(layers)
    rows = []
    for layer in layers:
        qml = layer_qml(layer.name, list(map(str, layer.frame.columns)), layer.geometry_type, types)
        rows.append(
            {
                "f_table_catalog": "",
                "f_table_schema": "",
                "f_table_name": layer.name,
                "f_geometry_column": "geom",
                "styleName": layer.name,
                "styleQML": qml,
                "styleSLD": "",
                "useAsDefault": True,
                "description": layer.note,
                "owner": "",
                "ui": "",
                "update_time": STYLE_TIME,
            }
        )
    return pd.DataFrame(rows)


def write_layer_styles(path: Path, layers: list[Any]) -> None:
    """Add the ``layer_styles`` table (an attributes table, id as key) to the GeoPackage."""
    import pyogrio

    pyogrio.write_dataframe(
        styles_frame(layers),
        path,
        layer="layer_styles",
        driver="GPKG",
        append=True,
        layer_options={"FID": "id"},
    )


def _srs(parent: ET.Element, wkt: str, authid: str) -> None:
    srs = ET.SubElement(ET.SubElement(parent, "srs"), "spatialrefsys")
    ET.SubElement(srs, "wkt").text = wkt
    ET.SubElement(srs, "authid").text = authid
    ET.SubElement(srs, "description").text = authid


def project_qgs(layers: list[Any], *, gpkg: str, crs_wkt: str, authid: str, title: str) -> str:
    """The ``.qgs`` XML of a project showing every layer of ``gpkg`` (relative path) styled."""
    types = _facility_types(layers)
    ordered = sorted(
        layers,
        key=lambda lyr: LAYER_ORDER.index(lyr.name) if lyr.name in LAYER_ORDER else -1,
        reverse=True,  # the layer tree lists the top layer first
    )
    root = ET.Element("qgis", {"projectname": title, "version": QGIS_VERSION})
    ET.SubElement(root, "title").text = title
    pcrs = ET.SubElement(root, "projectCrs")
    srs = ET.SubElement(pcrs, "spatialrefsys")
    ET.SubElement(srs, "wkt").text = crs_wkt
    ET.SubElement(srs, "authid").text = authid
    tree = ET.SubElement(root, "layer-tree-group")
    maplayers = ET.SubElement(root, "projectlayers")
    for layer in ordered:
        lid = f"{layer.name}_layer"
        source = f"./{gpkg}|layername={layer.name}"
        shown = layer.name not in ("candidate_sites", "uncovered_demand", "assignments")
        ET.SubElement(
            tree,
            "layer-tree-layer",
            {
                "id": lid,
                "name": layer.name,
                "source": source,
                "providerKey": "ogr",
                "checked": "Qt::Checked" if shown else "Qt::Unchecked",
                "expanded": "0",
            },
        )
        geom = (
            "Point"
            if "Point" in layer.geometry_type
            else "Line"
            if "Line" in layer.geometry_type
            else "Polygon"
        )
        ml = ET.SubElement(maplayers, "maplayer", {"type": "vector", "geometry": geom})
        ET.SubElement(ml, "id").text = lid
        ET.SubElement(ml, "datasource").text = source
        ET.SubElement(ml, "layername").text = layer.name
        ET.SubElement(ml, "abstract").text = layer.note
        _srs(ml, crs_wkt, authid)
        ET.SubElement(ml, "provider", {"encoding": "UTF-8"}).text = "ogr"
        style = ET.fromstring(
            layer_qml(
                layer.name, list(map(str, layer.frame.columns)), layer.geometry_type, types
            ).split("\n", 1)[1]
        )
        for child in style:
            if child.tag != "layerGeometryType":
                ml.append(child)
    order = ET.SubElement(tree, "custom-order", {"enabled": "0"})
    for layer in ordered:
        ET.SubElement(order, "item").text = f"{layer.name}_layer"
    props = ET.SubElement(root, "properties")
    paths = ET.SubElement(props, "Paths")
    ET.SubElement(paths, "Absolute", {"type": "bool"}).text = "false"
    ET.indent(root)
    return "<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>\n" + ET.tostring(
        root, encoding="unicode"
    )


def write_project(path: Path, qgs: str) -> None:
    """``project.qgz``: the zipped ``.qgs`` (fixed timestamp, so reruns are byte-identical)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        info = zipfile.ZipInfo("project.qgs", date_time=(1980, 1, 1, 0, 0, 0))
        info.compress_type = zipfile.ZIP_DEFLATED
        z.writestr(info, qgs.encode("utf-8"))
    path.write_bytes(buf.getvalue())


def shapefile_field_map(columns: list[str]) -> dict[str, str]:
    """``{column: short name}``: unique, at most 10 characters, ASCII, stable for one column list.

    Short columns keep their name; longer ones keep their start and end (``residents_within_walk15``
    -> ``resi_lk15``-style), with a number added on a clash."""
    out: dict[str, str] = {}
    used: set[str] = set()
    for col in columns:
        base = re.sub(r"[^A-Za-z0-9_]", "_", col) or "field"
        short = base if len(base) <= 10 else f"{base[:5]}_{base[-4:]}"
        k = 1
        candidate = short
        while candidate.lower() in used:
            tail = str(k)
            candidate = f"{short[: 10 - len(tail)]}{tail}"
            k += 1
        used.add(candidate.lower())
        out[col] = candidate
    return out
