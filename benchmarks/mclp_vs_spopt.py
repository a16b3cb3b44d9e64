"""MCLP build and solve: this toolkit against PySAL spopt, same instances, same solver (HiGHS).

Run from the repository root::

    python -m benchmarks.mclp_vs_spopt            # SF fixture + uniform 1k, 5k, 10k, 20k demand
    python -m benchmarks.mclp_vs_spopt --quick    # SF fixture + uniform 1k and 10k (~2 min)
    python -m benchmarks.mclp_vs_spopt --json benchmarks/results/mine.json

Both sides start from the same dense cost matrix (what ``spopt.locate.MCLP.from_cost_matrix``
takes) and run in a fresh Python process each, one after the other, so timings do not share
caches and peak memory (``resource.getrusage(RUSAGE_SELF).ru_maxrss``, i.e. peak resident set
size of that process) belongs to one side only.

* **ours**: ``TravelTimes.from_dense`` -> ``solve_coverage`` (coverage sets, precheck, presolve =
  demand aggregation + dominance, MILP build, load into HiGHS through ``highspy``, HiGHS run,
  certification on the raw data). Stage times come from ``CoverageSolution.timings_s``.
* **spopt**: ``MCLP.from_cost_matrix`` then ``.solve(pulp.HiGHS(msg=False, gapRel=0, timeLimit=T),
  results=False)`` and the four result methods ``.solve`` runs by default (timed apart). PuLP's
  HiGHS interface is instrumented (a subclass timing ``buildSolverModel`` and ``callSolver``) to
  split model transfer from the HiGHS run; it changes nothing else. PuLP maps a HiGHS time limit
  to "Optimal", so the HiGHS model status is read from the solver object itself.

The same relative gap (0) and time limit go to both. Objectives must agree (rtol 1e-6) when both
sides prove optimality; anything else is reported, never hidden.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from .instances import Instance, load_instance, save_instance, sf_instance, uniform_instance

__all__ = ["compare", "format_table", "main", "run_ours", "run_spopt"]

ROOT = Path(__file__).resolve().parents[1]
RESULTS_DIR = Path(__file__).resolve().parent / "results"
OBJ_RTOL = 1e-6
QUICK_SIZES = [(1_000, 100), (10_000, 500)]
FULL_SIZES = [(1_000, 100), (5_000, 250), (10_000, 500), (20_000, 1_000)]


# ---------------------------------------------------------------------------------------------
# One side, in the current process
# ---------------------------------------------------------------------------------------------
def _maxrss_mib() -> float:
    """``getrusage`` peak RSS, MiB (Linux reports KiB). Inherited across fork + exec on Linux."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def peak_rss_mib() -> tuple[float, str]:
    """Peak resident set size of this process so far, MiB, and how it was measured.

    On Linux this is ``VmHWM`` of ``/proc/self/status``: the high-water mark of this program's
    own address space. ``getrusage(RUSAGE_SELF).ru_maxrss`` would be wrong for a freshly spawned
    child, because Linux carries the parent's peak over into the child across fork + exec (a
    parent holding a 20,000 x 1,000 matrix would set every child's floor). Elsewhere, fall back to
    ``ru_maxrss``.
    """
    global _PEAK_SEEN
    try:
        for text in Path("/proc/self/status").read_text().splitlines():
            if text.startswith("VmHWM:"):
                # the kernel syncs threads' RSS counters lazily, so a later VmHWM can read a few
                # KiB below an earlier one (seen: 458.18 after 458.21 MiB with HiGHS threads); a
                # high-water mark never falls, so report the highest value read so far
                _PEAK_SEEN = max(_PEAK_SEEN, int(text.split()[1]) / 1024.0)
                return _PEAK_SEEN, "VmHWM"
    except (OSError, ValueError, IndexError):
        pass
    return _maxrss_mib(), "ru_maxrss"


_PEAK_SEEN = 0.0  # MiB: the highest VmHWM read in this process


