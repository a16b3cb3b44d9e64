"""OR-Library pmed1-40: p-median and p-center solve times against the published optima, and
against PySAL spopt 0.7 on the same instances in the same run.

Run from the repository root::

    python -m benchmarks.pmed --quick        # pmed1-10 ours; spopt on pmed1-5 (n = 100)
    python -m benchmarks.pmed                # pmed1-40 ours; spopt on pmed1-10 (n <= 200)
    python -m benchmarks.pmed --instances pmed1,pmed6 --spopt pmed1 --json out.json

Both sides get the same dense all-pairs shortest-path matrix (``geodata.orlib.read_pmed``: the
last duplicate edge counts) and HiGHS with relative gap 0 and the same time limit.

* **ours**: ``solve_pmedian`` (``method: auto`` = Benders decomposition) and ``solve_pcenter``
  (binary search over LSCP steps), each answer re-checked on the raw matrix.
* **spopt**: ``PMedian.from_cost_matrix(cost, weights=1, p)`` and ``PCenter.from_cost_matrix(cost,
  p)`` (the compact assignment MIPs), ``.solve(pulp.HiGHS(msg=False, gapRel=0, timeLimit=T),
  results=False)``; build (``from_cost_matrix``) and solve timed apart. spopt raises unless PuLP
  says "Optimal"; that is reported as an error, and PuLP's "Optimal" after a HiGHS time limit is
  caught by reading HiGHS's own model status.

Wall-clock seconds, one run per instance, in this process (imports and reading the instance
before the clock starts). The published p-median optima are OR-Library's ``pmedopt.txt``; the
p-center radii are those of MODELS.md §1.5. Every value must match: a mismatch is printed as
``MISMATCH`` and makes the exit code 1.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import platform
import sys
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "bench-data" / "orlib-pmed"
RESULTS_DIR = Path(__file__).resolve().parent / "results"
OBJ_RTOL = 1e-6

#: Published p-center radii of pmed1..40 (MODELS.md §1.5).
PCENTER_RADII = [
    127, 98, 93, 74, 48, 84, 64, 55, 37, 20, 59, 51, 36, 26, 18, 47, 39, 28, 18, 13,
    40, 38, 22, 15, 11, 38, 32, 18, 13, 9, 30, 29, 15, 11, 30, 27, 15, 29, 23, 13,
]  # fmt: skip


def run_ours(name: str, kind: str, *, time_limit_s: float) -> dict[str, Any]:
    from geodata.orlib import read_pmed
    from optimizer.models.siting.pcenter import solve_pcenter
    from optimizer.models.siting.pmedian import solve_pmedian
    from optimizer.schema.siting import PCenterModelConfig, PMedianModelConfig
    from optimizer.solvers import SolveOptions

    inst = read_pmed(DATA / f"{name}.txt")
    demand, sites, tt = inst.demand(), inst.sites(), inst.travel_times()
    options = SolveOptions(time_limit_s=time_limit_s)
    t0 = time.perf_counter()
    if kind == "p_median":
        sol: Any = solve_pmedian(
            demand, sites, tt, PMedianModelConfig(kind="p_median", p=inst.p), options
        )
        method = sol.method
    else:
        sol = solve_pcenter(
            demand, sites, tt, PCenterModelConfig(kind="p_center", p=inst.p), options
        )
        method = sol.config.method
    wall = time.perf_counter() - t0
    return {
        "side": "ours",
        "n": inst.n,
        "p": inst.p,
        "status": sol.status.value,
        "objective": sol.objective,
        "bound": sol.bound,
        "gap": sol.gap,
        "checked": sol.checked,
        "method": method,
        "wall_s": wall,
    }


def run_spopt(name: str, kind: str, *, time_limit_s: float) -> dict[str, Any]:
    from geodata.orlib import read_pmed

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # third-party import-time deprecation noise
        import pulp
        import spopt
        from spopt.locate import PCenter, PMedian

    inst = read_pmed(DATA / f"{name}.txt")
    cost = inst.distance
    error = None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # PuLP 3.3 on spopt 0.7's calls
        t0 = time.perf_counter()
        if kind == "p_median":
            model: Any = PMedian.from_cost_matrix(cost, np.ones(inst.n), inst.p)
        else:
            model = PCenter.from_cost_matrix(cost, inst.p)
        t1 = time.perf_counter()
        try:
            model.solve(pulp.HiGHS(msg=False, gapRel=0.0, timeLimit=time_limit_s), results=False)
        except Exception as exc:  # spopt raises unless PuLP says "Optimal"
            error = f"{type(exc).__name__}: {exc}"
        t2 = time.perf_counter()
    h = model.problem.solverModel
    status = h.modelStatusToString(h.getModelStatus()) if h is not None else "none"
    return {
        "side": "spopt",
        "version": spopt.__version__,
        "n": inst.n,
        "p": inst.p,
        "status": status,
        "error": error,
        "objective": pulp.value(model.problem.objective) if error is None else None,
        "build_s": t1 - t0,
        "solve_s": t2 - t1,
        "wall_s": t2 - t0,
    }


def _agree(value: float | None, ref: float) -> bool:
    return value is not None and abs(value - ref) <= OBJ_RTOL * max(1.0, abs(ref))


def _limit_or_mismatch(ours: dict[str, Any], published: float) -> str:
    """``limit``: stopped by the time limit with a plan and bound that bracket the published
    value (consistent, not yet proven); anything else is a ``MISMATCH``."""
    obj, bound = ours["objective"], ours["bound"]
    tol = OBJ_RTOL * max(1.0, abs(published))
    if (
        ours["status"] == "feasible"
        and obj is not None
        and obj >= published - tol
        and (bound is None or bound <= published + tol)
    ):
        return "limit"
    return "MISMATCH"


def format_table(rows: list[dict[str, Any]]) -> str:
    head = (
        f"{'instance':<8} {'n':>4} {'p':>4} {'model':<9} {'published':>9} {'ours':>9} "
        f"{'status':<8} {'ours s':>8} {'spopt':>9} {'spopt s':>8} {'speed-up':>8}  check"
    )
    lines = [head, "-" * len(head)]
    for r in rows:
        o, s = r["ours"], r.get("spopt")
        sp_obj = "-" if s is None or s["objective"] is None else f"{s['objective']:g}"
        sp_t = "-" if s is None else f"{s['wall_s']:.2f}"
        speed = "-" if s is None or s["objective"] is None else f"{s['wall_s'] / o['wall_s']:.1f}x"
        ok = r.get("check", "ok" if r["ok"] else "MISMATCH")
        ours_obj = "-" if o["objective"] is None else f"{o['objective']:g}"
        lines.append(
            f"{r['instance']:<8} {o['n']:>4} {o['p']:>4} {r['model']:<9} "
            f"{r['published']:>9g} {ours_obj:>9} {o['status']:<8} {o['wall_s']:>8.2f} "
            f"{sp_obj:>9} {sp_t:>8} {speed:>8}  {ok}"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--quick", action="store_true", help="pmed1-10 ours, spopt on pmed1-5")
    ap.add_argument("--instances", help="comma-separated, e.g. pmed1,pmed6 (default by mode)")
    ap.add_argument("--spopt", help="instances spopt also runs (default by mode; 'none' = skip)")
    ap.add_argument("--models", default="p_median,p_center")
    ap.add_argument("--time-limit", type=float, default=600.0, help="seconds per solve")
    ap.add_argument("--json", type=Path, help="default benchmarks/results/pmed[_quick].json")
    args = ap.parse_args(argv)
    from geodata.orlib import read_pmed_optima

    if not DATA.is_dir():
        print(f"OR-Library files not found in {DATA}", file=sys.stderr)
        return 1
    optima = read_pmed_optima(DATA / "pmedopt.txt")
    n_inst = 10 if args.quick else 40
    names = (
        args.instances.split(",") if args.instances else [f"pmed{k}" for k in range(1, n_inst + 1)]
    )
    if args.spopt:
        with_spopt = set() if args.spopt == "none" else set(args.spopt.split(","))
    else:
        with_spopt = {f"pmed{k}" for k in range(1, 6 if args.quick else 11)}
    rows: list[dict[str, Any]] = []
    for name in names:
        k = int(name.removeprefix("pmed"))
        for kind in args.models.split(","):
            published = optima[name] if kind == "p_median" else float(PCENTER_RADII[k - 1])
            ours = run_ours(name, kind, time_limit_s=args.time_limit)
            row: dict[str, Any] = {
                "instance": name,
                "model": kind,
                "published": published,
                "ours": ours,
            }
            ok = ours["status"] == "optimal" and _agree(ours["objective"], published)
            if name in with_spopt:
                sp = run_spopt(name, kind, time_limit_s=args.time_limit)
                row["spopt"] = sp
                if sp["error"] is None and sp["status"] == "Optimal":
                    ok = ok and _agree(sp["objective"], published)
            row["ok"] = ok
            row["check"] = "ok" if ok else _limit_or_mismatch(ours, published)
            rows.append(row)
            print(format_table([row]).splitlines()[-1], flush=True)
    table = format_table(rows)
    print()
    print(table)
    ours_total = sum(r["ours"]["wall_s"] for r in rows)
    print(
        f"\nours: {len(rows)} solves in {ours_total:.1f} s; proven and matching: {sum(r['ok'] for r in rows)}, stopped by the limit: {sum(r['check'] == 'limit' for r in rows)}, mismatches: {sum(r['check'] == 'MISMATCH' for r in rows)}"
    )
    from optimizer.solvers import backend_version

    out = {
        "when": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": {"platform": platform.platform(), "python": sys.version.split()[0]},
        "highs": backend_version("highs"),
        "time_limit_s": args.time_limit,
        "quick": args.quick,
        "rows": rows,
    }
    path = args.json or RESULTS_DIR / ("pmed_quick.json" if args.quick else "pmed.json")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(out, indent=1, default=float) + "\n", encoding="utf-8")
    print(f"wrote {path}")
    return 0 if all(r["check"] != "MISMATCH" for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
