"""OpenStreetMap road graphs: read a local file or download with osmnx, filtered by network type.

Sources
-------
* a local file: GraphML (``.graphml``, ``.graphml.gz``), OSM XML (``.osm``, ``.osm.bz2``) or
  **OSM PBF** (``.osm.pbf``, read with pyosmium, the OSM Foundation's maintained libosmium
  binding: ways are filtered by network type and handed to ``osmnx.graph_from_xml``);
* an osmnx download (``place``, ``polygon`` file, or ``bbox``) for users who are online, cached
  on disk: the HTTP responses in osmnx's own cache and the built graph as GraphML, keyed by the
  query, written atomically.

Network types: ``drive`` (motor roads including farm tracks and service roads, without parking
aisles, driveways or private roads: Chinese village access roads are often tagged ``track`` or
``service``), ``ebike`` (no expressways; cycleways allowed), ``walk`` (no expressways; footways,
paths and steps; one-way tags ignored), ``all``. Ferries (``route=ferry``) are kept in every type.
The graphs become arrays in :class:`geodata.network.RoadNetwork`.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import logging
import os
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import networkx as nx

__all__ = [
    "NETWORK_TYPES",
    "cache_dir",
    "graph_from_file",
    "graph_from_osmnx",
    "graph_from_pbf",
    "overpass_filters",
    "way_filter",
]

log = logging.getLogger(__name__)

NETWORK_TYPES = ("drive", "ebike", "walk", "all")

_NEVER = {
    "abandoned", "construction", "planned", "proposed", "raceway", "razed", "no", "disused",
    "platform", "elevator", "escalator", "bus_guideway", "rest_area", "services",
}  # fmt: skip
_NOT_DRIVE = {"bridleway", "corridor", "cycleway", "footway", "path", "pedestrian", "steps"}
_NOT_EBIKE = {
    "motorway",
    "motorway_link",
    "bridleway",
    "corridor",
    "footway",
    "pedestrian",
    "steps",
}
_NOT_WALK = {"motorway", "motorway_link", "busway"}
_BAD_SERVICE = {
    "parking",
    "parking_aisle",
    "driveway",
    "private",
    "emergency_access",
    "drive-through",
}


def way_filter(network_type: str) -> Callable[[Mapping[str, str]], bool]:
    """A predicate on OSM way tags selecting the ways of a network type (ferries always kept)."""
    if network_type not in NETWORK_TYPES:
        raise ValueError(
            f"network_type must be one of {', '.join(NETWORK_TYPES)} (got {network_type!r})"
        )

    def keep(tags: Mapping[str, str]) -> bool:
        if tags.get("route") == "ferry":
            return True
        hw = tags.get("highway")
        if hw is None or hw in _NEVER or tags.get("area") == "yes":
            return False
        if tags.get("access") in ("private", "no") and network_type != "all":
            return False
        if network_type == "drive":
            return (
                hw not in _NOT_DRIVE
                and tags.get("motor_vehicle") != "no"
                and tags.get("motorcar") != "no"
                and tags.get("service") not in _BAD_SERVICE
            )
        if network_type == "ebike":
            return (
                hw not in _NOT_EBIKE
                and tags.get("bicycle") != "no"
                and tags.get("service") not in _BAD_SERVICE
            )
        if network_type == "walk":
            return hw not in _NOT_WALK and tags.get("foot") != "no"
        return True

    return keep


def overpass_filters(network_type: str) -> list[str]:
    """The same selection as :func:`way_filter` in Overpass syntax, for osmnx downloads."""
    never = "|".join(sorted(_NEVER))
    base = f'["highway"]["area"!~"yes"]["highway"!~"{never}"]'
    if network_type == "drive":
        f = (
            base
            + f'["highway"!~"{"|".join(sorted(_NOT_DRIVE))}"]["motor_vehicle"!~"no"]["motorcar"!~"no"]'
        )
        f += f'["service"!~"{"|".join(sorted(_BAD_SERVICE))}"]["access"!~"private|no"]'
    elif network_type == "ebike":
        f = base + f'["highway"!~"{"|".join(sorted(_NOT_EBIKE))}"]["bicycle"!~"no"]'
        f += f'["service"!~"{"|".join(sorted(_BAD_SERVICE))}"]["access"!~"private|no"]'
    elif network_type == "walk":
        f = (
            base
            + f'["highway"!~"{"|".join(sorted(_NOT_WALK))}"]["foot"!~"no"]["access"!~"private|no"]'
        )
    else:
        f = base
    return [f, '["route"="ferry"]']


# ---------------------------------------------------------------------------------------------
# Loading graphs
# ---------------------------------------------------------------------------------------------
def cache_dir() -> Path:
    """Folder for cached downloads and matrices: ``$COUNTY_SITING_CACHE`` or ~/.cache/..."""
    env = os.environ.get("COUNTY_SITING_CACHE")
    base = Path(env) if env else Path.home() / ".cache" / "county-health-siting"
    base.mkdir(parents=True, exist_ok=True)
    return base


def graph_from_pbf(path: Path, network_type: str = "drive") -> nx.MultiDiGraph:
    """Read an ``.osm.pbf`` with pyosmium: keep the network type's ways, build with osmnx."""
    import osmium
    import osmnx as ox

    keep = way_filter(network_type)

    class Ways(osmium.SimpleHandler):
        def __init__(self) -> None:
            super().__init__()
            self.nodes: set[int] = set()
            self.ways = 0

        def way(self, w: Any) -> None:
            tags = {t.k: t.v for t in w.tags}
            if keep(tags):
                self.ways += 1
                self.nodes.update(n.ref for n in w.nodes)

    ways = Ways()
    ways.apply_file(str(path), locations=False)
    if ways.ways == 0:
        raise ValueError(f"{path}: no {network_type} ways found in the OSM file")

    with tempfile.TemporaryDirectory(prefix="osm-") as tmp:
        xml = Path(tmp) / "ways.osm"
        writer = osmium.SimpleWriter(str(xml))

        found: set[int] = set()
        trimmed = 0

        class Copy(osmium.SimpleHandler):
            def node(self, n: Any) -> None:
                if n.id in ways.nodes:
                    found.add(n.id)
                    writer.add_node(n)

            def way(self, w: Any) -> None:
                nonlocal trimmed
                if not keep({t.k: t.v for t in w.tags}):
                    return
                refs = [nd.ref for nd in w.nodes]
                present = [r for r in refs if r in found]
                # Extracts clipped at a boundary keep ways whose outer nodes were cut away.
                if len(present) < len(refs):
                    trimmed += 1
                    if len(present) >= 2:
                        writer.add_way(w.replace(nodes=present))
                else:
                    writer.add_way(w)

        Copy().apply_file(str(path), locations=False)
        writer.close()
        if trimmed:
            log.warning(
                "%s: %d ways cross the extract's edge; their missing nodes were dropped",
                path.name,
                trimmed,
            )
        G = ox.graph_from_xml(
            xml, bidirectional=network_type == "walk", simplify=True, retain_all=True
        )
    log.info(
        "Read %s: %s ways -> %s nodes, %s edges (%s)",
        path.name,
        f"{ways.ways:,}",
        f"{len(G):,}",
        f"{G.number_of_edges():,}",
        network_type,
    )
    return G


