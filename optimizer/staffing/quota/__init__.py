"""Norm-based 编制 quota allocation: integer posts per facility and category (MODELS.md §4.1).

The formulation is in :mod:`.build`; the parts: :mod:`.problem` (instance, exact bounds,
prechecks), :mod:`.build` (MILP), :mod:`.evaluate` (raw-data recomputation), :mod:`.solve`.
"""

from .build import build_quota_milp
from .evaluate import QuotaEvaluation, check_quota_plan, evaluate_quota_plan
from .problem import QuotaInstance, facility_bounds, gp_required, precheck_quota
from .solve import QuotaSolution, diagnose_quota, solve_quota

__all__ = [
    "QuotaEvaluation",
    "QuotaInstance",
    "QuotaSolution",
    "build_quota_milp",
    "check_quota_plan",
    "diagnose_quota",
    "evaluate_quota_plan",
    "facility_bounds",
    "gp_required",
    "precheck_quota",
    "solve_quota",
]
