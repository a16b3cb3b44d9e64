"""Reports of runs: report.html for one run, compare.html for two, with interactive maps.

Both are single self-contained HTML files (Leaflet, styles, data and charts inlined) that work
without a network. Sections and norm checks live in registries (:func:`register_section`,
:func:`register_norms`) so new model families add their parts without editing these modules.
"""

from __future__ import annotations

from . import ems as _ems  # noqa: F401  (registers the 120 section and norms)
from . import phased as _phased  # noqa: F401  (registers the roll-out section)
from . import sections as _sections  # noqa: F401  (registers the built-in sections)
from . import sections_norms as _sections_norms  # noqa: F401  (registers the norms section)
from . import siting as _siting  # noqa: F401  (p-median / p-center section)
from .html import render_report, write_report, write_report_file
from .i18n import Labels, add_labels
from .norms import NormCheck, norm_checks, register_norms
from .registry import Context, register_section
from .rundata import RunData, RunFolderError

__all__ = [
    "Context",
    "Labels",
    "NormCheck",
    "RunData",
    "RunFolderError",
    "add_labels",
    "norm_checks",
    "register_norms",
    "register_section",
    "render_report",
    "write_report",
    "write_report_file",
]
