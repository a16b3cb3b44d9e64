"""The front door: load a case of any kind, prepare it, solve it with its family, write it.

``python -m optimizer run`` (and ``demo``, ``staff``), ``validate``, ``sweep``, ``batch`` (local
pool and Dask worker), :func:`run_case` and the Python API all go through these functions; the
family of a case comes from :mod:`optimizer.families`' table.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from pathlib import Path
from typing import Any

import yaml

from ..atomic import check_out_dir, claim
from ..casefile import load_yaml, read_case_text
from ..certificate import check_certificate, solution_limit
from ..errors import CaseError
from ..families import COVERAGE, QUOTA, STAFFING_KINDS, family_of
from ..schema.files import CaseFile, LoadedCase
from ..settings import SolveOverrides, SolveSettings, resolve_solve_options
from .prepare import PreparedCase, RoadCheck, prepare_case, prepare_case_beside

__all__ = [
    "default_out_dir",
    "load_any",
    "prepare_any",
    "run_any",
    "run_case",
    "settings_for",
    "solve_case",
    "solve_prepared",
]

log = logging.getLogger(__name__)


# ---------------------------------------------------------------------------------------------
def _source_text(source: str | Path) -> tuple[str, str, Path | None, Path | None]:
    """(text, label, base_dir, path) of a case file path, or of YAML text given directly."""
    if isinstance(source, str) and ("\n" in source or source.lstrip().startswith("{")):
        return source, "<case>", None, None
    p = Path(source)
    return read_case_text(p), str(p), p.resolve().parent, p


def load_any(
    source: str | Path, *, base_dir: Path | None = None, label: str | None = None
) -> CaseFile:
    """Read and validate a case of any kind: a path, or YAML text (paths in it are relative to
    ``base_dir``, default the working folder). The top-level ``kind`` picks a staffing case;
    everything else is a siting case (its ``model.kind`` picks the family)."""
    text, lbl, base, path = _source_text(source)
    try:
        head = load_yaml(text)
    except (CaseError, yaml.YAMLError, RecursionError):
        head = None  # the siting loader reports the problem with its line
    loader = (
        QUOTA.load
        if isinstance(head, dict) and head.get("kind") in STAFFING_KINDS
        else COVERAGE.load
    )
    return loader(text, label or lbl, base_dir or base, path)


def prepare_any(case: CaseFile | str | Path) -> Any:
    """Read and validate every data file of a case of any kind (one CaseError, all problems)."""
    if not isinstance(case, CaseFile):
        case = load_any(case)
    family = family_of(case)
    if family.prepare is not None:
        return family.prepare(case)
    assert isinstance(case, LoadedCase), f"{family.name}: a siting family reads a siting case"
    return prepare_case(case)


def settings_for(prepared: Any, overrides: SolveOverrides | None = None) -> SolveSettings:
    """The solve settings of a prepared case: ``overrides`` > the case's solver section > default."""
    family = family_of(prepared)
    return resolve_solve_options(
        overrides, prepared.case.config.solver, default_presolve=family.default_presolve(prepared)
    )


def solve_prepared(
    prepared: Any, settings: SolveSettings | None = None, *, warm_start: Any = None
) -> Any:
    """Solve a prepared case with its family, then check the certificate (status / plan / bound
    side) with :func:`optimizer.certificate.check_certificate`, for every family."""
    family = family_of(prepared)
    settings = settings or settings_for(prepared)
    sol = family.solve(prepared, settings, warm_start)
    check_certificate(
        status=sol.status,
        has_plan=family.has_plan(sol),
        where=f"{family.name} answer",
        **family.certificate(sol),
    )
    limit = solution_limit(sol, settings.options.time_limit_s)
    log.info("%s answer: %s, limit %s (%s)", family.name, sol.status.value, limit, sol.message)
    return sol


def default_out_dir(prepared: Any) -> Path:
    """``output.dir`` of the case (relative to the case file), else ``results/<name>``."""
    cfg = prepared.case.config
    if cfg.output.dir:
        return Path(prepared.case.resolve(cfg.output.dir))
    keep = [c if c.isalnum() else "-" for c in cfg.name.lower()]
    return Path("results") / ("-".join(p for p in "".join(keep).split("-") if p) or "case")


def run_any(
    case: CaseFile | str | Path,
    out_dir: str | Path | None = None,
    overrides: SolveOverrides | None = None,
) -> tuple[Any, Any, Path]:
    """Validate, solve, certify and write a case of any kind: (prepared, solution, folder).

    An unusable ``out_dir`` is refused before reading or solving, and the folder is locked
    before solving, so a second run into it is refused at once (:func:`optimizer.atomic.claim`)."""
    if out_dir is not None:
        check_out_dir(out_dir)
    prepared, road_check = _prepare_beside(case)
    settings = settings_for(prepared, overrides)
    prepared = replace(prepared, settings=settings)
    out = Path(out_dir) if out_dir is not None else default_out_dir(prepared)
    with claim(out):
        try:
            solution = solve_prepared(prepared, settings)
        except Exception:
            if road_check is not None:
                road_check.result()  # its CheckError comes first: the tables are the cause
            raise
        if road_check is not None:
            prepared = replace(prepared, travel_times_check=road_check.result())
        family_of(prepared).write(prepared, solution, out)
    return prepared, solution, out


def _prepare_beside(case: CaseFile | str | Path) -> tuple[Any, RoadCheck | None]:
    """:func:`prepare_any`, with a siting case's road check running beside the solve."""
    if not isinstance(case, CaseFile):
        case = load_any(case)
    if family_of(case).prepare is not None or not isinstance(case, LoadedCase):
        return prepare_any(case), None
    return prepare_case_beside(case)


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
    staffing ...: :func:`run_any`). Returns what it wrote where."""
    return run_any(case, out_dir, SolveOverrides(backend, time_limit_s))
