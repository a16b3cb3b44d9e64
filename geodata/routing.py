"""Case-level routing: from a case's network sections to travel-time tables, with clear errors.

For each network travel-time table of a case: load (once) the named network, bring demand and
site coordinates to WGS-84 (converting GCJ-02 / BD-09 when declared), snap them to the mode's
largest strongly connected component, report points outside the network or too far from a road
by id, and run the bounded multi-source Dijkstra.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from optimizer.errors import ProblemCollector

from .arrays import Demand, Sites, TravelTimes
from .crs import is_china_offset_crs, normalise_crs, to_wgs84
from .estimate import EstimateReport
from .matrix import network_travel_times
from .network import RoadNetwork
from .osm import cache_dir, graph_from_file, graph_from_osmnx
from .progress import Heartbeat
from .snap import Snapped, snap_points
from .sources import CaseFiles, Section, network_specs
from .speeds import SpeedProfile, profile_for

__all__ = ["RoutingReport", "case_points_wgs84", "load_network", "route_case", "wgs84_points"]

log = logging.getLogger(__name__)


@dataclass
class RoutingReport:
    """What routing did for one table: for solution.json and the GIS layers."""

    name: str
    network: str
    mode: str
    measure: str
    direction: str
    cutoff: float | None
    pairs: int
    demand_snap: Snapped
    sites_snap: Snapped
    seconds: float
    unreachable_demand: list[str] = field(default_factory=list)
    road_network: RoadNetwork | None = field(default=None, repr=False)
    """The network the table was computed on (kept for catchment layers)."""
    profile: SpeedProfile | None = field(default=None, repr=False)
    unused: tuple[int, int] = (0, 0)
    """Demand points and sites no standard reads from this table (not snapped, not routed)."""
    estimate: EstimateReport | None = None
    """``far_points: estimate``: how the pairs of points beyond the roads were estimated."""

    def to_dict(self) -> dict[str, Any]:
        def stats(s: Snapped, unused: int) -> dict[str, float | int]:
            d = s.distance_m[s.ok]
            return {
                "snapped": int(s.ok.sum()),
                "not_snapped": int((~s.ok).sum()) - unused,
                "not_used": unused,
                "max_snap_m": round(float(d.max()), 1) if d.size else 0.0,
                "mean_snap_m": round(float(d.mean()), 1) if d.size else 0.0,
            }

        return {
            "network": self.network,
            "mode": self.mode,
            "measure": self.measure,
            "direction": self.direction,
            "cutoff": self.cutoff,
            "pairs": self.pairs,
            "seconds": round(self.seconds, 3),
            "demand": stats(self.demand_snap, self.unused[0]),
            "sites": stats(self.sites_snap, self.unused[1]),
            "unreachable_demand": self.unreachable_demand[:100],
            **(
                {"estimated": self.estimate.to_dict(), "note": self.estimate.note()}
                if self.estimate is not None
                else {}
            ),
        }


def load_network(
    name: str,
    cfg: Section,
    files: CaseFiles,
    problems: ProblemCollector,
    graphs: dict[str, Any] | None = None,
) -> RoadNetwork | None:
    """Load one network of the case; ``graphs`` receives the graph as read (osmnx sources), for
    the independent router to convert on its own without reading the file twice."""
    key = f"{files.label} › networks.{name}"
    try:
        if cfg.file is not None:
            path = files.resolve(cfg.file)
            if not path.exists():
                problems.add(
                    f"{key}.file",
                    "file not found",
                    got=cfg.file,
                    fix=f"check the path (looked for {path})",
                )
                return None
            if cfg.file.lower().endswith((".csv", ".csv.gz")):
                import pandas as pd

                assert cfg.nodes_file is not None
                npath = files.resolve(cfg.nodes_file)
                if not npath.exists():
                    problems.add(
                        f"{key}.nodes_file",
                        "file not found",
                        got=cfg.nodes_file,
                        fix=f"check the path (looked for {npath})",
                    )
                    return None
                return RoadNetwork.from_tables(pd.read_csv(npath), pd.read_csv(path), name)
            G = graph_from_file(path, cfg.network_type)
            if graphs is not None:
                graphs[name] = G
            return RoadNetwork.from_graph(G, name)
        polygon = None
        if cfg.polygon is not None:
            import geopandas as gpd

            gdf = gpd.read_file(
                files.resolve(cfg.polygon), layer=cfg.polygon_layer, where=cfg.polygon_where
            )
            if len(gdf) == 0:
                problems.add(
                    f"{key}.polygon_where",
                    "no polygon matches the filter",
                    got=cfg.polygon_where,
                    fix="check the column name and value",
                )
                return None
            if gdf.crs is None:
                problems.add(
                    f"{key}.polygon",
                    "the polygon file has no CRS",
                    got=cfg.polygon,
                    fix="save it with a CRS (WGS-84 recommended)",
                )
                return None
            from .crs import utm_crs_for

            c = gdf.to_crs("EPSG:4326").union_all().centroid
            utm = utm_crs_for(np.array([c.x]), np.array([c.y]))
            polygon = gdf.to_crs(utm).buffer(cfg.buffer_m).to_crs("EPSG:4326").union_all()
        G = graph_from_osmnx(
            place=cfg.place, polygon=polygon, bbox=cfg.bbox, network_type=cfg.network_type
        )
        if graphs is not None:
            graphs[name] = G
        return RoadNetwork.from_graph(G, name)
    except (ValueError, FileNotFoundError) as exc:
        problems.add(key, str(exc), fix="check the network source")
    except KeyError as exc:  # a GraphML whose nodes or edges lack an attribute osmnx needs
        problems.add(
            key,
            f"could not load the network: its nodes or edges lack the attribute {exc}",
            got=cfg.file,
            fix="give a GraphML with node coordinates x (lon), y (lat) and edge lengths, as "
            "osmnx or `python -m optimizer prepare network` write it",
        )
    except Exception as exc:  # network download or reader failures
        problems.add(
            key,
            f"could not load the network: {exc}",
            got=cfg.file,
            fix="check the file (a truncated download?), or your internet connection for downloads",
        )
    return None


def case_points_wgs84(
    label: str, demand: Demand, sites: Sites, problems: ProblemCollector
) -> tuple[tuple[np.ndarray, np.ndarray] | None, tuple[np.ndarray, np.ndarray] | None]:
    """Longitude/latitude of a case's demand points and sites (each None where it cannot be had;
    the reason is in ``problems``): what every travel-time table of the case starts from."""
    dem = wgs84_points(
        demand.x, demand.y, demand.crs, where=f"{label} › demand", ids=demand.ids, problems=problems
    )
    sit = wgs84_points(
        sites.x, sites.y, sites.crs, where=f"{label} › sites", ids=sites.ids, problems=problems
    )
    return dem, sit


def wgs84_points(
    x: np.ndarray | None,
    y: np.ndarray | None,
    crs: str | None,
    *,
    where: str,
    ids: np.ndarray,
    problems: ProblemCollector,
) -> tuple[np.ndarray, np.ndarray] | None:
    """Longitude/latitude of points, converting from the declared CRS (incl. GCJ-02, BD-09)."""
    if x is None or y is None:
        problems.add(
            f"{where}.columns",
            "points have no coordinates",
            fix="set columns x and y, or use a GIS file with point geometry",
        )
        return None
    if crs is None:
        problems.add(
            f"{where}.crs",
            "coordinates have no CRS",
            fix="declare it, e.g. crs: EPSG:4326 (OSM, GPS), GCJ-02 (高德/腾讯) or BD-09 (百度)",
        )
        return None
    try:
        c = normalise_crs(crs)
    except Exception:
        problems.add(
            f"{where}.crs", "unknown CRS", got=crs, fix="use e.g. EPSG:4326, EPSG:4547 or GCJ-02"
        )
        return None
    if c in ("EPSG:4326", "GCJ-02", "BD-09") or is_china_offset_crs(c):
        bad = np.flatnonzero(
            ~np.isfinite(x) | ~np.isfinite(y) | (np.abs(x) > 180) | (np.abs(y) > 90)
        )
        if bad.size:
            problems.add(
                f"{where}: {bad.size} points",
                f"coordinates are not longitude/latitude although crs is {c}",
                got=", ".join(f"{ids[k]}=({x[k]:g}, {y[k]:g})" for k in bad[:5]),
                fix="fix the crs (projected coordinates need e.g. EPSG:4547) or swap x and y",
            )
            return None
    lon, lat = to_wgs84(np.asarray(x, float), np.asarray(y, float), c)
    if c in ("GCJ-02", "BD-09"):
        log.info("%s: converted %s points from %s to WGS-84", where, f"{lon.size:,}", c)
    return np.asarray(lon), np.asarray(lat)


def _usable_roads(
    net: RoadNetwork,
    profile: Any,
    spec: Any,
    usable: np.ndarray,
    key: str,
    problems: ProblemCollector,
) -> bool:
    """Road classes in ``speeds_kph`` must exist (in the network or as OSM classes), and the
    mode must be able to use some road; otherwise every point would be "too far from a road"."""
    classes = sorted(set(map(str, net.highway)))
    known = set(classes).union(*(profile_for(m).speeds_kph for m in ("drive", "ebike", "walk")))
    for cls in spec.speeds_kph or {}:
        if cls not in known:
            problems.add(
                f"{key}.speeds_kph.{cls}",
                f"no road of this class in network '{spec.network}', and not an OSM highway class",
                got=cls,
                fix=f"use the network's classes: {', '.join(classes[:20])}"
                + (" ..." if len(classes) > 20 else "")
                + " (e.g. 高速 is motorway, 国道 trunk or primary, 县道 secondary or tertiary)",
            )
    if usable.any():
        return True
    problems.add(
        key,
        f"mode '{spec.mode}' can use no road of network '{spec.network}' (every class has speed 0 "
        "or is excluded)",
        got=dict(spec.speeds_kph or {}),
        fix="give speeds > 0 in speeds_kph for the roads this mode uses",
    )
    return False


def _describe(ids: np.ndarray, mask: np.ndarray, dist: np.ndarray | None = None) -> str:
    pos = np.flatnonzero(mask)
    if dist is not None:
        items = [f"{ids[k]} ({dist[k]:,.0f} m)" for k in pos[:10]]
    else:
        items = [str(ids[k]) for k in pos[:10]]
    return ", ".join(items) + (f" and {pos.size - 10:,} more" if pos.size > 10 else "")


def route_case(
    travel_times: Mapping[str, Section],
    network_sections: Mapping[str, Section],
    files: CaseFiles,
    demand: Demand,
    sites: Sites,
    cutoffs: dict[str, float | None],
    problems: ProblemCollector,
    used: dict[str, tuple[np.ndarray, np.ndarray]] | None = None,
    graphs: dict[str, Any] | None = None,
) -> tuple[dict[str, TravelTimes], dict[str, RoutingReport]]:
    """Compute every network travel-time table of the case (cutoffs resolved by the caller).

    ``travel_times`` and ``network_sections`` are the case's ``travel_times:`` and
    ``networks:`` sections (only the tables naming a ``network`` are routed here). ``used``
    gives, per table, the demand points and sites that some standard reads from it; the others
    are neither snapped nor routed, so a venue far from any road does not stop a drive table
    that only clinics' residents use. Missing: every point is used. ``graphs`` receives each
    network's graph as read from its source (see :func:`load_network`)."""
    specs = network_specs(travel_times)
    if not specs:
        return {}, {}
    dem_ll, site_ll = case_points_wgs84(files.label, demand, sites, problems)
    networks: dict[str, RoadNetwork | None] = {}
    tables: dict[str, TravelTimes] = {}
    reports: dict[str, RoutingReport] = {}
    for name, spec in specs.items():
        if spec.network not in network_sections:
            continue  # reported by the schema checks
        if spec.network not in networks:
            with Heartbeat(f"Reading network {spec.network}"):
                networks[spec.network] = load_network(
                    spec.network, network_sections[spec.network], files, problems, graphs
                )
        net = networks[spec.network]
        if net is None or dem_ll is None or site_ll is None:
            continue
        in_use = (used or {}).get(
            name, (np.ones(len(demand), dtype=bool), np.ones(len(sites), dtype=bool))
        )
        key = f"{files.label} › travel_times.{name}"
        points = (demand, sites)
        routed = _route_table(
            name, spec, net, points, (dem_ll, site_ll), in_use, cutoffs.get(name), key, problems
        )
        if routed is not None:
            tables[name], reports[name] = routed
    return tables, reports


