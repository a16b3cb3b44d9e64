"""Map specifications (layers, styles, popups) for the report's Leaflet maps, and a static SVG
overview for print. Geometries come from the run's ``geojson/`` layers (WGS-84)."""

from __future__ import annotations

import math
from html import escape
from typing import Any

from .i18n import Labels
from .page import render_template, spec_json
from .rundata import RunData

__all__ = ["BASEMAPS", "LayerSpec", "map_html", "overview_svg", "type_colours"]

BASEMAPS = ("none", "osm", "tianditu")
PALETTE = ("#1565c0", "#6a1b9a", "#ef6c00", "#00838f", "#5d4037", "#ad1457", "#827717")
COVERED, UNCOVERED, NOT_SUBJECT = "#2e7d32", "#d50000", "#9e9e9e"
SITE_CHANGE = {"added": "#7b1fa2", "removed": "#ef6c00", "kept": "#37474f"}
"""Sites in ``compare``: purple added, orange removed, slate kept - never the green / red that
mark demand gaining / losing coverage."""
PHASE_PALETTE = ("#1a237e", "#00897b", "#f9a825", "#d84315", "#6a1b9a", "#2e7d32", "#c2185b")
"""Colours of the build years of a phased roll-out (first year darkest blue)."""
DEMAND_STYLES = [
    {"color": "#1b5e20", "weight": 0.5, "fillColor": COVERED, "fillOpacity": 0.75},
    {"color": "#7f0000", "weight": 0.8, "fillColor": UNCOVERED, "fillOpacity": 0.85},
    {"color": "#616161", "weight": 0.5, "fillColor": NOT_SUBJECT, "fillOpacity": 0.6},
]
CANVAS_ABOVE = 5_000
"""More point features than this (or four times as many road lines) are drawn on a canvas
(fast at 10^4 demand points) instead of SVG paths."""
CLUSTER_ABOVE = 2_000
"""More demand points than this are clustered (Leaflet.markercluster): each cluster shows the
residents it holds, under the catchments and chosen sites (pane z-index 390 < 400)."""

LayerSpec = dict[str, Any]


def col_label(column: str, t: Labels) -> str:
    """A table column as a popup label: Chinese in zh (:func:`optimizer.workbook.column_label`),
    words in en (``covered_walk15`` -> ``covered walk15``)."""
    from ..workbook import column_label

    return column_label(column, "zh") if t.lang == "zh" else column.replace("_", " ")


def type_colours(types: list[str]) -> dict[str, str]:
    return {t: PALETTE[k % len(PALETTE)] for k, t in enumerate(sorted(types))}


def _round(v: Any) -> Any:
    if isinstance(v, float):
        return round(v, 6)
    return v


def _props(props: dict[str, Any], keys: list[str]) -> dict[str, Any]:
    return {k: _round(props[k]) for k in keys if k in props and props[k] not in (None, "")}


def xy_of(feature: dict[str, Any]) -> list[float] | None:
    g = feature.get("geometry")
    if not g or g.get("type") != "Point":
        return None
    x, y = g["coordinates"][:2]
    return [round(float(x), 6), round(float(y), 6)]


def point_layer(
    lid: str,
    label: str,
    features: list[dict[str, Any]],
    styles: list[dict[str, Any]],
    style_of: Any,
    popup: list[list[str]],
    *,
    show: bool,
    class_name: str,
    swatch: str,
    radius_of: Any = None,
) -> LayerSpec:
    keys = [p[1] for p in popup]
    feats = []
    for f in features:
        xy = xy_of(f)
        if xy is None:
            continue
        props = f.get("properties") or {}
        item: dict[str, Any] = {"xy": xy, "s": style_of(props), "p": _props(props, keys)}
        if radius_of is not None:
            item["r"] = radius_of(props)
        feats.append(item)
    return {
        "id": lid,
        "label": label,
        "kind": "point",
        "show": show,
        "className": class_name,
        "styles": styles,
        "popup": popup,
        "swatch": swatch,
        "features": feats,
    }


