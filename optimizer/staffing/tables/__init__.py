"""Read a staffing case's tables into a quota or sent-down instance (one module per kind).

Every file is read and checked before anything is solved; all problems of all files are
collected (``file line N (id=...): what (got X); fix``) and raised together.
"""

from .quota import load_quota_instance
from .rotation import load_rotation_instance, month_labels

__all__ = ["load_quota_instance", "load_rotation_instance", "month_labels"]
