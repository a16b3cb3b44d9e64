"""Preparing a staffing case: validate the YAML and read every file it names (all problems at once).

The quota and sent-down families (:mod:`optimizer.families`) solve and write it; the front door
for every kind is :mod:`optimizer.case.run` (``run_case``, ``solve_case``).
"""

from __future__ import annotations

import hashlib
import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import CheckError, ProblemCollector
from ..handoff import check_service_population
from .config import QuotaCase, StaffingCase, load_staffing_case
from .quota import QuotaInstance
from .rotation import RotationInstance
from .tables import load_quota_instance, load_rotation_instance

__all__ = [
    "PreparedStaffing",
    "input_files",
    "prepare_staffing",
]

log = logging.getLogger(__name__)


@dataclass(frozen=True, eq=False)
class PreparedStaffing:
    case: StaffingCase
    instance: QuotaInstance | RotationInstance
    input_files: dict[str, str]
    settings: Any = None
    """The solve settings of the run (:class:`optimizer.settings.SolveSettings`), recorded."""


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def input_files(case: StaffingCase) -> list[str]:
    cfg = case.config
    if isinstance(cfg, QuotaCase):
        files = [cfg.facilities.file]
        for part in (cfg.service_population, cfg.current_staff, cfg.need):
            if part is not None:
                files.append(part.file)
        if cfg.reserved_hires is not None:
            files.append(cfg.reserved_hires.file)
            for extra in (cfg.reserved_hires.pairs, cfg.reserved_hires.vacancies):
                if extra is not None:
                    files.append(extra.file)
        return files
    files = [cfg.doctors.file, cfg.hosts.file, cfg.travel.file]
    for part2 in (cfg.departments, cfg.needs):
        if part2 is not None:
            files.append(part2.file)
    if cfg.coverage is not None:
        files += [cfg.coverage.demand.file, cfg.coverage.travel_times.file]
    return files


def prepare_staffing(case: StaffingCase | str | Path) -> PreparedStaffing:
    """Validate a staffing case and read all its data; raise one CaseError listing every problem."""
    if not isinstance(case, StaffingCase):
        case = load_staffing_case(case)
    t0 = time.perf_counter()
    problems = ProblemCollector()
    instance: QuotaInstance | RotationInstance | None
    if isinstance(case.config, QuotaCase):
        instance = load_quota_instance(case, problems)
    else:
        instance = load_rotation_instance(case, problems)
    problems.raise_if_any()
    assert instance is not None
    if isinstance(instance, QuotaInstance):
        _check_handoff(case, instance)
    inputs = {}
    for f in input_files(case):
        p = case.resolve(f)
        if p.is_file():
            inputs[f] = _sha256(p)
    log.info(
        "Staffing case '%s' loaded and validated in %.2f s",
        case.config.name,
        time.perf_counter() - t0,
    )
    return PreparedStaffing(case, instance, inputs)


def _check_handoff(case: StaffingCase, inst: QuotaInstance) -> None:
    """Residents per facility from a siting run, recomputed apart (optimizer.handoff)."""
    cfg = case.config
    assert isinstance(cfg, QuotaCase)
    sp = cfg.service_population
    src = inst.population_source or {}
    siting = src.get("from_siting_run")
    if sp is None or not isinstance(siting, dict):
        return
    violations = check_service_population(
        case.resolve(sp.file),
        weight_column=str(siting["weight_column"]),
        facility_types=sp.facility_types,
        partition_types=cfg.population.partition_types,
        nearest_columns=sp.nearest_columns,
        time_columns=sp.time_columns,
        facilities={
            str(f): (str(t), float(p))
            for f, t, p in zip(inst.facility_ids, inst.types, inst.population, strict=True)
        },
        county_total=inst.county_population,
        county_stated=cfg.population.county_total is not None,
        leave_out=sp.unassigned == "leave_out",
    )
    if violations:
        raise CheckError(["siting -> staffing hand-off: " + v for v in violations])
    log.info("Hand-off checked: residents per facility recomputed from %s", sp.file)
