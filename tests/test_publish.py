"""Whole-folder publishing: a reader sees the old run or the new run whole, whatever happens.

A run is killed (SIGKILL) at each publishing step and after random delays; SIGINT / SIGTERM
end with one line and no staging folder; a second run into a busy folder is refused; stale
staging folders are cleaned by the next run; ``report`` / ``compare`` verify the manifest.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from optimizer.atomic import StagedOutput, split_timings
from optimizer.cli import main

from .test_case_validation import CASE, _files

# runs the CLI in a child that acts on itself (kill or signal) when publishing reaches a step
CHILD = """
import os, signal, sys
import optimizer.atomic as atomic
step, sig = sys.argv[1], int(sys.argv[2])
atomic._on_step = lambda s: os.kill(os.getpid(), sig) if s == step else None
from optimizer.cli import main
sys.exit(main(sys.argv[3:]))
"""
STEPS = ("staged", "sealed", "swap", "swapped", "done")  # in the order publishing meets them


def _child(step: str, sig: int, argv: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", CHILD, step, str(sig), *argv],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "PYTHONWARNINGS": "ignore"},
    )


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def whole_run(folder: Path) -> str:
    """Assert ``folder`` is one run whole (exactly the manifest's files, hashes matching);
    return its solution.json text."""
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    on_disk = sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())
    assert on_disk == sorted([*manifest["files"], "manifest.json"]), "no stale, no missing file"
    for name, digest in manifest["sha256"].items():
        assert _sha(folder / name) == digest, name
    return (folder / "solution.json").read_text(encoding="utf-8")


def _leftovers(out: Path) -> list[str]:
    return sorted(p.name for p in out.parent.glob(f".{out.name}.*"))


@pytest.fixture
def runs(tmp_case, tmp_path):
    """An old run in ``out`` (one new site) and the argv of a different new run (two)."""
    old_case = tmp_case(CASE, _files())
    new_case = tmp_path / "case2.yaml"
    new_case.write_text(CASE.replace("max_new_sites: 1", "max_new_sites: 2"), encoding="utf-8")
    out = tmp_path / "out"
    assert main(["run", str(old_case), "--out", str(out), "-q"]) == 0
    old = whole_run(out)
    ref = tmp_path / "ref"
    assert main(["run", str(new_case), "--out", str(ref), "-q"]) == 0
    new = whole_run(ref)
    assert old != new
    return out, ["run", str(new_case), "--out", str(out), "-q"], old, new


def test_sigkill_at_each_publishing_step_leaves_old_or_new_run_whole(runs):
    out, argv, old, new = runs
    seen = []
    for step in STEPS:
        proc = _child(step, signal.SIGKILL, argv)
        assert proc.returncode == -signal.SIGKILL, proc.stderr
        now = whole_run(out)
        assert now in (old, new)
        seen.append("new" if now == new else "old")
        # the next run cleans what the killed one left and publishes whole
        assert main(argv) == 0
        assert whole_run(out) == new and _leftovers(out) == []
        assert main(["run", *_old_argv(argv)]) == 0  # back to the old run
        assert whole_run(out) == old
    assert seen == ["old", "old", "old", "new", "new"]


def _old_argv(argv: list[str]) -> list[str]:
    case = Path(argv[1]).with_name("case.yaml")
    return [str(case), "--out", argv[3], "-q"]


@pytest.mark.slow
def test_sigkill_after_random_delays_leaves_old_or_new_run_whole(runs):
    out, argv, old, new = runs
    rng = random.Random(15)
    counts = {"old": 0, "new": 0}
    for _ in range(12):
        proc = subprocess.Popen(
            [sys.executable, "-m", "optimizer", *argv],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env={**os.environ, "PYTHONWARNINGS": "ignore"},
        )
        time.sleep(rng.uniform(0.5, 6.0))
        proc.kill()
        proc.wait(timeout=60)
        now = whole_run(out)
        assert now in (old, new)
        counts["new" if now == new else "old"] += 1
        if now == new:
            assert main(["run", *_old_argv(argv)]) == 0
    print(f"random SIGKILLs: {counts}")  # shown with -s
    assert sum(counts.values()) == 12


@pytest.mark.parametrize(
    ("sig", "code", "name"), [(signal.SIGTERM, 143, "SIGTERM"), (signal.SIGINT, 130, "Ctrl-C")]
)
def test_signals_end_with_one_line_and_leave_the_old_run(runs, sig, code, name):
    out, argv, old, _new = runs
    proc = _child("sealed", sig, argv)
    assert proc.returncode == code, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and name in lines[0] and "Traceback" not in proc.stderr
    assert whole_run(out) == old and _leftovers(out) == []


def test_second_run_into_a_busy_folder_is_refused(runs, capsys):
    import fcntl

    out, argv, old, _new = runs
    lock = out.parent / f".{out.name}.lock"
    fd = os.open(lock, os.O_RDWR | os.O_CREAT)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        os.write(fd, b"4242")
        assert main(argv) == 1
    finally:
        os.close(fd)
    err = capsys.readouterr().err
    assert "another run is writing into it (process 4242" in err and str(out) in err
    assert whole_run(out) == old


def test_out_naming_a_file_or_a_foreign_folder_is_refused_before_solving(
    tmp_case, tmp_path, capsys
):
    case = tmp_case(CASE, _files())
    target = tmp_path / "notes.txt"
    target.write_text("mine")
    assert main(["run", str(case), "--out", str(target), "-q"]) == 1
    assert "is an existing file, not a folder" in capsys.readouterr().err
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "thesis.docx").write_text("keep me")
    assert main(["run", str(case), "--out", str(mine), "-q"]) == 1
    assert "not a run folder" in capsys.readouterr().err
    assert (mine / "thesis.docx").read_text() == "keep me"
    assert main(["run", str(case), "--out", str(target / "x"), "-q"]) == 1
    assert "is a file, not a folder" in capsys.readouterr().err


def test_stale_files_of_another_kind_of_run_never_survive(runs, tmp_path):
    out, argv, _old, new = runs
    (out / "stale.csv").write_text("from an older run\n")
    assert main(argv) == 0
    assert not (out / "stale.csv").exists()
    assert whole_run(out) == new


def test_report_and_compare_refuse_a_run_that_does_not_match_its_manifest(runs, tmp_path, capsys):
    out, _argv, _old, _new = runs
    assert main(["report", str(out), "-q"]) == 0  # rewriting report.html reseals the manifest
    whole_run(out)
    sites = out / "sites.csv"
    sites.write_text(sites.read_text().replace("1", "2"))
    assert main(["report", str(out), "-q"]) == 1
    assert "sites.csv differs from its sha256 in manifest.json" in capsys.readouterr().err
    assert main(["compare", str(out), str(out), "--out", str(tmp_path / "cmp"), "-q"]) == 1
    err = capsys.readouterr().err
    assert "RUN_A" in err and "sites.csv differs" in err and not (tmp_path / "cmp").exists()


def test_staging_of_a_failed_write_is_removed_and_old_files_kept(tmp_path):
    out = tmp_path / "o"
    with StagedOutput(out) as staged:
        staged.text("a.txt", "one")
    with pytest.raises(RuntimeError), StagedOutput(out) as staged:
        staged.text("a.txt", "two")
        raise RuntimeError("writer failed")
    assert (out / "a.txt").read_text() == "one" and _leftovers(out) == []
    whole = json.loads((out / "manifest.json").read_text())
    assert whole["files"] == ["a.txt"] and whole["sha256"]["a.txt"] == _sha(out / "a.txt")


def test_timings_are_split_out_at_any_depth():
    data = {"runtime_s": 1.5, "a": [{"seconds": 2, "x": 1}], "time_limit_s": 60}
    clean, times = split_timings(data)
    assert clean == {"a": [{"x": 1}], "time_limit_s": 60}
    assert times == {"runtime_s": 1.5, "a.0.seconds": 2}


@pytest.mark.slow
def test_sigterm_during_a_long_solve_ends_within_seconds(tmp_path):
    """HiGHS runs in its worker thread: the signal cancels the solve instead of waiting for it."""
    from optimizer.cli import default_case_path

    out = tmp_path / "demo"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "optimizer",
            "run",
            str(default_case_path()),
            "--out",
            str(out),
            "-q",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONWARNINGS": "ignore"},
    )
    time.sleep(12)  # the demo solves for tens of seconds on this machine
    t0 = time.perf_counter()
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=120)
    waited = time.perf_counter() - t0
    if proc.returncode == 0:
        pytest.skip("the demo finished before the signal")
    assert proc.returncode == 143 and "stopped by SIGTERM" in err
    assert waited < 10, waited
    assert not out.exists() and _leftovers(out) == []
