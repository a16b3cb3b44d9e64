"""A case's ``mode: estimate`` travel-time tables, each checked by an independent recomputation.

:func:`estimate_case` reads the case's estimate sections, brings the points to WGS-84, maps the
demand points to their setting (urban/rural) and builds each table with
:func:`geodata.estimate.estimate_table`. :func:`check_estimate` then recomputes every value with
pyproj's geodesic on the same sphere (not the haversine code that built it): a mismatch raises
:class:`optimizer.errors.CheckError`.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import numpy as np

from optimizer.errors import CheckError, ProblemCollector

from .arrays import Demand, Sites, TravelTimes
from .estimate import (
    EARTH_RADIUS_M,
    EstimateParams,
    EstimateReport,
    default_params,
    estimate_table,
    setting_of_classes,
)
from .routing import case_points_wgs84
from .sources import CaseFiles, Section, estimate_specs

__all__ = ["check_estimate", "estimate_case"]

log = logging.getLogger(__name__)


def estimate_case(
    travel_times: Mapping[str, Section],
    files: CaseFiles,
    demand: Demand,
    sites: Sites,
    problems: ProblemCollector,
) -> tuple[dict[str, TravelTimes], dict[str, EstimateReport]]:
    """Every ``mode: estimate`` table of the case (``travel_times`` sections), checked, with
    its report."""
    specs = estimate_specs(travel_times)
    if not specs:
        return {}, {}
    dem, sit = case_points_wgs84(files.label, demand, sites, problems)
    if dem is None or sit is None:
        return {}, {}
    tables: dict[str, TravelTimes] = {}
    reports: dict[str, EstimateReport] = {}
    for name, spec in specs.items():
        key = f"{files.label} › travel_times.{name}"
        if spec.setting == "by_class":
            settings, unknown = setting_of_classes(
                demand.demand_class,
                len(demand),
                "rural",
                dict(spec.class_settings) if spec.class_settings else None,
            )
            if unknown:
                problems.add(
                    f"{key}.setting",
                    "demand classes that are neither urban/rural nor an NBS 城乡分类代码",
                    got=", ".join(unknown[:10]),
                    fix="map them with class_settings: {CLASS: urban | rural}, or set setting: urban | rural",
                )
                continue
        else:
            settings = np.full(len(demand), spec.setting, dtype=object)
        params = default_params(
            spec.by,
            circuity=_per_setting(spec.circuity),
            speed_kph=_per_setting(spec.speed_kph),
            offroad_m=spec.offroad_m,
            offroad_kph=spec.offroad_kph,
        )
        tt = estimate_table(name, dem, sit, settings, params, measure=spec.measure)
        check_estimate(tt, dem, sit, settings, params, spec.measure)
        counts = {str(s): int((settings == s).sum()) for s in sorted(set(settings.tolist()))}
        tables[name] = tt
        reports[name] = EstimateReport(name, spec.measure, params, counts, len(tt), checked=True)
        log.info(
            "%s: ESTIMATED %s table (%s), %s pairs, settings %s",
            key,
            spec.measure,
            spec.by,
            f"{len(tt):,}",
            counts,
        )
    return tables, reports


def _per_setting(value: float | Mapping[Any, float] | None) -> float | dict[str, float] | None:
    return {str(k): float(v) for k, v in value.items()} if isinstance(value, Mapping) else value


def check_estimate(
    tt: TravelTimes,
    demand_lonlat: tuple[np.ndarray, np.ndarray],
    site_lonlat: tuple[np.ndarray, np.ndarray],
    settings: np.ndarray,
    params: EstimateParams,
    measure: str,
    rtol: float = 1e-6,
    *,
    full: bool = True,
) -> None:
    """Recompute every pair with pyproj's geodesic on the sphere and compare (CheckError);
    ``full``: the table must hold every pair."""
    from pyproj import Geod

    geod = Geod(a=EARTH_RADIUS_M, b=EARTH_RADIUS_M)
    i, j = tt.demand_index, tt.site_index
    lon1 = np.asarray(demand_lonlat[0], float)[i]
    lat1 = np.asarray(demand_lonlat[1], float)[i]
    lon2 = np.asarray(site_lonlat[0], float)[j]
    lat2 = np.asarray(site_lonlat[1], float)[j]
    _, _, dist = geod.inv(lon1, lat1, lon2, lat2)
    s = settings[i]
    circ = np.vectorize(params.circuity.__getitem__, otypes=[float])(s) if s.size else np.zeros(0)
    metres = np.asarray(dist) * circ + 2.0 * params.offroad_m
    if measure == "time":
        speed = np.vectorize(params.speed_kph.__getitem__, otypes=[float])(s) if s.size else circ
        expect = (
            np.asarray(dist) * circ / (speed * 1000.0)
            + 2.0 * params.offroad_m / (params.offroad_kph * 1000.0)
        ) * 60.0
    else:
        expect = metres
    bad = ~np.isclose(tt.value, expect, rtol=rtol, atol=1e-6)
    if (full and tt.value.size != tt.n_demand * tt.n_sites) or bad.any():
        k = int(np.flatnonzero(bad)[0]) if bad.any() else -1
        raise CheckError(
            [
                f"estimated table {tt.name}: {int(bad.sum())} pairs differ from the independent "
                f"recomputation"
                + (
                    f" (first: demand {i[k]}, site {j[k]}: {tt.value[k]:.6f} vs {expect[k]:.6f})"
                    if k >= 0
                    else ""
                )
            ]
        )
