"""Size rules of the code base (issue #13): no module over 600 lines, under 1.5% long functions.

Long modules and functions hide several concerns; the anchors (osmnx, linopy, python-mip,
geopandas) keep 0.3-2.3% of their functions at >= 100 lines. Counted with ``ast`` over the two
packages, the same way ``docs/DESIGN.md`` quotes it.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("optimizer", "geodata")
MAX_MODULE_LINES = 600
LONG_FUNCTION_LINES = 100
MAX_LONG_SHARE = 0.015


def _modules() -> list[Path]:
    return sorted(p for pkg in PACKAGES for p in (ROOT / pkg).rglob("*.py"))


def test_no_module_over_600_lines() -> None:
    long = {
        str(p.relative_to(ROOT)): n
        for p in _modules()
        if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_MODULE_LINES
    }
    assert not long, f"modules over {MAX_MODULE_LINES} lines (split them by concern): {long}"


def test_few_long_functions() -> None:
    total, long = 0, []
    for p in _modules():
        for node in ast.walk(ast.parse(p.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                total += 1
                size = (node.end_lineno or node.lineno) - node.lineno + 1
                if size >= LONG_FUNCTION_LINES:
                    long.append(f"{p.relative_to(ROOT)}::{node.name} ({size})")
    assert total > 0
    assert len(long) / total < MAX_LONG_SHARE, (
        f"{len(long)} of {total} functions have >= {LONG_FUNCTION_LINES} lines "
        f"(limit {MAX_LONG_SHARE:.1%}): {long}"
    )
