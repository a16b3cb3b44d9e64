"""Staffing benchmarks: sent-down rotations and 编制 quotas at county scale.

    python -m benchmarks.staffing            # 1,000 doctors x 50 hosts x 12 and 24 months; 30 THC x 400 VC
    python -m benchmarks.staffing --quick    # smaller instances, for a smoke run
    python -m benchmarks.staffing --no-24    # skip the 24-month instance (minutes)

Writes ``benchmarks/results/staffing[_quick].json`` (machine, versions, every row) and prints a
table. The 12-month rotation and the quota model have a target of 60 s on 2 cores; the
24-month rotation runs under ``--time-limit-24`` and is reported with its bound and gap.

Instances are synthetic and seeded (a county of 80 x 80 km with 8 hospitals, hosts and villages
at random points, travel time 1.2-1.5 min/km); they exercise the model sizes the mission names,
not a real county. Each run prints build time, solve time, status and gap; every answer is
certified on the raw data by the library before it is reported. Target: under 60 s each on 2 cores.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import json
import os
import platform
import sys
import time
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import scipy.sparse as sp

from optimizer.solvers import SolveOptions
from optimizer.staffing.quota import QuotaInstance, build_quota_milp, solve_quota
from optimizer.staffing.quota.schema import PoolNorm, QuotaNorms, default_categories
from optimizer.staffing.rotation import (
    RotationInstance,
    build_rotation_milp,
    default_presolve,
    solve_rotation,
)
from optimizer.staffing.rotation.schema import (
    AwayShareRule,
    RotationRules,
    RotationWeights,
    ValueRule,
)

SPECIALTIES = ["cardiology", "emergency", "paediatrics", "rehabilitation", "tcm"]


def rotation_instance(
    n_doctors: int = 1000,
    n_hosts: int = 50,
    months: int = 12,
    *,
    n_hospitals: int = 8,
    n_villages: int = 1500,
    annual_total: int = 1000,
    seed: int = 0,
) -> RotationInstance:
    """A synthetic county: 60% of hosts are township centres (≥ 1 stationed doctor)."""
    rng = np.random.default_rng(seed)
    S = len(SPECIALTIES)
    hosp = rng.integers(0, n_hospitals, n_doctors)
    spec = rng.choice(S, n_doctors, p=[0.2, 0.15, 0.15, 0.2, 0.3])
    windows = np.asarray([(1, months), (1, max(8, months - 4)), (min(4, months - 5), months)])
    avail = windows[rng.choice(3, n_doctors, p=[0.7, 0.15, 0.15])]
    hxy = rng.random((n_hospitals, 2)) * 80
    fxy = rng.random((n_hosts, 2)) * 80
    travel = np.linalg.norm(hxy[:, None] - fxy[None], axis=2) * 1.2 + 10
    n_thc = round(0.6 * n_hosts)
    types = np.asarray(["thc"] * n_thc + ["village_clinic"] * (n_hosts - n_thc), dtype=object)
    capacity = np.where(types == "thc", 25.0, 6.0)
    dept = np.bincount(hosp * S + spec, minlength=n_hospitals * S).reshape(n_hospitals, S) * 3
    need = np.repeat(rng.integers(0, 3, (n_hosts, S))[:, :, None], months, axis=2).astype(float)
    dxy = rng.random((n_villages, 2)) * 80
    minutes = np.linalg.norm(dxy[:, None] - fxy[None], axis=2) * 1.5
    cover = sp.csr_matrix(minutes <= 20)
    weight = rng.integers(300, 3000, n_villages).astype(float)
    rules = RotationRules(
        max_share_away=AwayShareRule(value=0.3),
        annual_total=ValueRule(value=float(annual_total), source="benchmark"),
        max_travel_min=ValueRule(value=90.0, source="benchmark"),
    )
    weights = RotationWeights(
        coverage=1.0, travel_per_min_month=20.0, shortfall_per_doctor_month=5000.0
    )
    return RotationInstance(
        months=months,
        doctor_ids=np.asarray([f"d{k:04d}" for k in range(n_doctors)], dtype=object),
        doctor_hospital=hosp,
        doctor_specialty=spec,
        available_from=avail[:, 0],
        available_to=avail[:, 1],
        hospitals=[f"H{k}" for k in range(n_hospitals)],
        specialties=list(SPECIALTIES),
        dept_staff=dept,
        host_ids=np.asarray([f"f{k:03d}" for k in range(n_hosts)], dtype=object),
        host_names=np.asarray([f"host {k}" for k in range(n_hosts)], dtype=object),
        host_types=types,
        host_capacity=capacity,
        travel_min=travel,
        need=need,
        value=np.asarray([1.2, 1.2, 1.5, 1.0, 0.8]),
        cover=cover,
        weight=weight,
        rules=rules,
        weights=weights,
    )


def quota_instance(n_townships: int = 30, n_villages: int = 400, *, seed: int = 0) -> QuotaInstance:
    """30 township centres (6 remote) and 400 village clinics, with current staff and WISN-like needs."""
    rng = np.random.default_rng(seed)
    cats = default_categories()
    C = len(cats)
    F = n_townships + n_villages
    types = np.asarray(["thc"] * n_townships + ["village_clinic"] * n_villages, dtype=object)
    pop_t = rng.integers(15_000, 80_000, n_townships).astype(float)
    # village clinics: 2,000-6,000 residents (1-1.5 per mille leaves a whole number to choose)
    pop_v = rng.integers(2_000, 6_000, n_villages).astype(float)
    pop = np.concatenate([pop_t, pop_v])
    remote = np.zeros(F, dtype=bool)
    remote[rng.choice(n_townships, min(6, n_townships), replace=False)] = True
    current = np.zeros((F, C), dtype=np.int64)
    shares = np.asarray([0.3, 0.22, 0.12, 0.3, 0.06])
    for f in range(n_townships):
        total = int(pop_t[f] / 1000 * rng.uniform(0.8, 1.05))
        current[f, :5] = np.floor(total * shares).astype(int)
    current[n_townships:, 5] = np.floor(pop_v / 1000 * rng.uniform(0.7, 1.0, n_villages))
    need = np.full((F, C), np.nan)
    for f in range(n_townships):
        need[f, :5] = np.round(pop_t[f] / 1000 * 1.3 * shares * rng.uniform(0.8, 1.2, 5), 1)
    need_total = np.full(F, np.nan)
    need_total[n_townships:] = np.round(pop_v / 1000 * 1.25, 2)
    county = float(pop_t.sum())
    pool = int(county / 1000 * 1.35)
    norms = QuotaNorms(pool=PoolNorm(total=pool, facility_types=["thc"]))
    return QuotaInstance(
        facility_ids=np.asarray(
            [f"t{k:02d}" for k in range(n_townships)] + [f"v{k:03d}" for k in range(n_villages)],
            dtype=object,
        ),
        names=np.asarray([""] * F, dtype=object),
        types=types,
        population=pop,
        remote=remote,
        categories=cats,
        current=current,
        need=need,
        need_total=need_total,
        norms=norms,
        county_population=county,
        need_source="synthetic WISN-like table",
    )


RESULTS_DIR = Path(__file__).resolve().parent / "results"
TARGET_S = 60.0


@dataclass
class Row:
    name: str
    size: str
    build_s: float
    solve_s: float
    total_s: float
    status: str
    objective: float | None
    bound: float | None
    gap: float | None
    checked: bool
    presolve: bool
    time_limit_s: float
    target_s: float | None
    model_size: dict[str, int]

    @property
    def met(self) -> bool | None:
        if self.target_s is None:
            return None
        return self.status == "optimal" and self.total_s < self.target_s


def _fmt_gap(g: float | None) -> str:
    return "-" if g is None else f"{100 * g:.4f}%"


def run_rotation(quick: bool, options: SolveOptions, months: int, *, target_s: float | None) -> Row:
    args: dict[str, int] = {"n_doctors": 200, "n_hosts": 20, "annual_total": 180} if quick else {}
    inst = rotation_instance(months=months, **args)  # type: ignore[arg-type]
    options = replace(options, presolve=default_presolve(inst))
    t0 = time.perf_counter()
    milp = build_rotation_milp(inst)
    build = time.perf_counter() - t0
    sol = solve_rotation(inst, options)
    return Row(
        f"sent-down {months} months",
        f"{inst.n_doctors:,} doctors x {inst.n_hosts} hosts x {inst.months} months "
        f"({milp.n_cols:,} cols, {milp.nnz:,} nnz)",
        build,
        sol.runtime_s,
        sol.total_time_s,
        sol.status.value,
        sol.objective,
        sol.bound,
        sol.gap,
        sol.checked,
        options.presolve,
        options.time_limit_s,
        target_s,
        dict(sol.model_size),
    )


def run_quota(quick: bool, options: SolveOptions) -> Row:
    args = {"n_townships": 10, "n_villages": 100} if quick else {}
    inst = quota_instance(**args)  # type: ignore[arg-type]
    t0 = time.perf_counter()
    milp = build_quota_milp(inst)
    build = time.perf_counter() - t0
    sol = solve_quota(inst, options)
    return Row(
        "编制 quota (2 stages)",
        f"{int((inst.types == 'thc').sum())} THC x {int((inst.types == 'village_clinic').sum())} "
        f"VC x {len(inst.categories)} categories ({milp.n_cols:,} cols)",
        build,
        sol.runtime_s,
        sol.total_time_s,
        sol.status.value,
        sol.shortfall,
        sol.bound,
        sol.gap,
        sol.checked,
        options.presolve,
        options.time_limit_s,
        TARGET_S,
        dict(sol.model_size),
    )


def _machine() -> dict[str, object]:
    cpu = platform.processor() or ""
    try:
        for text in Path("/proc/cpuinfo").read_text().splitlines():
            if text.startswith("model name"):
                cpu = text.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    from optimizer.solvers import backend_version

    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "highs": backend_version("highs"),
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }


def format_table(rows: list[Row]) -> str:
    head = (
        f"{'model':<22} {'build s':>8} {'solve s':>8} {'total s':>8} {'status':>11} "
        f"{'gap':>9} {'target':>8}  size"
    )
    out = [head, "-" * len(head)]
    for r in rows:
        target = "-" if r.met is None else ("met" if r.met else "MISSED")
        out.append(
            f"{r.name:<22} {r.build_s:>8.2f} {r.solve_s:>8.2f} {r.total_s:>8.2f} "
            f"{r.status:>11} {_fmt_gap(r.gap):>9} {target:>8}  {r.size}"
        )
    return "\n".join(out) + "\n"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.staffing", description=__doc__)
    p.add_argument("--quick", action="store_true", help="smaller instances (seconds)")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--time-limit", type=float, default=300.0, help="12-month and quota runs")
    p.add_argument("--time-limit-24", type=float, default=600.0, help="the 24-month run")
    p.add_argument("--no-24", action="store_true", help="skip the 24-month rotation")
    p.add_argument("--json", type=Path, help="default benchmarks/results/staffing[_quick].json")
    args = p.parse_args(argv)
    options = SolveOptions(time_limit_s=args.time_limit, threads=args.threads)
    # Presolve as a case without solver.presolve gets it (rotation.default_presolve): off for
    # the 12-month model, on for the 24-month one (without it its root LP alone takes > 600 s).
    rows = [
        run_rotation(args.quick, options, 12, target_s=TARGET_S),
        run_quota(args.quick, options),
    ]
    if not args.no_24:
        long = replace(options, time_limit_s=args.time_limit_24)
        rows.append(run_rotation(args.quick, long, 24, target_s=None))
    sys.stdout.write(format_table(rows))
    out = args.json or RESULTS_DIR / f"staffing{'_quick' if args.quick else ''}.json"
    doc = {
        "benchmark": "staffing",
        "quick": bool(args.quick),
        "threads": args.threads,
        "machine": _machine(),
        "rows": [{**dataclasses.asdict(r), "met_target": r.met} for r in rows],
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(doc, indent=1, ensure_ascii=False, default=float) + "\n", "utf-8")
    os.replace(tmp, out)
    sys.stdout.write(f"Results: {out}\n")
    return 0 if all(r.met is not False for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