def _route_table(
    name: str,
    spec: Section,
    net: RoadNetwork,
    points: tuple[Demand, Sites],
    lonlat: tuple[Any, Any],
    in_use: tuple[np.ndarray, np.ndarray],
    cutoff: float | None,
    key: str,
    problems: ProblemCollector,
) -> tuple[TravelTimes, RoutingReport] | None:
    """One network table: snap the points in use, run the bounded Dijkstra, estimate the pairs
    beyond the roads (``far_points: estimate``); None when a problem stops it."""
    import time

    demand, sites = points
    dem_ll, site_ll = lonlat
    d_used, s_used = in_use
    t0 = time.perf_counter()
    profile = profile_for(
        spec.mode,
        spec.speeds_kph,
        maxspeed_factor=spec.maxspeed_factor,
        access_kph=spec.access_kph,
        ferry_kph=spec.ferry_kph,
        ferry_boarding_min=spec.ferry_boarding_min,
    )
    usable = net.usable_edges(profile, components=spec.components) & ~np.isin(
        net.highway, np.asarray(spec.snap_exclude, dtype=object)
    )
    if not _usable_roads(net, profile, spec, usable, key, problems):
        return None
    snaps = []
    beyond = []
    for side, ll, ids, used_side in (
        ("demand", dem_ll, demand.ids, d_used),
        ("sites", site_ll, sites.ids, s_used),
    ):
        snapped, far = _snap_side(net, spec, usable, (side, ll, ids, used_side), key, problems)
        snaps.append(snapped)
        beyond.append(far)
    if problems:
        return None
    d_snap, s_snap = snaps
    tt = network_travel_times(
        net,
        profile,
        d_snap,
        s_snap,
        name=name,
        direction=spec.direction,
        cutoff_min=cutoff,
        k_nearest=spec.k_nearest,
        workers=spec.workers,
        cache=(cache_dir() / "matrices") if spec.cache else None,
        measure=spec.measure,
    )
    estimate = None
    if spec.far_points == "estimate" and (beyond[0].any() or beyond[1].any()):
        tt, estimate = estimate_beyond(
            tt, spec.mode, spec.measure, demand, dem_ll, site_ll, beyond, in_use, cutoff
        )
    reached = ~d_used
    reached[tt.demand_index] = True
    report = RoutingReport(
        name,
        spec.network,
        spec.mode,
        spec.measure,
        spec.direction,
        cutoff,
        len(tt),
        d_snap,
        s_snap,
        time.perf_counter() - t0,
        sorted(map(str, demand.ids[~reached])),
        net,
        profile,
        (int((~d_used).sum()), int((~s_used).sum())),
        estimate,
    )
    return tt, report


