"""What geodata's loaders need of a case file: its label, a path resolver, and its sections.

The loaders (:mod:`geodata.tables`, :mod:`geodata.routing`, :mod:`geodata.zone_shapes`,
:mod:`geodata.estimate_case`) take one section of the case file (e.g. ``demand:``, read by
attribute as the schema in ``optimizer.schema`` declares it), a :class:`CaseFiles` and a
problem collector, so that ``geodata`` imports nothing from ``optimizer`` but its errors and
atomic writers.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["CaseFiles", "Section", "estimate_specs", "network_specs"]

Section = Any
"""One section of a case file (a pydantic model of ``optimizer.schema``), read by attribute."""


@dataclass(frozen=True)
class CaseFiles:
    """The case file a loader reads for: ``label`` starts every error's location (``case.yaml
    › demand``) and ``resolve`` turns a path of the case file into a path on disk (relative
    paths are relative to the case file's folder)."""

    label: str
    resolve: Callable[[str], Path]


def network_specs(travel_times: Mapping[str, Section]) -> dict[str, Section]:
    """The travel-time sections routed on a road network (they name a ``network``)."""
    return {n: t for n, t in travel_times.items() if getattr(t, "network", None) is not None}


def estimate_specs(travel_times: Mapping[str, Section]) -> dict[str, Section]:
    """The travel-time sections estimated from straight-line distances (``mode: estimate``)."""
    return {n: t for n, t in travel_times.items() if getattr(t, "mode", None) == "estimate"}
