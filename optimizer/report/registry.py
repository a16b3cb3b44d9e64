"""The registry of report sections, so model families can add their own.

A section is a function ``(run, ctx) -> html | None`` registered with :func:`register_section`
under a key, an order and a title label; :func:`sections` lists them in order for
:mod:`optimizer.report.html`. The built-in sections live in :mod:`optimizer.report.sections`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .i18n import Labels
from .norms import NormCheck, norm_checks
from .rundata import RunData

__all__ = ["Context", "Section", "register_section", "sections"]


@dataclass
class Context:
    """What every section may use: labels in the chosen language and the map options."""

    t: Labels
    basemap: dict[str, Any]
    cache: dict[str, Any] = field(default_factory=dict)

    def norms(self, run: RunData) -> list[NormCheck]:
        key = f"norms:{run.folder}"
        if key not in self.cache:
            self.cache[key] = norm_checks(run)
        return list(self.cache[key])


SectionFn = Callable[[RunData, Context], str | None]


@dataclass(frozen=True)
class Section:
    key: str
    order: int
    title: str
    """Label key of the section title."""
    render: SectionFn


_SECTIONS: dict[str, Section] = {}


def register_section(
    key: str, *, order: int, title: str | None = None
) -> Callable[[SectionFn], SectionFn]:
    """Decorator: add (or replace) a report section."""

    def deco(fn: SectionFn) -> SectionFn:
        _SECTIONS[key] = Section(key, order, title or key, fn)
        return fn

    return deco


def sections() -> list[Section]:
    return sorted(_SECTIONS.values(), key=lambda s: (s.order, s.key))
