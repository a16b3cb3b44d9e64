"""The 120 EMS model's rules: cross-field rules of the case file, and checks of the data against the model."""

from __future__ import annotations

import logging
import math

import numpy as np

from geodata.arrays import Demand, Sites, Zones

from ...errors import ProblemCollector
from ...schema.ems import EmsModelConfig
from ...schema.files import LoadedCase
from ..rules import require_known
from .problem import MINUTES_PER_YEAR

log = logging.getLogger(__name__)


def _check_ems_rules(case: LoadedCase, model: EmsModelConfig, problems: ProblemCollector) -> None:
    cfg = case.config
    where = f"{case.label} › model"
    tables = list(cfg.travel_times)
    for field, quantity in (("time_matrix", "time"), ("distance_matrix", "distance")):
        name = getattr(model, field)
        if name is None:
            continue
        if name not in cfg.travel_times:
            problems.add(
                f"{where}.{field}",
                "no travel-time table of this name",
                got=name,
                fix=f"use one of: {', '.join(tables)}",
            )
        elif cfg.travel_times[name].quantity != quantity:
            problems.add(
                f"{where}.{field}",
                f"this table does not hold {quantity}s",
                got=name,
                fix=f"point it at a table measured in {'minutes' if quantity == 'time' else 'metres'}",
            )
    if model.time_matrix is None and len(tables) > 1:
        problems.add(
            f"{where}.time_matrix",
            "several travel-time tables are given; say which holds driving times",
            fix=f"add 'time_matrix: <name>' with one of: {', '.join(tables)}",
        )
    if model.station_or_radius is not None and model.distance_matrix is None:
        problems.add(
            f"{where}.station_or_radius",
            "the radius-or-station rule needs a road-distance table",
            fix="add a travel_times entry with measure: distance and name it in distance_matrix",
        )
    if model.radius_m is not None and model.distance_matrix is None:
        problems.add(
            f"{where}.distance_matrix",
            "a service radius needs a road-distance table",
            fix="add a travel_times entry with measure: distance (or unit: m) and name it here",
        )
    resp = model.response_min
    values = list(resp.values()) if isinstance(resp, dict) else [resp]
    if any(v <= model.dispatch_min for v in values):
        problems.add(
            f"{where}.dispatch_min",
            "dispatch time uses up the whole response standard",
            got=model.dispatch_min,
            fix="dispatch_min must be below every response_min",
        )
    if (
        model.objective in ("mexclp", "bacop", "max_coverage")
        and model.budget is None
        and model.fleet.fleet_size is None
        and model.fleet.max_vehicles is None
    ):
        problems.add(
            where,
            f"objective {model.objective} needs a limit: more ambulances always help",
            fix="set budget, fleet.fleet_size or fleet.max_vehicles",
        )
    if (
        model.objective == "min_cost"
        and model.min_share is None
        and model.zone_min_share is None
        and model.fleet.per_population is None
    ):
        problems.add(
            f"{where}.objective",
            "min_cost without any coverage or fleet target buys nothing",
            fix="set min_share, zone_min_share or fleet.per_population",
        )
    if model.objective == "mexclp" and model.busy_fraction is None and model.calls_per_year is None:
        problems.add(
            where,
            "expected coverage (MEXCLP) needs the busy fraction of an ambulance",
            fix="set busy_fraction (e.g. 0.2) or calls_per_year (and minutes_per_call)",
        )
    if model.secondary_objective != "none" and model.objective == "min_cost":
        problems.add(
            f"{where}.secondary_objective",
            "min_cost is already the objective",
            got=model.secondary_objective,
            fix="drop it",
        )


def check_ems_case(case: LoadedCase, model: EmsModelConfig, problems: ProblemCollector) -> None:
    cfg, label = case.config, case.label
    _check_ems_rules(case, model, problems)
    if cfg.solver.method in ("benders", "bbc"):
        problems.add(
            f"{label} › solver.method",
            "the Benders decomposition is for covering models (lscp, mclp, psclp, coverage)",
            got=cfg.solver.method,
            fix="use solver.method: compact (or auto) for an ambulance model",
        )