def run_ours(instance: Instance, *, time_limit_s: float = 600.0) -> dict[str, Any]:
    """Dense matrix -> certified MCLP answer with this toolkit (HiGHS through highspy)."""
    from geodata.arrays import Demand, Sites, TravelTimes
    from optimizer.models.coverage.problem import CoverageProblem
    from optimizer.models.coverage.solve import solve_coverage
    from optimizer.schema.coverage import CoverageModelConfig, Standard
    from optimizer.solvers import SolveOptions

    spec = instance.spec
    t0 = time.perf_counter()
    tt = TravelTimes.from_dense(instance.cost, name="cost", unit=spec.unit)
    n, m = instance.cost.shape
    demand = Demand(ids=np.arange(n).astype(str), weight=instance.weight)
    sites = Sites(
        ids=np.arange(m).astype(str),
        facility_type=np.full(m, "site", dtype=object),
        cost=np.ones(m),
        existing=np.zeros(m, dtype=bool),
    )
    radius = {"metres": spec.radius} if spec.unit == "m" else {"minutes": spec.radius}
    model = CoverageModelConfig(
        kind="mclp", standards=[Standard(name="r", **radius)], max_new_sites=spec.p
    )
    problem = CoverageProblem(demand, sites, {"cost": tt}, model)
    t_input = time.perf_counter() - t0
    sol = solve_coverage(problem, SolveOptions(time_limit_s=time_limit_s, mip_rel_gap=0.0))
    total = time.perf_counter() - t0
    st = sol.timings_s
    stages = {"input": t_input, **st}
    build = sum(stages.get(k, 0.0) for k in ("input", "coverage", "precheck", "presolve", "milp"))
    build += stages.get("load", 0.0)
    return {
        "side": "ours",
        "status": sol.status.value,
        "objective": sol.objective,
        "bound": sol.bound,
        "gap": sol.gap,
        "open_sites": int(sol.open_mask.sum()) if sol.open_mask is not None else None,
        "stages_s": stages,
        "build_s": build,
        "solve_s": stages.get("solve", 0.0),
        "post_s": stages.get("read", 0.0) + stages.get("certify", 0.0),
        "total_s": total,
        "model_size": sol.model_size,
        "presolve": sol.presolve,
        "versions": {"highs": sol.solver_version},
    }


def run_spopt(instance: Instance, *, time_limit_s: float = 600.0) -> dict[str, Any]:
    """Dense matrix -> MCLP answer with spopt's ``MCLP.from_cost_matrix`` and PuLP's HiGHS."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # third-party import-time deprecation noise
        import pulp
        import spopt
        from spopt.locate import MCLP

    parts: dict[str, float] = {}

    class TimedHiGHS(pulp.HiGHS):
        """PuLP's HiGHS API with the model transfer and the run timed apart (nothing else)."""

        def buildSolverModel(self, lp: Any) -> None:
            t = time.perf_counter()
            super().buildSolverModel(lp)
            parts["load"] = time.perf_counter() - t

        def callSolver(self, lp: Any) -> None:
            t = time.perf_counter()
            super().callSolver(lp)
            parts["solve"] = time.perf_counter() - t

    spec = instance.spec
    out: dict[str, Any] = {"side": "spopt"}
    error = None
    with warnings.catch_warnings():
        # PuLP 3.3 deprecates the LpVariable(...) calls spopt 0.7 makes (one warning per call,
        # ignored by Python's default filters anyway); keep them from failing strict test runs.
        warnings.simplefilter("ignore", DeprecationWarning)
        t0 = time.perf_counter()
        model = MCLP.from_cost_matrix(instance.cost, instance.weight, spec.radius, spec.p)
        t1 = time.perf_counter()
        try:
            model.solve(TimedHiGHS(msg=False, gapRel=0.0, timeLimit=time_limit_s), results=False)
        except Exception as exc:  # spopt raises unless PuLP says "Optimal"
            error = f"{type(exc).__name__}: {exc}"
        t2 = time.perf_counter()
        if error is None:
            # What MCLP.solve(results=True), the default, does after the solve.
            model.facility_client_array()
            model.client_facility_array()
            model.uncovered_clients()
            model.get_percentage()
        t3 = time.perf_counter()
    h = model.problem.solverModel
    info = h.getInfo()
    solve_total = t2 - t1
    out.update(
        {
            "status": h.modelStatusToString(h.getModelStatus()),
            "pulp_status": pulp.LpStatus[model.problem.status],
            "error": error,
            "objective": pulp.value(model.problem.objective) if error is None else None,
            # PuLP hands HiGHS a maximisation as "minimise -objective": flip the bound back.
            "bound": -float(info.mip_dual_bound)
            if model.problem.sense == pulp.LpMaximize
            else float(info.mip_dual_bound),
            "gap": float(info.mip_gap),
            "open_sites": int(sum(round(v.value() or 0) for v in model.fac_vars))
            if error is None
            else None,
            "stages_s": {
                "build": t1 - t0,
                "load": parts.get("load", 0.0),
                "solve": parts.get("solve", 0.0),
                "pulp_other": solve_total - parts.get("load", 0.0) - parts.get("solve", 0.0),
                "results": t3 - t2,
            },
            "build_s": t1 - t0 + parts.get("load", 0.0),
            "solve_s": parts.get("solve", 0.0),
            "post_s": solve_total - parts.get("load", 0.0) - parts.get("solve", 0.0) + (t3 - t2),
            "total_s": t3 - t0,
            "versions": {
                "highs": f"{h.versionMajor()}.{h.versionMinor()}.{h.versionPatch()}",
                "pulp": pulp.__version__,
                "spopt": spopt.__version__,
            },
        }
    )
    return out


