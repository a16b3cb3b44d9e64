"""Schema fields shared by the staffing case kinds: shares, per-mille values, months, solver."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from ..schema.fields import NotBool, PositiveFloat, Strict

Share = Annotated[float, Field(ge=0, le=1, allow_inf_nan=False), NotBool]
PerMilleValue = Annotated[float, Field(ge=0, le=1000, allow_inf_nan=False), NotBool]
Month = Annotated[int, Field(ge=1, le=120), NotBool]


class StaffingSolverConfig(Strict):
    """Solver options (as in siting cases) plus MIP presolve, which the staffing models tune."""

    backend: Literal["highs", "cbc", "ortools", "scip"] = "highs"
    time_limit_s: PositiveFloat = 600.0
    mip_rel_gap: Annotated[float, Field(ge=0, lt=1), NotBool] = 0.0
    threads: Annotated[int, Field(ge=1, le=256), NotBool] | None = None
    seed: Annotated[int, Field(ge=0), NotBool] = 0
    log: bool = False
    ortools_engine: Literal["SCIP", "CP-SAT", "CBC", "HIGHS"] = "SCIP"
    presolve: bool | None = Field(
        default=None,
        description="MIP presolve; default on for quotas; for sent-down rotations off below "
        "200,000 stint options (HiGHS presolve barely shrinks them but costs 2-4x the solve), "
        "on above (measured in benchmarks/staffing.py).",
    )