def _snap_side(
    net: RoadNetwork,
    spec: Section,
    usable: np.ndarray,
    side_points: tuple[str, Any, np.ndarray, np.ndarray],
    key: str,
    problems: ProblemCollector,
) -> tuple[Snapped, np.ndarray]:
    """Snap one side's points (demand or sites) in use to the usable roads; report those outside
    the network or beyond ``max_snap_m`` as ``far_points`` says. Returns the snap of the points
    kept and the mask of points beyond the roads."""
    side, ll, ids, in_use = side_points
    fill = spec.far_points == "estimate"
    s = snap_points(net, ll[0], ll[1], usable_edges=usable, max_snap_m=spec.max_snap_m)
    s = replace(s, far=s.far & in_use, outside=s.outside & in_use)
    beyond = s.far | s.outside
    if fill and beyond.any():
        log.warning(
            "%s: %d %s points beyond the roads get ESTIMATED travel times",
            key,
            int(beyond.sum()),
            side,
        )
    elif s.outside.any():
        problems.add(
            f"{key}: {side}",
            f"{int(s.outside.sum()):,} points lie outside the network's extent: {_describe(ids, s.outside)}",
            fix="check their coordinates and CRS, or use a network that covers them",
        )
    if s.far.any() and spec.far_points == "error":
        problems.add(
            f"{key}: {side}",
            f"{int(s.far.sum()):,} points are farther than max_snap_m={spec.max_snap_m:g} m from any "
            f"reachable road: {_describe(ids, s.far, s.distance_m)}",
            fix="fix their coordinates, raise max_snap_m, or set far_points: unreachable",
        )
    if s.far.any() and spec.far_points == "unreachable":
        log.warning(
            "%s: %d %s points too far from a road are treated as unreachable",
            key,
            int(s.far.sum()),
            side,
        )
    return s.without(~s.ok | ~in_use), beyond


