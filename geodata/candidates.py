"""Candidate sites: thinned road intersections, OSM POIs (public venues for AEDs, health
facilities), OSM places (villages), merged with given candidates and existing facilities."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .network import RoadNetwork
from .speeds import SpeedProfile

__all__ = [
    "POI_KINDS",
    "candidates_from_network",
    "osm_points_from_pbf",
    "places_from_pbf",
    "pois_from_pbf",
]

log = logging.getLogger(__name__)

#: OSM tags of the public venues and facilities the toolkit knows, by kind.
POI_KINDS: dict[str, list[tuple[str, str]]] = {
    "school": [
        ("amenity", "school"),
        ("amenity", "kindergarten"),
        ("amenity", "college"),
        ("amenity", "university"),
    ],
    "market": [("amenity", "marketplace"), ("shop", "supermarket"), ("shop", "mall")],
    "station": [
        ("railway", "station"),
        ("public_transport", "station"),
        ("amenity", "bus_station"),
    ],
    "government": [
        ("amenity", "townhall"),
        ("office", "government"),
        ("amenity", "community_centre"),
    ],
    "health": [
        ("amenity", "hospital"),
        ("amenity", "clinic"),
        ("amenity", "doctors"),
        ("healthcare", "*"),
    ],
    "pharmacy": [("amenity", "pharmacy")],
    "sport": [("leisure", "sports_centre"), ("leisure", "stadium")],
    "aed": [("emergency", "defibrillator")],
    "ambulance_station": [("emergency", "ambulance_station")],
}


def candidates_from_network(
    network: RoadNetwork,
    *,
    spacing_m: float,
    profile: SpeedProfile | None = None,
    classes: set[str] | None = None,
    exclude_classes: set[str] | None = None,
    min_degree: int = 3,
    prefix: str = "N",
) -> pd.DataFrame:
    """Road junctions as candidate sites, at most one per ``spacing_m`` square (the junction
    nearest the square's centre). Only junctions of ``classes`` roads (if given), not touching
    only ``exclude_classes`` roads, and inside the mode's largest strongly connected component
    (if ``profile``) - a station must be reachable and able to leave. Returns
    ``site_id, lon, lat, osmid``."""
    touching = np.zeros(network.n_nodes, dtype=bool)
    ok_edge = np.ones(network.n_edges, dtype=bool)
    if classes is not None:
        ok_edge &= np.isin(network.highway, np.asarray(sorted(classes), dtype=object))
    if exclude_classes is not None:
        ok_edge &= ~np.isin(network.highway, np.asarray(sorted(exclude_classes), dtype=object))
    touching[network.u[ok_edge]] = True
    touching[network.v[ok_edge]] = True
    pairs = np.unique(
        np.c_[np.minimum(network.u, network.v), np.maximum(network.u, network.v)], axis=0
    )
    degree = np.bincount(pairs.ravel(), minlength=network.n_nodes)
    mask = touching & (degree >= min_degree)
    if profile is not None:
        mask &= network.strongly_connected(profile)
    idx = np.flatnonzero(mask)
    x0, y0 = network.x.min(), network.y.min()
    gx = np.floor((network.x[idx] - x0) / spacing_m)
    gy = np.floor((network.y[idx] - y0) / spacing_m)
    d = np.hypot(
        network.x[idx] - (x0 + (gx + 0.5) * spacing_m),
        network.y[idx] - (y0 + (gy + 0.5) * spacing_m),
    )
    frame = pd.DataFrame({"i": idx, "gx": gx, "gy": gy, "d": d}).sort_values(["gx", "gy", "d", "i"])
    chosen = np.sort(frame.drop_duplicates(["gx", "gy"])["i"].to_numpy())
    return pd.DataFrame(
        {
            "site_id": [f"{prefix}-{int(network.node_osmid[i])}" for i in chosen],
            "lon": np.round(network.lon[chosen], 7),
            "lat": np.round(network.lat[chosen], 7),
            "osmid": network.node_osmid[chosen],
        }
    )


def osm_points_from_pbf(path: Path, match: Any) -> pd.DataFrame:
    """OSM nodes and ways (at their centroid) whose tags satisfy ``match(tags) -> kind | None``.

    Returns ``osm_type, osm_id, kind, name, lon, lat`` plus the ``population`` tag when present.
    """
    import osmium

    rows: list[dict[str, Any]] = []

    class Handler(osmium.SimpleHandler):
        def node(self, n: Any) -> None:
            tags = {t.k: t.v for t in n.tags}
            kind = match(tags) if tags else None
            if kind and n.location.valid():
                rows.append(_row("node", n.id, kind, tags, n.location.lon, n.location.lat))

        def way(self, w: Any) -> None:
            tags = {t.k: t.v for t in w.tags}
            kind = match(tags) if tags else None
            if not kind:
                return
            locs = [(nd.location.lon, nd.location.lat) for nd in w.nodes if nd.location.valid()]
            if locs:
                arr = np.asarray(locs)
                rows.append(
                    _row("way", w.id, kind, tags, float(arr[:, 0].mean()), float(arr[:, 1].mean()))
                )

    Handler().apply_file(str(path), locations=True)
    cols = ["osm_type", "osm_id", "kind", "name", "name_zh", "population", "lon", "lat"]
    out = pd.DataFrame(rows, columns=cols)
    return out.sort_values(["kind", "osm_type", "osm_id"]).reset_index(drop=True)


def _row(
    osm_type: str, osm_id: int, kind: str, tags: dict[str, str], lon: float, lat: float
) -> dict[str, Any]:
    pop = tags.get("population")
    try:
        population = float(str(pop).replace(",", "").replace(" ", "")) if pop else np.nan
    except ValueError:
        population = np.nan
    return {
        "osm_type": osm_type,
        "osm_id": osm_id,
        "kind": kind,
        "name": tags.get("name", ""),
        "name_zh": tags.get("name:zh", ""),
        "population": population,
        "lon": round(lon, 7),
        "lat": round(lat, 7),
    }


def pois_from_pbf(path: Path, kinds: list[str] | None = None) -> pd.DataFrame:
    """Public venues and facilities (``POI_KINDS``) from an OSM PBF extract."""
    wanted = {k: POI_KINDS[k] for k in (kinds or list(POI_KINDS))}

    def match(tags: dict[str, str]) -> str | None:
        for kind, pairs in wanted.items():
            for key, value in pairs:
                if key in tags and (value == "*" or tags[key] == value):
                    return kind
        return None

    out = osm_points_from_pbf(path, match)
    log.info("POIs in %s: %s", Path(path).name, out["kind"].value_counts().to_dict())
    return out


def places_from_pbf(
    path: Path,
    kinds: tuple[str, ...] = (
        "city",
        "town",
        "village",
        "hamlet",
        "suburb",
        "neighbourhood",
        "isolated_dwelling",
    ),
) -> pd.DataFrame:
    """Settlements (``place=*`` nodes and areas) with their ``population`` tag when present."""

    def match(tags: dict[str, str]) -> str | None:
        place = tags.get("place")
        return place if place in kinds else None

    return osm_points_from_pbf(path, match)
