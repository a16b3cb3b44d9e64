"""Estimated travel times where no road network is available (``mode: estimate``).

Rural road coverage of OpenStreetMap in China is patchy; a county planner often has village
positions but no road network. The estimate is the classical detour-index model (circuity
factor; Ballou, Rahardja & Sakai 2002, *Transportation Research A* 36: 843-848; Boscoe, Henry &
Zdeb 2012, *Professional Geographer* 64: 188-196)::

    minutes = 60 · (d_gc · c / v  +  2 · offroad_m / v_offroad) / 1000
    metres  = d_gc · c + 2 · offroad_m

with ``d_gc`` the great-circle distance in metres (haversine on the mean Earth radius
6,371,008.8 m), ``c`` the circuity (road distance / straight-line distance) and ``v`` the
effective travel speed in km/h of the mode, both per setting (``urban`` or ``rural``; a demand
point's NBS 城乡分类代码 1xx is urban, 2xx rural), and an optional off-road leg at each end
(from a village centre to the nearest road) at ``v_offroad``. Defaults come from
``geodata/data/estimate_calibration.csv``, measured on the real road networks of Andorra
(mountain valleys: ``rural``) and central Chengdu (``urban``) by
``benchmarks/estimate_calibration.py``; the same table gives the error band every output of an
estimated table quotes.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np

from .arrays import TravelTimes

__all__ = [
    "EARTH_RADIUS_M",
    "EstimateParams",
    "calibration_rows",
    "default_params",
    "error_band",
    "estimate_table",
    "great_circle_m",
    "setting_of_classes",
]

EARTH_RADIUS_M = 6_371_008.8  # IUGG mean radius
CALIBRATION_CSV = Path(__file__).resolve().parent / "data" / "estimate_calibration.csv"
SETTINGS = ("urban", "rural")
MODES = ("drive", "ebike", "walk")


def great_circle_m(
    lon1: np.ndarray, lat1: np.ndarray, lon2: np.ndarray, lat2: np.ndarray
) -> np.ndarray:
    """Haversine great-circle distance in metres between WGS-84 degrees (broadcasting)."""
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dp = p2 - p1
    dl = np.radians(lon2) - np.radians(lon1)
    h = np.sin(dp / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * np.arcsin(np.sqrt(np.clip(h, 0.0, 1.0)))


@cache
def calibration_rows() -> tuple[dict[str, str], ...]:
    """The committed calibration table (one dict per row, values as text)."""
    with open(CALIBRATION_CSV, encoding="utf-8") as fh:
        return tuple(csv.DictReader(fh))


def _pooled(setting: str, mode: str) -> dict[str, str]:
    for r in calibration_rows():
        if r["setting"] == setting and r["mode"] == mode and r["band_km"] == "all":
            return r
    raise KeyError(f"no calibration row for setting {setting!r}, mode {mode!r}")


def error_band(setting: str, mode: str) -> dict[str, Any]:
    """The measured error of the default estimate for one setting and mode (pooled over the
    mode's distance range): relative error percentiles of estimate / network time - 1."""
    r = _pooled(setting, mode)
    return {
        "setting": setting,
        "mode": mode,
        "calibrated_on": r["network"],
        "range_km": r["range_km"],
        "pairs": int(r["pairs"]),
        "error_p10_pct": float(r["err_p10_pct"]),
        "error_median_pct": float(r["err_median_pct"]),
        "error_p90_pct": float(r["err_p90_pct"]),
        "abs_error_median_pct": float(r["abs_err_median_pct"]),
        "abs_error_median_min": float(r["abs_err_median_min"]),
        "distance_error_p10_pct": float(r["dist_err_p10_pct"]),
        "distance_error_p90_pct": float(r["dist_err_p90_pct"]),
    }


@dataclass(frozen=True)
class EstimateParams:
    """Circuity and effective speed (km/h) per setting for one travel mode, plus the off-road
    leg (metres at each end, at ``offroad_kph``)."""

    mode: str
    circuity: dict[str, float]
    speed_kph: dict[str, float]
    offroad_m: float = 0.0
    offroad_kph: float = 4.5

    def to_dict(self) -> dict[str, Any]:
        return {
            "mode": self.mode,
            "circuity": dict(self.circuity),
            "speed_kph": dict(self.speed_kph),
            "offroad_m": self.offroad_m,
            "offroad_kph": self.offroad_kph,
        }


def default_params(
    mode: str,
    *,
    circuity: float | dict[str, float] | None = None,
    speed_kph: float | dict[str, float] | None = None,
    offroad_m: float = 0.0,
    offroad_kph: float = 4.5,
) -> EstimateParams:
    """Calibrated defaults for ``mode``, with a case's overrides (one number = every setting)."""
    circ = {s: float(_pooled(s, mode)["circuity"]) for s in SETTINGS}
    speed = {s: float(_pooled(s, mode)["speed_kph"]) for s in SETTINGS}
    for given, target in ((circuity, circ), (speed_kph, speed)):
        if isinstance(given, dict):
            target.update({k: float(v) for k, v in given.items()})
        elif given is not None:
            target.update(dict.fromkeys(SETTINGS, float(given)))
    return EstimateParams(mode, circ, speed, float(offroad_m), float(offroad_kph))


def setting_of_classes(
    classes: np.ndarray | None, n: int, default: str, mapping: dict[str, str] | None = None
) -> tuple[np.ndarray, list[str]]:
    """Setting (urban/rural) of each demand point from its class.

    A class maps through ``mapping`` when given, else ``urban``/``rural`` as such, else an NBS
    城乡分类代码 (1xx urban, 2xx rural). Points without a class get ``default``. Returns the
    settings and the classes that could not be mapped (the caller reports them)."""
    if classes is None:
        return np.full(n, default, dtype=object), []
    out = np.empty(n, dtype=object)
    unknown: set[str] = set()
    for k, c in enumerate(map(str, classes)):
        c = c.strip()
        if mapping is not None and c in mapping:
            out[k] = mapping[c]
        elif c in SETTINGS:
            out[k] = c
        elif len(c) == 3 and c.isdigit() and c[0] in "12":
            out[k] = "urban" if c[0] == "1" else "rural"
        elif c in ("", "nan", "None"):
            out[k] = default
        else:
            unknown.add(c)
            out[k] = default
    return out, sorted(unknown)


def estimate_table(
    name: str,
    demand_lonlat: tuple[np.ndarray, np.ndarray],
    site_lonlat: tuple[np.ndarray, np.ndarray],
    settings: np.ndarray,
    params: EstimateParams,
    *,
    measure: str = "time",
) -> TravelTimes:
    """The full demand x site table (minutes, or metres for ``measure="distance"``)."""
    dx, dy = (np.asarray(a, dtype=float)[:, None] for a in demand_lonlat)
    sx, sy = (np.asarray(a, dtype=float)[None, :] for a in site_lonlat)
    d = great_circle_m(dx, dy, sx, sy)
    circ = np.array([params.circuity[s] for s in settings], dtype=float)[:, None]
    road_m = d * circ
    off = 2.0 * params.offroad_m
    if measure == "distance":
        value = road_m + off
    else:
        speed = np.array([params.speed_kph[s] for s in settings], dtype=float)[:, None]
        value = 0.06 * road_m / speed + 0.06 * off / params.offroad_kph
    return TravelTimes.from_dense(value, name=name, unit="m" if measure == "distance" else "min")


@dataclass
class EstimateReport:
    """How an estimated table was made, with its measured error band: for solution.json, the
    summary, the report and the layers."""

    name: str
    measure: str
    params: EstimateParams
    settings: dict[str, int]
    """Demand points per setting (urban / rural)."""
    pairs: int
    checked: bool = False
    scope: str = ""
    """Empty: the whole table is estimated; else which points (roads elsewhere)."""

    @property
    def error_bands(self) -> list[dict[str, Any]]:
        return [error_band(s, self.params.mode) for s in sorted(self.settings)]

    def note(self) -> str:
        key = "error" if self.measure == "time" else "distance_error"
        bands = "; ".join(
            f"{b['setting']} {b[key + '_p10_pct']:+.0f}% to {b[key + '_p90_pct']:+.0f}% "
            f"(P10-P90, on {b['calibrated_on']})"
            for b in self.error_bands
        )
        how = "circuity / speed" if self.measure == "time" else "circuity"
        where = f"ESTIMATE for {self.scope}" if self.scope else "ESTIMATE, no road network"
        return (
            f"{where}: straight-line distance x {how} "
            f"({self.params.mode}); measured {self.measure} error against real roads: {bands}"
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": "estimate",
            "network": "estimate (no road network)",
            "mode": self.params.mode,
            "measure": self.measure,
            "direction": "symmetric",
            "method": "great-circle distance x circuity / speed + off-road leg (detour index)",
            "params": self.params.to_dict(),
            "settings": dict(sorted(self.settings.items())),
            "scope": self.scope or "every pair",
            "error_band": self.error_bands,
            "calibration": "geodata/data/estimate_calibration.csv (benchmarks/estimate_calibration.py)",
            "checked_independently": self.checked,
            "note": self.note(),
        }
