"""The benchmark suite in one command: one table, every figure measured in the same run.

    python benchmarks/run.py [--quick] [--json PATH] [--no-spopt] [--time-limit S]

Rows (instances):

* ``sf-205x16`` - spopt's San Francisco fixture (ArcGIS network distances);
* ``pmed*`` - OR-Library p-median and p-center against the published optima and spopt
  (:func:`pmedian_rows`; the whole pmed1-40 run is ``python -m benchmarks.pmed``);
* ``uniform-N x M`` - random MCLP from 10^3 x 10^2 to 10^5 x 10^4 (dense matrices up to
  20,000 x 1,000, where spopt can take them; beyond that a table bounded at the standard, ours
  only: the dense matrix would not fit);
* ``andorra`` / ``chengdu`` - the real road networks of ../shared/data: our travel-time table
  against networkx on the same graph (identical tables checked), then an MCLP on that table,
  ours against spopt;
* the hard covering solves of ``benchmarks/covering.py`` (the default case's clinic block and
  clustered-town counties; ours against compact HiGHS and SCIP), printed as a second table.

Columns: our build / solve / total seconds and peak memory (VmHWM of a fresh process per run),
the Benders solve where run, spopt 0.7.0's build / solve / total with the same HiGHS, the
speed-ups, whether both proved the same optimum, and for the networks the matrix times. Quick
mode takes a few minutes; the full run about half an hour on 2 shared cores.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

if __package__ in (None, ""):  # ``python benchmarks/run.py``: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    __package__ = "benchmarks"

from benchmarks import covering
from benchmarks.instances import (
    Instance,
    InstanceSpec,
    save_instance,
    sf_instance,
    shared_dir,
    uniform_instance,
)
from benchmarks.large import run_large
from benchmarks.mclp_vs_spopt import _git_commit, _machine, _spawn, compare

ROOT = Path(__file__).resolve().parents[1]
RESULTS_DIR = Path(__file__).resolve().parent / "results"

QUICK_DENSE = [(1_000, 100), (10_000, 500)]
FULL_DENSE = [(1_000, 100), (10_000, 500), (20_000, 1_000)]
QUICK_SPARSE = [(100_000, 1_000)]
FULL_SPARSE = [(100_000, 1_000), (100_000, 10_000)]
NETWORKS = {
    # name: (quick demand, quick sites, full demand, full sites, cutoff min, standard min)
    "andorra": (600, 60, 2_000, 200, 20.0, 10.0),
    "chengdu": (1_500, 150, 5_000, 500, 15.0, 8.0),
}


PMED_QUICK = ["pmed1", "pmed6"]
PMED_FULL = ["pmed1", "pmed6", "pmed11", "pmed16"]


def pmedian_rows(
    quick: bool,
    *,
    spopt: bool = True,
    time_limit: float = 600.0,
    instances: list[str] | None = None,
) -> list[dict[str, Any]]:
    """OR-Library p-median and p-center (benchmarks/pmed.py drivers): ours against the published
    value and spopt on the same all-pairs matrix with the same HiGHS. A row is "same opt" only if
    both sides equal the published optimum. Ours runs Benders (p-median) / binary search
    (p-center); the whole pmed1-40 run is ``python -m benchmarks.pmed``."""
    from benchmarks.pmed import DATA, PCENTER_RADII, _agree, run_ours, run_spopt
    from geodata.orlib import read_pmed_optima

    if not DATA.is_dir():
        return [{"name": "pmed (OR-Library)", "kind": "p-median", "note": "data not found"}]
    optima = read_pmed_optima(DATA / "pmedopt.txt")
    rows: list[dict[str, Any]] = []
    import importlib.util

    spopt = spopt and importlib.util.find_spec("spopt") is not None
    for name in instances or (PMED_QUICK if quick else PMED_FULL):
        k = int(name.removeprefix("pmed"))
        for kind, published in (
            ("p_median", float(optima[name])),
            ("p_center", float(PCENTER_RADII[k - 1])),
        ):
            o = run_ours(name, kind, time_limit_s=time_limit)
            ours = {
                "total_s": o["wall_s"],
                "status": o["status"],
                "objective": o["objective"],
            }
            row: dict[str, Any] = {"name": f"{name}-{kind.replace('_', '-')}", "kind": kind}
            row["ours"] = ours
            agree = o["status"] == "optimal" and _agree(o["objective"], published)
            note = (
                "" if agree else f"ours {o['objective']} ({o['status']}) vs published {published:g}"
            )
            if spopt and (k <= 5 or (not quick and k <= 10)):
                sp = run_spopt(name, kind, time_limit_s=time_limit)
                row["spopt"] = {
                    "build_s": sp["build_s"],
                    "solve_s": sp["solve_s"],
                    "total_s": sp["wall_s"],
                }
                agree = agree and sp["error"] is None and _agree(sp["objective"], published)
                if sp["error"]:
                    note += f" spopt: {sp['error']}"
            row["compare"] = {"agree": agree, "note": note.strip(), "published": published}
            rows.append(row)
    return rows


def _ours_dense(inst: Instance, workdir: Path, time_limit: float, spopt: bool) -> dict[str, Any]:
    path = workdir / f"{inst.spec.name}.npz"
    save_instance(inst, path)
    ours = _spawn(sys.executable, "ours", path, workdir, time_limit)
    other = _spawn(sys.executable, "spopt", path, workdir, time_limit) if spopt else None
    if other is not None and other.get("status") == "not installed":
        other = None
    path.unlink()
    return {"ours": ours, "spopt": other, "compare": compare(ours, other)}


def _mclp_row(
    inst: Instance, workdir: Path, args: argparse.Namespace, *, benders: bool
) -> dict[str, Any]:
    row: dict[str, Any] = {
        "name": inst.spec.name,
        "kind": "MCLP",
        "spec": dataclasses.asdict(inst.spec),
        "stats": inst.describe(),
    }
    row.update(_ours_dense(inst, workdir, args.time_limit, not args.no_spopt))
    if benders and inst.spec.source.startswith("uniform"):
        n, m = inst.spec.n_demand, inst.spec.n_sites
        row["benders"] = run_large(n, m, method="benders", time_limit_s=args.benders_time_limit)
    return row


def _sparse_row(n: int, m: int, args: argparse.Namespace, *, benders: bool) -> dict[str, Any]:
    ours = run_large(n, m, method="compact", time_limit_s=args.time_limit)
    row: dict[str, Any] = {
        "name": f"uniform-{n}x{m}",
        "kind": "MCLP (bounded table)",
        "spec": {"n_demand": n, "n_sites": m, "p": ours.get("p")},
        "ours": ours,
        "spopt": None,
        "compare": {
            "agree": None,
            "note": f"spopt not run: it needs the dense {n:,} x {m:,} matrix "
            f"({n * m * 8 / 2**30:.1f} GiB) and its build loops over every pair (170 s at "
            "20,000 x 1,000)",
            "build_speedup": None,
            "total_speedup": None,
        },
    }
    if benders:
        row["benders"] = run_large(n, m, method="benders", time_limit_s=args.benders_time_limit)
    return row


def _network_row(name: str, quick: bool, workdir: Path, args: argparse.Namespace) -> dict[str, Any]:
    """Matrix ours vs networkx on a real network, then MCLP on that table (ours vs spopt)."""
    from benchmarks.matrix_vs_networkx import networks, run_one
    from geodata.matrix import network_travel_times
    from geodata.snap import snap_points
    from geodata.speeds import profile_for

    nq, mq, nf, mf, cutoff, standard = NETWORKS[name]
    n_dem, n_sites = (nq, mq) if quick else (nf, mf)
    nets = {net.name: net for net, *_ in networks(True)}
    if name not in nets:
        return {"name": name, "kind": "network", "note": "network data not found in ../shared"}
    net = nets[name]
    matrix = run_one(net, n_dem, n_sites, cutoff)
    # the same random points as run_one, and the table from our engine for the MCLP
    prof = profile_for("drive")
    usable = net.usable_edges(prof)
    rng = np.random.default_rng(7)
    lon = rng.uniform(np.quantile(net.lon, 0.02), np.quantile(net.lon, 0.98), n_dem + n_sites)
    lat = rng.uniform(np.quantile(net.lat, 0.02), np.quantile(net.lat, 0.98), n_dem + n_sites)
    dem = snap_points(net, lon[:n_dem], lat[:n_dem], usable_edges=usable, max_snap_m=1e9)
    sit = snap_points(net, lon[n_dem:], lat[n_dem:], usable_edges=usable, max_snap_m=1e9)
    tt = network_travel_times(
        net, prof, dem, sit, direction="site_to_demand", cutoff_min=cutoff, workers=2
    )
    cost = np.full((n_dem, n_sites), 1e6)  # beyond the computed cutoff: out of any standard
    cost[tt.demand_index, tt.site_index] = tt.value
    weight = np.maximum(1.0, np.round(np.random.default_rng(11).lognormal(6.0, 1.0, n_dem)))
    spec = InstanceSpec(
        name=f"{name}-{n_dem}x{n_sites}",
        n_demand=n_dem,
        n_sites=n_sites,
        p=max(1, n_sites // 10),
        radius=standard,
        unit="min",
        source=f"{name} OSM drive network ({net.n_nodes:,} nodes), random points, drive minutes",
    )
    inst = Instance(spec, cost, weight)
    row = _mclp_row(inst, workdir, args, benders=False)
    row["kind"] = "MCLP + matrix"
    row["matrix"] = matrix
    return row


# ---------------------------------------------------------------------------------------------
# The table
# ---------------------------------------------------------------------------------------------
def _s(v: Any) -> str:
    if v is None:
        return "-"
    v = float(v)
    return f"{v:,.0f}" if v >= 100 else f"{v:.1f}" if v >= 10 else f"{v:.2f}"


def _x(a: Any, b: Any) -> str:
    if a is None or b is None or not b:
        return "-"
    r = float(a) / float(b)
    return f"{r:,.0f}x" if r >= 10 else f"{r:.1f}x"


def _status(side: dict[str, Any] | None) -> str:
    if not side:
        return "-"
    st = str(side.get("status", "-")).lower()
    return {"optimal": "opt", "feasible": "limit"}.get(st, st)


def table(rows: list[dict[str, Any]]) -> str:
    head = [
        "instance",
        "ours build",
        "ours solve",
        "ours total",
        "peak MiB",
        "status",
        "Benders solve",
        "spopt build",
        "spopt solve",
        "spopt total",
        "build x",
        "total x",
        "same opt",
        "matrix ours",
        "matrix nx",
        "matrix x",
    ]
    body = []
    notes = []
    for r in rows:
        if "ours" not in r:
            body.append([r["name"], *["-"] * (len(head) - 1)])
            notes.append(f"{r['name']}: {r.get('note', '')}")
            continue
        o, sp, c = r.get("ours") or {}, r.get("spopt") or {}, r.get("compare") or {}
        b = r.get("benders")
        bcell = "-"
        if b:
            bcell = f"{_s(b.get('solve_s'))} {_status(b)}"
            if b.get("status") == "optimal" and o.get("objective") is not None:
                same = abs(float(b["objective"]) - float(o["objective"])) <= 1e-6 * max(
                    1.0, abs(float(o["objective"]))
                )
                bcell += "" if same else " DIFFERENT"
            elif b.get("gap") is not None:
                bcell += f" gap {100 * float(b['gap']):.2f}%"
        m = r.get("matrix") or {}
        agree = c.get("agree")
        body.append(
            [
                r["name"],
                _s(o.get("build_s")),
                _s(o.get("solve_s")),
                _s(o.get("total_s")),
                _s(o.get("peak_rss_mib")),
                _status(o),
                bcell,
                _s(sp.get("build_s")) if sp else "-",
                _s(sp.get("solve_s")) if sp else "-",
                _s(sp.get("total_s")) if sp else "-",
                _x(sp.get("build_s"), o.get("build_s")) if sp else "-",
                _x(sp.get("total_s"), o.get("total_s")) if sp else "-",
                "yes" if agree else ("NO" if agree is False else "-"),
                _s(m.get("ours_s")) if m else "-",
                _s(m.get("networkx_s")) if m else "-",
                (_x(m.get("networkx_s"), m.get("ours_s")) + ("" if m.get("identical") else " DIFF"))
                if m
                else "-",
            ]
        )
        if c.get("note"):
            notes.append(f"{r['name']}: {c['note']}")
    grid = [head, *body]
    widths = [max(len(row[k]) for row in grid) for k in range(len(head))]
    lines = []
    for k, row in enumerate(grid):
        lines.append(
            "  ".join(
                [row[0].ljust(widths[0])]
                + [cell.rjust(w) for cell, w in zip(row[1:], widths[1:], strict=True)]
            )
        )
        if k == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines + (["", *notes] if notes else []))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="benchmarks/run.py", description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="CI-sized instances (a few minutes)")
    ap.add_argument("--json", type=Path, help="default benchmarks/results/suite[_quick].json")
    ap.add_argument("--no-spopt", action="store_true")
    ap.add_argument("--no-benders", action="store_true", help="skip the Benders solves")
    ap.add_argument("--time-limit", type=float, default=600.0, help="per solve, s")
    ap.add_argument(
        "--benders-time-limit", type=float, help="per Benders solve, s (default 60 quick, 300)"
    )
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument(
        "--no-covering", action="store_true", help="skip benchmarks/covering.py's hard solves"
    )
    args = ap.parse_args(argv)
    if args.benders_time_limit is None:
        args.benders_time_limit = 60.0 if args.quick else 300.0
    started = dt.datetime.now(dt.UTC)
    load0 = os.getloadavg()[0]
    t_all = time.perf_counter()
    rows: list[dict[str, Any]] = []

    def step(label: str) -> None:
        print(f"[{time.perf_counter() - t_all:6.0f} s] {label}", file=sys.stderr, flush=True)

    with tempfile.TemporaryDirectory(prefix="bench-suite-") as tmp:
        work = Path(tmp)
        try:
            step("sf fixture")
            rows.append(_mclp_row(sf_instance(), work, args, benders=False))
        except FileNotFoundError as exc:
            rows.append({"name": "sf-205x16", "kind": "MCLP", "note": f"skipped: {exc}"})
        rows += pmedian_rows(args.quick, spopt=not args.no_spopt, time_limit=args.time_limit)
        for n, m in QUICK_DENSE if args.quick else FULL_DENSE:
            step(f"uniform {n}x{m}")
            inst = uniform_instance(n, m, seed=args.seed)
            rows.append(_mclp_row(inst, work, args, benders=not args.no_benders))
        for n, m in QUICK_SPARSE if args.quick else FULL_SPARSE:
            step(f"uniform {n}x{m} (bounded table)")
            rows.append(_sparse_row(n, m, args, benders=not args.no_benders))
        for name in NETWORKS:
            step(f"network {name}")
            rows.append(_network_row(name, args.quick, work, args))
    covering_rows: list[dict[str, Any]] = []
    if not args.no_covering:
        step("hard covering solves (benchmarks/covering.py)")
        covering_rows = covering.run(args.quick, args.time_limit, ["ours", "highs", "scip"])
    step("done")
    header = (
        f"Benchmark suite ({'quick' if args.quick else 'full'}) - {started:%Y-%m-%d %H:%M} UTC, "
        f"{os.cpu_count()} cores, load average {load0:.1f} at start, {os.getloadavg()[0]:.1f} at "
        f"end; seconds unless named; 'x' = spopt (or networkx) time / ours; peak MiB = VmHWM of "
        f"our fresh process; status opt = proven optimal; data from {shared_dir()}\n"
    )
    text = header + table(rows)
    if covering_rows:
        text += "\n\nHard covering solves (benchmarks/covering.py)\n" + covering.format_table(
            covering_rows
        )
    print(text)
    doc = {
        "benchmark": "suite",
        "quick": bool(args.quick),
        "started_utc": started.isoformat(timespec="seconds"),
        "wall_s": time.perf_counter() - t_all,
        "time_limit_s": args.time_limit,
        "machine": _machine(),
        "load_average_start": load0,
        "load_average_end": os.getloadavg()[0],
        "git_commit": _git_commit(),
        "table": text,
        "rows": rows,
        "covering": covering_rows,
    }
    out = args.json or RESULTS_DIR / f"suite{'_quick' if args.quick else ''}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp_out = out.with_suffix(out.suffix + ".tmp")
    tmp_out.write_text(json.dumps(doc, indent=1, default=float) + "\n", encoding="utf-8")
    os.replace(tmp_out, out)
    print(f"\nresults: {out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