def polygon_layer(
    lid: str,
    label: str,
    features: list[dict[str, Any]],
    styles: list[dict[str, Any]],
    style_of: Any,
    popup: list[list[str]],
    *,
    show: bool,
    class_name: str,
    swatch: str,
    label_of: Any = None,
) -> LayerSpec:
    keys = [p[1] for p in popup]
    feats = []
    for f in features:
        g = f.get("geometry")
        if not g or g.get("type") not in ("Polygon", "MultiPolygon"):
            continue
        props = f.get("properties") or {}
        item = {"geom": _round_geom(g), "s": style_of(props), "p": _props(props, keys)}
        if label_of is not None:
            item["label"] = label_of(props)
        feats.append(item)
    return {
        "id": lid,
        "label": label,
        "kind": "polygon",
        "show": show,
        "className": class_name,
        "styles": styles,
        "popup": popup,
        "swatch": swatch,
        "features": feats,
    }


ROAD_STYLES = [
    {"color": "#a8a8a8", "weight": 0.8, "opacity": 0.8},
    {"color": "#808080", "weight": 1.6, "opacity": 0.9},
]
"""Roads: a light base layer (minor, major), under everything else."""


def roads_spec(L: dict[str, Any], t: Labels) -> LayerSpec | None:
    """The run's road network (``geojson/roads.geojson``) as a non-clickable base layer."""
    feats = []
    for f in run_features(L, "roads"):
        g = f.get("geometry")
        if not g or g.get("type") not in ("LineString", "MultiLineString"):
            continue
        major = (f.get("properties") or {}).get("major") == 1
        feats.append({"geom": _round_geom(g), "s": 1 if major else 0})
    if not feats:
        return None
    return {
        "id": "roads",
        "label": t("lyr_roads"),
        "kind": "line",
        "show": True,
        "className": "lyr-roads",
        "styles": ROAD_STYLES,
        "popup": [],
        "swatch": "#a8a8a8",
        "features": feats,
    }


def _round_geom(g: dict[str, Any]) -> dict[str, Any]:
    def r(c: Any) -> Any:
        if isinstance(c, (int, float)):
            return round(float(c), 6)
        return [r(x) for x in c]

    return {"type": g["type"], "coordinates": r(g["coordinates"])}


def weight_radius(features: list[dict[str, Any]]) -> Any:
    wmax = max(
        (float((f.get("properties") or {}).get("weight") or 0) for f in features), default=1.0
    )
    wmax = wmax if wmax > 0 else 1.0

    def radius(props: dict[str, Any]) -> float:
        w = float(props.get("weight") or 0)
        return round(1.5 + 4.5 * math.sqrt(max(w, 0.0) / wmax), 2)

    return radius


def basemap_spec(kind: str, key: str | None, t: Labels) -> dict[str, Any]:
    if kind not in BASEMAPS:
        raise ValueError(f"--basemap must be one of {', '.join(BASEMAPS)} (got {kind!r})")
    if kind == "tianditu" and not key:
        raise ValueError(
            "--basemap tianditu needs a key: --tianditu-key KEY or the TIANDITU_KEY variable "
            "(free at https://console.tianditu.gov.cn)"
        )
    spec: dict[str, Any] = {"kind": kind, "label": t(f"basemap_{kind}")}
    if kind == "tianditu":
        spec["key"] = key
    return spec


def phase_names(run: RunData) -> list[str]:
    """The years of a phased roll-out, in order (empty for other runs)."""
    return [str(ph.get("phase")) for ph in run.solution.get("phases") or []]


def layer_features(spec: dict[str, Any], ls: LayerSpec) -> list[dict[str, Any]]:
    """A layer's features with their style index (resolving shared pools)."""
    if ls.get("pool"):
        pool = spec["pools"][ls["pool"]]
        return [{**f, "s": s} for f, s in zip(pool, ls["sidx"], strict=True)]
    return list(ls["features"])


def run_features(layers: dict[str, dict[str, Any]], name: str) -> list[dict[str, Any]]:
    return list((layers.get(name) or {}).get("features") or [])


def run_columns(fc: dict[str, Any]) -> list[str]:
    feats = fc.get("features") or []
    return list((feats[0].get("properties") or {}).keys()) if feats else []


def map_html(spec: dict[str, Any], element_id: str, legend: str = "") -> str:
    """The map's element, its legend (HTML) and its spec as JSON (``templates/map.html.j2``)."""
    return render_template(
        "map.html.j2", element_id=element_id, legend=legend, spec_json=spec_json(spec)
    )