def run_side(side: str, instance: Instance, *, time_limit_s: float) -> dict[str, Any]:
    runner = run_ours if side == "ours" else run_spopt
    return runner(instance, time_limit_s=time_limit_s)


def _child(side: str, instance_path: Path, result_path: Path, time_limit_s: float) -> None:
    """Entry point of a fresh measuring process: imports, load, baseline, run, write JSON."""
    if side == "spopt":
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            import pulp  # noqa: F401
            import spopt.locate  # noqa: F401
    else:
        # highspy too: the backend imports it lazily, and PuLP imports it at import time.
        import highspy  # noqa: F401

        import optimizer.models.coverage.solve
        import optimizer.solvers.highs  # noqa: F401
    instance = load_instance(instance_path)
    baseline, _ = peak_rss_mib()
    try:
        out = run_side(side, instance, time_limit_s=time_limit_s)
    except ImportError as exc:
        out = {"side": side, "status": "not installed", "error": str(exc)}
    out["peak_rss_mib"], out["rss_measure"] = peak_rss_mib()
    out["baseline_rss_mib"] = baseline
    out["ru_maxrss_mib"] = _maxrss_mib()
    out["python"] = sys.version.split()[0]
    out["numpy"] = np.__version__
    result_path.write_text(json.dumps(out), encoding="utf-8")


def _spawn(
    python: str, side: str, instance_path: Path, workdir: Path, time_limit_s: float
) -> dict[str, Any]:
    result_path = workdir / f"{side}-{time.monotonic_ns()}.json"
    cmd = [
        python,
        "-m",
        "benchmarks.mclp_vs_spopt",
        "--child",
        side,
        "--instance",
        str(instance_path),
        "--result",
        str(result_path),
        "--time-limit",
        str(time_limit_s),
    ]
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    t = time.perf_counter()
    proc = subprocess.run(
        cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=4 * time_limit_s + 3600
    )
    wall = time.perf_counter() - t
    if proc.returncode != 0 or not result_path.exists():
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-3:]
        return {"side": side, "status": "crashed", "error": " | ".join(tail)}
    out: dict[str, Any] = json.loads(result_path.read_text(encoding="utf-8"))
    out["process_wall_s"] = wall
    return out


# ---------------------------------------------------------------------------------------------
# Comparison and table
# ---------------------------------------------------------------------------------------------
def _optimal(side: dict[str, Any]) -> bool:
    return str(side.get("status", "")).lower() == "optimal" and side.get("objective") is not None