def graph_from_file(path: Path, network_type: str = "drive") -> nx.MultiDiGraph:
    """GraphML (optionally gzipped), OSM XML or OSM PBF (CSV tables: :meth:`RoadNetwork.from_tables`)."""
    import osmnx as ox

    name = path.name.lower()
    if not path.exists():
        raise FileNotFoundError(path)
    if name.endswith(".graphml.gz"):
        with gzip.open(path, "rt", encoding="utf-8") as fh:
            return ox.load_graphml(graphml_str=fh.read())
    if name.endswith(".graphml"):
        return ox.load_graphml(path)
    if name.endswith(".pbf"):
        return graph_from_pbf(path, network_type)
    if name.endswith((".osm", ".xml", ".osm.bz2", ".xml.bz2")):
        return ox.graph_from_xml(
            path, bidirectional=network_type == "walk", simplify=True, retain_all=True
        )
    raise ValueError(
        f"{path}: unsupported network file (use .graphml[.gz], .osm[.bz2] or .osm.pbf)"
    )


def graph_from_osmnx(
    *,
    place: str | None = None,
    polygon: Any = None,
    bbox: tuple[float, float, float, float] | None = None,
    network_type: str = "drive",
    cache: Path | None = None,
) -> nx.MultiDiGraph:
    """Download with osmnx (needs internet on the first call), cached as GraphML on disk."""
    import osmnx as ox

    cache = cache or cache_dir()
    key_src = json.dumps(
        {
            "place": place,
            "polygon": None if polygon is None else polygon.wkt,
            "bbox": bbox,
            "type": network_type,
            "filters": overpass_filters(network_type),
        },
        sort_keys=True,
    )
    key = hashlib.sha256(key_src.encode()).hexdigest()[:20]
    target = cache / "graphs" / f"{key}.graphml"
    if target.exists():
        log.info("Network from cache: %s", target)
        return ox.load_graphml(target)
    ox.settings.use_cache = True
    ox.settings.cache_folder = str(cache / "osmnx-http")
    ox.settings.log_console = False
    filters = overpass_filters(network_type)
    if place is not None:
        G = ox.graph_from_place(place, custom_filter=filters, simplify=True, retain_all=True)
    elif polygon is not None:
        G = ox.graph_from_polygon(polygon, custom_filter=filters, simplify=True, retain_all=True)
    elif bbox is not None:
        G = ox.graph_from_bbox(bbox, custom_filter=filters, simplify=True, retain_all=True)
    else:
        raise ValueError("give a place, a polygon or a bbox to download a network")
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, suffix=".graphml.tmp")
    os.close(fd)
    try:
        ox.save_graphml(G, tmp)
        os.replace(tmp, target)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return G
