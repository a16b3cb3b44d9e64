"""Cross-field rules of a ``sent_down`` case (checked after the schema, before the data)."""

from __future__ import annotations

from ...errors import ProblemCollector
from .schema import RotationCase


def check_rotation_rules(label: str, cfg: RotationCase, problems: ProblemCollector) -> None:
    """Add every cross-field problem of ``cfg`` (case file ``label``) to ``problems``."""
    r = cfg.rules
    months = cfg.horizon.months
    if r.tenure_months.min > months:
        problems.add(
            f"{label} › rules.tenure_months.min",
            f"a stint of {r.tenure_months.min} months does not fit the {months}-month horizon",
            got=r.tenure_months.min,
            fix="lengthen horizon.months or shorten the minimum stint",
        )
    if r.min_months_between_starts < r.tenure_months.max:
        problems.add(
            f"{label} › rules.min_months_between_starts",
            "must be at least the longest stint (a doctor serves one stint at a time)",
            got=r.min_months_between_starts,
            fix=f"give at least {r.tenure_months.max}",
        )
    if cfg.coverage is None and cfg.hosts.columns.residents is None and cfg.weights.coverage > 0:
        problems.add(
            f"{label} › weights.coverage",
            "coverage is weighted but no residents are given",
            got=cfg.weights.coverage,
            fix="add a coverage section (demand + travel times) or hosts.columns.residents, "
            "or set weights.coverage: 0",
        )
