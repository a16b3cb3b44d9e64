"""Loading a siting case file: YAML text -> the validated schema and the model's cross-field rules."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from ..casefile import read_case_text, yaml_mapping
from ..errors import CaseError, ProblemCollector
from ..models.coverage.rules import check_coverage_case
from ..models.ems.rules import check_ems_case
from ..models.siting.rules import check_siting_case
from ..models.tiers.rules import check_tiers_case
from ..schema.case import CaseConfig
from ..schema.data import EstimateTravelTimesConfig, NetworkTravelTimesConfig
from ..schema.files import LoadedCase
from ..schema.problems import pydantic_problems


def parse_case(
    text: str, *, label: str = "<case>", base_dir: Path | None = None, path: Path | None = None
) -> LoadedCase:
    """Parse and validate case YAML text (the schema and the model rules; not the data)."""
    raw = yaml_mapping(text, label, start_from="configs/andorra.yaml")
    try:
        config = CaseConfig.model_validate(raw)
    except ValidationError as exc:
        raise CaseError(pydantic_problems(exc, label, CaseConfig)) from None
    case = LoadedCase(config, path, base_dir or Path.cwd(), text)
    problems = ProblemCollector()
    check_model_rules(case, problems)
    problems.raise_if_any()
    return case


def load_case(path: str | Path) -> LoadedCase:
    """Read, parse and validate a case file (schema and model rules; data is read later)."""
    p = Path(path)
    text = read_case_text(p)  # UTF-8, or GBK; a folder, binary or missing file is a CaseError
    return parse_case(text, label=str(p), base_dir=p.resolve().parent, path=p)


def _check_network_refs(case: LoadedCase, problems: ProblemCollector) -> None:
    cfg = case.config
    label = case.label
    for name, tt in cfg.travel_times.items():
        if isinstance(tt, NetworkTravelTimesConfig) and tt.network not in cfg.networks:
            problems.add(
                f"{label} › travel_times.{name}.network",
                "no network of this name",
                got=tt.network,
                fix="define it under 'networks:'"
                + (f" or use one of: {', '.join(cfg.networks)}" if cfg.networks else ""),
            )
        if isinstance(tt, (NetworkTravelTimesConfig, EstimateTravelTimesConfig)):
            how = (
                "estimated from distances"
                if tt.mode == "estimate"
                else "computed on a road network"
            )
            for side in ("demand", "sites"):
                cols = getattr(cfg, side).columns
                src = getattr(cfg, side).file.lower()
                is_geo = not src.endswith((".csv", ".csv.gz", ".tsv", ".txt", ".parquet"))
                if (cols.x is None or cols.y is None) and not is_geo:
                    problems.add(
                        f"{label} › {side}.columns",
                        f"travel_times.{name} is {how}, which needs point coordinates",
                        fix="set columns x and y (e.g. {x: lon, y: lat}) and the crs, or use a GIS file",
                    )


def check_model_rules(case: LoadedCase, problems: ProblemCollector) -> None:
    """Rules that span several keys: every one found is added to ``problems``. The rules of
    each model kind are looked up in ``MODEL_RULES`` (one entry per family)."""
    _check_network_refs(case, problems)
    model = case.config.model
    MODEL_RULES[model.kind](case, model, problems)


MODEL_RULES: dict[str, Callable[[LoadedCase, Any, ProblemCollector], None]] = {
    "ems": check_ems_case,
    "p_median": check_siting_case,
    "p_center": check_siting_case,
    **dict.fromkeys(("lscp", "mclp", "psclp", "coverage"), check_coverage_case),
    "village_tiers": check_tiers_case,
}
"""model.kind -> its cross-field rules (the ``check_rules`` of optimizer.families' table)."""
