"""Coordinate systems: automatic UTM choice, transforms, and China's GCJ-02 / BD-09 offsets.

Chinese map providers (高德/Amap, 腾讯, 百度) publish coordinates in GCJ-02 (BD-09 for Baidu), an
obfuscated datum offset by roughly 300-700 m from WGS-84. OpenStreetMap is WGS-84. A case that
declares ``crs: GCJ-02`` (or ``BD-09``) has its points converted to WGS-84 before they meet an
OSM road network; outputs can be written back in the input CRS.

The GCJ-02 forward transform is the widely published one; the inverse is solved by fixed-point
iteration to < 1e-9 degrees (sub-millimetre).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np
from pyproj import CRS, Transformer

if TYPE_CHECKING:
    from optimizer.errors import ProblemCollector

__all__ = [
    "bd09_to_gcj02",
    "check_crs",
    "gcj02_to_bd09",
    "gcj02_to_wgs84",
    "is_china_offset_crs",
    "normalise_crs",
    "to_wgs84",
    "transformer",
    "utm_crs_for",
    "wgs84_to_gcj02",
]

_A = 6378245.0
_EE = 0.00669342162296594323
_GCJ = {"GCJ-02", "GCJ02", "GCJ_02", "MARS"}
_BD = {"BD-09", "BD09", "BD_09", "BAIDU"}


def is_china_offset_crs(crs: str | None) -> bool:
    return crs is not None and crs.strip().upper() in (_GCJ | _BD)


def normalise_crs(crs: str) -> str:
    """Canonical text for a CRS: 'GCJ-02', 'BD-09', or an authority code like 'EPSG:4326'."""
    up = crs.strip().upper()
    if up in _GCJ:
        return "GCJ-02"
    if up in _BD:
        return "BD-09"
    c = CRS.from_user_input(crs)
    auth = c.to_authority()
    return f"{auth[0]}:{auth[1]}" if auth else c.to_string()


def _out_of_china(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    return (lon < 72.004) | (lon > 137.8347) | (lat < 0.8293) | (lat > 55.8271)


def _delta(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    x, y = lon - 105.0, lat - 35.0
    dlat = (
        -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * np.sqrt(np.abs(x))
        + (20.0 * np.sin(6.0 * x * math.pi) + 20.0 * np.sin(2.0 * x * math.pi)) * 2.0 / 3.0
        + (20.0 * np.sin(y * math.pi) + 40.0 * np.sin(y / 3.0 * math.pi)) * 2.0 / 3.0
        + (160.0 * np.sin(y / 12.0 * math.pi) + 320 * np.sin(y * math.pi / 30.0)) * 2.0 / 3.0
    )  # fmt: skip
    dlon = (
        300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * np.sqrt(np.abs(x))
        + (20.0 * np.sin(6.0 * x * math.pi) + 20.0 * np.sin(2.0 * x * math.pi)) * 2.0 / 3.0
        + (20.0 * np.sin(x * math.pi) + 40.0 * np.sin(x / 3.0 * math.pi)) * 2.0 / 3.0
        + (150.0 * np.sin(x / 12.0 * math.pi) + 300.0 * np.sin(x / 30.0 * math.pi)) * 2.0 / 3.0
    )  # fmt: skip
    radlat = lat / 180.0 * math.pi
    magic = 1 - _EE * np.sin(radlat) ** 2
    sqrtmagic = np.sqrt(magic)
    dlat = (dlat * 180.0) / ((_A * (1 - _EE)) / (magic * sqrtmagic) * math.pi)
    dlon = (dlon * 180.0) / (_A / sqrtmagic * np.cos(radlat) * math.pi)
    return dlon, dlat


def wgs84_to_gcj02(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    lon = np.asarray(lon, dtype=float)
    lat = np.asarray(lat, dtype=float)
    dlon, dlat = _delta(lon, lat)
    out = _out_of_china(lon, lat)
    return np.where(out, lon, lon + dlon), np.where(out, lat, lat + dlat)


def gcj02_to_wgs84(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Exact inverse of :func:`wgs84_to_gcj02` by fixed-point iteration."""
    lon = np.asarray(lon, dtype=float)
    lat = np.asarray(lat, dtype=float)
    wlon, wlat = lon.copy(), lat.copy()
    for _ in range(30):
        glon, glat = wgs84_to_gcj02(wlon, wlat)
        elon, elat = glon - lon, glat - lat
        wlon, wlat = wlon - elon, wlat - elat
        if np.nanmax(np.abs(np.r_[elon, elat]), initial=0.0) < 1e-10:
            break
    return wlon, wlat


