"""``python -m optimizer prepare ...``: build the layers a case needs from raw data.

* ``network SOURCE --out DIR``: a GraphML / OSM / PBF file, or ``--place`` / ``--bbox`` download
  (cached), to the compact node/edge CSV pair a case reads fastest (``roads_nodes.csv.gz``,
  ``roads_edges.csv.gz``).
* ``cells RASTER --out demand.csv [--cell-m 500]``: population raster to demand cells.
* ``spread POINTS --totals TOTALS --zone-col Z --total-col T --out demand.csv``: zone totals
  (e.g. township census populations) spread over villages, marked as an estimate.
* ``candidates NODES EDGES --spacing-m 500 --out sites.csv``: road junctions as candidate sites.
* ``county ADCODE --out DIR``: a whole case (villages, sites, townships, case and quota YAML)
  from a county's real village and township points (:mod:`geodata.county`).
* ``pois PBF --out pois.csv [--kinds school,market,...]`` and ``places PBF --out places.csv``:
  public venues (AED candidates, footfall) and settlements (villages) from an OSM extract.

Every output is written atomically and logged with its size.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import math
import sys
from collections.abc import Iterator
from pathlib import Path

import pandas as pd

from optimizer.atomic import atomic_write, write_csv
from optimizer.errors import CaseError, Problem

from .candidates import POI_KINDS, candidates_from_network, places_from_pbf, pois_from_pbf
from .network import RoadNetwork
from .osm import NETWORK_TYPES, graph_from_file, graph_from_osmnx
from .population import cells_from_raster, spread_totals
from .speeds import profile_for

__all__ = ["add_parser", "run"]

log = logging.getLogger(__name__)


def _positive_metres(text: str) -> float:
    """A length in metres: a finite number > 0 (argparse type)."""
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError(
            f"must be a finite number of metres > 0 (got {text!r}); give e.g. 500"
        )
    return value


def add_parser(sub: argparse._SubParsersAction, parents: list[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "prepare", parents=parents, help="build demand, candidate and network layers"
    )
    what = p.add_subparsers(dest="what", required=True, metavar="WHAT")

    n = what.add_parser("network", parents=parents, help="road network to compact node/edge CSVs")
    n.add_argument("source", nargs="?", type=Path, help="GraphML, .osm or .osm.pbf file")
    n.add_argument("--place", help="osmnx place name to download (online, cached)")
    n.add_argument("--bbox", type=float, nargs=4, metavar=("W", "S", "E", "N"))
    n.add_argument("--type", choices=NETWORK_TYPES, default="drive")
    n.add_argument("--out", type=Path, required=True, help="output folder")

    c = what.add_parser("cells", parents=parents, help="population raster to demand cells")
    c.add_argument("raster", type=Path)
    c.add_argument(
        "--cell-m", type=_positive_metres, help="aggregate pixels into square cells of this size"
    )
    c.add_argument("--out", type=Path, required=True)

    s = what.add_parser("spread", parents=parents, help="spread zone totals over points (estimate)")
    s.add_argument("points", type=Path)
    s.add_argument("--totals", type=Path, required=True)
    s.add_argument("--zone-col", required=True)
    s.add_argument("--total-col", required=True)
    s.add_argument("--weight-col")
    s.add_argument("--source", default="census total", help="what the totals are, for the label")
    s.add_argument("--out", type=Path, required=True)

    k = what.add_parser("candidates", parents=parents, help="road junctions as candidate sites")
    k.add_argument("nodes", type=Path, help="node CSV (osmid, lon, lat)")
    k.add_argument("edges", type=Path, help="edge CSV (u, v, highway, length_m)")
    k.add_argument("--spacing-m", type=_positive_metres, required=True)
    k.add_argument("--classes", help="only junctions of these road classes (comma separated)")
    k.add_argument("--exclude-classes", default="motorway,motorway_link")
    k.add_argument("--prefix", default="N")
    k.add_argument("--out", type=Path, required=True)

    o = what.add_parser("pois", parents=parents, help="public venues and facilities from OSM")
    o.add_argument("pbf", type=Path)
    o.add_argument("--kinds", help=f"comma separated, of: {', '.join(POI_KINDS)}")
    o.add_argument("--out", type=Path, required=True)

    pl = what.add_parser("places", parents=parents, help="settlements (place=*) from OSM")
    pl.add_argument("pbf", type=Path)
    pl.add_argument("--out", type=Path, required=True)

    from .county import SOURCE_DIR

    co = what.add_parser(
        "county", parents=parents, help="a whole case from a county's real villages (by adcode)"
    )
    co.add_argument("adcode", help="NBS 2016 six-digit county code, e.g. 433123 (凤凰县)")
    co.add_argument("--out", type=Path, required=True, help="folder for the tables and cases")
    co.add_argument("--case", type=Path, help="case file to write (default OUT/case.yaml)")
    co.add_argument("--name", help="short name for the results folder (default county-ADCODE)")
    co.add_argument("--population", type=float, help="county resident total (e.g. 七普)")
    co.add_argument("--population-source", help="where the total comes from, for the label")
    co.add_argument("--source", type=Path, default=SOURCE_DIR, help="cn-village-points-adcode")
    co.add_argument("--min-villages", type=int, default=30)
    co.add_argument("--min-share", type=float, default=0.5, help="share of villages located")


def _read(path: Path) -> pd.DataFrame:
    if path.suffix.lower() in (".gpkg", ".geojson", ".shp", ".fgb"):
        import geopandas as gpd

        gdf = gpd.read_file(path)
        if gdf.crs is not None and not gdf.crs.equals("EPSG:4326"):
            gdf = gdf.to_crs("EPSG:4326")
        pts = gdf.geometry.representative_point()
        return pd.DataFrame(gdf.drop(columns="geometry")).assign(lon=pts.x, lat=pts.y)
    return pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")


@contextlib.contextmanager
def _reading(path: Path, what: str) -> Iterator[None]:
    """Whatever a third-party reader raises on a damaged or wrong file becomes a CaseError
    naming the file (a missing file is named before the reader starts)."""
    try:
        found = path.is_file()
    except OSError:
        found = False
    if not found:
        raise CaseError(
            [
                Problem(
                    str(path),
                    f"{what} not found" if not path.is_dir() else f"is a folder, not a {what}",
                    fix="check the path",
                )
            ]
        )
    try:
        yield
    except CaseError:
        raise
    except Exception as exc:  # a damaged file: truncated gzip, corrupt PBF/TIFF, no x/y ...
        text = str(exc) or type(exc).__name__
        if isinstance(exc, KeyError):
            text = f"a required attribute is missing: {exc}"
        raise CaseError(
            [
                Problem(
                    str(path),
                    f"cannot read this {what}: {text}",
                    fix=f"check that it is a complete, valid {what} (download or export it again)",
                )
            ]
        ) from None


def run(args: argparse.Namespace) -> int:
    """Run ``prepare WHAT``; a missing or damaged input is a CaseError naming the file."""
    for name in ("points", "totals", "nodes", "edges"):
        if getattr(args, name, None) is not None:
            with _reading(getattr(args, name), "table"):
                pass
    return _run(args)


def _run(args: argparse.Namespace) -> int:
    if args.what == "network":
        if args.source is not None:
            with _reading(args.source, "network file"):
                G = graph_from_file(args.source, args.type)
        else:
            G = graph_from_osmnx(
                place=args.place,
                bbox=tuple(args.bbox) if args.bbox else None,
                network_type=args.type,
            )
        source = args.source if args.source is not None else Path(args.place or "download")
        try:
            net = RoadNetwork.from_graph(G, "roads")
        except (ValueError, KeyError) as exc:
            raise CaseError(
                [
                    Problem(
                        str(source),
                        f"cannot use this road network: {exc}",
                        fix="check that it holds roads with node coordinates",
                    )
                ]
            ) from None
        nodes, edges = net.edge_tables()
        args.out.mkdir(parents=True, exist_ok=True)
        for name, frame in (("roads_nodes.csv.gz", nodes), ("roads_edges.csv.gz", edges)):
            with atomic_write(args.out / name, "wb") as fh:
                frame.to_csv(fh, index=False, compression={"method": "gzip", "mtime": 0})
        log.info(
            "Wrote %s nodes and %s edges to %s", f"{len(nodes):,}", f"{len(edges):,}", args.out
        )
        return 0
    if args.what == "county":
        from .county import build_county

        written = build_county(
            args.adcode,
            args.out,
            source=args.source,
            case_path=args.case,
            slug=args.name,
            population=args.population,
            population_source=args.population_source,
            min_villages=args.min_villages,
            min_share=args.min_share,
        )
        sys.stdout.write(f"Wrote {', '.join(str(p) for p in written.values())}\n")
        slug = args.name or f"county-{args.adcode}"
        sys.stdout.write(
            f"Run:  python -m optimizer run {written['case']} --out results/{slug}\n"
            f"then: python -m optimizer staff {written['quota']} --out results/{slug}-quota\n"
        )
        return 0
    if args.what == "cells":
        with _reading(args.raster, "raster"):
            out = cells_from_raster(args.raster, cell_m=args.cell_m)
    elif args.what == "spread":
        with _reading(args.points, "table"):
            points = _read(args.points)
        with _reading(args.totals, "table"):
            totals = pd.read_csv(args.totals, encoding="utf-8-sig")
        out = spread_totals(
            points,
            totals,
            zone_col=args.zone_col,
            total_col=args.total_col,
            weight_col=args.weight_col,
            source=args.source,
        )
    elif args.what == "candidates":
        with _reading(args.nodes, "node table"):
            nodes_frame = pd.read_csv(args.nodes)
        with _reading(args.edges, "edge table"):
            edges_frame = pd.read_csv(args.edges)
        net = RoadNetwork.from_tables(nodes_frame, edges_frame, "roads")
        out = candidates_from_network(
            net,
            spacing_m=args.spacing_m,
            profile=profile_for("drive"),
            classes=set(args.classes.split(",")) if args.classes else None,
            exclude_classes=set(args.exclude_classes.split(",")) if args.exclude_classes else None,
            prefix=args.prefix,
        )
    elif args.what == "pois":
        with _reading(args.pbf, "OSM extract"):
            out = pois_from_pbf(args.pbf, args.kinds.split(",") if args.kinds else None)
    else:
        with _reading(args.pbf, "OSM extract"):
            out = places_from_pbf(args.pbf)
    write_csv(args.out, out)
    log.info("Wrote %s rows to %s", f"{len(out):,}", args.out)
    return 0
