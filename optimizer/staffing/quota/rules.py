"""Cross-field rules of a ``staffing_quota`` case (checked after the schema, before the data)."""

from __future__ import annotations

from ...errors import ProblemCollector
from .schema import QuotaCase


def check_quota_rules(label: str, cfg: QuotaCase, problems: ProblemCollector) -> None:
    """Add every cross-field problem of ``cfg`` (case file ``label``) to ``problems``."""
    names = [c.name for c in cfg.categories]
    for k, c in enumerate(cfg.categories):
        if names.index(c.name) != k:
            problems.add(
                f"{label} › categories[{k}].name",
                "duplicate category name",
                got=c.name,
                fix="give each category its own name",
            )
        if c.name == "*":
            problems.add(
                f"{label} › categories[{k}].name",
                "'*' is reserved for facility totals",
                fix="choose another name",
            )
    shares = [c for c in cfg.categories if c.need_share is not None]
    if shares and cfg.need is None:
        types = sorted(
            {t for c in cfg.categories for t in (c.facility_types or [])} | set(cfg.norms.per_mille)
        )
        for t in types:
            here = [c for c in cfg.categories if c.facility_types is None or t in c.facility_types]
            given = [c for c in here if c.need_share is not None]
            total = sum(c.need_share or 0.0 for c in given)
            if given and (len(given) != len(here) or abs(total - 1.0) > 1e-6):
                problems.add(
                    f"{label} › categories",
                    f"need_share of the categories at type '{t}' must be given for all of them "
                    f"and sum to 1",
                    got=", ".join(f"{c.name}={c.need_share}" for c in here),
                    fix="give every category of the type a need_share, summing to 1",
                )
    _check_norm_flags(label, cfg, problems)
    rh = cfg.reserved_hires
    if rh is not None and rh.categories is not None:
        unknown_cats = sorted(set(rh.categories) - set(names))
        if unknown_cats:
            problems.add(
                f"{label} › reserved_hires.categories",
                "unknown categories",
                got=", ".join(unknown_cats),
                fix=f"use: {', '.join(names)}",
            )
    _check_need(label, cfg, names, problems)
    seen: set[str] = set()
    for k, share in enumerate(cfg.norms.shares):
        where = f"{label} › norms.shares[{k}]"
        if share.name in seen:
            problems.add(f"{where}.name", "duplicate share norm name", got=share.name)
        seen.add(share.name)
        for key in ("categories", "of"):
            unknown = sorted(set(getattr(share, key) or []) - set(names))
            if unknown:
                problems.add(
                    f"{where}.{key}",
                    "unknown categories",
                    got=", ".join(unknown),
                    fix=f"use: {', '.join(names)}",
                )
    sp = cfg.service_population
    if sp is not None:
        unknown = sorted(set(sp.nearest_columns) - set(sp.facility_types))
        if unknown:
            problems.add(
                f"{label} › service_population.nearest_columns",
                "types not listed in service_population.facility_types",
                got=", ".join(unknown),
                fix="add them to facility_types or remove them",
            )
    if sp is None and cfg.facilities.columns.population is None:
        problems.add(
            f"{label} › facilities.columns.population",
            "no service population: give a population column or service_population",
            fix="set facilities.columns.population, or service_population.file (a siting demand.csv)",
        )


def _check_norm_flags(label: str, cfg: QuotaCase, problems: ProblemCollector) -> None:
    """Norms that need a flagged category or a column: public health, GP, remote travel."""
    norms = cfg.norms
    if norms.public_health_min_share.enabled and not any(c.public_health for c in cfg.categories):
        problems.add(
            f"{label} › norms.public_health_min_share",
            "no category is marked public_health: true",
            fix="mark one category public_health: true, or set enabled: false",
        )
    if norms.gp_per_10k.enabled and not any(c.gp for c in cfg.categories):
        problems.add(
            f"{label} › norms.gp_per_10k",
            "no category is marked gp: true",
            fix="mark one category gp: true, or set enabled: false",
        )
    if norms.remote.min_travel_min is not None and cfg.facilities.columns.travel_min is None:
        problems.add(
            f"{label} › norms.remote.min_travel_min",
            "the travel-time rule needs a travel-time column",
            fix="set facilities.columns.travel_min (minutes to the county seat)",
        )


def _check_need(label: str, cfg: QuotaCase, names: list[str], problems: ProblemCollector) -> None:
    """The need table: a need column, or both WISN workload columns with known categories."""
    if cfg.need is not None:
        cols = cfg.need.columns
        wisn = cols.annual_workload is not None or cols.unit_time_min is not None
        if wisn and (cols.annual_workload is None or cols.unit_time_min is None):
            problems.add(
                f"{label} › need.columns",
                "WISN workloads need both annual_workload and unit_time_min",
                fix="name both columns, or give a need column instead",
            )
        if wisn:
            unknown = sorted(set(cfg.need.wisn) - set(names))
            if unknown:
                problems.add(
                    f"{label} › need.wisn",
                    "unknown categories",
                    got=", ".join(unknown),
                    fix=f"use: {', '.join(names)}",
                )
        elif cols.need is None:
            problems.add(
                f"{label} › need.columns.need",
                "give a need column or the WISN workload columns",
                fix="e.g. need: need",
            )
