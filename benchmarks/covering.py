"""Hard covering solves: ours against compact HiGHS and SCIP on the same instances, one table.

    python -m benchmarks.covering [--quick] [--time-limit S] [--json PATH] [--sides ours,highs,scip]

Rows:

* ``default-clinics`` - the embedded default case's clinic block (a PSCLP: least cost so that
  95% of residents are within a 15-minute walk; equal costs), the matrix the default case hands
  the solver; and ``default-e2e``, the whole ``python -m optimizer demo`` run (ours only);
* ``towns-N x M pP TT`` - clustered-town random counties (:func:`town_pairs`): 10,000 x 500 with
  p = 40, T = 15 min and p = 60, T = 10 min; 20,000 x 1,000 with p = 200, T = 6 min; and
  10^5 x 10^4 (p = 1,000, T = 10 min; full run only);
* ``psclp-N x M TT sS`` - the same counties as equal-cost partial covering (least sites so that
  a share S of the residents is within T): 10,000 x 500 at 10 min and 90%; 20,000 x 1,000 at
  8 min and 90% (full run only). ``auto`` sends them to the LP-and-plan route, not bbc.

Sides, each in a fresh process (so peak memory, ``VmHWM``, is that run's own): ``ours`` = the
toolkit as a planner runs it (presolve: demand merged by covering set and dominated candidates
dropped; ``solver.method: auto``, which sends an equal-cost PSCLP block such as the clinic block
to SCIP with pseudo-cost branching; HiGHS otherwise); ``highs`` and ``scip`` = the plain compact model (no
presolve of ours) given to HiGHS and to SCIP (PySCIPOpt). All with the same time limit and gap
0; the load average (``/proc/loadavg``) is recorded beside every figure, since the machine is
shared. Ratios are peer seconds / our seconds in the same run. Extra sides (``--sides``):
``ours-highs`` (our presolve, compact model, HiGHS: ``ours`` before ``auto`` chose bbc or
SCIP for the clinic block),
``ours-scip`` (our presolve, compact model, SCIP) and ``bbc`` (our presolve, branch-and-Benders-
cut in SCIP, ``solver.method: bbc``).
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    __package__ = "benchmarks"

from .mclp_vs_spopt import peak_rss_mib

ROOT = Path(__file__).resolve().parents[1]
SPEED_KM_PER_MIN = 0.5
"""30 km/h on the county's roads, as the straight-line stand-in for a road search."""

TOWNS_QUICK = [(10_000, 500, 40, 15.0), (10_000, 500, 60, 10.0)]
TOWNS_FULL = [*TOWNS_QUICK, (20_000, 1_000, 200, 6.0), (100_000, 10_000, 1_000, 10.0)]
PSCLP_QUICK = [(10_000, 500, 10.0, 0.9)]
"""Equal-cost partial covering on the same counties: (n, m, minutes, share); unit costs."""
PSCLP_FULL = [*PSCLP_QUICK, (20_000, 1_000, 8.0, 0.9)]


def _load() -> float:
    return float(Path("/proc/loadavg").read_text().split()[0])


def _cpu_s() -> float:
    """CPU seconds of this process and its threads (user + system): unlike wall seconds, about
    the same whether or not other work shares the machine."""
    use = resource.getrusage(resource.RUSAGE_SELF)
    return float(use.ru_utime + use.ru_stime)


def _children_cpu_s() -> float:
    """CPU seconds of the finished child processes (user + system)."""
    use = resource.getrusage(resource.RUSAGE_CHILDREN)
    return float(use.ru_utime + use.ru_stime)


