"""The building blocks of every case-file section: a strict base model and checked number types."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field


class Strict(BaseModel):
    """Base: unknown keys are errors (typos), values are immutable after validation."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


def _not_bool(value: object) -> object:
    """YAML ``true``/``false`` where a number belongs is a typo, not 1 or 0."""
    if isinstance(value, bool):
        raise ValueError(f"a number is needed here, not {str(value).lower()}")
    return value


NotBool = BeforeValidator(_not_bool)
PositiveFloat = Annotated[float, Field(gt=0, allow_inf_nan=False), NotBool]
Share = Annotated[float, Field(gt=0, le=1, allow_inf_nan=False), NotBool]
NonNegFloat = Annotated[float, Field(ge=0, allow_inf_nan=False), NotBool]
Name = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[^\s,;/\\]+$")]
Count = Annotated[int, Field(ge=0), NotBool]
Names = Annotated[list[Name], Field(min_length=1)]  # an empty list selects nothing: an error


Threshold = PositiveFloat | Annotated[dict[str, PositiveFloat], Field(min_length=1)]
