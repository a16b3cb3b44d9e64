"""Static checks gated in CI through the test command: ruff (lint + format) and mypy."""

from __future__ import annotations

import shutil
import subprocess
import sys

import pytest

from .conftest import ROOT


def _run(*cmd: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=600)


@pytest.mark.skipif(
    shutil.which("ruff") is None, reason="ruff not installed (pip install -e .[test])"
)
def test_ruff_lint_and_format():
    lint = _run("ruff", "check", "optimizer", "geodata", "tests", "benchmarks", "configs")
    assert lint.returncode == 0, lint.stdout + lint.stderr
    fmt = _run(
        "ruff", "format", "--check", "optimizer", "geodata", "tests", "benchmarks", "configs"
    )
    assert fmt.returncode == 0, fmt.stdout + fmt.stderr


def test_mypy():
    pytest.importorskip("mypy")
    res = _run(sys.executable, "-m", "mypy")
    assert res.returncode == 0, res.stdout + res.stderr
