"""From a case file to a certified plan: load and validate everything, then solve.

:func:`prepare_case` reads every file the case names and validates the data against the model
(all problems at once, before any work); :func:`run_case` solves and writes the outputs.
"""

from __future__ import annotations

import hashlib
import logging
import math
import time
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from geodata.arrays import Demand, Sites, TravelTimes, Zones
from geodata.estimate import EstimateReport
from geodata.estimate_case import estimate_case
from geodata.routing import RoutingReport, route_case
from geodata.tables import load_demand, load_sites, load_travel_times, load_zones
from geodata.zone_shapes import load_zone_polygons

from .config import (
    CaseFile,
    CoverageModelConfig,
    EmsModelConfig,
    LoadedCase,
    NetworkTravelTimesConfig,
    PCenterModelConfig,
    PMedianModelConfig,
    TravelTimesConfig,
    load_case,
)
from .errors import ProblemCollector
from .models.coverage.problem import CoverageProblem
from .models.ems.model import EmsProblem
from .models.siting.solve import SitingProblem
from .settings import SolveOverrides, SolveSettings

__all__ = ["PreparedCase", "prepare_case", "run_case", "solve_case"]

log = logging.getLogger(__name__)


@dataclass(frozen=True, eq=False)
class PreparedCase:
    case: LoadedCase
    problem: CoverageProblem | EmsProblem | SitingProblem
    input_files: dict[str, str]
    """Input file path -> sha256, for the manifest."""
    routing: dict[str, RoutingReport] = field(default_factory=dict)
    """How each network travel-time table was computed (snapping, pairs, time)."""
    zone_polygons: dict[str, Any] | None = None
    """Zone id -> WGS-84 polygon when the case provides zone boundaries (GIS layers, maps)."""
    estimates: dict[str, EstimateReport] = field(default_factory=dict)
    """How each ``mode: estimate`` table was made, with its measured error band."""
    travel_times_check: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Per table, its sample recomputed by the independent router (:mod:`.certify_roads`)."""
    settings: SolveSettings | None = None
    """The solve settings of the run (CLI > case > default), recorded in solution.json."""


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def prepare_case(case: LoadedCase | str | Path, *, check_roads: bool = True) -> PreparedCase:
    """Read and validate every file of the case; raise one CaseError listing all problems.

    Every network travel-time table is then re-checked on a sample against the roads by the
    independent router (``check_roads``; a deviation raises CheckError)."""
    if not isinstance(case, LoadedCase):
        case = load_case(case)
    from .families import family_of

    family = family_of(case)
    site = family.site
    assert site is not None, f"{family.name} is not a siting family"
    cfg = case.config
    t0 = time.perf_counter()
    problems = ProblemCollector()
    demand = load_demand(cfg.demand, case, problems)
    sites = load_sites(cfg.sites, case, problems)
    zones = load_zones(cfg.zones, case, problems) if cfg.zones is not None else None
    polygons = load_zone_polygons(cfg.zones, case, problems) if cfg.zones is not None else None
    tables: dict[str, TravelTimes] = {}
    routing: dict[str, RoutingReport] = {}
    graphs: dict[str, Any] = {}  # networks as read, for the independent router (then dropped)
    estimates: dict[str, EstimateReport] = {}
    if demand is not None and sites is not None:
        for name, tcfg in cfg.travel_times.items():
            if isinstance(tcfg, TravelTimesConfig):
                tt = load_travel_times(name, tcfg, case, demand.ids, sites.ids, problems)
                if tt is not None:
                    tables[name] = tt
        if not problems:
            net_tables, routing = route_case(
                case,
                demand,
                sites,
                network_cutoffs(case),
                problems,
                used=site.tables_in_use(case, demand, sites),
                graphs=graphs,
            )
            tables.update(net_tables)
            est_tables, estimates = estimate_case(case, demand, sites, problems)
            estimates |= {n: r.estimate for n, r in routing.items() if r.estimate is not None}
            tables.update(est_tables)
    else:
        for name, tcfg in cfg.travel_times.items():
            if isinstance(tcfg, TravelTimesConfig) and not case.resolve(tcfg.file).exists():
                problems.add(
                    f"{case.label} › travel_times.{name}.file",
                    "file not found",
                    got=tcfg.file,
                    fix="check the path; paths are relative to the case file's folder",
                )
    if demand is not None and sites is not None:
        site.validate_data(case, cfg.model, demand, sites, zones, problems)
    problems.raise_if_any()
    assert demand is not None and sites is not None
    inputs = {}
    files = [cfg.demand.file, cfg.sites.file]
    files += [t.file for t in cfg.travel_times.values() if isinstance(t, TravelTimesConfig)]
    files += [n.file for n in cfg.networks.values() if n.file is not None]
    files += [n.nodes_file for n in cfg.networks.values() if n.nodes_file is not None]
    files += [cfg.zones.file] if cfg.zones else []
    files += [cfg.zones.geometry] if cfg.zones and cfg.zones.geometry else []
    for f in files:
        p = case.resolve(f)
        if p.is_file():
            inputs[f] = _sha256(p)
    problem = site.make_problem(demand, sites, tables, cfg.model, zones)
    _check_tables_complete(case, site.table_checks(problem), problems)
    problems.raise_if_any()
    log.info("Case '%s' loaded and validated in %.2f s", cfg.name, time.perf_counter() - t0)
    prepared = PreparedCase(case, problem, inputs, routing, polygons, estimates)
    if not check_roads:
        return prepared
    from .certify_roads import check_travel_times

    check = check_travel_times(prepared, site.tables_in_use(case, demand, sites), graphs=graphs)
    return replace(prepared, travel_times_check=check)


def _check_tables_complete(
    case: LoadedCase,
    checks: list[tuple[TravelTimes, np.ndarray, str]],
    problems: ProblemCollector,
) -> None:
    """Every standard must read a table that is complete up to its threshold (the family's
    ``table_checks``). p-median and p-center have none: on a truncated table (a cutoff or k
    nearest sites) their models bound the left-out pairs from below and either prove the
    truncation harmless or report the plan as feasible with its gap and the reason.
    """
    from .models.coverage.problem import require_complete

    for table, thr, where in checks:
        try:
            require_complete(table, float(np.nanmax(thr, initial=-np.inf)), where)
        except ValueError as exc:
            problems.add(f"{case.label} › {where}", str(exc))


def network_cutoffs(case: LoadedCase) -> dict[str, float | None]:
    """Search bound of each network table: 'auto' = the largest standard that uses it."""
    from .families import family_of

    cfg = case.config
    out: dict[str, float | None] = {}
    site = family_of(case).site
    assert site is not None
    for name, spec in cfg.travel_times.items():
        if not isinstance(spec, NetworkTravelTimesConfig):
            continue
        out[name] = spec.cutoff if spec.cutoff != "auto" else site.auto_cutoff(case, name)
    return out


def tables_in_use(
    case: LoadedCase, demand: Demand, sites: Sites
) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Per network table of a coverage model: the demand points and sites its standards read
    (classes subject to a standard; sites of its facility types): the coverage family's
    ``SiteParts.tables_in_use`` (other families read every pair)."""
    cfg = case.config
    model = cfg.model
    assert isinstance(model, CoverageModelConfig)
    names = list(cfg.travel_times)
    out: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for name, spec in cfg.travel_times.items():
        if not isinstance(spec, NetworkTravelTimesConfig):
            continue
        readers = [s for s in model.standards if (s.matrix or names[0]) == name]
        if not readers:
            continue  # not read by the model: keep the whole table (layers, reports)
        d_used = np.zeros(len(demand), dtype=bool)
        s_used = np.zeros(len(sites), dtype=bool)
        for s in readers:
            thr = s.threshold
            if isinstance(thr, dict) and demand.demand_class is not None:
                d_used |= np.isin(demand.demand_class.astype(str), list(thr))
            else:
                d_used[:] = True
            if s.facility_types is None:
                s_used[:] = True
            else:
                s_used |= np.isin(sites.facility_type.astype(str), s.facility_types)
        out[name] = (d_used, s_used)
    return out


