"""Large MCLP instances from bounded travel-time tables: build, solve, certify, peak memory.

    python -m benchmarks.large --size 100000x10000 --method compact [--time-limit 600]
    python -m benchmarks.large --size 100000x10000 --method benders --json out.json

One fresh process per run (``--child``), so the peak resident set size (``VmHWM``) belongs to
that run alone. The instance is :func:`benchmarks.instances.uniform_pairs` (the uniform
benchmark's points, only the pairs within the 15-minute standard, as a bounded road search
would give them), solved with ``solver.threads`` = ``--threads`` (default 2) and gap 0.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from .instances import uniform_pairs
from .mclp_vs_spopt import peak_rss_mib

ROOT = Path(__file__).resolve().parents[1]

__all__ = ["run_child", "run_large"]


def run_child(
    n: int,
    m: int,
    *,
    method: str,
    time_limit_s: float,
    threads: int | None,
    seed: int = 1,
    greedy: bool | None = None,
) -> dict[str, Any]:
    """Generate, build, solve and certify one instance in this process."""
    from geodata.arrays import Demand, Sites, TravelTimes
    from optimizer.models.coverage.problem import CoverageProblem
    from optimizer.models.coverage.solve import solve_coverage
    from optimizer.schema.coverage import CoverageModelConfig, Standard
    from optimizer.solvers import SolveOptions

    t0 = time.perf_counter()
    spec, weight, di, sj, minutes = uniform_pairs(n, m, seed=seed)
    t_gen = time.perf_counter() - t0
    base, _ = peak_rss_mib()
    t1 = time.perf_counter()
    tt = TravelTimes("cost", di, sj, minutes, n, m, unit="min", complete_within=spec.radius)
    demand = Demand(ids=np.arange(n).astype(str), weight=weight)
    sites = Sites(
        ids=np.arange(m).astype(str),
        facility_type=np.full(m, "site", dtype=object),
        cost=np.ones(m),
        existing=np.zeros(m, dtype=bool),
    )
    model = CoverageModelConfig(
        kind="mclp", standards=[Standard(name="r", minutes=spec.radius)], max_new_sites=spec.p
    )
    problem = CoverageProblem(demand, sites, {"cost": tt}, model)
    t_input = time.perf_counter() - t1
    sol = solve_coverage(
        problem,
        SolveOptions(time_limit_s=time_limit_s, mip_rel_gap=0.0, threads=threads),
        method=method,
        greedy=greedy,
    )
    total = time.perf_counter() - t1
    stages = {"input": t_input, **sol.timings_s}
    build = sum(
        stages.get(k, 0.0) for k in ("input", "coverage", "precheck", "presolve", "milp", "load")
    )
    peak, how = peak_rss_mib()
    return {
        "instance": spec.name,
        "n_demand": n,
        "n_sites": m,
        "p": spec.p,
        "pairs_within_standard": int(di.size),
        "method": sol.method,
        "greedy": greedy,
        "warm_start": sol.warm_start,
        "threads": threads,
        "status": sol.status.value,
        "objective": sol.objective,
        "bound": sol.bound,
        "gap": sol.gap,
        "checked": sol.checked,
        "generate_s": t_gen,
        "stages_s": stages,
        "build_s": build,
        "solve_s": stages.get("solve", 0.0),
        "total_s": total,
        "model_size": sol.model_size,
        "presolve": sol.presolve,
        "benders": sol.benders,
        "peak_rss_mib": peak,
        "baseline_rss_mib": base,
        "rss_measure": how,
        "highs": sol.solver_version,
    }


def run_large(
    n: int,
    m: int,
    *,
    method: str = "compact",
    time_limit_s: float = 600.0,
    threads: int = 2,
    greedy: bool | None = None,
    timeout_s: float | None = None,
) -> dict[str, Any]:
    """:func:`run_child` in a fresh Python process; returns its JSON (or why it failed)."""
    with tempfile.TemporaryDirectory(prefix="large-mclp-") as tmp:
        out = Path(tmp) / "result.json"
        cmd = [
            sys.executable,
            "-m",
            "benchmarks.large",
            "--child",
            "--size",
            f"{n}x{m}",
            "--method",
            method,
            "--time-limit",
            str(time_limit_s),
            "--threads",
            str(threads),
            "--json",
            str(out),
        ] + {None: [], True: ["--greedy"], False: ["--no-greedy"]}[greedy]
        env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
        t = time.perf_counter()
        try:
            proc = subprocess.run(
                cmd,
                cwd=ROOT,
                env=env,
                capture_output=True,
                text=True,
                timeout=timeout_s or 3 * time_limit_s + 600,
            )
        except subprocess.TimeoutExpired:
            return {"n_demand": n, "n_sites": m, "method": method, "status": "timeout"}
        wall = time.perf_counter() - t
        if proc.returncode != 0 or not out.exists():
            tail = (proc.stderr or proc.stdout).strip().splitlines()[-3:]
            return {
                "n_demand": n,
                "n_sites": m,
                "method": method,
                "status": "crashed",
                "error": " | ".join(tail),
            }
        res: dict[str, Any] = json.loads(out.read_text(encoding="utf-8"))
        res["process_wall_s"] = wall
        return res


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        prog="python -m benchmarks.large", description=__doc__.split("\n")[0]
    )
    ap.add_argument("--size", default="100000x10000", help="demand x sites, e.g. 100000x10000")
    ap.add_argument("--method", choices=["compact", "benders", "auto"], default="compact")
    ap.add_argument("--time-limit", type=float, default=600.0)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument(
        "--greedy", action="store_true", help="greedy warm start (default: Benders only)"
    )
    ap.add_argument("--no-greedy", action="store_true", help="no greedy warm start")
    ap.add_argument("--json", type=Path, help="write the result here")
    ap.add_argument("--child", action="store_true", help="run in this process")
    args = ap.parse_args(argv)
    n, m = (int(v) for v in args.size.lower().split("x"))
    if args.child:
        res = run_child(
            n,
            m,
            method=args.method,
            time_limit_s=args.time_limit,
            threads=args.threads,
            greedy=True if args.greedy else (False if args.no_greedy else None),
        )
    else:
        res = run_large(
            n,
            m,
            method=args.method,
            time_limit_s=args.time_limit,
            threads=args.threads,
            greedy=True if args.greedy else (False if args.no_greedy else None),
        )
    text = json.dumps(res, indent=1, default=float)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(text + "\n", encoding="utf-8")
    if not args.child:
        print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