def overview_svg(spec: dict[str, Any], *, width: int = 520, height: int = 360) -> str:
    """A static picture of the map's visible layers (zones, points) for print."""
    pts: list[tuple[float, float]] = []
    for ls in spec["layers"]:
        if ls["kind"] == "line":
            continue  # roads do not set the extent
        for f in layer_features(spec, ls):
            if ls["kind"] == "point":
                pts.append((f["xy"][0], f["xy"][1]))
            else:
                for ring in _rings(f["geom"]):
                    pts.extend((x, y) for x, y in ring[:: max(1, len(ring) // 50)])
    if not pts:
        return ""
    xs, ys = [p[0] for p in pts], [p[1] for p in pts]
    x0, x1, y0, y1 = min(xs), max(xs), min(ys), max(ys)
    k = math.cos(math.radians((y0 + y1) / 2))
    span_x, span_y = max((x1 - x0) * k, 1e-9), max(y1 - y0, 1e-9)
    scale = min((width - 20) / span_x, (height - 20) / span_y)

    def px(x: float, y: float) -> str:
        return f"{10 + (x - x0) * k * scale:.1f},{height - 10 - (y - y0) * scale:.1f}"

    out = [
        f'<svg class="overview" xmlns="http://www.w3.org/2000/svg" width="{width}" '
        f'height="{height}" viewBox="0 0 {width} {height}">'
    ]
    for ls in spec["layers"]:
        if not ls.get("show"):
            continue
        for f in layer_features(spec, ls):
            st = ls["styles"][f.get("s", 0)]
            if ls["kind"] == "line":
                coords = f["geom"]["coordinates"]
                parts = coords if f["geom"]["type"] == "MultiLineString" else [coords]
                d = " ".join("M" + " L".join(px(x, y) for x, y in part) for part in parts)
                out.append(
                    f'<path d="{d}" fill="none" stroke="{st.get("color", "#aaa")}" '
                    f'stroke-width="{0.4 * float(st.get("weight", 1)):.2f}"/>'
                )
            elif ls["kind"] == "polygon":
                d = " ".join(
                    "M" + " L".join(px(x, y) for x, y in ring) + " Z" for ring in _rings(f["geom"])
                )
                out.append(
                    f'<path d="{d}" fill="{st.get("fillColor", "none")}" '
                    f'fill-opacity="{st.get("fillOpacity", 0.1)}" stroke="{st.get("color", "#555")}" '
                    'stroke-width="0.8"/>'
                )
            else:
                x, y = px(*f["xy"]).split(",")
                r = min(float(f.get("r", st.get("radius", 4))), 6) * 0.6
                out.append(
                    f'<circle cx="{x}" cy="{y}" r="{r:.1f}" fill="{st.get("fillColor", "#333")}" '
                    f'stroke="{st.get("color", "#000")}" stroke-width="0.5"/>'
                )
    out.append("</svg>")
    return "".join(out)


def _rings(geom: dict[str, Any]) -> list[list[list[float]]]:
    if geom["type"] == "Polygon":
        return list(geom["coordinates"])
    return [ring for poly in geom["coordinates"] for ring in poly]


def legend_html(spec: dict[str, Any], t: Labels) -> str:
    items = [
        f'<span><span class="swatch" style="background:{COVERED}"></span>{escape(t("covered_yes"))}</span>',
        f'<span><span class="swatch" style="background:{UNCOVERED}"></span>{escape(t("covered_no"))}</span>',
        f'<span><span class="swatch" style="background:{NOT_SUBJECT}"></span>{escape(t("not_subject"))}</span>',
    ]
    for k, name in enumerate(spec.get("phases") or []):
        items.append(
            f'<span><span class="swatch" style="background:{PHASE_PALETTE[k % len(PHASE_PALETTE)]}">'
            f"</span>{escape(t('built_in'))} {escape(name)}</span>"
        )
    for ls in spec["layers"]:
        if ls["id"].startswith("chosen-"):
            items.append(
                f'<span><span class="swatch" style="background:{ls["swatch"]}"></span>'
                f"{escape(ls['label'])} ({escape(t('new'))}: ●, {escape(t('kept'))}: ○)</span>"
            )
    return "".join(items)
