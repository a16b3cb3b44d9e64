"""Preparing a siting case: read every file it names, route its networks, check the data.

:func:`prepare_case` reads every file the case names and validates the data against the model
(all problems at once, before any work) with the family's rules (``Family.site``).
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from geodata.arrays import TravelTimes
from geodata.estimate import EstimateReport
from geodata.estimate_case import estimate_case
from geodata.routing import RoutingReport, route_case
from geodata.sources import CaseFiles
from geodata.tables import load_demand, load_sites, load_zones
from geodata.travel_table import load_travel_times
from geodata.zone_shapes import load_zone_polygons

from ..certify_roads import check_travel_times
from ..errors import ProblemCollector
from ..families import family_of
from ..models.coverage.problem import CoverageProblem, require_complete
from ..models.ems.problem import EmsProblem
from ..models.siting.solve import SitingProblem
from ..schema.data import NetworkTravelTimesConfig, TravelTimesConfig
from ..schema.files import LoadedCase
from ..settings import SolveSettings
from .loading import load_case

__all__ = [
    "PreparedCase",
    "RoadCheck",
    "network_cutoffs",
    "prepare_case",
    "prepare_case_beside",
]

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


class RoadCheck:
    """The independent road check of a prepared case, running in a thread beside the solve.

    The solvers work without Python's GIL (SCIP's ``optimizeNogil``, HiGHS's run), so on two
    cores the check (NumPy/SciPy routing) runs alongside instead of before: on the default case
    it takes 1.4 s that the run no longer waits for. :meth:`result` joins it and raises its
    CheckError, and :func:`optimizer.case.run.run_any` calls it before anything is written.
    A daemon thread: an interrupted run does not wait for it."""

    def __init__(self, check: Callable[[], dict[str, dict[str, Any]]]) -> None:
        self._box: list[Any] = []

        def work() -> None:
            try:
                self._box.append(check())
            except BaseException as exc:  # handed to result()
                self._box.append(exc)

        self._thread = threading.Thread(target=work, name="road-check", daemon=True)
        self._thread.start()

    def result(self) -> dict[str, dict[str, Any]]:
        """The ``travel_times_check`` block, once the check ends (its error raised here)."""
        self._thread.join()
        value = self._box[0]
        if isinstance(value, BaseException):
            raise value
        return dict(value)


def prepare_case(case: LoadedCase | str | Path, *, check_roads: bool = True) -> PreparedCase:
    """Read and validate every file of the case; raise one CaseError listing all problems.

    Every network travel-time table is then re-checked on a sample against the roads by the
    independent router (``check_roads``; a deviation raises CheckError)."""
    prepared, check = _prepare(case)
    return replace(prepared, travel_times_check=check()) if check_roads else prepared


def prepare_case_beside(case: LoadedCase | str | Path) -> tuple[PreparedCase, RoadCheck]:
    """:func:`prepare_case` with the road check started in a thread (:class:`RoadCheck`): the
    caller solves meanwhile and joins the check before it writes or reports anything."""
    prepared, check = _prepare(case)
    return prepared, RoadCheck(check)


def _prepare(
    case: LoadedCase | str | Path,
) -> tuple[PreparedCase, Callable[[], dict[str, dict[str, Any]]]]:
    """The prepared case without its road check, and the check to run."""
    if not isinstance(case, LoadedCase):
        case = load_case(case)
    family = family_of(case)
    site = family.site
    assert site is not None, f"{family.name} is not a siting family"
    cfg = case.config
    t0 = time.perf_counter()
    problems = ProblemCollector()
    where = CaseFiles(case.label, case.resolve)
    demand = load_demand(cfg.demand, where, problems)
    sites = load_sites(cfg.sites, where, problems)
    zones = load_zones(cfg.zones, where, problems) if cfg.zones is not None else None
    polygons = load_zone_polygons(cfg.zones, where, problems) if cfg.zones is not None else None
    tables: dict[str, TravelTimes] = {}
    routing: dict[str, RoutingReport] = {}
    graphs: dict[str, Any] = {}  # networks as read, for the independent router (then dropped)
    estimates: dict[str, EstimateReport] = {}
    if demand is not None and sites is not None:
        for name, tcfg in cfg.travel_times.items():
            if isinstance(tcfg, TravelTimesConfig):
                tt = load_travel_times(name, tcfg, where, demand.ids, sites.ids, problems)
                if tt is not None:
                    tables[name] = tt
        if not problems:
            net_tables, routing = route_case(
                cfg.travel_times,
                cfg.networks,
                where,
                demand,
                sites,
                network_cutoffs(case),
                problems,
                used=site.tables_in_use(case, demand, sites),
                graphs=graphs,
            )
            tables.update(net_tables)
            est_tables, estimates = estimate_case(cfg.travel_times, where, demand, sites, problems)
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
    used = site.tables_in_use(case, demand, sites)
    return prepared, lambda: check_travel_times(prepared, used, graphs=graphs)


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
    for table, thr, where in checks:
        try:
            require_complete(table, float(np.nanmax(thr, initial=-np.inf)), where)
        except ValueError as exc:
            problems.add(f"{case.label} › {where}", str(exc))


def network_cutoffs(case: LoadedCase) -> dict[str, float | None]:
    """Search bound of each network table: 'auto' = the largest standard that uses it."""
    cfg = case.config
    out: dict[str, float | None] = {}
    site = family_of(case).site
    assert site is not None
    for name, spec in cfg.travel_times.items():
        if not isinstance(spec, NetworkTravelTimesConfig):
            continue
        out[name] = spec.cutoff if spec.cutoff != "auto" else site.auto_cutoff(case, name)
    return out
