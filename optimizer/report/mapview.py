"""Map specifications (layers, styles, popups) for the report's Leaflet maps, and a static SVG
overview for print. Geometries come from the run's ``geojson/`` layers (WGS-84)."""

from __future__ import annotations

import functools
import math
from html import escape
from typing import Any

from .i18n import Labels
from .page import json_script
from .rundata import RunData

__all__ = ["BASEMAPS", "LayerSpec", "map_html", "overview_svg", "report_map_spec", "type_colours"]

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


def _xy(feature: dict[str, Any]) -> list[float] | None:
    g = feature.get("geometry")
    if not g or g.get("type") != "Point":
        return None
    x, y = g["coordinates"][:2]
    return [round(float(x), 6), round(float(y), 6)]


def _point_layer(
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
        xy = _xy(f)
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


def _polygon_layer(
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
    for f in _features(L, "roads"):
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


def _weight_radius(features: list[dict[str, Any]]) -> Any:
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


def report_map_spec(run: RunData, t: Labels, basemap: dict[str, Any]) -> dict[str, Any] | None:
    """Layers of a run's map: zones, catchments per standard, candidates, chosen sites per type,
    demand coloured by coverage per standard (the first shown), uncovered demand."""
    L = run.layers
    if not L:
        return None
    layers: list[LayerSpec] = []
    pools: dict[str, list[dict[str, Any]]] = {}
    std_names = [s["name"] for s in run.standards]
    roads = roads_spec(L, t)
    if roads is not None:
        layers.append(roads)
    if "zones" in L:
        share_cols = [c for c in _columns(L["zones"]) if c.startswith("share_")]
        popup = [[t("zone"), "zone_id", ""], [t("name"), "name", ""]]
        popup += [[t("population"), "population", "num"]]
        popup += [[col_label(c, t), c, "pct"] for c in share_cols]
        popup += [
            [col_label(c, t), c, "flag"] for c in _columns(L["zones"]) if c.startswith("met_")
        ]
        popup += [
            [t(k) if k in ("stations", "ambulances") else col_label(k, t), k, "num"]
            for k in _ZONE_EXTRA
            if k in _columns(L["zones"])
        ]
        popup += [[col_label("geometry_source", t), "geometry_source", ""]]

        def zone_style(p: dict[str, Any]) -> int:
            missed = any(p.get(k) == 0 for k in p if k.startswith("met_"))
            return 1 if missed else (2 if p.get("approximate") == 1 else 0)

        layers.append(
            _polygon_layer(
                "zones",
                t("lyr_zones"),
                L["zones"]["features"],
                [
                    {
                        "color": "#455a64",
                        "weight": 1.5,
                        "fillColor": "#90a4ae",
                        "fillOpacity": 0.08,
                    },
                    {
                        "color": "#b71c1c",
                        "weight": 2.5,
                        "fillColor": "#ef9a9a",
                        "fillOpacity": 0.15,
                    },
                    {
                        "color": "#455a64",
                        "weight": 1.5,
                        "dashArray": "5 4",
                        "fillColor": "#90a4ae",
                        "fillOpacity": 0.05,
                    },
                ],
                zone_style,
                popup,
                show=True,
                class_name="lyr-zones",
                swatch="#90a4ae",
                label_of=lambda p: str(p.get("name") or p.get("zone_id") or ""),
            )
        )
    site_types = sorted(
        {
            str((f.get("properties") or {}).get("facility_type"))
            for f in _features(L, "candidate_sites")
        }
    )
    colours = type_colours(site_types)
    if "catchments" in L:
        feats = L["catchments"]["features"]
        popup = [
            [t("site"), "site_id", ""],
            [t("standard"), "standard", ""],
            [t("threshold"), "threshold", "num"],
            [col_label("unit", t), "unit", ""],
            [t("area_km2"), "area_km2", "num"],
            [t("residents_within"), "residents_within", "num"],
            [t("method"), "method", ""],
        ]
        for k, name in enumerate(std_names):
            sub = [f for f in feats if (f.get("properties") or {}).get("standard") == name]
            if not sub:
                continue
            styles = [
                {"color": colours[ty], "weight": 1, "fillColor": colours[ty], "fillOpacity": 0.12}
                for ty in site_types
            ]
            layers.append(
                _polygon_layer(
                    f"catchments-{name}",
                    f"{t('lyr_catchments')}: {name}",
                    sub,
                    styles,
                    lambda p: site_types.index(str(p.get("facility_type"))),
                    popup,
                    show=k == 0,
                    class_name="lyr-catchment",
                    swatch=colours[str(sub[0]["properties"]["facility_type"])],
                )
            )
    site_popup = [
        [t("site"), "site_id", ""],
        [t("name"), "name", ""],
        [t("facility_type"), "facility_type", ""],
        [t("zone"), "zone", ""],
        [t("zone_name"), "zone_name", ""],
        [t("status_site"), "status", ""],
        [t("cost"), "cost", "num"],
        [t("residents_nearest"), "residents_nearest", "num"],
        [col_label("dominated_by", t), "dominated_by", ""],
        [t("ambulances"), "ambulances", "num"],
        [t("negative_pressure"), "negative_pressure", "num"],
        [t("build_phase"), "build_phase", ""],
    ]
    cand = [f for f in _features(L, "candidate_sites") if not _is_open(f.get("properties") or {})]
    if cand:
        layers.append(
            _point_layer(
                "candidates",
                t("lyr_candidates"),
                cand,
                [{"color": "#616161", "weight": 1, "fillColor": "#bdbdbd", "fillOpacity": 0.8}],
                lambda p: 0,
                site_popup,
                show=False,
                class_name="lyr-candidate",
                swatch="#bdbdbd",
                radius_of=lambda p: 3,
            )
        )
    demand = _features(L, "demand")
    if demand:
        radius = _weight_radius(demand)
        base_popup = [
            [t("lyr_demand"), "demand_id", ""],
            [t("name"), "name", ""],
            [t("zone"), "zone", ""],
            [t("zone_name"), "zone_name", ""],
            [col_label("class", t), "class", ""],
            [t("weight"), "weight", "num"],
        ]
        near = [c for c in _columns(L["demand"]) if c.startswith("nearest_")]
        flags = [c for c in _columns(L["demand"]) if c.startswith("covered_")]
        popup = base_popup + [[col_label(c, t), c, "flag"] for c in flags]
        popup += [[col_label(k, t), k, "num"] for k in _DEMAND_EXTRA if k in _columns(L["demand"])]
        popup += [
            [col_label(c, t), c, "num" if c.rsplit("_", 1)[-1] in ("min", "m") else ""]
            for c in near
        ]
        stds = [n for n in std_names if f"covered_{n}" in flags] or [""]
        # the points are stored once (a pool); each standard's layer only adds its colours
        pools["demand"] = _point_layer(
            "demand",
            "",
            demand,
            [{}],
            lambda p: 0,
            popup,
            show=False,
            class_name="",
            swatch="",
            radius_of=radius,
        )["features"]
        props = [(f.get("properties") or {}) for f in demand if _xy(f) is not None]
        for k, name in enumerate(stds):
            col = f"covered_{name}"
            sidx = [
                2 if p.get(col) is None or p.get(col) == "" else (0 if p.get(col) == 1 else 1)
                for p in props
            ]
            layers.append(
                {
                    "id": f"demand-{name}" if name else "demand",
                    "label": f"{t('lyr_demand')}: {name}" if name else t("lyr_demand"),
                    "kind": "point",
                    "show": k == 0,
                    "className": "lyr-demand",
                    "styles": DEMAND_STYLES,
                    "popup": popup,
                    "swatch": COVERED,
                    "pool": "demand",
                    "sidx": sidx if name else [2] * len(props),
                    "features": [],
                }
            )
    chosen = _features(L, "chosen_sites")
    phases = phase_names(run)
    for ty in site_types:
        sub = [f for f in chosen if (f.get("properties") or {}).get("facility_type") == ty]
        if not sub:
            continue
        c = colours[ty]
        if phases:  # a roll-out: new sites coloured by the year they are built
            styles = [
                {"color": c, "weight": 2.5, "fillColor": PHASE_PALETTE[k % len(PHASE_PALETTE)]}
                | {"fillOpacity": 1.0}
                for k in range(len(phases))
            ]
            styles.append({"color": c, "weight": 3, "fillColor": "#ffffff", "fillOpacity": 1.0})
            style: Any = functools.partial(_phase_style, phases=phases)
        else:
            styles = [
                {"color": "#000000", "weight": 1.5, "fillColor": c, "fillOpacity": 1.0},
                {"color": c, "weight": 3, "fillColor": "#ffffff", "fillOpacity": 1.0},
            ]
            style = _status_style
        layers.append(
            _point_layer(
                f"chosen-{ty}",
                f"{t('lyr_chosen')}: {ty}",
                sub,
                styles,
                style,
                site_popup,
                show=True,
                class_name="lyr-site",
                swatch=c,
                radius_of=_site_radius,
            )
        )
    n_points = sum(len(ls["features"]) for ls in layers if ls["kind"] == "point")
    n_points += sum(len(p) for p in pools.values())
    n_lines = sum(len(ls["features"]) for ls in layers if ls["kind"] == "line")
    return {
        "basemap": basemap,
        "noneLabel": t("basemap_none"),
        "canvas": n_points > CANVAS_ABOVE or n_lines > 4 * CANVAS_ABOVE,
        "pools": pools,
        "layers": layers,
        "phases": phases,
    }


_ZONE_EXTRA = (
    "covered_share",
    "expected_share",
    "mean_response_min",
    "worst_response_min",
    "stations",
    "ambulances",
)
_DEMAND_EXTRA = (
    "standard_min",
    "response_min",
    "station_m",
    "ambulances_within",
    "expected_coverage",
)


def _phase_style(p: dict[str, Any], phases: list[str]) -> int:
    """Style of a site in a roll-out: its build year, or the last style (existing, kept)."""
    b = p.get("build_phase")
    return phases.index(b) if b in phases else len(phases)


def _status_style(p: dict[str, Any]) -> int:
    return 0 if p.get("status") == "new" else 1


def _is_open(props: dict[str, Any]) -> bool:
    """An open site: ``chosen`` (coverage runs) or ``open`` (120 runs) is 1."""
    return props.get("chosen", props.get("open")) == 1


def _site_radius(props: dict[str, Any]) -> float:
    """7 px; a 120 station grows with its ambulances."""
    n = props.get("ambulances")
    return 7.0 if not isinstance(n, (int, float)) else 6.0 + 2.0 * min(float(n), 5.0)


def phase_names(run: RunData) -> list[str]:
    """The years of a phased roll-out, in order (empty for other runs)."""
    return [str(ph.get("phase")) for ph in run.solution.get("phases") or []]


def layer_features(spec: dict[str, Any], ls: LayerSpec) -> list[dict[str, Any]]:
    """A layer's features with their style index (resolving shared pools)."""
    if ls.get("pool"):
        pool = spec["pools"][ls["pool"]]
        return [{**f, "s": s} for f, s in zip(pool, ls["sidx"], strict=True)]
    return list(ls["features"])


def _features(layers: dict[str, dict[str, Any]], name: str) -> list[dict[str, Any]]:
    return list((layers.get(name) or {}).get("features") or [])


def _columns(fc: dict[str, Any]) -> list[str]:
    feats = fc.get("features") or []
    return list((feats[0].get("properties") or {}).keys()) if feats else []


def map_html(spec: dict[str, Any], element_id: str, legend: str = "") -> str:
    return (
        f'<div class="lmap" id="{element_id}" data-spec="{element_id}-spec"></div>'
        + (f'<div class="legend note">{legend}</div>' if legend else "")
        + json_script(f"{element_id}-spec", spec)
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
