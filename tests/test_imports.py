"""Import contracts (pyproject.toml ``[tool.importlinter]``, REDESIGN.md §4.3) hold.

A new import circle inside ``optimizer.models.*``, ``optimizer.scenarios``, ``optimizer.report``
or ``optimizer.staffing``, a report page imported by a lower report layer, or a new
``geodata -> optimizer`` import beyond errors/atomic fails here.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from .conftest import ROOT


def test_import_contracts_hold(capsys):
    cli = pytest.importorskip("importlinter.cli")
    code = cli.lint_imports(config_filename=str(ROOT / "pyproject.toml"), no_cache=True)
    out = capsys.readouterr().out
    assert code == 0, out
    n_contracts = Path(ROOT / "pyproject.toml").read_text().count("[[tool.importlinter.contracts]]")
    assert f"{n_contracts} kept, 0 broken" in out, out
