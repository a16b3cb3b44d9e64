"""Travel speeds by road class and travel mode, with defaults for Chinese county roads.

Chinese road classes map onto OSM ``highway`` values roughly as follows: 高速公路 expressway =
motorway; 国道 national and 快速路 urban expressway = trunk; 省道 provincial = primary; 县道 county =
secondary; 乡道 township = tertiary; 村道 village = unclassified / residential; 机耕路 farm track =
track. Defaults below are *typical travel* speeds (not legal limits) for a county with mountain
and village roads; every value is overridable per case (``speeds_kph``). A ``maxspeed`` tag, where
present, replaces the class default scaled by ``maxspeed_factor`` (traffic rarely moves at the
posted limit), never above the tag. Ferries (``route=ferry``) use their ``duration`` tag when
present, else ``ferry_kph`` plus a boarding time.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, Literal

import numpy as np

__all__ = ["DEFAULT_PROFILES", "Mode", "SpeedProfile", "profile_for", "profile_of"]

Mode = Literal["drive", "ebike", "walk"]

_DRIVE = {
    "motorway": 90.0,
    "motorway_link": 45.0,
    "trunk": 60.0,
    "trunk_link": 40.0,
    "primary": 50.0,
    "primary_link": 35.0,
    "secondary": 40.0,
    "secondary_link": 30.0,
    "tertiary": 35.0,
    "tertiary_link": 25.0,
    "unclassified": 25.0,
    "residential": 20.0,
    "living_street": 10.0,
    "road": 25.0,
    "service": 15.0,
    "track": 15.0,
    "busway": 30.0,
}

# E-bikes (电动自行车, legal top speed 25 km/h) may not use expressways.
_EBIKE = {
    "motorway": 0.0,
    "motorway_link": 0.0,
    "trunk": 20.0,
    "trunk_link": 18.0,
    "primary": 20.0,
    "primary_link": 18.0,
    "secondary": 20.0,
    "secondary_link": 18.0,
    "tertiary": 20.0,
    "tertiary_link": 18.0,
    "unclassified": 18.0,
    "residential": 15.0,
    "living_street": 10.0,
    "road": 18.0,
    "service": 12.0,
    "track": 12.0,
    "cycleway": 18.0,
    "path": 10.0,
    "busway": 0.0,
}

# Walking: 4.5 km/h on ordinary ways (older residents ~4), slower on steps, no expressways.
_WALK = {
    "motorway": 0.0,
    "motorway_link": 0.0,
    "trunk": 4.5,
    "trunk_link": 4.5,
    "primary": 4.5,
    "primary_link": 4.5,
    "secondary": 4.5,
    "secondary_link": 4.5,
    "tertiary": 4.5,
    "tertiary_link": 4.5,
    "unclassified": 4.5,
    "residential": 4.5,
    "living_street": 4.5,
    "road": 4.5,
    "service": 4.5,
    "track": 4.0,
    "path": 4.0,
    "footway": 4.5,
    "pedestrian": 4.5,
    "cycleway": 4.5,
    "bridleway": 4.0,
    "corridor": 4.5,
    "steps": 2.0,
    "busway": 0.0,
}


@dataclass(frozen=True)
class SpeedProfile:
    """Speeds (km/h) per ``highway`` class for one travel mode; 0 km/h = not allowed."""

    mode: Mode
    speeds_kph: dict[str, float]
    default_kph: float
    use_maxspeed: bool = True
    maxspeed_factor: float = 0.85
    ignore_oneway: bool = False
    ferry_kph: float = 15.0
    ferry_boarding_min: float = 10.0
    access_kph: float = 4.5
    """Speed for the off-network leg between a point and its snapped node."""
    overrides: dict[str, float] = field(default_factory=dict)

    def with_overrides(
        self, speeds_kph: dict[str, float] | None = None, **changes: object
    ) -> SpeedProfile:
        speeds = dict(self.speeds_kph)
        if speeds_kph:
            speeds.update({k: float(v) for k, v in speeds_kph.items()})
        prof = replace(self, speeds_kph=speeds, overrides=dict(speeds_kph or {}), **changes)  # type: ignore[arg-type]
        return prof

    def edge_speeds(self, highway: np.ndarray, maxspeed_kph: np.ndarray) -> np.ndarray:
        """Speed of each edge (km/h): class default, or ``maxspeed_factor`` x a tagged limit."""
        table = self.speeds_kph
        speeds = np.array([table.get(str(h), self.default_kph) for h in highway], dtype=float)
        if self.use_maxspeed and self.mode == "drive":
            tagged = np.isfinite(maxspeed_kph) & (maxspeed_kph > 0) & (speeds > 0)
            # An explicit per-class override in the case beats the tag (planner knows better).
            overridden = np.array([str(h) in self.overrides for h in highway], dtype=bool)
            use = tagged & ~overridden
            speeds[use] = maxspeed_kph[use] * self.maxspeed_factor
        elif self.use_maxspeed and self.mode == "ebike":
            tagged = np.isfinite(maxspeed_kph) & (maxspeed_kph > 0)
            speeds[tagged] = np.minimum(speeds[tagged], maxspeed_kph[tagged])
        return speeds

    def to_dict(self) -> dict[str, object]:
        return {
            "mode": self.mode,
            "speeds_kph": dict(sorted(self.speeds_kph.items())),
            "default_kph": self.default_kph,
            "use_maxspeed": self.use_maxspeed,
            "maxspeed_factor": self.maxspeed_factor,
            "ignore_oneway": self.ignore_oneway,
            "ferry_kph": self.ferry_kph,
            "ferry_boarding_min": self.ferry_boarding_min,
            "access_kph": self.access_kph,
        }


DEFAULT_PROFILES: dict[str, SpeedProfile] = {
    "drive": SpeedProfile("drive", _DRIVE, default_kph=25.0, access_kph=4.5),
    "ebike": SpeedProfile("ebike", _EBIKE, default_kph=15.0, access_kph=4.5, maxspeed_factor=1.0),
    "walk": SpeedProfile(
        "walk", _WALK, default_kph=4.5, use_maxspeed=False, ignore_oneway=True, access_kph=4.5
    ),
}


def profile_for(
    mode: str, speeds_kph: dict[str, float] | None = None, **changes: object
) -> SpeedProfile:
    """The default profile of ``mode`` with the case's overrides applied."""
    if mode not in DEFAULT_PROFILES:
        raise ValueError(f"unknown travel mode {mode!r}; use one of {', '.join(DEFAULT_PROFILES)}")
    base = DEFAULT_PROFILES[mode]
    clean = {k: v for k, v in changes.items() if v is not None}
    return base.with_overrides(speeds_kph, **clean)


def profile_of(spec: Any) -> SpeedProfile:
    """The profile of a network travel-time section (``mode``, ``speeds_kph`` and the
    ``maxspeed_factor``, ``access_kph``, ``ferry_kph``, ``ferry_boarding_min`` overrides)."""
    return profile_for(
        spec.mode,
        spec.speeds_kph,
        maxspeed_factor=spec.maxspeed_factor,
        access_kph=spec.access_kph,
        ferry_kph=spec.ferry_kph,
        ferry_boarding_min=spec.ferry_boarding_min,
    )