def compare(ours: dict[str, Any], spopt: dict[str, Any] | None) -> dict[str, Any]:
    """Agreement of the optima and the speed-ups (None where not comparable)."""
    out: dict[str, Any] = {"agree": None, "note": "", "build_speedup": None, "total_speedup": None}
    if spopt is None or spopt.get("objective") is None or ours.get("objective") is None:
        out["note"] = "spopt not run" if spopt is None else f"no objective: {spopt.get('error')}"
        return out
    a, b = float(ours["objective"]), float(spopt["objective"])
    same = abs(a - b) <= OBJ_RTOL * max(1.0, abs(a), abs(b))
    if _optimal(ours) and _optimal(spopt):
        out["agree"] = same
        if not same:
            out["note"] = f"DIFFERENT optima: ours {a:,.6f} vs spopt {b:,.6f}"
    else:
        out["note"] = (
            f"not comparable: ours {ours.get('status')}, spopt {spopt.get('status')} "
            f"(objectives {'equal' if same else 'differ'})"
        )
    if ours.get("build_s") and spopt.get("build_s"):
        out["build_speedup"] = spopt["build_s"] / ours["build_s"]
    if ours.get("total_s") and spopt.get("total_s"):
        out["total_speedup"] = spopt["total_s"] / ours["total_s"]
    return out


def _s(v: Any) -> str:
    if v is None:
        return "-"
    v = float(v)
    if v >= 100:
        return f"{v:,.0f}"
    if v >= 10:
        return f"{v:.1f}"
    if v >= 0.1:
        return f"{v:.2f}"
    return f"{v:.3f}"


def _x(v: Any) -> str:
    return "-" if v is None else f"{float(v):,.0f}x" if v >= 10 else f"{float(v):.1f}x"


def _mem(side: dict[str, Any] | None) -> str:
    if not side or side.get("peak_rss_mib") is None:
        return "-"
    delta = side["peak_rss_mib"] - side["baseline_rss_mib"]
    return f"{side['peak_rss_mib']:,.0f} (+{delta:,.0f})"


def _obj(side: dict[str, Any] | None) -> str:
    if not side or side.get("objective") is None:
        return "-" if not side else str(side.get("status", "-"))
    return f"{float(side['objective']):,.0f} ({str(side.get('status', '')).lower()})"


def format_table(rows: list[dict[str, Any]]) -> str:
    """One table: a column per instance, a row per measured quantity (seconds unless named)."""
    cols = [r["spec"]["name"] for r in rows]

    def line(label: str, f: Any) -> list[str]:
        return [label, *[f(r) for r in rows]]

    def st(side: str, key: str) -> Any:
        return lambda r: _s((r.get(side) or {}).get("stages_s", {}).get(key))

    def val(side: str, key: str) -> Any:
        return lambda r: _s((r.get(side) or {}).get(key))

    def agree(r: dict[str, Any]) -> str:
        c = r["compare"]
        return "yes" if c["agree"] else ("NO" if c["agree"] is False else "n/a")

    body = [
        line("demand x sites", lambda r: f"{r['spec']['n_demand']:,} x {r['spec']['n_sites']:,}"),
        line(
            "p / standard",
            lambda r: f"{r['spec']['p']} / {r['spec']['radius']:g} {r['spec']['unit']}",
        ),
        line(
            "candidates per demand (mean)",
            lambda r: f"{r['stats']['mean_candidates_within_standard']:.1f}",
        ),
        line("ours: model rows x cols", lambda r: _size(r.get("ours"))),
        ["OURS (s)"] + [""] * len(rows),
        line("  input: matrix -> arrays", st("ours", "input")),
        line("  coverage sets (t <= T)", st("ours", "coverage")),
        line("  precheck", st("ours", "precheck")),
        line("  presolve (aggregate, dominance)", st("ours", "presolve")),
        line("  MILP build", st("ours", "milp")),
        line("  load into HiGHS", st("ours", "load")),
        line("  = build", val("ours", "build_s")),
        line("  HiGHS run", val("ours", "solve_s")),
        line("  read + certify", val("ours", "post_s")),
        line("  total", val("ours", "total_s")),
        line("  peak RSS MiB (+ over baseline)", lambda r: _mem(r.get("ours"))),
        ["SPOPT 0.7 (s)"] + [""] * len(rows),
        line("  MCLP.from_cost_matrix", st("spopt", "build")),
        line("  PuLP -> HiGHS load", st("spopt", "load")),
        line("  = build", val("spopt", "build_s")),
        line("  HiGHS run", val("spopt", "solve_s")),
        line("  PuLP other + results", val("spopt", "post_s")),
        line("  total", val("spopt", "total_s")),
        line("  peak RSS MiB (+ over baseline)", lambda r: _mem(r.get("spopt"))),
        ["ANSWERS"] + [""] * len(rows),
        line("  objective ours", lambda r: _obj(r.get("ours"))),
        line("  objective spopt (HiGHS status)", lambda r: _obj(r.get("spopt"))),
        line("  same optimum", agree),
        ["SPEED-UP (spopt / ours)"] + [""] * len(rows),
        line("  build", lambda r: _x(r["compare"]["build_speedup"])),
        line("  total", lambda r: _x(r["compare"]["total_speedup"])),
    ]
    table = [["", *cols], *body]
    widths = [max(len(row[k]) for row in table) for k in range(len(table[0]))]
    out = []
    for k, row in enumerate(table):
        cells = [row[0].ljust(widths[0])] + [
            c.rjust(w) for c, w in zip(row[1:], widths[1:], strict=True)
        ]
        out.append("  ".join(cells).rstrip())
        if k == 0:
            out.append("  ".join("-" * w for w in widths))
    notes = [f"{r['spec']['name']}: {r['compare']['note']}" for r in rows if r["compare"]["note"]]
    return "\n".join(out + (["", *notes] if notes else []))


