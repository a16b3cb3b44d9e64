"""The layers of one run's report map: roads, townships, catchments, candidates, demand coloured
by coverage per standard, and the chosen sites per type (:func:`report_map_spec`)."""

from __future__ import annotations

import functools
from typing import Any

from .i18n import Labels, add_labels
from .mapview import (
    CANVAS_ABOVE,
    CLUSTER_ABOVE,
    COVERED,
    DEMAND_STYLES,
    PHASE_PALETTE,
    LayerSpec,
    col_label,
    phase_names,
    point_layer,
    polygon_layer,
    roads_spec,
    run_columns,
    run_features,
    type_colours,
    weight_radius,
    xy_of,
)
from .rundata import RunData

__all__ = ["report_map_spec"]

add_labels(
    {
        "cluster_residents": {"zh": "居民", "en": "Residents"},
        "cluster_uncovered": {"zh": "未覆盖", "en": "not covered"},
    }
)


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
        layers.append(_zones_layer(L, t))
    site_types = sorted(
        {
            str((f.get("properties") or {}).get("facility_type"))
            for f in run_features(L, "candidate_sites")
        }
    )
    colours = type_colours(site_types)
    if "catchments" in L:
        layers += _catchment_layers(L["catchments"]["features"], std_names, site_types, t)
    site_popup = _site_popup(t)
    cand = [
        f for f in run_features(L, "candidate_sites") if not _is_open(f.get("properties") or {})
    ]
    if cand:
        layers.append(_candidates_layer(cand, site_popup, t))
    demand = run_features(L, "demand")
    if demand:
        layers += _demand_layers(L, demand, std_names, pools, t)
    phases = phase_names(run)
    chosen = run_features(L, "chosen_sites")
    for ty in site_types:
        sub = [f for f in chosen if (f.get("properties") or {}).get("facility_type") == ty]
        if sub:
            layers.append(_chosen_layer(ty, sub, colours[ty], phases, site_popup, t))
    n_points = sum(len(ls["features"]) for ls in layers if ls["kind"] == "point")
    n_points += sum(len(p) for p in pools.values())
    n_lines = sum(len(ls["features"]) for ls in layers if ls["kind"] == "line")
    spec = {
        "basemap": basemap,
        "noneLabel": t("basemap_none"),
        "canvas": n_points > CANVAS_ABOVE or n_lines > 4 * CANVAS_ABOVE,
        "pools": pools,
        "layers": layers,
        "phases": phases,
    }
    if any(ls.get("cluster") for ls in layers):
        spec["cluster"] = {
            "lang": t.lang,
            "residents": t("cluster_residents"),
            "uncovered": t("cluster_uncovered"),
        }
    return spec


def _zone_style(p: dict[str, Any]) -> int:
    """1: a township missing a norm; 2: approximate outline; 0: otherwise."""
    missed = any(p.get(k) == 0 for k in p if k.startswith("met_"))
    return 1 if missed else (2 if p.get("approximate") == 1 else 0)


def _zones_layer(L: dict[str, Any], t: Labels) -> LayerSpec:
    """Township outlines with their shares, norms met and 120 figures in the popup."""
    cols = run_columns(L["zones"])
    share_cols = [c for c in cols if c.startswith("share_")]
    popup = [[t("zone"), "zone_id", ""], [t("name"), "name", ""]]
    popup += [[t("population"), "population", "num"]]
    popup += [[col_label(c, t), c, "pct"] for c in share_cols]
    popup += [[col_label(c, t), c, "flag"] for c in cols if c.startswith("met_")]
    popup += [
        [t(k) if k in ("stations", "ambulances") else col_label(k, t), k, "num"]
        for k in _ZONE_EXTRA
        if k in cols
    ]
    popup += [[col_label("geometry_source", t), "geometry_source", ""]]
    styles = [
        {"color": "#455a64", "weight": 1.5, "fillColor": "#90a4ae", "fillOpacity": 0.08},
        {"color": "#b71c1c", "weight": 2.5, "fillColor": "#ef9a9a", "fillOpacity": 0.15},
        {
            "color": "#455a64",
            "weight": 1.5,
            "dashArray": "5 4",
            "fillColor": "#90a4ae",
            "fillOpacity": 0.05,
        },
    ]
    return polygon_layer(
        "zones",
        t("lyr_zones"),
        L["zones"]["features"],
        styles,
        _zone_style,
        popup,
        show=True,
        class_name="lyr-zones",
        swatch="#90a4ae",
        label_of=lambda p: str(p.get("name") or p.get("zone_id") or ""),
    )


