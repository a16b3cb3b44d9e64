"""County health-facility siting and staffing: exact, certified integer programs.

The Python API (:mod:`optimizer.api`): ``load_case``, ``case_from_data``, ``solve`` -> ``Result``
(``.write(dir)``, ``.tables()``, ``.layers()``). Loaded on first use, so ``python -m optimizer``
starts without it.
"""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"

_API = ("Result", "case_from_data", "load_case", "solve")


def __getattr__(name: str) -> Any:
    if name in _API:
        from . import api

        return getattr(api, name)
    raise AttributeError(f"module 'optimizer' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *_API])
