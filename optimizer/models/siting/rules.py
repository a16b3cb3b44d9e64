"""The p-median / p-center rules: cross-field rules of the case file, and checks of the data against the model."""

from __future__ import annotations

from geodata.arrays import Sites

from ...errors import ProblemCollector
from ...schema.files import LoadedCase
from ...schema.siting import PCenterModelConfig, PMedianModelConfig
from ..rules import require_known


def _check_siting_rules(
    case: LoadedCase, model: PMedianModelConfig | PCenterModelConfig, problems: ProblemCollector
) -> None:
    cfg = case.config
    where = f"{case.label} › model"
    tables = list(cfg.travel_times)
    if model.matrix is not None and model.matrix not in cfg.travel_times:
        problems.add(
            f"{where}.matrix",
            "no travel-time table of this name",
            got=model.matrix,
            fix=f"use one of: {', '.join(tables)}",
        )
    if model.matrix is None and len(tables) > 1:
        problems.add(
            f"{where}.matrix",
            "several travel-time tables are given; say which one the model uses",
            fix=f"add 'matrix: <name>' with one of: {', '.join(tables)}",
        )


def check_siting_case(
    case: LoadedCase, model: PMedianModelConfig | PCenterModelConfig, problems: ProblemCollector
) -> None:
    cfg, label = case.config, case.label
    _check_siting_rules(case, model, problems)
    if cfg.solver.method in ("benders", "bbc"):
        problems.add(
            f"{label} › solver.method",
            "solver.method chooses the covering models' decomposition; p-median and "
            "p-center choose theirs in the model",
            got=cfg.solver.method,
            fix="drop solver.method (or use auto) and set model.method"
            + (" (p_median: auto | benders | assignment)" if model.kind == "p_median" else ""),
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
    require_known(
        model.facility_types or [],
        types,
        f"{where}.facility_types",
        "no site has this facility type",
        problems,
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
