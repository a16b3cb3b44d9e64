"""What every family's rules share: one check that each named value exists in the data."""

from __future__ import annotations

from collections.abc import Iterable

from ..errors import ProblemCollector

__all__ = ["require_known"]


def require_known(
    values: Iterable[str],
    known: set[str],
    where: str,
    what: str,
    problems: ProblemCollector,
    *,
    fix: str | None = None,
) -> None:
    """Each of ``values`` (facility types, demand classes, zones a model names) must be one of
    ``known`` (those the data hold): each one that is not is a Problem at ``where`` saying
    ``what``, got the value, and (by default) "use one of: <the known values>"."""
    for value in values:
        if value not in known:
            problems.add(
                where, what, got=value, fix=fix or f"use one of: {', '.join(sorted(known))}"
            )