def _size(side: dict[str, Any] | None) -> str:
    size = (side or {}).get("model_size") or {}
    if not size:
        return "-"
    return f"{size['rows']:,} x {size['columns']:,}"


# ---------------------------------------------------------------------------------------------
# Driver
# ---------------------------------------------------------------------------------------------
def _median_run(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Median over fresh runs of every time and memory figure (taken one by one, so the stage
    medians need not add up exactly); answers must be the same in every run."""
    ok = [r for r in runs if r.get("total_s") is not None]
    if not ok:
        return runs[0]
    out = dict(ok[0])
    for key in ("build_s", "solve_s", "post_s", "total_s", "peak_rss_mib", "baseline_rss_mib"):
        if all(key in r for r in ok):
            out[key] = statistics.median(r[key] for r in ok)
    out["stages_s"] = {
        k: statistics.median(r["stages_s"].get(k, 0.0) for r in ok) for k in ok[0]["stages_s"]
    }
    answers = {(r.get("status"), r.get("objective")) for r in ok}
    if len(answers) > 1:
        out["status"] = "inconsistent across repeats: " + "; ".join(
            map(str, sorted(answers, key=str))
        )
    out["repeats"] = len(ok)
    out["runs"] = [
        {k: r.get(k) for k in ("build_s", "solve_s", "total_s", "peak_rss_mib", "stages_s")}
        for r in ok
    ]
    return out


def _machine() -> dict[str, Any]:
    cpu = platform.processor() or ""
    try:
        for text in Path("/proc/cpuinfo").read_text().splitlines():
            if text.startswith("model name"):
                cpu = text.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "platform": platform.platform(),
        "python": sys.version.split()[0],
    }


def _git_commit() -> str | None:
    try:
        res = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
        )
    except OSError:
        return None
    return res.stdout.strip() or None


def _instances(quick: bool, sizes: list[tuple[int, int]] | None, seed: int) -> list[Instance]:
    out: list[Instance] = []
    try:
        out.append(sf_instance())
    except FileNotFoundError as exc:
        print(f"skipping the SF fixture: {exc}", file=sys.stderr)
    for n, m in sizes or (QUICK_SIZES if quick else FULL_SIZES):
        out.append(uniform_instance(n, m, seed=seed))
    return out


def _parse_sizes(text: str) -> list[tuple[int, int]]:
    sizes = []
    for part in text.split(","):
        n, m = part.lower().split("x")
        sizes.append((int(n), int(m)))
    return sizes


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        prog="python -m benchmarks.mclp_vs_spopt", description=__doc__.split("\n")[0]
    )
    ap.add_argument(
        "--quick", action="store_true", help="SF fixture, 1,000 x 100 and 10,000 x 500 only"
    )
    ap.add_argument(
        "--json", type=Path, help="where to write the results (default benchmarks/results/)"
    )
    ap.add_argument("--sizes", type=_parse_sizes, help="uniform sizes, e.g. 1000x100,5000x250")
    ap.add_argument(
        "--repeat",
        type=int,
        help="fresh runs of our side per instance (median reported; default 3, quick 1)",
    )
    ap.add_argument(
        "--time-limit", type=float, default=600.0, help="HiGHS time limit per solve, s (both sides)"
    )
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument(
        "--spopt-python", default=sys.executable, help="interpreter with spopt 0.7.0 installed"
    )
    ap.add_argument("--no-spopt", action="store_true", help="measure our side only")
    ap.add_argument("--child", choices=["ours", "spopt"], help=argparse.SUPPRESS)
    ap.add_argument("--instance", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--result", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)

    if args.child:
        _child(args.child, args.instance, args.result, args.time_limit)
        return 0

    repeat = args.repeat or (1 if args.quick else 3)
    started = dt.datetime.now(dt.UTC)
    load_before = os.getloadavg()
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="mclp-bench-") as tmp:
        workdir = Path(tmp)
        for inst in _instances(args.quick, args.sizes, args.seed):
            path = workdir / f"{inst.spec.name}.npz"
            save_instance(inst, path)
            print(f"{inst.spec.name}: ours x{repeat}", end="", file=sys.stderr, flush=True)
            ours = _median_run(
                [
                    _spawn(sys.executable, "ours", path, workdir, args.time_limit)
                    for _ in range(repeat)
                ]
            )
            spopt = None
            if not args.no_spopt:
                print(", spopt x1", end="", file=sys.stderr, flush=True)
                spopt = _spawn(args.spopt_python, "spopt", path, workdir, args.time_limit)
                if spopt.get("status") == "not installed":
                    spopt = None
            print(" done", file=sys.stderr, flush=True)
            rows.append(
                {
                    "spec": dataclasses.asdict(inst.spec),
                    "stats": inst.describe(),
                    "ours": ours,
                    "spopt": spopt,
                    "compare": compare(ours, spopt),
                }
            )
            path.unlink()
    table = format_table(rows)
    highs = sorted(
        {
            v
            for r in rows
            for side in ("ours", "spopt")
            for v in [((r.get(side) or {}).get("versions") or {}).get("highs")]
            if v
        }
    )
    spopt_versions = next(
        ((r["spopt"] or {}).get("versions") for r in rows if r.get("spopt")), None
    )
    header = [
        f"MCLP build + solve, ours vs PySAL spopt — {started:%Y-%m-%d %H:%M} UTC, "
        f"{_machine()['cores']} cores, load average {load_before[0]:.1f} at start, "
        f"{os.getloadavg()[0]:.1f} at end (other processes share the machine)",
        "HiGHS "
        + (" / ".join(highs) if highs else "?")
        + ("" if len(highs) <= 1 else "  (VERSIONS DIFFER between the two sides)")
        + (
            f"; spopt {spopt_versions['spopt']}, PuLP {spopt_versions['pulp']}"
            if spopt_versions
            else "; spopt not run"
        ),
        f"our side: median of {repeat} fresh process(es), figure by figure; spopt: 1 fresh process; "
        "times in seconds",
        "memory: peak RSS of that process in MiB (VmHWM; '+' = above the baseline after imports "
        "and loading the instance)",
        "",
    ]
    print("\n".join(header) + table)
    doc = {
        "benchmark": "mclp_vs_spopt",
        "started_utc": started.isoformat(timespec="seconds"),
        "quick": bool(args.quick),
        "repeat_ours": repeat,
        "time_limit_s": args.time_limit,
        "machine": _machine(),
        "load_average_start": load_before,
        "load_average_end": os.getloadavg(),
        "git_commit": _git_commit(),
        "memory_measure": (
            "peak RSS of a fresh process per side: VmHWM from /proc/self/status on Linux "
            "(getrusage ru_maxrss is inherited from the parent across fork+exec, so it is kept "
            "only for reference as ru_maxrss_mib); baseline = after imports and loading the instance"
        ),
        "instances": rows,
    }
    out = args.json or RESULTS_DIR / f"mclp_vs_spopt{'_quick' if args.quick else ''}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp_out = out.with_suffix(out.suffix + ".tmp")
    tmp_out.write_text(json.dumps(doc, indent=1, default=float) + "\n", encoding="utf-8")
    os.replace(tmp_out, out)
    print(f"\nresults: {out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
