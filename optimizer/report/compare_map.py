"""The comparison map: sites added / removed / kept and demand points gaining or losing cover."""

from __future__ import annotations

from html import escape
from typing import Any

from .compare_diff import Comparison
from .i18n import Labels
from .mapview import DEMAND_STYLES, SITE_CHANGE, roads_spec

__all__ = ["compare_legend", "compare_map_spec"]


def compare_legend(spec: dict[str, Any]) -> str:
    items = []
    for ls in spec["layers"]:
        if ls["kind"] != "point" or (ls["id"].startswith("demand-") and not ls["features"]):
            continue
        for k, st in enumerate(ls["styles"]):
            label = ls["label"]
            if ls["id"].startswith("demand-"):
                label = label.split(" / ")[k].split(":")[0] + ": " + ls["label"].split(": ")[-1]
            items.append(
                f'<span><span class="swatch" style="background:{st["fillColor"]}"></span>'
                f"{escape(label)}</span>"
            )
    return "".join(items)


def compare_map_spec(comp: Comparison, t: Labels, basemap: dict[str, Any]) -> dict[str, Any] | None:
    """The Leaflet spec of the comparison map (:func:`.mapview.map_html`): roads and townships as
    a base, sites added / removed / kept, and per standard the demand points gaining or losing it;
    None when neither run has map layers."""
    a, b = comp.a, comp.b
    if not a.layers and not b.layers:
        return None
    layers: list[dict[str, Any]] = []
    roads = roads_spec(b.layers, t) or roads_spec(a.layers, t)  # the streets, as a base
    if roads is not None:
        layers.append(roads)
    zones = (b.layers.get("zones") or a.layers.get("zones") or {}).get("features") or []
    if zones:
        layers.append(_zones_layer(zones, t))
    layers += _site_layers(comp, t)
    layers += _demand_layers(comp, t)
    return {
        "basemap": basemap,
        "noneLabel": t("basemap_none"),
        "canvas": False,
        "collapsed": True,
        "pools": {},
        "layers": layers,
    }


def _zones_layer(zones: list[dict[str, Any]], t: Labels) -> dict[str, Any]:
    """Township outlines (B's, else A's)."""
    return {
        "id": "zones",
        "label": t("lyr_zones"),
        "kind": "polygon",
        "show": True,
        "className": "lyr-zones",
        "styles": [
            {"color": "#455a64", "weight": 1.2, "fillColor": "#90a4ae", "fillOpacity": 0.06}
        ],
        "popup": [[t("zone"), "zone_id", ""], [t("name"), "name", ""]],
        "swatch": "#90a4ae",
        "features": [
            {
                "geom": f["geometry"],
                "s": 0,
                "p": {k: f["properties"].get(k) for k in ("zone_id", "name")},
                "label": str(f["properties"].get("name") or f["properties"].get("zone_id") or ""),
            }
            for f in zones
            if f.get("geometry")
        ],
    }


def _points(comp: Comparison, layer: str, key: str) -> dict[str, list[float]]:
    """``id -> [lon, lat]`` of the point features of a layer in A, else B (6 decimals)."""
    xy: dict[str, list[float]] = {}
    for run in (comp.a, comp.b):
        for f in (run.layers.get(layer) or {}).get("features") or []:
            g = f.get("geometry")
            if g and g.get("type") == "Point":
                xy.setdefault(
                    str(f["properties"][key]), [round(c, 6) for c in g["coordinates"][:2]]
                )
    return xy


def _site_layers(comp: Comparison, t: Labels) -> list[dict[str, Any]]:
    """One point layer per change (added / removed / kept), coloured by :data:`SITE_CHANGE`."""
    xy = _points(comp, "candidate_sites", "site_id")
    sd = comp.sites
    colours = SITE_CHANGE  # distinct from the demand's gained (green) / lost (red)
    popup = [
        [t("site"), "site_id", ""],
        [t("name"), "name", ""],
        [t("facility_type"), "facility_type", ""],
        ["A", "status_a", ""],
        ["B", "status_b", ""],
    ]
    layers = []
    for ch, key in (("added", "lyr_added"), ("removed", "lyr_removed"), ("kept", "lyr_kept")):
        sub = sd[sd["change"] == ch]
        feats = [
            {
                "xy": xy[str(r.site_id)],
                "s": 0,
                "r": 7,
                "p": {
                    "site_id": r.site_id,
                    "name": getattr(r, "name", ""),
                    "facility_type": r.facility_type,
                    "status_a": t.text(r.status_a),
                    "status_b": t.text(r.status_b),
                },
            }
            for r in sub.itertuples()
            if r.site_id in xy
        ]
        style = {"color": "#000000", "weight": 1.5, "fillColor": colours[ch], "fillOpacity": 0.95}
        layers.append(
            {
                "id": f"sites-{ch}",
                "label": t(key),
                "kind": "point",
                "show": True,
                "className": f"lyr-{ch}",
                "styles": [style],
                "popup": popup,
                "swatch": colours[ch],
                "features": feats,
            }
        )
    return layers


def _demand_layers(comp: Comparison, t: Labels) -> list[dict[str, Any]]:
    """Per standard, the demand points gaining (style 0) or losing (style 1) it."""
    dxy = _points(comp, "demand", "demand_id")
    dd = comp.demand
    layers = []
    for k, s in enumerate(comp.standards):
        sub = dd[dd[f"change_{s}"] != ""]
        feats = [
            {
                "xy": dxy[r["demand_id"]],
                "s": 0 if r[f"change_{s}"] == "gained" else 1,
                "r": 5,
                "p": {
                    "demand_id": r["demand_id"],
                    "name": r.get("name", ""),
                    "zone": r.get("zone", ""),
                    "change": t.text(r[f"change_{s}"]),
                },
            }
            for _, r in sub.iterrows()
            if r["demand_id"] in dxy
        ]
        layers.append(
            {
                "id": f"demand-{s}",
                "label": f"{t('lyr_gain')} / {t('lyr_lose')}: {s}",
                "kind": "point",
                "show": k == 0 or bool(feats),
                "className": "lyr-demand-change",
                "styles": [DEMAND_STYLES[0], DEMAND_STYLES[1]],
                "popup": [
                    [t("lyr_demand"), "demand_id", ""],
                    [t("name"), "name", ""],
                    [t("zone"), "zone", ""],
                    [t("coverage_change"), "change", ""],
                ],
                "swatch": DEMAND_STYLES[1]["fillColor"],
                "features": feats,
            }
        )
    return layers
