"""Staffing case files: schema, loading and whole-file validation.

Two kinds of case share this module, told apart by the top-level ``kind`` key:

``kind: staffing_quota``
    编制 quota allocation (MODELS.md §4.1, §8.4): integer posts per facility and staff category
    within the per-mille, composition, GP, pool and no-layoff norms.
``kind: sent_down``
    Sent-down (下沉) doctor rotations (MODELS.md §4.3, §8.5): stints of hospital doctors at
    township centres and village clinics over a 12-24 month horizon.

Every norm is a named, overridable parameter that carries its provenance (``source``), with the
defaults of MISSION.md / MODELS.md §5.4; ``[U]`` in a source means the value has not been read in
the primary document yet (MODELS.md's verification legend). Validation reuses the project's
pydantic helpers (:func:`optimizer.schema.problems.pydantic_problems`): every problem of the file is
reported at once as ``file › field.path: what (got X); fix``.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ValidationError

from ..casefile import yaml_mapping
from ..errors import CaseError, Problem, ProblemCollector
from ..schema.files import CaseFile
from ..schema.problems import pydantic_problems
from .fields import StaffingSolverConfig
from .quota.rules import check_quota_rules
from .quota.schema import Category, QuotaCase, QuotaNorms
from .rotation.rules import check_rotation_rules
from .rotation.schema import RotationCase, RotationRules

__all__ = [
    "Category",
    "QuotaCase",
    "QuotaNorms",
    "RotationCase",
    "RotationRules",
    "StaffingCase",
    "StaffingSolverConfig",
    "load_staffing_case",
    "parse_staffing_case",
]

KINDS: dict[str, type[BaseModel]] = {"staffing_quota": QuotaCase, "sent_down": RotationCase}


# ---------------------------------------------------------------------------------------------
# Loading
# ---------------------------------------------------------------------------------------------
class StaffingCase(CaseFile):
    """A validated staffing case: config, file label and the folder its paths are relative to."""

    def __init__(
        self, config: QuotaCase | RotationCase, path: Path | None, base_dir: Path, raw_text: str
    ) -> None:
        super().__init__(path, base_dir, raw_text)
        self.config = config

    @property
    def kind(self) -> str:
        return self.config.kind


def parse_staffing_case(
    text: str, *, label: str = "<case>", base_dir: Path | None = None, path: Path | None = None
) -> StaffingCase:
    """Parse and validate staffing case YAML (schema and cross-field rules; not the data)."""
    raw = yaml_mapping(
        text, label, start_from="configs/zhuji_quota.yaml or configs/qingdao_sent_down.yaml"
    )
    kind = raw.get("kind")
    if kind not in KINDS:
        raise CaseError(
            [
                Problem(
                    f"{label} › kind",
                    "unknown or missing staffing case kind",
                    got=kind,
                    fix=f"use one of: {', '.join(KINDS)}",
                )
            ]
        )
    model = KINDS[kind]
    try:
        config = model.model_validate(raw)
    except ValidationError as exc:
        raise CaseError(pydantic_problems(exc, label, model)) from None
    assert isinstance(config, QuotaCase | RotationCase)
    case = StaffingCase(config, path, base_dir or Path.cwd(), text)
    problems = ProblemCollector()
    if isinstance(config, QuotaCase):
        check_quota_rules(case.label, config, problems)
    else:
        check_rotation_rules(case.label, config, problems)
    problems.raise_if_any()
    return case


def load_staffing_case(path: str | Path) -> StaffingCase:
    from ..casefile import read_case_text

    p = Path(path)
    text = read_case_text(p)  # UTF-8, or GBK; a folder, binary or missing file is a CaseError
    return parse_staffing_case(text, label=str(p), base_dir=p.resolve().parent, path=p)