def _ems_class_without_standard(
    case: LoadedCase,
    demand: Demand,
    field_name: str,
    value: dict[str, float],
    problems: ProblemCollector,
) -> None:
    """Every resident class of a 120 case needs a response standard (and a radius when radii are
    per class): the 120 service is for everyone, so a class left out is an error, not MET."""
    if demand.demand_class is None:
        return
    footfall = set(case.config.demand.footfall_classes)
    cls = np.asarray(demand.demand_class).astype(str)
    missing = sorted(set(cls[demand.weight > 0]) - set(value) - footfall)
    for c in missing:
        at = cls == c
        example = "rural: 15" if field_name == "response_min" else "rural: 10000"
        problems.add(
            f"{case.label} › model.{field_name}",
            f"demand class '{c}' has no value ({int(at.sum()):,} points, "
            f"{float(demand.weight[at].sum()):,.0f} residents would go unassessed)",
            got=", ".join(f"{k}: {v:g}" for k, v in value.items()),
            fix=f"add it (e.g. {example}), give one number for every class, or list the class "
            "in demand.footfall_classes if it holds no residents",
        )


def _check_busy_fraction(
    model: EmsModelConfig, demand: Demand, where: str, problems: ProblemCollector
) -> None:
    """Calls x minutes per call over the fleet's minutes per year must be below 1 (an ambulance
    cannot be busy more than all the time); checked here so that ``validate`` says it."""
    if model.busy_fraction is not None or model.calls_per_year is None:
        return
    f = model.fleet
    population = float(f.population) if f.population is not None else demand.total_weight
    fleet = f.fleet_size or (
        max(math.ceil(population / f.per_population - 1e-9), 1) if f.per_population else 1
    )
    q = model.calls_per_year * model.minutes_per_call / (fleet * MINUTES_PER_YEAR)
    if q >= 1:
        problems.add(
            f"{where}.calls_per_year",
            f"busy fraction {q:.2f} >= 1: {model.calls_per_year:,.0f} calls x "
            f"{model.minutes_per_call:g} min exceed what {fleet} ambulances can serve in a year",
            fix="check calls_per_year and minutes_per_call, or raise fleet.fleet_size",
        )


def validate_ems(
    case: LoadedCase,
    model: EmsModelConfig,
    demand: Demand,
    sites: Sites,
    zones: Zones | None,
    problems: ProblemCollector,
) -> None:
    """Checks of a 120 case that need both the model and the data."""
    where = f"{case.label} › model"
    types = set(map(str, sites.facility_type))
    if model.station_type not in types:
        problems.add(
            f"{where}.station_type",
            "no site has this facility type",
            got=model.station_type,
            fix=f"use one of: {', '.join(sorted(types))}, or set sites.facility_type",
        )
    classes = set(map(str, demand.demand_class)) if demand.demand_class is not None else set()
    for field_name in ("response_min", "radius_m"):
        value = getattr(model, field_name)
        if isinstance(value, dict):
            if demand.demand_class is None:
                problems.add(
                    f"{where}.{field_name}",
                    "standards per demand class need a class column",
                    fix="set demand.columns.class (urban / rural)",
                )
            if classes:
                require_known(
                    value,
                    classes,
                    f"{where}.{field_name}",
                    "no demand point has this class",
                    problems,
                    fix=f"use the classes in the data: {', '.join(sorted(classes))}",
                )
            _ems_class_without_standard(case, demand, field_name, value, problems)
    existing = int((sites.existing & (sites.facility_type == model.station_type)).sum())
    if existing and sites.vehicles is None:
        log.warning(
            "%d existing 120 stations and no vehicles column: each is assumed to hold 1 "
            "ambulance (not negative-pressure), already paid for; give sites.columns.vehicles "
            "(and np_vehicles) to state today's fleet",
            existing,
        )
    if model.station_or_radius is not None and (demand.zone is None or sites.zone is None):
        problems.add(
            f"{where}.station_or_radius",
            "needs a zone column in both the demand and the sites file",
            fix="set demand.columns.zone and sites.columns.zone",
        )
    _check_busy_fraction(model, demand, where, problems)
    if model.stations_per_zone and sites.zone is None:
        problems.add(
            f"{where}.stations_per_zone",
            "needs a zone column in the sites file",
            fix="set sites.columns.zone",
        )
    if model.zone_kinds is not None:
        kinds = set(map(str, zones.kind)) if zones is not None else set()
        require_known(
            model.zone_kinds,
            kinds,
            f"{where}.zone_kinds",
            "no zone has this kind",
            problems,
            fix=f"use one of: {', '.join(sorted(kinds)) or '(add a zones table with a kind column)'}",
        )
    if model.zone_min_share is not None and demand.zone is None:
        problems.add(
            f"{where}.zone_min_share",
            "zone targets need a zone column in the demand",
            fix="set demand.columns.zone",
        )
