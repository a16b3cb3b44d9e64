"""Errors that name where the problem is, what is wrong, and how to fix it.

Every input problem is a :class:`Problem` (``where: what (got X); how to fix``). Validation
collects all problems in one pass and raises a single :class:`CaseError`, so a planner fixes a
case file in one round instead of one error per run.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

__all__ = [
    "CaseError",
    "CheckError",
    "Problem",
    "ProblemCollector",
    "SolverBackendError",
    "ToolkitError",
]


class ToolkitError(Exception):
    """Base class of every error this toolkit raises on purpose."""


@dataclass(frozen=True)
class Problem:
    """One problem in the input: where it is, what is wrong, the bad value, and the fix."""

    where: str
    what: str
    got: object = None
    fix: str = ""

    def __str__(self) -> str:
        text = f"{self.where}: {self.what}"
        if self.got is not None:
            text += f" (got {_short(self.got)})"
        if self.fix:
            text += f"; {self.fix}"
        return text


def _short(value: object, limit: int = 120) -> str:
    text = repr(value) if isinstance(value, str) else str(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


class CaseError(ToolkitError, ValueError):
    """A case (YAML file and the data it points to) has one or more problems."""

    def __init__(self, problems: Sequence[Problem], *, header: str | None = None) -> None:
        self.problems = list(problems)
        n = len(self.problems)
        head = header or f"{n} problem{'s' if n != 1 else ''} in the case"
        body = "\n".join(f"  - {p}" for p in self.problems)
        super().__init__(f"{head}:\n{body}")


class CheckError(ToolkitError):
    """A solution failed the independent re-check against the raw data: never report it."""

    def __init__(self, violations: Sequence[str]) -> None:
        self.violations = list(violations)
        body = "\n".join(f"  - {v}" for v in self.violations)
        super().__init__(
            "the solver's answer failed the independent check against the raw data "
            f"(this is a bug; please report it with the case file):\n{body}"
        )


class SolverBackendError(ToolkitError):
    """A solver backend is not installed or failed to run."""


class ProblemCollector:
    """Collect problems during validation and raise them all at once.

    >>> problems = ProblemCollector()
    >>> problems.add("case.yaml › model.p", "must be >= 1", got=0, fix="give the number of sites")
    >>> problems.raise_if_any()
    Traceback (most recent call last):
    ...
    optimizer.errors.CaseError: 1 problem in the case:
      - case.yaml › model.p: must be >= 1 (got 0); give the number of sites
    """

    def __init__(self) -> None:
        self.problems: list[Problem] = []

    def add(self, where: str, what: str, *, got: object = None, fix: str = "") -> None:
        self.problems.append(Problem(where, what, got, fix))

    def extend(self, problems: Iterable[Problem]) -> None:
        self.problems.extend(problems)

    def __bool__(self) -> bool:
        return bool(self.problems)

    def __len__(self) -> int:
        return len(self.problems)

    def raise_if_any(self, header: str | None = None) -> None:
        if self.problems:
            raise CaseError(self.problems, header=header)


def rows_text(
    row_numbers: Sequence[int], ids: Sequence[object] | None = None, limit: int = 8
) -> str:
    """Describe offending rows compactly: ``rows 3 (id=a), 7 (id=b) and 12 more``."""
    parts = []
    for k, r in enumerate(row_numbers[:limit]):
        parts.append(f"{r} (id={ids[k]})" if ids is not None else str(r))
    text = ("row " if len(row_numbers) == 1 else "rows ") + ", ".join(parts)
    if len(row_numbers) > limit:
        text += f" and {len(row_numbers) - limit:,} more"
    return text