def _catchment_layers(
    feats: list[dict[str, Any]], std_names: list[str], site_types: list[str], t: Labels
) -> list[LayerSpec]:
    """One catchment layer per standard (the first shown), coloured by facility type."""
    colours = type_colours(site_types)
    popup = [
        [t("site"), "site_id", ""],
        [t("standard"), "standard", ""],
        [t("threshold"), "threshold", "num"],
        [col_label("unit", t), "unit", ""],
        [t("area_km2"), "area_km2", "num"],
        [t("residents_within"), "residents_within", "num"],
        [t("method"), "method", ""],
    ]
    layers = []
    for k, name in enumerate(std_names):
        sub = [f for f in feats if (f.get("properties") or {}).get("standard") == name]
        if not sub:
            continue
        styles = [
            {"color": colours[ty], "weight": 1, "fillColor": colours[ty], "fillOpacity": 0.12}
            for ty in site_types
        ]
        layers.append(
            polygon_layer(
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
    return layers


def _site_popup(t: Labels) -> list[list[str]]:
    """Popup rows of candidate and chosen sites."""
    return [
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


def _candidates_layer(
    cand: list[dict[str, Any]], site_popup: list[list[str]], t: Labels
) -> LayerSpec:
    """Candidate sites not opened (hidden at first), small grey dots."""
    return point_layer(
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


def _demand_popup(L: dict[str, Any], t: Labels) -> tuple[list[list[str]], list[str]]:
    """Popup rows of the demand points, and their ``covered_*`` columns."""
    cols = run_columns(L["demand"])
    popup = [
        [t("lyr_demand"), "demand_id", ""],
        [t("name"), "name", ""],
        [t("zone"), "zone", ""],
        [t("zone_name"), "zone_name", ""],
        [col_label("class", t), "class", ""],
        [t("weight"), "weight", "num"],
    ]
    near = [c for c in cols if c.startswith("nearest_")]
    flags = [c for c in cols if c.startswith("covered_")]
    popup += [[col_label(c, t), c, "flag"] for c in flags]
    popup += [[col_label(k, t), k, "num"] for k in _DEMAND_EXTRA if k in cols]
    popup += [
        [col_label(c, t), c, "num" if c.rsplit("_", 1)[-1] in ("min", "m") else ""] for c in near
    ]
    return popup, flags


def _demand_layers(
    L: dict[str, Any],
    demand: list[dict[str, Any]],
    std_names: list[str],
    pools: dict[str, list[dict[str, Any]]],
    t: Labels,
) -> list[LayerSpec]:
    """Demand points coloured by coverage, one layer per standard (the first shown); the points
    are stored once in ``pools["demand"]`` and each layer only adds its style indices. Above
    :data:`.mapview.CLUSTER_ABOVE` points the layers are clustered (``"cluster": true``)."""
    popup, flags = _demand_popup(L, t)
    stds = [n for n in std_names if f"covered_{n}" in flags] or [""]
    pools["demand"] = point_layer(
        "demand",
        "",
        demand,
        [{}],
        lambda p: 0,
        popup,
        show=False,
        class_name="",
        swatch="",
        radius_of=weight_radius(demand),
    )["features"]
    props = [(f.get("properties") or {}) for f in demand if xy_of(f) is not None]
    layers = []
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
            | ({"cluster": True} if len(props) > CLUSTER_ABOVE else {})
        )
    return layers


def _chosen_layer(
    ty: str,
    sub: list[dict[str, Any]],
    c: str,
    phases: list[str],
    site_popup: list[list[str]],
    t: Labels,
) -> LayerSpec:
    """Chosen sites of one type: new filled, kept hollow; in a roll-out, filled by build year."""
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
    return point_layer(
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