_XPI = math.pi * 3000.0 / 180.0


def bd09_to_gcj02(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    x = np.asarray(lon, dtype=float) - 0.0065
    y = np.asarray(lat, dtype=float) - 0.006
    z = np.sqrt(x * x + y * y) - 0.00002 * np.sin(y * _XPI)
    theta = np.arctan2(y, x) - 0.000003 * np.cos(x * _XPI)
    return z * np.cos(theta), z * np.sin(theta)


def gcj02_to_bd09(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    x = np.asarray(lon, dtype=float)
    y = np.asarray(lat, dtype=float)
    z = np.sqrt(x * x + y * y) + 0.00002 * np.sin(y * _XPI)
    theta = np.arctan2(y, x) + 0.000003 * np.cos(x * _XPI)
    return z * np.cos(theta) + 0.0065, z * np.sin(theta) + 0.006


def to_wgs84(x: np.ndarray, y: np.ndarray, crs: str) -> tuple[np.ndarray, np.ndarray]:
    """Longitude/latitude (WGS-84) of points given in ``crs`` (EPSG codes, GCJ-02, BD-09)."""
    c = normalise_crs(crs)
    if c == "GCJ-02":
        return gcj02_to_wgs84(x, y)
    if c == "BD-09":
        return gcj02_to_wgs84(*bd09_to_gcj02(x, y))
    t = transformer(c, "EPSG:4326")
    lon, lat = t.transform(np.asarray(x, dtype=float), np.asarray(y, dtype=float))
    return np.asarray(lon), np.asarray(lat)


def from_wgs84(lon: np.ndarray, lat: np.ndarray, crs: str) -> tuple[np.ndarray, np.ndarray]:
    """Inverse of :func:`to_wgs84`: WGS-84 points expressed in ``crs`` (for outputs)."""
    c = normalise_crs(crs)
    if c == "GCJ-02":
        return wgs84_to_gcj02(lon, lat)
    if c == "BD-09":
        return gcj02_to_bd09(*wgs84_to_gcj02(lon, lat))
    t = transformer("EPSG:4326", c)
    x, y = t.transform(np.asarray(lon, dtype=float), np.asarray(lat, dtype=float))
    return np.asarray(x), np.asarray(y)


def transformer(src: str, dst: str) -> Transformer:
    return Transformer.from_crs(CRS.from_user_input(src), CRS.from_user_input(dst), always_xy=True)


def utm_crs_for(lon: np.ndarray, lat: np.ndarray) -> str:
    """The UTM zone (WGS-84, EPSG:326xx north / 327xx south) containing the points' centre."""
    lon_c = float(np.nanmedian(lon))
    lat_c = float(np.nanmedian(lat))
    zone = int((lon_c + 180.0) // 6.0) + 1
    zone = min(max(zone, 1), 60)
    return f"EPSG:{32600 + zone if lat_c >= 0 else 32700 + zone}"


_CHINA_DATUMS = ("GCJ-02", "GCJ02", "BD-09", "BD09")


def check_crs(
    crs: str | None,
    x: np.ndarray | None,
    y: np.ndarray | None,
    shown: str,
    rows: Callable[..., str],
    key: str,
    ids: np.ndarray,
    problems: ProblemCollector,
) -> None:
    """The CRS must be one pyproj knows (or GCJ-02 / BD-09); in a lon/lat CRS the coordinates
    must be longitudes within +-180 and latitudes within +-90."""
    if crs is None:
        return
    geographic = crs.strip().upper() in _CHINA_DATUMS
    if not geographic:
        from pyproj.exceptions import CRSError

        try:
            geographic = CRS.from_user_input(crs).is_geographic
        except CRSError:
            problems.add(
                f"{key}.crs",
                "unknown coordinate reference system",
                got=crs,
                fix="give an EPSG code such as EPSG:4326 (lon/lat) or EPSG:4547 (CGCS2000 / 3-degree Gauss-Kruger)",
            )
            return
    if not geographic or x is None or y is None:
        return
    with np.errstate(invalid="ignore"):
        bad = np.flatnonzero((np.abs(x) > 180) | (np.abs(y) > 90))
    if bad.size:
        problems.add(
            f"{shown} {rows(bad, ids[bad].tolist())}",
            f"coordinates out of range for the lon/lat CRS {crs}",
            got=f"x={x[bad[0]]:g}, y={y[bad[0]]:g}",
            fix="x is the longitude (-180..180), y the latitude (-90..90); if they are metres, "
            "declare the projected CRS (e.g. EPSG:4547)",
        )
