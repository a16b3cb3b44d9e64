"""The model families in one table: how each case kind is loaded, prepared, solved and written.

A **family** is everything the pipeline needs to know about one kind of case. ``FAMILIES`` maps
each ``kind`` of a case file to its :class:`Family` (``model.kind`` of a siting case, the
top-level ``kind`` of a staffing case), so every path (``validate``, ``run``, ``sweep``,
``batch``, the Dask worker, the Python API) goes through the same lookups and no code outside the
families tests the type of a problem or a solution:

=========  ==================================  ================================================
family     kinds                               model (MODELS.md)
=========  ==================================  ================================================
coverage   lscp, mclp, psclp, coverage         LSCP / MCLP / PSCLP and compositions (§2)
phased     (coverage with ``model.phases``)    multi-period MCLP roll-out (§2.6)
siting     p_median, p_center                  p-median (Hakimi 1964), p-center (§3)
ems        ems                                 120 stations + ambulances (§6)
tiers      village_tiers                       village-clinic tiers, location-allocation (§1.6)
quota      staffing_quota                      编制 quota allocation (§4.1, §8.4)
sent_down  sent_down                           下沉 doctor rotations (§4.3, §8.5)
=========  ==================================  ================================================

To add a family: write its problem, solve (with its raw-data check), outputs and layers in its own
subpackage, then one :class:`Family` entry here; docs/DESIGN.md ("Adding a family") has the list.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from geodata.arrays import Demand, Sites, TravelTimes, Zones

from .case.loading import parse_case
from .errors import ProblemCollector
from .models.coverage.outputs import coverage_summary
from .models.coverage.phased import solve_phased
from .models.coverage.problem import CoverageProblem, demand_thresholds
from .models.coverage.rules import tables_in_use, validate_against_model
from .models.coverage.solve import solve_coverage
from .models.coverage.write import write_coverage_results
from .models.ems.outputs import ems_summary
from .models.ems.problem import EmsProblem
from .models.ems.rules import validate_ems
from .models.ems.solve import solve_ems
from .models.ems.write import write_ems_results
from .models.siting.outputs import siting_summary, write_siting_results
from .models.siting.rules import validate_siting
from .models.siting.solve import SitingProblem, solve_siting
from .models.tiers import adapters as _tiers
from .schema.files import CaseFile, LoadedCase
from .settings import SolveSettings
from .staffing.config import parse_staffing_case
from .staffing.outputs import summary_text, write_staffing_results
from .staffing.quota import solve_quota
from .staffing.rotation import default_presolve, solve_rotation
from .staffing.run import prepare_staffing

__all__ = ["FAMILIES", "STAFFING_KINDS", "Family", "SiteParts", "family_of", "kind_of"]

log = logging.getLogger(__name__)

Check = tuple[TravelTimes, np.ndarray, str]
"""A travel-time table, the largest threshold read from it per demand point, and the key."""


@dataclass(frozen=True)
class SiteParts:
    """The parts of a family whose case is demand + sites + travel times (``optimizer.case``)."""

    validate_data: Callable[[LoadedCase, Any, Demand, Sites, Zones | None, ProblemCollector], None]
    """Checks that need both the model and the data (types, classes, zones that must exist)."""
    make_problem: Callable[[Demand, Sites, dict[str, TravelTimes], Any, Zones | None], Any]
    table_checks: Callable[[Any], list[Check]]
    """Tables that must be complete up to a threshold (empty: truncation is bounded instead)."""
    auto_cutoff: Callable[[LoadedCase, str], float | None]
    """``cutoff: auto`` of a network table: the search bound it needs (None = the full table)."""
    tables_in_use: Callable[[LoadedCase, Demand, Sites], dict[str, Any]] = (
        lambda case, demand, sites: {}
    )
    """Per network table, the demand points and sites the model reads ({}: every pair)."""


@dataclass(frozen=True)
class Family:
    """One model family: the table row that replaces the ``isinstance`` ladders."""

    name: str
    kinds: tuple[str, ...]
    load: Callable[[str, str, Path | None, Path | None], CaseFile]
    """Parse and validate case YAML text (schema and cross-field rules): (text, label, base_dir, path)."""
    reprepare: Callable[[Any, Any], Any]
    """(prepared case, a sweep point's case) -> the point prepared, reusing the data."""
    solve: Callable[[Any, SolveSettings, Any], Any]
    """(prepared, settings, warm start or None) -> the certified solution."""
    has_plan: Callable[[Any], bool]
    certificate: Callable[[Any], dict[str, Any]]
    """objective, bound, gap, sense, checked of a solution (for :func:`check_certificate`)."""
    warm_start: Callable[[Any], Any]
    """The plan of a solution, as the next sweep point's warm start (None: none is used)."""
    write: Callable[[Any, Any, Path], list[str]]
    """Write solution.json, tables, layers, report and manifest atomically; the file names."""
    summary: Callable[[Any, Any, Path | None], str]
    sweep_row: Callable[[Any], dict[str, Any]]
    """The family's columns of a sweep's frontier.csv row."""
    validated: Callable[[Any], str]
    """What ``validate`` prints after "OK: CASE is valid - "."""
    maximise: Callable[[Any], bool]
    default_presolve: Callable[[Any], bool] = lambda prepared: True
    prepare: Callable[[Any], Any] | None = None
    """Read and validate every file of the case (all problems at once); None: a siting case,
    prepared by :func:`optimizer.case.prepare.prepare_case` with the family's ``site`` parts."""
    site: SiteParts | None = None
    variant: Callable[[Any], Family | None] | None = None
    """A more specific family for a model section (coverage with phases -> phased)."""
    unanswered: Callable[[Any], list[str]] = lambda sol: []
    """Parts the case asks for that have no plan although the main plan exists (one line
    each, e.g. reserved hires that cannot meet their band): the run then ends with exit 2."""


# ---------------------------------------------------------------------------------------------
# Siting cases: coverage, phased, p-median / p-center, 120
# ---------------------------------------------------------------------------------------------
def _load_siting(text: str, label: str, base_dir: Path | None, path: Path | None) -> CaseFile:
    return parse_case(text, label=label, base_dir=base_dir, path=path)


def _reprepare_siting(prepared: Any, point: LoadedCase) -> Any:
    problem = replace(prepared.problem, model=point.config.model)
    return replace(prepared, case=point, problem=problem, settings=None)


def _validated_siting(prepared: Any) -> str:
    p = prepared.problem
    return (
        f"{len(p.demand):,} demand points, {len(p.sites):,} sites, "
        f"{sum(len(t) for t in p.travel_times.values()):,} travel-time pairs, "
        f"model {prepared.case.config.model.kind}"
    )


def _cert(sol: Any) -> dict[str, Any]:
    return {
        "objective": sol.objective,
        "bound": sol.bound,
        "gap": sol.gap,
        "sense": getattr(sol, "sense", "min"),
        "checked": sol.checked,
    }


def _maximise_siting(prepared: Any) -> bool:
    return prepared.problem.model.resolved_objective in ("max_coverage", "mexclp", "bacop")


def _standards_cutoff(case: LoadedCase, name: str) -> float | None:
    """The largest standard that reads the table ``name``."""
    names = list(case.config.travel_times)
    largest: float | None = None
    model: Any = case.config.model
    for s in model.standards:
        if s.matrix == name or (s.matrix is None and names[0] == name):
            thr = s.threshold
            value = max(thr.values()) if isinstance(thr, dict) else float(thr)
            largest = value if largest is None else max(largest, value)
    return largest


def _coverage_checks(problem: Any) -> list[Check]:
    return [
        (problem.matrix_for(s), demand_thresholds(s, problem.demand), f"model.standards[{k}]")
        for k, s in enumerate(problem.standards)
    ]


def _coverage_problem(*args: Any) -> Any:
    return CoverageProblem(*args)


def _validate_coverage(*args: Any) -> None:
    validate_against_model(*args)


def _coverage_tables_in_use(case: LoadedCase, demand: Demand, sites: Sites) -> dict[str, Any]:
    return tables_in_use(case, demand, sites)


def _solve_coverage(prepared: Any, st: SolveSettings, warm: Any) -> Any:
    return solve_coverage(
        prepared.problem,
        st.options,
        backend=st.backend,
        warm_open=warm,
        aggregate=st.aggregate_demand,
        drop_dominated=st.drop_dominated,
        method=st.method,
    )


def _coverage_row(sol: Any) -> dict[str, Any]:
    ev = sol.evaluation
    if ev is None:
        return {}
    row: dict[str, Any] = {"cost": ev.total_cost}
    for r in ev.standards:
        row[f"share_{r.name}"] = r.share
    for t in sol.problem.sites.types:
        row[f"sites_{t}"] = int((ev.open_mask & (sol.problem.sites.facility_type == t)).sum())
    return row


def _phased_variant(model: Any) -> Family | None:
    return PHASED if model.phases else None


def _solve_phased(prepared: Any, st: SolveSettings, warm: Any) -> Any:
    return solve_phased(
        prepared.problem, st.options, backend=st.backend, aggregate=st.aggregate_demand
    )


_COVERAGE_SITE = SiteParts(
    validate_data=_validate_coverage,
    make_problem=_coverage_problem,
    table_checks=_coverage_checks,
    auto_cutoff=_standards_cutoff,
    tables_in_use=_coverage_tables_in_use,
)

COVERAGE = Family(
    name="coverage",
    kinds=("lscp", "mclp", "psclp", "coverage"),
    load=_load_siting,
    reprepare=_reprepare_siting,
    solve=_solve_coverage,
    has_plan=lambda sol: sol.open_mask is not None,
    certificate=_cert,
    warm_start=lambda sol: sol.open_mask,
    write=write_coverage_results,
    summary=coverage_summary,
    sweep_row=_coverage_row,
    validated=_validated_siting,
    maximise=_maximise_siting,
    site=_COVERAGE_SITE,
    variant=_phased_variant,
)

PHASED = replace(
    COVERAGE,
    name="phased",
    kinds=(),
    solve=_solve_phased,
    has_plan=lambda sol: bool(sol.open_by_phase),
    warm_start=lambda sol: None,
    variant=None,
)


def _siting_problem(*args: Any) -> Any:
    return SitingProblem(*args)


def _validate_siting(
    case: LoadedCase,
    model: Any,
    demand: Demand,
    sites: Sites,
    zones: Zones | None,
    problems: ProblemCollector,
) -> None:
    validate_siting(case, model, sites, problems)


def _solve_siting(prepared: Any, st: SolveSettings, warm: Any) -> Any:
    return solve_siting(prepared.problem, st.options, backend=st.backend)


def _siting_row(sol: Any) -> dict[str, Any]:
    res = sol.result
    row: dict[str, Any] = {}
    if res.open_mask is not None and res.travel is not None and res.assigned_site is not None:
        w = sol.problem.demand.weight
        served = res.assigned_site >= 0
        row["sites_open"] = int(res.open_mask.sum())
        if served.any() and w[served].sum() > 0:
            row["mean_travel"] = float((w[served] * res.travel[served]).sum() / w[served].sum())
            row["worst_travel"] = float(res.travel[served].max())
    return row


SITING = Family(
    name="siting",
    kinds=("p_median", "p_center"),
    load=_load_siting,
    reprepare=_reprepare_siting,
    solve=_solve_siting,
    has_plan=lambda sol: sol.result.open_mask is not None,
    certificate=lambda sol: {**_cert(sol.result), "sense": sol.sense},
    warm_start=lambda sol: None,
    write=write_siting_results,
    summary=siting_summary,
    sweep_row=_siting_row,
    validated=_validated_siting,
    maximise=_maximise_siting,
    site=SiteParts(
        validate_data=_validate_siting,
        make_problem=_siting_problem,
        table_checks=lambda problem: [],  # no threshold: truncation is bounded, not refused
        auto_cutoff=lambda case, name: None,  # every trip counts: the table in full
    ),
)


def _ems_problem(*args: Any) -> Any:
    return EmsProblem(*args)


def _validate_ems(*args: Any) -> None:
    validate_ems(*args)


def _ems_checks(problem: Any) -> list[Check]:
    checks = [(problem.time_table(), problem.drive_budget_min(), "model.response_min")]
    radius, dist = problem.radius_m(), problem.distance_table()
    if radius is not None and dist is not None:
        checks.append((dist, radius, "model.radius_m"))
    return checks


def _ems_cutoff(case: LoadedCase, name: str) -> float | None:
    # drive times are kept in full: mean and worst response need every nearest station
    model: Any = case.config.model
    radius = model.radius_m
    if name == model.distance_matrix and radius is not None:
        return max(radius.values()) if isinstance(radius, dict) else float(radius)
    return None


def _solve_ems(prepared: Any, st: SolveSettings, warm: Any) -> Any:
    return solve_ems(
        prepared.problem, st.options, backend=st.backend, aggregate=st.aggregate_demand
    )


def _ems_row(sol: Any) -> dict[str, Any]:
    ev = sol.evaluation
    if ev is None:
        return {}
    return {"cost": ev.cost, "ambulances": ev.total_vehicles, "stations": int(ev.plan.open.sum())}


EMS = Family(
    name="ems",
    kinds=("ems",),
    load=_load_siting,
    reprepare=_reprepare_siting,
    solve=_solve_ems,
    has_plan=lambda sol: sol.evaluation is not None,
    certificate=_cert,
    warm_start=lambda sol: None,
    write=write_ems_results,
    summary=ems_summary,
    sweep_row=_ems_row,
    validated=_validated_siting,
    maximise=_maximise_siting,
    site=SiteParts(
        validate_data=_validate_ems,
        make_problem=_ems_problem,
        table_checks=_ems_checks,
        auto_cutoff=_ems_cutoff,
    ),
)


TIERS = Family(
    name="tiers",
    kinds=("village_tiers",),
    load=_load_siting,
    reprepare=_reprepare_siting,
    solve=_tiers.solve,
    has_plan=lambda sol: sol.plan is not None,
    certificate=_cert,
    warm_start=lambda sol: None,
    write=_tiers.write,
    summary=_tiers.summary,
    sweep_row=_tiers.sweep_row,
    validated=_tiers.validated,
    maximise=_tiers.maximise,
    site=SiteParts(
        validate_data=_tiers.validate_data,
        make_problem=_tiers.make_problem,
        table_checks=_tiers.table_checks,
        auto_cutoff=_tiers.auto_cutoff,
    ),
)


# ---------------------------------------------------------------------------------------------
# Staffing cases: 编制 quotas, sent-down rotations
# ---------------------------------------------------------------------------------------------
def _load_staffing(text: str, label: str, base_dir: Path | None, path: Path | None) -> CaseFile:
    return parse_staffing_case(text, label=label, base_dir=base_dir, path=path)


def _prepare_staffing(case: Any) -> Any:
    return prepare_staffing(case)


def _solve_quota(prepared: Any, st: SolveSettings, warm: Any) -> Any:
    return solve_quota(prepared.instance, st.options, backend=st.backend)


def _solve_rotation(prepared: Any, st: SolveSettings, warm: Any) -> Any:
    return solve_rotation(prepared.instance, st.options, backend=st.backend)


def _write_staffing(prepared: Any, sol: Any, out: Path) -> list[str]:
    return write_staffing_results(
        prepared.case, sol, out, prepared.input_files, settings=prepared.settings
    )


def _summary_staffing(prepared: Any, sol: Any, out: Path | None) -> str:
    return summary_text(prepared.case, sol, out)


def _rotation_presolve(prepared: Any) -> bool:
    return bool(default_presolve(prepared.instance))


def _quota_unanswered(sol: Any) -> list[str]:
    hires = sol.hires
    if sol.evaluation is None or hires is None or hires.status.has_solution:
        return []
    why = "; ".join(hires.diagnosis[:3]) or hires.message
    return [f"reserved hires: no plan ({hires.status.value}): {why}"]


def _quota_row(sol: Any) -> dict[str, Any]:
    row: dict[str, Any] = {"movement": sol.movement}
    if sol.posts is not None:
        row["posts"] = int(sol.posts.sum())
    return row


QUOTA = Family(
    name="quota",
    kinds=("staffing_quota",),
    load=_load_staffing,
    prepare=_prepare_staffing,
    reprepare=lambda prepared, point: _prepare_staffing(point),
    solve=_solve_quota,
    has_plan=lambda sol: sol.evaluation is not None,
    certificate=lambda sol: {
        "objective": sol.shortfall,
        "bound": sol.bound,
        "gap": sol.gap,
        "sense": "min",
        "checked": sol.checked,
    },
    warm_start=lambda sol: None,
    write=_write_staffing,
    summary=_summary_staffing,
    sweep_row=_quota_row,
    validated=lambda prepared: f"staffing case, kind {prepared.case.kind}",
    maximise=lambda prepared: False,
    unanswered=_quota_unanswered,
)

SENT_DOWN = replace(
    QUOTA,
    name="sent_down",
    kinds=("sent_down",),
    solve=_solve_rotation,
    certificate=lambda sol: {**_cert(sol), "sense": "max"},  # value of the stints (rotation.py)
    sweep_row=lambda sol: {},
    default_presolve=_rotation_presolve,
    maximise=lambda prepared: True,
    unanswered=lambda sol: [],
)

FAMILIES: dict[str, Family] = {
    k: f for f in (COVERAGE, SITING, EMS, TIERS, QUOTA, SENT_DOWN) for k in f.kinds
}
"""Every case kind -> its family (phased is the coverage family's variant for ``phases``)."""

STAFFING_KINDS = (*QUOTA.kinds, *SENT_DOWN.kinds)


def _model_of(item: Any) -> Any:
    """The model section that decides the family: a prepared case's problem's (a sweep point
    or a notebook may swap it), else the case file's; None for a staffing case."""
    problem = getattr(item, "problem", None)
    if problem is not None and getattr(problem, "model", None) is not None:
        return problem.model
    case = getattr(item, "case", item)
    return getattr(getattr(case, "config", None), "model", None)


def kind_of(item: Any) -> str:
    """The kind that picks the family: ``model.kind`` of a siting case, else ``kind``."""
    model = _model_of(item)
    if model is not None:
        return str(model.kind)
    case = getattr(item, "case", item)
    return str(getattr(case.config, "kind", ""))


def family_of(item: CaseFile | Any) -> Family:
    """The family of a loaded case, a prepared case or a run (anything with ``.case``)."""
    family = FAMILIES[kind_of(item)]
    if family.variant is not None:
        family = family.variant(_model_of(item)) or family
    return family