def town_pairs(
    n: int, m: int, minutes: float, *, seed: int = 7
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """A clustered-town county: ``(weight, demand index, site index, minutes)`` within ``minutes``.

    The county is a square of side ``sqrt(n) * 0.4`` km (40 km for 10,000 points). One town per
    250 demand points; 70% of the points lie around a town (normal, sigma 1.5 km), 30% are spread
    over the countryside; town populations are log-normal and rural ones smaller. Candidate sites
    follow the same mix (80% in towns). Travel time = straight-line distance at 30 km/h.
    """
    from scipy.spatial import cKDTree

    rng = np.random.default_rng(seed)
    side = np.sqrt(n) * 0.4
    centres = rng.random((max(n // 250, 1), 2)) * side

    def scatter(k: int, town_share: float) -> np.ndarray:
        in_town = rng.random(k) < town_share
        pts = rng.random((k, 2)) * side
        which = rng.integers(0, len(centres), int(in_town.sum()))
        pts[in_town] = centres[which] + rng.normal(0.0, 1.5, (int(in_town.sum()), 2))
        return np.clip(pts, 0.0, side)

    demand = scatter(n, 0.7)
    sites = scatter(m, 0.8)
    weight = np.round(rng.lognormal(5.5, 1.0, n))
    radius = minutes * SPEED_KM_PER_MIN
    coo = cKDTree(demand).sparse_distance_matrix(cKDTree(sites), radius, output_type="coo_matrix")
    return weight, coo.row.astype(np.int64), coo.col.astype(np.int64), coo.data / SPEED_KM_PER_MIN


def _psclp_problem(n: int, m: int, minutes: float, share: float) -> Any:
    """The town county as an equal-cost PSCLP: least sites so that ``share`` is within reach."""
    from optimizer.schema.coverage import CoverageModelConfig, Standard

    problem = _town_problem(n, m, 0, minutes)
    model = CoverageModelConfig(
        kind="psclp",
        objective="min_cost",
        standards=[Standard(name="t", minutes=minutes, min_share=share)],
    )
    return replace(problem, model=model)


def _town_problem(n: int, m: int, p: int, minutes: float) -> Any:
    from geodata.arrays import Demand, Sites, TravelTimes
    from optimizer.models.coverage.problem import CoverageProblem
    from optimizer.schema.coverage import CoverageModelConfig, Standard

    weight, di, sj, tmin = town_pairs(n, m, minutes)
    tt = TravelTimes("drive", di, sj, tmin, n, m, unit="min", complete_within=minutes)
    demand = Demand(ids=np.arange(n).astype(str), weight=weight)
    sites = Sites(
        ids=np.arange(m).astype(str),
        facility_type=np.full(m, "clinic", dtype=object),
        cost=np.ones(m),
        existing=np.zeros(m, dtype=bool),
    )
    model = CoverageModelConfig(
        kind="mclp", standards=[Standard(name="t", minutes=minutes)], max_new_sites=p
    )
    return CoverageProblem(demand, sites, {"drive": tt}, model)


def _clinic_block() -> Any:
    """The default case's clinic block as the toolkit hands it to the solver."""
    from optimizer.case.prepare import prepare_case
    from optimizer.cli import default_case_path
    from optimizer.milp import split_blocks, sub_milp
    from optimizer.models.coverage.build import build_coverage_milp
    from optimizer.models.coverage.problem import coverage_sets, reduce

    prepared = prepare_case(default_case_path())
    problem = prepared.problem
    reduced = reduce(problem, coverage_sets(problem))
    milp = build_coverage_milp(problem, reduced)
    clinic = problem.sites.facility_type[reduced.free_sites] == "clinic"
    clinic_cols = milp.var_blocks["y"].index()[clinic]
    for k, (cols, rows) in enumerate(split_blocks(milp)):
        if np.intersect1d(cols, clinic_cols).size:
            return sub_milp(milp, cols, rows, f"default-clinics#{k}")
    raise RuntimeError("the default case has no clinic block")


def run_child(row: str, side: str, time_limit_s: float) -> dict[str, Any]:
    """One side of one row in this process."""
    from optimizer.models.coverage.solve import solve_coverage
    from optimizer.solvers import SolveOptions, solve

    options = SolveOptions(time_limit_s=time_limit_s, mip_rel_gap=0.0, threads=2)
    backend = "scip" if side in ("scip", "ours-scip", "bbc") else "highs"
    load0 = _load()
    t0 = time.perf_counter()
    cpu0 = _cpu_s()
    if row == "default-clinics":
        if side == "ours":  # solver.method auto: an equal-cost PSCLP block goes to SCIP
            options = replace(options, psclp_scip=True)
        res = solve(_clinic_block(), options, backend, decompose=False)
        out = {
            "status": res.status.value,
            "objective": res.objective,
            "bound": res.bound,
            "solve_s": res.runtime_s,
            "nodes": res.node_count,
        }
    else:
        if row.startswith("psclp-"):
            _, size, t_text, s_text = row.split("-")
            n, m = (int(v) for v in size.split("x"))
            problem = _psclp_problem(n, m, float(t_text[1:]), float(s_text[1:]))
        else:
            _, size, p_text, t_text = row.split("-")
            n, m = (int(v) for v in size.split("x"))
            problem = _town_problem(n, m, int(p_text[1:]), float(t_text[1:]))
        plain = side in ("highs", "scip")
        sol = solve_coverage(
            problem,
            options,
            backend=backend,
            aggregate=not plain,
            drop_dominated=not plain,
            method={"bbc": "bbc", "ours-scip": "compact", "ours-highs": "compact"}.get(
                side, "compact" if plain else "auto"
            ),
        )
        out = {
            "status": sol.status.value,
            "objective": sol.objective,
            "bound": sol.bound,
            "solve_s": sol.timings_s.get("solve"),
            "method": sol.method,
            "method_reason": sol.method_reason,
            "presolve": sol.presolve,
            "checked": sol.checked,
        }
    out["total_s"] = time.perf_counter() - t0
    out["cpu_s"] = _cpu_s() - cpu0
    out["peak_rss_mib"] = peak_rss_mib()[0]
    out["load"] = [load0, _load()]
    return out


def _spawn(row: str, side: str, time_limit_s: float) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "out.json"
        cmd = [sys.executable, "-m", "benchmarks.covering", "--child", row, side]
        cmd += ["--time-limit", str(time_limit_s), "--json", str(path)]
        proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, check=False)
        if proc.returncode != 0 or not path.exists():
            return {"status": "error", "error": proc.stderr[-2000:]}
        result: dict[str, Any] = json.loads(path.read_text())
        return result


def _e2e() -> dict[str, Any]:
    """The default case end to end, as a new user runs it (``python -m optimizer demo``)."""
    with tempfile.TemporaryDirectory() as tmp:
        load0 = _load()
        t0 = time.perf_counter()
        cpu0 = _children_cpu_s()
        proc = subprocess.run(
            [sys.executable, "-m", "optimizer", "demo", "--out", tmp, "-q"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=False,
        )
        total = time.perf_counter() - t0
        cpu = _children_cpu_s() - cpu0
        sol = json.loads((Path(tmp) / "solution.json").read_text()) if proc.returncode == 0 else {}
    return {
        "status": sol.get("status", "error"),
        "objective": sol.get("objective"),
        "bound": sol.get("best_bound"),
        "solve_s": sol.get("runtime_s"),
        "total_s": total,
        "cpu_s": cpu,
        "load": [load0, _load()],
    }


def rows_for(quick: bool) -> list[str]:
    towns = TOWNS_QUICK if quick else TOWNS_FULL
    psclp = PSCLP_QUICK if quick else PSCLP_FULL
    return (
        ["default-clinics"]
        + [f"towns-{n}x{m}-p{p}-T{t:g}" for n, m, p, t in towns]
        + [f"psclp-{n}x{m}-T{t:g}-s{s:g}" for n, m, t, s in psclp]
    )


def run(
    quick: bool, time_limit_s: float, sides: list[str], only: str | None = None
) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    if only is None or only in "default-e2e":
        out.append({"row": "default-e2e", "ours": _e2e()})
        print(format_table(out), flush=True)
    for row in rows_for(quick):
        if only is not None and only not in row:
            continue
        entry: dict[str, Any] = {"row": row}
        for side in sides:
            entry[side] = _spawn(row, side, time_limit_s)
        out.append(entry)
        print(format_table([entry], header=False), flush=True)
    return out


def _cell(side: dict[str, Any]) -> str:
    st = str(side.get("status", "?"))[:8]
    obj, bound = side.get("objective"), side.get("bound")
    gap = ""
    if obj is not None and bound is not None and st != "optimal":
        rel = abs(obj - bound) / max(abs(obj), 1e-9)
        gap = f" {100 * rel:.2f}%" if rel < 10 else " no bound"
    load = side.get("load", [None])[0]
    mem = side.get("peak_rss_mib")
    mem_text = "-" if mem is None else f"{mem:.0f}M"
    cpu = side.get("cpu_s")
    cpu_text = "-" if cpu is None else f"{cpu:.1f}s"
    solve = side.get("solve_s")
    solve_text = "-" if solve is None else f"{solve:.2f}s"
    return (
        f"{st + gap:>15} {solve_text:>7} {side.get('total_s', 0.0):7.1f}s {cpu_text:>7} "
        f"{mem_text:>6} {load!s:>6}"
    )


def _ratio(peer: dict[str, Any] | None, ours: dict[str, Any] | None) -> str:
    if not peer or not ours or not ours.get("total_s") or "total_s" not in peer:
        return "-"
    return f"{peer['total_s'] / ours['total_s']:.2f}x"


def format_table(rows: list[dict[str, Any]], *, header: bool = True) -> str:
    """One line per row and side: status (gap when stopped), solver seconds, wall seconds, CPU
    seconds, peak MiB, load; and the side's wall seconds over ours."""
    lines = []
    if header:
        lines.append(
            f"{'row':<26} {'side':<10} {'status':>15} {'solve':>7} {'total':>8} {'cpu':>7} "
            f"{'peak':>6} {'load':>6} {'x ours':>7}"
        )
    for r in rows:
        ours = r.get("ours")
        for side, res in r.items():
            if side == "row" or not isinstance(res, dict):
                continue
            lines.append(f"{r['row']:<26} {side:<10} {_cell(res)} {_ratio(res, ours):>7}")
    return "\n".join(lines)


@contextlib.contextmanager
def _busy(on: bool) -> Iterator[None]:
    """With ``on``, another CPU-bound process (a Python busy loop) runs for the duration."""
    if not on:
        yield
        return
    hog = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        yield
    finally:
        hog.kill()
        hog.wait()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="the default case and 10,000 x 500 only")
    ap.add_argument("--time-limit", type=float, default=600.0)
    ap.add_argument("--sides", default="ours,highs,scip")
    ap.add_argument("--json", type=Path)
    ap.add_argument("--rows", help="only the rows whose name contains this text")
    ap.add_argument(
        "--load",
        action="store_true",
        help="run with another CPU-bound process on the machine (the 'loaded' figures)",
    )
    ap.add_argument("--child", nargs=2, metavar=("ROW", "SIDE"), help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        result = run_child(args.child[0], args.child[1], args.time_limit)
        args.json.write_text(json.dumps(result, default=str))
        return 0
    sides = [s for s in args.sides.split(",") if s]
    with _busy(args.load):
        rows = run(args.quick, args.time_limit, sides, args.rows)
    if args.json:
        meta = {
            "date": dt.datetime.now(dt.UTC).isoformat(),
            "time_limit_s": args.time_limit,
            "another_cpu_bound_process": args.load,
        }
        args.json.write_text(json.dumps({"meta": meta, "rows": rows}, indent=1, default=str))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
