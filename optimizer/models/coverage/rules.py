"""The covering models' rules: cross-field rules of the case file, and checks of the data against the model."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from geodata.arrays import Demand, Sites, Zones

from ...errors import ProblemCollector
from ...schema.coverage import CoverageModelConfig
from ...schema.data import NetworkTravelTimesConfig
from ...schema.files import LoadedCase
from ..rules import require_known

log = logging.getLogger(__name__)


def check_coverage_case(
    case: LoadedCase, model: CoverageModelConfig, problems: ProblemCollector
) -> None:
    """The covering models' rules (LSCP, MCLP, PSCLP, compositions, phases): every rule that
    spans several keys of the case file, each broken one added to ``problems``."""
    _check_method(case, model, problems)
    _check_standards(case, model, problems)
    _check_objective(case, model, problems)
    if model.phases is not None:
        _check_phases(case, model, problems)
    if model.keep_existing_count and model.existing != "may_close":
        problems.add(
            f"{case.label} › model.keep_existing_count",
            "only meaningful with existing: may_close",
            got=True,
            fix="set existing: may_close, or drop keep_existing_count",
        )


def _check_method(case: LoadedCase, model: CoverageModelConfig, problems: ProblemCollector) -> None:
    """Benders (Cordeau, Furini & Ljubić 2019) solves one coverage stage without phases."""
    if case.config.solver.method == "benders" and (
        model.secondary_objective != "none" or model.phases is not None
    ):
        problems.add(
            f"{case.label} › solver.method",
            "the Benders decomposition does not support "
            + ("a secondary_objective" if model.secondary_objective != "none" else "phases"),
            got="benders",
            fix="use solver.method: compact (or auto, which falls back to compact)",
        )


def _check_standards(
    case: LoadedCase, model: CoverageModelConfig, problems: ProblemCollector
) -> None:
    """Standard names are unique; each reads one table, of its own quantity (time/distance)."""
    tables = case.config.travel_times
    names = [s.name for s in model.standards]
    for k, s in enumerate(model.standards):
        key = f"{case.label} › model.standards[{k}]"
        if names.count(s.name) > 1 and names.index(s.name) != k:
            problems.add(
                f"{key}.name",
                "duplicate standard name",
                got=s.name,
                fix="give each standard its own name",
            )
        if s.matrix is not None and s.matrix not in tables:
            problems.add(
                f"{key}.matrix",
                "no travel-time table of this name",
                got=s.matrix,
                fix=f"use one of: {', '.join(tables)}",
            )
        if s.matrix is None and len(tables) > 1:
            problems.add(
                f"{key}.matrix",
                "several travel-time tables are given; say which one this standard uses",
                fix=f"add 'matrix: <name>' with one of: {', '.join(tables)}",
            )
        table = tables.get(s.matrix or next(iter(tables), ""), None)
        if table is not None and table.quantity != s.quantity:
            problems.add(
                key,
                f"the standard is a {s.quantity} ('{'minutes' if s.quantity == 'time' else 'metres'}') "
                f"but its table holds {table.quantity}s",
                fix="use 'minutes' with a time table and 'metres' with a distance table",
            )


def _check_objective(
    case: LoadedCase, model: CoverageModelConfig, problems: ProblemCollector
) -> None:
    """The objective fits the kind and has something to do (MODELS.md §2: LSCP, MCLP, PSCLP)."""
    where = f"{case.label} › model"
    objective = model.resolved_objective
    standards = model.resolved_standards()
    targeted = any(s.min_share is not None or s.zone_min_share is not None for s in standards)
    if model.kind == "lscp":
        _check_lscp(where, objective, standards, problems)
    if model.kind == "psclp" and not targeted:
        problems.add(
            f"{where}.standards",
            "a PSCLP needs a coverage target",
            fix="add min_share (e.g. 0.9) to at least one standard",
        )
    if objective == "max_coverage":
        _check_max_coverage(where, model, standards, problems)
    if objective in ("min_cost", "min_sites") and not targeted and not model.zone_rules:
        problems.add(
            f"{where}.objective",
            f"{objective} without any coverage target opens nothing",
            got=objective,
            fix="add min_share to a standard (1.0 = everyone), or zone_rules",
        )
    if model.secondary_objective != "none" and objective != "max_coverage":
        problems.add(
            f"{where}.secondary_objective",
            "a second stage follows a coverage objective",
            got=model.secondary_objective,
            fix="use it with kind: mclp, or drop it",
        )


def _check_lscp(
    where: str, objective: str, standards: list[Any], problems: ProblemCollector
) -> None:
    """An LSCP covers everyone (Toregas et al. 1971) and minimises sites or cost."""
    for k, s in enumerate(standards):
        if s.min_share is not None and s.min_share < 1:
            problems.add(
                f"{where}.standards[{k}].min_share",
                "an LSCP covers everyone (share 1)",
                got=s.min_share,
                fix="use kind: psclp to reach a share below 1",
            )
    if objective == "max_coverage":
        problems.add(
            f"{where}.objective",
            "LSCP minimises sites or cost",
            got=objective,
            fix="use min_sites or min_cost, or kind: mclp",
        )


def _check_max_coverage(
    where: str, model: CoverageModelConfig, standards: list[Any], problems: ProblemCollector
) -> None:
    """Maximising coverage (MCLP, Church & ReVelle 1974) needs a weight and a limit."""
    if not any(s.weight > 0 for s in standards):
        problems.add(
            f"{where}.standards",
            "nothing to maximise: every standard has weight 0",
            fix="give at least one standard a positive weight",
        )
    if (
        model.max_new_sites is None
        and model.budget is None
        and model.budget_by_type is None
        and model.phases is None
    ):
        problems.add(
            where,
            "maximising coverage needs a limit, otherwise every candidate opens",
            fix="set max_new_sites (p), budget or budget_by_type",
        )


def _check_phases(case: LoadedCase, model: CoverageModelConfig, problems: ProblemCollector) -> None:
    """A phased roll-out (MODELS.md §2.6) maximises coverage summed over two or more phases."""
    where = f"{case.label} › model"
    phases = model.phases or []
    if model.resolved_objective != "max_coverage":
        problems.add(
            f"{where}.phases",
            "a phased roll-out maximises coverage summed over the phases",
            got=model.resolved_objective,
            fix="use kind: mclp (or objective: max_coverage)",
        )
    if model.existing != "keep":
        problems.add(
            f"{where}.phases",
            "phases build on today's sites, which stay open",
            fix="use existing: keep",
        )
    if model.secondary_objective != "none":
        problems.add(f"{where}.secondary_objective", "not available with phases", fix="drop it")
    if len(phases) < 2:
        problems.add(f"{where}.phases", "give at least two phases", got=len(phases))
    if all(ph.budget is None and ph.max_new_sites is None for ph in phases):
        problems.add(
            f"{where}.phases",
            "every phase is unlimited: everything opens in the first",
            fix="give each phase a budget or max_new_sites",
        )


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


@dataclass(frozen=True)
class _Known:
    """What the data hold, for the model's names to be checked against."""

    types: set[str]
    classes: set[str]
    zone_ids: set[str]
    zone_kinds: set[str]