def validate_against_model(
    case: LoadedCase,
    model: CoverageModelConfig,
    demand: Demand,
    sites: Sites,
    zones: Zones | None,
    problems: ProblemCollector,
) -> None:
    """Checks that need both the model and the data: types, classes and zones that must exist."""
    where = f"{case.label} › model"
    types = set(map(str, sites.facility_type))
    classes = set(map(str, demand.demand_class)) if demand.demand_class is not None else set()
    zone_ids = (
        set(map(str, zones.ids))
        if zones is not None
        else set(map(str, demand.zone if demand.zone is not None else []))
        | set(map(str, sites.zone if sites.zone is not None else []))
    )
    for k, s in enumerate(model.standards):
        key = f"{where}.standards[{k}]"
        for t in s.facility_types or []:
            if t not in types:
                problems.add(
                    f"{key}.facility_types",
                    "no site has this facility type",
                    got=t,
                    fix=f"use one of: {', '.join(sorted(types))}",
                )
        if isinstance(s.threshold, dict):
            field = "minutes" if s.minutes is not None else "metres"
            if demand.demand_class is None:
                problems.add(
                    f"{key}.{field}",
                    "thresholds per demand class need a class column",
                    fix="set demand.columns.class (e.g. urban/rural), or give one number",
                )
            else:
                for cls in s.threshold:
                    if cls not in classes:
                        problems.add(
                            f"{key}.{field}",
                            "no demand point has this class",
                            got=cls,
                            fix=f"use the classes in the data: {', '.join(sorted(classes))}",
                        )
                # footfall classes left out of a residents' standard are the intended design
                footfall = set(case.config.demand.footfall_classes)
                missing = sorted(classes - set(s.threshold) - footfall)
                if missing:
                    n = int(np.isin(demand.demand_class, missing).sum())
                    log.warning(
                        "Standard %s has no threshold for demand classes %s (%d points): "
                        "they are not subject to it",
                        s.name,
                        ", ".join(missing),
                        n,
                    )
        _footfall_target(case, demand, s, key, problems)
        if s.zone_min_share is not None and demand.zone is None:
            problems.add(
                f"{key}.zone_min_share",
                "zone targets need a zone column in the demand",
                fix="set demand.columns.zone",
            )
        if isinstance(s.zone_min_share, dict):
            for z in s.zone_min_share:
                if z not in zone_ids:
                    problems.add(
                        f"{key}.zone_min_share",
                        "unknown zone",
                        got=z,
                        fix="use zone ids from the demand/zones file",
                    )
    for field_name in ("max_new_sites", "min_new_sites", "budget_by_type"):
        value = getattr(model, field_name)
        if isinstance(value, Mapping):
            for t in value:
                if t not in types:
                    problems.add(
                        f"{where}.{field_name}",
                        "no site has this facility type",
                        got=t,
                        fix=f"use one of: {', '.join(sorted(types))}",
                    )
    zone_kinds = set(map(str, zones.kind)) if zones is not None else set()
    for k, share in enumerate(model.type_shares):
        for field_name in ("facility_types", "of"):
            for t in getattr(share, field_name):
                if t not in types:
                    problems.add(
                        f"{where}.type_shares[{k}].{field_name}",
                        "no site has this facility type",
                        got=t,
                        fix=f"use one of: {', '.join(sorted(types))}",
                    )
        if share.scope == "zone" and sites.zone is None:
            problems.add(
                f"{where}.type_shares[{k}].scope",
                "a share per zone needs a zone column in the sites file",
                fix="set sites.columns.zone or scope: county",
            )
    for k, rule in enumerate(model.zone_rules):
        key = f"{where}.zone_rules[{k}]"
        if sites.zone is None:
            problems.add(
                key, "zone rules need a zone column in the sites file", fix="set sites.columns.zone"
            )
        if rule.per_10k_residents is not None and demand.zone is None:
            problems.add(
                f"{key}.per_10k_residents",
                "a density per 10,000 residents needs each demand point's zone",
                fix="set demand.columns.zone",
            )
        if rule.residents_per_site is not None and demand.zone is None:
            problems.add(
                f"{key}.residents_per_site",
                "residents per site needs each demand point's zone",
                fix="set demand.columns.zone",
            )
        for t in rule.facility_types or []:
            if t not in types:
                problems.add(
                    f"{key}.facility_types",
                    "no site has this facility type",
                    got=t,
                    fix=f"use one of: {', '.join(sorted(types))}",
                )
        if rule.zones != "all":
            for z in rule.zones:
                if z not in zone_ids:
                    problems.add(
                        f"{key}.zones", "unknown zone", got=z, fix="use zone ids from the data"
                    )
        if rule.zone_kinds is not None:
            if zones is None:
                problems.add(
                    f"{key}.zone_kinds",
                    "zone kinds need a zones table",
                    fix="add a 'zones' section with a kind column",
                )
            else:
                for kind in rule.zone_kinds:
                    if kind not in zone_kinds:
                        problems.add(
                            f"{key}.zone_kinds",
                            "no zone has this kind",
                            got=kind,
                            fix=f"use one of: {', '.join(sorted(zone_kinds))}",
                        )
    if zones is not None:
        known = set(map(str, zones.ids))
        for label, values in (("demand", demand.zone), ("sites", sites.zone)):
            if values is None:
                continue
            unknown = sorted(set(map(str, values)) - known)
            if unknown:
                problems.add(
                    f"{case.label} › {label}.columns.zone",
                    f"{len(unknown)} zone ids are not in the zones file",
                    got=", ".join(unknown[:10]),
                    fix="add them to the zones file or fix the ids",
                )
    if model.existing == "may_close" and model.budget is not None and sites.removal_cost is None:
        log.info("No removal_cost column: closing an existing site is free in the budget")


