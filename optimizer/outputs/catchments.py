"""Catchment layers every family shares: road service areas of open sites, and the sorted layer.

A family's ``catchments`` layer (coverage: per standard and threshold; 120: per demand class)
asks :func:`road_service_areas` for the polygons of its open sites on the road network a
travel-time table was routed on (method in :func:`geodata.catchments.network_service_areas`),
builds its rows, and hands them to :func:`catchment_layer`.
"""

from __future__ import annotations

import logging
import time
from typing import Any

import numpy as np
import pandas as pd
import shapely

from geodata.catchments import EdgeShapes, network_service_areas

from .layers import Layer

__all__ = ["catchment_layer", "road_service_areas"]

log = logging.getLogger(__name__)


def road_service_areas(
    rep: Any,
    positions: np.ndarray,
    values: list[float],
    buffer_m: float,
    shapes: dict[str, EdgeShapes],
) -> dict[tuple[int, float], shapely.Geometry]:
    """Service area (WGS-84) of each site in ``positions`` within each value (minutes or
    metres, the table's measure) on the road network the table of ``rep`` (a
    :class:`geodata.routing.RoutingReport`) was routed on, same speeds, direction and snaps;
    ``shapes`` caches each network's edge lines across calls."""
    net = rep.road_network
    if net.name not in shapes:
        shapes[net.name] = EdgeShapes.of(net)
    return network_service_areas(
        net,
        rep.profile,
        rep.sites_snap,
        positions,
        values,
        measure=rep.measure,
        direction=rep.direction,
        buffer_m=buffer_m,
        shapes=shapes[net.name],
    )


def catchment_layer(
    rows: list[dict[str, Any]],
    geoms: list[shapely.Geometry],
    columns: list[str],
    sort_by: list[str],
    note: str,
    t0: float,
) -> Layer:
    """The ``catchments`` layer of ``rows`` (one polygon each, in ``geoms``) with ``columns``,
    sorted by ``sort_by`` so that reruns write the same file; ``t0`` starts the logged time."""
    frame = pd.DataFrame(rows, columns=columns)
    order = (
        frame.sort_values(sort_by, kind="stable").index.to_numpy()
        if len(frame)
        else np.zeros(0, dtype=np.int64)
    )
    log.info("Catchments: %d polygons in %.2f s", len(frame), time.perf_counter() - t0)
    return Layer(
        "catchments",
        frame.iloc[order].reset_index(drop=True),
        np.asarray(geoms, dtype=object)[order] if geoms else np.zeros(0, dtype=object),
        "MultiPolygon",
        note,
    )
