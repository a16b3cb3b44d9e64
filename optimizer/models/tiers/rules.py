"""The tier model's cross-field rules (``case.loading.MODEL_RULES["village_tiers"]``)."""

from __future__ import annotations

from ...errors import ProblemCollector
from ...schema.files import LoadedCase
from ...schema.tiers import TiersModelConfig

__all__ = ["check_tiers_case"]


def check_tiers_case(case: LoadedCase, model: TiersModelConfig, problems: ProblemCollector) -> None:
    """The tier model's rules: its travel-time table exists; no covering decomposition."""
    cfg, label = case.config, case.label
    if model.matrix is not None and model.matrix not in cfg.travel_times:
        problems.add(
            f"{label} › model.matrix",
            "no travel-time table of this name",
            got=model.matrix,
            fix=f"use one of: {', '.join(cfg.travel_times)}",
        )
    if model.matrix is None and len(cfg.travel_times) > 1:
        problems.add(
            f"{label} › model.matrix",
            "the case has several travel-time tables: say which one the tiers read",
            fix=f"set model.matrix to one of: {', '.join(cfg.travel_times)}",
        )
    if cfg.solver.method in ("benders", "bbc"):
        problems.add(
            f"{label} › solver.method",
            "the Benders decomposition is for covering models (lscp, mclp, psclp, coverage)",
            got=cfg.solver.method,
            fix="use solver.method: compact (or auto) for the village-clinic tiers",
        )