def _known(demand: Demand, sites: Sites, zones: Zones | None) -> _Known:
    zone_ids = (
        set(map(str, zones.ids))
        if zones is not None
        else set(map(str, demand.zone if demand.zone is not None else []))
        | set(map(str, sites.zone if sites.zone is not None else []))
    )
    return _Known(
        types=set(map(str, sites.facility_type)),
        classes=set(map(str, demand.demand_class)) if demand.demand_class is not None else set(),
        zone_ids=zone_ids,
        zone_kinds=set(map(str, zones.kind)) if zones is not None else set(),
    )


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
    known = _known(demand, sites, zones)
    for k, s in enumerate(model.standards):
        _check_standard_data(case, s, f"{where}.standards[{k}]", demand, known, problems)
    for field_name in ("max_new_sites", "min_new_sites", "budget_by_type"):
        value = getattr(model, field_name)
        if isinstance(value, Mapping):
            require_known(value, known.types, f"{where}.{field_name}", _NO_TYPE, problems)
    for k, share in enumerate(model.type_shares):
        for field_name in ("facility_types", "of"):
            require_known(
                getattr(share, field_name),
                known.types,
                f"{where}.type_shares[{k}].{field_name}",
                _NO_TYPE,
                problems,
            )
        if share.scope == "zone" and sites.zone is None:
            problems.add(
                f"{where}.type_shares[{k}].scope",
                "a share per zone needs a zone column in the sites file",
                fix="set sites.columns.zone or scope: county",
            )
    for k, rule in enumerate(model.zone_rules):
        _check_zone_rule(rule, f"{where}.zone_rules[{k}]", demand, sites, zones, known, problems)
    if zones is not None:
        _check_zone_ids(case, demand, sites, zones, problems)
    if model.existing == "may_close" and model.budget is not None and sites.removal_cost is None:
        log.info("No removal_cost column: closing an existing site is free in the budget")