def _footfall_target(
    case: LoadedCase, demand: Demand, s: Any, key: str, problems: ProblemCollector
) -> None:
    """Targets are shares of residents: a standard with one must not count footfall venues."""
    footfall = case.config.demand.footfall_classes
    if (s.min_share is None and s.zone_min_share is None) or not footfall:
        return
    if demand.demand_class is None:
        return
    subject = set(s.threshold) if isinstance(s.threshold, dict) else None
    present = set(map(str, demand.demand_class))
    hit = sorted(c for c in footfall if c in present and (subject is None or c in subject))
    if hit:
        problems.add(
            f"{key}.min_share" if s.min_share is not None else f"{key}.zone_min_share",
            "a target is a share of residents, but this standard also counts footfall venues "
            f"(classes {', '.join(hit)})",
            got=s.min_share if s.min_share is not None else s.zone_min_share,
            fix="give minutes per resident class (leaving the venue classes out) for the target, "
            "and a second standard without a target for the venues",
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
    from .models.ems.model import MINUTES_PER_YEAR

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
            for cls in value:
                if classes and cls not in classes:
                    problems.add(
                        f"{where}.{field_name}",
                        "no demand point has this class",
                        got=cls,
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
        for kind in model.zone_kinds:
            if kind not in kinds:
                problems.add(
                    f"{where}.zone_kinds",
                    "no zone has this kind",
                    got=kind,
                    fix=f"use one of: {', '.join(sorted(kinds)) or '(add a zones table with a kind column)'}",
                )
    if model.zone_min_share is not None and demand.zone is None:
        problems.add(
            f"{where}.zone_min_share",
            "zone targets need a zone column in the demand",
            fix="set demand.columns.zone",
        )


def validate_siting(
    case: LoadedCase,
    model: PMedianModelConfig | PCenterModelConfig,
    sites: Sites,
    problems: ProblemCollector,
) -> None:
    """Checks of a p-median / p-center case that need the data (the rest are in the model)."""
    where = f"{case.label} › model"
    types = set(map(str, sites.facility_type))
    for t in model.facility_types or []:
        if t not in types:
            problems.add(
                f"{where}.facility_types",
                "no site has this facility type",
                got=t,
                fix=f"use one of: {', '.join(sorted(types))}",
            )
    if (
        isinstance(model, PMedianModelConfig)
        and model.capacity == "enforce"
        and sites.capacity is None
    ):
        problems.add(
            f"{where}.capacity",
            "capacity: enforce needs a capacity column in the sites file",
            got="enforce",
            fix="set sites.columns.capacity (residents each site can serve), or capacity: ignore",
        )
    allowed = [
        k
        for k, t in enumerate(map(str, sites.facility_type))
        if not model.facility_types or t in model.facility_types
    ]
    known = all(t in types for t in model.facility_types or [])
    if (
        known
        and model.p is not None
        and model.p > len(allowed)
        and isinstance(model, PMedianModelConfig)
    ):
        problems.add(
            f"{where}.p",
            "more sites than the candidate and existing sites of the placed types",
            got=model.p,
            fix=f"give p <= {len(allowed)}",
        )
    if model.p is not None and model.existing == "keep":
        n_exist = int(sum(bool(sites.existing[k]) for k in allowed))
        if model.p < n_exist:
            problems.add(
                f"{where}.p",
                f"fewer sites than the {n_exist} existing ones kept open",
                got=model.p,
                fix=f"give p >= {n_exist}, or set existing: may_close",
            )


def solve_case(
    prepared: PreparedCase,
    *,
    backend: str | None = None,
    time_limit_s: float | None = None,
    warm_start: Any = None,
    settings: SolveSettings | None = None,
) -> Any:
    """Solve a prepared case with its family (:mod:`optimizer.families`) and check its
    certificate. ``settings`` (else ``backend`` / ``time_limit_s`` over the case's solver
    section, :func:`optimizer.settings.resolve_solve_options`); ``warm_start``: a plan of the
    same case (a sweep neighbour's), used by the families that take one."""
    from .runner import settings_for, solve_prepared

    if settings is None:
        settings = settings_for(prepared, SolveOverrides(backend, time_limit_s))
    return solve_prepared(prepared, settings, warm_start=warm_start)


def run_case(
    case: CaseFile | str | Path,
    out_dir: str | Path | None = None,
    *,
    backend: str | None = None,
    time_limit_s: float | None = None,
) -> tuple[Any, Any, Path]:
    """Validate, solve, certify and write the outputs of a case of any kind (siting, 120,
    staffing ...: :func:`optimizer.runner.run_any`). Returns what it wrote where."""
    from .runner import run_any

    return run_any(case, out_dir, SolveOverrides(backend, time_limit_s))
