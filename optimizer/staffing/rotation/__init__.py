"""Sent-down (下沉) doctor rotations: who goes where, when, for how long (MODELS.md §4.3).

The formulation is in :mod:`.build`; the parts: :mod:`.problem` (instance, doctor groups,
prechecks, named doctors), :mod:`.build` (MILP), :mod:`.evaluate` (per-doctor recomputation,
unplaced doctors), :mod:`.solve`.
"""

from .build import build_rotation_milp
from .evaluate import (
    RotationEvaluation,
    check_rotation_plan,
    evaluate_rotation_plan,
    unplaced_doctors,
)
from .problem import RotationInstance, Stint, assign_doctors, doctor_groups, precheck_rotation
from .solve import (
    PRESOLVE_FROM_STINT_OPTIONS,
    RotationSolution,
    default_presolve,
    diagnose_rotation,
    solve_rotation,
)

__all__ = [
    "PRESOLVE_FROM_STINT_OPTIONS",
    "RotationEvaluation",
    "RotationInstance",
    "RotationSolution",
    "Stint",
    "assign_doctors",
    "build_rotation_milp",
    "check_rotation_plan",
    "default_presolve",
    "diagnose_rotation",
    "doctor_groups",
    "evaluate_rotation_plan",
    "precheck_rotation",
    "solve_rotation",
    "unplaced_doctors",
]