_NO_TYPE = "no site has this facility type"


def _check_standard_data(
    case: LoadedCase, s: Any, key: str, demand: Demand, known: _Known, problems: ProblemCollector
) -> None:
    """A standard's facility types, demand classes and zones exist in the data."""
    require_known(s.facility_types or [], known.types, f"{key}.facility_types", _NO_TYPE, problems)
    if isinstance(s.threshold, dict):
        _check_class_thresholds(case, s, key, demand, known, problems)
    _footfall_target(case, demand, s, key, problems)
    if s.zone_min_share is not None and demand.zone is None:
        problems.add(
            f"{key}.zone_min_share",
            "zone targets need a zone column in the demand",
            fix="set demand.columns.zone",
        )
    if isinstance(s.zone_min_share, dict):
        require_known(
            s.zone_min_share,
            known.zone_ids,
            f"{key}.zone_min_share",
            "unknown zone",
            problems,
            fix="use zone ids from the demand/zones file",
        )


def _check_class_thresholds(
    case: LoadedCase, s: Any, key: str, demand: Demand, known: _Known, problems: ProblemCollector
) -> None:
    """Thresholds per demand class name classes of the data; a class left out is logged."""
    field = "minutes" if s.minutes is not None else "metres"
    if demand.demand_class is None:
        problems.add(
            f"{key}.{field}",
            "thresholds per demand class need a class column",
            fix="set demand.columns.class (e.g. urban/rural), or give one number",
        )
        return
    require_known(
        s.threshold,
        known.classes,
        f"{key}.{field}",
        "no demand point has this class",
        problems,
        fix=f"use the classes in the data: {', '.join(sorted(known.classes))}",
    )
    # footfall classes left out of a residents' standard are the intended design
    footfall = set(case.config.demand.footfall_classes)
    missing = sorted(known.classes - set(s.threshold) - footfall)
    if missing:
        n = int(np.isin(demand.demand_class, missing).sum())
        log.warning(
            "Standard %s has no threshold for demand classes %s (%d points): "
            "they are not subject to it",
            s.name,
            ", ".join(missing),
            n,
        )


def _check_zone_rule(
    rule: Any,
    key: str,
    demand: Demand,
    sites: Sites,
    zones: Zones | None,
    known: _Known,
    problems: ProblemCollector,
) -> None:
    """A zone rule (MODELS.md §2.4) reads zone columns, and names types, zones and kinds that exist."""
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
    require_known(
        rule.facility_types or [], known.types, f"{key}.facility_types", _NO_TYPE, problems
    )
    if rule.zones != "all":
        require_known(
            rule.zones,
            known.zone_ids,
            f"{key}.zones",
            "unknown zone",
            problems,
            fix="use zone ids from the data",
        )
    if rule.zone_kinds is None:
        return
    if zones is None:
        problems.add(
            f"{key}.zone_kinds",
            "zone kinds need a zones table",
            fix="add a 'zones' section with a kind column",
        )
    else:
        require_known(
            rule.zone_kinds,
            known.zone_kinds,
            f"{key}.zone_kinds",
            "no zone has this kind",
            problems,
        )


def _check_zone_ids(
    case: LoadedCase, demand: Demand, sites: Sites, zones: Zones, problems: ProblemCollector
) -> None:
    """Every zone id of the demand and sites files is in the zones file."""
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
