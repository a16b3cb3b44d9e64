"""The 120 norm checks of a 120 run: fleet size and negative-pressure share, new stations,
mean response per class, service radius, stations and mean response per township.

Norms and sources as in :mod:`optimizer.report.ems` (values from the case, never hard-coded).
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from .format import num
from .norms import NormCheck, compare_values, register_norms
from .rundata import RunData

__all__ = ["class_limits", "classes_of", "ems_norms", "fleet_of"]


def fleet_of(run: RunData) -> dict[str, Any]:
    """solution.json's ``fleet`` block (ambulances, negative pressure, existing, norm)."""
    return dict(run.solution.get("fleet") or {})


def class_limits(value: Any, classes: list[str]) -> dict[str, float]:
    """A per-class limit (``{urban: 11, rural: 15}`` or one number for all) per class."""
    if isinstance(value, dict):
        return {c: float(value[c]) for c in classes if c in value}
    if isinstance(value, (int, float)):
        return {c: float(value) for c in classes}
    return {}


def classes_of(run: RunData) -> list[str]:
    """The demand classes of the run's response block (``["all"]`` when unclassed)."""
    resp = run.solution.get("response") or {}
    classes = sorted(k for k in resp if k != "overall")
    return classes or ["all"]


@register_norms("ems")
def ems_norms(run: RunData) -> list[NormCheck]:
    """The 120 norms of a 120 run (county-wide, per class and per township)."""
    if not run.is_ems or not run.has_plan:
        return []
    standard = class_limits(run.solution.get("model", {}).get("response_min"), classes_of(run))
    return [*_fleet_norms(run), *_county_response_norms(run, standard), *_zone_norms(run, standard)]


def _fleet_norms(run: RunData) -> list[NormCheck]:
    """Ambulances per population, negative-pressure share, new stations (county-wide)."""
    sol = run.solution
    model = sol.get("model", {})
    fleet_cfg = model.get("fleet", {}) or {}
    fl = fleet_of(run)
    fsrc = str(fl.get("source") or fleet_cfg.get("source") or "")
    out: list[NormCheck] = []
    n_amb = float(fl.get("ambulances", 0))
    per = fl.get("norm_per_population")
    if per:
        need = float(fl.get("norm_minimum", 0))
        out.append(
            NormCheck(
                "ems.fleet_per_population",
                f">= 1 ambulance per {per:,.0f} residents "
                f"({num(fl.get('population_for_norm'))} residents)",
                "county",
                "",
                need,
                n_amb,
                "vehicles",
                compare_values(n_amb, need, ">="),
                fsrc,
            )
        )
    share = fleet_cfg.get("negative_pressure_share")
    if share:
        got = float(fl.get("negative_pressure_share") or 0.0)
        out.append(
            NormCheck(
                "ems.negative_pressure_share",
                f">= {100 * share:g}% negative-pressure ambulances "
                f"({fl.get('negative_pressure', 0)} of {int(n_amb)}; "
                f">= {fl.get('negative_pressure_required', 0)} required)",
                "county",
                "",
                float(share),
                got,
                "share",
                int(fl.get("negative_pressure", 0)) >= int(fl.get("negative_pressure_required", 0)),
                fsrc,
            )
        )
    limit_new = model.get("max_new_stations")
    if limit_new is not None:
        new = len((sol.get("new_sites") or {}).get(str(model.get("station_type", "ems")), []))
        out.append(
            NormCheck(
                "ems.max_new_stations",
                "new 120 stations",
                "county",
                "",
                float(limit_new),
                float(new),
                "sites",
                new <= limit_new,
                comparison="<=",
            )
        )
    return out


def _county_response_norms(run: RunData, standard: dict[str, float]) -> list[NormCheck]:
    """Mean response per demand class (< limit, dispatch included) and the service radius."""
    sol = run.solution
    rsrc = str(sol.get("model", {}).get("source") or "")
    out: list[NormCheck] = []
    resp = sol.get("response") or {}
    for c, limit in standard.items():
        mean = (resp.get(c) if c != "all" else resp.get("overall") or {}) or {}
        m = mean.get("mean_min")
        out.append(
            NormCheck(
                f"ems.mean_response.{c}",
                f"120 {c}: mean response < {limit:g} min (dispatch included)",
                "county",
                "",
                limit,
                m,
                "min",
                None if m is None else compare_values(float(m), limit, "<"),
                rsrc,
                comparison="<",
            )
        )
    for c, r in sorted((sol.get("radius") or {}).items()):
        out.append(
            NormCheck(
                f"ems.radius.{c}",
                f"120 {c}: residents within the {float(r['radius_m']) / 1000:g} km "
                "service radius (by road)",
                "county",
                "",
                1.0,
                r.get("share"),
                "share",
                None if r.get("share") is None else compare_values(float(r["share"]), 1.0, ">="),
                rsrc,
            )
        )
    return out


def _zone_norms(run: RunData, standard: dict[str, float]) -> list[NormCheck]:
    """Per township: stations required (建制乡镇) and mean response per class."""
    rsrc = str(run.solution.get("model", {}).get("source") or "")
    out: list[NormCheck] = []
    zones = run.zones
    if zones is not None and "zone_id" in zones:
        for _, z in zones.iterrows():
            zid = str(z["zone_id"])
            zneed = z.get("required_stations")
            if zneed is not None and pd.notna(zneed):
                got = float(z.get("stations") or 0)
                out.append(
                    NormCheck(
                        "ems.stations_per_zone",
                        f">= {float(zneed):g} 120 station(s) per township (建制乡镇)",
                        "zone",
                        zid,
                        float(zneed),
                        got,
                        "sites",
                        compare_values(got, float(zneed), ">="),
                        rsrc,
                    )
                )
            for c, limit in standard.items():
                col = f"mean_response_{c}_min"
                v = z.get(col) if col in zones else None
                if v is None or pd.isna(v):
                    continue
                out.append(
                    NormCheck(
                        f"ems.mean_response.{c}",
                        f"120 {c}: mean response < {limit:g} min (dispatch included)",
                        "zone",
                        zid,
                        limit,
                        float(v),
                        "min",
                        compare_values(float(v), limit, "<"),
                        rsrc,
                        comparison="<",
                    )
                )
    return out
