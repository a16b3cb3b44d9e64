r"""The rural 120 township norm: a station in the township, or every resident within the radius.

Yueqing's rural standard reads "service radius 8-10 km **or** at least one station per township
(建制乡镇)". Per selected township :math:`z` with a binary :math:`\delta_z` (1 = the township
relies on a station of its own):

.. math::

    \sum_{j \in S_z} y_j \ge \delta_z, \qquad
    \sum_{j:\, d_{ij} \le R} y_j \ge 1 - \delta_z \quad \forall i \in z,\ w_i > 0

(:math:`S_z` the station candidates in the township, :math:`d_{ij}` the road distance from
station :math:`j` to village :math:`i`). The check on the raw data recomputes each township
from the open stations and each village's nearest open station by road, apart from the model.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np

from ...milp import ModelBuilder

# ``problem`` is an ``EmsProblem`` and ``plan`` an ``EmsPlan`` (.model); typed loosely here so
# that .model can import this module without an import circle.
EmsProblem = Any
EmsPlan = Any

__all__ = [
    "add_station_or_radius_rows",
    "check_station_or_radius",
    "precheck_station_or_radius",
    "radius_rule_zones",
    "station_or_radius_table",
]

log = logging.getLogger(__name__)


def radius_rule_zones(problem: EmsProblem) -> list[str]:
    """Townships the rule applies to (``station_or_radius.zone_kinds`` filter)."""
    rule = problem.model.station_or_radius
    assert rule is not None
    ids = problem.zone_ids()
    if rule.zone_kinds is not None and problem.zones is not None:
        kind_of = dict(zip(map(str, problem.zones.ids), map(str, problem.zones.kind), strict=True))
        ids = [z for z in ids if kind_of.get(z, "") in set(rule.zone_kinds)]
    return ids


def _residents_in(problem: EmsProblem, zone: str) -> np.ndarray:
    d = problem.demand
    assert d.zone is not None
    return np.flatnonzero((d.zone == zone) & (d.weight > 0))


def add_station_or_radius_rows(
    b: ModelBuilder, problem: EmsProblem, stations: np.ndarray, y_start: int
) -> None:
    """The rows of the module docstring on the station columns ``stations`` (site indices,
    model columns ``y_start + k``); in an elastic builder the station row gets a slack."""
    rule = problem.model.station_or_radius
    dist = problem.distance_table()
    assert rule is not None and dist is not None and problem.sites.zone is not None
    col_of = np.full(len(problem.sites), -1, dtype=np.int64)
    col_of[stations] = np.arange(stations.size)
    is_station = np.zeros(len(problem.sites), dtype=bool)
    is_station[stations] = True
    near = dist.within(np.full(len(problem.demand), rule.radius_m), is_station).tocsr()
    for z in radius_rule_zones(problem):
        delta = b.add_vars(f"own_station[{z}]", 1, lb=0.0, ub=1.0, integer=True)
        own = col_of[np.flatnonzero(is_station & (problem.sites.zone == z))]
        cols = np.r_[y_start + own, delta.index()]
        vals = np.r_[np.ones(own.size), -1.0]
        b.add_row(f"station_or_radius[{z}]", cols, vals, lo=0.0, penalty=1.0)
        pts = _residents_in(problem, z)
        for i in pts:
            hit = near.indices[near.indptr[i] : near.indptr[i + 1]]
            js = col_of[hit[col_of[hit] >= 0]]
            b.add_row(
                f"within_radius[{z}:{problem.demand.ids[i]}]",
                np.r_[y_start + js, delta.index()],
                np.r_[np.ones(js.size), 1.0],
                lo=1.0,
            )


def _zone_status(problem: EmsProblem, plan: EmsPlan) -> list[dict[str, Any]]:
    """Per township, from the raw table: open stations inside, the farthest resident's road
    distance to the nearest open station, and whether the norm is met."""
    rule = problem.model.station_or_radius
    dist = problem.distance_table()
    assert rule is not None and dist is not None and problem.sites.zone is not None
    staffed = plan.open & (plan.vehicles >= 1)
    _, metres = dist.nearest(staffed)
    out = []
    for z in radius_rule_zones(problem):
        n_own = int((staffed & (problem.sites.zone == z)).sum())
        pts = _residents_in(problem, z)
        far = float(np.max(metres[pts])) if pts.size else 0.0
        out.append(
            {
                "zone": z,
                "stations": n_own,
                "farthest_m": far if np.isfinite(far) else None,
                "met": n_own >= 1 or far <= rule.radius_m,
            }
        )
    return out


def check_station_or_radius(problem: EmsProblem, plan: EmsPlan) -> list[str]:
    rule = problem.model.station_or_radius
    assert rule is not None
    return [
        f"zone {r['zone']}: no 120 station inside and a resident "
        + (
            f"{r['farthest_m']:,.0f} m"
            if r["farthest_m"] is not None
            else "beyond every open station's reach"
        )
        + f" from the nearest one (radius {rule.radius_m:,.0f} m)"
        for r in _zone_status(problem, plan)
        if not r["met"]
    ]


def station_or_radius_table(problem: EmsProblem, plan: EmsPlan) -> list[dict[str, Any]]:
    """Compliance rows (one per township) for ``solution.json › station_or_radius_compliance``."""
    rule = problem.model.station_or_radius
    assert rule is not None
    rows = []
    for r in _zone_status(problem, plan):
        far = "unreachable" if r["farthest_m"] is None else f"{r['farthest_m'] / 1000:,.1f} km"
        rows.append(
            {
                "norm": "ems.station_or_radius",
                "label": f">= 1 station in the township or every resident within "
                f"{rule.radius_m / 1000:g} km by road",
                "scope": "zone",
                "zone": r["zone"],
                "required": f">= 1 station or <= {rule.radius_m / 1000:g} km",
                "achieved": f"{r['stations']} station(s); farthest resident {far}",
                "met": bool(r["met"]),
                "source": rule.source,
            }
        )
    return rows


def precheck_station_or_radius(problem: EmsProblem) -> list[str]:
    """Townships with no station candidate inside and a resident no candidate reaches within
    the radius: the rule cannot be met, whatever opens."""
    rule = problem.model.station_or_radius
    dist = problem.distance_table()
    if rule is None or dist is None or problem.sites.zone is None or problem.demand.zone is None:
        return []
    st = problem.stations
    _, metres = dist.nearest(st)
    out = []
    for z in radius_rule_zones(problem):
        if (st & (problem.sites.zone == z)).any():
            continue
        pts = _residents_in(problem, z)
        bad = pts[~(metres[pts] <= rule.radius_m)]
        if bad.size:
            out.append(
                f"township {z} has no station candidate and {bad.size} village(s) with residents "
                f"(e.g. {problem.demand.ids[bad[0]]}) have none within {rule.radius_m:,.0f} m by "
                "road: add a station candidate in the township or near them"
            )
    return out
