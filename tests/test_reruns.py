"""Two runs of one case give byte-identical files (only ``timings.json`` differs).

Every offline example case in configs/ is run twice into different folders; the small ones in
the default suite, the rest with ``-m slow``.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from optimizer.cli import main

from .test_case_validation import CASE, _files

CONFIGS = Path(__file__).resolve().parents[1] / "configs"
QUICK = {"andorra_pcenter", "zhuji_quota"}


def _command(case: Path) -> str:
    kind = yaml.safe_load(case.read_text(encoding="utf-8")).get("kind")
    return "staff" if kind in ("staffing_quota", "sent_down") else "run"


def _offline(case: Path) -> bool:
    """The case's data files are all here (zhuji.yaml needs data that is not shipped)."""
    from optimizer.errors import CaseError

    try:
        return main(["validate", str(case), "-q"]) == 0
    except CaseError:
        return False


def assert_identical(a: Path, b: Path, timings: int = 1) -> list[str]:
    """Every file of run folder ``a`` is in ``b`` with the same bytes, except the
    ``timings`` timings.json files (a sweep or batch has one per point or case too)."""
    files = sorted(p.relative_to(a).as_posix() for p in a.rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(b).as_posix() for p in b.rglob("*") if p.is_file())
    differ = [f for f in files if (a / f).read_bytes() != (b / f).read_bytes()]
    assert all(Path(f).name == "timings.json" for f in differ), differ
    assert len([f for f in files if Path(f).name == "timings.json"]) == timings
    return files


def _params() -> list[object]:
    return [
        pytest.param(p, id=p.stem, marks=() if p.stem in QUICK else pytest.mark.slow)
        for p in sorted(CONFIGS.glob("*.yaml"))
    ]


@pytest.mark.parametrize("case", _params())
def test_two_runs_of_an_example_case_are_byte_identical(case, tmp_path, capsys):
    if not _offline(case):
        pytest.skip(f"{case.name}: its data is not available offline")
    command = _command(case)
    for name in ("a", "b"):
        assert main([command, str(case), "--out", str(tmp_path / name), "-q"]) == 0
    files = assert_identical(tmp_path / "a", tmp_path / "b")
    assert {"solution.json", "summary.txt", "report.html", "manifest.json"} <= set(files)
    assert str(tmp_path) not in (tmp_path / "a" / "summary.txt").read_text(encoding="utf-8")


def test_two_runs_of_a_table_case_are_byte_identical(tmp_case, tmp_path):
    case = tmp_case(CASE, _files())
    for name in ("a", "b"):
        assert main(["run", str(case), "--out", str(tmp_path / name), "-q"]) == 0
    assert_identical(tmp_path / "a", tmp_path / "b")


def test_two_sweeps_and_batches_of_a_table_case_are_byte_identical(tmp_case, tmp_path):
    case = tmp_case(CASE, _files())
    for name in ("a", "b"):
        sweep = ["sweep", str(case), "--param", "model.max_new_sites", "--values", "1,2"]
        assert main([*sweep, "--out", str(tmp_path / f"s{name}"), "--workers", "1", "-q"]) == 0
        batch = ["batch", str(case), "--out", str(tmp_path / f"b{name}"), "--workers", "1"]
        assert main([*batch, "-q"]) == 0
    files = assert_identical(tmp_path / "sa", tmp_path / "sb", timings=3)
    assert {"frontier.csv", "frontier.svg", "points/000/solution.json"} <= set(files)
    assert_identical(tmp_path / "ba", tmp_path / "bb", timings=2)


def test_reruns_in_processes_with_other_hash_seeds_are_identical(tmp_path):
    """The Andorra walk network has edges osmnx merged from ways of several road classes, listed
    in string-hash order: two processes with different ``PYTHONHASHSEED`` give the same files."""
    import os
    import subprocess
    import sys

    from .conftest import ROOT, shared_path

    shared_path("data", "osm-andorra", "andorra.osm.pbf")
    outs = []
    for seed in ("1", "2"):
        out = tmp_path / f"seed{seed}"
        env = {**os.environ, "PYTHONHASHSEED": seed}
        run = subprocess.run(
            [sys.executable, "-m", "optimizer", "run", "configs/andorra_joint.yaml", "--out", out],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert run.returncode == 0, run.stderr[-2000:]
        outs.append(out)
    assert_identical(*outs)