def estimate_beyond(
    tt: TravelTimes,
    mode: str,
    measure: str,
    demand: Demand,
    dem_ll: tuple[np.ndarray, np.ndarray],
    site_ll: tuple[np.ndarray, np.ndarray],
    beyond: list[np.ndarray],
    used: tuple[np.ndarray, np.ndarray],
    cutoff: float | None,
) -> tuple[TravelTimes, EstimateReport]:
    """Add the calibrated straight-line estimate for every pair with an end beyond the roads
    (demand far x used sites; used near demand x far sites), each block checked independently;
    values beyond the table's cutoff are left out like the routed ones."""
    from .estimate import default_params, estimate_table, setting_of_classes
    from .estimate_case import check_estimate

    settings, _ = setting_of_classes(demand.demand_class, len(demand), "rural")
    params = default_params(mode)
    d_far, s_far = beyond
    d_used, s_used = used
    parts_i, parts_j, parts_v = [tt.demand_index], [tt.site_index], [tt.value]
    blocks = [
        (np.flatnonzero(d_far & d_used), np.flatnonzero(s_used)),
        (np.flatnonzero(d_used & ~d_far), np.flatnonzero(s_far & s_used)),
    ]
    pairs = 0
    for rows, cols in blocks:
        if rows.size == 0 or cols.size == 0:
            continue
        d = (dem_ll[0][rows], dem_ll[1][rows])
        s = (site_ll[0][cols], site_ll[1][cols])
        block = estimate_table(tt.name, d, s, settings[rows], params, measure=measure)
        check_estimate(block, d, s, settings[rows], params, measure)
        keep = np.ones(len(block), dtype=bool) if cutoff is None else block.value <= cutoff
        parts_i.append(rows[block.demand_index[keep]])
        parts_j.append(cols[block.site_index[keep]])
        parts_v.append(block.value[keep])
        pairs += int(keep.sum())
    out = TravelTimes(
        tt.name,
        np.concatenate(parts_i),
        np.concatenate(parts_j),
        np.concatenate(parts_v),
        tt.n_demand,
        tt.n_sites,
        tt.unit,
        tt.complete_within,
    )
    far_settings = settings[d_far & d_used]
    counts = {str(k): int((far_settings == k).sum()) for k in sorted(set(far_settings.tolist()))}
    scope = (
        f"{int((d_far & d_used).sum())} demand points and {int((s_far & s_used).sum())} sites "
        f"beyond the roads ({pairs:,} pairs)"
    )
    report = EstimateReport(tt.name, measure, params, counts or {"rural": 0}, pairs, True, scope)
    return out, report
