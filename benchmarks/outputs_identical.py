"""Byte-identical outputs for every offline ``configs/*.yaml``, before vs after a refactor.

Task: a pure-move refactor (REDESIGN.md §4.5 "Day 1: moves only") must not change any number.
``record DIR`` runs the CLI (``run`` for siting/120 cases, ``staff`` for staffing cases, plus
``demo``) into ``DIR/<name>``; ``compare BEFORE AFTER`` compares every file of every run folder
byte for byte, after masking only the timing fields and the output path (the pattern of
``tests/test_cli.py::test_rerun_is_byte_identical``). It prints a table and exits 1 on any
difference.

    python -m benchmarks.outputs_identical record /tmp/before     # on the old tree
    python -m benchmarks.outputs_identical record /tmp/after      # on the new tree
    python -m benchmarks.outputs_identical compare /tmp/before /tmp/after

Cases that need the internet (``configs/zhuji.yaml`` downloads its roads with osmnx) are skipped
and listed. Runs use ``PYTHONHASHSEED=0``: the walk routing of ``andorra_joint.yaml`` depends on
the string hash seed (one AED trip is 2.976 or 3.506 min), on the old tree as on the new one.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CONFIGS = ROOT / "configs"
ONLINE = {"zhuji"}  # needs osmnx downloads on the first run
STAFFING = re.compile(r"^kind:\s*(staffing_quota|sent_down)\b", re.M)

# Timing and path fields: seconds taken, wall clock, dates, and the folder the run wrote into.
_TIMING = re.compile(
    r'("(?:[a-z_]*seconds[a-z_]*|[a-z_]*_s|time|elapsed[a-z_]*|wall[a-z_]*|created[a-z_]*|'
    r'started[a-z_]*|finished[a-z_]*|date|timestamp|run_at|generated[a-z_]*)"\s*:\s*)'
    r'("[^"]*"|[-0-9.eE+]+|null)'
)
_HTML_TIME = re.compile(r"\b\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}(:\d{2})?(\.\d+)?(Z|[+-]\d{2}:?\d{2})?")
_SECONDS = re.compile(r"\b\d+(\.\d+)?\s?(s|ms|秒)\b")


def cases() -> list[tuple[str, list[str]]]:
    """(name, CLI arguments without --out) for every offline config, plus the embedded demo."""
    out: list[tuple[str, list[str]]] = [("demo", ["demo"])]
    for path in sorted(CONFIGS.glob("*.yaml")):
        if path.stem in ONLINE:
            continue
        command = "staff" if STAFFING.search(path.read_text(encoding="utf-8")) else "run"
        out.append((path.stem, [command, str(path)]))
    return out


def record(target: Path) -> int:
    """Run every case into ``target/<name>``; return how many exited differently from 0/2."""
    bad = 0
    target.mkdir(parents=True, exist_ok=True)
    (target / "ROOT").write_text(str(ROOT), encoding="utf-8")
    env = {**os.environ, "PYTHONHASHSEED": "0"}
    for name, args in cases():
        out = target / name
        proc = subprocess.run(
            [sys.executable, "-m", "optimizer", *args, "--out", str(out), "-q"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=False,
            env=env,
        )
        (target / f"{name}.exit").write_text(f"{proc.returncode}\n", encoding="utf-8")
        (target / f"{name}.stdout").write_text(proc.stdout, encoding="utf-8")
        print(f"{name:22s} exit {proc.returncode}")
        bad += proc.returncode not in (0, 2)
    print("skipped (need internet): " + ", ".join(sorted(ONLINE)))
    return bad


def normalise(data: bytes, folder: Path, root: str) -> bytes:
    """Mask timing fields, the output folder and the tree's root; the rest must match bytewise."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return data
    text = text.replace(str(folder), "<OUT>").replace(root, "<ROOT>")
    text = _TIMING.sub(r"\1<T>", text)
    text = _HTML_TIME.sub("<DATE>", text)
    return _SECONDS.sub("<S>", text).encode("utf-8")


def compare(before: Path, after: Path) -> int:
    """Compare every file under ``before`` with ``after``; print a table; return the differences."""
    rows: list[tuple[str, int, int, list[str]]] = []
    roots = [(d / "ROOT").read_text(encoding="utf-8") for d in (before, after)]
    for name, _ in cases():
        a, b = before / name, after / name
        files = sorted(p.relative_to(a) for p in a.rglob("*") if p.is_file()) if a.is_dir() else []
        others = sorted(p.relative_to(b) for p in b.rglob("*") if p.is_file()) if b.is_dir() else []
        differ = [str(f) for f in sorted(set(files) ^ set(others))]
        for rel in files:
            if (b / rel).is_file() and normalise((a / rel).read_bytes(), a, roots[0]) != normalise(
                (b / rel).read_bytes(), b, roots[1]
            ):
                differ.append(str(rel))
        for tail in (".exit", ".stdout"):
            x, y = before / f"{name}{tail}", after / f"{name}{tail}"
            if normalise(x.read_bytes(), a, roots[0]) != normalise(y.read_bytes(), b, roots[1]):
                differ.append(tail)
        rows.append((name, len(files), len(files) - len(differ), differ))
    print(f"{'case':22s} {'files':>6s} {'equal':>6s}  differ")
    for name, n, same, differ in rows:
        print(f"{name:22s} {n:6d} {same:6d}  {', '.join(differ)}")
    total = sum(r[1] for r in rows)
    equal = sum(r[2] for r in rows)
    print(f"{'total':22s} {total:6d} {equal:6d}")
    print("skipped (need internet): " + ", ".join(sorted(ONLINE)))
    return sum(len(r[3]) for r in rows)


def main(argv: list[str]) -> int:
    """``record DIR`` or ``compare BEFORE AFTER``."""
    if len(argv) == 2 and argv[0] == "record":
        return 1 if record(Path(argv[1])) else 0
    if len(argv) == 3 and argv[0] == "compare":
        return 1 if compare(Path(argv[1]), Path(argv[2])) else 0
    print(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
